/* Messages around the TCP transport's eager frame limit (1 MiB since session 18; 128 KiB
 * before) and the rendezvous above it, over TCP (tcp_eager_large.sh sets OXIMPI_TRANSPORT=tcp):
 * unexpected (sent before the receive is posted, matched out of order, one found by
 * MPI_Probe first), to posted receives, and one truncated (MPI_ERR_TRUNCATE through
 * MPI_ERRORS_RETURN, the sender unaffected). Every byte and every status is checked.
 *
 * What it guards: a frame up to the limit is read whole into a buffer of the receiver's
 * pool, delivered to a receive posted before or after it came, and given back; the sizes
 * past it go by rendezvous, unexpected ones included. */
#include "oxitest.h"

static const int sizes[] = {(128 << 10) - 1, (128 << 10) + 1, 256 << 10, (1 << 20) - 48,
                            1 << 20, (1 << 20) + 1, (2 << 20) + 3};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

static void check_message(const char *what, int m, const unsigned char *b, int n,
                          MPI_Status *st) {
    int count;
    MPI_Get_count(st, MPI_BYTE, &count);
    CHECK(count == n, "%s message %d: count %d, expected %d", what, m, count, n);
    CHECK(st->MPI_SOURCE == 0 && st->MPI_TAG == m, "%s message %d: source %d tag %d", what,
          m, st->MPI_SOURCE, st->MPI_TAG);
    long bad = ot_verify(b, n, m);
    CHECK(bad < 0, "%s message %d (%d bytes): byte %ld is %d, expected %d", what, m, n, bad,
          bad < 0 ? 0 : b[bad], bad < 0 ? 0 : ot_byte(m, bad));
}

int main(int argc, char **argv) {
    ot_init("tcp_eager_large", &argc, &argv);
    int rank = ot_rank;
    CHECK(ot_size >= 2, "needs 2 ranks");
    unsigned char *out[NSIZES], *in[NSIZES];
    MPI_Request req[NSIZES];
    MPI_Status st[NSIZES];

    /* Unexpected: every message is sent before rank 1 posts a receive (the eager ones
     * arrive before the barrier's message, which follows them on the same stream). */
    if (rank == 0) {
        for (int m = 0; m < NSIZES; m++) {
            out[m] = ot_filled(sizes[m], m);
            MPI_Isend(out[m], sizes[m], MPI_BYTE, 1, m, MPI_COMM_WORLD, &req[m]);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Waitall(NSIZES, req, MPI_STATUSES_IGNORE);
        for (int m = 0; m < NSIZES; m++)
            free(out[m]);
    } else if (rank == 1) {
        MPI_Barrier(MPI_COMM_WORLD);
        /* The 1 MiB one found by a probe first, then the others from the last. */
        MPI_Status ps;
        MPI_Probe(0, 4, MPI_COMM_WORLD, &ps);
        int count;
        MPI_Get_count(&ps, MPI_BYTE, &count);
        CHECK(count == sizes[4], "probe: count %d, expected %d", count, sizes[4]);
        for (int j = 0; j < NSIZES; j++) {
            /* 4 (the probed one), then NSIZES-1 down to 0 without 4. */
            int k = j == 0 ? 4 : NSIZES - j - (NSIZES - j <= 4);
            in[k] = calloc(sizes[k], 1);
            CHECK(in[k], "out of memory");
            MPI_Recv(in[k], sizes[k], MPI_BYTE, 0, k, MPI_COMM_WORLD, &st[k]);
            check_message("unexpected", k, in[k], sizes[k], &st[k]);
            free(in[k]);
        }
    } else {
        MPI_Barrier(MPI_COMM_WORLD);
    }

    /* Posted: rank 1 posts every receive before rank 0 sends. */
    if (rank == 1) {
        for (int m = 0; m < NSIZES; m++) {
            in[m] = calloc(sizes[m], 1);
            CHECK(in[m], "out of memory");
            MPI_Irecv(in[m], sizes[m], MPI_BYTE, 0, m, MPI_COMM_WORLD, &req[m]);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Waitall(NSIZES, req, st);
        for (int m = 0; m < NSIZES; m++) {
            check_message("posted", m, in[m], sizes[m], &st[m]);
            free(in[m]);
        }
    } else if (rank == 0) {
        MPI_Barrier(MPI_COMM_WORLD);
        for (int m = 0; m < NSIZES; m++) {
            out[m] = ot_filled(sizes[m], m);
            MPI_Send(out[m], sizes[m], MPI_BYTE, 1, m, MPI_COMM_WORLD);
            free(out[m]);
        }
    } else {
        MPI_Barrier(MPI_COMM_WORLD);
    }

    /* Truncated: a 1 MiB eager message into a 256 KiB receive. */
    if (rank == 0) {
        out[0] = ot_filled(1 << 20, 9);
        int err = MPI_Send(out[0], 1 << 20, MPI_BYTE, 1, 9, MPI_COMM_WORLD);
        CHECK(err == MPI_SUCCESS, "the truncated message's send failed (%d)", err);
        free(out[0]);
    } else if (rank == 1) {
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        int n = 256 << 10;
        in[0] = calloc(n, 1);
        CHECK(in[0], "out of memory");
        MPI_Status ts;
        int err = MPI_Recv(in[0], n, MPI_BYTE, 0, 9, MPI_COMM_WORLD, &ts);
        int cls;
        MPI_Error_class(err, &cls);
        CHECK(cls == MPI_ERR_TRUNCATE, "a 1 MiB message into 256 KiB: class %d, expected "
              "MPI_ERR_TRUNCATE (%d)", cls, MPI_ERR_TRUNCATE);
        free(in[0]);
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    }

    return ot_pass();
}
