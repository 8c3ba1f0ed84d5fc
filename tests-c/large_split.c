/* Split single-copy transfers (OXIMPI_CMA_SPLIT): the receiver of a large contiguous
 * message reads its first half from the sender's memory while the sender writes the second
 * half into the receiver's buffer. Set here before MPI_Init: OXIMPI_CMA_MIN=0 (every
 * rendezvous message single-copy) and OXIMPI_CMA_SPLIT=SPLIT (odd); other implementations
 * ignore both. Every rank sends to the next and receives from the previous one (a ring) and
 * every byte is checked, with guard bytes around each receive buffer:
 *   - contiguous messages of SPLIT-1, SPLIT, SPLIT+1 and around the page boundaries where the
 *     halves meet, standard and synchronous mode, at buffer offsets 0, 1 and 4095;
 *   - a strided (vector) type on the sender, on the receiver, and on both, below and above;
 *   - truncation above SPLIT (MPI_ERR_TRUNCATE, the leading bytes delivered, nothing past);
 *   - a window of nonblocking messages mixing eager, read and split sizes, posted before
 *     any completes, and the same with the receives posted after the messages arrived
 *     (unexpected), and through MPI_Mprobe/MPI_Mrecv and MPI_ANY_SOURCE;
 *   - a sender that starts MPI_Isend and only later enters MPI_Wait (the receive completes
 *     once it does);
 *   - MPI_Cancel of a large unmatched send;
 * and through the single_copy_reads counter, on the node segment (not under
 * OXIMPI_TRANSPORT=tcp), that every contiguous message counts one single-copy transfer.
 */
#include "oxitest.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPLIT 200001
#define GUARD 64

static int next, prev;
static int reads_on = 1;
/* Single-copy reads made so far by this process (OxiMPI's counter). */
static ot_counter reads = OT_COUNTER_INIT;

/* A receive buffer of n bytes at offset `off` inside an allocation with GUARD bytes of 0xC5
 * on either side; check_guards() finds any byte written outside. */
static unsigned char *guarded(size_t n, size_t off, unsigned char **base)
{
    *base = ot_malloc(n + off + 2 * GUARD);
    memset(*base, 0xC5, n + off + 2 * GUARD);
    unsigned char *r = *base + GUARD + off;
    memset(r, 0, n);
    return r;
}

static void check_guards(const unsigned char *r, size_t n, const char *what)
{
    for (int k = 1; k <= GUARD; k++)
        CHECK(r[-k] == 0xC5, "%s (%zu bytes): wrote before the buffer (-%d)", what, n, k);
    for (int k = 0; k < GUARD; k++)
        CHECK(r[n + k] == 0xC5, "%s (%zu bytes): wrote past the buffer (+%d)", what, n, k);
}

static void expect_reads(long long before, long long want, const char *what, int n)
{
    long long after = ot_counter_read(&reads);
    if (before < 0 || !reads_on)
        return;
    CHECK(after == before + want, "%s (%d bytes): %lld single-copy transfers, expected %lld",
          what, n, after - before, want);
}

/* Contiguous ring transfer of n bytes, the receive buffer at offset `roff`, the send
 * buffer at offset `soff`, in standard or synchronous mode. */
static void ring_contig(int n, int sync, size_t soff, size_t roff, unsigned seed)
{
    unsigned char *sbase = ot_malloc(n + soff), *s = sbase + soff, *rbase;
    for (int i = 0; i < n; i++)
        s[i] = ot_byte(seed + ot_rank, i);
    unsigned char *r = guarded(n, roff, &rbase);
    MPI_Request rq;
    MPI_Status st;
    long long before = ot_counter_read(&reads);
    MPI_CHECK(MPI_Irecv(r, n, MPI_BYTE, prev, 1, MPI_COMM_WORLD, &rq));
    if (sync)
        MPI_CHECK(MPI_Ssend(s, n, MPI_BYTE, next, 1, MPI_COMM_WORLD));
    else
        MPI_CHECK(MPI_Send(s, n, MPI_BYTE, next, 1, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Wait(&rq, &st));
    ot_check_status(&st, prev, 1, n, sync ? "ssend" : "send");
    long bad = ot_verify(r, n, seed + prev);
    CHECK(bad < 0, "%s of %d bytes (offsets %zu/%zu): byte %ld wrong", sync ? "ssend" : "send",
          n, soff, roff, bad);
    check_guards(r, n, "contiguous");
    expect_reads(before, 1, "contiguous", n);
    free(sbase);
    free(rbase);
}

/* n bytes as blocks of 40 out of every 56 (a vector) on the sender (vs), the receiver (vr),
 * or both; the other side contiguous. */
static void ring_vector(int n, int vs, int vr, unsigned seed)
{
    const int blk = 40, stride = 56;
    int nblk = (n + blk - 1) / blk;
    n = nblk * blk;
    MPI_Datatype vec;
    MPI_CHECK(MPI_Type_vector(nblk, blk, stride, MPI_BYTE, &vec));
    MPI_CHECK(MPI_Type_commit(&vec));
    size_t span = (size_t)nblk * stride;
    unsigned char *packed = ot_filled(n, seed + ot_rank);
    unsigned char *s = ot_malloc(span), *r = ot_malloc(span);
    memset(s, 0xEE, span);
    memset(r, 0xDD, span);
    for (int b = 0; b < nblk; b++)
        memcpy(s + (size_t)b * stride, packed + (size_t)b * blk, blk);
    MPI_Request rq;
    MPI_Status st;
    if (vr)
        MPI_CHECK(MPI_Irecv(r, 1, vec, prev, 2, MPI_COMM_WORLD, &rq));
    else
        MPI_CHECK(MPI_Irecv(r, n, MPI_BYTE, prev, 2, MPI_COMM_WORLD, &rq));
    if (vs)
        MPI_CHECK(MPI_Send(s, 1, vec, next, 2, MPI_COMM_WORLD));
    else
        MPI_CHECK(MPI_Send(packed, n, MPI_BYTE, next, 2, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Wait(&rq, &st));
    int cnt = -1;
    MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &cnt));
    CHECK(cnt == n, "vector %d/%d: count %d, expected %d", vs, vr, cnt, n);
    for (int b = 0; b < nblk; b++) {
        const unsigned char *got = vr ? r + (size_t)b * stride : r + (size_t)b * blk;
        for (int k = 0; k < blk; k++)
            CHECK(got[k] == ot_byte(seed + prev, (size_t)b * blk + k),
                  "vector %d/%d, %d bytes: block %d byte %d wrong", vs, vr, n, b, k);
        if (vr)
            for (int k = blk; k < stride && (size_t)b * stride + k < span; k++)
                CHECK(r[(size_t)b * stride + k] == 0xDD, "vector receive wrote a gap (block %d)",
                      b);
    }
    if (!vr)
        for (size_t k = n; k < span; k++)
            CHECK(r[k] == 0xDD, "contiguous receive of a vector wrote past %d bytes", n);
    MPI_CHECK(MPI_Type_free(&vec));
    free(packed);
    free(s);
    free(r);
}

/* A message of n bytes into a receive of n - cut bytes: MPI_ERR_TRUNCATE, the first n - cut
 * bytes delivered, nothing written past them. */
static void ring_truncate(int n, int cut, unsigned seed)
{
    int room = n - cut;
    unsigned char *s = ot_filled(n, seed + ot_rank), *rbase;
    unsigned char *r = guarded(room, 0, &rbase);
    MPI_Request rq;
    MPI_Status st;
    MPI_CHECK(MPI_Irecv(r, room, MPI_BYTE, prev, 3, MPI_COMM_WORLD, &rq));
    MPI_CHECK(MPI_Send(s, n, MPI_BYTE, next, 3, MPI_COMM_WORLD));
    int rc = MPI_Wait(&rq, &st);
    int cls = -1;
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_TRUNCATE, "truncating %d into %d: class %d", n, room, cls);
    long bad = ot_verify(r, room, seed + prev);
    CHECK(bad < 0, "truncated %d into %d: byte %ld wrong", n, room, bad);
    check_guards(r, room, "truncated");
    free(s);
    free(rbase);
}

static const int wsizes[] = {10,        40000,     SPLIT - 1, SPLIT,     SPLIT + 1,
                             3 * SPLIT, 7,         SPLIT + 1, 1 << 20,   SPLIT - 1,
                             2 * SPLIT, (1 << 21) + 5};
enum { WN = sizeof wsizes / sizeof wsizes[0] };

static void check_window(unsigned char **r, unsigned char **rbase, MPI_Status *st, int src,
                         unsigned seed, const char *what)
{
    for (int i = 0; i < WN; i++) {
        ot_check_status(&st[i], src, 100 + i, wsizes[i], what);
        long bad = ot_verify(r[i], wsizes[i], seed + 16 * src + i);
        CHECK(bad < 0, "%s message %d (%d bytes): byte %ld wrong", what, i, wsizes[i], bad);
        check_guards(r[i], wsizes[i], what);
        free(rbase[i]);
    }
}

/* A window of nonblocking messages of mixed sizes. `late`: the receives are posted only
 * after every message has arrived (a barrier after the sends started), so they match
 * unexpected RTSs. */
static void ring_window(int late, unsigned seed)
{
    unsigned char *s[WN], *r[WN], *rbase[WN];
    MPI_Request rq[2 * WN];
    MPI_Status st[2 * WN];
    for (int i = 0; i < WN; i++) {
        s[i] = ot_filled(wsizes[i], seed + 16 * ot_rank + i);
        r[i] = guarded(wsizes[i], (size_t)i * 3, &rbase[i]);
        if (!late)
            MPI_CHECK(
                MPI_Irecv(r[i], wsizes[i], MPI_BYTE, prev, 100 + i, MPI_COMM_WORLD, &rq[i]));
    }
    for (int i = 0; i < WN; i++)
        MPI_CHECK(
            MPI_Isend(s[i], wsizes[i], MPI_BYTE, next, 100 + i, MPI_COMM_WORLD, &rq[WN + i]));
    if (late) {
        ot_sync(MPI_COMM_WORLD);
        /* in reverse tag order: each receive matches its own message, not the oldest */
        for (int i = WN - 1; i >= 0; i--)
            MPI_CHECK(
                MPI_Irecv(r[i], wsizes[i], MPI_BYTE, prev, 100 + i, MPI_COMM_WORLD, &rq[i]));
    }
    MPI_CHECK(MPI_Waitall(2 * WN, rq, st));
    check_window(r, rbase, st, prev, seed, late ? "late window" : "window");
    for (int i = 0; i < WN; i++)
        free(s[i]);
}

/* The window again, received with MPI_Mprobe/MPI_Mrecv from MPI_ANY_SOURCE (2 ranks: the
 * only sender is prev; more: each rank takes its tags from whoever sent them). */
static void ring_mprobe(unsigned seed)
{
    unsigned char *s[WN], *r[WN], *rbase[WN];
    MPI_Request rq[WN];
    MPI_Status st[WN];
    for (int i = 0; i < WN; i++) {
        s[i] = ot_filled(wsizes[i], seed + 16 * ot_rank + i);
        r[i] = guarded(wsizes[i], 1, &rbase[i]);
        MPI_CHECK(MPI_Isend(s[i], wsizes[i], MPI_BYTE, next, 100 + i, MPI_COMM_WORLD, &rq[i]));
    }
    for (int i = 0; i < WN; i++) {
        MPI_Message m;
        MPI_Status ps;
        MPI_CHECK(MPI_Mprobe(MPI_ANY_SOURCE, 100 + i, MPI_COMM_WORLD, &m, &ps));
        CHECK(ps.MPI_SOURCE == prev, "mprobe %d: source %d, expected %d", i, ps.MPI_SOURCE,
              prev);
        MPI_CHECK(MPI_Mrecv(r[i], wsizes[i], MPI_BYTE, &m, &st[i]));
    }
    MPI_CHECK(MPI_Waitall(WN, rq, MPI_STATUSES_IGNORE));
    check_window(r, rbase, st, prev, seed, "mprobe window");
    for (int i = 0; i < WN; i++)
        free(s[i]);
}

/* The sender starts the send and only enters MPI again 50 ms later: the receive (posted
 * from MPI_ANY_SOURCE) still completes with every byte. */
static void ring_late_sender(int n, unsigned seed)
{
    unsigned char *s = ot_filled(n, seed + ot_rank), *rbase;
    unsigned char *r = guarded(n, 0, &rbase);
    MPI_Request rq[2];
    MPI_Status st[2];
    MPI_CHECK(MPI_Irecv(r, n, MPI_BYTE, MPI_ANY_SOURCE, 6, MPI_COMM_WORLD, &rq[0]));
    MPI_CHECK(MPI_Isend(s, n, MPI_BYTE, next, 6, MPI_COMM_WORLD, &rq[1]));
    usleep(50000);
    MPI_CHECK(MPI_Waitall(2, rq, st));
    ot_check_status(&st[0], prev, 6, n, "late sender");
    long bad = ot_verify(r, n, seed + prev);
    CHECK(bad < 0, "late sender, %d bytes: byte %ld wrong", n, bad);
    check_guards(r, n, "late sender");
    free(s);
    free(rbase);
}

int main(int argc, char **argv)
{
    char split[32];
    snprintf(split, sizeof split, "%d", SPLIT);
    setenv("OXIMPI_CMA_MIN", "0", 1);
    setenv("OXIMPI_CMA_SPLIT", split, 1);
    reads_on = !(getenv("OXIMPI_CMA") && strcmp(getenv("OXIMPI_CMA"), "0") == 0);
    ot_init("large_split", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    next = (ot_rank + 1) % ot_size;
    prev = (ot_rank + ot_size - 1) % ot_size;
    const char *transport = getenv("OXIMPI_TRANSPORT");
    if (ot_size > 1 && !(transport && strcmp(transport, "tcp") == 0))
        ot_counter_open(&reads, "single_copy_reads");

    /* around SPLIT, and around the page boundaries where the halves meet ((n/2) & ~4095) */
    static const int sizes[] = {SPLIT - 1,  SPLIT,          SPLIT + 1,      2 * 4096 * 30 - 1,
                                2 * 4096 * 30, 2 * 4096 * 30 + 1, 2 * 4096 * 30 + 8191,
                                (1 << 20) - 1, 1 << 20,        (1 << 22) + 3};
    static const size_t offs[][2] = {{0, 0}, {1, 0}, {0, 1}, {4095, 3}};
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (unsigned o = 0; o < sizeof offs / sizeof offs[0]; o++) {
            ring_contig(sizes[i], 0, offs[o][0], offs[o][1], 10 + i * 4 + o);
            if (o == 0)
                ring_contig(sizes[i], 1, 0, 0, 60 + i);
        }
    for (int vs = 0; vs < 2; vs++)
        for (int vr = 0; vr < 2; vr++)
            if (vs || vr) {
                ring_vector(SPLIT - 1000, vs, vr, 80);
                ring_vector(2 * SPLIT + 1000, vs, vr, 81);
            }
    ring_truncate(SPLIT + 1, 1, 90);
    ring_truncate(2 * SPLIT, SPLIT / 2, 91);
    ring_window(0, 100);
    ring_window(1, 120);
    ring_mprobe(140);
    ring_late_sender(3 * SPLIT, 160);
    ot_ring_cancel(3 * SPLIT, 170, next, prev);
    ot_sync(MPI_COMM_WORLD);
    ot_counter_close(&reads);
    return ot_pass();
}
