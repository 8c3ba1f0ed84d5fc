/* Sessions can be created and finalized again and again, and the World model can still
 * start after the last one ended (issue 11 class 9; MPI 4.1 sections 11.2 and 11.3).
 *
 * Three rounds of: MPI_Session_init, a communicator from pset mpi://WORLD with a ring
 * exchange on it, MPI_Session_finalize. A datatype made in the first session is used in the
 * later ones (MPI 4.1 11.3.1: such handles outlive the session they were made in). Between
 * rounds MPI is not initialized (MPI_Initialized is 0, and stays 0 throughout). Then
 * MPI_Init, which must work, with MPI_COMM_WORLD traffic, and MPI_Finalize.
 *
 * MPICH 4.0.2 (ch4:ucx) means to allow this too but crashes in its netmod when the second
 * MPI_Session_init re-initializes it, hence skip=mpich in the manifest. */
#include "oxitest.h"

static MPI_Datatype pair = MPI_DATATYPE_NULL;

/* One session's life; returns this process's rank in mpi://WORLD. */
static int one_round(int round)
{
    MPI_Session s = MPI_SESSION_NULL;
    MPI_Group g;
    MPI_Comm c;
    int r, n, flag = -1;
    MPI_CHECK(MPI_Session_init(MPI_INFO_NULL, MPI_ERRORS_RETURN, &s));
    CHECK(s != MPI_SESSION_NULL, "round %d: MPI_Session_init gave MPI_SESSION_NULL", round);
    MPI_CHECK(MPI_Group_from_session_pset(s, "mpi://WORLD", &g));
    MPI_CHECK(MPI_Comm_create_from_group(g, "org.oximpi.test.sess_reinit", MPI_INFO_NULL,
                                  MPI_ERRORS_RETURN, &c));
    MPI_CHECK(MPI_Group_free(&g));
    MPI_CHECK(MPI_Comm_rank(c, &r));
    MPI_CHECK(MPI_Comm_size(c, &n));
    if (pair == MPI_DATATYPE_NULL) {
        MPI_CHECK(MPI_Type_contiguous(2, MPI_INT, &pair));
        MPI_CHECK(MPI_Type_commit(&pair));
    }
    int out[2] = {r, 100 * round + r}, in[2] = {-1, -1};
    int right = (r + 1) % n, left = (r + n - 1) % n;
    MPI_CHECK(MPI_Sendrecv(out, 1, pair, right, round, in, 1, pair, left, round, c,
                    MPI_STATUS_IGNORE));
    CHECK(in[0] == left && in[1] == 100 * round + left, "round %d: got {%d,%d} from %d", round,
       in[0], in[1], left);
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_CHECK(MPI_Session_finalize(&s));
    CHECK(s == MPI_SESSION_NULL, "round %d: MPI_Session_finalize did not reset the handle", round);
    MPI_CHECK(MPI_Initialized(&flag));
    CHECK(flag == 0, "round %d: MPI_Initialized is %d after sessions only", round, flag);
    return r;
}

int main(int argc, char **argv)
{
    int flag = -1, r = -1;
    ot_test_name = "sess_reinit";
    for (int round = 1; round <= 3; round++)
        r = one_round(round);

    /* The World model after the last session. */
    MPI_CHECK(MPI_Init(&argc, &argv));
    MPI_CHECK(MPI_Initialized(&flag));
    CHECK(flag == 1, "MPI_Initialized is %d after MPI_Init", flag);
    int wr, wn;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &wr));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &wn));
    CHECK(wr == r, "MPI_COMM_WORLD rank %d, mpi://WORLD rank %d", wr, r);
    int sum = -1, mine = wr + 1;
    MPI_CHECK(MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    CHECK(sum == wn * (wn + 1) / 2, "Allreduce gave %d", sum);
    MPI_CHECK(MPI_Type_free(&pair));
    if (wr == 0) {
        printf("PASS sess_reinit\n");
        fflush(stdout);
    }
    MPI_CHECK(MPI_Finalize());
    MPI_CHECK(MPI_Finalized(&flag));
    CHECK(flag == 1, "MPI_Finalized is %d", flag);
    return 0;
}
