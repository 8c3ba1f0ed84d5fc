/* Comm_split by colour/key ordering, Comm_dup, compare, names, create, create_group,
 * split_type, idup, free. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("comm_split", &argc, &argv);
    int n = ot_size, me = ot_rank, r, s, res;
    MPI_Comm c, d;
    /* colour = rank % 2, key = -rank: reversed within each colour */
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 2, -me, &c));
    MPI_CHECK(MPI_Comm_size(c, &s));
    MPI_CHECK(MPI_Comm_rank(c, &r));
    int same = (me % 2 == 0) ? (n + 1) / 2 : n / 2;
    CHECK(s == same, "split size %d want %d", s, same);
    CHECK(r == same - 1 - me / 2, "split rank %d", r);
    /* traffic inside: ring */
    int token = me, got = -1;
    MPI_CHECK(MPI_Sendrecv(&token, 1, MPI_INT, (r + 1) % s, 5, &got, 1, MPI_INT, (r + s - 1) % s, 5, c, MPI_STATUS_IGNORE));
    int expect_world = 2 * (same - 1 - ((r + s - 1) % s)) + me % 2;
    CHECK(got == expect_world, "ring got %d want %d", got, expect_world);
    MPI_CHECK(MPI_Comm_compare(MPI_COMM_WORLD, c, &res));
    CHECK(res == (n == 1 ? MPI_CONGRUENT : MPI_UNEQUAL), "compare world/split %d", res);

    /* undefined colour */
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, me == 0 ? MPI_UNDEFINED : 1, 0, &d));
    CHECK((me == 0) == (d == MPI_COMM_NULL), "undefined colour");
    if (d != MPI_COMM_NULL)
        MPI_CHECK(MPI_Comm_free(&d));

    /* dup: congruent, names */
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &d));
    MPI_CHECK(MPI_Comm_compare(MPI_COMM_WORLD, d, &res));
    CHECK(res == MPI_CONGRUENT, "dup compare %d", res);
    MPI_CHECK(MPI_Comm_compare(d, d, &res));
    CHECK(res == MPI_IDENT, "self compare %d", res);
    char name[MPI_MAX_OBJECT_NAME];
    int len;
    MPI_CHECK(MPI_Comm_get_name(MPI_COMM_WORLD, name, &len));
    CHECK(strcmp(name, "MPI_COMM_WORLD") == 0 && len == 14, "world name '%s'", name);
    MPI_CHECK(MPI_Comm_get_name(MPI_COMM_SELF, name, &len));
    CHECK(strcmp(name, "MPI_COMM_SELF") == 0, "self name '%s'", name);
    MPI_CHECK(MPI_Comm_get_name(d, name, &len));
    CHECK(len == 0 && name[0] == 0, "dup has no name: '%s'", name);
    MPI_CHECK(MPI_Comm_set_name(d, "mine"));
    MPI_CHECK(MPI_Comm_get_name(d, name, &len));
    CHECK(strcmp(name, "mine") == 0 && len == 4, "set name '%s'", name);
    /* traffic on dup does not match world */
    if (n > 1) {
        int a = 1, b = 2, x = 0, y = 0;
        if (me == 0) {
            MPI_CHECK(MPI_Send(&a, 1, MPI_INT, 1, 0, d));
            MPI_CHECK(MPI_Send(&b, 1, MPI_INT, 1, 0, MPI_COMM_WORLD));
        } else if (me == 1) {
            MPI_CHECK(MPI_Recv(&y, 1, MPI_INT, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            MPI_CHECK(MPI_Recv(&x, 1, MPI_INT, 0, 0, d, MPI_STATUS_IGNORE));
            CHECK(x == 1 && y == 2, "contexts mixed: %d %d", x, y);
        }
    }
    MPI_CHECK(MPI_Comm_free(&d));
    CHECK(d == MPI_COMM_NULL, "free sets NULL");

    /* idup */
    MPI_Request rq;
    MPI_CHECK(MPI_Comm_idup(c, &d, &rq));
    MPI_CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
    MPI_CHECK(MPI_Comm_compare(c, d, &res));
    CHECK(res == MPI_CONGRUENT, "idup compare %d", res);
    MPI_CHECK(MPI_Comm_free(&d));

    /* create with the even ranks */
    MPI_Group wg, eg;
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    int evens[1][3] = {{0, n - 1, 2}};
    MPI_CHECK(MPI_Group_range_incl(wg, 1, evens, &eg));
    MPI_CHECK(MPI_Comm_create(MPI_COMM_WORLD, eg, &d));
    CHECK((me % 2 == 0) == (d != MPI_COMM_NULL), "create membership");
    if (d != MPI_COMM_NULL) {
        MPI_CHECK(MPI_Comm_rank(d, &r));
        CHECK(r == me / 2, "create rank %d", r);
        MPI_CHECK(MPI_Comm_free(&d));
    }
    /* create_group: only the evens call */
    if (me % 2 == 0) {
        MPI_CHECK(MPI_Comm_create_group(MPI_COMM_WORLD, eg, 7, &d));
        MPI_CHECK(MPI_Comm_size(d, &s));
        CHECK(s == (n + 1) / 2, "create_group size %d", s);
        int v = me, sum = 0;
        /* ring over d */
        MPI_CHECK(MPI_Comm_rank(d, &r));
        MPI_CHECK(MPI_Sendrecv(&v, 1, MPI_INT, (r + 1) % s, 1, &sum, 1, MPI_INT, (r + s - 1) % s, 1, d, MPI_STATUS_IGNORE));
        CHECK(sum == 2 * ((r + s - 1) % s), "create_group ring %d", sum);
        MPI_CHECK(MPI_Comm_free(&d));
    }
    MPI_CHECK(MPI_Group_free(&eg));
    MPI_CHECK(MPI_Group_free(&wg));

    /* split_type shared: one node here */
    MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &d));
    MPI_CHECK(MPI_Comm_size(d, &s));
    CHECK(s == n, "shared size %d", s);
    MPI_CHECK(MPI_Comm_free(&d));
    MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_UNDEFINED, 0, MPI_INFO_NULL, &d));
    CHECK(d == MPI_COMM_NULL, "undefined split_type");

    /* test_inter / remote_size on an intracomm */
    int flag = 1;
    MPI_CHECK(MPI_Comm_test_inter(c, &flag));
    CHECK(flag == 0, "test_inter");
    MPI_CHECK(MPI_Comm_free(&c));
    ot_pass();
    return 0;
}
