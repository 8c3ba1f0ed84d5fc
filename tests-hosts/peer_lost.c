/* peer_lost: a rank that dies while its peer on the other host waits on it over TCP.
 *
 * Ranks 0 and 3 (hosta and hostb at 2 hosts x 2 ranks) exchange one message, so the TCP
 * connections between them exist; then rank 3 prints "ready 3 pid P" and blocks in
 * MPI_Recv from rank 0, while rank 0 blocks in MPI_Recv from rank 3. Neither message is
 * ever sent: tests-hosts/run.sh kills rank 3 with SIGKILL and checks that the job ends
 * promptly with a message naming the lost rank (default errhandler), instead of rank 0
 * waiting forever. Ranks 1 and 2 wait in a barrier that never completes.
 */
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int rank, size, x = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 4) {
        fprintf(stderr, "peer_lost: run with 4 ranks\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (rank == 0) {
        MPI_Send(&x, 1, MPI_INT, 3, 1, MPI_COMM_WORLD);
        MPI_Recv(&x, 1, MPI_INT, 3, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Recv(&x, 1, MPI_INT, 3, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 3) {
        MPI_Recv(&x, 1, MPI_INT, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(&x, 1, MPI_INT, 0, 1, MPI_COMM_WORLD);
        printf("ready %d pid %d\n", rank, (int)getpid());
        fflush(stdout);
        MPI_Recv(&x, 1, MPI_INT, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
        MPI_Barrier(MPI_COMM_WORLD);
    }
    printf("peer_lost: rank %d was never meant to get here\n", rank);
    MPI_Finalize();
    return 1;
}
