/* Helpers shared by the self-checking C tests.
 *
 * Every test: calls ot_init()/ot_init_thread() instead of MPI_Init, checks values with CHECK /
 * MPI_CHECK (which print one "FAIL <test> (rank r) file:line: why" line on stderr and abort the
 * job), and ends with ot_pass(), which synchronises the ranks with point-to-point messages only
 * (no collectives: they are tested elsewhere), lets rank 0 print "PASS <test>", and finalizes.
 */
#ifndef OXITEST_H
#define OXITEST_H

#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tag reserved for the helpers' own synchronisation; tests use tags below it. */
#define OT_SYNC_TAG 32000

static const char *ot_test_name = "?";
static int ot_rank = -1;
static int ot_size = -1;

static inline void ot_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s (rank %d) %s:%d: ", ot_test_name, ot_rank, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    fflush(stdout);
    int inited = 0, finalized = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&finalized);
    if (inited && !finalized)
        MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

#define FAIL(...) ot_fail(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond))                                                                         \
            FAIL(__VA_ARGS__);                                                               \
    } while (0)
/* The call must return MPI_SUCCESS (under the default MPI_ERRORS_ARE_FATAL, a failing call
 * never returns; under MPI_ERRORS_RETURN this reports it). */
#define MPI_CHECK(call)                                                                      \
    do {                                                                                     \
        int ot_rc_ = (call);                                                                 \
        if (ot_rc_ != MPI_SUCCESS) {                                                         \
            char ot_msg_[MPI_MAX_ERROR_STRING];                                              \
            int ot_len_ = 0;                                                                 \
            ot_msg_[0] = 0;                                                                  \
            MPI_Error_string(ot_rc_, ot_msg_, &ot_len_);                                     \
            FAIL("%s returned %d (%s)", #call, ot_rc_, ot_msg_);                             \
        }                                                                                    \
    } while (0)
/* The call must fail with the given error class. */
#define CHECK_CLASS(call, expected)                                                          \
    do {                                                                                     \
        int ot_rc_ = (call), ot_cls_ = -1;                                                   \
        CHECK(ot_rc_ != MPI_SUCCESS, "%s succeeded, expected class %s", #call, #expected);  \
        MPI_Error_class(ot_rc_, &ot_cls_);                                                   \
        CHECK(ot_cls_ == (expected), "%s returned class %d, expected %s (%d)", #call,        \
              ot_cls_, #expected, (int)(expected));                                          \
    } while (0)

static inline void ot_setup(const char *name)
{
    ot_test_name = name;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &ot_rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &ot_size));
}

static inline void ot_init(const char *name, int *argc, char ***argv)
{
    ot_test_name = name;
    MPI_CHECK(MPI_Init(argc, argv));
    ot_setup(name);
}

static inline void ot_init_thread(const char *name, int *argc, char ***argv, int required)
{
    int provided = -1;
    ot_test_name = name;
    MPI_CHECK(MPI_Init_thread(argc, argv, required, &provided));
    ot_setup(name);
    CHECK(provided >= required, "MPI_Init_thread provided %d < required %d", provided,
          required);
}

/* Barrier built from point-to-point messages, in three phases: rank 0 calls everybody in,
 * everybody reports, rank 0 releases everybody. Nobody sends to rank 0 before rank 0 has
 * entered the barrier, so a test's wildcard receives (MPI_ANY_SOURCE / MPI_ANY_TAG) on rank 0
 * never match a barrier message; wildcard receives on other ranks must not be pending when
 * rank 0 enters it. */
static inline void ot_sync(MPI_Comm comm)
{
    int rank, size, token = 0;
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    MPI_CHECK(MPI_Comm_size(comm, &size));
    if (rank == 0) {
        for (int phase = 0; phase < 3; phase++)
            for (int i = 1; i < size; i++) {
                if (phase == 1)
                    MPI_CHECK(MPI_Recv(&token, 1, MPI_INT, i, OT_SYNC_TAG, comm,
                                       MPI_STATUS_IGNORE));
                else
                    MPI_CHECK(MPI_Send(&token, 1, MPI_INT, i, OT_SYNC_TAG, comm));
            }
    } else {
        MPI_CHECK(MPI_Recv(&token, 1, MPI_INT, 0, OT_SYNC_TAG, comm, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Send(&token, 1, MPI_INT, 0, OT_SYNC_TAG, comm));
        MPI_CHECK(MPI_Recv(&token, 1, MPI_INT, 0, OT_SYNC_TAG, comm, MPI_STATUS_IGNORE));
    }
}

/* All ranks got here without failing: report and finalize. */
static inline int ot_pass(void)
{
    ot_sync(MPI_COMM_WORLD);
    if (ot_rank == 0) {
        printf("PASS %s\n", ot_test_name);
        fflush(stdout);
    }
    MPI_CHECK(MPI_Finalize());
    return 0;
}

/* Deterministic byte pattern that differs per (seed, position), to catch misplaced data. */
static inline unsigned char ot_byte(unsigned seed, size_t i)
{
    uint64_t x = (uint64_t)seed * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 17));
}

static inline void ot_fill(void *buf, size_t n, unsigned seed)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = ot_byte(seed, i);
}

/* Returns the index of the first wrong byte, or -1 when all n bytes match. */
static inline long ot_verify(const void *buf, size_t n, unsigned seed)
{
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++)
        if (p[i] != ot_byte(seed, i))
            return (long)i;
    return -1;
}

/* A receive's status names source `src` and tag `tag` and counts `bytes` bytes. */
static inline void ot_check_status(const MPI_Status *st, int src, int tag, int bytes,
                                   const char *what)
{
    int n = -1;
    MPI_CHECK(MPI_Get_count(st, MPI_BYTE, &n));
    CHECK(st->MPI_SOURCE == src && st->MPI_TAG == tag && n == bytes,
          "%s: status source %d tag %d count %d, expected %d %d %d", what, st->MPI_SOURCE,
          st->MPI_TAG, n, src, tag, bytes);
}

static inline void *ot_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        FAIL("out of memory allocating %zu bytes", n);
    return p;
}

/* A new buffer of n bytes holding ot_fill's pattern for seed (free() it). */
static inline unsigned char *ot_filled(size_t n, unsigned seed)
{
    unsigned char *p = ot_malloc(n);
    ot_fill(p, n, seed);
    return p;
}

/* MPI_Cancel of an n-byte send to `next` that nobody has posted a receive for yet, on
 * MPI_COMM_WORLD around a ring (every rank sends to next, receives from prev, tag 5): it is
 * cancelled (nobody posts a receive for the tag until every sender is done: a barrier),
 * and the receiver then gets the small sentinel sent after it on the same tag, not the
 * cancelled message (a sender's messages are not overtaken, so a delivered cancelled one
 * would come first). The communicator's errhandler must be MPI_ERRORS_RETURN. */
static inline void ot_ring_cancel(int n, unsigned seed, int next, int prev)
{
    unsigned char *s = ot_filled(n, seed + ot_rank), *r = ot_malloc(n);
    MPI_Request rq;
    MPI_Status st;
    int cancelled = 0, sentinel = 0x5E1 + ot_rank;
    MPI_CHECK(MPI_Isend(s, n, MPI_BYTE, next, 5, MPI_COMM_WORLD, &rq));
    MPI_CHECK(MPI_Cancel(&rq));
    MPI_CHECK(MPI_Wait(&rq, &st));
    MPI_CHECK(MPI_Test_cancelled(&st, &cancelled));
    CHECK(cancelled, "an unmatched %d-byte send was not cancelled", n);
    ot_sync(MPI_COMM_WORLD);
    MPI_CHECK(MPI_Sendrecv(&sentinel, sizeof sentinel, MPI_BYTE, next, 5, r, n, MPI_BYTE, prev,
                           5, MPI_COMM_WORLD, &st));
    ot_check_status(&st, prev, 5, (int)sizeof sentinel, "after the cancelled send");
    int got;
    memcpy(&got, r, sizeof got);
    CHECK(got == 0x5E1 + prev, "after a cancelled %d-byte send: got %#x, not the sentinel", n,
          got);
    free(s);
    free(r);
}

/* One of OxiMPI's MPI_T performance counters: opened and started (ot_counter_open), read as
 * the test goes (ot_counter_read: -1 when it was never opened, e.g. on one rank or over
 * TCP) and freed with MPI_T (ot_counter_close). The tests that use one run only against
 * OxiMPI's library (natively or under an MPICH-built binary), so the counter must exist:
 * a missing one fails the test instead of leaving what it counts unchecked. */
typedef struct {
    MPI_T_pvar_session session;
    MPI_T_pvar_handle handle;
    int mpit_open;
} ot_counter;
#define OT_COUNTER_INIT {MPI_T_PVAR_SESSION_NULL, MPI_T_PVAR_HANDLE_NULL, 0}

static inline void ot_counter_open(ot_counter *c, const char *name)
{
    int idx, count, provided;
    CHECK(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) == MPI_SUCCESS, "MPI_T_init");
    c->mpit_open = 1;
    CHECK(MPI_T_pvar_get_index(name, MPI_T_PVAR_CLASS_COUNTER, &idx) == MPI_SUCCESS,
          "the %s counter", name);
    CHECK(MPI_T_pvar_session_create(&c->session) == MPI_SUCCESS, "session");
    CHECK(MPI_T_pvar_handle_alloc(c->session, idx, NULL, &c->handle, &count) == MPI_SUCCESS,
          "handle");
    char pname[64];
    int nlen = sizeof pname, verb, cls, bind, ro, cont, atomic;
    MPI_Datatype dt;
    MPI_T_enum en;
    CHECK(MPI_T_pvar_get_info(idx, pname, &nlen, &verb, &cls, &dt, &en, NULL, NULL, &bind, &ro,
                              &cont, &atomic) == MPI_SUCCESS,
          "pvar info");
    if (!cont)
        CHECK(MPI_T_pvar_start(c->session, c->handle) == MPI_SUCCESS, "start");
}

static inline long long ot_counter_read(ot_counter *c)
{
    unsigned long long v = 0;
    if (c->handle == MPI_T_PVAR_HANDLE_NULL)
        return -1;
    CHECK(MPI_T_pvar_read(c->session, c->handle, &v) == MPI_SUCCESS, "pvar read");
    return (long long)v;
}

static inline void ot_counter_close(ot_counter *c)
{
    if (c->handle != MPI_T_PVAR_HANDLE_NULL) {
        MPI_CHECK(MPI_T_pvar_handle_free(c->session, &c->handle));
        MPI_CHECK(MPI_T_pvar_session_free(&c->session));
    }
    if (c->mpit_open)
        MPI_CHECK(MPI_T_finalize());
    c->mpit_open = 0;
}

#endif
