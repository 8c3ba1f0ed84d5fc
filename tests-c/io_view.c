/* MPI-IO views: a vector filetype interleaves the ranks' blocks; collective writes through
 * it give an exact file; reads through views, get_view, byte offsets and seek in etypes. */
#include "oxitest.h"
#include <unistd.h>

#define BLK 3   /* ints per block */
#define NBLK 5  /* blocks per rank */

int main(int argc, char **argv)
{
    ot_init("io_view", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    char name[512];
    const char *d = getenv("TMPDIR");
    if (!d || !*d)
        d = "/tmp";
    int pid = (int)getpid();
    MPI_CHECK(MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD));
    snprintf(name, sizeof name, "%s/oxi_io_view_%d", d, pid);

    MPI_File fh;
    MPI_Status st;
    int count;
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_RDWR | MPI_MODE_CREATE
                            | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL, &fh));

    /* Header of 16 bytes, then blocks of BLK ints: block b of rank r at index b*size + r. */
    MPI_Datatype ftype;
    MPI_CHECK(MPI_Type_vector(NBLK, BLK, BLK * size, MPI_INT, &ftype));
    MPI_CHECK(MPI_Type_commit(&ftype));
    MPI_Offset disp = 16 + (MPI_Offset)rank * BLK * 4;
    MPI_CHECK(MPI_File_set_view(fh, disp, MPI_INT, ftype, "native", MPI_INFO_NULL));

    MPI_Offset bo;
    MPI_CHECK(MPI_File_get_byte_offset(fh, BLK + 1, &bo));
    CHECK(bo == disp + (MPI_Offset)BLK * size * 4 + 4, "byte offset %lld", (long long)bo);

    int out[BLK * NBLK];
    for (int i = 0; i < BLK * NBLK; i++)
        out[i] = rank * 10000 + i;
    /* First half with write_all, the rest with write_at_all at the etype offset. */
    int half = BLK * NBLK / 2;
    MPI_CHECK(MPI_File_write_all(fh, out, half, MPI_INT, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == half, "write_all count %d", count);
    MPI_Offset pos;
    MPI_CHECK(MPI_File_get_position(fh, &pos));
    CHECK(pos == half, "position after write_all %lld", (long long)pos);
    MPI_CHECK(MPI_File_write_at_all(fh, half, out + half, BLK * NBLK - half, MPI_INT, &st));
    MPI_CHECK(MPI_File_sync(fh));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_File_sync(fh));

    /* get_view returns what was set: MPI_INT itself, and a copy of the vector. */
    MPI_Offset gd;
    MPI_Datatype ge, gf;
    char rep[MPI_MAX_DATAREP_STRING];
    MPI_CHECK(MPI_File_get_view(fh, &gd, &ge, &gf, rep));
    CHECK(gd == disp && ge == MPI_INT && strcmp(rep, "native") == 0, "get_view");
    int ni, na, nd, comb;
    MPI_CHECK(MPI_Type_get_envelope(gf, &ni, &na, &nd, &comb));
    CHECK(comb != MPI_COMBINER_NAMED, "filetype came back predefined");
    MPI_Aint lb, ext;
    MPI_CHECK(MPI_Type_get_extent(gf, &lb, &ext));
    CHECK(ext == (MPI_Aint)((NBLK - 1) * BLK * size + BLK) * 4, "filetype extent %ld", (long)ext);
    MPI_CHECK(MPI_Type_free(&gf));

    /* The whole file, seen by every rank through the default view. */
    MPI_CHECK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    MPI_Offset fsize;
    MPI_CHECK(MPI_File_get_size(fh, &fsize));
    int total = BLK * NBLK * size;
    CHECK(fsize == 16 + total * 4, "file size %lld, expected %d", (long long)fsize, 16 + total * 4);
    int *all = malloc(sizeof(int) * total);
    MPI_CHECK(MPI_File_read_at(fh, 16, all, total, MPI_INT, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == total, "read count %d", count);
    for (int b = 0; b < NBLK; b++)
        for (int r = 0; r < size; r++)
            for (int i = 0; i < BLK; i++) {
                int v = all[(b * size + r) * BLK + i];
                CHECK(v == r * 10000 + b * BLK + i, "file[%d] = %d", (b * size + r) * BLK + i, v);
            }

    /* The next rank's data through its view, with read_all, then seek in etypes. */
    int peer = (rank + 1) % size;
    MPI_CHECK(MPI_File_set_view(fh, 16 + (MPI_Offset)peer * BLK * 4, MPI_INT, ftype, "native",
                                MPI_INFO_NULL));
    int in[BLK * NBLK];
    memset(in, 0xff, sizeof in);
    MPI_CHECK(MPI_File_read_all(fh, in, BLK * NBLK, MPI_INT, &st));
    for (int i = 0; i < BLK * NBLK; i++)
        CHECK(in[i] == peer * 10000 + i, "view read in[%d] = %d", i, in[i]);
    MPI_CHECK(MPI_File_seek(fh, 4, MPI_SEEK_SET));
    MPI_CHECK(MPI_File_read(fh, in, 2, MPI_INT, &st));
    CHECK(in[0] == peer * 10000 + 4 && in[1] == peer * 10000 + 5, "read after seek");
    MPI_CHECK(MPI_File_seek(fh, 0, MPI_SEEK_END));
    MPI_CHECK(MPI_File_get_position(fh, &pos));
    /* The last rank's data ends the file; the others' views tile on over later blocks. */
    if (peer == size - 1)
        CHECK(pos == BLK * NBLK, "SEEK_END position %lld", (long long)pos);
    else
        CHECK(pos == BLK * NBLK + BLK, "SEEK_END position %lld", (long long)pos);
    /* Past the end through a contiguous view (ROMIO reports full counts for strided
     * views at EOF, so only this case is checked): 0 elements. */
    MPI_CHECK(MPI_File_set_view(fh, 4, MPI_INT, MPI_INT, "native", MPI_INFO_NULL));
    MPI_CHECK(MPI_File_seek(fh, 0, MPI_SEEK_END));
    MPI_CHECK(MPI_File_get_position(fh, &pos));
    CHECK(pos == 3 + total, "SEEK_END in a contiguous view: %lld", (long long)pos);
    MPI_CHECK(MPI_File_read(fh, in, 1, MPI_INT, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 0, "read past the view's data: count %d", count);

    /* A filetype that is not made of etypes is refused (on every rank alike). */
    MPI_Datatype odd;
    MPI_CHECK(MPI_Type_contiguous(3, MPI_BYTE, &odd));
    MPI_CHECK(MPI_Type_commit(&odd));
    int rc = MPI_File_set_view(fh, 0, MPI_INT, odd, "native", MPI_INFO_NULL);
    CHECK(rc != MPI_SUCCESS, "filetype of 3 bytes accepted with etype MPI_INT");
    CHECK_CLASS(MPI_File_set_view(fh, 0, MPI_INT, MPI_INT, "no-such-rep", MPI_INFO_NULL),
                MPI_ERR_UNSUPPORTED_DATAREP);
    MPI_CHECK(MPI_Type_free(&odd));

    MPI_CHECK(MPI_Type_free(&ftype));
    free(all);
    MPI_CHECK(MPI_File_close(&fh));
    ot_pass();
    return 0;
}
