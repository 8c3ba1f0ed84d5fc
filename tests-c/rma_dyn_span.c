/* A dynamic window whose memory was attached in pieces: an access may span regions the
 * user attached next to each other (the memory is contiguous and all of it exposed), as
 * MPICH allows. Put, get, accumulate and get_accumulate across the seam; on OxiMPI (which
 * checks target ranges) an access running into memory never attached still fails with
 * MPI_ERR_RMA_RANGE, and after detaching one piece the span is refused. */
#include "oxitest.h"

#define N 16

int main(int argc, char **argv)
{
    ot_init("rma_dyn_span", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int liblen;
    MPI_CHECK(MPI_Get_library_version(lib, &liblen));
    int strict = strstr(lib, "OxiMPI") != NULL;

    /* a: two halves attached separately. b: [0, 4) and [8, 12) attached, a gap between. */
    static int a[N], b[12];
    MPI_Win win;
    MPI_CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Win_attach(win, a, N / 2 * sizeof(int)));
    MPI_CHECK(MPI_Win_attach(win, a + N / 2, N / 2 * sizeof(int)));
    MPI_CHECK(MPI_Win_attach(win, b, 4 * sizeof(int)));
    MPI_CHECK(MPI_Win_attach(win, b + 8, 4 * sizeof(int)));

    /* Addresses of the next rank's arrays. */
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    MPI_Aint mine[2], its[2];
    MPI_CHECK(MPI_Get_address(a, &mine[0]));
    MPI_CHECK(MPI_Get_address(b, &mine[1]));
    MPI_CHECK(MPI_Sendrecv(mine, 2, MPI_AINT, prev, 1, its, 2, MPI_AINT, next, 1, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    int src[N], back[N], old[N];
    for (int i = 0; i < N; i++)
        src[i] = 1000 * rank + i;
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, next, 0, win));
    /* The whole array, across the seam. */
    MPI_CHECK(MPI_Put(src, N, MPI_INT, next, its[0], N, MPI_INT, win));
    MPI_CHECK(MPI_Win_flush(next, win));
    MPI_CHECK(MPI_Get(back, N, MPI_INT, next, its[0], N, MPI_INT, win));
    MPI_CHECK(MPI_Win_flush(next, win));
    for (int i = 0; i < N; i++)
        CHECK(back[i] == src[i], "get across the seam [%d] = %d, expected %d", i, back[i], src[i]);
    /* Four ints straddling the seam: accumulate, then get_accumulate. */
    int four[4] = {1, 1, 1, 1};
    MPI_Aint mid = its[0] + (N / 2 - 2) * sizeof(int);
    MPI_CHECK(MPI_Accumulate(four, 4, MPI_INT, next, mid, 4, MPI_INT, MPI_SUM, win));
    MPI_CHECK(MPI_Get_accumulate(four, 4, MPI_INT, old, 4, MPI_INT, next, mid, 4, MPI_INT,
                                 MPI_SUM, win));
    MPI_CHECK(MPI_Win_flush(next, win));
    for (int i = 0; i < 4; i++) {
        int k = N / 2 - 2 + i;
        CHECK(old[i] == src[k] + 1, "get_accumulate [%d] fetched %d, expected %d", k, old[i],
              src[k] + 1);
    }
    MPI_CHECK(MPI_Win_unlock(next, win));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    /* What the previous rank did to this rank's memory. */
    for (int i = 0; i < N; i++) {
        int want = 1000 * prev + i + (i >= N / 2 - 2 && i < N / 2 + 2 ? 2 : 0);
        CHECK(a[i] == want, "a[%d] = %d, expected %d", i, a[i], want);
    }

    if (strict) {
        /* Across the gap of b: refused (the error comes back with the unlock). */
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, next, 0, win));
        MPI_CHECK(MPI_Put(src, 12, MPI_INT, next, its[1], 12, MPI_INT, win));
        CHECK_CLASS(MPI_Win_unlock(next, win), MPI_ERR_RMA_RANGE);
        CHECK(b[5] == 0, "a put across the gap wrote into memory never attached");
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    /* Without the second half, the span is gone. */
    MPI_CHECK(MPI_Win_detach(win, a + N / 2));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (strict) {
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, next, 0, win));
        MPI_CHECK(MPI_Get(back, N, MPI_INT, next, its[0], N, MPI_INT, win));
        CHECK_CLASS(MPI_Win_unlock(next, win), MPI_ERR_RMA_RANGE);
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_detach(win, a));
    MPI_CHECK(MPI_Win_detach(win, b));
    MPI_CHECK(MPI_Win_detach(win, b + 8));
    MPI_CHECK(MPI_Win_free(&win));
    return ot_pass();
}
