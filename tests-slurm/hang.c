/* A job that never ends by itself, for the launcher-death test: each rank prints
 * "READY <rank> <pid>" once the world is up, then even ranks block in MPI_Recv for a message
 * nobody sends and odd ranks compute without calling MPI. Killing the launcher must end them
 * all (issue 15: ranks never outlive their launcher). */
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int rank;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Barrier(MPI_COMM_WORLD);
    printf("READY %d %ld\n", rank, (long)getpid());
    fflush(stdout);
    if (rank % 2 == 0) {
        int x;
        MPI_Recv(&x, 1, MPI_INT, MPI_ANY_SOURCE, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
        volatile unsigned long spin = 0;
        for (;;)
            spin++;
    }
    MPI_Finalize();
    return 0;
}
