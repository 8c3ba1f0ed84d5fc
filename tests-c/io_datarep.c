/* MPI-IO data representations: "external32" stores big-endian bytes and reads them back;
 * MPI_Register_datarep defines a name once (duplicates fail with MPI_ERR_DUP_DATAREP);
 * unknown names fail with MPI_ERR_UNSUPPORTED_DATAREP. (io_userrep runs conversions.) */
#include "oxitest.h"
#include <unistd.h>

#define N 8

static int extent_calls = 0;

static int my_extent(MPI_Datatype dt, MPI_Aint *ext, void *extra)
{
    extent_calls++;
    CHECK(*(int *)extra == 42, "extra_state not passed through");
    if (dt == MPI_INT) {
        *ext = 4;
        return MPI_SUCCESS;
    }
    MPI_Aint lb;
    return MPI_Type_get_extent(dt, &lb, ext);
}

int main(int argc, char **argv)
{
    ot_init("io_datarep", &argc, &argv);
    int rank = ot_rank;
    char name[512];
    const char *d = getenv("TMPDIR");
    if (!d || !*d)
        d = "/tmp";
    int pid = (int)getpid();
    MPI_CHECK(MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD));
    snprintf(name, sizeof name, "%s/oxi_io_datarep_%d", d, pid);
    MPI_File fh;
    MPI_Status st;
    int count;
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_RDWR | MPI_MODE_CREATE
                            | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL, &fh));

    /* external32: ints and doubles, big-endian in the file. */
    MPI_CHECK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "external32", MPI_INFO_NULL));
    MPI_Aint ext;
    MPI_CHECK(MPI_File_get_type_extent(fh, MPI_INT, &ext));
    CHECK(ext == 4, "external32 extent of MPI_INT %ld", (long)ext);
    int iv[N];
    for (int i = 0; i < N; i++)
        iv[i] = 0x01020300 + rank * 16 + i;
    MPI_Offset mine = (MPI_Offset)rank * (N * 4 + 8);
    MPI_CHECK(MPI_File_write_at(fh, mine, iv, N, MPI_INT, &st));
    double dv = 1.5 + rank;
    MPI_CHECK(MPI_File_write_at(fh, mine + N * 4, &dv, 1, MPI_DOUBLE, &st));
    MPI_CHECK(MPI_File_sync(fh));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_File_sync(fh));
    char rep[MPI_MAX_DATAREP_STRING];
    MPI_Offset disp;
    MPI_Datatype et, ft;
    MPI_CHECK(MPI_File_get_view(fh, &disp, &et, &ft, rep));
    CHECK(strcmp(rep, "external32") == 0, "datarep %s", rep);
    int back[N];
    double dback;
    MPI_CHECK(MPI_File_read_at(fh, mine, back, N, MPI_INT, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == N, "external32 read count %d", count);
    MPI_CHECK(MPI_File_read_at(fh, mine + N * 4, &dback, 1, MPI_DOUBLE, &st));
    for (int i = 0; i < N; i++)
        CHECK(back[i] == iv[i], "external32 back[%d] = %#x", i, back[i]);
    CHECK(dback == dv, "external32 double %g", dback);
    /* The raw bytes. */
    MPI_CHECK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    unsigned char raw[N * 4 + 8];
    MPI_CHECK(MPI_File_read_at(fh, mine, raw, sizeof raw, MPI_BYTE, &st));
    for (int i = 0; i < N; i++) {
        unsigned v = (unsigned)raw[4 * i] << 24 | (unsigned)raw[4 * i + 1] << 16
                     | (unsigned)raw[4 * i + 2] << 8 | raw[4 * i + 3];
        CHECK(v == (unsigned)iv[i], "file int %d is %#x, expected big-endian %#x", i, v, iv[i]);
    }
    CHECK(raw[N * 4] == 0x3f || raw[N * 4] == 0x40, "double not big-endian (first byte %#x)",
          raw[N * 4]);

    /* A representation without conversion functions (the file holds native bytes). */
    static int extra = 42;
    MPI_CHECK(MPI_Register_datarep("oxi-plain", MPI_CONVERSION_FN_NULL, MPI_CONVERSION_FN_NULL,
                                   my_extent, &extra));
    CHECK_CLASS(MPI_Register_datarep("oxi-plain", MPI_CONVERSION_FN_NULL,
                                     MPI_CONVERSION_FN_NULL, my_extent, &extra),
                MPI_ERR_DUP_DATAREP);
    CHECK_CLASS(MPI_File_set_view(fh, 0, MPI_INT, MPI_INT, "oxi-unknown", MPI_INFO_NULL),
                MPI_ERR_UNSUPPORTED_DATAREP);
    (void)extent_calls;
    MPI_CHECK(MPI_File_close(&fh));
    ot_pass();
    return 0;
}
