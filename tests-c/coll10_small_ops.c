/* Small reductions of the common predefined pairs (coll10, issue 13): SUM, PROD, MAX and
 * MIN on 32- and 64-bit integers (signed and unsigned) and on float and double, from 1
 * element up to past the 64-byte small-kernel limit (src/coll/reduce.rs `small`), with
 * MPI_Reduce at every root and MPI_Allreduce, in place and not; integer sums that wrap;
 * a non-commutative user op (fold order); and other pairs (BAND, MPI_SHORT) that keep
 * the general kernels. Every result is checked against a local computation.
 */
#include "oxitest.h"
#include <limits.h>
#include <stdint.h>

enum { MAXN = 24 };

/* Value of element i at rank r: small, so float sums and products stay exact; some
 * negative for signed types. */
static double val(int r, int i, int sgn)
{
    double v = (double)((r * 7 + i * 3) % 5 + 1);
    return (sgn && (r + i) % 3 == 0) ? -v : v;
}

#define DEF_KIND(NAME, T)                                                                     \
    static void fill_##NAME(void *b, int r, int n, int sgn)                                   \
    {                                                                                         \
        for (int i = 0; i < n; i++)                                                           \
            ((T *)b)[i] = (T)val(r, i, sgn);                                                  \
    }                                                                                         \
    static void expect_##NAME(void *b, MPI_Op op, int size, int n, int sgn)                   \
    {                                                                                         \
        for (int i = 0; i < n; i++) {                                                         \
            T acc = (T)val(0, i, sgn);                                                        \
            for (int r = 1; r < size; r++) {                                                  \
                T x = (T)val(r, i, sgn);                                                      \
                if (op == MPI_SUM)                                                            \
                    acc = (T)(acc + x);                                                       \
                else if (op == MPI_PROD)                                                      \
                    acc = (T)(acc * x);                                                       \
                else if (op == MPI_MAX)                                                       \
                    acc = x > acc ? x : acc;                                                  \
                else                                                                          \
                    acc = x < acc ? x : acc;                                                  \
            }                                                                                 \
            ((T *)b)[i] = acc;                                                                \
        }                                                                                     \
    }

DEF_KIND(int, int)
DEF_KIND(long, long)
DEF_KIND(unsigned, unsigned)
DEF_KIND(ulong, unsigned long)
DEF_KIND(float, float)
DEF_KIND(double, double)
DEF_KIND(short, short)

struct kind {
    const char *name;
    MPI_Datatype dt;
    size_t size;
    int sgn;
    void (*fill)(void *, int, int, int);
    void (*expect)(void *, MPI_Op, int, int, int);
};

static const struct kind kinds[] = {
    {"int", MPI_INT, sizeof(int), 1, fill_int, expect_int},
    {"long", MPI_LONG, sizeof(long), 1, fill_long, expect_long},
    {"unsigned", MPI_UNSIGNED, sizeof(unsigned), 0, fill_unsigned, expect_unsigned},
    {"unsigned long", MPI_UNSIGNED_LONG, sizeof(unsigned long), 0, fill_ulong, expect_ulong},
    {"float", MPI_FLOAT, sizeof(float), 1, fill_float, expect_float},
    {"double", MPI_DOUBLE, sizeof(double), 1, fill_double, expect_double},
    {"short", MPI_SHORT, sizeof(short), 1, fill_short, expect_short},
};

static const MPI_Op ops[] = {MPI_SUM, MPI_PROD, MPI_MAX, MPI_MIN};
static const char *op_names[] = {"SUM", "PROD", "MAX", "MIN"};
static const int counts[] = {1, 2, 3, 5, 8, 9, 16, 17, MAXN};

static void check_block(const char *what, const struct kind *k, const char *op, int n,
                        int root, int inplace, const void *got, const void *want)
{
    if (memcmp(got, want, (size_t)n * k->size) != 0) {
        for (int i = 0; i < n; i++)
            if (memcmp((const char *)got + i * k->size, (const char *)want + i * k->size,
                       k->size) != 0)
                FAIL("%s %s %s count %d root %d in place %d: element %d differs", what,
                     k->name, op, n, root, inplace, i);
    }
}

static void common_pairs(int rank, int size)
{
    long long in[MAXN], out[MAXN], want[MAXN];
    for (unsigned ki = 0; ki < sizeof kinds / sizeof *kinds; ki++) {
        const struct kind *k = &kinds[ki];
        for (unsigned oi = 0; oi < 4; oi++) {
            for (unsigned ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
                int n = counts[ci];
                k->expect(want, ops[oi], size, n, k->sgn);
                for (int inplace = 0; inplace < 2; inplace++) {
                    /* allreduce */
                    k->fill(in, rank, n, k->sgn);
                    memset(out, 0x5a, sizeof out);
                    if (inplace) {
                        k->fill(out, rank, n, k->sgn);
                        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, out, n, k->dt, ops[oi],
                                                MPI_COMM_WORLD));
                    } else {
                        MPI_CHECK(MPI_Allreduce(in, out, n, k->dt, ops[oi], MPI_COMM_WORLD));
                    }
                    check_block("allreduce", k, op_names[oi], n, -1, inplace, out, want);
                    /* reduce at every root */
                    for (int root = 0; root < size; root++) {
                        k->fill(in, rank, n, k->sgn);
                        memset(out, 0x5a, sizeof out);
                        if (inplace && rank == root) {
                            k->fill(out, rank, n, k->sgn);
                            MPI_CHECK(MPI_Reduce(MPI_IN_PLACE, out, n, k->dt, ops[oi], root,
                                                 MPI_COMM_WORLD));
                        } else {
                            MPI_CHECK(MPI_Reduce(in, out, n, k->dt, ops[oi], root,
                                                 MPI_COMM_WORLD));
                        }
                        if (rank == root)
                            check_block("reduce", k, op_names[oi], n, root, inplace, out, want);
                    }
                }
            }
        }
    }
}

/* Integer sums and products that overflow wrap (two's complement), as the general
 * kernels do. */
static void wrapping(int rank, int size)
{
    int a[2] = {INT_MAX, INT_MIN + rank}, r[2];
    MPI_CHECK(MPI_Allreduce(a, r, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    unsigned w0 = 0, w1 = 0;
    for (int q = 0; q < size; q++) {
        w0 += (unsigned)INT_MAX;
        w1 += (unsigned)(INT_MIN + q);
    }
    CHECK((unsigned)r[0] == w0 && (unsigned)r[1] == w1, "int sum wraps: %d %d", r[0], r[1]);
    long la = LONG_MAX - rank, lr;
    MPI_CHECK(MPI_Allreduce(&la, &lr, 1, MPI_LONG, MPI_PROD, MPI_COMM_WORLD));
    unsigned long lw = 1;
    for (int q = 0; q < size; q++)
        lw *= (unsigned long)(LONG_MAX - q);
    CHECK((unsigned long)lr == lw, "long product wraps: %ld", lr);
}

/* inout = in: the fold x0 op (x1 op (...)) leaves rank 0's data. */
static void first_wins(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    memcpy(inout, in, (size_t)*len * sizeof(int));
}

static void user_and_other_pairs(int rank, int size)
{
    MPI_Op first;
    MPI_CHECK(MPI_Op_create(first_wins, 0, &first));
    int a[2] = {100 + rank, 200 + rank}, r[2];
    MPI_CHECK(MPI_Allreduce(a, r, 2, MPI_INT, first, MPI_COMM_WORLD));
    CHECK(r[0] == 100 && r[1] == 200, "non-commutative allreduce: %d %d", r[0], r[1]);
    for (int root = 0; root < size; root++) {
        r[0] = r[1] = -1;
        MPI_CHECK(MPI_Reduce(a, r, 2, MPI_INT, first, root, MPI_COMM_WORLD));
        if (rank == root)
            CHECK(r[0] == 100 && r[1] == 200, "non-commutative reduce root %d: %d %d", root,
                  r[0], r[1]);
    }
    MPI_CHECK(MPI_Op_free(&first));
    unsigned b = 0xffu & ~(1u << rank), br;
    MPI_CHECK(MPI_Allreduce(&b, &br, 1, MPI_UNSIGNED, MPI_BAND, MPI_COMM_WORLD));
    CHECK(br == (0xffu & ~((1u << size) - 1)), "band: %#x", br);
}

int main(int argc, char **argv)
{
    ot_init("coll10_small_ops", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    common_pairs(rank, size);
    wrapping(rank, size);
    user_and_other_pairs(rank, size);
    /* The same on a communicator of the ranks in reverse order. */
    MPI_Comm rev;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, 0, size - rank, &rev));
    int a = rank + 1, s;
    MPI_CHECK(MPI_Allreduce(&a, &s, 1, MPI_INT, MPI_SUM, rev));
    CHECK(s == size * (size + 1) / 2, "reversed communicator sum %d", s);
    MPI_CHECK(MPI_Comm_free(&rev));
    return ot_pass();
}
