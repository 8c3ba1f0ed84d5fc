/* The TCP eager/rendezvous boundary (tcp17, issue 14): over TCP a message of up to
 * FRAME_EAGER_MAX (128 KiB) goes in an eager frame, a larger one by rendezvous (the receiver
 * pulls it). Windows whose messages sit one byte below, at and one byte above the limit,
 * mixed with small and large ones, all on one tag, go both ways at once around a ring (each
 * rank sends to the next and receives from the previous): they must match in send order
 * (non-overtaking across the two protocols) and arrive whole, every byte checked. Run
 * natively too (there the boundary is the shared-memory one, and the same rules hold).
 *
 *  1. posted: every receive is posted before the window is sent (a barrier between);
 *  2. unexpected: the window is sent before any receive is posted;
 *  3. posted with receive buffers larger than the messages: the counts must be the
 *     messages' own, nothing written past them.
 */
#include "oxitest.h"

#define LIMIT (128 << 10)
#define NMSG 12
#define TAG 5
#define GUARD 64
#define GUARD_BYTE 0xa5

/* Both sides of the limit, in an order that alternates the protocols. */
static const int sizes[NMSG] = {LIMIT + 1, LIMIT - 1, LIMIT,     1,         LIMIT + 1,
                                (LIMIT * 3) + 17,    LIMIT,     LIMIT - 1, 0,
                                LIMIT + 1,  (1 << 20) + 3, LIMIT - 1};

/* The pattern of message m from rank `from`. */
static unsigned seed_of(int from, int m) { return (unsigned)(from * NMSG + m + 1); }

static void send_window(int to, unsigned char **out, MPI_Request *req) {
    for (int m = 0; m < NMSG; m++)
        MPI_CHECK(MPI_Isend(out[m], sizes[m], MPI_BYTE, to, TAG, MPI_COMM_WORLD, &req[m]));
}

/* Posts the window's receives from `from`, each `extra` bytes larger than its message, the
 * extra bytes and a guard after them holding GUARD_BYTE. */
static void post_window(int from, unsigned char **in, int extra, MPI_Request *req) {
    for (int m = 0; m < NMSG; m++) {
        size_t room = (size_t)sizes[m] + extra;
        in[m] = malloc(room + GUARD);
        CHECK(in[m], "out of memory");
        memset(in[m], GUARD_BYTE, room + GUARD);
        MPI_CHECK(MPI_Irecv(in[m], (int)room, MPI_BYTE, from, TAG, MPI_COMM_WORLD, &req[m]));
    }
}

/* Receive m matched message m (same tag: only send order decides) and holds its bytes. */
static void check_window(const char *what, int from, unsigned char **in, int extra,
                         MPI_Status *st) {
    for (int m = 0; m < NMSG; m++) {
        int count;
        MPI_Get_count(&st[m], MPI_BYTE, &count);
        CHECK(st[m].MPI_SOURCE == from && st[m].MPI_TAG == TAG,
              "%s: receive %d: source %d tag %d, expected %d and %d", what, m, st[m].MPI_SOURCE,
              st[m].MPI_TAG, from, TAG);
        CHECK(count == sizes[m], "%s: receive %d got %d bytes, expected message %d's %d "
              "(overtaken across the eager/rendezvous limit?)", what, m, count, m, sizes[m]);
        long bad = ot_verify(in[m], sizes[m], seed_of(from, m));
        CHECK(bad < 0, "%s: message %d (%d bytes): byte %ld is %d, expected %d", what, m,
              sizes[m], bad, bad < 0 ? 0 : in[m][bad],
              bad < 0 ? 0 : ot_byte(seed_of(from, m), bad));
        for (size_t i = sizes[m]; i < (size_t)sizes[m] + extra + GUARD; i++)
            CHECK(in[m][i] == GUARD_BYTE, "%s: message %d (%d bytes): byte %zu past it "
                  "was written", what, m, sizes[m], i);
        free(in[m]);
    }
}

int main(int argc, char **argv) {
    ot_init("tcp17_boundary", &argc, &argv);
    CHECK(ot_size >= 2, "needs 2 ranks");
    int to = (ot_rank + 1) % ot_size, from = (ot_rank + ot_size - 1) % ot_size;
    unsigned char *out[NMSG], *in[NMSG];
    for (int m = 0; m < NMSG; m++)
        out[m] = ot_filled(sizes[m], seed_of(ot_rank, m));
    MPI_Request sreq[NMSG], rreq[NMSG];
    MPI_Status st[NMSG];

    /* 1. Posted, and 3. posted into larger buffers. */
    for (int extra = 0; extra <= 4096; extra += 4096) {
        const char *what = extra ? "posted/larger" : "posted";
        post_window(from, in, extra, rreq);
        MPI_Barrier(MPI_COMM_WORLD);
        send_window(to, out, sreq);
        MPI_CHECK(MPI_Waitall(NMSG, rreq, st));
        MPI_CHECK(MPI_Waitall(NMSG, sreq, MPI_STATUSES_IGNORE));
        check_window(what, from, in, extra, st);
        MPI_Barrier(MPI_COMM_WORLD);
    }

    /* 2. Unexpected: every message sent (the rendezvous ones announced) before the
     * receives are posted. */
    send_window(to, out, sreq);
    MPI_Barrier(MPI_COMM_WORLD);
    post_window(from, in, 0, rreq);
    MPI_CHECK(MPI_Waitall(NMSG, rreq, st));
    MPI_CHECK(MPI_Waitall(NMSG, sreq, MPI_STATUSES_IGNORE));
    check_window("unexpected", from, in, 0, st);

    for (int m = 0; m < NMSG; m++)
        free(out[m]);
    ot_pass();
    return 0;
}
