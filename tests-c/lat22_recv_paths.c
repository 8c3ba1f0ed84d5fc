/* The receiver's small-message paths (lat22, issue 13): MPI_Recv of messages already queued
 * (taken with no request: eager data, while rendezvous announcements and synchronous sends
 * keep the general path, in arrival order), truncation of a queued message through the
 * communicator's errhandler, and MPI_Waitall / MPI_Testall over windows that mix receives
 * matched on arrival, receives of queued messages, null and cancelled requests, with and
 * without MPI_STATUSES_IGNORE. Rank 0 receives from every other rank in turn; with 3 ranks
 * also with MPI_ANY_SOURCE. */
#include "oxitest.h"

#define MARK 50 /* a 0-byte MPI_Ssend: once received, the sender's earlier messages are queued */
#define W 64
#define BIG (256 * 1024)

static unsigned char val(int src, int seq, int i) { return (unsigned char)(src * 31 + seq * 7 + i); }

static void fill_msg(unsigned char *b, int n, int src, int seq)
{
    for (int i = 0; i < n; i++)
        b[i] = val(src, seq, i);
}

static void check_msg(const unsigned char *b, int n, int src, int seq, const char *what)
{
    for (int i = 0; i < n; i++)
        CHECK(b[i] == val(src, seq, i), "%s: byte %d from %d seq %d is %d, expected %d", what, i,
              src, seq, b[i], val(src, seq, i));
}

static void mark_send(int to) { MPI_CHECK(MPI_Ssend(NULL, 0, MPI_BYTE, to, MARK, MPI_COMM_WORLD)); }
static void mark_recv(int from)
{
    MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, from, MARK, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
}

/* 20 eager messages queued before their receives: specific tags, then MPI_ANY_TAG (the oldest
 * left), each with its status. */
static void queued_eager(int s)
{
    unsigned char b[8];
    if (ot_rank == s) {
        for (int i = 0; i < 20; i++) {
            fill_msg(b, 8, s, i);
            MPI_CHECK(MPI_Send(b, 8, MPI_BYTE, 0, 1 + i % 4, MPI_COMM_WORLD));
        }
        mark_send(0);
    } else if (ot_rank == 0) {
        MPI_Status st;
        mark_recv(s);
        /* tag 3 first: messages 2, 6, 10, 14, 18 in order */
        for (int k = 0; k < 5; k++) {
            memset(b, 0, sizeof b);
            MPI_CHECK(MPI_Recv(b, 8, MPI_BYTE, s, 3, MPI_COMM_WORLD, &st));
            ot_check_status(&st, s, 3, 8, "queued, tag 3");
            check_msg(b, 8, s, 2 + 4 * k, "queued, tag 3");
        }
        /* the rest with MPI_ANY_TAG: oldest first, skipping those taken */
        for (int i = 0; i < 20; i++) {
            if (i % 4 == 2)
                continue;
            memset(b, 0, sizeof b);
            MPI_CHECK(MPI_Recv(b, 8, MPI_BYTE, s, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
            ot_check_status(&st, s, 1 + i % 4, 8, "queued, any tag");
            check_msg(b, 8, s, i, "queued, any tag");
        }
    }
}

/* A queued 16-byte message received into 8 bytes: MPI_ERR_TRUNCATE through the
 * communicator's errhandler (MPI_ERRORS_RETURN here), the first 8 bytes stored, and the
 * message consumed (the next one is received whole). */
static void queued_truncated(int s, MPI_Comm ret)
{
    unsigned char b[16];
    if (ot_rank == s) {
        fill_msg(b, 16, s, 100);
        MPI_CHECK(MPI_Send(b, 16, MPI_BYTE, 0, 60, ret));
        fill_msg(b, 16, s, 101);
        MPI_CHECK(MPI_Send(b, 16, MPI_BYTE, 0, 60, ret));
        MPI_CHECK(MPI_Ssend(NULL, 0, MPI_BYTE, 0, MARK, ret));
    } else if (ot_rank == 0) {
        MPI_Status st;
        MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, s, MARK, ret, MPI_STATUS_IGNORE));
        memset(b, 0xee, sizeof b);
        CHECK_CLASS(MPI_Recv(b, 8, MPI_BYTE, s, 60, ret, &st), MPI_ERR_TRUNCATE);
        check_msg(b, 8, s, 100, "truncated");
        for (int i = 8; i < 16; i++)
            CHECK(b[i] == 0xee, "truncated: byte %d past the receive written", i);
        MPI_CHECK(MPI_Recv(b, 16, MPI_BYTE, s, 60, ret, &st));
        ot_check_status(&st, s, 60, 16, "after the truncated one");
        check_msg(b, 16, s, 101, "after the truncated one");
    }
}

/* Queued in this order: a rendezvous send (tag 70), an eager one (71), a synchronous one
 * (72), an eager one (73). MPI_ANY_TAG receives take them in that order; the synchronous
 * sender completes once its message is received. */
static void queued_mixed(int s)
{
    unsigned char *big = malloc(BIG), b[8];
    CHECK(big != NULL, "malloc");
    if (ot_rank == s) {
        MPI_Request r[2];
        fill_msg(big, BIG, s, 200);
        MPI_CHECK(MPI_Isend(big, BIG, MPI_BYTE, 0, 70, MPI_COMM_WORLD, &r[0]));
        fill_msg(b, 8, s, 201);
        MPI_CHECK(MPI_Send(b, 8, MPI_BYTE, 0, 71, MPI_COMM_WORLD));
        unsigned char c[8];
        fill_msg(c, 8, s, 202);
        MPI_CHECK(MPI_Issend(c, 8, MPI_BYTE, 0, 72, MPI_COMM_WORLD, &r[1]));
        fill_msg(b, 8, s, 203);
        MPI_CHECK(MPI_Send(b, 8, MPI_BYTE, 0, 73, MPI_COMM_WORLD));
        mark_send(0);
        MPI_CHECK(MPI_Waitall(2, r, MPI_STATUSES_IGNORE));
    } else if (ot_rank == 0) {
        MPI_Status st;
        mark_recv(s);
        memset(big, 0, BIG);
        MPI_CHECK(MPI_Recv(big, BIG, MPI_BYTE, s, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
        ot_check_status(&st, s, 70, BIG, "queued rendezvous");
        check_msg(big, BIG, s, 200, "queued rendezvous");
        for (int k = 1; k <= 3; k++) {
            memset(b, 0, sizeof b);
            MPI_CHECK(MPI_Recv(b, 8, MPI_BYTE, s, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
            ot_check_status(&st, s, 70 + k, 8, "queued after the rendezvous");
            check_msg(b, 8, s, 200 + k, "queued after the rendezvous");
        }
    }
    free(big);
}

/* A window of W receives: half posted before the sender starts (matched as they arrive),
 * half after its messages are queued; the array also holds two null requests and a
 * cancelled receive. `test`: completed with MPI_Testall; `ignore`: MPI_STATUSES_IGNORE. */
static void window(int s, int test, int ignore)
{
    static unsigned char b[W][8];
    enum { N = W + 3 };
    if (ot_rank == s) {
        MPI_Request r[W];
        mark_recv(0); /* rank 0 has posted the first half */
        for (int i = 0; i < W; i++) {
            fill_msg(b[i], 8, s, 300 + i);
            MPI_CHECK(MPI_Isend(b[i], 8, MPI_BYTE, 0, 1000 + i, MPI_COMM_WORLD, &r[i]));
        }
        MPI_CHECK(MPI_Waitall(W, r, MPI_STATUSES_IGNORE));
        mark_send(0);
    } else if (ot_rank == 0) {
        MPI_Request r[N];
        MPI_Status st[N];
        memset(b, 0, sizeof b);
        r[0] = MPI_REQUEST_NULL;
        for (int i = 0; i < W / 2; i++)
            MPI_CHECK(MPI_Irecv(b[i], 8, MPI_BYTE, s, 1000 + i, MPI_COMM_WORLD, &r[1 + i]));
        MPI_CHECK(MPI_Irecv(NULL, 0, MPI_BYTE, s, 9999, MPI_COMM_WORLD, &r[1 + W / 2]));
        MPI_CHECK(MPI_Cancel(&r[1 + W / 2]));
        mark_send(s);
        mark_recv(s); /* every message has arrived: the second half is queued */
        for (int i = W / 2; i < W; i++)
            MPI_CHECK(MPI_Irecv(b[i], 8, MPI_BYTE, s, 1000 + i, MPI_COMM_WORLD, &r[2 + i]));
        r[N - 1] = MPI_REQUEST_NULL;
        for (int i = 0; i < N; i++)
            st[i].MPI_ERROR = -7;
        if (test) {
            int flag = 0;
            for (long k = 0; !flag; k++) {
                CHECK(k < 100000000, "MPI_Testall never completed");
                MPI_CHECK(MPI_Testall(N, r, &flag, ignore ? MPI_STATUSES_IGNORE : st));
            }
        } else {
            MPI_CHECK(MPI_Waitall(N, r, ignore ? MPI_STATUSES_IGNORE : st));
        }
        for (int i = 0; i < N; i++)
            CHECK(r[i] == MPI_REQUEST_NULL, "entry %d not MPI_REQUEST_NULL after completion", i);
        for (int i = 0; i < W; i++)
            check_msg(b[i], 8, s, 300 + i, "window");
        if (!ignore) {
            int cancelled = 0, n = -1;
            for (int e = 0; e < N; e += N - 1) {
                MPI_CHECK(MPI_Get_count(&st[e], MPI_BYTE, &n));
                CHECK(st[e].MPI_SOURCE == MPI_ANY_SOURCE && st[e].MPI_TAG == MPI_ANY_TAG && n == 0,
                      "null entry %d: source %d tag %d count %d, expected the empty status", e,
                      st[e].MPI_SOURCE, st[e].MPI_TAG, n);
            }
            MPI_CHECK(MPI_Test_cancelled(&st[1 + W / 2], &cancelled));
            CHECK(cancelled, "the cancelled receive's status does not say so");
            for (int i = 0; i < W; i++) {
                int e = i < W / 2 ? 1 + i : 2 + i;
                ot_check_status(&st[e], s, 1000 + i, 8, "window");
                CHECK(st[e].MPI_ERROR == MPI_SUCCESS, "window entry %d: MPI_ERROR %d", e,
                      st[e].MPI_ERROR);
                MPI_CHECK(MPI_Test_cancelled(&st[e], &cancelled));
                CHECK(!cancelled, "window entry %d marked cancelled", e);
            }
        }
    }
}

/* With more than one sender: queued messages from all of them, received with
 * MPI_ANY_SOURCE; each sender's arrive in its order, all of them once. */
static void any_source(void)
{
    enum { K = 6 };
    unsigned char b[8];
    if (ot_rank > 0) {
        for (int i = 0; i < K; i++) {
            fill_msg(b, 8, ot_rank, 400 + i);
            MPI_CHECK(MPI_Send(b, 8, MPI_BYTE, 0, 90, MPI_COMM_WORLD));
        }
        mark_send(0);
    } else {
        int next[16] = {0};
        CHECK(ot_size <= 16, "too many ranks for this test");
        for (int s = 1; s < ot_size; s++)
            mark_recv(s);
        for (int k = 0; k < K * (ot_size - 1); k++) {
            MPI_Status st;
            memset(b, 0, sizeof b);
            MPI_CHECK(MPI_Recv(b, 8, MPI_BYTE, MPI_ANY_SOURCE, 90, MPI_COMM_WORLD, &st));
            int s = st.MPI_SOURCE;
            CHECK(s > 0 && s < ot_size, "any source: source %d", s);
            ot_check_status(&st, s, 90, 8, "any source");
            check_msg(b, 8, s, 400 + next[s], "any source");
            next[s]++;
        }
        for (int s = 1; s < ot_size; s++)
            CHECK(next[s] == K, "any source: %d messages from %d, expected %d", next[s], s, K);
    }
}

int main(int argc, char **argv)
{
    MPI_Comm ret;
    ot_init("lat22_recv_paths", &argc, &argv);
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &ret));
    MPI_CHECK(MPI_Comm_set_errhandler(ret, MPI_ERRORS_RETURN));
    for (int s = 1; s < ot_size; s++) {
        queued_eager(s);
        queued_truncated(s, ret);
        queued_mixed(s);
        for (int mode = 0; mode < 4; mode++)
            window(s, mode & 1, mode >> 1);
    }
    if (ot_size > 2)
        any_source();
    MPI_CHECK(MPI_Comm_free(&ret));
    return ot_pass();
}
