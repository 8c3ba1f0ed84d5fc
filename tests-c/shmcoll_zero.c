/* Blocking collectives that move nothing (count 0): MPI_Bcast, MPI_Reduce and MPI_Allreduce
 * return at once, after their argument checks, as MPICH's and Open MPI's do:
 *  - the buffers are left untouched;
 *  - zero-count calls between ordinary ones (every root, alternately on the inline and the
 *    slot route) leave the ordinary ones right: no rank's call numbering drifts;
 *  - bad arguments are still refused with a count of 0: a root out of range, an op that
 *    does not apply to the datatype, MPI_OP_NULL, MPI_REPLACE and MPI_NO_OP,
 *    MPI_DATATYPE_NULL (accepted by MPI_Bcast only, as MPICH does); on MPI_COMM_WORLD and
 *    on a split; valid pairs of a predefined op and type are accepted;
 *  - the nonblocking forms of the same zero-count calls complete.
 */
#include "shmcoll.h"

int main(int argc, char **argv)
{
    ot_init("shmcoll_zero", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    MPI_Comm w = MPI_COMM_WORLD;
    for (int k = 0; k < 40; k++) {
        int root = k % size, n = k % 2 ? 3 : 600; /* 12 B inline, 2400 B a slot */
        int buf[600], out[600], in[600];
        for (int i = 0; i < 600; i++)
            buf[i] = out[i] = -7;
        MPI_CHECK(MPI_Bcast(buf, 0, MPI_INT, root, w));
        MPI_CHECK(MPI_Allreduce(buf, out, 0, MPI_INT, MPI_SUM, w));
        MPI_CHECK(MPI_Reduce(buf, out, 0, MPI_INT, MPI_SUM, root, w));
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, out, 0, MPI_INT, MPI_MAX, w));
        for (int i = 0; i < 600; i++)
            CHECK(buf[i] == -7 && out[i] == -7, "round %d: a zero-count call wrote element %d",
                  k, i);
        /* An ordinary bcast and allreduce between the zero-count ones. */
        for (int i = 0; i < n; i++)
            buf[i] = rank == root ? shm_val(root, i, k) : 0;
        MPI_CHECK(MPI_Bcast(buf, n, MPI_INT, root, w));
        for (int i = 0; i < n; i++)
            CHECK(buf[i] == shm_val(root, i, k), "round %d: bcast element %d = %d", k, i, buf[i]);
        for (int i = 0; i < n; i++)
            in[i] = shm_val(rank, i, k);
        MPI_CHECK(MPI_Allreduce(in, out, n, MPI_INT, MPI_SUM, w));
        for (int i = 0; i < n; i++) {
            int want = 0;
            for (int r = 0; r < size; r++)
                want += shm_val(r, i, k);
            CHECK(out[i] == want, "round %d: allreduce element %d = %d, want %d", k, i, out[i],
                  want);
        }
        MPI_CHECK(MPI_Barrier(w));
    }
    /* The checks still run when there is nothing to move. */
    MPI_CHECK(MPI_Comm_set_errhandler(w, MPI_ERRORS_RETURN));
    int x = 0, y = 0;
    CHECK_CLASS(MPI_Bcast(&x, 0, MPI_INT, size, w), MPI_ERR_ROOT);
    CHECK_CLASS(MPI_Reduce(&x, &y, 0, MPI_INT, MPI_SUM, -1, w), MPI_ERR_ROOT);
    CHECK_CLASS(MPI_Allreduce(&x, &y, 0, MPI_DOUBLE, MPI_BAND, w), MPI_ERR_OP);
    /* (MPICH names the op here, MPI_ERR_OP: no op is defined on no type.) */
    int rc = MPI_Allreduce(&x, &y, 0, MPI_DATATYPE_NULL, MPI_SUM, w), cls = MPI_SUCCESS;
    MPI_CHECK(MPI_Error_class(rc, &cls));
    CHECK(cls == MPI_ERR_TYPE || cls == MPI_ERR_OP,
          "allreduce of MPI_DATATYPE_NULL returned class %d", cls);
    CHECK_CLASS(MPI_Reduce(&x, &y, 0, MPI_INT, MPI_OP_NULL, 0, w), MPI_ERR_OP);
    /* The accumulate-only ops, refused whatever the type (the shortcut for a predefined op
     * on a predefined type must not let them through), and pairs that are valid. */
    CHECK_CLASS(MPI_Allreduce(&x, &y, 0, MPI_INT, MPI_REPLACE, w), MPI_ERR_OP);
    CHECK_CLASS(MPI_Reduce(&x, &y, 0, MPI_DOUBLE, MPI_NO_OP, 0, w), MPI_ERR_OP);
    CHECK_CLASS(MPI_Allreduce(&x, &y, 0, MPI_INT, MPI_MAXLOC, w), MPI_ERR_OP);
    CHECK_CLASS(MPI_Reduce(&x, &y, 0, MPI_2INT, MPI_SUM, 0, w), MPI_ERR_OP);
    MPI_CHECK(MPI_Allreduce(&x, &y, 0, MPI_2INT, MPI_MINLOC, w));
    MPI_CHECK(MPI_Reduce(&x, &y, 0, MPI_UNSIGNED_CHAR, MPI_BXOR, size - 1, w));
    MPI_CHECK(MPI_Allreduce(&x, &y, 0, MPI_DOUBLE, MPI_LOR, w));
    MPI_CHECK(MPI_Bcast(NULL, 0, MPI_DATATYPE_NULL, 0, w));
    /* A user type (nothing written either). */
    MPI_Datatype pair;
    MPI_CHECK(MPI_Type_contiguous(2, MPI_INT, &pair));
    MPI_CHECK(MPI_Type_commit(&pair));
    x = 5, y = 6;
    MPI_CHECK(MPI_Bcast(&x, 0, pair, size - 1, w));
    MPI_CHECK(MPI_Allreduce(&x, &y, 0, pair, MPI_SUM, w));
    MPI_CHECK(MPI_Reduce(&x, &y, 0, pair, MPI_PROD, size - 1, w));
    CHECK(x == 5 && y == 6, "zero-count calls of a user type wrote %d %d", x, y);
    MPI_CHECK(MPI_Type_free(&pair));
    /* The same on a communicator of the user's (a split, ranks reversed). */
    MPI_Comm rev;
    MPI_CHECK(MPI_Comm_split(w, 0, size - rank, &rev));
    MPI_CHECK(MPI_Comm_set_errhandler(rev, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Bcast(&x, 0, MPI_INT, size - 1, rev));
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &y, 0, MPI_INT, MPI_SUM, rev));
    CHECK_CLASS(MPI_Bcast(&x, 0, MPI_INT, -1, rev), MPI_ERR_ROOT);
    CHECK(x == 5 && y == 6, "zero-count calls on a split wrote %d %d", x, y);
    MPI_CHECK(MPI_Comm_free(&rev));
    /* Nonblocking zero-count calls complete. */
    MPI_Request rq[3];
    MPI_CHECK(MPI_Ibcast(&x, 0, MPI_INT, 0, w, &rq[0]));
    MPI_CHECK(MPI_Iallreduce(&x, &y, 0, MPI_INT, MPI_SUM, w, &rq[1]));
    MPI_CHECK(MPI_Ireduce(&x, &y, 0, MPI_INT, MPI_SUM, 0, w, &rq[2]));
    MPI_CHECK(MPI_Waitall(3, rq, MPI_STATUSES_IGNORE));
    return ot_pass();
}
