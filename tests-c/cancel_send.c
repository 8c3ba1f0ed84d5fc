/* MPI_Cancel of sends (issue 11 class 6). A send cancelled before the receiver matched it
 * completes (Wait returns, whatever the receiver does) with Test_cancelled true, and the
 * receiver never sees the message; a send already matched is not cancelled and completes
 * normally. Covered: eager and rendezvous standard sends, synchronous sends, a persistent
 * send (cancelled, then started again and delivered), Ibsend and a persistent Bsend, a send
 * to oneself, Cancel followed by Request_free, a ready send and a send already received
 * (neither cancelled). Then the other request kinds as MPICH treats them: an inactive
 * persistent request is MPI_ERR_REQUEST, a partitioned or nonblocking collective request
 * is MPI_ERR_INTERN.
 *
 * Rank 1 posts no receive for the cancelled tags until rank 0 is done cancelling; then rank
 * 0 sends one sentinel per tag, and rank 1 must receive exactly the sentinels (messages of a
 * sender are not overtaken, so a cancelled message that was still delivered would come
 * first). */
#include "oxitest.h"

enum { BIG = 1 << 20, NTAGS = 12 };

static void expect_cancelled(MPI_Request *r, int want, const char *what)
{
    MPI_Status st;
    int flag = -1;
    MPI_CHECK(MPI_Wait(r, &st));
    MPI_CHECK(MPI_Test_cancelled(&st, &flag));
    CHECK(flag == want, "%s: Test_cancelled gave %d, expected %d", what, flag, want);
}

static void expect_class(int rc, int cls, const char *what)
{
    int got = -1;
    CHECK(rc != MPI_SUCCESS, "%s: MPI_Cancel succeeded, expected error class %d", what, cls);
    MPI_Error_class(rc, &got);
    CHECK(got == cls, "%s: MPI_Cancel gave class %d, expected %d", what, got, cls);
}

int main(int argc, char **argv)
{
    ot_init("cancel_send", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    char *big = ot_malloc(BIG), *big2 = ot_malloc(BIG);
    MPI_Request r;
    int go = 1;
    if (ot_rank == 0) {
        int v[NTAGS];
        for (int i = 0; i < NTAGS; i++)
            v[i] = 1000 + i;
        ot_fill(big, BIG, 3);
        /* 1: eager standard send (already complete locally: cancel still reaches the message
         * waiting in the receiver's unexpected queue) */
        MPI_CHECK(MPI_Isend(&v[1], 1, MPI_INT, 1, 1, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 1, "eager Isend");
        /* 2: synchronous eager send, never matched: Wait must still return */
        MPI_CHECK(MPI_Issend(&v[2], 1, MPI_INT, 1, 2, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 1, "eager Issend");
        /* 3, 4: rendezvous sizes */
        MPI_CHECK(MPI_Isend(big, BIG, MPI_BYTE, 1, 3, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 1, "rendezvous Isend");
        MPI_CHECK(MPI_Issend(big, BIG, MPI_BYTE, 1, 4, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 1, "rendezvous Issend");
        /* 5: persistent send: cancelled, then started again and delivered (checked by rank
         * 1: its first message on tag 5 is this second round's value) */
        int pv = -55;
        MPI_CHECK(MPI_Send_init(&pv, 1, MPI_INT, 1, 5, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Start(&r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 1, "persistent Send_init");
        CHECK(r != MPI_REQUEST_NULL, "persistent request freed by Wait");
        pv = v[5];
        MPI_CHECK(MPI_Start(&r));
        expect_cancelled(&r, 0, "persistent send restarted");
        MPI_CHECK(MPI_Request_free(&r));
        /* 6: persistent synchronous send */
        MPI_CHECK(MPI_Ssend_init(&v[6], 1, MPI_INT, 1, 6, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Start(&r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 1, "persistent Ssend_init");
        MPI_CHECK(MPI_Request_free(&r));
        /* 7, 8: buffered sends: Ibsend and a persistent Bsend; the buffer detaches after */
        int bsize = 4 * (MPI_BSEND_OVERHEAD + 64);
        char *bbuf = ot_malloc(bsize);
        MPI_CHECK(MPI_Buffer_attach(bbuf, bsize));
        MPI_CHECK(MPI_Ibsend(&v[7], 1, MPI_INT, 1, 7, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 1, "Ibsend");
        MPI_CHECK(MPI_Bsend_init(&v[8], 1, MPI_INT, 1, 8, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Start(&r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 1, "persistent Bsend_init");
        MPI_CHECK(MPI_Request_free(&r));
        void *addr;
        int sz;
        MPI_CHECK(MPI_Buffer_detach(&addr, &sz));
        free(bbuf);
        /* 9: Cancel then Request_free, no wait: the message must still never arrive */
        MPI_CHECK(MPI_Isend(&v[9], 1, MPI_INT, 1, 9, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        MPI_CHECK(MPI_Request_free(&r));
        /* 10: a send to oneself */
        int self = 77, flag = -1;
        MPI_Status st;
        MPI_CHECK(MPI_Isend(&self, 1, MPI_INT, 0, 10, MPI_COMM_SELF, &r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 1, "send to self");
        MPI_CHECK(MPI_Iprobe(0, 10, MPI_COMM_SELF, &flag, &st));
        CHECK(!flag, "cancelled send to self is still probed");
        /* 11: a send the receiver has already received: not cancelled */
        MPI_CHECK(MPI_Isend(&v[11], 1, MPI_INT, 1, 11, MPI_COMM_WORLD, &r));
        int ack;
        MPI_CHECK(MPI_Recv(&ack, 1, MPI_INT, 1, 11, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 0, "send already received");
        /* 12: ready sends to a posted receive (matched on arrival, before the cancel
         * request): not cancelled, delivered. Small and rendezvous. */
        MPI_CHECK(MPI_Recv(&ack, 1, MPI_INT, 1, 12, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Irsend(&v[0], 1, MPI_INT, 1, 12, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 0, "ready send to a posted receive");
        MPI_CHECK(MPI_Irsend(big, BIG, MPI_BYTE, 1, 13, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 0, "rendezvous ready send to a posted receive");

        /* The other kinds, as MPICH 4 reports them. */
        MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
        MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
        MPI_CHECK(MPI_Send_init(&self, 1, MPI_INT, 0, 20, MPI_COMM_SELF, &r));
        expect_class(MPI_Cancel(&r), MPI_ERR_REQUEST, "inactive Send_init");
        MPI_CHECK(MPI_Request_free(&r));
        MPI_CHECK(MPI_Recv_init(&self, 1, MPI_INT, 0, 20, MPI_COMM_SELF, &r));
        expect_class(MPI_Cancel(&r), MPI_ERR_REQUEST, "inactive Recv_init");
        MPI_CHECK(MPI_Request_free(&r));
        MPI_CHECK(MPI_Ibarrier(MPI_COMM_SELF, &r));
        expect_class(MPI_Cancel(&r), MPI_ERR_INTERN, "Ibarrier");
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        int pbuf[4];
        MPI_CHECK(MPI_Precv_init(pbuf, 2, 2, MPI_INT, 0, 21, MPI_COMM_SELF, MPI_INFO_NULL, &r));
        expect_class(MPI_Cancel(&r), MPI_ERR_INTERN, "inactive Precv_init");
        MPI_CHECK(MPI_Request_free(&r));
        /* an active persistent receive cancels like a receive */
        MPI_CHECK(MPI_Recv_init(&self, 1, MPI_INT, 0, 22, MPI_COMM_SELF, &r));
        MPI_CHECK(MPI_Start(&r));
        MPI_CHECK(MPI_Cancel(&r));
        expect_cancelled(&r, 1, "active Recv_init");
        MPI_CHECK(MPI_Request_free(&r));
        MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));

        /* Sentinels: the only messages rank 1 may receive on the cancelled tags. */
        MPI_CHECK(MPI_Send(&go, 1, MPI_INT, 1, 0, MPI_COMM_WORLD));
        for (int t = 1; t <= 9; t++) {
            if (t == 5)
                continue; /* the restarted persistent send is tag 5's message */
            int s = -t;
            if (t == 3 || t == 4)
                MPI_CHECK(MPI_Send(big2, BIG / 2, MPI_BYTE, 1, t, MPI_COMM_WORLD));
            else
                MPI_CHECK(MPI_Send(&s, 1, MPI_INT, 1, t, MPI_COMM_WORLD));
        }
    } else if (ot_rank == 1) {
        int x;
        MPI_Status st;
        /* 11: receive it, then let rank 0 try to cancel */
        MPI_CHECK(MPI_Recv(&x, 1, MPI_INT, 0, 11, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(x == 1011, "tag 11: got %d", x);
        MPI_CHECK(MPI_Send(&go, 1, MPI_INT, 0, 11, MPI_COMM_WORLD));
        /* 12, 13: post the receives for the ready sends, then tell rank 0 */
        MPI_Request rr[2];
        int r12 = -1;
        MPI_CHECK(MPI_Irecv(&r12, 1, MPI_INT, 0, 12, MPI_COMM_WORLD, &rr[0]));
        MPI_CHECK(MPI_Irecv(big, BIG, MPI_BYTE, 0, 13, MPI_COMM_WORLD, &rr[1]));
        MPI_CHECK(MPI_Send(&go, 1, MPI_INT, 0, 12, MPI_COMM_WORLD));
        MPI_Status sts[2];
        MPI_CHECK(MPI_Waitall(2, rr, sts));
        CHECK(r12 == 1000, "ready send delivered %d", r12);
        long bad = ot_verify(big, BIG, 3);
        CHECK(bad < 0, "rendezvous ready send: byte %ld wrong", bad);
        /* The sentinels, in order: any cancelled message still delivered comes first. */
        MPI_CHECK(MPI_Recv(&x, 1, MPI_INT, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        for (int t = 1; t <= 9; t++) {
            if (t == 3 || t == 4) {
                int n = -1;
                MPI_CHECK(MPI_Recv(big, BIG, MPI_BYTE, 0, t, MPI_COMM_WORLD, &st));
                MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &n));
                CHECK(n == BIG / 2, "tag %d: a cancelled message (%d bytes) was delivered", t,
                      n);
                continue;
            }
            x = 0;
            MPI_CHECK(MPI_Recv(&x, 1, MPI_INT, 0, t, MPI_COMM_WORLD, &st));
            int want = t == 5 ? 1005 : -t;
            CHECK(x == want, "tag %d: received %d, expected %d (a cancelled message was "
                  "delivered)", t, x, want);
        }
        for (int t = 1; t <= 13; t++) {
            int flag = 1;
            MPI_CHECK(MPI_Iprobe(0, t, MPI_COMM_WORLD, &flag, &st));
            CHECK(!flag, "a message with tag %d is left", t);
        }
    }
    free(big);
    free(big2);
    return ot_pass();
}
