/* MPI-IO nonblocking and split-collective access, and atomic mode: requests complete with
 * the right counts, split _begin/_end pairs report their status and reject misuse,
 * atomic overlapping writes never mix. */
#include "oxitest.h"
#include <unistd.h>

#define N 64

int main(int argc, char **argv)
{
    ot_init("io_nonblock", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    char name[512];
    const char *d = getenv("TMPDIR");
    if (!d || !*d)
        d = "/tmp";
    int pid = (int)getpid();
    MPI_CHECK(MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD));
    snprintf(name, sizeof name, "%s/oxi_io_nonblock_%d", d, pid);
    MPI_File fh;
    MPI_Status st, sts[3];
    MPI_Request rq[3];
    int count;
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_RDWR | MPI_MODE_CREATE
                            | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL, &fh));
    MPI_CHECK(MPI_File_set_view(fh, 0, MPI_DOUBLE, MPI_DOUBLE, "native", MPI_INFO_NULL));

    /* Three nonblocking writes per rank: its block at [rank*3N, rank*3N + 3N). */
    double a[N], b[N], c[N], in[3 * N];
    for (int i = 0; i < N; i++) {
        a[i] = rank * 1e4 + i;
        b[i] = rank * 1e4 + N + i;
        c[i] = rank * 1e4 + 2 * N + i;
    }
    MPI_Offset base = (MPI_Offset)rank * 3 * N;
    MPI_CHECK(MPI_File_iwrite_at(fh, base, a, N, MPI_DOUBLE, &rq[0]));
    MPI_CHECK(MPI_File_seek(fh, base + N, MPI_SEEK_SET));
    MPI_CHECK(MPI_File_iwrite(fh, b, N, MPI_DOUBLE, &rq[1]));
    MPI_CHECK(MPI_File_iwrite_at_all(fh, base + 2 * N, c, N, MPI_DOUBLE, &rq[2]));
    MPI_CHECK(MPI_Waitall(3, rq, sts));
    for (int k = 0; k < 3; k++) {
        MPI_CHECK(MPI_Get_count(&sts[k], MPI_DOUBLE, &count));
        CHECK(count == N, "iwrite %d count %d", k, count);
        CHECK(rq[k] == MPI_REQUEST_NULL, "request %d not freed", k);
    }
    MPI_CHECK(MPI_File_sync(fh));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_File_sync(fh));

    /* Nonblocking reads of the next rank's block. */
    int peer = (rank + 1) % size;
    MPI_Offset pb = (MPI_Offset)peer * 3 * N;
    MPI_CHECK(MPI_File_seek(fh, pb, MPI_SEEK_SET));
    MPI_CHECK(MPI_File_iread(fh, in, N, MPI_DOUBLE, &rq[0]));
    MPI_CHECK(MPI_File_iread_at(fh, pb + N, in + N, N, MPI_DOUBLE, &rq[1]));
    MPI_CHECK(MPI_File_iread_at_all(fh, pb + 2 * N, in + 2 * N, N, MPI_DOUBLE, &rq[2]));
    MPI_CHECK(MPI_Waitall(3, rq, sts));
    for (int i = 0; i < 3 * N; i++)
        CHECK(in[i] == peer * 1e4 + i, "iread in[%d] = %g", i, in[i]);
    MPI_Offset pos;
    MPI_CHECK(MPI_File_get_position(fh, &pos));
    CHECK(pos == pb + N, "position after iread %lld", (long long)pos);
    /* iread_all of this rank's first block. */
    MPI_CHECK(MPI_File_seek(fh, base, MPI_SEEK_SET));
    MPI_CHECK(MPI_File_iread_all(fh, in, N, MPI_DOUBLE, &rq[0]));
    int done = 0;
    while (!done)
        MPI_CHECK(MPI_Test(&rq[0], &done, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_DOUBLE, &count));
    CHECK(count == N && in[N - 1] == a[N - 1], "iread_all: count %d", count);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* Split collectives. */
    for (int i = 0; i < N; i++)
        a[i] = -(rank * 1e4 + i);
    MPI_CHECK(MPI_File_write_at_all_begin(fh, base, a, N, MPI_DOUBLE));
    CHECK_CLASS(MPI_File_write_all_begin(fh, a, N, MPI_DOUBLE), MPI_ERR_IO);
    MPI_CHECK(MPI_File_write_at_all_end(fh, a, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_DOUBLE, &count));
    CHECK(count == N, "write_at_all_end count %d", count);
    CHECK_CLASS(MPI_File_read_all_end(fh, in, &st), MPI_ERR_IO);
    MPI_CHECK(MPI_File_sync(fh));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_File_sync(fh));
    MPI_CHECK(MPI_File_seek(fh, pb, MPI_SEEK_SET));
    MPI_CHECK(MPI_File_read_all_begin(fh, in, 2 * N, MPI_DOUBLE));
    MPI_CHECK(MPI_File_read_all_end(fh, in, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_DOUBLE, &count));
    CHECK(count == 2 * N, "read_all_end count %d", count);
    for (int i = 0; i < 2 * N; i++) {
        double want = i < N ? -(peer * 1e4 + i) : peer * 1e4 + i;
        CHECK(in[i] == want, "split read in[%d] = %g, expected %g", i, in[i], want);
    }
    MPI_CHECK(MPI_File_read_at_all_begin(fh, pb + 2 * N, in, N, MPI_DOUBLE));
    MPI_CHECK(MPI_File_read_at_all_end(fh, in, &st));
    CHECK(in[0] == peer * 1e4 + 2 * N, "read_at_all split: %g", in[0]);
    MPI_CHECK(MPI_File_write_all_begin(fh, a, 0, MPI_DOUBLE));
    MPI_CHECK(MPI_File_write_all_end(fh, a, &st));

    /* Atomic mode: every rank writes the same region with its own value, many times;
     * each write must land whole. */
    MPI_CHECK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    MPI_CHECK(MPI_File_set_atomicity(fh, 1));
    enum { REGION = 1 << 16 };
    int *w = malloc(REGION), *r = malloc(REGION);
    for (int i = 0; i < REGION / 4; i++)
        w[i] = rank + 1;
    MPI_Offset at = 1 << 20;
    for (int round = 0; round < 10; round++) {
        MPI_CHECK(MPI_File_write_at(fh, at, w, REGION / 4, MPI_INT, &st));
        MPI_CHECK(MPI_File_read_at(fh, at, r, REGION / 4, MPI_INT, &st));
        for (int i = 1; i < REGION / 4; i++)
            CHECK(r[i] == r[0], "round %d: atomic write mixed (%d at 0, %d at %d)", round, r[0],
                  r[i], i);
        CHECK(r[0] >= 1 && r[0] <= size, "round %d: value %d", round, r[0]);
    }
    MPI_CHECK(MPI_File_set_atomicity(fh, 0));
    free(w);
    free(r);
    MPI_CHECK(MPI_File_close(&fh));
    ot_pass();
    return 0;
}
