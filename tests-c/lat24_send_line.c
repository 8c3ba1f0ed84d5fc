/* MPI_Send's and MPI_Isend's straight line (lat24, issue 13): a small send in standard or
 * ready mode goes out through the engine's line (`Engine::try_send_small` /
 * `try_isend_small`) and anything else steps aside for the general path, which checks again
 * and raises what is wrong. Each case checks that the line sends nothing it should not, and
 * that every fall-back keeps the data, the order and the error:
 *   errors     bad rank, tag, count, buffer, datatype and communicator through
 *              MPI_ERRORS_RETURN, for MPI_Send, MPI_Rsend, MPI_Isend and MPI_Irsend: the
 *              right class, and no message leaves (the next one received is the good one)
 *   proc_null  sends to MPI_PROC_NULL succeed and send nothing
 *   self       small sends to myself (not the line) arrive in order
 *   modes      one tag, in order: standard, ready, synchronous, buffered, nonblocking sends,
 *              a predefined type of several bytes, a derived type, and sizes on both sides
 *              of the fast box's limits (0, 1, 32, 33, 1 KiB, 2 KiB, 2 KiB + 1, 4 KiB)
 *   full       a window of 8 B and 1 KiB messages sent while the receiver sleeps (the box
 *              fills, later messages take cells), from every other rank at once, received
 *              with MPI_ANY_SOURCE: each sender's stream in order
 * Rank 0 receives; every other rank sends to it. */
#include "oxitest.h"
#include <unistd.h>

enum { ERR_TAG = 10, MODE_TAG = 20, FULL_TAG = 30, SELF_TAG = 40 };

typedef int (*send_fn)(const void *, int, MPI_Datatype, int, int, MPI_Comm);

static int isend_wait(const void *b, int n, MPI_Datatype t, int d, int tag, MPI_Comm c)
{
    MPI_Request r = MPI_REQUEST_NULL;
    int rc = MPI_Isend(b, n, t, d, tag, c, &r);
    if (rc == MPI_SUCCESS)
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    return rc;
}

static int irsend_wait(const void *b, int n, MPI_Datatype t, int d, int tag, MPI_Comm c)
{
    MPI_Request r = MPI_REQUEST_NULL;
    int rc = MPI_Irsend(b, n, t, d, tag, c, &r);
    if (rc == MPI_SUCCESS)
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    return rc;
}

static const send_fn sends[] = {MPI_Send, MPI_Rsend, isend_wait, irsend_wait};
static const char *const send_names[] = {"MPI_Send", "MPI_Rsend", "MPI_Isend", "MPI_Irsend"};

/* Every bad argument of each send raises its class and sends nothing; then one good
 * message per send function, which rank 0 must receive first (a ready send's receive is
 * posted before the sync that lets the sender go). */
static void errors(MPI_Comm c)
{
    int *ub = NULL, flag = 0;
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &flag));
    CHECK(flag && ub, "MPI_TAG_UB not set");
    int nf = (int)(sizeof sends / sizeof sends[0]);
    char b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    MPI_Request *rq = ot_malloc(sizeof *rq * (size_t)(nf * ot_size));
    char sink[8];
    /* Receives for the good messages, by their tags; a message an error let out would take
     * one of them (same tag) or stay queued, and fail the status check or the next case. */
    if (ot_rank == 0)
        for (int s = 1; s < ot_size; s++)
            for (int f = 0; f < nf; f++)
                MPI_CHECK(MPI_Irecv(sink, 8, MPI_BYTE, s, ERR_TAG + 1 + f, c, &rq[s * nf + f]));
    ot_sync(MPI_COMM_WORLD);
    if (ot_rank != 0) {
        for (int f = 0; f < nf; f++) {
            send_fn s = sends[f];
            CHECK_CLASS(s(b, 8, MPI_BYTE, ot_size, ERR_TAG + 1, c), MPI_ERR_RANK);
            CHECK_CLASS(s(b, 8, MPI_BYTE, -5, ERR_TAG + 1, c), MPI_ERR_RANK);
            CHECK_CLASS(s(b, 8, MPI_BYTE, 0, -1, c), MPI_ERR_TAG);
            if (*ub < 0x7fffffff)
                CHECK_CLASS(s(b, 8, MPI_BYTE, 0, *ub + 1, c), MPI_ERR_TAG);
            CHECK_CLASS(s(b, -1, MPI_BYTE, 0, ERR_TAG + 1, c), MPI_ERR_COUNT);
            CHECK_CLASS(s(NULL, 8, MPI_BYTE, 0, ERR_TAG + 1, c), MPI_ERR_BUFFER);
            CHECK_CLASS(s(b, 1, MPI_DATATYPE_NULL, 0, ERR_TAG + 1, c), MPI_ERR_TYPE);
            CHECK_CLASS(s(b, 8, MPI_BYTE, 0, ERR_TAG + 1, MPI_COMM_NULL), MPI_ERR_COMM);
            /* A null request is refused before anything is sent. */
            if (f >= 2) {
                int rc = f == 2 ? MPI_Isend(b, 8, MPI_BYTE, 0, ERR_TAG, c, NULL)
                                : MPI_Irsend(b, 8, MPI_BYTE, 0, ERR_TAG, c, NULL);
                CHECK(rc != MPI_SUCCESS, "%s with a null request succeeded", send_names[f]);
            }
        }
        /* The good ones: tag ERR_TAG + 1 + f, nothing before them. */
        for (int f = 0; f < nf; f++)
            MPI_CHECK(sends[f](b, 0, MPI_BYTE, 0, ERR_TAG + 1 + f, c));
    } else {
        for (int s = 1; s < ot_size; s++)
            for (int f = 0; f < nf; f++) {
                MPI_Status st;
                MPI_CHECK(MPI_Wait(&rq[s * nf + f], &st));
                ot_check_status(&st, s, ERR_TAG + 1 + f, 0, "errors: first message");
            }
    }
    free(rq);
    ot_sync(MPI_COMM_WORLD);
}

static void proc_null(MPI_Comm c)
{
    char b[8] = {0};
    for (int f = 0; f < 4; f++)
        MPI_CHECK(sends[f](b, 8, MPI_BYTE, MPI_PROC_NULL, 1, c));
    MPI_Request r;
    MPI_Status st;
    MPI_CHECK(MPI_Isend(b, 8, MPI_BYTE, MPI_PROC_NULL, 1, c, &r));
    MPI_CHECK(MPI_Wait(&r, &st));
    CHECK(r == MPI_REQUEST_NULL, "proc_null: request not freed");
    ot_sync(MPI_COMM_WORLD);
}

/* Small standard and nonblocking sends to myself, received in order. */
static void self(MPI_Comm c)
{
    enum { N = 6 };
    unsigned char b[N][40], got[40];
    MPI_Request r[N];
    int nr = 0;
    for (int i = 0; i < N; i++) {
        ot_fill(b[i], sizeof b[i], (unsigned)(ot_rank * 1000 + i));
        if (i % 2)
            MPI_CHECK(MPI_Isend(b[i], 8 * i, MPI_BYTE, ot_rank, SELF_TAG, c, &r[nr++]));
        else
            MPI_CHECK(MPI_Send(b[i], 8 * i, MPI_BYTE, ot_rank, SELF_TAG, c));
    }
    for (int i = 0; i < N; i++) {
        MPI_Status st;
        memset(got, 0, sizeof got);
        MPI_CHECK(MPI_Recv(got, sizeof got, MPI_BYTE, ot_rank, SELF_TAG, c, &st));
        ot_check_status(&st, ot_rank, SELF_TAG, 8 * i, "self");
        CHECK(memcmp(got, b[i], (size_t)(8 * i)) == 0, "self: message %d's data", i);
    }
    MPI_CHECK(MPI_Waitall(nr, r, MPI_STATUSES_IGNORE));
    ot_sync(MPI_COMM_WORLD);
}

/* One message of the `modes` sequence: how it is sent and how many bytes it carries. */
struct step {
    int how; /* 0 Send, 1 Rsend, 2 Ssend, 3 Bsend, 4 Isend, 5 Irsend, 6 Send of MPI_INT, 7 vector */
    int bytes;
};

static const struct step steps[] = {
    {0, 8}, {1, 8}, {0, 0}, {2, 8}, {0, 1}, {3, 8}, {0, 32}, {4, 33}, {5, 8},
    {0, 1024}, {6, 16}, {0, 2048}, {7, 64}, {0, 2049}, {4, 8}, {0, 4096}, {1, 1}, {0, 8},
};

/* Ready sends need their receive posted first: rank 0 posts every receive of the sequence
 * for a sender before the sync; the sender then sends the whole sequence on one tag. */
static void modes(MPI_Comm c)
{
    int ns = (int)(sizeof steps / sizeof steps[0]);
    enum { CAP = 4096 };
    MPI_Datatype vec;
    MPI_CHECK(MPI_Type_vector(16, 2, 4, MPI_BYTE, &vec)); /* 32 bytes over 62 */
    MPI_CHECK(MPI_Type_commit(&vec));
    unsigned char *bsend_buf = ot_malloc(16 * 1024);
    MPI_CHECK(MPI_Buffer_attach(bsend_buf, 16 * 1024));
    for (int s = 1; s < ot_size; s++) {
        unsigned char *got = NULL;
        MPI_Request *rq = NULL;
        if (ot_rank == 0) {
            got = ot_malloc((size_t)ns * CAP);
            rq = ot_malloc(sizeof *rq * (size_t)ns);
            for (int i = 0; i < ns; i++)
                MPI_CHECK(MPI_Irecv(got + (size_t)i * CAP, CAP, MPI_BYTE, s, MODE_TAG, c, &rq[i]));
        }
        ot_sync(MPI_COMM_WORLD);
        if (ot_rank == s) {
            unsigned char *b = ot_malloc(CAP);
            MPI_Request r;
            for (int i = 0; i < ns; i++) {
                int n = steps[i].bytes;
                ot_fill(b, CAP, (unsigned)(s * 100 + i));
                switch (steps[i].how) {
                case 0: MPI_CHECK(MPI_Send(b, n, MPI_BYTE, 0, MODE_TAG, c)); break;
                case 1: MPI_CHECK(MPI_Rsend(b, n, MPI_BYTE, 0, MODE_TAG, c)); break;
                case 2: MPI_CHECK(MPI_Ssend(b, n, MPI_BYTE, 0, MODE_TAG, c)); break;
                case 3: MPI_CHECK(MPI_Bsend(b, n, MPI_BYTE, 0, MODE_TAG, c)); break;
                case 4:
                    MPI_CHECK(MPI_Isend(b, n, MPI_BYTE, 0, MODE_TAG, c, &r));
                    MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
                    break;
                case 5:
                    MPI_CHECK(MPI_Irsend(b, n, MPI_BYTE, 0, MODE_TAG, c, &r));
                    MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
                    break;
                case 6: MPI_CHECK(MPI_Send(b, n / 4, MPI_INT, 0, MODE_TAG, c)); break;
                case 7: MPI_CHECK(MPI_Send(b, n / 32, vec, 0, MODE_TAG, c)); break;
                }
            }
            free(b);
        } else if (ot_rank == 0) {
            unsigned char *want = ot_malloc(CAP);
            for (int i = 0; i < ns; i++) {
                MPI_Status st;
                MPI_CHECK(MPI_Wait(&rq[i], &st));
                int n = steps[i].bytes;
                ot_check_status(&st, s, MODE_TAG, n, "modes");
                ot_fill(want, CAP, (unsigned)(s * 100 + i));
                const unsigned char *g = got + (size_t)i * CAP;
                if (steps[i].how == 7) {
                    /* The vector's blocks: 2 bytes every 4. */
                    for (int k = 0; k < n / 2; k++)
                        CHECK(g[k] == want[(k / 2) * 4 + k % 2],
                              "modes: sender %d step %d (vector) byte %d", s, i, k);
                } else {
                    CHECK(memcmp(g, want, (size_t)n) == 0, "modes: sender %d step %d (%d B)",
                          s, i, n);
                }
            }
            free(want);
            free(got);
            free(rq);
        }
        ot_sync(MPI_COMM_WORLD);
    }
    void *p;
    int sz;
    MPI_CHECK(MPI_Buffer_detach(&p, &sz));
    free(bsend_buf);
    MPI_CHECK(MPI_Type_free(&vec));
}

/* Every sender streams N messages (8 B and 1 KiB, blocking and nonblocking) to rank 0,
 * which sleeps first so the fast box fills; rank 0 then receives all of them with
 * MPI_ANY_SOURCE and checks each sender's sequence. */
static void full(MPI_Comm c)
{
    enum { N = 400, BIG = 1024 };
    if (ot_rank == 0) {
        usleep(200000);
        int *next = calloc((size_t)ot_size, sizeof *next);
        CHECK(next != NULL, "out of memory");
        unsigned char *b = ot_malloc(BIG);
        for (int k = 0; k < N * (ot_size - 1); k++) {
            MPI_Status st;
            MPI_CHECK(MPI_Recv(b, BIG, MPI_BYTE, MPI_ANY_SOURCE, FULL_TAG, c, &st));
            int s = st.MPI_SOURCE, i = next[s]++;
            CHECK(s > 0 && s < ot_size && i < N, "full: source %d message %d", s, i);
            int n = (i % 5 == 4) ? BIG : 8;
            ot_check_status(&st, s, FULL_TAG, n, "full");
            long bad = ot_verify(b, (size_t)n, (unsigned)(s * 10000 + i));
            CHECK(bad < 0, "full: sender %d message %d byte %ld wrong (out of order?)", s, i, bad);
        }
        free(b);
        free(next);
    } else {
        unsigned char *b = ot_malloc((size_t)N * BIG);
        MPI_Request *r = ot_malloc(sizeof *r * N);
        int nr = 0;
        for (int i = 0; i < N; i++) {
            int n = (i % 5 == 4) ? BIG : 8;
            unsigned char *m = b + (size_t)i * BIG;
            ot_fill(m, (size_t)n, (unsigned)(ot_rank * 10000 + i));
            if (i % 3 == 1)
                MPI_CHECK(MPI_Isend(m, n, MPI_BYTE, 0, FULL_TAG, c, &r[nr++]));
            else
                MPI_CHECK(MPI_Send(m, n, MPI_BYTE, 0, FULL_TAG, c));
        }
        MPI_CHECK(MPI_Waitall(nr, r, MPI_STATUSES_IGNORE));
        free(r);
        free(b);
    }
    ot_sync(MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
    ot_init("lat24_send_line", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    MPI_Comm c;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &c));
    MPI_CHECK(MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN));
    /* MPI_COMM_NULL's errors go to MPI_COMM_WORLD's handler. */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    errors(c);
    errors(MPI_COMM_WORLD);
    proc_null(c);
    self(c);
    self(MPI_COMM_WORLD);
    modes(c);
    modes(MPI_COMM_WORLD);
    full(c);
    full(MPI_COMM_WORLD);
    MPI_CHECK(MPI_Comm_free(&c));
    return ot_pass();
}
