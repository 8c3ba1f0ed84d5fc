/* Large collectives of ranks that share a node: the staged pieces (messages longer than a
 * slot of the shared-memory region, moved a slot at a time) and the single-copy route (from
 * 32 KiB: readers copy straight from the source's memory), checked against serial results.
 *  - bcast, every root, sizes across 16 KiB (slot) and the single copy (128 KiB when
 *    every rank has a core, 256 KiB when ranks outnumber cores), odd sizes,
 *    a non-contiguous root buffer (packed before the others read it) beside contiguous
 *    ones;
 *  - reduce and allreduce, every root, MPI_INT sum and max, MPI_DOUBLE sum, MPI_IN_PLACE,
 *    a non-commutative user op (2x2 matrix products: the result shows the rank order);
 *  - gather, scatter, allgather, alltoall of equal blocks, every root, MPI_IN_PLACE, and
 *    alltoall with a non-contiguous receive type;
 *  - on MPI_COMM_WORLD and on a split with the rank order reversed.
 */
#include "shmcoll.h"

static void check_bcast(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    const int sizes[] = {16383, 16385, 32767, 32768, 40001, 65536, 131071, 131072, 200003, 262145};
    static unsigned char buf[262145];
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int root = 0; root < n; root++) {
            int len = sizes[s];
            for (int i = 0; i < len; i++)
                buf[i] = me == root ? ot_byte(k * 31 + root + s, i) : 0xEE;
            MPI_CHECK(MPI_Bcast(buf, len, MPI_BYTE, root, comm));
            for (int i = 0; i < len; i++)
                if (buf[i] != ot_byte(k * 31 + root + s, i)) {
                    CHECK(0, "bcast len %d root %d byte %d", len, root, i);
                    break;
                }
        }
    /* The root sends every other int of a vector, the others receive contiguous ints. */
    enum { V = 20000 };
    static int a[2 * V];
    MPI_Datatype vec;
    MPI_CHECK(MPI_Type_vector(V, 1, 2, MPI_INT, &vec));
    MPI_CHECK(MPI_Type_commit(&vec));
    for (int root = 0; root < n; root++) {
        for (int i = 0; i < 2 * V; i++)
            a[i] = me == root ? 100 * k + i : -1;
        if (me == root) {
            MPI_CHECK(MPI_Bcast(a, 1, vec, root, comm));
        } else {
            MPI_CHECK(MPI_Bcast(a, V, MPI_INT, root, comm));
            for (int i = 0; i < V; i++)
                if (a[i] != 100 * k + 2 * i) {
                    CHECK(0, "vector bcast root %d elem %d", root, i);
                    break;
                }
        }
    }
    MPI_CHECK(MPI_Type_free(&vec));
}

/* A matrix with entries in {0, 1} whose products over 8 ranks stay small. */
static void matrix_of(int r, int i, int k, int m[4])
{
    int v = (r * 5 + i + k) % 4;
    m[0] = 1, m[1] = v & 1, m[2] = (v >> 1) & 1, m[3] = v == 3 ? 0 : 1;
}

static void check_reductions(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    const int counts[] = {4097, 8191, 8192, 12345, 32768, 40000};
    enum { MAXC = 40000 };
    int *in = malloc(MAXC * sizeof(int)), *out = malloc(MAXC * sizeof(int));
    double *din = malloc(MAXC * sizeof(double)), *dout = malloc(MAXC * sizeof(double));
    CHECK(in && out && din && dout, "malloc");
    for (unsigned c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int m = counts[c];
        for (int i = 0; i < m; i++)
            in[i] = shm_val(me, i, k), din[i] = shm_val(me, i, k) * 0.5;
        for (int root = 0; root < n; root++)
            for (int ip = 0; ip < 2; ip++) {
                int inplace = ip && me == root;
                if (inplace)
                    memcpy(out, in, m * sizeof(int));
                else
                    memset(out, 0, m * sizeof(int));
                MPI_CHECK(MPI_Reduce(inplace ? MPI_IN_PLACE : in, out, m, MPI_INT, MPI_SUM,
                                     root, comm));
                if (me == root)
                    for (int i = 0; i < m; i++) {
                        int w = 0;
                        for (int r = 0; r < n; r++)
                            w += shm_val(r, i, k);
                        if (out[i] != w) {
                            CHECK(0, "reduce m %d root %d ip %d elem %d", m, root, ip, i);
                            break;
                        }
                    }
            }
        for (int ip = 0; ip < 2; ip++) {
            if (ip)
                memcpy(out, in, m * sizeof(int));
            MPI_CHECK(MPI_Allreduce(ip ? MPI_IN_PLACE : in, out, m, MPI_INT, MPI_MAX, comm));
            for (int i = 0; i < m; i++) {
                int w = 0;
                for (int r = 0; r < n; r++)
                    w = shm_val(r, i, k) > w ? shm_val(r, i, k) : w;
                if (out[i] != w) {
                    CHECK(0, "allreduce max m %d ip %d elem %d", m, ip, i);
                    break;
                }
            }
        }
        MPI_CHECK(MPI_Allreduce(din, dout, m, MPI_DOUBLE, MPI_SUM, comm));
        for (int i = 0; i < m; i++) {
            double w = 0;
            for (int r = 0; r < n; r++)
                w += shm_val(r, i, k) * 0.5;
            if (dout[i] != w) {
                CHECK(0, "allreduce double m %d elem %d", m, i);
                break;
            }
        }
    }
    /* Non-commutative: 2x2 matrix products in rank order, 2000 and 9000 matrices (32 and
     * 144 KiB: single copy). */
    MPI_Op mat;
    MPI_Datatype m2x2;
    MPI_CHECK(MPI_Op_create(shm_matmul, 0, &mat));
    MPI_CHECK(MPI_Type_contiguous(4, MPI_INT, &m2x2));
    MPI_CHECK(MPI_Type_commit(&m2x2));
    const int mats[] = {1000, 2048, 3000};
    int *want = malloc(MAXC * sizeof(int));
    CHECK(want != NULL, "malloc");
    for (unsigned c = 0; c < sizeof mats / sizeof mats[0]; c++) {
        int m = mats[c];
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
        for (int root = 0; root < n; root++) {
            int inplace = root % 2 == 1 && me == root;
            if (inplace)
                memcpy(out, in, 4 * m * sizeof(int));
            MPI_CHECK(MPI_Reduce(inplace ? MPI_IN_PLACE : in, out, m, m2x2, mat, root, comm));
            if (me == root)
                CHECK(!memcmp(out, want, 4 * m * sizeof(int)), "reduce matmul m %d root %d", m,
                      root);
        }
        memcpy(out, in, 4 * m * sizeof(int));
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, out, m, m2x2, mat, comm));
        CHECK(!memcmp(out, want, 4 * m * sizeof(int)), "in-place allreduce matmul m %d", m);
        MPI_CHECK(MPI_Allreduce(in, out, m, m2x2, mat, comm));
        CHECK(!memcmp(out, want, 4 * m * sizeof(int)), "allreduce matmul m %d", m);
    }
    MPI_CHECK(MPI_Op_free(&mat));
    MPI_CHECK(MPI_Type_free(&m2x2));
    free(want);
    free(in);
    free(out);
    free(din);
    free(dout);
}

static void check_blocks(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    const int counts[] = {4500, 8192, 9001};
    enum { MAXB = 9001 };
    int *mine = malloc(MAXB * sizeof(int)), *all = malloc((size_t)MAXB * n * sizeof(int));
    int *snd = malloc((size_t)MAXB * n * sizeof(int));
    CHECK(mine && all && snd, "malloc");
    for (unsigned c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int m = counts[c];
        for (int root = 0; root < n; root++)
            for (int ip = 0; ip < 2; ip++) {
                int inplace = ip && me == root;
                for (int i = 0; i < m; i++)
                    mine[i] = shm_val(me, i, k) + 10 * me;
                memset(all, 0, (size_t)m * n * sizeof(int));
                if (inplace)
                    memcpy(all + (size_t)root * m, mine, m * sizeof(int));
                MPI_CHECK(MPI_Gather(inplace ? MPI_IN_PLACE : mine, m, MPI_INT, all, m, MPI_INT,
                                     root, comm));
                if (me == root)
                    for (int q = 0; q < n; q++)
                        for (int i = 0; i < m; i++)
                            if (all[(size_t)q * m + i] != shm_val(q, i, k) + 10 * q) {
                                CHECK(0, "gather m %d root %d from %d elem %d", m, root, q, i);
                                q = n;
                                break;
                            }
                for (int q = 0; q < n; q++)
                    for (int i = 0; i < m; i++)
                        all[(size_t)q * m + i] = me == root ? shm_val(q, i, k) - q : -7;
                for (int i = 0; i < m; i++)
                    mine[i] = -9;
                MPI_CHECK(MPI_Scatter(all, m, MPI_INT, inplace ? MPI_IN_PLACE : mine, m, MPI_INT,
                                      root, comm));
                if (!inplace)
                    for (int i = 0; i < m; i++)
                        if (mine[i] != shm_val(me, i, k) - me) {
                            CHECK(0, "scatter m %d root %d elem %d", m, root, i);
                            break;
                        }
            }
        for (int ip = 0; ip < 2; ip++) {
            for (int i = 0; i < m; i++)
                mine[i] = shm_val(me, i, k) * 3;
            memset(all, 0, (size_t)m * n * sizeof(int));
            if (ip)
                memcpy(all + (size_t)me * m, mine, m * sizeof(int));
            MPI_CHECK(MPI_Allgather(ip ? MPI_IN_PLACE : mine, m, MPI_INT, all, m, MPI_INT, comm));
            for (int q = 0; q < n; q++)
                for (int i = 0; i < m; i++)
                    if (all[(size_t)q * m + i] != shm_val(q, i, k) * 3) {
                        CHECK(0, "allgather m %d ip %d from %d elem %d", m, ip, q, i);
                        q = n;
                        break;
                    }
            /* Alltoall: block q of rank me holds shm_val(me, i, k) + 100 * q. */
            int *src = ip ? all : snd;
            for (int q = 0; q < n; q++)
                for (int i = 0; i < m; i++)
                    src[(size_t)q * m + i] = shm_val(me, i, k) + 100 * q;
            if (!ip)
                memset(all, 0, (size_t)m * n * sizeof(int));
            MPI_CHECK(MPI_Alltoall(ip ? MPI_IN_PLACE : snd, m, MPI_INT, all, m, MPI_INT, comm));
            for (int q = 0; q < n; q++)
                for (int i = 0; i < m; i++)
                    if (all[(size_t)q * m + i] != shm_val(q, i, k) + 100 * me) {
                        CHECK(0, "alltoall m %d ip %d from %d elem %d", m, ip, q, i);
                        q = n;
                        break;
                    }
        }
        /* Alltoall into every other int (a vector per block), from contiguous blocks. */
        int *wide = malloc((size_t)2 * m * n * sizeof(int));
        CHECK(wide != NULL, "malloc");
        MPI_Datatype vec, rvec;
        MPI_CHECK(MPI_Type_vector(m, 1, 2, MPI_INT, &vec));
        MPI_CHECK(MPI_Type_create_resized(vec, 0, (MPI_Aint)(2 * m * sizeof(int)), &rvec));
        MPI_CHECK(MPI_Type_commit(&rvec));
        for (int q = 0; q < n; q++)
            for (int i = 0; i < m; i++)
                snd[(size_t)q * m + i] = shm_val(me, i, k) + 100 * q;
        for (size_t i = 0; i < (size_t)2 * m * n; i++)
            wide[i] = -5;
        MPI_CHECK(MPI_Alltoall(snd, m, MPI_INT, wide, 1, rvec, comm));
        for (int q = 0; q < n; q++)
            for (int i = 0; i < m; i++)
                if (wide[(size_t)q * 2 * m + 2 * i] != shm_val(q, i, k) + 100 * me ||
                    wide[(size_t)q * 2 * m + 2 * i + 1] != -5) {
                    CHECK(0, "alltoall vector m %d from %d elem %d", m, q, i);
                    q = n;
                    break;
                }
        MPI_CHECK(MPI_Type_free(&vec));
        MPI_CHECK(MPI_Type_free(&rvec));
        free(wide);
    }
    free(mine);
    free(all);
    free(snd);
}

static void check_all(MPI_Comm comm, int rounds)
{
    for (int k = 0; k < rounds; k++) {
        check_bcast(comm, k);
        check_reductions(comm, k);
        check_blocks(comm, k);
    }
}

int main(int argc, char **argv)
{
    return shm_run_world_and_split("shmcoll_large", &argc, &argv, check_all);
}
