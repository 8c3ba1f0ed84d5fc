/* MPI_Abort(MPI_COMM_WORLD, 7) on the last rank ends the whole job with exit code 7, while
 * the other ranks are blocked in a receive that never matches. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("abort7", &argc, &argv);
    int buf = 0;
    if (ot_rank == ot_size - 1) {
        MPI_Abort(MPI_COMM_WORLD, 7);
        fprintf(stderr, "abort7: MPI_Abort returned\n");
        return 3;
    }
    MPI_Recv(&buf, 1, MPI_INT, ot_size - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    fprintf(stderr, "abort7: rank %d received an unexpected message\n", ot_rank);
    return 3;
}
