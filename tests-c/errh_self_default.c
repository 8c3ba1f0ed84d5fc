/* The default errhandler of objects without one (and of errors that belong to no object) is
 * MPI_COMM_SELF's when the program set it (MPI 4: errors not tied to an object are raised on
 * MPI_COMM_SELF), else MPI_COMM_WORLD's (MPICH, MPI <= 3.1 programs). MPICH 4.0.2 only looks
 * at MPI_COMM_WORLD's, so this test does not run there. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("errh_self_default", &argc, &argv);
    MPI_Comm d;
    int x;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &d));
    /* MPI_COMM_SELF's handler serves objects without one, and no-object errors */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    CHECK_CLASS(MPI_Send(NULL, 0, MPI_INT, 1000, 0, d), MPI_ERR_RANK);
    CHECK_CLASS(MPI_Group_size(MPI_GROUP_NULL, &x), MPI_ERR_GROUP);
    /* ... before MPI_COMM_WORLD's */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    CHECK_CLASS(MPI_Comm_size(MPI_COMM_NULL, &x), MPI_ERR_COMM);
    /* but not before the object's own */
    MPI_CHECK(MPI_Comm_set_errhandler(d, MPI_ERRORS_RETURN));
    CHECK_CLASS(MPI_Send(NULL, 0, MPI_INT, 1000, 0, d), MPI_ERR_RANK);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL));
    CHECK_CLASS(MPI_Send(NULL, 0, MPI_INT, 1000, 0, d), MPI_ERR_RANK);
    MPI_CHECK(MPI_Comm_free(&d));
    return ot_pass();
}
