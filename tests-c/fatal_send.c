/* The default error handler (MPI_ERRORS_ARE_FATAL): rank 1 sends to an invalid rank; the
 * job must end with a non-zero exit code and a message on stderr naming MPI_Send (the
 * manifest checks both). Rank 0 blocks in a receive that never matches: the launcher must
 * end it too. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("fatal_send", &argc, &argv);
    int buf = 0;
    if (ot_rank == ot_size - 1) {
        MPI_Send(&buf, 1, MPI_INT, ot_size + 5, 0, MPI_COMM_WORLD);
        fprintf(stderr, "fatal_send: MPI_Send to an invalid rank returned\n");
        return 3;
    }
    MPI_Recv(&buf, 1, MPI_INT, ot_size - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    fprintf(stderr, "fatal_send: rank %d received an unexpected message\n", ot_rank);
    return 3;
}
