/* ULFM without a failure, in any run: the nonblocking agreement and shrink
 * (MPIX_Comm_iagree, MPIX_Comm_ishrink), the MPI 6 draft's MPI_Comm_* names mpi4py uses,
 * MPIX_Comm_ack_failed, and the calls on an intercommunicator.
 * MPI_Comm_iagree is really nonblocking: as mpi4py's test_ulfm, one rank starts it, sees
 * MPI_Test report it pending while the others have not joined, and only then joins a barrier
 * that lets them start theirs; the flag is the AND of all (0b1011 & 0b1101 = 0b1001). */
#include "oxitest.h"

static int cls_of(int rc)
{
    int c = -1;
    MPI_Error_class(rc, &c);
    return c;
}

/* agree, iagree, shrink, ishrink and revoke on `comm` (intra or inter). */
static void exercise(MPI_Comm comm, int intra)
{
    int rank, size, flag, done = 0;
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    MPI_CHECK(MPI_Comm_size(comm, &size));

    for (int i = 0; i < 3; i++) {
        flag = i;
        MPI_CHECK(MPI_Comm_agree(comm, &flag));
        CHECK(flag == i, "MPI_Comm_agree(%d) gave %d", i, flag);
        MPI_Request req;
        flag = i + 5;
        MPI_CHECK(MPIX_Comm_iagree(comm, &flag, &req));
        MPI_CHECK(MPI_Wait(&req, MPI_STATUS_IGNORE));
        CHECK(flag == i + 5, "MPIX_Comm_iagree(%d) gave %d", i + 5, flag);
        CHECK(req == MPI_REQUEST_NULL, "request not freed by MPI_Wait");
    }

    if (intra && size > 1) {
        for (int root = 0; root < size; root++) {
            MPI_Request req;
            MPI_CHECK(MPI_Barrier(comm));
            if (rank == root) {
                flag = 0xb;
                MPI_CHECK(MPI_Comm_iagree(comm, &flag, &req));
                MPI_CHECK(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
                CHECK(!done, "iagree completed before the others joined");
                CHECK(flag == 0xb, "flag written before completion: %#x", flag);
                MPI_CHECK(MPI_Barrier(comm));
            } else {
                flag = 0xd;
                MPI_CHECK(MPI_Barrier(comm));
                MPI_CHECK(MPI_Comm_iagree(comm, &flag, &req));
            }
            MPI_CHECK(MPI_Wait(&req, MPI_STATUS_IGNORE));
            CHECK(flag == 0x9, "iagree AND: %#x, expected 0x9", flag);
        }
    }

    /* Shrink without a failure: the same ranks. */
    MPI_Comm s1, s2 = MPI_COMM_NULL;
    MPI_Request req;
    int ss, sr;
    MPI_CHECK(MPI_Comm_shrink(comm, &s1));
    MPI_CHECK(MPIX_Comm_ishrink(comm, &s2, &req));
    MPI_CHECK(MPI_Wait(&req, MPI_STATUS_IGNORE));
    CHECK(s2 != MPI_COMM_NULL, "ishrink gave MPI_COMM_NULL");
    MPI_Comm both[2] = {s1, s2};
    for (int k = 0; k < 2; k++) {
        MPI_CHECK(MPI_Comm_size(both[k], &ss));
        MPI_CHECK(MPI_Comm_rank(both[k], &sr));
        CHECK(ss == size && sr == rank, "shrink %d: size %d rank %d (want %d %d)", k, ss, sr,
              size, rank);
        int inter = 0;
        MPI_CHECK(MPI_Comm_test_inter(both[k], &inter));
        CHECK(inter == !intra, "shrink %d: test_inter %d", k, inter);
        if (!intra) {
            int rs, crs;
            MPI_CHECK(MPI_Comm_remote_size(both[k], &rs));
            MPI_CHECK(MPI_Comm_remote_size(comm, &crs));
            CHECK(rs == crs, "shrink %d: remote size %d, want %d", k, rs, crs);
        }
        /* The new communicator works. */
        int one = 1, sum = 0, want = intra ? size : 0;
        if (!intra)
            MPI_CHECK(MPI_Comm_remote_size(comm, &want));
        MPI_CHECK(MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, both[k]));
        CHECK(sum == want, "allreduce on shrink %d: %d, want %d", k, sum, want);
        MPI_CHECK(MPI_Comm_free(&both[k]));
    }

    /* Nothing failed: nothing to acknowledge. */
    int n = -1;
    MPI_CHECK(MPI_Comm_ack_failed(comm, 0, &n));
    CHECK(n == 0, "ack_failed(0): %d", n);
    MPI_CHECK(MPIX_Comm_ack_failed(comm, size, &n));
    CHECK(n == 0, "ack_failed(size): %d", n);
    MPI_Group g;
    MPI_CHECK(MPI_Comm_get_failed(comm, &g));
    int gs = -1;
    MPI_CHECK(MPI_Group_size(g, &gs));
    CHECK(gs == 0, "get_failed: %d members", gs);
    if (g != MPI_GROUP_EMPTY)
        MPI_Group_free(&g);
    int rc = MPI_Comm_ack_failed(comm, -1, &n);
    CHECK(cls_of(rc) == MPI_ERR_ARG, "ack_failed(-1): class %d", cls_of(rc));

    /* Revoke (rank 0 of the first group): everybody learns it. */
    int revoked = 0;
    MPI_CHECK(MPI_Comm_is_revoked(comm, &revoked));
    CHECK(!revoked, "revoked before anyone revoked it");
    /* Nobody revokes before everybody has looked. The barrier runs on a duplicate, which the
     * revoke does not touch: rank 0 may leave a barrier on `comm` and revoke it while another
     * rank still waits in that barrier, which the revoke then rightly ends with
     * MPI_ERR_REVOKED (seen over TCP at 3 ranks). */
    MPI_Comm sync;
    MPI_CHECK(MPI_Comm_dup(comm, &sync));
    MPI_CHECK(MPI_Barrier(sync));
    MPI_CHECK(MPI_Comm_free(&sync));
    int wrank;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &wrank));
    if (wrank == 0)
        MPI_CHECK(MPI_Comm_revoke(comm));
    /* A call that makes progress takes the notice in: MPI_Test of a receive nobody sends. */
    int never;
    MPI_Request pending;
    MPI_CHECK(MPI_Irecv(&never, 1, MPI_INT, 0, 1, MPI_COMM_SELF, &pending));
    while (!revoked) {
        int f;
        MPI_CHECK(MPI_Comm_is_revoked(comm, &revoked));
        MPI_CHECK(MPI_Test(&pending, &f, MPI_STATUS_IGNORE));
    }
    MPI_CHECK(MPI_Cancel(&pending));
    MPI_CHECK(MPI_Wait(&pending, MPI_STATUS_IGNORE));
    if (intra) {
        rc = MPI_Barrier(comm);
        CHECK(cls_of(rc) == MPI_ERR_REVOKED, "barrier on a revoked comm: class %d", cls_of(rc));
    }
    /* Agreement still works on a revoked communicator. */
    flag = 1;
    MPI_CHECK(MPI_Comm_agree(comm, &flag));
    CHECK(flag == 1, "agree on a revoked comm: %d", flag);
}

int main(int argc, char **argv)
{
    ot_init("ulfm_nb", &argc, &argv);
    CHECK(MPI_ERR_REVOKED == MPIX_ERR_REVOKED && MPI_ERR_PROC_FAILED == MPIX_ERR_PROC_FAILED &&
              MPI_ERR_PROC_FAILED_PENDING == MPIX_ERR_PROC_FAILED_PENDING,
          "MPI_ERR_ and MPIX_ERR_ ULFM classes differ");
    MPI_Comm dup;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
    MPI_CHECK(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN));
    exercise(dup, 1);
    MPI_CHECK(MPI_Comm_free(&dup));

    if (ot_size >= 2) {
        /* mpi4py's TestULFMInter: the lower and the upper half. */
        int color = ot_rank < ot_size / 2 ? 0 : 1;
        MPI_Comm half, inter;
        MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, color, 0, &half));
        MPI_CHECK(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, color == 0 ? ot_size / 2 : 0,
                                       7, &inter));
        MPI_CHECK(MPI_Comm_free(&half));
        MPI_CHECK(MPI_Comm_set_errhandler(inter, MPI_ERRORS_RETURN));
        exercise(inter, 0);
        MPI_CHECK(MPI_Comm_free(&inter));
    }
    ot_pass();
    return 0;
}
