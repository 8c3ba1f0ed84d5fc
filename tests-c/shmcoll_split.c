/* Large reductions of ranks that share a node (the single-copy reduce-scatter followed by a
 * gather or allgather of the reduced blocks: allreduces from 64 KiB when ranks outnumber cores),
 * checked against serial results:
 *  - MPI_Reduce at every root and MPI_Allreduce, with and without MPI_IN_PLACE, MPI_INT sum,
 *    MPI_DOUBLE max, MPI_LONG_LONG prod (element counts not divisible by the rank count,
 *    nor by a cache line's worth of elements; from below the split threshold to 1.2 MB);
 *  - a non-commutative user op (2x2 matrix products: the result shows the rank order) on a
 *    contiguous type of 16 bytes, in place and not, every root;
 *  - MPI_FLOAT_INT MINLOC (a pair type with padding: the schedules take it);
 *  - on MPI_COMM_WORLD and on a split with the rank order reversed; the manifest also runs
 *    it oversubscribed (more ranks than cores).
 */
#include "shmcoll.h"

/* A matrix with entries in {0, 1} whose products over 8 ranks stay small. */
static void matrix_of(int r, int i, int k, int m[4])
{
    int v = (r * 3 + i + k) % 4;
    m[0] = 1, m[1] = v & 1, m[2] = (v >> 1) & 1, m[3] = v == 3 ? 0 : 1;
}

static int first_bad_int(const int *got, const int *want, int m)
{
    for (int i = 0; i < m; i++)
        if (got[i] != want[i])
            return i;
    return -1;
}

static void check_int_sum(MPI_Comm comm, int k, int m, int *in, int *out, int *want)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    for (int i = 0; i < m; i++) {
        in[i] = shm_val(me, i, k) + me;
        want[i] = 0;
        for (int r = 0; r < n; r++)
            want[i] += shm_val(r, i, k) + r;
    }
    for (int root = 0; root < n; root++)
        for (int ip = 0; ip < 2; ip++) {
            int inplace = ip && me == root;
            if (inplace)
                memcpy(out, in, m * sizeof(int));
            else
                memset(out, 0x5A, m * sizeof(int));
            MPI_CHECK(MPI_Reduce(inplace ? MPI_IN_PLACE : in, out, m, MPI_INT, MPI_SUM, root,
                                 comm));
            if (me == root) {
                int bad = first_bad_int(out, want, m);
                CHECK(bad < 0, "reduce sum m %d root %d ip %d elem %d", m, root, ip, bad);
            }
        }
    for (int ip = 0; ip < 2; ip++) {
        if (ip)
            memcpy(out, in, m * sizeof(int));
        else
            memset(out, 0x5A, m * sizeof(int));
        MPI_CHECK(MPI_Allreduce(ip ? MPI_IN_PLACE : in, out, m, MPI_INT, MPI_SUM, comm));
        int bad = first_bad_int(out, want, m);
        CHECK(bad < 0, "allreduce sum m %d ip %d elem %d", m, ip, bad);
    }
    /* The input must be intact after a reduction that is not in place. */
    for (int i = 0; i < m; i++)
        if (in[i] != shm_val(me, i, k) + me) {
            CHECK(0, "input changed m %d elem %d", m, i);
            break;
        }
}

static void check_double_max(MPI_Comm comm, int k, int m)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    double *in = malloc(m * sizeof(double)), *out = malloc(m * sizeof(double));
    CHECK(in && out, "malloc");
    for (int i = 0; i < m; i++)
        in[i] = ((me * 13 + i * 7 + k) % 17) * 0.25;
    for (int ip = 0; ip < 2; ip++) {
        if (ip)
            memcpy(out, in, m * sizeof(double));
        MPI_CHECK(MPI_Allreduce(ip ? MPI_IN_PLACE : in, out, m, MPI_DOUBLE, MPI_MAX, comm));
        for (int i = 0; i < m; i++) {
            double w = 0;
            for (int r = 0; r < n; r++) {
                double v = ((r * 13 + i * 7 + k) % 17) * 0.25;
                w = v > w ? v : w;
            }
            if (out[i] != w) {
                CHECK(0, "allreduce max m %d ip %d elem %d", m, ip, i);
                break;
            }
        }
    }
    free(in);
    free(out);
}

static void check_llong_prod(MPI_Comm comm, int k, int m)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    long long *in = malloc(m * sizeof(long long)), *out = malloc(m * sizeof(long long));
    CHECK(in && out, "malloc");
    for (int i = 0; i < m; i++)
        in[i] = (me + i + k) % 3 + 1;
    for (int root = 0; root < n; root += n > 2 ? n - 1 : 1) {
        MPI_CHECK(MPI_Reduce(in, out, m, MPI_LONG_LONG, MPI_PROD, root, comm));
        if (me == root)
            for (int i = 0; i < m; i++) {
                long long w = 1;
                for (int r = 0; r < n; r++)
                    w *= (r + i + k) % 3 + 1;
                if (out[i] != w) {
                    CHECK(0, "reduce prod m %d root %d elem %d", m, root, i);
                    break;
                }
            }
    }
    free(in);
    free(out);
}

static void check_matmul(MPI_Comm comm, int k, int m, MPI_Op mat, MPI_Datatype m2x2)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    int *in = malloc(4 * (size_t)m * sizeof(int)), *out = malloc(4 * (size_t)m * sizeof(int));
    int *want = malloc(4 * (size_t)m * sizeof(int));
    CHECK(in && out && want, "malloc");
    for (int i = 0; i < m; i++) {
        int w[4], b[4];
        matrix_of(0, i, k, w);
        for (int r = 1; r < n; r++) {
            int len = 1;
            matrix_of(r, i, k, b);
            shm_matmul(w, b, &len, NULL); /* b = w * m_r */
            memcpy(w, b, sizeof w);
        }
        memcpy(want + 4 * i, w, sizeof w);
        matrix_of(me, i, k, in + 4 * i);
    }
    for (int root = 0; root < n; root++)
        for (int ip = 0; ip < 2; ip++) {
            int inplace = ip && me == root;
            if (inplace)
                memcpy(out, in, 4 * (size_t)m * sizeof(int));
            else
                memset(out, 0, 4 * (size_t)m * sizeof(int));
            MPI_CHECK(MPI_Reduce(inplace ? MPI_IN_PLACE : in, out, m, m2x2, mat, root, comm));
            if (me == root) {
                int bad = first_bad_int(out, want, 4 * m);
                CHECK(bad < 0, "reduce matmul m %d root %d ip %d int %d", m, root, ip, bad);
            }
        }
    for (int ip = 0; ip < 2; ip++) {
        if (ip)
            memcpy(out, in, 4 * (size_t)m * sizeof(int));
        else
            memset(out, 0, 4 * (size_t)m * sizeof(int));
        MPI_CHECK(MPI_Allreduce(ip ? MPI_IN_PLACE : in, out, m, m2x2, mat, comm));
        int bad = first_bad_int(out, want, 4 * m);
        CHECK(bad < 0, "allreduce matmul m %d ip %d int %d", m, ip, bad);
    }
    free(in);
    free(out);
    free(want);
}

static void check_minloc(MPI_Comm comm, int k, int m)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    struct fi {
        float v;
        int i;
    } *in = malloc(m * sizeof *in), *out = malloc(m * sizeof *out);
    CHECK(in && out, "malloc");
    for (int i = 0; i < m; i++)
        in[i].v = (float)((me * 5 + i + k) % 4), in[i].i = me;
    MPI_CHECK(MPI_Allreduce(in, out, m, MPI_FLOAT_INT, MPI_MINLOC, comm));
    for (int i = 0; i < m; i++) {
        int best = 0;
        for (int r = 1; r < n; r++)
            if ((r * 5 + i + k) % 4 < (best * 5 + i + k) % 4)
                best = r;
        if (out[i].v != (float)((best * 5 + i + k) % 4) || out[i].i != best) {
            CHECK(0, "allreduce minloc m %d elem %d", m, i);
            break;
        }
    }
    free(in);
    free(out);
}

static void check_all(MPI_Comm comm, int rounds)
{
    /* 32 KiB - 4 B .. 1.2 MB of ints: below and above the split threshold, odd counts. */
    const int counts[] = {8191, 16391, 32771, 65547, 300007};
    enum { MAXC = 300007 };
    int *in = malloc(MAXC * sizeof(int)), *out = malloc(MAXC * sizeof(int));
    int *want = malloc(MAXC * sizeof(int));
    CHECK(in && out && want, "malloc");
    MPI_Op mat;
    MPI_Datatype m2x2;
    MPI_CHECK(MPI_Op_create(shm_matmul, 0, &mat));
    MPI_CHECK(MPI_Type_contiguous(4, MPI_INT, &m2x2));
    MPI_CHECK(MPI_Type_commit(&m2x2));
    for (int k = 0; k < rounds; k++) {
        for (unsigned c = 0; c < sizeof counts / sizeof counts[0]; c++)
            check_int_sum(comm, k, counts[c], in, out, want);
        check_double_max(comm, k, 40013);
        check_double_max(comm, k, 131075);
        check_llong_prod(comm, k, 20011);
        check_matmul(comm, k, 9001, mat, m2x2);
        check_matmul(comm, k, 70001, mat, m2x2);
        check_minloc(comm, k, 30001);
    }
    MPI_CHECK(MPI_Op_free(&mat));
    MPI_CHECK(MPI_Type_free(&m2x2));
    free(in);
    free(out);
    free(want);
}

int main(int argc, char **argv)
{
    return shm_run_world_and_split("shmcoll_split", &argc, &argv, check_all);
}
