/* The straight line of small sends up to 2 KiB (p2p17, issue 13): a send of a predefined
 * type whose elements lie in one run of at most 2048 bytes goes from the user's memory into
 * the fast box, or, when the ring cannot take it, into a cell, without the general path;
 * larger messages and derived types take the general path.
 *
 * Checked, for each send form (Send, Isend, Rsend, Irsend, Ssend, Issend, Bsend) and for
 * byte, int and double counts whose bytes lie around 256, 2048 and 2049, odd sizes and odd
 * buffer addresses, with the receive posted first and unexpected: every byte arrives, the
 * status counts it. Derived types of the same sizes (contiguous, and a vector with a gap)
 * arrive whole. A window of 64 nonblocking sends of mixed sizes (0 B - 2049 B: the ring fills
 * and later messages fall to cells) arrives in send order, posted first and unexpected. */
#include "oxitest.h"
#include <stdint.h>
#include <string.h>

enum { FORMS = 7, MAXB = 8192, TAG_NOTE = 99 };

static const char *form_name[FORMS] = {"Send", "Isend", "Rsend", "Irsend",
                                       "Ssend", "Issend", "Bsend"};

/* Sizes in bytes: around 256, 2048 and 2049, odd ones between, and one well past. */
static const int sizes[] = {0,    1,    255,  256,  257,  511,  1000, 1023, 1024, 1025,
                            1531, 2040, 2047, 2048, 2049, 2050, 2056, 3001, 4097};
enum { NSIZES = sizeof sizes / sizeof sizes[0] };

static unsigned char out[MAXB + 16], in[MAXB + 16];

/* Sends `count` of `t` from `buf` in form f (the ready forms only after the receiver said
 * its receive is posted). */
static void send_form(int f, const void *buf, int count, MPI_Datatype t, int tag)
{
    MPI_Request r;
    switch (f) {
    case 0: MPI_CHECK(MPI_Send(buf, count, t, 1, tag, MPI_COMM_WORLD)); break;
    case 1:
        MPI_CHECK(MPI_Isend(buf, count, t, 1, tag, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        break;
    case 2: MPI_CHECK(MPI_Rsend(buf, count, t, 1, tag, MPI_COMM_WORLD)); break;
    case 3:
        MPI_CHECK(MPI_Irsend(buf, count, t, 1, tag, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        break;
    case 4: MPI_CHECK(MPI_Ssend(buf, count, t, 1, tag, MPI_COMM_WORLD)); break;
    case 5:
        MPI_CHECK(MPI_Issend(buf, count, t, 1, tag, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        break;
    default: MPI_CHECK(MPI_Bsend(buf, count, t, 1, tag, MPI_COMM_WORLD));
    }
}

static void fill(unsigned char *p, int n, unsigned seed)
{
    for (int k = 0; k < n; k++)
        p[k] = ot_byte(seed, (size_t)k);
}

static int filled(const unsigned char *p, int n, unsigned seed)
{
    for (int k = 0; k < n; k++)
        if (p[k] != ot_byte(seed, (size_t)k))
            return 0;
    return 1;
}

/* One message of `count` x `t` (`bytes` of it, `elem` bytes each) from rank 0 to rank 1,
 * sent in form f from `out + off`, received either posted first or unexpected (the sender
 * sends it, then a note; the receiver takes the note first). */
static void one(int f, MPI_Datatype t, int elem, int count, int off, int unexpected,
                unsigned seed)
{
    int bytes = count * elem, tag = 1 + f;
    if (ot_rank == 0) {
        fill(out + off, bytes, seed);
        if (!unexpected)
            MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, 1, TAG_NOTE, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        send_form(f, out + off, count, t, tag);
        if (unexpected)
            MPI_CHECK(MPI_Send(NULL, 0, MPI_BYTE, 1, TAG_NOTE, MPI_COMM_WORLD));
    } else {
        MPI_Request r;
        MPI_Status st;
        int got = -1;
        memset(in, 0xA5, sizeof in);
        if (unexpected) {
            MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, 0, TAG_NOTE, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            MPI_CHECK(MPI_Recv(in + off, MAXB / elem, t, 0, tag, MPI_COMM_WORLD, &st));
        } else {
            MPI_CHECK(MPI_Irecv(in + off, MAXB / elem, t, 0, tag, MPI_COMM_WORLD, &r));
            MPI_CHECK(MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_NOTE, MPI_COMM_WORLD));
            MPI_CHECK(MPI_Wait(&r, &st));
        }
        MPI_CHECK(MPI_Get_count(&st, t, &got));
        CHECK(got == count, "%s of %d x %d B at +%d (%s): received count %d", form_name[f],
              count, elem, off, unexpected ? "unexpected" : "posted", got);
        CHECK(filled(in + off, bytes, seed), "%s of %d B at +%d (%s): wrong bytes",
              form_name[f], bytes, off, unexpected ? "unexpected" : "posted");
        CHECK(in[off + bytes] == 0xA5, "%s of %d B: byte past the message written",
              form_name[f], bytes);
    }
}

static void forms(void)
{
    struct { MPI_Datatype t; int elem; } kinds[] = {{MPI_BYTE, 1}, {MPI_INT, 4}, {MPI_DOUBLE, 8}};
    unsigned seed = 1;
    for (int f = 0; f < FORMS; f++)
        for (int k = 0; k < 3; k++)
            for (int s = 0; s < NSIZES; s++) {
                int count = sizes[s] / kinds[k].elem;
                if (kinds[k].elem > 1 && count * kinds[k].elem != sizes[s])
                    count++; /* the element count whose bytes pass this size */
                /* The ready forms need the receive posted, the synchronous ones its match. */
                for (int unexpected = 0; unexpected < (f >= 2 && f <= 5 ? 1 : 2); unexpected++)
                    one(f, kinds[k].t, kinds[k].elem, count, kinds[k].elem == 1 ? 3 : 0,
                        unexpected, seed++);
            }
}

/* Derived types of straight-line sizes take the general path: a contiguous type of n bytes
 * (one element) and a vector of two blocks of n/2 bytes with a gap of 5 bytes. */
static void derived(void)
{
    static const int n[] = {256, 258, 1024, 2048, 2050};
    for (int i = 0; i < 5; i++) {
        MPI_Datatype contig, vec;
        MPI_CHECK(MPI_Type_contiguous(n[i], MPI_BYTE, &contig));
        MPI_CHECK(MPI_Type_commit(&contig));
        MPI_CHECK(MPI_Type_vector(2, n[i] / 2, n[i] / 2 + 5, MPI_BYTE, &vec));
        MPI_CHECK(MPI_Type_commit(&vec));
        for (int f = 0; f < 2; f++) {
            unsigned seed = 1000 + 10 * i + f;
            if (ot_rank == 0) {
                fill(out, MAXB, seed);
                MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, 1, TAG_NOTE, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                send_form(f, out, 1, contig, 40);
                send_form(f, out, 1, vec, 41);
            } else {
                MPI_Status st;
                int got = -1;
                MPI_CHECK(MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_NOTE, MPI_COMM_WORLD));
                memset(in, 0xA5, sizeof in);
                MPI_CHECK(MPI_Recv(in, MAXB, MPI_BYTE, 0, 40, MPI_COMM_WORLD, &st));
                MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &got));
                CHECK(got == n[i] && filled(in, n[i], seed), "contiguous type of %d B: %d B", n[i],
                      got);
                memset(in, 0xA5, sizeof in);
                MPI_CHECK(MPI_Recv(in, MAXB, MPI_BYTE, 0, 41, MPI_COMM_WORLD, &st));
                MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &got));
                int h = n[i] / 2, ok = got == 2 * h;
                for (int k = 0; ok && k < h; k++)
                    ok = in[k] == ot_byte(seed, (size_t)k) &&
                         in[h + k] == ot_byte(seed, (size_t)(h + 5 + k));
                CHECK(ok, "vector of 2 x %d B with a gap: %d B, wrong bytes or count", h, got);
            }
        }
        MPI_CHECK(MPI_Type_free(&contig));
        MPI_CHECK(MPI_Type_free(&vec));
    }
}

/* A window of W nonblocking sends of mixed sizes on one tag, in order, W times over. */
static void window(void)
{
    enum { W = 64, ROUNDS = 20, MAXW = 2049 };
    static unsigned char wout[W][MAXW], win[W][MAXW];
    for (int round = 0; round < ROUNDS; round++) {
        int unexpected = round % 2;
        MPI_Request r[W];
        int len[W];
        for (int i = 0; i < W; i++) {
            unsigned v = (unsigned)(round * 131 + i * 977);
            len[i] = i % 9 == 0 ? 0 : i % 5 == 0 ? 2049 : i % 4 == 0 ? 2048 : (int)(v % MAXW);
        }
        if (ot_rank == 0) {
            if (!unexpected)
                MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, 1, TAG_NOTE, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            for (int i = 0; i < W; i++) {
                fill(wout[i], len[i], (unsigned)(round * W + i));
                MPI_CHECK(MPI_Isend(wout[i], len[i], MPI_BYTE, 1, 50, MPI_COMM_WORLD, &r[i]));
            }
            MPI_CHECK(MPI_Waitall(W, r, MPI_STATUSES_IGNORE));
            if (unexpected)
                MPI_CHECK(MPI_Send(NULL, 0, MPI_BYTE, 1, TAG_NOTE, MPI_COMM_WORLD));
        } else {
            MPI_Status st[W];
            if (unexpected)
                MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, 0, TAG_NOTE, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            for (int i = 0; i < W; i++)
                MPI_CHECK(MPI_Irecv(win[i], MAXW, MPI_BYTE, 0, 50, MPI_COMM_WORLD, &r[i]));
            if (!unexpected)
                MPI_CHECK(MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_NOTE, MPI_COMM_WORLD));
            MPI_CHECK(MPI_Waitall(W, r, st));
            for (int i = 0; i < W; i++) {
                int got = -1;
                MPI_CHECK(MPI_Get_count(&st[i], MPI_BYTE, &got));
                CHECK(got == len[i] && filled(win[i], len[i], (unsigned)(round * W + i)),
                      "window round %d (%s): message %d of %d B arrived as %d B or out of order",
                      round, unexpected ? "unexpected" : "posted", i, len[i], got);
            }
        }
    }
}

int main(int argc, char **argv)
{
    ot_init("p2p17_small_range", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    static unsigned char bsend_buf[4 * (MAXB + MPI_BSEND_OVERHEAD)];
    MPI_CHECK(MPI_Buffer_attach(bsend_buf, sizeof bsend_buf));
    if (ot_rank <= 1) {
        forms();
        derived();
        window();
    }
    void *b;
    int bs;
    MPI_CHECK(MPI_Buffer_detach(&b, &bs));
    ot_pass();
    return 0;
}
