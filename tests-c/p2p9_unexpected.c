/* Receives of messages already queued as unexpected (p2p9, issue 13): eager data is copied
 * into the receive from its queue entry where it lies. Rank 1 sends, then a marker; rank 0
 * receives the marker first, so everything sent before it waits in the unexpected queue
 * (one sender's messages are processed in order). Checked: data and status of 0-200 byte
 * messages taken out of queue order (tags in reverse), a truncated one (MPI_ERR_TRUNCATE in
 * its status, MPI_ERR_IN_STATUS from Waitall, the 16 bytes that fit),
 * wildcards taking the oldest, a persistent receive started twice, a synchronous send (acknowledged when its
 * queued message is matched), and 0-byte messages into a derived datatype, queued and posted. */
#include "oxitest.h"

enum { NS = 6, MARK = 99, BIG = 200 };
static const int sizes[NS] = {0, 1, 8, 32, 33, BIG};

/* The marker between ranks 0 and 1: sent (send != 0) or received by the calling rank. */
static void marker(MPI_Comm c, int send)
{
    int t = 0, peer = 1 - ot_rank;
    if (send)
        MPI_CHECK(MPI_Send(&t, 1, MPI_INT, peer, MARK, c));
    else
        MPI_CHECK(MPI_Recv(&t, 1, MPI_INT, peer, MARK, c, MPI_STATUS_IGNORE));
}

static void sender(MPI_Comm c)
{
    unsigned char buf[BIG];
    for (int i = 0; i < NS; i++) {
        ot_fill(buf, sizes[i], 10 + i);
        MPI_CHECK(MPI_Send(buf, sizes[i], MPI_BYTE, 0, i, c));
    }
    marker(c, 1);
    /* wildcards */
    for (int i = 0; i < 3; i++) {
        ot_fill(buf, 8, 20 + i);
        MPI_CHECK(MPI_Send(buf, 8, MPI_BYTE, 0, 40 + i, c));
    }
    marker(c, 1);
    /* persistent */
    for (int i = 0; i < 2; i++) {
        ot_fill(buf, 16, 30 + i);
        MPI_CHECK(MPI_Send(buf, 16, MPI_BYTE, 0, 7, c));
    }
    marker(c, 1);
    /* synchronous */
    MPI_Request r;
    ot_fill(buf, 8, 40);
    MPI_CHECK(MPI_Issend(buf, 8, MPI_BYTE, 0, 8, c, &r));
    marker(c, 1);
    MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    /* zero bytes: queued, then posted */
    MPI_CHECK(MPI_Send(buf, 0, MPI_BYTE, 0, 9, c));
    marker(c, 1);
    marker(c, 0);
    MPI_CHECK(MPI_Send(buf, 0, MPI_BYTE, 0, 10, c));
}

static void check_msg(unsigned char *buf, MPI_Status *st, int tag, int n, unsigned seed)
{
    int count = -1;
    MPI_CHECK(MPI_Get_count(st, MPI_BYTE, &count));
    CHECK(st->MPI_SOURCE == 1 && st->MPI_TAG == tag, "tag %d: status source %d tag %d", tag,
          st->MPI_SOURCE, st->MPI_TAG);
    CHECK(count == n, "tag %d: count %d, want %d", tag, count, n);
    long bad = ot_verify(buf, n, seed);
    CHECK(bad < 0, "tag %d: byte %ld wrong", tag, bad);
}

static void receiver(MPI_Comm c)
{
    unsigned char buf[NS][BIG], one[4][BIG];
    MPI_Request r[NS];
    MPI_Status st[NS];
    marker(c, 0);
    /* newest first: every receive but the last matches behind the queue's front; tag 5's
     * 200 bytes land in a 16-byte receive (last: MPICH ends Waitall at the first error) */
    for (int i = NS - 1; i >= 0; i--)
        MPI_CHECK(MPI_Irecv(buf[i], i == NS - 1 ? 16 : BIG, MPI_BYTE, 1, i, c, &r[i]));
    int rc = MPI_Waitall(NS, r, st), rcls = -1;
    MPI_Error_class(rc, &rcls);
    CHECK(rcls == MPI_ERR_IN_STATUS, "Waitall with a truncated receive: error class %d", rcls);
    for (int i = 0; i < NS; i++) {
        if (i == NS - 1) {
            int cls = -1;
            MPI_Error_class(st[i].MPI_ERROR, &cls);
            CHECK(cls == MPI_ERR_TRUNCATE, "truncated receive: error class %d", cls);
            /* what a truncated receive counts is the implementation's (MPICH 4.0.2: 0 or
             * 4); when it counts the 16 bytes that fit, they are the message's first */
            int count = -1;
            MPI_CHECK(MPI_Get_count(&st[i], MPI_BYTE, &count));
            if (count == 16)
                check_msg(buf[i], &st[i], i, 16, 10 + i);
        } else {
            CHECK(st[i].MPI_ERROR == MPI_SUCCESS, "tag %d: error %d", i, st[i].MPI_ERROR);
            check_msg(buf[i], &st[i], i, sizes[i], 10 + i);
        }
    }

    marker(c, 0);
    for (int i = 0; i < 3; i++) {
        MPI_Status s;
        MPI_CHECK(MPI_Irecv(one[0], BIG, MPI_BYTE, MPI_ANY_SOURCE, MPI_ANY_TAG, c, &r[0]));
        MPI_CHECK(MPI_Wait(&r[0], &s));
        check_msg(one[0], &s, 40 + i, 8, 20 + i);
    }

    marker(c, 0);
    MPI_Request p;
    MPI_CHECK(MPI_Recv_init(one[1], BIG, MPI_BYTE, 1, 7, c, &p));
    for (int i = 0; i < 2; i++) {
        MPI_Status s;
        MPI_CHECK(MPI_Start(&p));
        MPI_CHECK(MPI_Wait(&p, &s));
        check_msg(one[1], &s, 7, 16, 30 + i);
    }
    MPI_CHECK(MPI_Request_free(&p));

    marker(c, 0);
    MPI_Status s;
    MPI_CHECK(MPI_Irecv(one[2], BIG, MPI_BYTE, 1, 8, c, &r[0]));
    MPI_CHECK(MPI_Wait(&r[0], &s));
    check_msg(one[2], &s, 8, 8, 40);

    /* 0 bytes into a vector type (nothing to unpack), queued then posted */
    MPI_Datatype vec;
    MPI_CHECK(MPI_Type_vector(2, 1, 3, MPI_INT, &vec));
    MPI_CHECK(MPI_Type_commit(&vec));
    int ints[6] = {1, 2, 3, 4, 5, 6};
    marker(c, 0);
    for (int tag = 9; tag <= 10; tag++) {
        int count = -1;
        MPI_CHECK(MPI_Irecv(ints, 1, vec, 1, tag, c, &r[0]));
        if (tag == 10)
            marker(c, 1);
        MPI_CHECK(MPI_Wait(&r[0], &s));
        MPI_CHECK(MPI_Get_count(&s, MPI_BYTE, &count));
        CHECK(count == 0 && s.MPI_TAG == tag, "0 bytes, tag %d: count %d tag %d", tag, count,
              s.MPI_TAG);
    }
    for (int i = 0; i < 6; i++)
        CHECK(ints[i] == i + 1, "0-byte receive wrote int %d", i);
    MPI_CHECK(MPI_Type_free(&vec));
}

int main(int argc, char **argv)
{
    ot_init("p2p9_unexpected", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    MPI_Comm c;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &c));
    MPI_CHECK(MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN));
    /* MPICH 4.0.2 reports Waitall's errors to MPI_COMM_WORLD's handler */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    if (ot_rank == 1)
        sender(c);
    else if (ot_rank == 0)
        receiver(c);
    MPI_CHECK(MPI_Comm_free(&c));
    ot_pass();
    return 0;
}
