/* Large transfers (rendezvous-sized messages both ways) and the default accumulate ordering:
 * within one epoch, an MPI_REPLACE accumulate followed by a get_accumulate (MPI_NO_OP) from the
 * same origin must see the replaced data. Many small operations in one epoch too. */
#include "oxitest.h"

#define BIG (1 << 20)

int main(int argc, char **argv)
{
    ot_init("rma_large", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    unsigned char *mem = NULL;
    MPI_Win win;
    MPI_CHECK(MPI_Win_allocate(BIG, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win));
    unsigned char *src = malloc(BIG), *back = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        src[i] = ot_byte(rank, i);
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(src, BIG, MPI_BYTE, next, 0, BIG, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    for (size_t i = 0; i < BIG; i++)
        CHECK(mem[i] == ot_byte(prev, i), "big put: byte %zu", i);
    MPI_CHECK(MPI_Get(back, BIG, MPI_BYTE, next, 0, BIG, MPI_BYTE, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    CHECK(memcmp(back, src, BIG) == 0, "big get differs");

    /* Ordering: replace then read back, in one passive epoch, many times. */
    int *ints = (int *)mem;
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, next, 0, win));
    for (int k = 0; k < 100; k++) {
        int v[8], r[8];
        for (int i = 0; i < 8; i++)
            v[i] = rank * 100000 + k * 10 + i;
        MPI_CHECK(MPI_Accumulate(v, 8, MPI_INT, next, 0, 8, MPI_INT, MPI_REPLACE, win));
        MPI_CHECK(MPI_Get_accumulate(NULL, 0, MPI_INT, r, 8, MPI_INT, next, 0, 8, MPI_INT,
                                     MPI_NO_OP, win));
        MPI_CHECK(MPI_Win_flush_local(next, win));
        for (int i = 0; i < 8; i++)
            CHECK(r[i] == v[i], "ordering: round %d elem %d = %d, expected %d", k, i, r[i], v[i]);
    }
    MPI_CHECK(MPI_Win_unlock(next, win));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win));
    CHECK(ints[0] == prev * 100000 + 990, "last replace at target: %d", ints[0]);
    MPI_CHECK(MPI_Win_unlock(rank, win));

    /* Many small puts in one fence epoch, each to its own slot of every rank. */
    /* (An origin buffer may not change before the epoch ends: one slot per value.) */
    int vals[256];
    for (int i = 0; i < 256; i++)
        vals[i] = rank * 1000 + i;
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int t = 0; t < size; t++)
        for (int i = 0; i < 256; i++)
            MPI_CHECK(MPI_Put(&vals[i], 1, MPI_INT, t, (rank * 256 + i) * sizeof(int), 1,
                              MPI_INT, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int r = 0; r < size; r++)
        for (int i = 0; i < 256; i++)
            CHECK(ints[r * 256 + i] == r * 1000 + i, "small put from %d slot %d = %d", r, i,
                  ints[r * 256 + i]);
    MPI_CHECK(MPI_Win_free(&win));
    free(src);
    free(back);
    return ot_pass();
}
