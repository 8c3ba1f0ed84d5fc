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

#endif
