/* MPI-IO basics: open/close/delete, explicit-offset and individual-pointer access, sizes,
 * file queries, atomicity, seek, EOF reads, the error classes, and file errhandlers. */
#include "oxitest.h"
#include <unistd.h>

static void tmpname(char *out, size_t n, const char *tag)
{
    const char *d = getenv("TMPDIR");
    if (!d || !*d)
        d = "/tmp";
    int pid = (int)getpid();
    MPI_CHECK(MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD));
    snprintf(out, n, "%s/oxi_io_basic_%s_%d", d, tag, pid);
}

static int handler_calls = 0;
static MPI_File handler_file = MPI_FILE_NULL;
static int handler_class = -1;
static void file_handler(MPI_File *fh, int *code, ...)
{
    handler_calls++;
    handler_file = *fh;
    MPI_Error_class(*code, &handler_class);
}

int main(int argc, char **argv)
{
    ot_init("io_basic", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    char name[512], other[512];
    tmpname(name, sizeof name, "a");
    tmpname(other, sizeof other, "b");
    MPI_File fh;
    MPI_Status st;
    int count;

    /* Open errors, before the file exists. */
    CHECK_CLASS(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh),
                MPI_ERR_NO_SUCH_FILE);
    CHECK(fh == MPI_FILE_NULL, "failed open left a handle");
    CHECK_CLASS(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_RDONLY | MPI_MODE_CREATE,
                              MPI_INFO_NULL, &fh), MPI_ERR_AMODE);
    CHECK_CLASS(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_RDWR | MPI_MODE_SEQUENTIAL
                              | MPI_MODE_CREATE, MPI_INFO_NULL, &fh), MPI_ERR_AMODE);
    CHECK_CLASS(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_RDWR | MPI_MODE_WRONLY,
                              MPI_INFO_NULL, &fh), MPI_ERR_AMODE);
    CHECK_CLASS(MPI_File_delete(name, MPI_INFO_NULL), MPI_ERR_NO_SUCH_FILE);
    CHECK_CLASS(MPI_File_get_size(MPI_FILE_NULL, NULL), MPI_ERR_FILE);

    /* Create; every rank writes its 100-int block at an explicit offset. */
    int amode = MPI_MODE_RDWR | MPI_MODE_CREATE | MPI_MODE_EXCL;
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, name, amode, MPI_INFO_NULL, &fh));
    int got_amode;
    MPI_CHECK(MPI_File_get_amode(fh, &got_amode));
    CHECK(got_amode == amode, "amode %d, expected %d", got_amode, amode);
    int buf[100], in[100];
    for (int i = 0; i < 100; i++)
        buf[i] = rank * 1000 + i;
    MPI_CHECK(MPI_File_write_at(fh, (MPI_Offset)rank * 400, buf, 100, MPI_INT, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 100, "write_at count %d", count);
    MPI_CHECK(MPI_File_sync(fh));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_File_sync(fh));
    MPI_Offset fsize;
    MPI_CHECK(MPI_File_get_size(fh, &fsize));
    CHECK(fsize == 400 * size, "size %lld, expected %d", (long long)fsize, 400 * size);
    /* Read the next rank's block. */
    int peer = (rank + 1) % size;
    MPI_CHECK(MPI_File_read_at(fh, (MPI_Offset)peer * 400, in, 100, MPI_INT, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 100, "read_at count %d", count);
    for (int i = 0; i < 100; i++)
        CHECK(in[i] == peer * 1000 + i, "in[%d] = %d", i, in[i]);

    /* Individual pointer: seek, read, position, EOF. */
    MPI_CHECK(MPI_File_seek(fh, (MPI_Offset)peer * 400 + 40, MPI_SEEK_SET));
    MPI_CHECK(MPI_File_read(fh, in, 5, MPI_INT, &st));
    CHECK(in[0] == peer * 1000 + 10 && in[4] == peer * 1000 + 14, "read via pointer");
    MPI_Offset pos;
    MPI_CHECK(MPI_File_get_position(fh, &pos));
    CHECK(pos == (MPI_Offset)peer * 400 + 60, "position %lld", (long long)pos);
    MPI_CHECK(MPI_File_seek(fh, -8, MPI_SEEK_CUR));
    MPI_CHECK(MPI_File_read(fh, in, 1, MPI_INT, &st));
    CHECK(in[0] == peer * 1000 + 13, "read after SEEK_CUR: %d", in[0]);
    MPI_CHECK(MPI_File_seek(fh, -4, MPI_SEEK_END));
    in[0] = in[1] = -1;
    MPI_CHECK(MPI_File_read(fh, in, 2, MPI_INT, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 1, "read across EOF: count %d, expected 1", count);
    CHECK(in[0] == (size - 1) * 1000 + 99 && in[1] == -1, "read across EOF data");
    MPI_CHECK(MPI_File_read(fh, in, 2, MPI_INT, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 0, "read at EOF: count %d", count);
    CHECK_CLASS(MPI_File_seek(fh, -1, MPI_SEEK_SET), MPI_ERR_ARG);
    MPI_Offset disp;
    MPI_CHECK(MPI_File_get_byte_offset(fh, 17, &disp));
    CHECK(disp == 17, "byte offset %lld", (long long)disp);
    MPI_Aint ext;
    MPI_CHECK(MPI_File_get_type_extent(fh, MPI_DOUBLE, &ext));
    CHECK(ext == 8, "type extent %ld", (long)ext);

    /* Group, info, atomicity. */
    MPI_Group fg, wg;
    int cmp;
    MPI_CHECK(MPI_File_get_group(fh, &fg));
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    MPI_CHECK(MPI_Group_compare(fg, wg, &cmp));
    CHECK(cmp == MPI_IDENT, "file group differs");
    MPI_Group_free(&fg);
    MPI_Group_free(&wg);
    MPI_Info info, used;
    MPI_Info_create(&info);
    MPI_Info_set(info, "access_style", "read_mostly");
    MPI_CHECK(MPI_File_set_info(fh, info));
    MPI_Info_free(&info);
    MPI_CHECK(MPI_File_get_info(fh, &used));
    CHECK(used != MPI_INFO_NULL, "get_info gave MPI_INFO_NULL");
    MPI_Info_free(&used);
    int flag = -1;
    MPI_CHECK(MPI_File_get_atomicity(fh, &flag));
    CHECK(flag == 0, "atomicity starts false");
    MPI_CHECK(MPI_File_set_atomicity(fh, 1));
    MPI_CHECK(MPI_File_get_atomicity(fh, &flag));
    CHECK(flag == 1, "atomicity set");
    MPI_CHECK(MPI_File_set_atomicity(fh, 0));

    /* Sizes: set_size truncates and extends, preallocate never shrinks. */
    MPI_CHECK(MPI_File_set_size(fh, 10));
    MPI_CHECK(MPI_File_get_size(fh, &fsize));
    CHECK(fsize == 10, "size after set_size(10): %lld", (long long)fsize);
    MPI_CHECK(MPI_File_preallocate(fh, 5));
    MPI_CHECK(MPI_File_get_size(fh, &fsize));
    CHECK(fsize == 10, "preallocate shrank the file: %lld", (long long)fsize);
    MPI_CHECK(MPI_File_preallocate(fh, 1000));
    MPI_CHECK(MPI_File_get_size(fh, &fsize));
    CHECK(fsize == 1000, "size after preallocate: %lld", (long long)fsize);
    MPI_CHECK(MPI_File_read_at(fh, 0, in, 2, MPI_INT, &st));
    CHECK(in[0] == 0 && in[1] == 1, "data kept by set_size/preallocate");
    CHECK_CLASS(MPI_File_set_size(fh, -1), MPI_ERR_ARG);

    /* A file errhandler: set on this file only, called with this file's handle. */
    MPI_Errhandler eh, cur;
    MPI_CHECK(MPI_File_create_errhandler(file_handler, &eh));
    MPI_CHECK(MPI_File_set_errhandler(fh, eh));
    MPI_CHECK(MPI_File_get_errhandler(MPI_FILE_NULL, &cur));
    CHECK(cur == MPI_ERRORS_RETURN, "MPI_FILE_NULL's errhandler changed");
    int rc = MPI_File_read_at(fh, -5, in, 1, MPI_INT, &st);
    CHECK(rc != MPI_SUCCESS, "negative offset accepted");
    CHECK(handler_calls == 1 && handler_file == fh && handler_class == MPI_ERR_ARG,
          "handler calls %d class %d", handler_calls, handler_class);
    MPI_CHECK(MPI_File_call_errhandler(fh, MPI_ERR_OTHER));
    CHECK(handler_calls == 2 && handler_class == MPI_ERR_OTHER, "call_errhandler");
    MPI_CHECK(MPI_File_set_errhandler(fh, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Errhandler_free(&eh));
    MPI_CHECK(MPI_File_close(&fh));
    CHECK(fh == MPI_FILE_NULL, "close did not reset the handle");

    /* The file exists: EXCL fails, read-only access refuses writes. */
    CHECK_CLASS(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_WRONLY | MPI_MODE_CREATE
                              | MPI_MODE_EXCL, MPI_INFO_NULL, &fh), MPI_ERR_FILE_EXISTS);
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh));
    CHECK_CLASS(MPI_File_write_at(fh, 0, buf, 1, MPI_INT, &st), MPI_ERR_READ_ONLY);
    MPI_CHECK(MPI_File_read_at(fh, 400, in, 1, MPI_INT, &st));
    CHECK(in[0] == 0, "preallocated bytes read %d, expected 0", in[0]);
    MPI_CHECK(MPI_File_close(&fh));
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_WRONLY | MPI_MODE_APPEND,
                            MPI_INFO_NULL, &fh));
    CHECK_CLASS(MPI_File_read_at(fh, 0, in, 1, MPI_INT, &st), MPI_ERR_ACCESS);
    MPI_CHECK(MPI_File_get_position(fh, &pos));
    CHECK(pos == 1000, "APPEND: pointer at %lld, expected 1000", (long long)pos);
    MPI_CHECK(MPI_File_close(&fh));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0)
        MPI_CHECK(MPI_File_delete(name, MPI_INFO_NULL));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    CHECK(access(name, F_OK) != 0, "file still exists after MPI_File_delete");

    /* MPI_MODE_DELETE_ON_CLOSE, with a file-system prefix on the name. */
    char prefixed[600];
    snprintf(prefixed, sizeof prefixed, "ufs:%s", other);
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, prefixed, MPI_MODE_WRONLY | MPI_MODE_CREATE
                            | MPI_MODE_DELETE_ON_CLOSE | MPI_MODE_UNIQUE_OPEN,
                            MPI_INFO_NULL, &fh));
    MPI_CHECK(MPI_File_write_at_all(fh, rank, "x", 1, MPI_CHAR, &st));
    CHECK(access(other, F_OK) == 0, "file missing while open");
    MPI_CHECK(MPI_File_close(&fh));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    CHECK(access(other, F_OK) != 0, "DELETE_ON_CLOSE left the file");
    ot_pass();
    return 0;
}
