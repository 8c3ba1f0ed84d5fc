/* MPI_Register_datarep with conversion functions: writes and reads through the view run
 * the user's conversion and extent functions (MPICH 4.0.2's ROMIO refuses conversion
 * functions, so this test does not run on MPICH). */
#include "oxitest.h"
#include <unistd.h>

#define N 8

static int extent_calls = 0, write_calls = 0, read_calls = 0;

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

/* File form of an int: (v + 1000) big-endian. */
static int my_write(void *userbuf, MPI_Datatype dt, int count, void *filebuf,
                    MPI_Offset position, void *extra)
{
    (void)extra;
    write_calls++;
    CHECK(dt == MPI_INT, "write conversion got another datatype");
    const int *u = (const int *)userbuf + position;
    unsigned char *f = filebuf;
    for (int i = 0; i < count; i++) {
        unsigned v = (unsigned)(u[i] + 1000);
        f[4 * i] = v >> 24, f[4 * i + 1] = v >> 16, f[4 * i + 2] = v >> 8, f[4 * i + 3] = v;
    }
    return MPI_SUCCESS;
}

static int my_read(void *userbuf, MPI_Datatype dt, int count, void *filebuf,
                   MPI_Offset position, void *extra)
{
    (void)extra;
    read_calls++;
    CHECK(dt == MPI_INT, "read conversion got another datatype");
    int *u = (int *)userbuf + position;
    const unsigned char *f = filebuf;
    for (int i = 0; i < count; i++) {
        unsigned v = (unsigned)f[4 * i] << 24 | (unsigned)f[4 * i + 1] << 16
                     | (unsigned)f[4 * i + 2] << 8 | f[4 * i + 3];
        u[i] = (int)v - 1000;
    }
    return MPI_SUCCESS;
}

int main(int argc, char **argv)
{
    ot_init("io_userrep", &argc, &argv);
    int rank = ot_rank;
    char name[512];
    const char *d = getenv("TMPDIR");
    if (!d || !*d)
        d = "/tmp";
    int pid = (int)getpid();
    MPI_CHECK(MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD));
    snprintf(name, sizeof name, "%s/oxi_io_userrep_%d", d, pid);
    MPI_File fh;
    MPI_Status st;
    int count;
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_RDWR | MPI_MODE_CREATE
                            | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL, &fh));

    /* A user representation (after everyone has checked the external32 bytes). */
    int back[N], iv[N];
    unsigned char raw[N * 4];
    static int extra = 42;
    MPI_CHECK(MPI_Register_datarep("oxi-plus1000", my_read, my_write, my_extent, &extra));
    CHECK_CLASS(MPI_Register_datarep("oxi-plus1000", my_read, my_write, my_extent, &extra),
                MPI_ERR_DUP_DATAREP);
    CHECK_CLASS(MPI_Register_datarep("external32", my_read, my_write, my_extent, &extra),
                MPI_ERR_DUP_DATAREP);
    CHECK_CLASS(MPI_File_set_view(fh, 0, MPI_INT, MPI_INT, "oxi-unknown", MPI_INFO_NULL),
                MPI_ERR_UNSUPPORTED_DATAREP);
    MPI_CHECK(MPI_File_set_view(fh, 0, MPI_INT, MPI_INT, "oxi-plus1000", MPI_INFO_NULL));
    for (int i = 0; i < N; i++)
        iv[i] = rank * 100 + i;
    MPI_CHECK(MPI_File_write_at(fh, (MPI_Offset)rank * N, iv, N, MPI_INT, &st));
    CHECK(write_calls > 0 && extent_calls > 0, "conversion functions not called");
    MPI_CHECK(MPI_File_read_at(fh, (MPI_Offset)rank * N, back, N, MPI_INT, &st));
    CHECK(read_calls > 0, "read conversion not called");
    for (int i = 0; i < N; i++)
        CHECK(back[i] == iv[i], "user datarep back[%d] = %d", i, back[i]);
    MPI_CHECK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    MPI_CHECK(MPI_File_read_at(fh, (MPI_Offset)rank * N * 4, raw, N * 4, MPI_BYTE, &st));
    for (int i = 0; i < N; i++) {
        unsigned v = (unsigned)raw[4 * i] << 24 | (unsigned)raw[4 * i + 1] << 16
                     | (unsigned)raw[4 * i + 2] << 8 | raw[4 * i + 3];
        CHECK(v == (unsigned)(iv[i] + 1000), "user file int %d is %u", i, v);
    }
    MPI_CHECK(MPI_File_close(&fh));
    ot_pass();
    return 0;
}
