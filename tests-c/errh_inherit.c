/* A new communicator inherits its parent's errhandler (MPI 4.1 §9.3), for every constructor:
 * dup, dup_with_info, idup, split, split_type, Cart/Graph/Dist_graph creation, Intercomm_create
 * (from local_comm), and the handler argument of Comm_create_from_group. A real error on the
 * new communicator must reach the parent's user handler and return its code.
 * MPICH 4.0.2 leaves the results of Comm_create, Comm_create_group, Intercomm_merge and
 * Cart_sub without a handler (they follow MPI_COMM_WORLD's); those are checked under a
 * MPI_COMM_WORLD parent with MPI_ERRORS_RETURN, where both readings agree. */
#include "oxitest.h"

static int calls;
static MPI_Comm last_comm;
static void handler(MPI_Comm *c, int *code, ...)
{
    calls++;
    last_comm = *c;
    (void)code;
}

/* An error on `c` (a send to a rank that does not exist) must reach `handler` (`via_user`),
 * or else come back as a code without calling it (MPI_ERRORS_RETURN in force). */
static void expect(const char *what, MPI_Comm c, int via_user)
{
    CHECK(c != MPI_COMM_NULL, "%s gave MPI_COMM_NULL", what);
    int before = calls, rc = MPI_Send(NULL, 0, MPI_INT, 1000, 0, c), cls;
    CHECK(rc != MPI_SUCCESS, "%s: send to rank 1000 succeeded", what);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_RANK, "%s: class %d, expected MPI_ERR_RANK", what, cls);
    if (!via_user) {
        CHECK(calls == before, "%s: a user handler was called", what);
        return;
    }
    CHECK(calls == before + 1, "%s: the inherited user handler was not called", what);
    CHECK(last_comm == c, "%s: the handler got another communicator", what);
    MPI_Errhandler e;
    MPI_CHECK(MPI_Comm_get_errhandler(c, &e));
    CHECK(e != MPI_ERRORS_ARE_FATAL && e != MPI_ERRORS_RETURN, "%s: get_errhandler gave a predefined handler", what);
    MPI_CHECK(MPI_Errhandler_free(&e));
}

#define expect_handler(what, c) expect(what, c, 1)
#define expect_return(what, c) expect(what, c, 0)

int main(int argc, char **argv)
{
    ot_init("errh_inherit", &argc, &argv);
    int me = ot_rank, n = ot_size;
    MPI_Errhandler eh;
    MPI_CHECK(MPI_Comm_create_errhandler(handler, &eh));
    MPI_Comm p, c;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &p));
    MPI_CHECK(MPI_Comm_set_errhandler(p, eh));

    MPI_CHECK(MPI_Comm_dup(p, &c));
    expect_handler("Comm_dup", c);
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_CHECK(MPI_Comm_dup_with_info(p, MPI_INFO_NULL, &c));
    expect_handler("Comm_dup_with_info", c);
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_Request rq;
    MPI_CHECK(MPI_Comm_idup(p, &c, &rq));
    MPI_CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
    expect_handler("Comm_idup", c);
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_CHECK(MPI_Comm_split(p, me % 2, n - me, &c));
    expect_handler("Comm_split", c);
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_CHECK(MPI_Comm_split_type(p, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &c));
    expect_handler("Comm_split_type", c);
    MPI_CHECK(MPI_Comm_free(&c));

    int dims[1] = {n}, periods[1] = {1};
    MPI_CHECK(MPI_Cart_create(p, 1, dims, periods, 0, &c));
    expect_handler("Cart_create", c);
    MPI_CHECK(MPI_Comm_free(&c));
    int *index = ot_malloc(sizeof(int) * n), edges[1];
    for (int i = 0; i < n; i++)
        index[i] = 0;
    MPI_CHECK(MPI_Graph_create(p, n, index, edges, 0, &c));
    expect_handler("Graph_create", c);
    MPI_CHECK(MPI_Comm_free(&c));
    free(index);
    MPI_CHECK(MPI_Dist_graph_create_adjacent(p, 0, NULL, MPI_UNWEIGHTED, 0, NULL, MPI_UNWEIGHTED,
                                             MPI_INFO_NULL, 0, &c));
    expect_handler("Dist_graph_create_adjacent", c);
    MPI_CHECK(MPI_Comm_free(&c));
    int src = me, deg = 1, dst = (me + 1) % n;
    MPI_CHECK(MPI_Dist_graph_create(p, 1, &src, &deg, &dst, MPI_UNWEIGHTED, MPI_INFO_NULL, 0, &c));
    expect_handler("Dist_graph_create", c);
    MPI_CHECK(MPI_Comm_free(&c));

    if (n >= 2) {
        MPI_Comm half, inter;
        MPI_CHECK(MPI_Comm_split(p, me % 2, me, &half));
        MPI_CHECK(MPI_Intercomm_create(half, 0, p, me % 2 ? 0 : 1, 11, &inter));
        expect_handler("Intercomm_create", inter);
        MPI_CHECK(MPI_Comm_free(&inter));
        MPI_CHECK(MPI_Comm_free(&half));
    }

    /* The constructors from groups take the handler as an argument. */
    MPI_Session s;
    MPI_Group sg;
    MPI_CHECK(MPI_Session_init(MPI_INFO_NULL, MPI_ERRORS_RETURN, &s));
    MPI_CHECK(MPI_Group_from_session_pset(s, "mpi://WORLD", &sg));
    MPI_CHECK(MPI_Comm_create_from_group(sg, "errh_inherit", MPI_INFO_NULL, eh, &c));
    expect_handler("Comm_create_from_group", c);
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_CHECK(MPI_Group_free(&sg));
    MPI_CHECK(MPI_Session_finalize(&s));

    /* MPI_COMM_WORLD as the parent, with MPI_ERRORS_RETURN. */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_Group wg;
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    MPI_CHECK(MPI_Comm_create(MPI_COMM_WORLD, wg, &c));
    expect_return("Comm_create", c);
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_CHECK(MPI_Comm_create_group(MPI_COMM_WORLD, wg, 4, &c));
    expect_return("Comm_create_group", c);
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_CHECK(MPI_Group_free(&wg));
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, 0, 0, &c));
    expect_return("Comm_split of MPI_COMM_WORLD", c);
    MPI_CHECK(MPI_Comm_free(&c));
    if (n >= 2) {
        MPI_Comm half, inter, merged;
        MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 2, me, &half));
        MPI_CHECK(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, me % 2 ? 0 : 1, 12, &inter));
        expect_return("Intercomm_create of MPI_COMM_WORLD halves", inter);
        MPI_CHECK(MPI_Intercomm_merge(inter, 0, &merged));
        expect_return("Intercomm_merge", merged);
        MPI_CHECK(MPI_Comm_free(&merged));
        MPI_CHECK(MPI_Comm_free(&inter));
        MPI_CHECK(MPI_Comm_free(&half));
    }
    MPI_Comm cart, sub;
    int remain[1] = {1};
    MPI_CHECK(MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &cart));
    MPI_CHECK(MPI_Cart_sub(cart, remain, &sub));
    expect_return("Cart_sub", sub);
    MPI_CHECK(MPI_Comm_free(&sub));
    MPI_CHECK(MPI_Comm_free(&cart));

    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    MPI_CHECK(MPI_Errhandler_free(&eh));
    MPI_CHECK(MPI_Comm_free(&p));
    return ot_pass();
}
