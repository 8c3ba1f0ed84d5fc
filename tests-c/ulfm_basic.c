/* ULFM under mpiexec -disable-auto-cleanup: the last rank _exit()s; the others see
 * MPIX_ERR_PROC_FAILED from a receive from it, acknowledge the failure (get_acked names
 * it), revoke the world communicator (a pending receive ends with MPIX_ERR_REVOKED), shrink
 * it, run an allreduce on the shrunk communicator and check the value, and agree on a flag
 * (the AND of the survivors'). The job's exit code is the dead rank's (3), as hydra's.
 *
 * Ranks other than 0 may see rank 0's revoke before they learn of the failure (the revoke
 * and the launcher's notice race): their receive from the dead rank may then end with
 * MPIX_ERR_REVOKED instead, which the ULFM specification allows (a receive on a revoked
 * communicator ends with REVOKED). Such a rank waits for the failure with a receive from the
 * dead rank on a duplicate of the world made before it died (not revoked), which must end
 * with PROC_FAILED. Rank 0 revokes only after its own receive: PROC_FAILED only. */
#include "oxitest.h"
#include <unistd.h>

#define VICTIM_CODE 3

int main(int argc, char **argv)
{
    ot_init("ulfm_basic", &argc, &argv);
    MPI_Comm world = MPI_COMM_WORLD;
    MPI_CHECK(MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN));
    int victim = ot_size - 1, x = 0, cls = -1;
    CHECK(ot_size >= 2, "needs 2 ranks");
    MPI_Comm spare; /* not revoked: to learn of the failure after a revoke */
    MPI_CHECK(MPI_Comm_dup(world, &spare));
    if (ot_rank == victim) {
        /* Tell rank 0 we are about to go, so it can post its receive first. */
        MPI_CHECK(MPI_Send(&x, 1, MPI_INT, 0, 1, world));
        _exit(VICTIM_CODE);
    }
    if (ot_rank == 0)
        MPI_CHECK(MPI_Recv(&x, 1, MPI_INT, victim, 1, world, MPI_STATUS_IGNORE));

    /* A receive from the dead rank fails with PROC_FAILED (it never sends again). */
    int rc = MPI_Recv(&x, 1, MPI_INT, victim, 2, world, MPI_STATUS_IGNORE);
    MPI_Error_class(rc, &cls);
    if (ot_rank != 0 && cls == MPIX_ERR_REVOKED) {
        rc = MPI_Recv(&x, 1, MPI_INT, victim, 2, spare, MPI_STATUS_IGNORE);
        MPI_Error_class(rc, &cls);
    }
    CHECK(cls == MPIX_ERR_PROC_FAILED, "recv from the dead rank: class %d", cls);

    /* Acknowledge: get_acked names exactly the victim. */
    MPI_CHECK(MPIX_Comm_failure_ack(world));
    MPI_Group acked, wg;
    MPI_CHECK(MPIX_Comm_failure_get_acked(world, &acked));
    int n = -1, r = -1, vr = victim;
    MPI_CHECK(MPI_Group_size(acked, &n));
    CHECK(n == 1, "%d acked failures", n);
    MPI_CHECK(MPI_Comm_group(world, &wg));
    int zero = 0;
    MPI_CHECK(MPI_Group_translate_ranks(acked, 1, &zero, wg, &r));
    CHECK(r == vr, "acked rank %d, expected %d", r, vr);
    MPI_Group_free(&acked);
    MPI_Group_free(&wg);

    /* Revoke: rank 0 revokes; the others have a receive pending from rank 0 that ends
     * with REVOKED (rank 0 never sends it). */
    if (ot_rank == 0) {
        MPI_CHECK(MPIX_Comm_revoke(world));
    } else {
        rc = MPI_Recv(&x, 1, MPI_INT, 0, 3, world, MPI_STATUS_IGNORE);
        MPI_Error_class(rc, &cls);
        CHECK(cls == MPIX_ERR_REVOKED, "pending recv on a revoked comm: class %d", cls);
    }
#ifdef OXIMPI
    /* Later MPICH's name; MPICH 4.0.2's header (the ABI runs) does not declare it. */
    int revoked = 0;
    MPI_CHECK(MPIX_Comm_is_revoked(world, &revoked));
    CHECK(revoked, "comm not revoked");
    /* A revoked communicator refuses new operations at the call, even ones that would
     * complete locally (as mpi4py's test_ulfm checks): a send to MPI_PROC_NULL, a barrier. */
    {
        int e = MPI_Send(NULL, 0, MPI_BYTE, MPI_PROC_NULL, 0, world), c = -1;
        MPI_Error_class(e, &c);
        CHECK(c == MPIX_ERR_REVOKED, "send to MPI_PROC_NULL on a revoked comm: class %d", c);
        e = MPI_Barrier(world);
        MPI_Error_class(e, &c);
        CHECK(c == MPIX_ERR_REVOKED, "barrier on a revoked comm: class %d", c);
    }
#endif

    /* Shrink: the survivors, ranks in the old order. */
    MPI_Comm small;
    MPI_CHECK(MPIX_Comm_shrink(world, &small));
    int ss = -1, sr = -1;
    MPI_CHECK(MPI_Comm_size(small, &ss));
    MPI_CHECK(MPI_Comm_rank(small, &sr));
    CHECK(ss == ot_size - 1 && sr == ot_rank, "shrunk comm: size %d rank %d", ss, sr);
    int sum = 0, one = ot_rank + 1;
    MPI_CHECK(MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, small));
    CHECK(sum == ss * (ss + 1) / 2, "allreduce on the shrunk comm: %d", sum);

    /* Agree: the AND of the flags (rank 0 gives 0 in the second round). */
    int flag = 1;
    MPI_CHECK(MPIX_Comm_agree(small, &flag));
    CHECK(flag == 1, "agree(1): %d", flag);
    flag = ot_rank == 0 ? 0x6 : 0x7;
    MPI_CHECK(MPIX_Comm_agree(small, &flag));
    CHECK(flag == 0x6, "agree(AND): %#x", flag);
    /* On the old communicator (revoked, with an acked failure): agreement still works. */
    flag = 1;
    MPI_CHECK(MPIX_Comm_agree(world, &flag));
    CHECK(flag == 1, "agree on the revoked comm: %d", flag);

    MPI_CHECK(MPI_Barrier(small));
    if (ot_rank == 0) {
        printf("PASS ulfm_basic\n");
        fflush(stdout);
        fprintf(stderr, "ULFM_SURVIVORS_DONE\n");
    }
    MPI_Comm_free(&small);
    MPI_Comm_free(&spare);
    MPI_Finalize();
    return 0;
}
