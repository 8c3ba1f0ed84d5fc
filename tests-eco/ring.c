/* A token passed around a ring, an allreduce, and the library's name: the program every
 * ecosystem path of tests-eco/run.sh builds and runs. Prints "ring ok: N ranks, LIBRARY"
 * from rank 0; exits non-zero on any wrong value. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    int rank, size, token = -1, sum = 0, len;
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > 1) {
        if (rank == 0) {
            token = 1000;
            MPI_Send(&token, 1, MPI_INT, 1, 7, MPI_COMM_WORLD);
            MPI_Recv(&token, 1, MPI_INT, size - 1, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(&token, 1, MPI_INT, rank - 1, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            token += rank;
            MPI_Send(&token, 1, MPI_INT, (rank + 1) % size, 7, MPI_COMM_WORLD);
        }
    }
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Get_library_version(lib, &len);
    if (sum != size * (size - 1) / 2 ||
        (rank == 0 && size > 1 && token != 1000 + size * (size - 1) / 2)) {
        fprintf(stderr, "ring: rank %d: sum %d token %d are wrong\n", rank, sum, token);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0)
        printf("ring ok: %d ranks, %s\n", size, strtok(lib, "\n"));
    MPI_Finalize();
    return 0;
}
