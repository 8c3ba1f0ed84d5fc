/* MPI_Recv of a message already queued (lat25, issue 13): a blocking receive from one rank
 * looks for a queued match first, before its straight line (`Engine::recv_from`), and the
 * small sends write the fast box's compact line from the header's parts
 * (`Fabric::send_small_short`). Each case checks the data, the status and the order, and
 * every fall-back to the general path:
 *   queued     each sender sends, while rank 0 does not receive, messages of 0 B - 2 KiB
 *              (both sides of the one-line record's 32 B, and of the box's 2 KiB) on two
 *              tags with MPI_Send and MPI_Isend; rank 0 takes them out of queue order: one
 *              tag first (a match behind the queue's head), the other with MPI_ANY_TAG, and
 *              again with MPI_ANY_SOURCE (each sender's stream in order)
 *   general    queued matches the general path must take: a synchronous send's, a
 *              rendezvous (64 KiB), after MPI_Probe, and a truncated one (MPI_ERR_TRUNCATE
 *              through MPI_ERRORS_RETURN, the next message intact)
 *   posted     a queued message taken while another receive is posted, a posted receive
 *              that came before a queued one of the same tag, and messages that came after
 *   self       messages to myself, queued before they are received
 *   proc_null  a receive from MPI_PROC_NULL
 * Rank 0 receives; every other rank sends to it. */
#include "oxitest.h"
#include <string.h>

enum {
    TA = 10, TB = 11, DONE = 12, GO = 13,
    TT = 20, TS = 21, TR = 22,
    TQ = 30, TX = 31, TZ = 32,
    TSELF = 40
};

static const int sizes[] = {0, 1, 7, 8, 16, 31, 32, 33, 40, 63, 64, 65, 512, 1024, 2047, 2048};
enum { NS = (int)(sizeof sizes / sizeof sizes[0]), BIG = 64 * 1024 };

static unsigned seed_of(int src, int i) { return (unsigned)(src * 1000 + i); }

/* Receives one message from `src` (MPI_ANY_SOURCE allowed) with `tag` into a buffer of
 * `room` bytes and checks it is message `i` of sender `want_src` (size sizes[i]). */
static void recv_check(MPI_Comm c, int src, int tag, int want_src, int want_tag, int i,
                       const char *what)
{
    static unsigned char got[4096];
    int n = sizes[i], room = n + (i % 3 == 0 ? 100 : 0);
    MPI_Status st;
    memset(got, 0xee, sizeof got);
    MPI_CHECK(MPI_Recv(got, room, MPI_BYTE, src, tag, c, &st));
    ot_check_status(&st, want_src, want_tag, n, what);
    long bad = ot_verify(got, (size_t)n, seed_of(want_src, i));
    CHECK(bad < 0, "%s: message %d (%d B) from %d: byte %ld wrong", what, i, n, want_src, bad);
    CHECK(got[n] == 0xee, "%s: message %d: a byte past its %d written", what, i, n);
}

/* Sender side of `queued`: every size, tag TA for even i and TB for odd, then a
 * synchronous 0 B DONE, which rank 0 receives before any of them. */
static void send_all(MPI_Comm c)
{
    static unsigned char b[NS][2048];
    MPI_Request r[NS];
    int nr = 0;
    for (int i = 0; i < NS; i++) {
        ot_fill(b[i], (size_t)sizes[i], seed_of(ot_rank, i));
        int tag = i % 2 ? TB : TA;
        if (i % 4 < 2)
            MPI_CHECK(MPI_Send(b[i], sizes[i], MPI_BYTE, 0, tag, c));
        else
            MPI_CHECK(MPI_Isend(b[i], sizes[i], MPI_BYTE, 0, tag, c, &r[nr++]));
    }
    MPI_CHECK(MPI_Ssend(NULL, 0, MPI_BYTE, 0, DONE, c));
    MPI_CHECK(MPI_Waitall(nr, r, MPI_STATUSES_IGNORE));
}

static void wait_done_all(MPI_Comm c)
{
    for (int s = 1; s < ot_size; s++)
        MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, s, DONE, c, MPI_STATUS_IGNORE));
}

static void queued(MPI_Comm c)
{
    /* Round 1: by sender, tag TB first (behind the head), then the rest with ANY_TAG. */
    if (ot_rank == 0) {
        wait_done_all(c);
        for (int s = 1; s < ot_size; s++) {
            for (int i = 1; i < NS; i += 2)
                recv_check(c, s, TB, s, TB, i, "queued TB");
            for (int i = 0; i < NS; i += 2)
                recv_check(c, s, MPI_ANY_TAG, s, TA, i, "queued ANY_TAG");
        }
    } else {
        send_all(c);
    }
    ot_sync(MPI_COMM_WORLD);
    /* Round 2: tag TA from any source (each sender's in order), then TB by sender. */
    if (ot_rank == 0) {
        wait_done_all(c);
        int *next = ot_malloc(sizeof *next * (size_t)ot_size);
        for (int s = 0; s < ot_size; s++)
            next[s] = 0;
        static unsigned char got[4096];
        for (int k = 0; k < (ot_size - 1) * ((NS + 1) / 2); k++) {
            MPI_Status st;
            memset(got, 0xee, sizeof got);
            MPI_CHECK(MPI_Recv(got, sizeof got, MPI_BYTE, MPI_ANY_SOURCE, TA, c, &st));
            int s = st.MPI_SOURCE;
            CHECK(s >= 1 && s < ot_size, "ANY_SOURCE: source %d", s);
            int i = next[s];
            CHECK(i < NS, "ANY_SOURCE: too many messages from %d", s);
            next[s] = i + 2;
            ot_check_status(&st, s, TA, sizes[i], "queued ANY_SOURCE");
            CHECK(ot_verify(got, (size_t)sizes[i], seed_of(s, i)) < 0,
                  "ANY_SOURCE: message %d from %d: data (out of order?)", i, s);
        }
        free(next);
        for (int s = 1; s < ot_size; s++)
            for (int i = 1; i < NS; i += 2)
                recv_check(c, s, TB, s, TB, i, "queued TB after ANY_SOURCE");
    } else {
        send_all(c);
    }
    ot_sync(MPI_COMM_WORLD);
}

/* Queued matches the general path takes, received in an order other than the queue's. */
static void general(MPI_Comm c)
{
    if (ot_rank == 0) {
        wait_done_all(c);
        unsigned char *big = ot_malloc(BIG);
        for (int s = 1; s < ot_size; s++) {
            MPI_Status st;
            int n = -1;
            /* The rendezvous announcement, probed first. */
            MPI_CHECK(MPI_Probe(s, TR, c, &st));
            MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &n));
            CHECK(st.MPI_SOURCE == s && st.MPI_TAG == TR && n == BIG,
                  "probe: source %d tag %d count %d", st.MPI_SOURCE, st.MPI_TAG, n);
            memset(big, 0, BIG);
            MPI_CHECK(MPI_Recv(big, BIG, MPI_BYTE, s, TR, c, &st));
            ot_check_status(&st, s, TR, BIG, "queued rendezvous");
            CHECK(ot_verify(big, BIG, seed_of(s, 500)) < 0, "queued rendezvous: data");
            /* The synchronous send's message (its sender waits for this match). */
            unsigned char g[16];
            memset(g, 0, sizeof g);
            MPI_CHECK(MPI_Recv(g, 8, MPI_BYTE, s, TS, c, &st));
            ot_check_status(&st, s, TS, 8, "queued synchronous");
            CHECK(ot_verify(g, 8, seed_of(s, 501)) < 0, "queued synchronous: data");
            /* 16 B into 8: truncated, the first 8 bytes kept. */
            memset(g, 0xee, sizeof g);
            st.MPI_ERROR = MPI_SUCCESS;
            CHECK_CLASS(MPI_Recv(g, 8, MPI_BYTE, s, TT, c, &st), MPI_ERR_TRUNCATE);
            CHECK(ot_verify(g, 8, seed_of(s, 502)) < 0 && g[8] == 0xee,
                  "truncated: the first 8 bytes, and nothing past them");
            /* The next message of that tag is whole. */
            memset(g, 0, sizeof g);
            MPI_CHECK(MPI_Recv(g, 16, MPI_BYTE, s, TT, c, &st));
            ot_check_status(&st, s, TT, 16, "after the truncated one");
            CHECK(ot_verify(g, 16, seed_of(s, 503)) < 0, "after the truncated one: data");
        }
        free(big);
    } else {
        unsigned char *big = ot_filled(BIG, seed_of(ot_rank, 500));
        unsigned char *sy = ot_filled(8, seed_of(ot_rank, 501));
        unsigned char *t1 = ot_filled(16, seed_of(ot_rank, 502));
        unsigned char *t2 = ot_filled(16, seed_of(ot_rank, 503));
        MPI_Request r[2];
        MPI_CHECK(MPI_Send(t1, 16, MPI_BYTE, 0, TT, c));
        MPI_CHECK(MPI_Issend(sy, 8, MPI_BYTE, 0, TS, c, &r[0]));
        MPI_CHECK(MPI_Isend(big, BIG, MPI_BYTE, 0, TR, c, &r[1]));
        MPI_CHECK(MPI_Send(t2, 16, MPI_BYTE, 0, TT, c));
        MPI_CHECK(MPI_Ssend(NULL, 0, MPI_BYTE, 0, DONE, c));
        MPI_CHECK(MPI_Waitall(2, r, MPI_STATUSES_IGNORE));
        free(big);
        free(sy);
        free(t1);
        free(t2);
    }
    ot_sync(MPI_COMM_WORLD);
}

/* Receives posted around queued messages. */
static void posted(MPI_Comm c)
{
    unsigned char m[6][8];
    for (int k = 0; k < 6; k++)
        ot_fill(m[k], 8, seed_of(ot_rank, 600 + k));
    if (ot_rank == 0) {
        for (int s = 1; s < ot_size; s++) {
            unsigned char g[6][8];
            MPI_Request r1, r2, r3;
            MPI_Status st;
            memset(g, 0, sizeof g);
            /* Message 0 (TQ) is queued: a receive posted now takes it at once. */
            MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, s, DONE, c, MPI_STATUS_IGNORE));
            MPI_CHECK(MPI_Irecv(g[0], 8, MPI_BYTE, s, TQ, c, &r1));
            /* A posted receive for message 2 (TQ, not sent yet) and one for message 5
             * (TZ, sent last). */
            MPI_CHECK(MPI_Irecv(g[2], 8, MPI_BYTE, s, TQ, c, &r2));
            MPI_CHECK(MPI_Irecv(g[5], 8, MPI_BYTE, s, TZ, c, &r3));
            MPI_CHECK(MPI_Send(NULL, 0, MPI_BYTE, s, GO, c));
            /* Messages 1 (TX), 2 (TQ: r2's), 3 (TQ), 4 (TX) come; then DONE. */
            MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, s, DONE, c, MPI_STATUS_IGNORE));
            /* Queued while r3 is posted: 3 before 1 and 4 (another tag). */
            MPI_CHECK(MPI_Recv(g[3], 8, MPI_BYTE, s, TQ, c, &st));
            ot_check_status(&st, s, TQ, 8, "queued with a receive posted");
            MPI_CHECK(MPI_Recv(g[1], 8, MPI_BYTE, s, MPI_ANY_TAG, c, &st));
            ot_check_status(&st, s, TX, 8, "queued ANY_TAG with a receive posted");
            MPI_CHECK(MPI_Recv(g[4], 8, MPI_BYTE, MPI_ANY_SOURCE, TX, c, &st));
            ot_check_status(&st, s, TX, 8, "queued ANY_SOURCE with a receive posted");
            MPI_CHECK(MPI_Wait(&r1, &st));
            ot_check_status(&st, s, TQ, 8, "posted after its message");
            MPI_CHECK(MPI_Wait(&r2, &st));
            ot_check_status(&st, s, TQ, 8, "posted before its message");
            MPI_CHECK(MPI_Send(NULL, 0, MPI_BYTE, s, GO, c));
            MPI_CHECK(MPI_Wait(&r3, &st));
            ot_check_status(&st, s, TZ, 8, "posted, sent last");
            for (int k = 0; k < 6; k++)
                CHECK(ot_verify(g[k], 8, seed_of(s, 600 + k)) < 0, "posted: message %d's data",
                      k);
        }
    } else {
        MPI_CHECK(MPI_Send(m[0], 8, MPI_BYTE, 0, TQ, c));
        MPI_CHECK(MPI_Ssend(NULL, 0, MPI_BYTE, 0, DONE, c));
        MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, 0, GO, c, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Send(m[1], 8, MPI_BYTE, 0, TX, c));
        MPI_CHECK(MPI_Send(m[2], 8, MPI_BYTE, 0, TQ, c));
        MPI_CHECK(MPI_Send(m[3], 8, MPI_BYTE, 0, TQ, c));
        MPI_CHECK(MPI_Send(m[4], 8, MPI_BYTE, 0, TX, c));
        MPI_CHECK(MPI_Ssend(NULL, 0, MPI_BYTE, 0, DONE, c));
        MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, 0, GO, c, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Send(m[5], 8, MPI_BYTE, 0, TZ, c));
    }
    ot_sync(MPI_COMM_WORLD);
}

/* Messages to myself are queued when sent; received out of order, then in order. */
static void self(MPI_Comm c)
{
    unsigned char b[4][40], got[40];
    MPI_Status st;
    for (int i = 0; i < 4; i++) {
        ot_fill(b[i], sizeof b[i], seed_of(ot_rank, 700 + i));
        MPI_CHECK(MPI_Send(b[i], 10 * i, MPI_BYTE, ot_rank, TSELF + i % 2, c));
    }
    const int order[4] = {1, 0, 2, 3};
    for (int k = 0; k < 4; k++) {
        int i = order[k];
        memset(got, 0, sizeof got);
        MPI_CHECK(MPI_Recv(got, sizeof got, MPI_BYTE, ot_rank, TSELF + i % 2, c, &st));
        ot_check_status(&st, ot_rank, TSELF + i % 2, 10 * i, "self");
        CHECK(memcmp(got, b[i], (size_t)(10 * i)) == 0, "self: message %d's data", i);
    }
    ot_sync(MPI_COMM_WORLD);
}

static void proc_null(MPI_Comm c)
{
    int x = 7;
    MPI_Status st;
    MPI_CHECK(MPI_Recv(&x, 1, MPI_INT, MPI_PROC_NULL, 5, c, &st));
    int n = -1;
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &n));
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG && n == 0 && x == 7,
          "PROC_NULL: source %d tag %d count %d", st.MPI_SOURCE, st.MPI_TAG, n);
}

int main(int argc, char **argv)
{
    ot_init("lat25_recv_queued", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    MPI_Comm c;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &c));
    MPI_CHECK(MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN));
    for (int round = 0; round < 2; round++) {
        MPI_Comm on = round ? MPI_COMM_WORLD : c;
        queued(on);
        posted(on);
        self(on);
        proc_null(on);
    }
    general(c);
    MPI_CHECK(MPI_Comm_free(&c));
    return ot_pass();
}
