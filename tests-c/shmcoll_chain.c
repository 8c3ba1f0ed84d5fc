/* Large broadcasts pipelined along a chain of the ranks (when ranks outnumber cores, from
 * 512 KiB: each rank reads the message a chunk at a time from the rank before it in the
 * chain, whose receive buffer or packed copy it reads), checked byte by byte.
 *  - every root, sizes at and around the threshold, a partial last chunk, several MiB;
 *  - receive buffers of a non-contiguous type (a vector of ints) at some ranks next to
 *    contiguous ones of the same signature, so that a rank reads from a neighbour's packed
 *    copy and a non-contiguous rank is read from; a non-contiguous root;
 *  - a small bcast and a late rank between the large ones (call numbers stay in step, and
 *    a reader waits for its parent's chunks while that rank sleeps);
 *  - on MPI_COMM_WORLD and on a split with the rank order reversed.
 */
#include "shmcoll.h"

/* Byte i of round k's message from root. */
static unsigned char val(int k, int root, int len, int i) { return ot_byte(k * 53 + root + len, i); }

static void check_bytes(MPI_Comm comm, int k, unsigned char *buf)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    const int sizes[] = {524287, 524288, 655367, 1048576 + 1, 3 * 1048576 + 5};
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int root = 0; root < n; root++) {
            int len = sizes[s];
            for (int i = 0; i < len; i++)
                buf[i] = me == root ? val(k, root, len, i) : 0xEE;
            if (s == 2 && me == (root + 1) % n)
                shm_late(5);
            MPI_CHECK(MPI_Bcast(buf, len, MPI_BYTE, root, comm));
            for (int i = 0; i < len; i++)
                if (buf[i] != val(k, root, len, i)) {
                    CHECK(0, "bcast len %d root %d byte %d", len, root, i);
                    break;
                }
            /* A small one in between: staged through the slots, one call number. */
            int small = me == root ? 1000 * k + root : -1;
            MPI_CHECK(MPI_Bcast(&small, 1, MPI_INT, root, comm));
            CHECK(small == 1000 * k + root, "small bcast root %d got %d", root, small);
        }
}

static void check_all(MPI_Comm comm, int rounds)
{
    unsigned char *buf = malloc(3 * 1048576 + 5);
    CHECK(buf != NULL, "malloc");
    for (int k = 0; k < rounds; k++) {
        check_bytes(comm, k, buf);
        shm_check_vector_bcast(comm, k, 300001);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    return shm_run_world_and_split("shmcoll_chain", &argc, &argv, check_all);
}
