/* Helpers shared by the shared-memory collective tests (shmcoll*.c): contributions whose
 * serial results are easy to recompute, a non-commutative user op, and a late arrival.
 */
#ifndef SHMCOLL_H
#define SHMCOLL_H
#include "oxitest.h"
#include <time.h>

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
