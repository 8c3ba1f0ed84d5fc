/* Large messages on both sides of the size that switches the rendezvous from pipelined
 * shared-memory cells to a single-copy read (OXIMPI_CMA_MIN, set here to an odd THRESH before
 * MPI_Init; other implementations ignore it). Every rank sends to the next and receives from
 * the previous one (a ring), and every byte is checked:
 *   - contiguous messages of THRESH-1, THRESH, THRESH+1 bytes and others around the cell size,
 *     standard and synchronous mode;
 *   - a strided (vector) type on the sender, on the receiver, and on both, below and above;
 *   - truncation below and above (MPI_ERR_TRUNCATE, the leading bytes delivered);
 *   - a window of nonblocking messages mixing eager, pipelined and single-copy sizes;
 *   - partitioned transfers whose pieces lie on either side;
 *   - MPI_Cancel of a large unmatched send below and above;
 * and, on the node segment (not under OXIMPI_TRANSPORT=tcp, where the threshold does not
 * apply), through the single_copy_reads counter, that messages below THRESH were streamed
 * (no read) and contiguous ones from THRESH up were read in one copy.
 */
#include "oxitest.h"
#include <stdlib.h>
#include <string.h>

#define THRESH 100001
#define CELL (32 * 1024)

static int next, prev;
/* Single-copy reads allowed (the run may switch them off with OXIMPI_CMA=0). */
static int reads_on = 1;
/* Single-copy reads made so far by this process (OxiMPI's counter). */
static ot_counter reads = OT_COUNTER_INIT;

/* The reads the receiver of a contiguous message of n bytes should have made. */
static void expect_reads(long long before, int n, int contiguous, const char *what)
{
    long long after = ot_counter_read(&reads);
    if (before < 0)
        return;
    if (n < THRESH || !contiguous || !reads_on)
        CHECK(after == before, "%s (%d bytes): %lld single-copy reads below the threshold", what,
              n, after - before);
    else
        CHECK(after == before + 1, "%s (%d bytes): %lld single-copy reads, expected 1", what, n,
              after - before);
}

/* Contiguous ring transfer of n bytes, in standard or synchronous mode. */
static void ring_contig(int n, int sync, unsigned seed)
{
    unsigned char *s = ot_filled(n, seed + ot_rank), *r = ot_malloc(n);
    MPI_Request rq;
    MPI_Status st;
    long long before = ot_counter_read(&reads);
    memset(r, 0, n);
    MPI_CHECK(MPI_Irecv(r, n, MPI_BYTE, prev, 1, MPI_COMM_WORLD, &rq));
    if (sync)
        MPI_CHECK(MPI_Ssend(s, n, MPI_BYTE, next, 1, MPI_COMM_WORLD));
    else
        MPI_CHECK(MPI_Send(s, n, MPI_BYTE, next, 1, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Wait(&rq, &st));
    ot_check_status(&st, prev, 1, n, sync ? "ssend" : "send");
    long bad = ot_verify(r, n, seed + prev);
    CHECK(bad < 0, "%s of %d bytes: byte %ld wrong", sync ? "ssend" : "send", n, bad);
    expect_reads(before, n, 1, sync ? "ssend" : "send");
    free(s);
    free(r);
}

/* n bytes as blocks of 40 out of every 56 (a vector), on the sender (vs), the receiver
 * (vr), or both; the other side contiguous. */
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
    long long before = ot_counter_read(&reads);
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
        for (int k = 0; k < blk; k++) {
            unsigned char want = ot_byte(seed + prev, (size_t)b * blk + k);
            CHECK(got[k] == want, "vector %d/%d, %d bytes: block %d byte %d wrong", vs, vr, n,
                  b, k);
        }
        if (vr)
            for (int k = blk; k < stride && (size_t)b * stride + k < span; k++)
                CHECK(r[(size_t)b * stride + k] == 0xDD, "vector receive wrote a gap (block %d)",
                      b);
    }
    /* Only a contiguous sender offers its memory for a read. */
    expect_reads(before, n, !vs, "vector");
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
    unsigned char *s = ot_filled(n, seed + ot_rank), *r = ot_malloc(room + 64);
    memset(r, 0xAB, room + 64);
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
    for (int k = 0; k < 64; k++)
        CHECK(r[room + k] == 0xAB, "truncated %d into %d: wrote past the buffer (+%d)", n, room,
              k);
    free(s);
    free(r);
}

/* A window of nonblocking messages of mixed sizes, all posted before any completes. */
static void ring_window(unsigned seed)
{
    static const int sizes[] = {10,         CELL,       CELL + 1,   THRESH - 1, THRESH,
                                THRESH + 1, 3 * CELL,   2 * THRESH, 7,          THRESH - 1,
                                THRESH + 1, 4 * CELL + 3};
    enum { N = sizeof sizes / sizeof sizes[0] };
    unsigned char *s[N], *r[N];
    MPI_Request rq[2 * N];
    MPI_Status st[2 * N];
    for (int i = 0; i < N; i++) {
        s[i] = ot_filled(sizes[i], seed + 16 * ot_rank + i);
        r[i] = ot_malloc(sizes[i]);
        memset(r[i], 0, sizes[i]);
        MPI_CHECK(MPI_Irecv(r[i], sizes[i], MPI_BYTE, prev, 100 + i, MPI_COMM_WORLD, &rq[i]));
    }
    for (int i = 0; i < N; i++)
        MPI_CHECK(MPI_Isend(s[i], sizes[i], MPI_BYTE, next, 100 + i, MPI_COMM_WORLD, &rq[N + i]));
    MPI_CHECK(MPI_Waitall(2 * N, rq, st));
    for (int i = 0; i < N; i++) {
        ot_check_status(&st[i], prev, 100 + i, sizes[i], "window");
        long bad = ot_verify(r[i], sizes[i], seed + 16 * prev + i);
        CHECK(bad < 0, "window message %d (%d bytes): byte %ld wrong", i, sizes[i], bad);
        free(s[i]);
        free(r[i]);
    }
}

/* A partitioned transfer of `parts` partitions of `each` bytes, readied in reverse order. */
static void ring_partitioned(int parts, int each, unsigned seed)
{
    size_t n = (size_t)parts * each;
    unsigned char *s = ot_filled(n, seed + ot_rank), *r = ot_malloc(n);
    memset(r, 0, n);
    MPI_Request ps, pr;
    MPI_CHECK(MPI_Precv_init(r, parts, each, MPI_BYTE, prev, 4, MPI_COMM_WORLD, MPI_INFO_NULL,
                             &pr));
    MPI_CHECK(MPI_Psend_init(s, parts, each, MPI_BYTE, next, 4, MPI_COMM_WORLD, MPI_INFO_NULL,
                             &ps));
    MPI_CHECK(MPI_Start(&pr));
    MPI_CHECK(MPI_Start(&ps));
    for (int p = parts - 1; p >= 0; p--)
        MPI_CHECK(MPI_Pready(p, ps));
    MPI_CHECK(MPI_Wait(&ps, MPI_STATUS_IGNORE));
    MPI_CHECK(MPI_Wait(&pr, MPI_STATUS_IGNORE));
    long bad = ot_verify(r, n, seed + prev);
    CHECK(bad < 0, "partitioned %d x %d: byte %ld wrong", parts, each, bad);
    MPI_CHECK(MPI_Request_free(&ps));
    MPI_CHECK(MPI_Request_free(&pr));
    free(s);
    free(r);
}

int main(int argc, char **argv)
{
    char thresh[32];
    snprintf(thresh, sizeof thresh, "%d", THRESH);
    setenv("OXIMPI_CMA_MIN", thresh, 1);
    reads_on = !(getenv("OXIMPI_CMA") && strcmp(getenv("OXIMPI_CMA"), "0") == 0);
    ot_init("rndv_threshold", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    next = (ot_rank + 1) % ot_size;
    prev = (ot_rank + ot_size - 1) % ot_size;
    /* A ring of one is a message to oneself: no rendezvous, nothing to count. */
    /* The count is the shared-memory transport's: over TCP (OXIMPI_TRANSPORT=tcp) large
     * messages go in frames or pulls, whatever their size, and the threshold does not apply. */
    const char *transport = getenv("OXIMPI_TRANSPORT");
    if (ot_size > 1 && !(transport && strcmp(transport, "tcp") == 0))
        ot_counter_open(&reads, "single_copy_reads");

    static const int sizes[] = {CELL + 1,   2 * CELL,   THRESH - 2, THRESH - 1, THRESH,
                                THRESH + 1, THRESH + 2, 3 * THRESH, 1 << 20};
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        ring_contig(sizes[i], 0, 10 + i);
        ring_contig(sizes[i], 1, 30 + i);
    }
    for (int vs = 0; vs < 2; vs++)
        for (int vr = 0; vr < 2; vr++)
            if (vs || vr) {
                ring_vector(THRESH - 1000, vs, vr, 50);
                ring_vector(THRESH + 1000, vs, vr, 60);
            }
    ring_truncate(THRESH - 1, 1, 70);
    ring_truncate(THRESH + 1, 2, 71);
    ring_truncate(THRESH + 5000, 5000, 72);
    ring_window(80);
    ring_partitioned(4, THRESH - 1, 90);
    ring_partitioned(3, THRESH + 1, 91);
    ring_partitioned(5, CELL + 7, 92);
    ot_ring_cancel(THRESH - 1, 100, next, prev);
    ot_ring_cancel(THRESH + 1, 101, next, prev);
    ot_sync(MPI_COMM_WORLD);
    ot_counter_close(&reads);
    return ot_pass();
}
