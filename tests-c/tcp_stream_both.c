/* Streams over TCP both ways at once (issue 14 item 7): ranks r and r^1 send each other
 * windows of large messages (rendezvous pulls, answered by the sender's own thread while
 * it is itself pulling) and of 64 KiB eager frames, at the same time, into contiguous and
 * strided receive buffers. Every byte is checked. Run over TCP (tcp_stream_both.sh sets
 * OXIMPI_TRANSPORT=tcp); with an odd rank count the last rank only joins the barrier.
 *
 * What it guards: a rank that answers its peer's reads while the peer answers its own
 * (both writing megabytes into sockets neither is reading at that moment) must not
 * deadlock, and a frame whose rest is awaited without blocking (the spin of the TCP
 * transport) must arrive whole and in order. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c, ...)                                                              \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "tcp_stream_both: rank %d: ", rank);                   \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, "\n");                                                 \
            MPI_Abort(MPI_COMM_WORLD, 1);                                          \
        }                                                                          \
    } while (0)

#define BIG (4 << 20)
#define NBIG 6
#define SMALL (64 << 10)
#define NSMALL 64

static int rank, size;

/* The byte at offset i of message m from rank src. */
static unsigned char pattern(int src, int m, long i) {
    return (unsigned char)(src * 131 + m * 17 + i * 7 + (i >> 12));
}

static void fill(unsigned char *b, long n, int src, int m) {
    for (long i = 0; i < n; i++)
        b[i] = pattern(src, m, i);
}

static void check(const unsigned char *b, long n, int src, int m, const char *what) {
    for (long i = 0; i < n; i++)
        CHECK(b[i] == pattern(src, m, i), "%s message %d from %d: byte %ld is %d, not %d",
              what, m, src, i, b[i], pattern(src, m, i));
}

/* One window of `count` messages of `len` bytes each way with `peer`. */
static void window(int peer, long len, int count, int round) {
    unsigned char **out = malloc(sizeof *out * count), **in = malloc(sizeof *in * count);
    MPI_Request *req = malloc(sizeof *req * 2 * count);
    CHECK(out && in && req, "out of memory");
    for (int m = 0; m < count; m++) {
        out[m] = malloc(len);
        in[m] = malloc(len);
        CHECK(out[m] && in[m], "out of memory");
        fill(out[m], len, rank, m + round);
        memset(in[m], 0xee, len);
    }
    for (int m = 0; m < count; m++)
        MPI_Irecv(in[m], (int)len, MPI_BYTE, peer, m, MPI_COMM_WORLD, &req[m]);
    for (int m = 0; m < count; m++)
        MPI_Isend(out[m], (int)len, MPI_BYTE, peer, m, MPI_COMM_WORLD, &req[count + m]);
    MPI_Waitall(2 * count, req, MPI_STATUSES_IGNORE);
    for (int m = 0; m < count; m++) {
        check(in[m], len, peer, m + round, len > SMALL ? "large" : "eager");
        free(out[m]);
        free(in[m]);
    }
    free(out);
    free(in);
    free(req);
}

/* A large message into a strided receive (the pull lands in many ranges). */
static void strided(int peer) {
    const int blocks = 1024, blen = 2048, stride = 3072;
    long n = (long)blocks * blen;
    unsigned char *out = malloc(n), *in = malloc((long)blocks * stride);
    CHECK(out && in, "out of memory");
    fill(out, n, rank, 99);
    memset(in, 0xee, (long)blocks * stride);
    MPI_Datatype vec;
    MPI_Type_vector(blocks, blen, stride, MPI_BYTE, &vec);
    MPI_Type_commit(&vec);
    MPI_Sendrecv(out, (int)n, MPI_BYTE, peer, 5, in, 1, vec, peer, 5, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    for (int b = 0; b < blocks; b++) {
        for (int i = 0; i < blen; i++) {
            long at = (long)b * blen + i;
            CHECK(in[(long)b * stride + i] == pattern(peer, 99, at),
                  "strided: byte %ld from %d is wrong", at, peer);
        }
        for (int i = blen; i < stride; i++)
            CHECK(in[(long)b * stride + i] == 0xee, "strided: the gap after block %d written",
                  b);
    }
    MPI_Type_free(&vec);
    free(out);
    free(in);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int peer = rank ^ 1;
    if (peer < size) {
        for (int round = 0; round < 2; round++) {
            window(peer, BIG, NBIG, round);
            window(peer, SMALL, NSMALL, round);
        }
        strided(peer);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0)
        printf("PASS tcp_stream_both\n");
    MPI_Finalize();
    return 0;
}
