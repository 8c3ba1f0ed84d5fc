/* Quick sends (issue 13): an MPI_Isend that leaves at once in one eager message gets a handle
 * with no request behind it. Every request call must treat that handle as a complete send:
 * Wait/Test (handle becomes MPI_REQUEST_NULL), Waitall mixed with receives and null entries,
 * Waitany/Testany (the send is the completed entry), Waitsome/Testsome, the
 * Request_get_status family (handle kept) then Request_free, Start on it (MPI_ERR_REQUEST, as
 * any non-persistent request), Irsend, MPI_Cancel (the message never reaches the receiver if
 * cancelled), more sends outstanding at once than the sender keeps envelopes of (3000), and a
 * Cancel of a send that many sends old: whether or not it is cancelled, the receiver gets the
 * message exactly when Test_cancelled says it was not cancelled. */
#include "oxitest.h"

enum { MANY = 3000, OLD = 1100 };

static int cancelled(MPI_Status *st)
{
    int flag = -1;
    MPI_CHECK(MPI_Test_cancelled(st, &flag));
    return flag;
}

static void check_null(MPI_Request *a, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        CHECK(a[i] == MPI_REQUEST_NULL, "%s: entry %d not MPI_REQUEST_NULL", what, i);
}

static void sender(void)
{
    int v = 7, in = 0, flag = -1, idx = -1, out = -1, ind[4];
    MPI_Request r, a[4];
    MPI_Status st, sts[4];

    MPI_CHECK(MPI_Isend(&v, 1, MPI_INT, 1, 1, MPI_COMM_WORLD, &r));
    CHECK(r != MPI_REQUEST_NULL, "Isend gave MPI_REQUEST_NULL");
    MPI_CHECK(MPI_Wait(&r, &st));
    check_null(&r, 1, "Wait");
    CHECK(cancelled(&st) == 0, "Wait: send reported cancelled");

    MPI_CHECK(MPI_Isend(&v, 1, MPI_INT, 1, 2, MPI_COMM_WORLD, &r));
    MPI_CHECK(MPI_Test(&r, &flag, &st));
    CHECK(flag == 1, "Test: eager send not complete");
    check_null(&r, 1, "Test");

    /* Waitall: a receive, a send, a null entry, a send */
    MPI_CHECK(MPI_Irecv(&in, 1, MPI_INT, 1, 3, MPI_COMM_WORLD, &a[0]));
    MPI_CHECK(MPI_Isend(&v, 1, MPI_INT, 1, 3, MPI_COMM_WORLD, &a[1]));
    a[2] = MPI_REQUEST_NULL;
    MPI_CHECK(MPI_Isend(&v, 1, MPI_INT, 1, 3, MPI_COMM_WORLD, &a[3]));
    MPI_CHECK(MPI_Waitall(4, a, sts));
    check_null(a, 4, "Waitall");
    int count = -1;
    MPI_CHECK(MPI_Get_count(&sts[0], MPI_INT, &count));
    CHECK(in == 300 && sts[0].MPI_SOURCE == 1 && sts[0].MPI_TAG == 3 && count == 1,
          "Waitall: receive got %d from %d tag %d count %d", in, sts[0].MPI_SOURCE,
          sts[0].MPI_TAG, count);
    CHECK(sts[2].MPI_SOURCE == MPI_ANY_SOURCE && sts[2].MPI_TAG == MPI_ANY_TAG,
          "Waitall: null entry's status not empty");

    /* Waitany / Testany: the receive waits for the sends, so the send is the one found */
    for (int tag = 4; tag <= 5; tag++) {
        MPI_CHECK(MPI_Irecv(&in, 1, MPI_INT, 1, tag, MPI_COMM_WORLD, &a[0]));
        MPI_CHECK(MPI_Isend(&v, 1, MPI_INT, 1, tag, MPI_COMM_WORLD, &a[1]));
        if (tag == 4)
            MPI_CHECK(MPI_Waitany(2, a, &idx, &st));
        else
            MPI_CHECK(MPI_Testany(2, a, &idx, &flag, &st));
        CHECK(idx == 1 && a[1] == MPI_REQUEST_NULL && a[0] != MPI_REQUEST_NULL,
              "%s: index %d", tag == 4 ? "Waitany" : "Testany", idx);
        CHECK(tag == 4 || flag == 1, "Testany: flag %d", flag);
        MPI_CHECK(MPI_Wait(&a[0], &st));
        CHECK(in == 100 * tag, "%s: receive got %d", tag == 4 ? "Waitany" : "Testany", in);
    }

    /* Waitsome / Testsome until every entry is done */
    for (int tag = 6; tag <= 7; tag++) {
        MPI_CHECK(MPI_Isend(&v, 1, MPI_INT, 1, tag, MPI_COMM_WORLD, &a[0]));
        MPI_CHECK(MPI_Isend(&v, 1, MPI_INT, 1, tag, MPI_COMM_WORLD, &a[1]));
        a[2] = MPI_REQUEST_NULL;
        MPI_CHECK(MPI_Irecv(&in, 1, MPI_INT, 1, tag, MPI_COMM_WORLD, &a[3]));
        int seen[4] = {0}, rounds = 0;
        for (;;) {
            if (tag == 6)
                MPI_CHECK(MPI_Waitsome(4, a, &out, ind, sts));
            else
                MPI_CHECK(MPI_Testsome(4, a, &out, ind, sts));
            if (out == MPI_UNDEFINED)
                break;
            if (rounds++ == 0)
                CHECK(out >= 2 && ind[0] == 0 && ind[1] == 1, "%s: first call gave %d",
                      tag == 6 ? "Waitsome" : "Testsome", out);
            for (int k = 0; k < out; k++)
                seen[ind[k]]++;
        }
        CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 0 && seen[3] == 1,
              "%s: completions %d %d %d %d", tag == 6 ? "Waitsome" : "Testsome", seen[0],
              seen[1], seen[2], seen[3]);
        check_null(a, 4, "Waitsome/Testsome");
        CHECK(in == 100 * tag, "Waitsome/Testsome: receive got %d", in);
    }

    /* Request_get_status family: complete, handle kept; then freed */
    MPI_CHECK(MPI_Isend(&v, 1, MPI_INT, 1, 8, MPI_COMM_WORLD, &r));
    MPI_Request keep = r;
    MPI_CHECK(MPI_Request_get_status(r, &flag, &st));
    CHECK(flag == 1 && r == keep, "Request_get_status: flag %d", flag);
#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
    /* MPI 4.1 (not in MPICH 4.0.2's header: the ABI runs build without them) */
    a[0] = MPI_REQUEST_NULL;
    a[1] = r;
    MPI_CHECK(MPI_Request_get_status_any(2, a, &idx, &flag, &st));
    CHECK(flag == 1 && idx == 1, "Request_get_status_any: flag %d index %d", flag, idx);
    MPI_CHECK(MPI_Request_get_status_all(2, a, &flag, sts));
    CHECK(flag == 1, "Request_get_status_all: flag %d", flag);
    MPI_CHECK(MPI_Request_get_status_some(2, a, &out, ind, sts));
    CHECK(out == 1 && ind[0] == 1, "Request_get_status_some: %d", out);
    CHECK(a[1] == keep, "Request_get_status_*: handle changed");
#endif
    /* Start on a send that is not persistent is an error, and leaves the request alone */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rc = MPI_Start(&r), cls = -1;
    MPI_Error_class(rc, &cls);
    CHECK(rc != MPI_SUCCESS && cls == MPI_ERR_REQUEST, "Start: rc %d class %d", rc, cls);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_CHECK(MPI_Request_free(&r));
    check_null(&r, 1, "Request_free");

    /* Irsend once the receive is posted */
    MPI_CHECK(MPI_Recv(&in, 1, MPI_INT, 1, 18, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    MPI_CHECK(MPI_Irsend(&v, 1, MPI_INT, 1, 17, MPI_COMM_WORLD, &r));
    MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    check_null(&r, 1, "Irsend");

    /* Cancel: rank 1 receives tag 10 only after it learnt the outcome (tag 11) */
    int first = 1000, sentinel = 1010, c;
    MPI_CHECK(MPI_Isend(&first, 1, MPI_INT, 1, 10, MPI_COMM_WORLD, &r));
    MPI_CHECK(MPI_Cancel(&r));
    MPI_CHECK(MPI_Wait(&r, &st));
    check_null(&r, 1, "Cancel + Wait");
    c = cancelled(&st);
    CHECK(c == 1, "a send the receiver has not matched was not cancelled");
    MPI_CHECK(MPI_Send(&sentinel, 1, MPI_INT, 1, 10, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Send(&c, 1, MPI_INT, 1, 11, MPI_COMM_WORLD));

    /* many outstanding */
    static MPI_Request many[MANY];
    static int vals[MANY];
    for (int i = 0; i < MANY; i++) {
        vals[i] = i;
        MPI_CHECK(MPI_Isend(&vals[i], 1, MPI_INT, 1, 13, MPI_COMM_WORLD, &many[i]));
    }
    MPI_CHECK(MPI_Waitall(MANY, many, MPI_STATUSES_IGNORE));
    check_null(many, MANY, "Waitall of many");

    /* Cancel of an old send */
    int old = 1400, old_sentinel = 1410;
    MPI_CHECK(MPI_Isend(&old, 1, MPI_INT, 1, 14, MPI_COMM_WORLD, &r));
    for (int i = 0; i < OLD; i++)
        MPI_CHECK(MPI_Isend(&vals[i], 1, MPI_INT, 1, 15, MPI_COMM_WORLD, &many[i]));
    MPI_CHECK(MPI_Cancel(&r));
    MPI_CHECK(MPI_Wait(&r, &st));
    c = cancelled(&st);
    MPI_CHECK(MPI_Waitall(OLD, many, MPI_STATUSES_IGNORE));
    MPI_CHECK(MPI_Send(&old_sentinel, 1, MPI_INT, 1, 14, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Send(&c, 1, MPI_INT, 1, 16, MPI_COMM_WORLD));
}

/* The receiver's side of a cancelled send on `tag`: the outcome arrives on `otag`; the
 * cancelled message (`first`) must come before the sentinel exactly when it was not
 * cancelled. */
static void after_cancel(int otag, int tag, int first, int sentinel)
{
    int c, v;
    MPI_CHECK(MPI_Recv(&c, 1, MPI_INT, 0, otag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    if (!c) {
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(v == first, "tag %d: not cancelled, yet got %d first", tag, v);
    }
    MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    CHECK(v == sentinel, "tag %d: got %d, expected the sentinel", tag, v);
}

/* n messages on `tag` carrying 0, 1, ... in order */
static void in_order(int tag, int n)
{
    int v;
    for (int i = 0; i < n; i++) {
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(v == i, "tag %d: message %d carried %d", tag, i, v);
    }
}

static void receiver(void)
{
    int v = 0, out;
    MPI_Request r;
    for (int tag = 1; tag <= 2; tag++) {
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(v == 7, "tag %d: got %d", tag, v);
    }
    for (int k = 0; k < 2; k++)
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    out = 300;
    MPI_CHECK(MPI_Send(&out, 1, MPI_INT, 0, 3, MPI_COMM_WORLD));
    for (int tag = 4; tag <= 5; tag++) {
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        out = 100 * tag;
        MPI_CHECK(MPI_Send(&out, 1, MPI_INT, 0, tag, MPI_COMM_WORLD));
    }
    for (int tag = 6; tag <= 7; tag++) {
        for (int k = 0; k < 2; k++)
            MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        out = 100 * tag;
        MPI_CHECK(MPI_Send(&out, 1, MPI_INT, 0, tag, MPI_COMM_WORLD));
    }
    MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    CHECK(v == 7, "tag 8: got %d", v);
    MPI_CHECK(MPI_Irecv(&v, 1, MPI_INT, 0, 17, MPI_COMM_WORLD, &r));
    MPI_CHECK(MPI_Send(&out, 1, MPI_INT, 0, 18, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    CHECK(v == 7, "Irsend: got %d", v);

    after_cancel(11, 10, 1000, 1010);
    in_order(13, MANY);
    after_cancel(16, 14, 1400, 1410);
    in_order(15, OLD);
}

int main(int argc, char **argv)
{
    ot_init("p2p8_quick", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    if (ot_rank == 0)
        sender();
    else if (ot_rank == 1)
        receiver();
    ot_pass();
    return 0;
}
