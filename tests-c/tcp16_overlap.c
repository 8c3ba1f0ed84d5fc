/* Rendezvous receives whose reads overlap (tcp16, issue 14): over TCP a matched large
 * receive starts its pull and stays pending while the engine goes on, so several are in
 * flight at once and complete in whatever order their data lands. Run natively (CMA) and by
 * the forced-TCP pass (OXIMPI_TRANSPORT=tcp), where the pulls overlap.
 *
 * Rank 0 sends, rank 1 receives (other ranks only pass):
 *  1. a window of large messages of several sizes, interleaved with small ones on another
 *     tag, posted before the sends, completed with MPI_Waitany and MPI_Testsome; the small
 *     ones must arrive in send order (non-overtaking), every byte of all of them checked;
 *  2. the same window sent before its receives are posted (unexpected rendezvous), received
 *     in reverse tag order;
 *  3. MPI_Mprobe + MPI_Imrecv of large messages, received in reverse order of the probes;
 *  4. a receive cancelled before any message can match it (cancelled, nothing received),
 *     and one cancelled after its message was sent: either cancelled (the message then goes
 *     to the next receive) or complete with every byte, never half of each;
 *  5. a large message truncated by a smaller receive: MPI_ERR_TRUNCATE through
 *     MPI_ERRORS_RETURN, the buffer filled, nothing written past it; the sender completes.
 */
#include "oxitest.h"

#define NLARGE 12
#define SMALL_TAG 1000
#define GUARD 64

/* Sizes around and above the TCP eager frame limit, up to 3 MiB. */
static const int sizes[NLARGE] = {(128 << 10) + 1, 200000,      256 << 10, (512 << 10) + 7,
                                  1 << 20,         (1 << 20) + 1, 3 << 20,  300000,
                                  (2 << 20) + 3,   150001,      700000,    (1 << 20) - 5};

/* Message m's n bytes arrived whole (the pattern of ot_fill with seed m). */
static void check_bytes(const char *what, int m, const unsigned char *b, int n) {
    long bad = ot_verify(b, n, m);
    CHECK(bad < 0, "%s: message %d (%d bytes): byte %ld is %d, expected %d", what, m, n, bad,
          bad < 0 ? 0 : b[bad], bad < 0 ? 0 : ot_byte(m, bad));
}

static void check_status(const char *what, int m, MPI_Status *st, int tag, int n) {
    int count;
    MPI_Get_count(st, MPI_BYTE, &count);
    CHECK(st->MPI_SOURCE == 0 && st->MPI_TAG == tag,
          "%s: message %d: source %d tag %d, expected 0 and %d", what, m, st->MPI_SOURCE,
          st->MPI_TAG, tag);
    CHECK(count == n, "%s: message %d: count %d, expected %d", what, m, count, n);
}

/* Rank 0: the large messages (tags 0..NLARGE-1) each followed by a small one (tag
 * SMALL_TAG, payload its index), nonblocking, then all waited for. */
static void send_window(unsigned char **out) {
    MPI_Request req[2 * NLARGE];
    int small[NLARGE];
    for (int m = 0; m < NLARGE; m++) {
        small[m] = m;
        MPI_CHECK(MPI_Isend(out[m], sizes[m], MPI_BYTE, 1, m, MPI_COMM_WORLD, &req[2 * m]));
        MPI_CHECK(MPI_Isend(&small[m], 1, MPI_INT, 1, SMALL_TAG, MPI_COMM_WORLD, &req[2 * m + 1]));
    }
    MPI_CHECK(MPI_Waitall(2 * NLARGE, req, MPI_STATUSES_IGNORE));
}

/* Rank 1: posts the receives of the window (large, then the small ones in order), then
 * completes the large ones with Waitany (`any`) or Testsome, the small ones meanwhile. */
static void receive_window(const char *what, int any) {
    unsigned char *in[NLARGE];
    int small[NLARGE];
    MPI_Request req[2 * NLARGE];
    for (int m = 0; m < NLARGE; m++) {
        in[m] = calloc(sizes[m], 1);
        CHECK(in[m], "out of memory");
        MPI_CHECK(MPI_Irecv(in[m], sizes[m], MPI_BYTE, 0, m, MPI_COMM_WORLD, &req[m]));
    }
    for (int m = 0; m < NLARGE; m++) {
        small[m] = -1;
        MPI_CHECK(MPI_Irecv(&small[m], 1, MPI_INT, 0, SMALL_TAG, MPI_COMM_WORLD,
                            &req[NLARGE + m]));
    }
    int done = 0, seen[2 * NLARGE] = {0};
    while (done < 2 * NLARGE) {
        int idx[2 * NLARGE], n = 0;
        MPI_Status st[2 * NLARGE];
        if (any) {
            MPI_CHECK(MPI_Waitany(2 * NLARGE, req, &idx[0], &st[0]));
            CHECK(idx[0] != MPI_UNDEFINED, "%s: Waitany found nothing with %d left", what,
                  2 * NLARGE - done);
            n = 1;
        } else {
            MPI_CHECK(MPI_Testsome(2 * NLARGE, req, &n, idx, st));
            CHECK(n != MPI_UNDEFINED, "%s: Testsome found no active request", what);
        }
        for (int k = 0; k < n; k++) {
            int i = idx[k];
            CHECK(!seen[i], "%s: request %d completed twice", what, i);
            seen[i] = 1;
            if (i < NLARGE) {
                check_status(what, i, &st[k], i, sizes[i]);
                check_bytes(what, i, in[i], sizes[i]);
            } else {
                check_status(what, i, &st[k], SMALL_TAG, (int)sizeof(int));
            }
        }
        done += n;
    }
    /* Small messages match in send order, whatever order the large ones completed in. */
    for (int m = 0; m < NLARGE; m++)
        CHECK(small[m] == m, "%s: small message %d carries %d (overtaken)", what, m, small[m]);
    for (int m = 0; m < NLARGE; m++)
        free(in[m]);
}

/* Rank 1: the window sent before any receive was posted, received from the last tag down. */
static void receive_unexpected(void) {
    int small[NLARGE];
    for (int j = 0; j < NLARGE; j++) {
        int m = NLARGE - 1 - j;
        unsigned char *in = calloc(sizes[m], 1);
        CHECK(in, "out of memory");
        MPI_Status st;
        MPI_CHECK(MPI_Recv(in, sizes[m], MPI_BYTE, 0, m, MPI_COMM_WORLD, &st));
        check_status("unexpected", m, &st, m, sizes[m]);
        check_bytes("unexpected", m, in, sizes[m]);
        free(in);
    }
    for (int m = 0; m < NLARGE; m++) {
        MPI_CHECK(MPI_Recv(&small[m], 1, MPI_INT, 0, SMALL_TAG, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE));
        CHECK(small[m] == m, "unexpected: small message %d carries %d", m, small[m]);
    }
}

/* Rank 1: probes three large messages (tags 0, 1, 2) with MPI_Mprobe, then receives them
 * with MPI_Imrecv in reverse order and waits for all at once. */
static void receive_matched_probes(void) {
    MPI_Message msg[3];
    MPI_Request req[3];
    unsigned char *in[3];
    int count[3];
    for (int m = 0; m < 3; m++) {
        MPI_Status st;
        MPI_CHECK(MPI_Mprobe(0, m, MPI_COMM_WORLD, &msg[m], &st));
        MPI_Get_count(&st, MPI_BYTE, &count[m]);
        CHECK(count[m] == sizes[m + 4], "mprobe: message %d count %d, expected %d", m,
              count[m], sizes[m + 4]);
        in[m] = calloc(count[m], 1);
        CHECK(in[m], "out of memory");
    }
    for (int m = 2; m >= 0; m--)
        MPI_CHECK(MPI_Imrecv(in[m], count[m], MPI_BYTE, &msg[m], &req[m]));
    MPI_Status st[3];
    MPI_CHECK(MPI_Waitall(3, req, st));
    for (int m = 0; m < 3; m++) {
        check_status("mrecv", m, &st[m], m, count[m]);
        check_bytes("mrecv", m + 4, in[m], count[m]);
        free(in[m]);
    }
}

int main(int argc, char **argv) {
    ot_init("tcp16_overlap", &argc, &argv);
    int rank = ot_rank;
    CHECK(ot_size >= 2, "needs 2 ranks");
    unsigned char *out[NLARGE];
    for (int m = 0; m < NLARGE; m++)
        out[m] = ot_filled(sizes[m], m);

    /* 1. Posted window, Waitany then Testsome. */
    for (int any = 1; any >= 0; any--) {
        if (rank == 1)
            receive_window(any ? "window/waitany" : "window/testsome", any);
        else if (rank == 0)
            send_window(out);
        MPI_Barrier(MPI_COMM_WORLD);
    }

    /* 2. Unexpected window: all sent before the receives are posted. */
    if (rank == 0) {
        MPI_Request req[2 * NLARGE];
        int small[NLARGE];
        for (int m = 0; m < NLARGE; m++) {
            small[m] = m;
            MPI_CHECK(MPI_Isend(out[m], sizes[m], MPI_BYTE, 1, m, MPI_COMM_WORLD, &req[2 * m]));
            MPI_CHECK(
                MPI_Isend(&small[m], 1, MPI_INT, 1, SMALL_TAG, MPI_COMM_WORLD, &req[2 * m + 1]));
        }
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_CHECK(MPI_Waitall(2 * NLARGE, req, MPI_STATUSES_IGNORE));
    } else {
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 1)
            receive_unexpected();
    }
    MPI_Barrier(MPI_COMM_WORLD);

    /* 3. Matched probes: the large messages 4, 5, 6 sent with tags 0, 1, 2. */
    if (rank == 0) {
        /* Nonblocking: rank 1 probes all three before it receives any. */
        MPI_Request req[3];
        for (int m = 0; m < 3; m++)
            MPI_CHECK(MPI_Isend(out[m + 4], sizes[m + 4], MPI_BYTE, 1, m, MPI_COMM_WORLD, &req[m]));
        MPI_CHECK(MPI_Waitall(3, req, MPI_STATUSES_IGNORE));
    } else if (rank == 1) {
        receive_matched_probes();
    }
    MPI_Barrier(MPI_COMM_WORLD);

    /* 4. Cancels. Before any match: tag 77 is never sent. Then a large message (tag 5,
     * message 2's bytes) whose receive is cancelled once rank 0 has sent it. */
    if (rank == 1) {
        unsigned char *in = calloc(sizes[2], 1);
        CHECK(in, "out of memory");
        MPI_Request r;
        MPI_Status st;
        int cancelled = 0;
        MPI_CHECK(MPI_Irecv(in, sizes[2], MPI_BYTE, 0, 77, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        MPI_CHECK(MPI_Wait(&r, &st));
        MPI_CHECK(MPI_Test_cancelled(&st, &cancelled));
        CHECK(cancelled, "an unmatched receive was not cancelled");
        MPI_CHECK(MPI_Irecv(in, sizes[2], MPI_BYTE, 0, 5, MPI_COMM_WORLD, &r));
        MPI_Barrier(MPI_COMM_WORLD); /* rank 0 has started its send */
        int flag = 0;
        MPI_CHECK(MPI_Test(&r, &flag, &st)); /* lets the RTS match if it came */
        if (!flag) {
            MPI_CHECK(MPI_Cancel(&r));
            MPI_CHECK(MPI_Wait(&r, &st));
        }
        MPI_CHECK(MPI_Test_cancelled(&st, &cancelled));
        if (cancelled) {
            MPI_CHECK(MPI_Recv(in, sizes[2], MPI_BYTE, 0, 5, MPI_COMM_WORLD, &st));
        }
        check_status(cancelled ? "cancel/then-recv" : "cancel/too-late", 2, &st, 5, sizes[2]);
        check_bytes(cancelled ? "cancel/then-recv" : "cancel/too-late", 2, in, sizes[2]);
        free(in);
    } else if (rank == 0) {
        MPI_Request r;
        MPI_CHECK(MPI_Isend(out[2], sizes[2], MPI_BYTE, 1, 5, MPI_COMM_WORLD, &r));
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    } else {
        MPI_Barrier(MPI_COMM_WORLD);
    }
    MPI_Barrier(MPI_COMM_WORLD);

    /* 5. Truncation: message 6 (3 MiB) into a 1 MiB + 3 buffer, with guard bytes after. */
    if (rank == 1) {
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        int room = (1 << 20) + 3;
        unsigned char *in = malloc(room + GUARD);
        CHECK(in, "out of memory");
        memset(in, 0xEE, room + GUARD);
        MPI_Request r;
        MPI_Status st;
        MPI_CHECK(MPI_Irecv(in, room, MPI_BYTE, 0, 6, MPI_COMM_WORLD, &r));
        int rc = MPI_Wait(&r, &st);
        int cls = -1;
        MPI_Error_class(rc, &cls);
        CHECK(cls == MPI_ERR_TRUNCATE, "truncation: Wait returned class %d, expected %d", cls,
              MPI_ERR_TRUNCATE);
        check_bytes("truncated", 6, in, room);
        for (int i = 0; i < GUARD; i++)
            CHECK(in[room + i] == 0xEE, "truncation: byte %d past the buffer was written", i);
        free(in);
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    } else if (rank == 0) {
        MPI_CHECK(MPI_Send(out[6], sizes[6], MPI_BYTE, 1, 6, MPI_COMM_WORLD));
    }

    for (int m = 0; m < NLARGE; m++)
        free(out[m]);
    ot_pass();
    return 0;
}
