/* MPICH's extended generalized requests: poll_fn is called by the progress engine from
 * MPI_Test/MPI_Wait (and any wait) until it completes the request; a class's wait_fn is
 * called by MPI_Wait and MPI_Waitall with the extra states of its incomplete requests. */
#include "oxitest.h"

typedef struct {
    MPI_Request req;
    int polls;      /* poll_fn calls */
    int complete_at; /* poll_fn completes the request at this call */
    int waits;      /* wait_fn calls that named this request */
    int freed;
    int value;
} state_t;

static int query_fn(void *extra, MPI_Status *status)
{
    state_t *s = extra;
    MPI_Status_set_elements(status, MPI_INT, 1);
    MPI_Status_set_cancelled(status, 0);
    status->MPI_SOURCE = MPI_UNDEFINED;
    status->MPI_TAG = s->value;
    return MPI_SUCCESS;
}
static int free_fn(void *extra)
{
    ((state_t *)extra)->freed++;
    return MPI_SUCCESS;
}
static int cancel_fn(void *extra, int complete)
{
    (void)extra;
    (void)complete;
    return MPI_SUCCESS;
}
static int poll_fn(void *extra, MPI_Status *status)
{
    state_t *s = extra;
    (void)status;
    if (++s->polls == s->complete_at)
        MPI_Grequest_complete(s->req);
    return MPI_SUCCESS;
}
/* MPICH requires all five callbacks: the poll-driven requests get a wait_fn that only
 * lets progress (and so poll_fn) run. */
static int idle_wait_fn(int count, void **states, double timeout, MPI_Status *status)
{
    (void)count;
    (void)states;
    (void)timeout;
    (void)status;
    return MPI_SUCCESS;
}
static int wait_calls;
static int wait_fn(int count, void **states, double timeout, MPI_Status *status)
{
    (void)timeout;
    (void)status;
    wait_calls++;
    for (int i = 0; i < count; i++) {
        state_t *s = states[i];
        s->waits++;
        MPI_Grequest_complete(s->req);
    }
    return MPI_SUCCESS;
}

int main(int argc, char **argv)
{
    ot_init("mpix_grequest", &argc, &argv);
    MPI_Status st;
    int flag, count;

    /* poll_fn: MPI_Test drives it; the request completes at the third poll. */
    state_t a = {.complete_at = 3, .value = 7};
    MPI_CHECK(MPIX_Grequest_start(query_fn, free_fn, cancel_fn, poll_fn, idle_wait_fn, &a, &a.req));
    MPI_Request ha = a.req;
    int tests = 0;
    do {
        MPI_CHECK(MPI_Test(&ha, &flag, &st));
        tests++;
        CHECK(tests < 1000, "poll_fn never completed the request");
    } while (!flag);
    CHECK(a.polls == 3, "%d polls", a.polls);
    CHECK(ha == MPI_REQUEST_NULL && a.freed == 1, "request not freed");
    CHECK(st.MPI_TAG == 7, "query_fn's status not returned (tag %d)", st.MPI_TAG);
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 1, "count %d", count);

    /* poll_fn under MPI_Wait (whose wait_fn returns without completing anything). */
    state_t b = {.complete_at = 5, .value = 8};
    MPI_CHECK(MPIX_Grequest_start(query_fn, free_fn, cancel_fn, poll_fn, idle_wait_fn, &b, &b.req));
    MPI_Request hb = b.req;
    MPI_CHECK(MPI_Wait(&hb, &st));
    CHECK(b.polls == 5 && b.freed == 1 && st.MPI_TAG == 8, "wait: polls %d freed %d tag %d",
          b.polls, b.freed, st.MPI_TAG);

    /* A class with a wait_fn: MPI_Waitall calls it once per request (MPICH 4.0.2). */
    MPIX_Grequest_class cls;
    MPI_CHECK(MPIX_Grequest_class_create(query_fn, free_fn, cancel_fn, poll_fn, wait_fn, &cls));
    state_t c = {.value = 9, .complete_at = -1}, d = {.value = 10, .complete_at = -1};
    MPI_CHECK(MPIX_Grequest_class_allocate(cls, &c, &c.req));
    MPI_CHECK(MPIX_Grequest_class_allocate(cls, &d, &d.req));
    MPI_Request hs[2] = {c.req, d.req};
    MPI_Status sts[2];
    MPI_CHECK(MPI_Waitall(2, hs, sts));
    CHECK(wait_calls == 2 && c.waits == 1 && d.waits == 1, "wait_fn calls %d (%d, %d)",
          wait_calls, c.waits, d.waits);
    CHECK(sts[0].MPI_TAG == 9 && sts[1].MPI_TAG == 10, "statuses %d %d", sts[0].MPI_TAG,
          sts[1].MPI_TAG);
    CHECK(c.freed == 1 && d.freed == 1, "free_fn not run");

    /* MPI_Wait on one request of the class: MPICH 4.0.2 polls it, without wait_fn. */
    state_t e = {.value = 11, .complete_at = 2};
    MPI_CHECK(MPIX_Grequest_class_allocate(cls, &e, &e.req));
    MPI_Request he = e.req;
    MPI_CHECK(MPI_Wait(&he, &st));
    CHECK(wait_calls == 2 && e.polls == 2 && st.MPI_TAG == 11, "wait: %d calls, tag %d",
          wait_calls, st.MPI_TAG);

    /* Bad input: an invalid class, null callbacks. */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_Request r;
#ifdef OXIMPI
    /* MPICH 4.0.2 does not check the class handle (it crashes on this one). */
    CHECK_CLASS(MPIX_Grequest_class_allocate(12345, &e, &r), MPI_ERR_ARG);
#endif
    CHECK_CLASS(MPIX_Grequest_class_create(NULL, free_fn, cancel_fn, poll_fn, wait_fn, &cls),
                MPI_ERR_ARG);
    CHECK_CLASS(MPIX_Grequest_start(query_fn, NULL, cancel_fn, poll_fn, wait_fn, &e, &r),
                MPI_ERR_ARG);
    CHECK_CLASS(MPIX_Grequest_start(query_fn, free_fn, cancel_fn, poll_fn, NULL, &e, &r),
                MPI_ERR_ARG);
    return ot_pass();
}
