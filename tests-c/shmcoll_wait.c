/* How ranks wait in the shared-memory collectives: one rank arrives late (5 ms, longer than
 * the waiters' yielding phase), so the others go to sleep and only the rank they wait for
 * can wake them; results checked against serial ones.
 *  - every rank in turn is the late one: barrier, bcast (small and single-copy sizes; the
 *    late rank as root, and as a reader the root waits for), reduce and allreduce (MPI_INT
 *    sum, non-commutative 2x2 matrix products), gather (small and single-copy), alltoall
 *    (small and single-copy), MPI_IN_PLACE;
 *  - a point-to-point transfer that needs its sender's progress (a large non-contiguous
 *    synchronous send) while the sender is asleep in a barrier waiting for its receiver:
 *    the sleeping waiter must keep the engine going or the job hangs;
 *  - on MPI_COMM_WORLD and on a split with the rank order reversed; 3 ranks and more are
 *    oversubscribed on 2 cores.
 */
#include "shmcoll.h"

enum { LATE_MS = 5, BIG = 140000, V = 131072 };

static void check_late(MPI_Comm comm, int late, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    int other = (late + 1) % n;
#define ARRIVE()                                                                             \
    do {                                                                                     \
        if (me == late)                                                                      \
            shm_late(LATE_MS);                                                               \
    } while (0)

    ARRIVE();
    MPI_CHECK(MPI_Barrier(comm));

    static unsigned char big[BIG];
    for (int pass = 0; pass < 2; pass++) {
        int root = pass ? other : late, len = pass ? BIG : 8;
        for (int i = 0; i < len; i++)
            big[i] = me == root ? ot_byte(k * 17 + root, i) : 0xEE;
        ARRIVE();
        MPI_CHECK(MPI_Bcast(big, len, MPI_BYTE, root, comm));
        for (int i = 0; i < len; i++)
            if (big[i] != ot_byte(k * 17 + root, i)) {
                CHECK(0, "bcast late %d root %d len %d byte %d", late, root, len, i);
                break;
            }
    }

    int in[5], out[5];
    for (int i = 0; i < 5; i++)
        in[i] = shm_val(me, i, k);
    ARRIVE();
    MPI_CHECK(MPI_Reduce(in, out, 5, MPI_INT, MPI_SUM, late, comm));
    for (int i = 0; i < 5 && me == late; i++) {
        int want = 0;
        for (int r = 0; r < n; r++)
            want += shm_val(r, i, k);
        CHECK(out[i] == want, "reduce late %d elem %d: %d, want %d", late, i, out[i], want);
    }
    memcpy(out, in, sizeof in);
    ARRIVE();
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, out, 5, MPI_INT, MPI_SUM, comm));
    for (int i = 0; i < 5; i++) {
        int want = 0;
        for (int r = 0; r < n; r++)
            want += shm_val(r, i, k);
        CHECK(out[i] == want, "allreduce late %d elem %d: %d, want %d", late, i, out[i], want);
    }

    /* Non-commutative: m = m_0 * m_1 * ... * m_(n-1), rank r's matrix [[1, x], [0, 1]] or
     * [[1, 0], [x, 1]] by parity. */
    MPI_Op mat;
    MPI_Datatype m2x2;
    MPI_CHECK(MPI_Op_create(shm_matmul, 0, &mat));
    MPI_CHECK(MPI_Type_contiguous(4, MPI_INT, &m2x2));
    MPI_CHECK(MPI_Type_commit(&m2x2));
    int m[4], res[4], want[4] = {1, 0, 0, 1};
    for (int r = n - 1; r >= 0; r--) {
        int x = shm_val(r, 0, k) % 3, mr[4] = {1, r % 2 ? x : 0, r % 2 ? 0 : x, 1};
        if (r == me)
            memcpy(m, mr, sizeof m);
        int one = 1;
        shm_matmul(mr, want, &one, NULL); /* want = m_r * want */
    }
    ARRIVE();
    MPI_CHECK(MPI_Allreduce(m, res, 1, m2x2, mat, comm));
    CHECK(!memcmp(res, want, sizeof res), "matmul allreduce late %d", late);
    ARRIVE();
    MPI_CHECK(MPI_Reduce(m, res, 1, m2x2, mat, other, comm));
    if (me == other)
        CHECK(!memcmp(res, want, sizeof res), "matmul reduce late %d root %d", late, other);
    MPI_CHECK(MPI_Type_free(&m2x2));
    MPI_CHECK(MPI_Op_free(&mat));

    /* Gather and alltoall, small and single-copy blocks. */
    for (int pass = 0; pass < 2; pass++) {
        int blk = pass ? BIG : 3, root = pass ? late : other;
        unsigned char *mine = ot_malloc((size_t)blk), *all = ot_malloc((size_t)blk * n);
        ot_fill(mine, (size_t)blk, (unsigned)(k * 100 + me));
        ARRIVE();
        MPI_CHECK(MPI_Gather(mine, blk, MPI_BYTE, all, blk, MPI_BYTE, root, comm));
        for (int r = 0; r < n && me == root; r++)
            CHECK(ot_verify(all + (size_t)r * blk, (size_t)blk, (unsigned)(k * 100 + r)) < 0,
                  "gather late %d root %d blk %d from %d", late, root, blk, r);
        free(mine);
        free(all);

        int per = pass ? BIG / 4 : 2;
        unsigned char *snd = ot_malloc((size_t)per * n), *rcv = ot_malloc((size_t)per * n);
        for (int r = 0; r < n; r++)
            ot_fill(snd + (size_t)r * per, (size_t)per, (unsigned)(k * 1000 + me * 10 + r));
        ARRIVE();
        MPI_CHECK(MPI_Alltoall(snd, per, MPI_BYTE, rcv, per, MPI_BYTE, comm));
        for (int r = 0; r < n; r++)
            CHECK(ot_verify(rcv + (size_t)r * per, (size_t)per,
                            (unsigned)(k * 1000 + r * 10 + me)) < 0,
                  "alltoall late %d per %d from %d", late, per, r);
        free(snd);
        free(rcv);
    }
#undef ARRIVE
}

/* `late` sends `other` a large message through a non-contiguous type with a synchronous
 * send, then waits in a barrier for `other`, which takes the message only after a delay
 * and then joins the barrier: the transfer completes only if the sender, asleep in the
 * barrier, keeps progressing. */
static void check_progress(MPI_Comm comm, int late)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    int other = (late + 1) % n;
    if (me == late) {
        int *src = ot_malloc(2 * V * sizeof(int));
        for (int i = 0; i < 2 * V; i++)
            src[i] = i;
        MPI_Datatype vec;
        MPI_CHECK(MPI_Type_vector(V, 1, 2, MPI_INT, &vec));
        MPI_CHECK(MPI_Type_commit(&vec));
        MPI_Request req;
        MPI_CHECK(MPI_Issend(src, 1, vec, other, 7, comm, &req));
        MPI_CHECK(MPI_Barrier(comm));
        MPI_CHECK(MPI_Wait(&req, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Type_free(&vec));
        free(src);
    } else if (me == other) {
        int *dst = ot_malloc(V * sizeof(int));
        shm_late(LATE_MS);
        MPI_CHECK(MPI_Recv(dst, V, MPI_INT, late, 7, comm, MPI_STATUS_IGNORE));
        for (int i = 0; i < V; i++)
            if (dst[i] != 2 * i) {
                CHECK(0, "message from %d elem %d: %d", late, i, dst[i]);
                break;
            }
        MPI_CHECK(MPI_Barrier(comm));
        free(dst);
    } else {
        MPI_CHECK(MPI_Barrier(comm));
    }
}

static void check_all(MPI_Comm comm, int k)
{
    int n;
    MPI_Comm_size(comm, &n);
    for (int late = 0; late < n; late++) {
        check_late(comm, late, k);
        if (n > 1)
            check_progress(comm, late);
    }
}

int main(int argc, char **argv)
{
    ot_init("shmcoll_wait", &argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    check_all(MPI_COMM_WORLD, 0);
    MPI_Comm rev;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, 0, size - rank, &rev));
    check_all(rev, 1);
    MPI_CHECK(MPI_Comm_free(&rev));
    return ot_pass();
}
