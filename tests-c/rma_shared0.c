/* MPI_Win_allocate_shared where some ranks (or all) give no memory, as MPICH handles it:
 * a rank of size 0 gets a null base (MPI_WIN_BASE too); MPI_Win_shared_query answers size
 * 0 and a null base for such a rank, and for the others their contiguous segments; with
 * MPI_PROC_NULL it names the lowest rank that has memory (size 0 and a null base when none
 * has). Loads and stores and one-sided operations work on the ranks that have memory. The
 * same for MPI_Win_allocate of size 0 (null base). Each rank uses its own disp_unit. */
#include "oxitest.h"

/* Bytes rank r gives in pattern p. */
static MPI_Aint bytes(int p, int r, int size)
{
    switch (p) {
    case 0: return r % 2 ? 0 : 8 * (r + 1); /* every other rank */
    case 1: return 0;                        /* nobody */
    case 2: return r == size - 1 ? 24 : 0;   /* the last rank only */
    default: return r == 0 ? 0 : 16;         /* all but rank 0 */
    }
}

int main(int argc, char **argv)
{
    ot_init("rma_shared0", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int liblen;
    MPI_CHECK(MPI_Get_library_version(lib, &liblen));
    int strict = strstr(lib, "OxiMPI") != NULL;
    for (int p = 0; p < 4; p++) {
        MPI_Aint mine = bytes(p, rank, size);
        int du = rank % 2 ? 8 : 4;
        char *base = (char *)&p; /* must be overwritten */
        MPI_Win win;
        MPI_CHECK(MPI_Win_allocate_shared(mine, du, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win));
        MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
        if (mine == 0)
            CHECK(base == NULL, "pattern %d: size 0 but base %p", p, (void *)base);
        else
            CHECK(base != NULL, "pattern %d: null base for %ld bytes", p, (long)mine);
        void *attr_base = NULL;
        MPI_Aint *attr_size = NULL;
        int flag = 0;
        MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_BASE, &attr_base, &flag));
        CHECK(flag && attr_base == base, "pattern %d: MPI_WIN_BASE %p, base %p", p, attr_base,
              (void *)base);
        MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_SIZE, &attr_size, &flag));
        CHECK(flag && *attr_size == mine, "pattern %d: MPI_WIN_SIZE %ld", p, (long)*attr_size);

        /* Every rank's segment, as seen from here. */
        char *first = NULL; /* the lowest rank with memory */
        int first_rank = -1;
        MPI_Aint before = 0;
        for (int r = 0; r < size; r++) {
            MPI_Aint qs = -1;
            int qd = -1;
            char *qb = (char *)&p;
            MPI_CHECK(MPI_Win_shared_query(win, r, &qs, &qd, &qb));
            CHECK(qs == bytes(p, r, size), "pattern %d: query of rank %d: size %ld", p, r,
                  (long)qs);
            /* When no rank has memory, MPICH 4.0.2 answers the caller's own disp_unit. */
            CHECK(qd == (r % 2 ? 8 : 4) || (!strict && p == 1 && qd == du),
                  "pattern %d: query of rank %d: disp_unit %d", p, r, qd);
            if (qs == 0) {
                CHECK(qb == NULL, "pattern %d: rank %d has no memory but base %p", p, r,
                      (void *)qb);
                continue;
            }
            CHECK(qb != NULL, "pattern %d: rank %d: null base", p, r);
            if (first == NULL) {
                first = qb;
                first_rank = r;
            }
            /* Contiguous by default: after the memory of the ranks before. */
            CHECK(qb == first + before, "pattern %d: rank %d at offset %ld, expected %ld", p, r,
                  (long)(qb - first), (long)before);
            before += qs;
            if (r == rank)
                CHECK(qb == base, "pattern %d: query of self differs from base", p);
        }
        MPI_Aint ns = -1;
        int nd = -1;
        char *nb = (char *)&p;
        MPI_CHECK(MPI_Win_shared_query(win, MPI_PROC_NULL, &ns, &nd, &nb));
        if (first_rank < 0)
            CHECK(ns == 0 && nb == NULL, "pattern %d: MPI_PROC_NULL with no memory: %ld %p", p,
                  (long)ns, (void *)nb);
        else
            CHECK(ns == bytes(p, first_rank, size) && nb == first,
                  "pattern %d: MPI_PROC_NULL gave %ld bytes at %p, expected rank %d's", p,
                  (long)ns, (void *)nb, first_rank);

        /* Stores by the owners, loads by everybody. */
        MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, win));
        for (MPI_Aint i = 0; i < mine; i++)
            base[i] = (char)(rank * 16 + i);
        MPI_CHECK(MPI_Win_sync(win));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        MPI_CHECK(MPI_Win_sync(win));
        for (int r = 0; r < size; r++) {
            MPI_Aint qs;
            int qd;
            char *qb;
            MPI_CHECK(MPI_Win_shared_query(win, r, &qs, &qd, &qb));
            for (MPI_Aint i = 0; i < qs; i++)
                CHECK(qb[i] == (char)(r * 16 + i), "pattern %d: rank %d byte %ld = %d", p, r,
                      (long)i, qb[i]);
        }
        MPI_CHECK(MPI_Win_unlock_all(win));
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

        /* One-sided: an empty put to every rank, an accumulate to the first with memory. */
        MPI_CHECK(MPI_Win_fence(0, win));
        int one = 1;
        for (int r = 0; r < size; r++)
            MPI_CHECK(MPI_Put(&one, 0, MPI_INT, r, 0, 0, MPI_INT, win));
        if (first_rank >= 0)
            MPI_CHECK(MPI_Accumulate(&one, 1, MPI_INT, first_rank, 0, 1, MPI_INT, MPI_SUM, win));
        MPI_CHECK(MPI_Win_fence(0, win));
        if (first_rank >= 0) {
            int v;
            memcpy(&v, first, sizeof v);
            int want;
            char init[4];
            for (int i = 0; i < 4; i++)
                init[i] = (char)(first_rank * 16 + i);
            memcpy(&want, init, sizeof want);
            CHECK(v == want + size, "pattern %d: accumulated %d, expected %d", p, v, want + size);
        }
        MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
        MPI_CHECK(MPI_Win_free(&win));
    }

    /* MPI_Win_allocate of size 0: a null base, and the window works. */
    void *b = &rank;
    MPI_Win win;
    MPI_CHECK(MPI_Win_allocate(0, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &b, &win));
    CHECK(b == NULL, "MPI_Win_allocate(0) gave base %p", b);
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(&rank, 0, MPI_INT, (rank + 1) % size, 0, 0, MPI_INT, win));
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Win_free(&win));
    return ot_pass();
}
