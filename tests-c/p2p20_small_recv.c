/* The receiver's small-message path (p2p20, issue 13): MPI_Irecv builds its request in
 * place, Waitall reaps plain requests with one lookup, and a small message into contiguous
 * data is copied without memcpy (1, 2-3, 4-7, 8-15 and 16-32 B take different moves).
 * Checked, for every length 0..40 B, with the receive posted before its message arrives
 * and with the message queued first:
 * - the bytes land exactly, nothing past them is written (guard bytes), the status has the
 *   source, tag and count; a receive one byte short: MPI_ERR_TRUNCATE in its status
 *   (MPI_ERR_IN_STATUS from Waitall), the bytes that fit stored, none past them;
 * - MPI_INT receives of 0..10 elements (a type whose size is not 1);
 * - a window of 64 receives with a null entry and a quick send: every status, every handle
 *   MPI_REQUEST_NULL afterwards;
 * - MPI_Irecv's argument errors still return (bad rank, bad tag, negative count) and a
 *   receive from MPI_PROC_NULL completes at once with the empty PROC_NULL status. */
#include "oxitest.h"
#include <string.h>

enum { MAXLEN = 40, GUARD = 8, W = 64 };

/* One message of `len` bytes (seed `seed`) from rank 1 to rank 0, received into `cap`
 * bytes with the receive posted first (`posted`) or the message queued first. */
static void one(MPI_Comm c, int len, int cap, int posted, unsigned seed)
{
    unsigned char out[MAXLEN], in[MAXLEN + GUARD];
    int tag = 100 + len;
    ot_fill(out, (size_t)len, seed);
    if (ot_rank == 1) {
        if (posted)
            MPI_CHECK(MPI_Barrier(c));
        MPI_CHECK(MPI_Send(out, len, MPI_BYTE, 0, tag, c));
        if (!posted)
            MPI_CHECK(MPI_Barrier(c));
        return;
    }
    memset(in, 0xee, sizeof in);
    MPI_Request r[2];
    MPI_Status st[2];
    if (!posted)
        MPI_CHECK(MPI_Barrier(c));
    MPI_CHECK(MPI_Irecv(in, cap, MPI_BYTE, 1, tag, c, &r[0]));
    r[1] = MPI_REQUEST_NULL;
    if (posted)
        MPI_CHECK(MPI_Barrier(c));
    int rc = MPI_Waitall(2, r, st);
    int stored = len < cap ? len : cap;
    if (len > cap) {
        int cls;
        MPI_Error_class(rc, &cls);
        CHECK(cls == MPI_ERR_IN_STATUS, "len %d cap %d: Waitall returned class %d, not ERR_IN_STATUS", len, cap, cls);
        MPI_Error_class(st[0].MPI_ERROR, &cls);
        CHECK(cls == MPI_ERR_TRUNCATE, "len %d cap %d: status error class %d", len, cap, cls);
    } else {
        CHECK(rc == MPI_SUCCESS, "len %d cap %d posted %d: Waitall returned %d", len, cap, posted, rc);
    }
    CHECK(r[0] == MPI_REQUEST_NULL && r[1] == MPI_REQUEST_NULL, "len %d: handles not null", len);
    CHECK(st[0].MPI_SOURCE == 1 && st[0].MPI_TAG == tag, "len %d: source %d tag %d", len,
          st[0].MPI_SOURCE, st[0].MPI_TAG);
    int n;
    MPI_CHECK(MPI_Get_count(&st[0], MPI_BYTE, &n));
    CHECK(n == stored, "len %d cap %d posted %d: count %d, want %d", len, cap, posted, n, stored);
    CHECK(memcmp(in, out, (size_t)stored) == 0, "len %d cap %d posted %d: bytes differ", len, cap, posted);
    for (int i = stored; i < MAXLEN + GUARD; i++)
        CHECK(in[i] == 0xee, "len %d cap %d posted %d: byte %d past the message written", len,
              cap, posted, i);
}

/* `n` ints from rank 1, received as MPI_INT into exactly `n` (posted first or not). */
static void ints(MPI_Comm c, int n, int posted)
{
    int out[10], in[10 + 2];
    for (int i = 0; i < n; i++)
        out[i] = 0x01020304 * (i + 1) + n;
    if (ot_rank == 1) {
        if (posted)
            MPI_CHECK(MPI_Barrier(c));
        MPI_CHECK(MPI_Send(out, n, MPI_INT, 0, 7, c));
        if (!posted)
            MPI_CHECK(MPI_Barrier(c));
        return;
    }
    for (int i = 0; i < 12; i++)
        in[i] = -7;
    MPI_Request r;
    MPI_Status st;
    if (!posted)
        MPI_CHECK(MPI_Barrier(c));
    MPI_CHECK(MPI_Irecv(in, n, MPI_INT, 1, 7, c, &r));
    if (posted)
        MPI_CHECK(MPI_Barrier(c));
    MPI_CHECK(MPI_Waitall(1, &r, &st));
    int got;
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &got));
    CHECK(got == n, "%d ints: count %d", n, got);
    for (int i = 0; i < n; i++)
        CHECK(in[i] == out[i], "%d ints posted %d: element %d is %d", n, posted, i, in[i]);
    CHECK(in[n] == -7 && in[n + 1] == -7, "%d ints: written past the message", n);
}

/* A window of W receives of 8 B (tag i) with entry 5 null and entry 9 a quick send. */
static void window(MPI_Comm c)
{
    long in[W], out[W];
    MPI_Request r[W];
    MPI_Status st[W];
    for (int i = 0; i < W; i++)
        out[i] = 1000 + i;
    if (ot_rank == 1) {
        for (int i = 0; i < W; i++)
            if (i != 5 && i != 9)
                MPI_CHECK(MPI_Send(&out[i], 1, MPI_LONG, 0, i, c));
        long x;
        MPI_CHECK(MPI_Recv(&x, 1, MPI_LONG, 0, 9, c, MPI_STATUS_IGNORE));
        CHECK(x == 9, "quick send carried %ld", x);
        return;
    }
    long nine = 9;
    for (int i = 0; i < W; i++) {
        in[i] = -1;
        if (i == 5)
            r[i] = MPI_REQUEST_NULL;
        else if (i == 9)
            MPI_CHECK(MPI_Isend(&nine, 1, MPI_LONG, 1, 9, c, &r[i]));
        else
            MPI_CHECK(MPI_Irecv(&in[i], 1, MPI_LONG, 1, i, c, &r[i]));
    }
    MPI_CHECK(MPI_Waitall(W, r, st));
    for (int i = 0; i < W; i++) {
        CHECK(r[i] == MPI_REQUEST_NULL, "window entry %d: handle not null", i);
        if (i == 5 || i == 9)
            continue;
        CHECK(in[i] == 1000 + i, "window entry %d: got %ld", i, in[i]);
        CHECK(st[i].MPI_SOURCE == 1 && st[i].MPI_TAG == i, "window entry %d: status source %d tag %d",
              i, st[i].MPI_SOURCE, st[i].MPI_TAG);
    }
    CHECK(st[5].MPI_SOURCE == MPI_ANY_SOURCE && st[5].MPI_TAG == MPI_ANY_TAG,
          "null entry: status source %d tag %d", st[5].MPI_SOURCE, st[5].MPI_TAG);
}

static void errors(MPI_Comm c)
{
    char b[4];
    MPI_Request r = MPI_REQUEST_NULL;
    CHECK_CLASS(MPI_Irecv(b, 4, MPI_BYTE, ot_size, 0, c, &r), MPI_ERR_RANK);
    CHECK_CLASS(MPI_Irecv(b, 4, MPI_BYTE, 0, -5, c, &r), MPI_ERR_TAG);
    CHECK_CLASS(MPI_Irecv(b, -1, MPI_BYTE, 0, 0, c, &r), MPI_ERR_COUNT);
    CHECK(r == MPI_REQUEST_NULL, "a failed MPI_Irecv set the request");
    MPI_Status st;
    MPI_CHECK(MPI_Irecv(b, 4, MPI_BYTE, MPI_PROC_NULL, 0, c, &r));
    MPI_CHECK(MPI_Waitall(1, &r, &st));
    int n;
    MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &n));
    CHECK(r == MPI_REQUEST_NULL && st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG && n == 0,
          "PROC_NULL receive: source %d tag %d count %d", st.MPI_SOURCE, st.MPI_TAG, n);
}

int main(int argc, char **argv)
{
    ot_init("p2p20_small_recv", &argc, &argv);
    MPI_Comm c;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &c));
    MPI_CHECK(MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN));
    if (ot_rank < 2) {
        MPI_Comm pair;
        MPI_CHECK(MPI_Comm_split(c, 0, ot_rank, &pair));
        MPI_CHECK(MPI_Comm_set_errhandler(pair, MPI_ERRORS_RETURN));
        for (int posted = 0; posted < 2; posted++)
            for (int len = 0; len <= MAXLEN; len++) {
                one(pair, len, len, posted, (unsigned)len);
                one(pair, len, MAXLEN, posted, (unsigned)len + 50);
                if (len > 0)
                    one(pair, len, len - 1, posted, (unsigned)len + 100);
            }
        for (int posted = 0; posted < 2; posted++)
            for (int n = 0; n <= 10; n++)
                ints(pair, n, posted);
        for (int k = 0; k < 3; k++)
            window(pair);
        errors(pair);
        MPI_CHECK(MPI_Comm_free(&pair));
    } else {
        MPI_Comm none;
        MPI_CHECK(MPI_Comm_split(c, MPI_UNDEFINED, ot_rank, &none));
    }
    MPI_CHECK(MPI_Comm_free(&c));
    return ot_pass();
}
