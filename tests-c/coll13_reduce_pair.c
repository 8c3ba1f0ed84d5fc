/* Reduces of 16-32 KiB (coll13, issue 13): at 2 ranks, each with a core, they go single-copy
 * from 16 KiB (the root reads the other rank's input) instead of through the slots, and a
 * root that is the last rank folds a commutative op starting from the rank before. Checks,
 * at every root, on MPI_COMM_WORLD and on a reversed split (the last rank is another
 * process), sizes from 16 KiB to 40000 B, odd ones included:
 *  - every predefined arithmetic op on eight C types, the bit and logical ops on the
 *    integer ones, MAXLOC / MINLOC on MPI_2INT, against a serial fold in rank order;
 *  - MPI_IN_PLACE at the root and separate buffers (the output left untouched elsewhere);
 *  - a non-commutative user op (2x2 integer matrix products): the rank order.
 */
#include "shmcoll.h"

static const int byte_sizes[] = {16384, 16385, 20007, 24576, 32764, 32768, 40000};
enum { NSIZES = sizeof byte_sizes / sizeof byte_sizes[0], MAXB = 40000 };

/* Element i of rank r's input in round k, for op kind `kind` (0 arithmetic, 1 product,
 * 2 bits, 3 logical): small values so that sums and products stay exact. */
static int ival(int kind, int r, int i, int k, int n)
{
    switch (kind) {
    case 0: return (r * 7 + i * 3 + k) % 5 + 1 - (i % 3 == 0 ? 3 : 0);
    case 1: return i % n == r ? 2 + (i + k) % 2 : 1;
    case 2: return (r * 37 + i * 11 + k) & 0x7f;
    default: return (r + i + k) % 3 == 0 ? 0 : (r + i) % 4;
    }
}

#define OPS_ARITH 4
#define OPS_ALL 10
static const MPI_Op ops[OPS_ALL] = {MPI_SUM, MPI_PROD, MPI_MAX, MPI_MIN, MPI_BAND,
                                    MPI_BOR, MPI_BXOR, MPI_LAND, MPI_LOR, MPI_LXOR};
static const char *op_names[OPS_ALL] = {"sum", "prod", "max", "min", "band",
                                        "bor", "bxor", "land", "lor", "lxor"};
static int kind_of(int o)
{
    return o == 0 || (o >= 2 && o <= 3) ? 0 : o == 1 ? 1 : o <= 6 ? 2 : 3;
}

/* One type: every op it takes, every size, every root, in place and not. */
#define CHECK_TYPE(T, DT, NOPS)                                                              \
    static void check_##T(MPI_Comm comm, int k)                                              \
    {                                                                                        \
        int me, n;                                                                           \
        MPI_Comm_rank(comm, &me);                                                            \
        MPI_Comm_size(comm, &n);                                                             \
        T *in = malloc(MAXB + 64), *out = malloc(MAXB + 64), *want = malloc(MAXB + 64);      \
        CHECK(in && out && want, "malloc");                                                  \
        for (int o = 0; o < NOPS; o++)                                                       \
            for (int s = 0; s < NSIZES; s++) {                                               \
                int m = byte_sizes[s] / (int)sizeof(T), kind = kind_of(o);                   \
                /* Serial fold in rank order: want = x0 op (x1 op (... op x(n-1))). */      \
                for (int i = 0; i < m; i++) {                                                \
                    T w = (T)ival(kind, n - 1, i, k, n);                                     \
                    for (int r = n - 2; r >= 0; r--) {                                       \
                        T x = (T)ival(kind, r, i, k, n);                                     \
                        switch (o) {                                                         \
                        case 0: w = (T)(x + w); break;                                       \
                        case 1: w = (T)(x * w); break;                                       \
                        case 2: w = w > x ? w : x; break;                                    \
                        case 3: w = w < x ? w : x; break;                                    \
                        case 4: w = (T)((long long)x & (long long)w); break;                 \
                        case 5: w = (T)((long long)x | (long long)w); break;                 \
                        case 6: w = (T)((long long)x ^ (long long)w); break;                 \
                        case 7: w = (T)(x != 0 && w != 0); break;                            \
                        case 8: w = (T)(x != 0 || w != 0); break;                            \
                        default: w = (T)((x != 0) != (w != 0)); break;                       \
                        }                                                                    \
                    }                                                                        \
                    want[i] = w;                                                             \
                }                                                                            \
                for (int root = 0; root < n; root++)                                         \
                    for (int ip = 0; ip < 2; ip++) {                                         \
                        for (int i = 0; i < m; i++)                                          \
                            in[i] = (T)ival(kind, me, i, k, n);                              \
                        memset(out, 0x5A, MAXB + 64);                                        \
                        int inplace = ip && me == root;                                      \
                        if (inplace)                                                         \
                            memcpy(out, in, (size_t)m * sizeof(T));                          \
                        MPI_CHECK(MPI_Reduce(inplace ? MPI_IN_PLACE : in, out, m, DT, ops[o], \
                                             root, comm));                                   \
                        if (me != root)                                                      \
                            continue;                                                        \
                        for (int i = 0; i < m; i++)                                          \
                            if (memcmp(&out[i], &want[i], sizeof(T)))                        \
                                CHECK(0, #T " %s %d B root %d in_place %d: element %d = %g, " \
                                         "want %g",                                          \
                                      op_names[o], byte_sizes[s], root, ip, i,               \
                                      (double)out[i], (double)want[i]);                      \
                        unsigned char *tail = (unsigned char *)(out + m);                    \
                        for (int b = 0; b < 32; b++)                                         \
                            CHECK(tail[b] == 0x5A, #T " %s %d B: written past the output",   \
                                  op_names[o], byte_sizes[s]);                               \
                    }                                                                        \
            }                                                                                \
        free(in);                                                                            \
        free(out);                                                                           \
        free(want);                                                                          \
    }

typedef signed char schar;
typedef unsigned char uchar;
typedef long long llong;
CHECK_TYPE(schar, MPI_SIGNED_CHAR, OPS_ALL)
CHECK_TYPE(uchar, MPI_UNSIGNED_CHAR, OPS_ALL)
CHECK_TYPE(short, MPI_SHORT, OPS_ALL)
CHECK_TYPE(int, MPI_INT, OPS_ALL)
CHECK_TYPE(unsigned, MPI_UNSIGNED, OPS_ALL)
CHECK_TYPE(llong, MPI_LONG_LONG, OPS_ALL)
CHECK_TYPE(float, MPI_FLOAT, OPS_ARITH)
CHECK_TYPE(double, MPI_DOUBLE, OPS_ARITH)

/* MAXLOC and MINLOC on (value, index) pairs: ties resolved to the lowest index. */
static void check_loc(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    int *in = malloc(MAXB), *out = malloc(MAXB);
    CHECK(in && out, "malloc");
    for (int s = 0; s < NSIZES; s++) {
        int m = byte_sizes[s] / 8;
        for (int root = 0; root < n; root++)
            for (int mx = 0; mx < 2; mx++) {
                for (int i = 0; i < m; i++) {
                    in[2 * i] = (me * 5 + i * 3 + k) % 4;
                    in[2 * i + 1] = me;
                }
                MPI_CHECK(MPI_Reduce(in, out, m, MPI_2INT, mx ? MPI_MAXLOC : MPI_MINLOC, root,
                                     comm));
                if (me != root)
                    continue;
                for (int i = 0; i < m; i++) {
                    int bv = (i * 3 + k) % 4, br = 0;
                    for (int r = 1; r < n; r++) {
                        int v = (r * 5 + i * 3 + k) % 4;
                        if (mx ? v > bv : v < bv)
                            bv = v, br = r;
                    }
                    if (out[2 * i] != bv || out[2 * i + 1] != br)
                        CHECK(0, "%s %d B root %d pair %d: (%d, %d), want (%d, %d)",
                              mx ? "maxloc" : "minloc", byte_sizes[s], root, i, out[2 * i],
                              out[2 * i + 1], bv, br);
                }
            }
    }
    free(in);
    free(out);
}

/* The non-commutative user op: x0 * x1 * ... * x(n-1) as 2x2 matrices, every root. */
static void check_matmul(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    MPI_Op mat;
    MPI_Datatype m2x2;
    MPI_CHECK(MPI_Op_create(shm_matmul, 0, &mat));
    MPI_CHECK(MPI_Type_contiguous(4, MPI_INT, &m2x2));
    MPI_CHECK(MPI_Type_commit(&m2x2));
    const int counts[] = {1024, 1025, 1500, 2047, 2048};
    int *in = malloc(2048 * 16), *out = malloc(2048 * 16), *want = malloc(2048 * 16);
    CHECK(in && out && want, "malloc");
    for (int c = 0; c < 5; c++) {
        int m = counts[c];
        for (int i = 0; i < m; i++) {
            int w[4] = {1, 0, 0, 1};
            for (int r = n - 1; r >= 0; r--) {
                int x[4] = {shm_val(r, i, k) % 2, 1, 1, shm_val(r, i + 1, k) % 3};
                int one = 1;
                shm_matmul(x, w, &one, NULL);
            }
            memcpy(want + 4 * i, w, sizeof w);
        }
        for (int root = 0; root < n; root++)
            for (int ip = 0; ip < 2; ip++) {
                for (int i = 0; i < m; i++) {
                    int x[4] = {shm_val(me, i, k) % 2, 1, 1, shm_val(me, i + 1, k) % 3};
                    memcpy(in + 4 * i, x, sizeof x);
                }
                int inplace = ip && me == root;
                if (inplace)
                    memcpy(out, in, (size_t)m * 16);
                MPI_CHECK(MPI_Reduce(inplace ? MPI_IN_PLACE : in, out, m, m2x2, mat, root, comm));
                if (me == root)
                    CHECK(!memcmp(out, want, (size_t)m * 16), "matmul %d root %d in_place %d", m,
                          root, ip);
            }
    }
    free(in);
    free(out);
    free(want);
    MPI_CHECK(MPI_Type_free(&m2x2));
    MPI_CHECK(MPI_Op_free(&mat));
}

static void check_all(MPI_Comm comm, int k)
{
    check_schar(comm, k);
    check_uchar(comm, k);
    check_short(comm, k);
    check_int(comm, k);
    check_unsigned(comm, k);
    check_llong(comm, k);
    check_float(comm, k);
    check_double(comm, k);
    check_loc(comm, k);
    check_matmul(comm, k);
}

int main(int argc, char **argv)
{
    ot_init("coll13_reduce_pair", &argc, &argv);
    check_all(MPI_COMM_WORLD, 1);
    MPI_Comm rev;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, 0, ot_size - ot_rank, &rev));
    check_all(rev, 2);
    MPI_CHECK(MPI_Comm_free(&rev));
    return ot_pass();
}
