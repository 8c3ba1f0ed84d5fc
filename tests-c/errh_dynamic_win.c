/* MPICH's dynamic default errhandler for windows: a window whose handler was never set
 * follows MPI_COMM_WORLD's at the time of the error (MPICH's MPIR_Err_return_win falls back
 * to MPIR_Err_return_comm), and MPI_Win_get_errhandler still reads MPI_ERRORS_ARE_FATAL. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("errh_dynamic_win", &argc, &argv);
    int buf[4] = {0};
    MPI_Win w;
    MPI_Errhandler e;
    MPI_CHECK(MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &w));
    MPI_CHECK(MPI_Win_get_errhandler(w, &e));
    CHECK(e == MPI_ERRORS_ARE_FATAL, "unset window handler reads as %#x", (unsigned)e);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Win_fence(0, w));
    CHECK_CLASS(MPI_Put(buf, 1, MPI_INT, 1000, 0, 1, MPI_INT, w), MPI_ERR_RANK);
    MPI_CHECK(MPI_Win_fence(0, w));
    MPI_CHECK(MPI_Win_get_errhandler(w, &e));
    CHECK(e == MPI_ERRORS_ARE_FATAL, "unset window handler reads as %#x", (unsigned)e);
    CHECK_CLASS(MPI_Win_fence(0, MPI_WIN_NULL), MPI_ERR_WIN);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    MPI_CHECK(MPI_Win_free(&w));
    return ot_pass();
}
