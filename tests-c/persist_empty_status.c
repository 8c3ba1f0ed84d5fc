/* An inactive persistent request (never started, or started, completed and already waited
 * for) completes at once with the empty status: MPI_SOURCE = MPI_ANY_SOURCE, MPI_TAG =
 * MPI_ANY_TAG, MPI_ERROR = MPI_SUCCESS, count 0, not cancelled (issue 11 class 12). Checked
 * for Wait, Test, Waitall, Testall, Request_get_status(_all) and, where the standard makes
 * the any/some calls treat inactive requests like null ones, Waitany/Testany/Waitsome/
 * Testsome/Request_get_status_any/_some (index or outcount MPI_UNDEFINED, empty status).
 * (The MPI 4.1 Request_get_status_{any,all,some} only where mpi.h is MPI 4.1.)
 * The status is filled with garbage before each call, so every field must be written. */
#include "oxitest.h"

static void garbage(MPI_Status *s)
{
    memset(s, 0x5a, sizeof *s);
    s->MPI_SOURCE = 123;
    s->MPI_TAG = 456;
    s->MPI_ERROR = 789;
}

static void expect_empty(const MPI_Status *s, const char *what)
{
    int count = -1, flag = -1;
    MPI_CHECK(MPI_Get_count(s, MPI_INT, &count));
    MPI_CHECK(MPI_Test_cancelled(s, &flag));
    CHECK(s->MPI_SOURCE == MPI_ANY_SOURCE && s->MPI_TAG == MPI_ANY_TAG &&
              s->MPI_ERROR == MPI_SUCCESS && count == 0 && flag == 0,
          "%s: status source %d tag %d error %d count %d cancelled %d, expected the empty "
          "status",
          what, s->MPI_SOURCE, s->MPI_TAG, s->MPI_ERROR, count, flag);
}

/* Every completion call on the two inactive requests r[0..1]. */
static void check_all(MPI_Request *r, const char *when)
{
    char what[128];
    MPI_Status st, sts[2];
    int flag, idx, out, indices[2];
    for (int i = 0; i < 2; i++) {
        MPI_Request h = r[i];
        snprintf(what, sizeof what, "%s request %d: MPI_Wait", when, i);
        garbage(&st);
        MPI_CHECK(MPI_Wait(&h, &st));
        CHECK(h == r[i], "%s changed the handle", what);
        expect_empty(&st, what);
        snprintf(what, sizeof what, "%s request %d: MPI_Test", when, i);
        garbage(&st);
        flag = 0;
        MPI_CHECK(MPI_Test(&h, &flag, &st));
        CHECK(flag == 1 && h == r[i], "%s: flag %d", what, flag);
        expect_empty(&st, what);
        snprintf(what, sizeof what, "%s request %d: MPI_Request_get_status", when, i);
        garbage(&st);
        flag = 0;
        MPI_CHECK(MPI_Request_get_status(h, &flag, &st));
        CHECK(flag == 1, "%s: flag %d", what, flag);
        expect_empty(&st, what);
    }
    snprintf(what, sizeof what, "%s: MPI_Waitall", when);
    garbage(&sts[0]);
    garbage(&sts[1]);
    MPI_CHECK(MPI_Waitall(2, r, sts));
    expect_empty(&sts[0], what);
    expect_empty(&sts[1], what);
    snprintf(what, sizeof what, "%s: MPI_Testall", when);
    garbage(&sts[0]);
    garbage(&sts[1]);
    flag = 0;
    MPI_CHECK(MPI_Testall(2, r, &flag, sts));
    CHECK(flag == 1, "%s: flag %d", what, flag);
    expect_empty(&sts[0], what);
    expect_empty(&sts[1], what);
#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
    snprintf(what, sizeof what, "%s: MPI_Request_get_status_all", when);
    garbage(&sts[0]);
    garbage(&sts[1]);
    flag = 0;
    MPI_CHECK(MPI_Request_get_status_all(2, r, &flag, sts));
    CHECK(flag == 1, "%s: flag %d", what, flag);
    expect_empty(&sts[0], what);
    expect_empty(&sts[1], what);
#endif

    snprintf(what, sizeof what, "%s: MPI_Waitany", when);
    garbage(&st);
    idx = 7;
    MPI_CHECK(MPI_Waitany(2, r, &idx, &st));
    CHECK(idx == MPI_UNDEFINED, "%s: index %d", what, idx);
    expect_empty(&st, what);
    snprintf(what, sizeof what, "%s: MPI_Testany", when);
    garbage(&st);
    idx = 7;
    flag = 0;
    MPI_CHECK(MPI_Testany(2, r, &idx, &flag, &st));
    CHECK(flag == 1 && idx == MPI_UNDEFINED, "%s: flag %d index %d", what, flag, idx);
    expect_empty(&st, what);
#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
    snprintf(what, sizeof what, "%s: MPI_Request_get_status_any", when);
    garbage(&st);
    idx = 7;
    flag = 0;
    MPI_CHECK(MPI_Request_get_status_any(2, r, &idx, &flag, &st));
    CHECK(flag == 1 && idx == MPI_UNDEFINED, "%s: flag %d index %d", what, flag, idx);
    expect_empty(&st, what);
#endif
    snprintf(what, sizeof what, "%s: MPI_Waitsome", when);
    out = 7;
    MPI_CHECK(MPI_Waitsome(2, r, &out, indices, sts));
    CHECK(out == MPI_UNDEFINED, "%s: outcount %d", what, out);
    snprintf(what, sizeof what, "%s: MPI_Testsome", when);
    out = 7;
    MPI_CHECK(MPI_Testsome(2, r, &out, indices, sts));
    CHECK(out == MPI_UNDEFINED, "%s: outcount %d", what, out);
#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
    snprintf(what, sizeof what, "%s: MPI_Request_get_status_some", when);
    out = 7;
    MPI_CHECK(MPI_Request_get_status_some(2, r, &out, indices, sts));
    CHECK(out == MPI_UNDEFINED, "%s: outcount %d", what, out);
#endif
}

int main(int argc, char **argv)
{
    ot_init("persist_empty_status", &argc, &argv);
    int peer = ot_size > 1 ? 1 - ot_rank : 0;
    if (ot_rank > 1)
        return ot_pass();
    int sbuf[4] = {1, 2, 3, 4}, rbuf[4];
    MPI_Request r[2];
    MPI_CHECK(MPI_Send_init(sbuf, 4, MPI_INT, peer, 3, MPI_COMM_WORLD, &r[0]));
    MPI_CHECK(MPI_Recv_init(rbuf, 4, MPI_INT, peer, 3, MPI_COMM_WORLD, &r[1]));
    check_all(r, "never started");
    /* One real round: the receive's status is the message's... */
    MPI_Status sts[2];
    MPI_CHECK(MPI_Startall(2, r));
    MPI_CHECK(MPI_Waitall(2, r, sts));
    int count = -1;
    MPI_CHECK(MPI_Get_count(&sts[1], MPI_INT, &count));
    CHECK(sts[1].MPI_SOURCE == peer && sts[1].MPI_TAG == 3 && count == 4,
          "round's receive status: source %d tag %d count %d", sts[1].MPI_SOURCE,
          sts[1].MPI_TAG, count);
    CHECK(rbuf[3] == 4, "round's data: %d", rbuf[3]);
    /* ... and once waited for, the requests are inactive again: empty statuses. */
    check_all(r, "after a round");
    /* Same for a persistent collective. */
    MPI_Request b[2];
    MPI_CHECK(MPI_Barrier_init(MPI_COMM_SELF, MPI_INFO_NULL, &b[0]));
    MPI_CHECK(MPI_Barrier_init(MPI_COMM_SELF, MPI_INFO_NULL, &b[1]));
    check_all(b, "persistent barrier");
    MPI_CHECK(MPI_Request_free(&b[0]));
    MPI_CHECK(MPI_Request_free(&b[1]));
    MPI_CHECK(MPI_Request_free(&r[0]));
    MPI_CHECK(MPI_Request_free(&r[1]));
    return ot_pass();
}
