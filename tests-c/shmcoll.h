/* Helpers shared by the shared-memory collective tests (shmcoll*.c): contributions whose
 * serial results are easy to recompute, a non-commutative user op, and a late arrival.
 */
#ifndef SHMCOLL_H
#define SHMCOLL_H
#include "oxitest.h"
#include <time.h>

#ifdef _GNU_SOURCE
#include <sched.h>
/* Pins the odd ranks to the first CPU of their mask, so that ranks count different numbers
 * of usable CPUs (the collectives' routes must follow rank 0's view); `all` gets the mask
 * to restore. On a 1-CPU machine the masks cannot differ and nothing changes. */
static inline void shm_pin_odd_ranks(cpu_set_t *all)
{
    CHECK(sched_getaffinity(0, sizeof *all, all) == 0, "sched_getaffinity");
    if (ot_rank % 2 == 1 && CPU_COUNT(all) > 1) {
        cpu_set_t one;
        CPU_ZERO(&one);
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, all)) {
                CPU_SET(c, &one);
                break;
            }
        CHECK(sched_setaffinity(0, sizeof one, &one) == 0, "sched_setaffinity");
    }
}
#endif

/* Value of element i contributed by rank r in round k (small: products stay exact). */
static inline int shm_val(int r, int i, int k) { return (r * 7 + i * 3 + k) % 5 + 1; }

/* 2x2 integer matrix product, row-major: io = in * io (non-commutative: the result shows
 * the order in which the ranks' matrices were combined). */
static inline void shm_matmul(void *in, void *io, int *len, MPI_Datatype *dt)
{
    (void)dt;
    int *a = in, *b = io;
    for (int m = 0; m < *len; m++, a += 4, b += 4) {
        int c[4] = {a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
                    a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]};
        memcpy(b, c, sizeof c);
    }
}

/* Sleeps `ms` milliseconds: a rank that arrives late at a collective, so the others wait
 * long enough to go to sleep (the waiters' yielding phase lasts about 2 ms). */
static inline void shm_late(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0)
        ;
}

/* A broadcast of `v` ints from every root in turn, in which ranks at odd positions receive
 * (or send) every other int of a vector and the others contiguous ints of the same
 * signature: a non-contiguous reader, and a non-contiguous root whose packed copy is read
 * or written from. Checks every element, the vector's gaps, and that nothing lands past a
 * contiguous receive. */
static inline void shm_check_vector_bcast(MPI_Comm comm, int k, int v)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    int *a = malloc(2 * (size_t)v * sizeof(int));
    CHECK(a != NULL, "malloc");
    MPI_Datatype vec;
    MPI_CHECK(MPI_Type_vector(v, 1, 2, MPI_INT, &vec));
    MPI_CHECK(MPI_Type_commit(&vec));
    for (int root = 0; root < n; root++) {
        int strided = me % 2 == 1;
        for (int i = 0; i < 2 * v; i++)
            a[i] = -1;
        for (int i = 0; i < v && me == root; i++)
            a[strided ? 2 * i : i] = 7 * k + 3 * i + root;
        if (strided)
            MPI_CHECK(MPI_Bcast(a, 1, vec, root, comm));
        else
            MPI_CHECK(MPI_Bcast(a, v, MPI_INT, root, comm));
        for (int i = 0; i < v; i++) {
            int at = strided ? 2 * i : i;
            if (a[at] != 7 * k + 3 * i + root || (strided && a[at + 1] != -1)) {
                CHECK(0, "vector bcast root %d rank %d elem %d", root, me, i);
                break;
            }
        }
        for (int i = v; i < 2 * v && !strided; i++)
            if (a[i] != -1) {
                CHECK(0, "vector bcast root %d rank %d wrote past the end", root, me);
                break;
            }
    }
    MPI_CHECK(MPI_Type_free(&vec));
    free(a);
}

/* A test's main: `check_all(comm, rounds)` on MPI_COMM_WORLD twice, then once on each half of
 * a split that reverses the rank order (so local rank 0 is not world rank 0). */
static inline int shm_run_world_and_split(const char *name, int *argc, char ***argv,
                                          void (*check_all)(MPI_Comm, int))
{
    ot_init(name, argc, argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    check_all(MPI_COMM_WORLD, 2);
    MPI_Comm half;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, rank % 2, size - rank, &half));
    check_all(half, 1);
    MPI_CHECK(MPI_Comm_free(&half));
    return ot_pass();
}

#endif
