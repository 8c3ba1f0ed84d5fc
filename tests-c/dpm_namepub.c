/* The name service within one job, as MPICH's test suite exercises it (issue 11 class 8):
 * rank 0 publishes a service under a port name (any string: the name service does not
 * check it), the other ranks find it after a barrier, rank 0 unpublishes it, and then every
 * rank's MPI_Lookup_name fails with class MPI_ERR_NAME, and a second unpublish with
 * MPI_ERR_SERVICE.
 *
 * Only MPI_COMM_WORLD's errhandler is MPI_ERRORS_RETURN (MPI_COMM_SELF keeps the default):
 * the name functions have no communicator, and MPICH reports such errors through
 * MPI_COMM_WORLD's errhandler, so the failures must come back as codes. (What the issue
 * saw as "a name published by rank 0 is not found by rank 1" was the final, expected
 * failure ending the job instead of returning.) */
#include "oxitest.h"

#define SERVICE "oximpi-namepub-test"
#define PORT "otherhost:122"

int main(int argc, char **argv)
{
    ot_init("dpm_namepub", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    char port[MPI_MAX_PORT_NAME];
    if (ot_rank == 0)
        MPI_CHECK(MPI_Publish_name(SERVICE, MPI_INFO_NULL, PORT));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (ot_rank != 0) {
        port[0] = 0;
        MPI_CHECK(MPI_Lookup_name(SERVICE, MPI_INFO_NULL, port));
        CHECK(strcmp(port, PORT) == 0, "lookup gave '%s', expected '%s'", port, PORT);
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (ot_rank == 0)
        MPI_CHECK(MPI_Unpublish_name(SERVICE, MPI_INFO_NULL, PORT));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    CHECK_CLASS(MPI_Lookup_name(SERVICE, MPI_INFO_NULL, port), MPI_ERR_NAME);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (ot_rank == 0)
        CHECK_CLASS(MPI_Unpublish_name(SERVICE, MPI_INFO_NULL, PORT), MPI_ERR_SERVICE);
    return ot_pass();
}
