/* Generalized requests: Grequest_start, then completion by Grequest_complete from the
 * program (and from another thread); the query callback fills the status and runs once per
 * completion call that returns a status, the free callback once when the request is freed,
 * the cancel callback on MPI_Cancel with the right "complete" flag. */
#include "oxitest.h"
#include <pthread.h>

struct state {
    int query_calls, free_calls, cancel_calls;
    int last_cancel_complete;
    int tag;
};

static int query_fn(void *extra, MPI_Status *status)
{
    struct state *s = extra;
    s->query_calls++;
    MPI_Status_set_elements(status, MPI_INT, 42);
    MPI_Status_set_cancelled(status, 0);
    status->MPI_SOURCE = 3;
    status->MPI_TAG = s->tag;
    return MPI_SUCCESS;
}

static int free_fn(void *extra)
{
    ((struct state *)extra)->free_calls++;
    return MPI_SUCCESS;
}

static int cancel_fn(void *extra, int complete)
{
    struct state *s = extra;
    s->cancel_calls++;
    s->last_cancel_complete = complete;
    return MPI_SUCCESS;
}

static void *completer(void *arg)
{
    MPI_Request *req = arg;
    MPI_CHECK(MPI_Grequest_complete(*req));
    return NULL;
}

int main(int argc, char **argv)
{
    ot_init_thread("grequest", &argc, &argv, MPI_THREAD_MULTIPLE);
    struct state s = {0, 0, 0, -1, 17};
    MPI_Request req;
    MPI_Status st;
    int flag = -1, count = -1;

    /* 1. Start, Test (incomplete), complete, Wait */
    MPI_CHECK(MPI_Grequest_start(query_fn, free_fn, cancel_fn, &s, &req));
    CHECK(req != MPI_REQUEST_NULL, "Grequest_start gave MPI_REQUEST_NULL");
    MPI_CHECK(MPI_Test(&req, &flag, &st));
    CHECK(flag == 0, "generalized request complete before Grequest_complete");
    CHECK(s.free_calls == 0, "free callback called early");
    MPI_CHECK(MPI_Grequest_complete(req));
    MPI_CHECK(MPI_Wait(&req, &st));
    CHECK(req == MPI_REQUEST_NULL, "Wait did not free the generalized request");
    CHECK(s.query_calls == 1 && s.free_calls == 1 && s.cancel_calls == 0,
          "after Wait: query %d free %d cancel %d (expected 1 1 0)", s.query_calls,
          s.free_calls, s.cancel_calls);
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 42 && st.MPI_SOURCE == 3 && st.MPI_TAG == 17,
          "status from query_fn: count %d source %d tag %d", count, st.MPI_SOURCE, st.MPI_TAG);

    /* 2. Completed from another thread while the main thread waits */
    s = (struct state){0, 0, 0, -1, 18};
    MPI_CHECK(MPI_Grequest_start(query_fn, free_fn, cancel_fn, &s, &req));
    pthread_t t;
    MPI_Request copy = req;
    CHECK(pthread_create(&t, NULL, completer, &copy) == 0, "pthread_create failed");
    MPI_CHECK(MPI_Wait(&req, &st));
    pthread_join(t, NULL);
    CHECK(st.MPI_TAG == 18 && s.query_calls == 1 && s.free_calls == 1,
          "threaded completion: tag %d query %d free %d", st.MPI_TAG, s.query_calls,
          s.free_calls);

    /* 3. Cancel before completion: cancel_fn(complete=0); then complete and wait */
    s = (struct state){0, 0, 0, -1, 19};
    MPI_CHECK(MPI_Grequest_start(query_fn, free_fn, cancel_fn, &s, &req));
    MPI_CHECK(MPI_Cancel(&req));
    CHECK(s.cancel_calls == 1 && s.last_cancel_complete == 0,
          "cancel_fn: calls %d complete %d (expected 1, 0)", s.cancel_calls,
          s.last_cancel_complete);
    MPI_CHECK(MPI_Grequest_complete(req));
    MPI_CHECK(MPI_Wait(&req, MPI_STATUS_IGNORE));
    CHECK(s.free_calls == 1, "free callback calls %d", s.free_calls);

    /* 4. Cancel after completion: complete=1 */
    s = (struct state){0, 0, 0, -1, 20};
    MPI_CHECK(MPI_Grequest_start(query_fn, free_fn, cancel_fn, &s, &req));
    MPI_CHECK(MPI_Grequest_complete(req));
    MPI_CHECK(MPI_Cancel(&req));
    CHECK(s.cancel_calls == 1 && s.last_cancel_complete == 1,
          "cancel after complete: calls %d complete %d", s.cancel_calls,
          s.last_cancel_complete);
    MPI_CHECK(MPI_Wait(&req, &st));
    CHECK(s.free_calls == 1, "free callback calls %d", s.free_calls);

    /* 5. Request_free before completion: free_fn runs once, after Grequest_complete */
    s = (struct state){0, 0, 0, -1, 21};
    MPI_CHECK(MPI_Grequest_start(query_fn, free_fn, cancel_fn, &s, &req));
    copy = req;
    MPI_CHECK(MPI_Request_free(&req));
    CHECK(req == MPI_REQUEST_NULL, "Request_free did not null the handle");
    MPI_CHECK(MPI_Grequest_complete(copy));
    CHECK(s.free_calls == 1, "free callback after Request_free + complete: %d calls",
          s.free_calls);

    /* 6. In Waitall together with a null entry */
    s = (struct state){0, 0, 0, -1, 22};
    MPI_Request reqs[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    MPI_CHECK(MPI_Grequest_start(query_fn, free_fn, cancel_fn, &s, &reqs[1]));
    MPI_CHECK(MPI_Grequest_complete(reqs[1]));
    MPI_Status sts[2];
    MPI_CHECK(MPI_Waitall(2, reqs, sts));
    CHECK(sts[1].MPI_TAG == 22 && s.query_calls == 1 && s.free_calls == 1,
          "Waitall: tag %d query %d free %d", sts[1].MPI_TAG, s.query_calls, s.free_calls);
    return ot_pass();
}
