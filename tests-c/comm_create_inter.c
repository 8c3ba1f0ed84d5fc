/* MPI_Comm_create on an intercommunicator (MPI-2.2 and later; MPICH's MPIR_Comm_create_inter):
 * the group is a subgroup of the local group; the result is an intercommunicator between the
 * processes of both sides that passed non-empty groups, MPI_COMM_NULL where the caller is not
 * in its group or where the other side passed an empty group. Test harnesses build their
 * intercommunicators this way, so the result must carry traffic, collectives, probe, names,
 * dup and split. MPI_Comm_create_group stays intracommunicator-only (MPICH: MPI_ERR_COMM). */
#include "oxitest.h"

/* Checks `ic` is an intercommunicator with the given local/remote sizes and exchanges data
 * and a collective over it. `side` is 0 or 1. */
static void exercise(MPI_Comm ic, int side, int lsize, int rsize)
{
    int flag, s, rs, r;
    MPI_CHECK(MPI_Comm_test_inter(ic, &flag));
    CHECK(flag, "result is not an intercommunicator");
    MPI_CHECK(MPI_Comm_size(ic, &s));
    MPI_CHECK(MPI_Comm_remote_size(ic, &rs));
    CHECK(s == lsize && rs == rsize, "sizes %d/%d, expected %d/%d", s, rs, lsize, rsize);
    MPI_CHECK(MPI_Comm_rank(ic, &r));
    /* point-to-point with the remote rank of the same index (or 0), probe first */
    int peer = r < rs ? r : 0;
    int out = 1000 * side + r, in = -1;
    MPI_Request rq;
    MPI_CHECK(MPI_Isend(&out, 1, MPI_INT, peer, 5, ic, &rq));
    /* the remote ranks that target me: every remote q with (q < lsize ? q : 0) == r */
    for (int q = 0; q < rs; q++) {
        if ((q < lsize ? q : 0) != r)
            continue;
        MPI_Status st;
        MPI_CHECK(MPI_Probe(q, 5, ic, &st));
        CHECK(st.MPI_SOURCE == q, "probe source %d, expected %d", st.MPI_SOURCE, q);
        MPI_CHECK(MPI_Recv(&in, 1, MPI_INT, q, 5, ic, MPI_STATUS_IGNORE));
        CHECK(in == 1000 * (1 - side) + q, "got %d from remote %d", in, q);
    }
    MPI_CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
    /* intercommunicator allreduce: I get the sum over the remote group */
    int sum = -1, mine = side ? 1 : 2;
    MPI_CHECK(MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, ic));
    CHECK(sum == rsize * (side ? 2 : 1), "allreduce gave %d", sum);
    /* names, dup and split work on it */
    char name[MPI_MAX_OBJECT_NAME];
    int len;
    MPI_CHECK(MPI_Comm_set_name(ic, "created-inter"));
    MPI_CHECK(MPI_Comm_get_name(ic, name, &len));
    CHECK(strcmp(name, "created-inter") == 0, "name '%s'", name);
    MPI_Comm d, sp;
    MPI_CHECK(MPI_Comm_dup(ic, &d));
    MPI_CHECK(MPI_Comm_remote_size(d, &rs));
    CHECK(rs == rsize, "dup remote size %d", rs);
    MPI_CHECK(MPI_Barrier(d));
    MPI_CHECK(MPI_Comm_free(&d));
    MPI_CHECK(MPI_Comm_split(ic, 0, r, &sp));
    CHECK(sp != MPI_COMM_NULL, "split of the created intercommunicator gave MPI_COMM_NULL");
    MPI_CHECK(MPI_Comm_remote_size(sp, &rs));
    CHECK(rs == rsize, "split remote size %d", rs);
    MPI_CHECK(MPI_Comm_free(&sp));
}

int main(int argc, char **argv)
{
    ot_init("comm_create_inter", &argc, &argv);
    int me = ot_rank, n = ot_size;
    if (n < 2) {
        /* an intercommunicator needs two sides */
        return ot_pass();
    }
    int side = me % 2;
    MPI_Comm half, inter, nc;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, side, me, &half));
    MPI_CHECK(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, side ? 0 : 1, 9, &inter));
    int lsize, rsize, r;
    MPI_CHECK(MPI_Comm_size(inter, &lsize));
    MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
    MPI_CHECK(MPI_Comm_rank(inter, &r));
    MPI_Group local, sub, empty = MPI_GROUP_EMPTY;
    MPI_CHECK(MPI_Comm_group(inter, &local));

    /* 1. the whole local group on both sides: same shape as the parent */
    MPI_CHECK(MPI_Comm_create(inter, local, &nc));
    CHECK(nc != MPI_COMM_NULL, "whole group gave MPI_COMM_NULL");
    exercise(nc, side, lsize, rsize);
    MPI_Group g;
    int cmp;
    MPI_CHECK(MPI_Comm_remote_group(nc, &g));
    MPI_Group pr;
    MPI_CHECK(MPI_Comm_remote_group(inter, &pr));
    MPI_CHECK(MPI_Group_compare(g, pr, &cmp));
    CHECK(cmp == MPI_IDENT, "remote group differs from the parent's (%d)", cmp);
    MPI_CHECK(MPI_Group_free(&g));
    MPI_CHECK(MPI_Group_free(&pr));
    MPI_CHECK(MPI_Comm_free(&nc));

    /* 2. subgroups: side 0 keeps its ranks in reverse order but drops its last rank (if it
     * has more than one); side 1 keeps only its rank 0. */
    int keep[64], nk = 0;
    if (side == 0) {
        int top = lsize > 1 ? lsize - 2 : 0;
        for (int i = top; i >= 0; i--)
            keep[nk++] = i;
    } else {
        keep[nk++] = 0;
    }
    MPI_CHECK(MPI_Group_incl(local, nk, keep, &sub));
    MPI_CHECK(MPI_Comm_create(inter, sub, &nc));
    int in_sub = 0, pos = -1;
    for (int i = 0; i < nk; i++)
        if (keep[i] == r) {
            in_sub = 1;
            pos = i;
        }
    if (!in_sub) {
        CHECK(nc == MPI_COMM_NULL, "rank %d is not in its group but got a communicator", r);
    } else {
        CHECK(nc != MPI_COMM_NULL, "rank %d is in its group but got MPI_COMM_NULL", r);
        int nr;
        MPI_CHECK(MPI_Comm_rank(nc, &nr));
        CHECK(nr == pos, "rank in the new intercommunicator %d, expected %d", nr, pos);
        int other_nk = side == 0 ? 1 : (rsize > 1 ? rsize - 1 : 1);
        exercise(nc, side, nk, other_nk);
        MPI_CHECK(MPI_Comm_free(&nc));
    }
    MPI_CHECK(MPI_Group_free(&sub));

    /* 3. side 1 passes MPI_GROUP_EMPTY: nobody gets a communicator (MPICH checks the remote
     * size and returns MPI_COMM_NULL on both sides). */
    MPI_CHECK(MPI_Comm_create(inter, side ? empty : local, &nc));
    CHECK(nc == MPI_COMM_NULL, "an empty remote group must give MPI_COMM_NULL");

    /* 4. Comm_create_group stays intracommunicator-only, as in MPICH (MPI_ERR_COMM). */
    MPI_CHECK(MPI_Comm_set_errhandler(inter, MPI_ERRORS_RETURN));
    CHECK_CLASS(MPI_Comm_create_group(inter, local, 3, &nc), MPI_ERR_COMM);

    /* 5. the parent still works afterwards */
    int one = 1, tot = 0;
    MPI_CHECK(MPI_Allreduce(&one, &tot, 1, MPI_INT, MPI_SUM, inter));
    CHECK(tot == rsize, "parent allreduce %d", tot);

    MPI_CHECK(MPI_Group_free(&local));
    MPI_CHECK(MPI_Comm_free(&inter));
    MPI_CHECK(MPI_Comm_free(&half));
    return ot_pass();
}
