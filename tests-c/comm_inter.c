/* Intercomm_create (even/odd halves of WORLD), traffic both ways, remote size/group,
 * Comm_dup of the intercommunicator, Intercomm_merge with high/low ordering; plus a
 * user error class printed through a user errhandler. */
#include "oxitest.h"

static int handler_calls, last_code;
static void my_handler(MPI_Comm *c, int *code, ...)
{
    handler_calls++;
    last_code = *code;
}

int main(int argc, char **argv)
{
    ot_init("comm_inter", &argc, &argv);
    int me = ot_rank, n = ot_size, r, s, rs, flag;
    MPI_Comm half, inter, merged, idup;
    int color = me % 2;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, color, me, &half));
    /* leaders: world ranks 0 (even side) and 1 (odd side) */
    MPI_CHECK(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, color == 0 ? 1 : 0, 99, &inter));
    MPI_CHECK(MPI_Comm_test_inter(inter, &flag));
    CHECK(flag, "test_inter");
    MPI_CHECK(MPI_Comm_size(inter, &s));
    MPI_CHECK(MPI_Comm_remote_size(inter, &rs));
    int evens = (n + 1) / 2, odds = n / 2;
    CHECK(s == (color ? odds : evens) && rs == (color ? evens : odds), "sizes %d %d", s, rs);
    MPI_CHECK(MPI_Comm_rank(inter, &r));
    CHECK(r == me / 2, "inter rank %d", r);
    /* each rank r talks with remote rank r (if it exists): both directions */
    if (r < rs) {
        int out = me, in = -1;
        MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, r, 3, &in, 1, MPI_INT, r, 3, inter, MPI_STATUS_IGNORE));
        CHECK(in == (color ? me - 1 : me + 1), "inter traffic got %d", in);
    }
    MPI_Group rg, wg;
    MPI_CHECK(MPI_Comm_remote_group(inter, &rg));
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    int zero = 0, w;
    MPI_CHECK(MPI_Group_translate_ranks(rg, 1, &zero, wg, &w));
    CHECK(w == (color ? 0 : 1), "remote rank 0 is world %d", w);
    MPI_CHECK(MPI_Group_free(&rg));
    MPI_CHECK(MPI_Group_free(&wg));

    /* dup of the intercommunicator keeps its shape and separates traffic */
    MPI_CHECK(MPI_Comm_dup(inter, &idup));
    MPI_CHECK(MPI_Comm_remote_size(idup, &rs));
    CHECK(rs == (color ? evens : odds), "dup remote size %d", rs);
    if (r == 0) {
        int out = 10 + color, in = -1;
        MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, 0, 4, &in, 1, MPI_INT, 0, 4, idup, MPI_STATUS_IGNORE));
        CHECK(in == 11 - color, "dup traffic %d", in);
    }
    MPI_CHECK(MPI_Comm_free(&idup));

    /* merge: odd side high -> evens first */
    MPI_CHECK(MPI_Intercomm_merge(inter, color, &merged));
    MPI_CHECK(MPI_Comm_size(merged, &s));
    CHECK(s == n, "merged size %d", s);
    MPI_CHECK(MPI_Comm_rank(merged, &r));
    CHECK(r == (color ? evens + me / 2 : me / 2), "merged rank %d", r);
    int tok = me, got = -1;
    MPI_CHECK(MPI_Sendrecv(&tok, 1, MPI_INT, (r + 1) % s, 6, &got, 1, MPI_INT, (r + s - 1) % s, 6, merged, MPI_STATUS_IGNORE));
    int prev = (r + s - 1) % s;
    int prev_world = prev < evens ? 2 * prev : 2 * (prev - evens) + 1;
    CHECK(got == prev_world, "merged ring got %d want %d", got, prev_world);
    MPI_CHECK(MPI_Comm_free(&merged));
    MPI_CHECK(MPI_Comm_free(&inter));
    MPI_CHECK(MPI_Comm_free(&half));

    /* user error class through a user errhandler */
    int cls, code, c2;
    char msg[MPI_MAX_ERROR_STRING];
    int len;
    MPI_CHECK(MPI_Add_error_class(&cls));
    MPI_CHECK(MPI_Add_error_code(cls, &code));
    MPI_CHECK(MPI_Add_error_string(code, "my special error"));
    MPI_CHECK(MPI_Error_class(code, &c2));
    CHECK(c2 == cls, "class of user code %d vs %d", c2, cls);
    MPI_CHECK(MPI_Error_string(code, msg, &len));
    CHECK(strcmp(msg, "my special error") == 0, "string '%s'", msg);
    int *last;
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &last, &flag));
    CHECK(flag && *last >= code && *last >= cls, "LASTUSEDCODE %d < %d", *last, code);
    MPI_Errhandler eh;
    MPI_Comm d;
    MPI_CHECK(MPI_Comm_create_errhandler(my_handler, &eh));
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &d));
    MPI_CHECK(MPI_Comm_set_errhandler(d, eh));
    MPI_CHECK(MPI_Errhandler_free(&eh));
    MPI_CHECK(MPI_Comm_call_errhandler(d, code));
    CHECK(handler_calls == 1 && last_code == code, "handler calls %d", handler_calls);
    if (me == 0) {
        MPI_Error_string(last_code, msg, &len);
        printf("user error: %s\n", msg);
    }
    /* a real error on d goes to the handler too */
    int bad = n + 5, x = 0;
    int rc = MPI_Send(&x, 1, MPI_INT, bad, 0, d);
    CHECK(handler_calls == 2, "handler on real error: calls %d", handler_calls);
    MPI_CHECK(MPI_Error_class(rc, &c2));
    CHECK(c2 == MPI_ERR_RANK, "class %d", c2);
    MPI_CHECK(MPI_Comm_free(&d));
    ot_pass();
    return 0;
}
