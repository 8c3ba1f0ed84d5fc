/* ULFM when rank 0 dies (the agreement's first coordinator): the others see
 * MPIX_ERR_PROC_FAILED_PENDING from an MPI_ANY_SOURCE receive until they acknowledge the
 * failure, then agree (the coordinator role moves to rank 1), shrink, and reduce on the
 * shrunk communicator. Run under -disable-auto-cleanup by ulfm_coord.sh. */
#include "oxitest.h"
#include <unistd.h>

int main(int argc, char **argv)
{
    ot_init("ulfm_coord", &argc, &argv);
    MPI_Comm world = MPI_COMM_WORLD;
    MPI_CHECK(MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN));
    int x = 0, cls = -1, rc;
    CHECK(ot_size >= 2, "needs 2 ranks");
    if (ot_rank == 0)
        _exit(3);

    /* Nobody sends: the wildcard receive ends when the failure is known. */
    rc = MPI_Recv(&x, 1, MPI_INT, MPI_ANY_SOURCE, 5, world, MPI_STATUS_IGNORE);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPIX_ERR_PROC_FAILED_PENDING, "wildcard recv: class %d", cls);
    /* Agreement before the acknowledgement: the AND still comes, with PROC_FAILED. */
    int flag = ot_rank == 1 ? 0x3 : 0x7;
    rc = MPIX_Comm_agree(world, &flag);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPIX_ERR_PROC_FAILED, "agree before ack: class %d", cls);
    CHECK(flag == 0x3, "agree before ack: flag %#x", flag);
    MPI_CHECK(MPIX_Comm_failure_ack(world));
    flag = 1;
    MPI_CHECK(MPIX_Comm_agree(world, &flag));
    CHECK(flag == 1, "agree after ack: flag %d", flag);

    MPI_Comm small;
    MPI_CHECK(MPIX_Comm_shrink(world, &small));
    int ss = -1, sr = -1;
    MPI_CHECK(MPI_Comm_size(small, &ss));
    MPI_CHECK(MPI_Comm_rank(small, &sr));
    CHECK(ss == ot_size - 1 && sr == ot_rank - 1, "shrunk: size %d rank %d", ss, sr);
    int mx = -1;
    MPI_CHECK(MPI_Allreduce(&ot_rank, &mx, 1, MPI_INT, MPI_MAX, small));
    CHECK(mx == ot_size - 1, "allreduce max %d", mx);
    MPI_CHECK(MPI_Barrier(small));
    if (sr == 0) {
        printf("PASS ulfm_coord\n");
        fflush(stdout);
    }
    MPI_Comm_free(&small);
    MPI_Finalize();
    return 0;
}
