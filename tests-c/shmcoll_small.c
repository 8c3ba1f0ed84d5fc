/* Shared-memory collectives at the smallest sizes, where the data travel in the control line
 * of the region beside the call number (up to 24 bytes) instead of in a data slot:
 *  - reductions of 1..33 bytes (every size around the 24-byte limit) for char, int,
 *    long long, double, long double and double complex with SUM, PROD, MAX, MIN (and BAND,
 *    BOR, BXOR, LXOR on the integers), allreduce and reduce at every root, in place or not;
 *  - a non-commutative user op (composition of affine maps) at 8..32 bytes: rank order;
 *  - floating-point allreduce results bitwise identical on every rank;
 *  - bcast, gather, allgather of 0..40 bytes at every root, sizes alternating between the
 *    inline and the slot route call after call (both routes share the call parity);
 *  - all of it on MPI_COMM_WORLD and on a reversed split.
 */
#include "shmcoll.h"
#include <complex.h>

static int rank, size;

/* Affine map x -> a x + b on ints (wrapping is fine: all ranks compute alike). The op
 * composes io = in o io, which is associative but not commutative. */
typedef struct {
    int a, b;
} aff;

static void aff_compose(void *in, void *io, int *len, MPI_Datatype *dt)
{
    (void)dt;
    aff *x = in, *y = io;
    for (int i = 0; i < *len; i++) {
        /* (x o y)(v) = x.a (y.a v + y.b) + x.b */
        aff r = {(int)((unsigned)x[i].a * (unsigned)y[i].a),
                 (int)((unsigned)x[i].a * (unsigned)y[i].b + (unsigned)x[i].b)};
        y[i] = r;
    }
}

/* Whether out[0..cnt) equals want[0..cnt), by value (long double has padding bytes that a
 * memcmp would see). */
#define EQ(out, want, cnt, ok)                                                           \
    do {                                                                                 \
        ok = 1;                                                                          \
        for (int i_ = 0; i_ < (cnt); i_++)                                               \
            ok &= (out)[i_] == (want)[i_];                                               \
    } while (0)

#define REDUCE_ALL(T, MT, NOPS, OPS, COMBINE)                                            \
    do {                                                                                 \
        MPI_Op ops[] = OPS;                                                              \
        int ok;                                                                          \
        for (int cnt = 1; cnt <= 33 / (int)sizeof(T); cnt++) {                           \
            for (int o = 0; o < NOPS; o++) {                                             \
                T in[40], out[40], want[40];                                             \
                for (int i = 0; i < cnt; i++) {                                          \
                    in[i] = (T)shm_val(me, i, k + o);                                    \
                    T acc = (T)shm_val(0, i, k + o);                                     \
                    for (int r = 1; r < n; r++) {                                        \
                        T v = (T)shm_val(r, i, k + o);                                   \
                        acc = COMBINE(o, acc, v);                                        \
                    }                                                                    \
                    want[i] = acc;                                                       \
                }                                                                        \
                MPI_CHECK(MPI_Allreduce(in, out, cnt, MT, ops[o], comm));                \
                EQ(out, want, cnt, ok);                                                  \
                CHECK(ok, #MT " allreduce count %d op %d", cnt, o);                      \
                memcpy(out, in, (size_t)cnt * sizeof(T));                                \
                MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, out, cnt, MT, ops[o], comm));      \
                EQ(out, want, cnt, ok);                                                  \
                CHECK(ok, #MT " in-place allreduce count %d op %d", cnt, o);             \
                for (int root = 0; root < n; root++) {                                   \
                    int ip = (root + o + cnt) % 2;                                       \
                    memcpy(out, in, (size_t)cnt * sizeof(T));                            \
                    MPI_CHECK(MPI_Reduce(ip && me == root ? MPI_IN_PLACE : in, out, cnt, MT, \
                                         ops[o], root, comm));                           \
                    if (me != root)                                                      \
                        continue;                                                        \
                    EQ(out, want, cnt, ok);                                              \
                    CHECK(ok, #MT " reduce count %d op %d root %d in place %d", cnt, o,  \
                          root, ip);                                                     \
                }                                                                        \
            }                                                                            \
        }                                                                                \
    } while (0)

#define ARITH(o, acc, v) ((o) == 0 ? (acc) + (v) : (o) == 1 ? (acc) * (v)                \
                          : (o) == 2 ? ((v) > (acc) ? (v) : (acc))                       \
                                     : ((v) < (acc) ? (v) : (acc)))
#define INTOPS(o, acc, v) ((o) < 4 ? ARITH(o, acc, v) : (o) == 4 ? ((acc) & (v))         \
                           : (o) == 5 ? ((acc) | (v)) : (o) == 6 ? ((acc) ^ (v))         \
                                      : (!(acc) != !(v)))
#define CPLX(o, acc, v) ((o) == 0 ? (acc) + (v) : (acc) * (v))
#define ARITH_OPS {MPI_SUM, MPI_PROD, MPI_MAX, MPI_MIN}
#define INT_OPS {MPI_SUM, MPI_PROD, MPI_MAX, MPI_MIN, MPI_BAND, MPI_BOR, MPI_BXOR, MPI_LXOR}
#define CPLX_OPS {MPI_SUM, MPI_PROD}

static void check_reductions(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    REDUCE_ALL(signed char, MPI_SIGNED_CHAR, 8, INT_OPS, INTOPS);
    REDUCE_ALL(int, MPI_INT, 8, INT_OPS, INTOPS);
    REDUCE_ALL(long long, MPI_LONG_LONG, 8, INT_OPS, INTOPS);
    REDUCE_ALL(double, MPI_DOUBLE, 4, ARITH_OPS, ARITH);
    REDUCE_ALL(long double, MPI_LONG_DOUBLE, 4, ARITH_OPS, ARITH);
    REDUCE_ALL(double _Complex, MPI_C_DOUBLE_COMPLEX, 2, CPLX_OPS, CPLX);
}

static void check_noncommutative(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    MPI_Datatype affdt;
    MPI_Op op;
    MPI_CHECK(MPI_Type_contiguous(2, MPI_INT, &affdt));
    MPI_CHECK(MPI_Type_commit(&affdt));
    MPI_CHECK(MPI_Op_create(aff_compose, 0, &op));
    for (int cnt = 1; cnt <= 4; cnt++) {
        aff in[4], out[4], want[4];
        for (int i = 0; i < cnt; i++) {
            in[i] = (aff){shm_val(me, i, k) + 1, me * 10 + i + k};
            /* want = m_0 o m_1 o ... o m_(n-1) (rank order) */
            aff acc = {shm_val(0, i, k) + 1, i + k};
            for (int r = 1; r < n; r++) {
                aff m = {shm_val(r, i, k) + 1, r * 10 + i + k};
                aff_compose(&acc, &m, &(int){1}, NULL);
                acc = m;
            }
            want[i] = acc;
        }
        MPI_CHECK(MPI_Allreduce(in, out, cnt, affdt, op, comm));
        CHECK(!memcmp(out, want, cnt * sizeof(aff)), "affine allreduce count %d", cnt);
        for (int root = 0; root < n; root++) {
            memcpy(out, in, sizeof out);
            MPI_CHECK(MPI_Reduce(me == root ? MPI_IN_PLACE : in, out, cnt, affdt, op, root,
                                 comm));
            if (me == root)
                CHECK(!memcmp(out, want, cnt * sizeof(aff)), "affine reduce count %d root %d",
                      cnt, root);
        }
    }
    MPI_CHECK(MPI_Op_free(&op));
    MPI_CHECK(MPI_Type_free(&affdt));
}

static void check_identical_floats(MPI_Comm comm, int k)
{
    /* Sums whose value depends on the order of the additions: every rank must still get
     * the same bits. */
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    for (int cnt = 1; cnt <= 4; cnt++) {
        double in[4], out[4] = {0, 0, 0, 0};
        for (int i = 0; i < cnt; i++)
            in[i] = (me % 2 ? 1e16 : 1.0) * (me + 1) + 0.1 * (i + k);
        MPI_CHECK(MPI_Allreduce(in, out, cnt, MPI_DOUBLE, MPI_SUM, comm));
        double all[8][4]; /* at most 8 ranks (the manifest's) */
        MPI_CHECK(MPI_Allgather(out, 4, MPI_DOUBLE, all, 4, MPI_DOUBLE, comm));
        for (int r = 0; r < n; r++)
            CHECK(!memcmp(all[r], out, cnt * sizeof(double)),
                  "allreduce count %d: rank %d got other bits", cnt, r);
    }
}

static void check_bytes(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    /* Sizes alternate between the inline slots (<= 24) and the data slots. */
    const int sizes[] = {0, 1, 7, 8, 23, 24, 25, 40, 24, 100, 1, 33, 16};
    unsigned char buf[8 * 100], mine[100];
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int len = sizes[s];
        for (int root = 0; root < n; root++) {
            int seed = k * 1000 + (int)s * 10 + root;
            for (int i = 0; i < len; i++)
                buf[i] = me == root ? ot_byte(seed, i) : 0xEE;
            MPI_CHECK(MPI_Bcast(buf, len, MPI_BYTE, root, comm));
            for (int i = 0; i < len; i++)
                CHECK(buf[i] == ot_byte(seed, i), "bcast len %d root %d byte %d", len, root, i);
            for (int i = 0; i < len; i++)
                mine[i] = ot_byte(seed + me, i);
            memset(buf, 0xEE, sizeof buf);
            int ip = (int)(s + root) % 2 && me == root;
            if (ip)
                memcpy(buf + me * len, mine, len);
            MPI_CHECK(MPI_Gather(ip ? MPI_IN_PLACE : mine, len, MPI_BYTE, buf, len, MPI_BYTE,
                                 root, comm));
            if (me == root)
                for (int r = 0; r < n; r++)
                    for (int i = 0; i < len; i++)
                        CHECK(buf[r * len + i] == ot_byte(seed + r, i),
                              "gather len %d root %d from %d byte %d", len, root, r, i);
        }
        int seed = k * 1000 + (int)s * 10;
        for (int i = 0; i < len; i++)
            mine[i] = ot_byte(seed + me, i);
        memset(buf, 0xEE, sizeof buf);
        memcpy(buf + me * len, mine, len);
        MPI_CHECK(MPI_Allgather(s % 2 ? MPI_IN_PLACE : mine, len, MPI_BYTE, buf, len, MPI_BYTE,
                                comm));
        for (int r = 0; r < n; r++)
            for (int i = 0; i < len; i++)
                CHECK(buf[r * len + i] == ot_byte(seed + r, i), "allgather len %d from %d byte %d",
                      len, r, i);
    }
}

static void check_all(MPI_Comm comm, int k)
{
    check_reductions(comm, k);
    check_noncommutative(comm, k);
    check_identical_floats(comm, k);
    check_bytes(comm, k);
}

int main(int argc, char **argv)
{
    ot_init("shmcoll_small", &argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    check_all(MPI_COMM_WORLD, 1);
    MPI_Comm rev;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, 0, size - rank, &rev));
    check_all(rev, 2);
    MPI_CHECK(MPI_Comm_free(&rev));
    return ot_pass();
}
