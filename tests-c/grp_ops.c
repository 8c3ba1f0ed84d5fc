/* Groups: set operations, incl/excl/ranges, translate_ranks, compare, MPI_UNDEFINED. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("grp_ops", &argc, &argv);
    MPI_Group world, g, h, u;
    int n, r, res;
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &world));
    MPI_CHECK(MPI_Group_size(world, &n));
    CHECK(n == ot_size, "size %d", n);
    MPI_CHECK(MPI_Group_rank(world, &r));
    CHECK(r == ot_rank, "rank %d", r);

    /* reversed order */
    int rev[64];
    for (int i = 0; i < n; i++)
        rev[i] = n - 1 - i;
    MPI_CHECK(MPI_Group_incl(world, n, rev, &g));
    MPI_CHECK(MPI_Group_rank(g, &r));
    CHECK(r == n - 1 - ot_rank, "reversed rank %d", r);
    MPI_CHECK(MPI_Group_compare(world, g, &res));
    CHECK(res == (n == 1 ? MPI_IDENT : MPI_SIMILAR), "compare %d", res);
    int in[64], out[64];
    for (int i = 0; i < n; i++)
        in[i] = i;
    MPI_CHECK(MPI_Group_translate_ranks(world, n, in, g, out));
    for (int i = 0; i < n; i++)
        CHECK(out[i] == n - 1 - i, "translate %d -> %d", i, out[i]);

    /* excl rank 0: rank 0 is MPI_UNDEFINED in it */
    int zero = 0;
    MPI_CHECK(MPI_Group_excl(world, 1, &zero, &h));
    MPI_CHECK(MPI_Group_size(h, &r));
    CHECK(r == n - 1, "excl size %d", r);
    MPI_CHECK(MPI_Group_rank(h, &r));
    CHECK(r == (ot_rank == 0 ? MPI_UNDEFINED : ot_rank - 1), "excl rank %d", r);
    MPI_CHECK(MPI_Group_translate_ranks(world, 1, &zero, h, out));
    CHECK(out[0] == MPI_UNDEFINED, "translate of excluded %d", out[0]);
    int pn = MPI_PROC_NULL;
    MPI_CHECK(MPI_Group_translate_ranks(world, 1, &pn, g, out));
    CHECK(out[0] == MPI_PROC_NULL, "translate PROC_NULL %d", out[0]);

    /* union(h, g) has every rank, in h's order then 0 */
    MPI_CHECK(MPI_Group_union(h, g, &u));
    MPI_CHECK(MPI_Group_translate_ranks(u, n, in, world, out));
    for (int i = 0; i < n; i++)
        CHECK(out[i] == (i < n - 1 ? i + 1 : 0), "union[%d] = %d", i, out[i]);
    MPI_CHECK(MPI_Group_free(&u));

    /* intersection / difference */
    MPI_CHECK(MPI_Group_intersection(g, h, &u));
    MPI_CHECK(MPI_Group_size(u, &r));
    CHECK(r == n - 1, "intersection size %d", r);
    if (n > 1) {
        MPI_CHECK(MPI_Group_translate_ranks(u, 1, &zero, world, out));
        CHECK(out[0] == n - 1, "intersection keeps g's order: %d", out[0]);
    }
    MPI_CHECK(MPI_Group_free(&u));
    MPI_CHECK(MPI_Group_difference(world, h, &u));
    MPI_CHECK(MPI_Group_size(u, &r));
    CHECK(r == 1, "difference size %d", r);
    MPI_CHECK(MPI_Group_free(&u));
    MPI_CHECK(MPI_Group_difference(h, world, &u));
    CHECK(u == MPI_GROUP_EMPTY, "empty difference is MPI_GROUP_EMPTY");
    MPI_CHECK(MPI_Group_size(MPI_GROUP_EMPTY, &r));
    CHECK(r == 0, "empty size %d", r);
    MPI_CHECK(MPI_Group_rank(MPI_GROUP_EMPTY, &r));
    CHECK(r == MPI_UNDEFINED, "empty rank %d", r);

    /* ranges: even ranks ascending, then odd descending */
    int ranges[2][3] = {{0, n - 1, 2}, {n - 1 - (n % 2 == 0 ? 0 : 1), 1, -2}};
    int nr = n > 1 ? 2 : 1;
    MPI_CHECK(MPI_Group_range_incl(world, nr, ranges, &u));
    MPI_CHECK(MPI_Group_size(u, &r));
    CHECK(r == n, "range_incl size %d", r);
    MPI_CHECK(MPI_Group_translate_ranks(u, n, in, world, out));
    int k = 0;
    for (int i = 0; i < n; i += 2)
        CHECK(out[k++] == i, "range even");
    for (int i = (n % 2 == 0 ? n - 1 : n - 2); i >= 1; i -= 2)
        CHECK(out[k++] == i, "range odd");
    MPI_CHECK(MPI_Group_free(&u));
    int evens[1][3] = {{0, n - 1, 2}};
    MPI_CHECK(MPI_Group_range_excl(world, 1, evens, &u));
    MPI_CHECK(MPI_Group_size(u, &r));
    CHECK(r == n / 2, "range_excl size %d", r);
    MPI_CHECK(MPI_Group_free(&u));

    /* errors */
    /* errors not tied to a communicator: MPI 4 sends them to MPI_COMM_SELF's handler,
     * MPICH 4.0 to MPI_COMM_WORLD's: set both */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    int bad = n;
    CHECK_CLASS(MPI_Group_incl(world, 1, &bad, &u), MPI_ERR_RANK);
    MPI_Group gn = MPI_GROUP_NULL;
    CHECK(MPI_Group_size(gn, &r) != MPI_SUCCESS, "size of GROUP_NULL");

    MPI_CHECK(MPI_Group_free(&g));
    MPI_CHECK(MPI_Group_free(&h));
    CHECK(h == MPI_GROUP_NULL, "free sets NULL");
    MPI_CHECK(MPI_Group_free(&world));
    ot_pass();
    return 0;
}
