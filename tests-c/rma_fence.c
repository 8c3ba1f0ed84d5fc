/* Put, get and accumulate in fence epochs, on windows of the create, allocate and dynamic
 * flavors; derived origin and target datatypes; MPI_PROC_NULL targets. */
#include "oxitest.h"

#define N 64

/* Every rank puts its pattern into the next rank's window, gets it back from there, and
 * accumulates (sum) its rank+1 into every rank's window. */
static void exercise(MPI_Win win, int *mem, MPI_Aint base_disp, int rank, int size)
{
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    int src[N], back[N];
    for (int i = 0; i < N; i++)
        src[i] = rank * 1000 + i;
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(src, N, MPI_INT, next, base_disp, N, MPI_INT, win));
    MPI_CHECK(MPI_Put(src, N, MPI_INT, MPI_PROC_NULL, base_disp, N, MPI_INT, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int i = 0; i < N; i++)
        CHECK(mem[i] == prev * 1000 + i, "put: mem[%d] = %d, expected %d", i, mem[i],
              prev * 1000 + i);
    memset(back, 0, sizeof back);
    MPI_CHECK(MPI_Get(back, N, MPI_INT, next, base_disp, N, MPI_INT, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int i = 0; i < N; i++)
        CHECK(back[i] == src[i], "get: back[%d] = %d, expected %d", i, back[i], src[i]);
    /* Zero, then everybody adds rank+1 to every rank's first N ints. */
    memset(mem, 0, N * sizeof(int));
    MPI_CHECK(MPI_Win_fence(0, win));
    int ones[N];
    for (int i = 0; i < N; i++)
        ones[i] = rank + 1;
    for (int t = 0; t < size; t++)
        MPI_CHECK(MPI_Accumulate(ones, N, MPI_INT, t, base_disp, N, MPI_INT, MPI_SUM, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    int expect = size * (size + 1) / 2;
    for (int i = 0; i < N; i++)
        CHECK(mem[i] == expect, "acc: mem[%d] = %d, expected %d", i, mem[i], expect);

    /* Derived types: origin strided (every other int of 2N), target a vector with stride 3
     * over the window (N/4 blocks). */
    memset(mem, 0, N * sizeof(int));
    int strided[2 * N];
    for (int i = 0; i < 2 * N; i++)
        strided[i] = (i % 2) ? -1 : rank * 100 + i / 2;
    MPI_Datatype every_other, tvec;
    MPI_CHECK(MPI_Type_vector(N / 4, 1, 2, MPI_INT, &every_other));
    MPI_CHECK(MPI_Type_commit(&every_other));
    MPI_CHECK(MPI_Type_vector(N / 4, 1, 3, MPI_INT, &tvec));
    MPI_CHECK(MPI_Type_commit(&tvec));
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(strided, 1, every_other, next, base_disp, 1, tvec, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int i = 0; i < N; i++) {
        int want = (i % 3 == 0 && i / 3 < N / 4) ? prev * 100 + i / 3 : 0;
        CHECK(mem[i] == want, "vector put: mem[%d] = %d, expected %d", i, mem[i], want);
    }
    int got[N / 4];
    memset(got, 0, sizeof got);
    MPI_CHECK(MPI_Get(got, N / 4, MPI_INT, next, base_disp, 1, tvec, win));
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    for (int i = 0; i < N / 4; i++)
        CHECK(got[i] == rank * 100 + i, "vector get: got[%d] = %d", i, got[i]);
    MPI_CHECK(MPI_Type_free(&every_other));
    MPI_CHECK(MPI_Type_free(&tvec));
}

int main(int argc, char **argv)
{
    ot_init("rma_fence", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    MPI_Win win;

    /* MPI_Win_create on user memory (disp_unit = sizeof(int)). */
    int *mem = calloc(N, sizeof(int));
    MPI_CHECK(MPI_Win_create(mem, N * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD,
                             &win));
    exercise(win, mem, 0, rank, size);
    MPI_CHECK(MPI_Win_free(&win));
    CHECK(win == MPI_WIN_NULL, "MPI_Win_free did not set MPI_WIN_NULL");
    free(mem);

    /* MPI_Win_allocate. */
    int *amem = NULL;
    MPI_CHECK(MPI_Win_allocate(N * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD,
                               &amem, &win));
    CHECK(amem != NULL, "MPI_Win_allocate gave a null base");
    exercise(win, amem, 0, rank, size);
    MPI_CHECK(MPI_Win_free(&win));

    /* Dynamic window: displacements are addresses, exchanged by the test. */
    int *dmem = NULL;
    MPI_CHECK(MPI_Alloc_mem(N * sizeof(int), MPI_INFO_NULL, &dmem));
    memset(dmem, 0, N * sizeof(int));
    MPI_CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_CHECK(MPI_Win_attach(win, dmem, N * sizeof(int)));
    MPI_Aint mine, *addrs = malloc(size * sizeof(MPI_Aint));
    MPI_CHECK(MPI_Get_address(dmem, &mine));
    MPI_CHECK(MPI_Allgather(&mine, 1, MPI_AINT, addrs, 1, MPI_AINT, MPI_COMM_WORLD));
    /* The dynamic window's disp unit is 1: give the next rank's address (all ranks of this
     * test use the same target for a given call, so pass it per call). */
    int next = (rank + 1) % size;
    {
        int src[N], back[N];
        for (int i = 0; i < N; i++)
            src[i] = rank * 7 + i;
        MPI_CHECK(MPI_Win_fence(0, win));
        MPI_CHECK(MPI_Put(src, N, MPI_INT, next, addrs[next], N, MPI_INT, win));
        MPI_CHECK(MPI_Win_fence(0, win));
        int prev = (rank + size - 1) % size;
        for (int i = 0; i < N; i++)
            CHECK(dmem[i] == prev * 7 + i, "dynamic put: dmem[%d] = %d", i, dmem[i]);
        MPI_CHECK(MPI_Get(back, N, MPI_INT, next, addrs[next], N, MPI_INT, win));
        MPI_CHECK(MPI_Win_fence(0, win));
        for (int i = 0; i < N; i++)
            CHECK(back[i] == src[i], "dynamic get: back[%d] = %d", i, back[i]);
    }
    MPI_CHECK(MPI_Win_detach(win, dmem));
    MPI_CHECK(MPI_Win_free(&win));
    MPI_CHECK(MPI_Free_mem(dmem));
    free(addrs);
    return ot_pass();
}
