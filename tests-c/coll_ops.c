/* Reduction operations: every predefined op on the types it is defined for, through
 * MPI_Allreduce and MPI_Reduce against a serial computation; a non-commutative user op
 * (2x2 matrix product on a derived datatype) whose result shows the rank order through
 * Reduce (every root), Allreduce, Scan, Exscan and Reduce_scatter_block; MPI_Reduce_local,
 * MPI_Op_commutative, MPI_Op_free; MPI_ERR_OP for an op not defined on the type. */
#include "oxitest.h"
#include <stdbool.h>

static int rank, size;

/* Per-type sweep: value of element i at rank r kept small so products do not overflow. */
#define SWEEP(T, MT, ARITH, BITS)                                                            \
    do {                                                                                     \
        enum { N = 6 };                                                                      \
        T in[N], out[N], want[N];                                                            \
        MPI_Op ops[] = {MPI_MAX, MPI_MIN, MPI_SUM, MPI_PROD, MPI_LAND, MPI_LOR, MPI_LXOR,    \
                        MPI_BAND, MPI_BOR, MPI_BXOR};                                        \
        for (int o = 0; o < 10; o++) {                                                       \
            int bits = o >= 7;                                                               \
            if (bits && !(BITS)) continue;                                                   \
            if (o < 4 && !(ARITH)) continue;                                                 \
            for (int i = 0; i < N; i++) in[i] = (T)(((rank + i) % 3) + (i == 2 ? 0 : 1));    \
            for (int i = 0; i < N; i++) {                                                    \
                T acc = (T)((i + 0) % 3 + (i == 2 ? 0 : 1));                                 \
                for (int q = 1; q < size; q++) {                                             \
                    T v = (T)(((q + i) % 3) + (i == 2 ? 0 : 1));                             \
                    switch (o) {                                                             \
                    case 0: acc = v > acc ? v : acc; break;                                  \
                    case 1: acc = v < acc ? v : acc; break;                                  \
                    case 2: acc = (T)(acc + v); break;                                       \
                    case 3: acc = (T)(acc * v); break;                                       \
                    case 4: acc = (T)(acc && v); break;                                      \
                    case 5: acc = (T)(acc || v); break;                                      \
                    case 6: acc = (T)(!acc != !v); break;                                    \
                    default: break;                                                          \
                    }                                                                        \
                    BITOPS(T, o, acc, v);                                                    \
                }                                                                            \
                want[i] = acc;                                                               \
            }                                                                                \
            MPI_CHECK(MPI_Allreduce(in, out, N, MT, ops[o], MPI_COMM_WORLD));                \
            for (int i = 0; i < N; i++)                                                      \
                CHECK(out[i] == want[i], "%s op %d elem %d", #MT, o, i);                     \
            memset(out, 0, sizeof out);                                                      \
            MPI_CHECK(MPI_Reduce(in, out, N, MT, ops[o], size - 1, MPI_COMM_WORLD));         \
            if (rank == size - 1)                                                            \
                for (int i = 0; i < N; i++)                                                  \
                    CHECK(out[i] == want[i], "reduce %s op %d elem %d", #MT, o, i);          \
        }                                                                                    \
    } while (0)
#define INTBITS(T, o, acc, v)                                                                \
    do {                                                                                     \
        if (o == 7) acc = (T)(acc & v);                                                      \
        if (o == 8) acc = (T)(acc | v);                                                      \
        if (o == 9) acc = (T)(acc ^ v);                                                      \
    } while (0)
#define NOBITS(T, o, acc, v) do { } while (0)

static void sweep_predefined(void)
{
#define BITOPS INTBITS
    SWEEP(signed char, MPI_SIGNED_CHAR, 1, 1);
    SWEEP(unsigned char, MPI_UNSIGNED_CHAR, 1, 1);
    SWEEP(short, MPI_SHORT, 1, 1);
    SWEEP(unsigned short, MPI_UNSIGNED_SHORT, 1, 1);
    SWEEP(int, MPI_INT, 1, 1);
    SWEEP(unsigned, MPI_UNSIGNED, 1, 1);
    SWEEP(long, MPI_LONG, 1, 1);
    SWEEP(unsigned long, MPI_UNSIGNED_LONG, 1, 1);
    SWEEP(long long, MPI_LONG_LONG, 1, 1);
    SWEEP(unsigned long long, MPI_UNSIGNED_LONG_LONG, 1, 1);
    SWEEP(int8_t, MPI_INT8_T, 1, 1);
    SWEEP(int16_t, MPI_INT16_T, 1, 1);
    SWEEP(int32_t, MPI_INT32_T, 1, 1);
    SWEEP(int64_t, MPI_INT64_T, 1, 1);
    SWEEP(uint8_t, MPI_UINT8_T, 1, 1);
    SWEEP(uint16_t, MPI_UINT16_T, 1, 1);
    SWEEP(uint32_t, MPI_UINT32_T, 1, 1);
    SWEEP(uint64_t, MPI_UINT64_T, 1, 1);
#undef BITOPS
#define BITOPS NOBITS
    /* Floats: MAX MIN SUM PROD only (logical ops are not defined on them). */
    {
#define FSWEEP(T, MT)                                                                        \
        do {                                                                                 \
            MPI_Op fops[] = {MPI_MAX, MPI_MIN, MPI_SUM, MPI_PROD};                           \
            for (int o = 0; o < 4; o++) {                                                    \
                T in[3], out[3];                                                             \
                for (int i = 0; i < 3; i++) in[i] = (T)(rank + i + 1) * (T)0.5;              \
                MPI_CHECK(MPI_Allreduce(in, out, 3, MT, fops[o], MPI_COMM_WORLD));           \
                for (int i = 0; i < 3; i++) {                                                \
                    T acc = (T)(i + 1) * (T)0.5;                                             \
                    for (int q = 1; q < size; q++) {                                         \
                        T v = (T)(q + i + 1) * (T)0.5;                                       \
                        acc = o == 0 ? (v > acc ? v : acc) : o == 1 ? (v < acc ? v : acc)    \
                            : o == 2 ? acc + v : acc * v;                                    \
                    }                                                                        \
                    T d = out[i] - acc;                                                      \
                    if (d < 0) d = -d;                                                       \
                    CHECK(d <= (T)1e-6 * (acc < 0 ? -acc : acc), "%s op %d", #MT, o);        \
                }                                                                            \
            }                                                                                \
        } while (0)
        FSWEEP(float, MPI_FLOAT);
        FSWEEP(double, MPI_DOUBLE);
        FSWEEP(long double, MPI_LONG_DOUBLE);
    }
    /* Logical ops on C bool; bitwise ops on MPI_BYTE. */
    {
        bool in[3] = {rank % 2 == 0, true, false}, out[3];
        MPI_CHECK(MPI_Allreduce(in, out, 3, MPI_C_BOOL, MPI_LAND, MPI_COMM_WORLD));
        CHECK(out[0] == (size == 1) && out[1] && !out[2], "bool land");
        MPI_CHECK(MPI_Allreduce(in, out, 3, MPI_C_BOOL, MPI_LXOR, MPI_COMM_WORLD));
        CHECK(out[0] == ((size + 1) / 2) % 2 && out[1] == size % 2 && !out[2], "bool lxor");
        unsigned char b = (unsigned char)(1u << (rank % 8)), bo;
        MPI_CHECK(MPI_Allreduce(&b, &bo, 1, MPI_BYTE, MPI_BOR, MPI_COMM_WORLD));
        unsigned char e = 0;
        for (int q = 0; q < size; q++) e |= (unsigned char)(1u << (q % 8));
        CHECK(bo == e, "byte bor");
    }
    /* MINLOC / MAXLOC on MPI_DOUBLE_INT and MPI_2INT. */
    {
        struct { double v; int i; } in = {(double)((rank * 7) % 5), rank}, out;
        MPI_CHECK(MPI_Allreduce(&in, &out, 1, MPI_DOUBLE_INT, MPI_MAXLOC, MPI_COMM_WORLD));
        double best = -1; int who = -1;
        for (int q = 0; q < size; q++) if ((q * 7) % 5 > best) { best = (q * 7) % 5; who = q; }
        CHECK(out.v == best && out.i == who, "maxloc %g %d want %g %d", out.v, out.i, best, who);
        int in2[2] = {(rank * 3) % 4, rank}, out2[2];
        MPI_CHECK(MPI_Allreduce(in2, out2, 1, MPI_2INT, MPI_MINLOC, MPI_COMM_WORLD));
        CHECK(out2[0] == 0 && out2[1] == 0, "minloc");
    }
    /* An op not defined on the type fails with MPI_ERR_OP before communicating. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    float f = 1, fo;
    CHECK_CLASS(MPI_Allreduce(&f, &fo, 1, MPI_FLOAT, MPI_BAND, MPI_COMM_WORLD), MPI_ERR_OP);
    CHECK_CLASS(MPI_Reduce(&f, &fo, 1, MPI_FLOAT, MPI_SUM, size, MPI_COMM_WORLD), MPI_ERR_ROOT);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

/* 2x2 matrices of unsigned (wrapping) as a derived type: product in rank order. */
static MPI_Datatype mat_t;
static int calls_with_wrong_type;

static void matmul(const unsigned *a, const unsigned *b, unsigned *c)
{
    unsigned r[4] = {a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
                     a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]};
    memcpy(c, r, sizeof r);
}

static void matop(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    if (*dt != mat_t) calls_with_wrong_type++;
    unsigned *a = in, *b = inout;
    for (int k = 0; k < *len; k++) matmul(a + 4 * k, b + 4 * k, b + 4 * k); /* inout = in * inout */
}

static void mat_of(int r, int k, unsigned *m)
{
    m[0] = (unsigned)(r + 2 + k); m[1] = 1; m[2] = (unsigned)(r * 3 + 1); m[3] = 0;
}

static void product(int lo, int hi, int k, unsigned *m)
{
    m[0] = 1; m[1] = 0; m[2] = 0; m[3] = 1;
    for (int q = lo; q < hi; q++) { unsigned x[4]; mat_of(q, k, x); matmul(m, x, m); }
}

static void check_mat(const unsigned *got, int lo, int hi, int k, const char *what)
{
    unsigned w[4];
    product(lo, hi, k, w);
    CHECK(!memcmp(got, w, sizeof w), "%s: product of ranks %d..%d (elem %d) is out of order", what, lo, hi - 1, k);
}

static void noncommutative(void)
{
    MPI_CHECK(MPI_Type_contiguous(4, MPI_UNSIGNED, &mat_t));
    MPI_CHECK(MPI_Type_commit(&mat_t));
    MPI_Op op;
    MPI_CHECK(MPI_Op_create(matop, 0, &op));
    int commute = -1;
    MPI_CHECK(MPI_Op_commutative(op, &commute));
    CHECK(commute == 0, "Op_commutative says %d", commute);
    MPI_CHECK(MPI_Op_commutative(MPI_SUM, &commute));
    CHECK(commute == 1, "MPI_SUM not commutative?");
    enum { K = 3 };
    unsigned in[4 * K], out[4 * K];
    for (int k = 0; k < K; k++) mat_of(rank, k, in + 4 * k);
    for (int root = 0; root < size; root++) {
        memset(out, 0, sizeof out);
        MPI_CHECK(MPI_Reduce(in, out, K, mat_t, op, root, MPI_COMM_WORLD));
        if (rank == root) for (int k = 0; k < K; k++) check_mat(out + 4 * k, 0, size, k, "reduce");
    }
    MPI_CHECK(MPI_Allreduce(in, out, K, mat_t, op, MPI_COMM_WORLD));
    for (int k = 0; k < K; k++) check_mat(out + 4 * k, 0, size, k, "allreduce");
    MPI_Request rq;
    MPI_CHECK(MPI_Iallreduce(in, out, K, mat_t, op, MPI_COMM_WORLD, &rq));
    MPI_CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
    for (int k = 0; k < K; k++) check_mat(out + 4 * k, 0, size, k, "iallreduce");
    MPI_CHECK(MPI_Scan(in, out, K, mat_t, op, MPI_COMM_WORLD));
    for (int k = 0; k < K; k++) check_mat(out + 4 * k, 0, rank + 1, k, "scan");
    MPI_CHECK(MPI_Exscan(in, out, K, mat_t, op, MPI_COMM_WORLD));
    if (rank > 0) for (int k = 0; k < K; k++) check_mat(out + 4 * k, 0, rank, k, "exscan");
    /* Reduce_scatter_block: one matrix per rank, element k = rank. */
    unsigned *big = malloc(sizeof(unsigned) * 4 * size), got[4];
    for (int q = 0; q < size; q++) mat_of(rank, q, big + 4 * q);
    MPI_CHECK(MPI_Reduce_scatter_block(big, got, 1, mat_t, op, MPI_COMM_WORLD));
    check_mat(got, 0, size, rank, "reduce_scatter_block");
    free(big);
    /* Reduce_local: inout = in * inout. */
    unsigned a[4], b[4];
    mat_of(1, 0, a); mat_of(2, 0, b);
    MPI_CHECK(MPI_Reduce_local(a, b, 1, mat_t, op));
    check_mat(b, 1, 3, 0, "reduce_local");
    int x[3] = {1, 2, 3}, y[3] = {10, 20, 30};
    MPI_CHECK(MPI_Reduce_local(x, y, 3, MPI_INT, MPI_SUM));
    CHECK(y[0] == 11 && y[1] == 22 && y[2] == 33, "reduce_local sum");
    CHECK(calls_with_wrong_type == 0, "user function got a wrong datatype handle");
    MPI_CHECK(MPI_Op_free(&op));
    CHECK(op == MPI_OP_NULL, "Op_free did not reset the handle");
    MPI_CHECK(MPI_Type_free(&mat_t));
}

int main(int argc, char **argv)
{
    ot_init("coll_ops", &argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    sweep_predefined();
    noncommutative();
    ot_pass();
    return 0;
}
