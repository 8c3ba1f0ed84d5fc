/* Large broadcasts at 2 ranks, shared between reader and root (coll10, issue 13: from
 * 32 KiB the reader reads the first half from the root's buffer while the root writes
 * the second half into the reader's with process_vm_writev), checked byte by byte.
 *  - both roots, sizes at and around the single-copy threshold, halves that are not whole
 *    pages, several MiB; buffers at odd addresses (neither half page-aligned);
 *  - a non-contiguous receive buffer (the reader reads it all) and a non-contiguous root
 *    (the root writes from its packed copy), beside contiguous ones of the same signature;
 *  - a late reader and a late root (the other side waits, asleep, for the descriptor);
 *  - a small bcast between the large ones (call numbers stay in step);
 *  - on MPI_COMM_WORLD (at 2 ranks: the route itself; at more ranks, the other routes)
 *    and on communicators of 2 ranks split from the world, in both rank orders.
 */
#include "shmcoll.h"

/* Byte i of round k's message from root. */
static unsigned char val(int k, int root, int len, int i) { return ot_byte(k * 31 + root + len, i); }

static void check_bytes(MPI_Comm comm, int k, unsigned char *mem)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    const int sizes[] = {32767, 32768, 65537, 131073, 262144 + 4096 + 17, 1048576 + 7,
                         4 * 1048576 + 3};
    const int shifts[] = {0, 1, 4093};
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int root = 0; root < n; root++) {
            int len = sizes[s];
            /* Root and reader at different offsets: their halves' page alignment differs. */
            unsigned char *buf = mem + shifts[(s + (me == root)) % 3];
            for (int i = 0; i < len; i++)
                buf[i] = me == root ? val(k, root, len, i) : 0xEE;
            buf[len] = 0x5A;
            if (s == 2 && me != root)
                shm_late(5);
            if (s == 3 && me == root)
                shm_late(5);
            MPI_CHECK(MPI_Bcast(buf, len, MPI_BYTE, root, comm));
            for (int i = 0; i < len; i++)
                if (buf[i] != val(k, root, len, i)) {
                    CHECK(0, "bcast len %d root %d rank %d byte %d", len, root, me, i);
                    break;
                }
            CHECK(buf[len] == 0x5A, "bcast len %d root %d wrote past the end", len, root);
            int small = me == root ? 1000 * k + root : -1;
            MPI_CHECK(MPI_Bcast(&small, 1, MPI_INT, root, comm));
            CHECK(small == 1000 * k + root, "small bcast root %d got %d", root, small);
        }
}

static void check_all(MPI_Comm comm, int rounds)
{
    unsigned char *mem = malloc(4 * 1048576 + 3 + 4096 + 1);
    CHECK(mem != NULL, "malloc");
    for (int k = 0; k < rounds; k++) {
        check_bytes(comm, k, mem);
        shm_check_vector_bcast(comm, k, 200003);
    }
    free(mem);
}

int main(int argc, char **argv)
{
    ot_init("coll10_bcast_pair", &argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    check_all(MPI_COMM_WORLD, 2);
    /* Pairs of neighbours, in world order and then reversed. */
    for (int rev = 0; rev < 2; rev++) {
        MPI_Comm pair;
        MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, rank / 2, rev ? size - rank : rank, &pair));
        check_all(pair, 1);
        MPI_CHECK(MPI_Comm_free(&pair));
    }
    return ot_pass();
}
