/* Started by a foreign launcher (Slurm PMI-2 / PMIx, hydra): the job is one world of the
 * expected size (argv[1]), not N singletons; ranks are distinct; the universe and appnum
 * are sane; one node means one shared-memory communicator of everyone; a ring and an
 * allreduce move data. Rank 0 prints "PASS launched". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define FAIL(...)                                                                             \
    do {                                                                                      \
        fprintf(stderr, "FAIL launched: " __VA_ARGS__);                                       \
        fprintf(stderr, "\n");                                                                \
        MPI_Abort(MPI_COMM_WORLD, 1);                                                         \
    } while (0)

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, expect = argc > 1 ? atoi(argv[1]) : -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (expect > 0 && size != expect)
        FAIL("rank %d sees a world of %d, expected %d", rank, size, expect);

    int *universe = NULL, *appnum = NULL, flag = 0;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_UNIVERSE_SIZE, &universe, &flag);
    if (flag && *universe < size)
        FAIL("universe size %d below the world size %d", *universe, size);
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_APPNUM, &appnum, &flag);
    if (flag && *appnum != 0)
        FAIL("appnum %d for a one-program job", *appnum);

    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    int nsize;
    MPI_Comm_size(node, &nsize);
    if (nsize != size)
        FAIL("one node, but the shared-memory communicator has %d of %d ranks", nsize, size);
    MPI_Comm_free(&node);

    int token = rank, from = (rank + size - 1) % size, to = (rank + 1) % size, got = -1;
    MPI_Sendrecv(&token, 1, MPI_INT, to, 7, &got, 1, MPI_INT, from, 7, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    if (got != from)
        FAIL("rank %d got %d from its left neighbour %d", rank, got, from);

    long sum = 0, mine = rank + 1;
    MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (sum != (long)size * (size + 1) / 2)
        FAIL("allreduce sum %ld for %d ranks", sum, size);

    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        printf("PASS launched\n");
        fflush(stdout);
    }
    MPI_Finalize();
    return 0;
}
