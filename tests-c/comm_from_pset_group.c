/* MPI_Comm_create_from_group with a group made from a session's process set and then
 * modified (MPI_Group_incl / MPI_Group_excl): the members get a communicator of the
 * modified group, ranked in group order; a process outside the group that calls anyway gets
 * MPI_COMM_NULL, as in MPICH (which builds it on MPI_Comm_create_group). */
#include "oxitest.h"

int main(int argc, char **argv)
{
    MPI_Session s;
    MPI_Group wg, g;
    MPI_Comm c;
    ot_test_name = "comm_from_pset_group";
    MPI_CHECK(MPI_Session_init(MPI_INFO_NULL, MPI_ERRORS_RETURN, &s));
    MPI_CHECK(MPI_Group_from_session_pset(s, "mpi://WORLD", &wg));
    int me, n;
    MPI_CHECK(MPI_Group_rank(wg, &me));
    MPI_CHECK(MPI_Group_size(wg, &n));
    ot_rank = me;

    /* incl: the ranks in reverse order */
    int *ranks = ot_malloc(sizeof(int) * n);
    for (int i = 0; i < n; i++)
        ranks[i] = n - 1 - i;
    MPI_CHECK(MPI_Group_incl(wg, n, ranks, &g));
    MPI_CHECK(MPI_Comm_create_from_group(g, "pset-incl", MPI_INFO_NULL, MPI_ERRORS_RETURN, &c));
    CHECK(c != MPI_COMM_NULL, "incl group: MPI_COMM_NULL for a member");
    int r, sz;
    MPI_CHECK(MPI_Comm_rank(c, &r));
    MPI_CHECK(MPI_Comm_size(c, &sz));
    CHECK(r == n - 1 - me && sz == n, "incl group: rank %d size %d", r, sz);
    int sum = 0;
    MPI_CHECK(MPI_Allreduce(&me, &sum, 1, MPI_INT, MPI_SUM, c));
    CHECK(sum == n * (n - 1) / 2, "incl group: allreduce %d", sum);
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_CHECK(MPI_Group_free(&g));

    /* excl: drop rank 0 (when there is more than one process); rank 0 still calls */
    if (n > 1) {
        int zero = 0;
        MPI_CHECK(MPI_Group_excl(wg, 1, &zero, &g));
        MPI_CHECK(MPI_Comm_create_from_group(g, "pset-excl", MPI_INFO_NULL, MPI_ERRORS_RETURN, &c));
        if (me == 0) {
            CHECK(c == MPI_COMM_NULL, "excl group: a communicator for the excluded rank");
        } else {
            CHECK(c != MPI_COMM_NULL, "excl group: MPI_COMM_NULL for a member");
            MPI_CHECK(MPI_Comm_rank(c, &r));
            MPI_CHECK(MPI_Comm_size(c, &sz));
            CHECK(r == me - 1 && sz == n - 1, "excl group: rank %d size %d", r, sz);
            sum = 0;
            MPI_CHECK(MPI_Allreduce(&me, &sum, 1, MPI_INT, MPI_SUM, c));
            CHECK(sum == n * (n - 1) / 2, "excl group: allreduce %d", sum);
            MPI_CHECK(MPI_Comm_free(&c));
        }
        MPI_CHECK(MPI_Group_free(&g));
    }
    /* a final collective over the whole set, so everybody is done before finalizing */
    MPI_CHECK(MPI_Comm_create_from_group(wg, "pset-all", MPI_INFO_NULL, MPI_ERRORS_RETURN, &c));
    MPI_CHECK(MPI_Barrier(c));
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_CHECK(MPI_Group_free(&wg));
    free(ranks);
    if (me == 0) {
        printf("PASS %s\n", ot_test_name);
        fflush(stdout);
    }
    MPI_CHECK(MPI_Session_finalize(&s));
    return 0;
}
