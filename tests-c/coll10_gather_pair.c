/* Large gathers at 2 ranks, the non-root's block shared between the two ranks (coll10,
 * issue 13: the root reads the first half of it while the non-root writes the second half
 * into the root's buffer with process_vm_writev), checked byte by byte at every root:
 *  - blocks at and around the single-copy threshold and of several MiB, at odd addresses;
 *  - the root receiving into a contiguous buffer, into a non-contiguous one (a vector type:
 *    the root reads the whole block itself) and with MPI_IN_PLACE;
 *  - the non-root sending from a non-contiguous buffer (it writes from its packed copy);
 *  - on MPI_COMM_WORLD (at 2 ranks: the route itself; at more, the other routes) and on
 *    halves split from the world, in reversed order.
 */
#include "shmcoll.h"

/* Byte i of rank r's block in round k. */
static unsigned char val(int k, int r, int len, int i) { return ot_byte(k * 17 + r * 5 + len, i); }

/* A vector of `len` bytes in blocks of 3 with a stride of 4: one hole byte every 4. */
static MPI_Datatype holes(int len)
{
    MPI_Datatype t;
    CHECK(len % 3 == 0, "holes(%d)", len);
    MPI_CHECK(MPI_Type_vector(len / 3, 3, 4, MPI_BYTE, &t));
    MPI_CHECK(MPI_Type_commit(&t));
    return t;
}

static void check_one(MPI_Comm comm, int k, int len, int root, int mode)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    /* mode 0: contiguous; 1: root receives into a vector type; 2: MPI_IN_PLACE at the
     * root; 3: the non-roots send from a vector type. */
    size_t span = (size_t)len / 3 * 4; /* extent of a `holes(len)` element, plus slack */
    unsigned char *send = malloc(span + 8);
    unsigned char *recv = malloc(((size_t)n * span) + 8);
    CHECK(send && recv, "malloc");
    unsigned char *sb = send + 1, *rb = recv + 3; /* odd addresses */
    int vec_send = mode == 3 && me != root;
    for (int i = 0; i < len; i++)
        sb[vec_send ? i / 3 * 4 + i % 3 : (size_t)i] = val(k, me, len, i);
    int vec_recv = mode == 1;
    /* The vector's extent: its last block has no hole after it. */
    size_t block = vec_recv ? span - 1 : (size_t)len;
    memset(rb, 0xEE, (size_t)n * block);
    if (me == root && mode == 2)
        for (int i = 0; i < len; i++)
            rb[(size_t)root * block + i] = val(k, root, len, i);
    MPI_Datatype st = MPI_BYTE, rt = MPI_BYTE;
    int scount = len, rcount = len;
    if (vec_send) {
        st = holes(len);
        scount = 1;
    }
    if (vec_recv) {
        rt = holes(len);
        rcount = 1;
    }
    const void *sarg = me == root && mode == 2 ? MPI_IN_PLACE : sb;
    MPI_CHECK(MPI_Gather(sarg, scount, st, rb, rcount, rt, root, comm));
    if (me == root)
        for (int r = 0; r < n; r++)
            for (int i = 0; i < len; i++) {
                size_t at = (size_t)r * block + (vec_recv ? (size_t)(i / 3 * 4 + i % 3) : (size_t)i);
                if (rb[at] != val(k, r, len, i)) {
                    CHECK(0, "gather len %d root %d mode %d: block %d byte %d is %d", len, root,
                          mode, r, i, rb[at]);
                    break;
                }
                if (vec_recv && i % 3 == 2 && i < len - 1)
                    CHECK(rb[at + 1] == 0xEE, "gather mode 1 wrote a hole (block %d byte %d)", r, i);
            }
    if (st != MPI_BYTE)
        MPI_CHECK(MPI_Type_free(&st));
    if (rt != MPI_BYTE)
        MPI_CHECK(MPI_Type_free(&rt));
    free(send);
    free(recv);
}

static void check_all(MPI_Comm comm, int rounds)
{
    int n;
    MPI_Comm_size(comm, &n);
    const int sizes[] = {32766, 32769, 65538, 262149, 1048575, 3 * 1048576 + 3};
    for (int k = 0; k < rounds; k++)
        for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int root = 0; root < n; root++)
                for (int mode = 0; mode < 4; mode++)
                    check_one(comm, k, sizes[s], root, mode);
}

int main(int argc, char **argv)
{
    return shm_run_world_and_split("coll10_gather_pair", &argc, &argv, check_all);
}
