/* A rank that exits (with status 0) without calling MPI_Finalize makes the job fail, even
 * though the other ranks finish normally... or wait for it: rank 0 waits for a message
 * from the vanished rank and must not hang. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("no_finalize", &argc, &argv);
    int buf = 0;
    if (ot_rank == ot_size - 1)
        exit(0); /* no MPI_Finalize */
    if (ot_rank == 0)
        MPI_Recv(&buf, 1, MPI_INT, ot_size - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Finalize();
    return 0;
}
