/* Collectives of ranks that share a node (the shared-memory route for small messages, the
 * schedules beyond): barrier, bcast, reduce, allreduce checked against serial results.
 *  - every root, back-to-back calls with rotating roots (slot reuse), sizes 0..20000 bytes
 *    across the shared-memory limit, odd sizes;
 *  - every predefined op on int/double/char/long long, MPI_IN_PLACE (reduce at the root,
 *    allreduce), a non-commutative user op on a contiguous derived type (2x2 integer matrix
 *    products: the result shows the rank order) and on MPI_INT pairs;
 *  - a non-contiguous bcast datatype (vector) next to a contiguous one of the same signature
 *    on other ranks;
 *  - gather, scatter, allgather of equal blocks (every root, MPI_IN_PLACE, blocks below and
 *    above the shared-memory limit) next to their v forms, whose counts only the root knows;
 *  - sub-communicators (split, dup, freed and made again in a loop) and blocking calls
 *    interleaved with nonblocking ones on the same communicator;
 *  - with MPI_THREAD_MULTIPLE, two threads running collectives on two communicators at once.
 */
#include "shmcoll.h"
#include <pthread.h>

static int rank, size;

static void check_bcast(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    const int sizes[] = {0, 1, 3, 8, 63, 64, 65, 1000, 4093, 16384, 16385, 20000};
    static unsigned char buf[20000];
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int root = 0; root < n; root++) {
            int len = sizes[s];
            for (int i = 0; i < len; i++)
                buf[i] = me == root ? ot_byte(k * 131 + root, i) : 0xEE;
            MPI_CHECK(MPI_Bcast(buf, len, MPI_BYTE, root, comm));
            for (int i = 0; i < len; i++)
                CHECK(buf[i] == ot_byte(k * 131 + root, i), "bcast len %d root %d byte %d", len,
                      root, i);
        }
    }
    /* Same signature, different layouts: the root sends a vector (every other int), the
     * others receive contiguous ints. */
    MPI_Datatype vec;
    MPI_CHECK(MPI_Type_vector(5, 1, 2, MPI_INT, &vec));
    MPI_CHECK(MPI_Type_commit(&vec));
    for (int root = 0; root < n; root++) {
        int a[10];
        for (int i = 0; i < 10; i++)
            a[i] = me == root ? 100 * k + i : -1;
        if (me == root) {
            MPI_CHECK(MPI_Bcast(a, 1, vec, root, comm));
        } else {
            MPI_CHECK(MPI_Bcast(a, 5, MPI_INT, root, comm));
            for (int i = 0; i < 5; i++)
                CHECK(a[i] == 100 * k + 2 * i, "vector bcast root %d elem %d", root, i);
        }
    }
    MPI_CHECK(MPI_Type_free(&vec));
}

/* Non-commutative on pairs of ints: (a, b) o (c, d) = (a, b) if b != 0 else (c, d) ...
 * simpler: "first wins" (keep the left operand): io = in. */
static void first(void *in, void *io, int *len, MPI_Datatype *dt)
{
    (void)dt;
    memcpy(io, in, (size_t)*len * 2 * sizeof(int));
}

static void matrix_of(int r, int i, int k, int m[4])
{
    /* Unimodular upper/lower triangular matrices keep entries small and products ordered. */
    int x = shm_val(r, i, k) % 3;
    if ((r + i) % 2)
        m[0] = 1, m[1] = x, m[2] = 0, m[3] = 1;
    else
        m[0] = 1, m[1] = 0, m[2] = x, m[3] = 1;
}

static void check_user_ops(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    MPI_Op mat, fst;
    MPI_Datatype m2x2, pair;
    MPI_CHECK(MPI_Op_create(shm_matmul, 0, &mat));
    MPI_CHECK(MPI_Op_create(first, 0, &fst));
    MPI_CHECK(MPI_Type_contiguous(4, MPI_INT, &m2x2));
    MPI_CHECK(MPI_Type_commit(&m2x2));
    MPI_CHECK(MPI_Type_contiguous(2, MPI_INT, &pair));
    MPI_CHECK(MPI_Type_commit(&pair));
    enum { M = 5 };
    int in[M][4], out[M][4], want[M][4];
    for (int i = 0; i < M; i++) {
        matrix_of(0, i, k, want[i]);
        for (int r = 1; r < n; r++) {
            int b[4], c[4];
            matrix_of(r, i, k, b);
            memcpy(c, b, sizeof c);
            int len = 1;
            memcpy(b, want[i], sizeof b);
            /* want = want * m_r: matmul(in = want, io = m_r) */
            shm_matmul(b, c, &len, NULL);
            memcpy(want[i], c, sizeof c);
        }
        matrix_of(me, i, k, in[i]);
    }
    MPI_CHECK(MPI_Allreduce(in, out, M, m2x2, mat, comm));
    CHECK(!memcmp(out, want, sizeof out), "allreduce matmul round %d", k);
    for (int root = 0; root < n; root++) {
        memset(out, 0, sizeof out);
        MPI_CHECK(MPI_Reduce(in, out, M, m2x2, mat, root, comm));
        if (me == root)
            CHECK(!memcmp(out, want, sizeof out), "reduce matmul root %d round %d", root, k);
        /* In place at the root. */
        memcpy(out, in, sizeof out);
        MPI_CHECK(MPI_Reduce(me == root ? MPI_IN_PLACE : in, out, M, m2x2, mat, root, comm));
        if (me == root)
            CHECK(!memcmp(out, want, sizeof out), "in-place reduce matmul root %d", root);
    }
    memcpy(out, in, sizeof out);
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, out, M, m2x2, mat, comm));
    CHECK(!memcmp(out, want, sizeof out), "in-place allreduce matmul round %d", k);
    /* "first wins": rank 0's pairs everywhere. */
    int p[3][2], q[3][2];
    for (int i = 0; i < 3; i++)
        p[i][0] = me, p[i][1] = i + k;
    MPI_CHECK(MPI_Allreduce(p, q, 3, pair, fst, comm));
    for (int i = 0; i < 3; i++)
        CHECK(q[i][0] == 0 && q[i][1] == i + k, "first-wins pair %d: %d", i, q[i][0]);
    MPI_CHECK(MPI_Op_free(&mat));
    MPI_CHECK(MPI_Op_free(&fst));
    MPI_CHECK(MPI_Type_free(&m2x2));
    MPI_CHECK(MPI_Type_free(&pair));
}

#define PREDEF(T, MT, FMT)                                                                   \
    do {                                                                                     \
        enum { N = 37 };                                                                     \
        T in[N], out[N], want[N];                                                            \
        MPI_Op ops[] = {MPI_SUM, MPI_PROD, MPI_MAX, MPI_MIN};                                \
        for (int o = 0; o < 4; o++) {                                                        \
            for (int i = 0; i < N; i++) {                                                    \
                in[i] = (T)shm_val(me, i, k);                                                    \
                T acc = (T)shm_val(0, i, k);                                                     \
                for (int r = 1; r < n; r++) {                                                \
                    T v = (T)shm_val(r, i, k);                                                   \
                    acc = o == 0 ? (T)(acc + v) : o == 1 ? (T)(acc * v)                      \
                        : o == 2 ? (v > acc ? v : acc) : (v < acc ? v : acc);                \
                }                                                                            \
                want[i] = acc;                                                               \
            }                                                                                \
            MPI_CHECK(MPI_Allreduce(in, out, N, MT, ops[o], comm));                          \
            for (int i = 0; i < N; i++)                                                      \
                CHECK(out[i] == want[i], #MT " allreduce op %d elem %d: " FMT " want " FMT,  \
                      o, i, out[i], want[i]);                                                \
            int root = (k + o) % n;                                                          \
            memcpy(out, in, sizeof out);                                                     \
            MPI_CHECK(MPI_Reduce(me == root ? MPI_IN_PLACE : in, out, N, MT, ops[o], root,   \
                                 comm));                                                     \
            if (me == root)                                                                  \
                for (int i = 0; i < N; i++)                                                  \
                    CHECK(out[i] == want[i], #MT " reduce op %d elem %d", o, i);             \
        }                                                                                    \
    } while (0)

static void check_predefined(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    PREDEF(int, MPI_INT, "%d");
    PREDEF(double, MPI_DOUBLE, "%g");
    PREDEF(signed char, MPI_SIGNED_CHAR, "%d");
    PREDEF(long long, MPI_LONG_LONG, "%lld");
    /* Sizes around the shared-memory limit: 16 KiB of ints and just above. */
    static int big[5000], bigout[5000];
    const int counts[] = {4096, 4097, 5000};
    for (int c = 0; c < 3; c++) {
        for (int i = 0; i < counts[c]; i++)
            big[i] = shm_val(me, i, k);
        MPI_CHECK(MPI_Allreduce(big, bigout, counts[c], MPI_INT, MPI_SUM, comm));
        for (int i = 0; i < counts[c]; i++) {
            int w = 0;
            for (int r = 0; r < n; r++)
                w += shm_val(r, i, k);
            CHECK(bigout[i] == w, "big allreduce count %d elem %d", counts[c], i);
        }
    }
}

static void check_barrier_order(MPI_Comm comm)
{
    /* After a barrier every rank has sent its message before it: a probe must find it. */
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    for (int k = 0; k < 20; k++) {
        int x = me;
        MPI_Request rq;
        MPI_CHECK(MPI_Isend(&x, 1, MPI_INT, (me + 1) % n, 5, comm, &rq));
        MPI_CHECK(MPI_Barrier(comm));
        int flag = 0;
        MPI_Status st;
        /* The message was sent before the sender's barrier: it arrives (no timing: wait). */
        MPI_CHECK(MPI_Probe((me + n - 1) % n, 5, comm, &st));
        MPI_CHECK(MPI_Iprobe((me + n - 1) % n, 5, comm, &flag, &st));
        CHECK(flag, "probe after barrier");
        int y;
        MPI_CHECK(MPI_Recv(&y, 1, MPI_INT, (me + n - 1) % n, 5, comm, MPI_STATUS_IGNORE));
        CHECK(y == (me + n - 1) % n, "barrier round %d", k);
        MPI_CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
    }
}

static void check_mixed(MPI_Comm comm, int k)
{
    /* Nonblocking and blocking collectives interleaved on one communicator. */
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    int a = me == 0 ? 11 + k : 0, b = 0, c = me == n - 1 ? 22 + k : 0;
    MPI_Request rq;
    MPI_CHECK(MPI_Ibcast(&a, 1, MPI_INT, 0, comm, &rq));
    MPI_CHECK(MPI_Allreduce(&me, &b, 1, MPI_INT, MPI_SUM, comm));
    MPI_CHECK(MPI_Bcast(&c, 1, MPI_INT, n - 1, comm));
    MPI_CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
    CHECK(a == 11 + k && b == n * (n - 1) / 2 && c == 22 + k, "mixed %d %d %d", a, b, c);
}

static void check_blocks(MPI_Comm comm, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    const int counts[] = {0, 1, 3, 100, 1000, 4096, 5000};
    int *mine = malloc(5000 * sizeof(int)), *all = malloc((size_t)5000 * n * sizeof(int));
    int *cnt = malloc(n * sizeof(int)), *dsp = malloc(n * sizeof(int));
    CHECK(mine && all && cnt && dsp, "malloc");
    for (unsigned c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int m = counts[c];
        for (int root = 0; root < n; root++) {
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
                            CHECK(all[(size_t)q * m + i] == shm_val(q, i, k) + 10 * q,
                                  "gather m %d root %d from %d elem %d", m, root, q, i);
                /* The v form right after: the leaves know only their own count. */
                for (int q = 0; q < n; q++)
                    cnt[q] = m, dsp[q] = (n - 1 - q) * m;
                MPI_CHECK(MPI_Gatherv(mine, m, MPI_INT, all, cnt, dsp, MPI_INT, root, comm));
                if (me == root)
                    for (int q = 0; q < n; q++)
                        for (int i = 0; i < m; i++)
                            CHECK(all[(size_t)(n - 1 - q) * m + i] == shm_val(q, i, k) + 10 * q,
                                  "gatherv m %d root %d", m, root);
                for (int q = 0; q < n; q++)
                    for (int i = 0; i < m; i++)
                        all[(size_t)q * m + i] = me == root ? shm_val(q, i, k) - q : -7;
                for (int i = 0; i < m; i++)
                    mine[i] = -9;
                MPI_CHECK(MPI_Scatter(all, m, MPI_INT, inplace ? MPI_IN_PLACE : mine, m, MPI_INT,
                                      root, comm));
                if (!inplace)
                    for (int i = 0; i < m; i++)
                        CHECK(mine[i] == shm_val(me, i, k) - me, "scatter m %d root %d elem %d", m,
                              root, i);
                MPI_CHECK(MPI_Scatterv(all, cnt, dsp, MPI_INT, mine, m, MPI_INT, root, comm));
                for (int i = 0; i < m; i++)
                    CHECK(mine[i] == shm_val(n - 1 - me, i, k) - (n - 1 - me), "scatterv m %d", m);
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
                    CHECK(all[(size_t)q * m + i] == shm_val(q, i, k) * 3, "allgather m %d ip %d", m,
                          ip);
        }
    }
    free(mine);
    free(all);
    free(cnt);
    free(dsp);
}

static void check_all(MPI_Comm comm, int rounds)
{
    for (int k = 0; k < rounds; k++) {
        check_blocks(comm, k);
        check_bcast(comm, k);
        check_predefined(comm, k);
        check_user_ops(comm, k);
        check_mixed(comm, k);
    }
    check_barrier_order(comm);
}

struct job {
    MPI_Comm comm;
    int sum;
};

static void *thread_main(void *arg)
{
    struct job *j = arg;
    int me, n;
    MPI_Comm_rank(j->comm, &me);
    MPI_Comm_size(j->comm, &n);
    for (int k = 0; k < 300; k++) {
        int x = me + k, y = 0;
        MPI_Allreduce(&x, &y, 1, MPI_INT, MPI_SUM, j->comm);
        if (y != n * (n - 1) / 2 + n * k)
            j->sum = -1;
        MPI_Barrier(j->comm);
        int z = me == k % n ? k : -1;
        MPI_Bcast(&z, 1, MPI_INT, k % n, j->comm);
        if (z != k)
            j->sum = -1;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    ot_init_thread("shmcoll", &argc, &argv, MPI_THREAD_MULTIPLE);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    check_all(MPI_COMM_WORLD, 3);

    /* Halves (odd/even, reversed order: rank order differs from world order). */
    MPI_Comm half;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, rank % 2, size - rank, &half));
    check_all(half, 2);

    /* Communicators made and freed in a loop: each gets its region and loses it. */
    for (int i = 0; i < 10; i++) {
        MPI_Comm d;
        MPI_CHECK(MPI_Comm_dup(i % 2 ? half : MPI_COMM_WORLD, &d));
        int x = 1, y = 0;
        MPI_CHECK(MPI_Allreduce(&x, &y, 1, MPI_INT, MPI_SUM, d));
        int n;
        MPI_Comm_size(d, &n);
        CHECK(y == n, "dup %d allreduce %d", i, y);
        MPI_CHECK(MPI_Barrier(d));
        MPI_CHECK(MPI_Comm_free(&d));
    }

    /* Two threads, two communicators, at once. */
    int provided;
    MPI_Query_thread(&provided);
    if (provided == MPI_THREAD_MULTIPLE) {
        struct job j[2];
        MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &j[0].comm));
        MPI_CHECK(MPI_Comm_dup(half, &j[1].comm));
        j[0].sum = j[1].sum = 0;
        pthread_t th;
        CHECK(pthread_create(&th, NULL, thread_main, &j[1]) == 0, "pthread_create");
        thread_main(&j[0]);
        pthread_join(th, NULL);
        CHECK(j[0].sum == 0 && j[1].sum == 0, "threads %d %d", j[0].sum, j[1].sum);
        MPI_CHECK(MPI_Comm_free(&j[0].comm));
        MPI_CHECK(MPI_Comm_free(&j[1].comm));
    }
    MPI_CHECK(MPI_Comm_free(&half));
    return ot_pass();
}
