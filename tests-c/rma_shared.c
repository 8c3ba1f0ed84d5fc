/* MPI_Win_allocate_shared: contiguous segments, MPI_Win_shared_query for every rank (and
 * MPI_PROC_NULL), direct stores seen by the other ranks after MPI_Win_sync + barrier, and
 * one-sided operations on the shared window. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("rma_shared", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    MPI_Comm node;
    MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    int nrank, nsize;
    MPI_CHECK(MPI_Comm_rank(node, &nrank));
    MPI_CHECK(MPI_Comm_size(node, &nsize));
    CHECK(nsize == size, "all ranks of this test run on one node (%d of %d)", nsize, size);

    /* Rank r contributes r + 1 ints. */
    int *mine = NULL;
    MPI_Win win;
    MPI_CHECK(MPI_Win_allocate_shared((nrank + 1) * sizeof(int), sizeof(int), MPI_INFO_NULL, node,
                                      &mine, &win));
    int *base0 = NULL;
    MPI_Aint sz;
    int du;
    for (int r = 0; r < nsize; r++) {
        int *p = NULL;
        MPI_CHECK(MPI_Win_shared_query(win, r, &sz, &du, &p));
        CHECK(sz == (MPI_Aint)((r + 1) * sizeof(int)), "rank %d size %ld", r, (long)sz);
        CHECK(du == sizeof(int), "disp unit %d", du);
        if (r == 0)
            base0 = p;
        /* Contiguous by default: rank r starts after ranks 0..r-1. */
        CHECK(p == base0 + r * (r + 1) / 2, "rank %d segment not contiguous", r);
        if (r == nrank)
            CHECK(p == mine, "shared_query of self differs from the allocated base");
    }
    int *pn = NULL;
    MPI_CHECK(MPI_Win_shared_query(win, MPI_PROC_NULL, &sz, &du, &pn));
    CHECK(pn == base0, "MPI_PROC_NULL query should give rank 0's segment");

    /* Direct stores, then everybody reads everybody's. */
    MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, win));
    for (int i = 0; i <= nrank; i++)
        mine[i] = nrank * 100 + i;
    MPI_CHECK(MPI_Win_sync(win));
    MPI_CHECK(MPI_Barrier(node));
    MPI_CHECK(MPI_Win_sync(win));
    for (int r = 0; r < nsize; r++) {
        int *p = base0 + r * (r + 1) / 2;
        for (int i = 0; i <= r; i++)
            CHECK(p[i] == r * 100 + i, "load of rank %d [%d] = %d", r, i, p[i]);
    }
    MPI_CHECK(MPI_Win_unlock_all(win));
    MPI_CHECK(MPI_Barrier(node));

    /* One-sided accumulate into rank 0's first int through the window. */
    MPI_CHECK(MPI_Win_fence(0, win));
    int one = 1;
    MPI_CHECK(MPI_Accumulate(&one, 1, MPI_INT, 0, 0, 1, MPI_INT, MPI_SUM, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    CHECK(base0[0] == nsize, "accumulate through shared window: %d", base0[0]);

    int flavor = 0, *fp = NULL, flag = 0;
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &fp, &flag));
    CHECK(flag && *fp == MPI_WIN_FLAVOR_SHARED, "flavor attribute");
    (void)flavor;
    MPI_CHECK(MPI_Win_free(&win));
    MPI_CHECK(MPI_Comm_free(&node));
    return ot_pass();
}
