/* Scatters of large blocks (coll12, issue 13): from 32 KiB per rank they go single-copy
 * (each rank reads its block from the root's buffer) also when ranks outnumber the cores,
 * and the root copies its own block while the others read. Checks, every root, on a
 * communicator made after the odd ranks pinned themselves to one CPU (so that ranks see
 * different numbers of usable CPUs: routes follow rank 0's view), and on a reversed split:
 *  - byte blocks of odd sizes across the slot, single-copy and 1 MiB limits;
 *  - MPI_IN_PLACE at the root (its block left as it was) and separate buffers (its own
 *    block copied);
 *  - the root sending from a strided buffer (every other byte, a resized vector per block)
 *    while odd ranks receive into a strided buffer, gaps untouched;
 *  - nothing written past a receive buffer.
 */
#define _GNU_SOURCE
#include "shmcoll.h"

/* Byte i of the block for rank `to` from root `root` in round k. */
static unsigned char val(int root, int to, int i, int k)
{
    return (unsigned char)(root * 13 + to * 29 + i * 7 + (i >> 9) + k);
}

static void contiguous(MPI_Comm comm, int len, int root, int in_place, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    size_t total = (size_t)n * len;
    unsigned char *all = malloc(total + 1), *mine = malloc((size_t)len + 8);
    CHECK(all != NULL && mine != NULL, "malloc");
    for (size_t i = 0; i < total; i++)
        all[i] = me == root ? val(root, (int)(i / len), (int)(i % len), k) : 0;
    memset(mine, 0xEE, (size_t)len + 8);
    int ip = in_place && me == root;
    MPI_CHECK(MPI_Scatter(all, len, MPI_BYTE, ip ? MPI_IN_PLACE : mine, len, MPI_BYTE, root,
                          comm));
    unsigned char *got = ip ? all + (size_t)root * len : mine;
    for (int i = 0; i < len; i++)
        if (got[i] != val(root, me, i, k)) {
            CHECK(0, "scatter %d B root %d in_place %d: byte %d = %d", len, root, in_place, i,
                  got[i]);
            break;
        }
    for (int i = ip ? 0 : len; i < len + 8 && !ip; i++)
        CHECK(mine[i] == 0xEE, "scatter %d B root %d wrote past the buffer", len, root);
    if (me == root)
        for (size_t i = 0; i < total; i++)
            if (all[i] != val(root, (int)(i / len), (int)(i % len), k)) {
                CHECK(0, "scatter %d B root %d changed its send buffer at %zu", len, root, i);
                break;
            }
    free(all);
    free(mine);
}

static void strided(MPI_Comm comm, int len, int root, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    MPI_Datatype vec, rvec;
    MPI_CHECK(MPI_Type_vector(len, 1, 2, MPI_BYTE, &vec));
    MPI_CHECK(MPI_Type_create_resized(vec, 0, (MPI_Aint)(2 * len), &rvec));
    MPI_CHECK(MPI_Type_commit(&vec));
    MPI_CHECK(MPI_Type_commit(&rvec));
    unsigned char *wide = malloc((size_t)2 * n * len), *mine = malloc((size_t)2 * len);
    CHECK(wide != NULL && mine != NULL, "malloc");
    for (size_t i = 0; i < (size_t)2 * n * len; i++)
        wide[i] = i % 2 ? 0x55 : val(root, (int)(i / (2 * len)), (int)(i % (2 * len)) / 2, k);
    memset(mine, 0xEE, (size_t)2 * len);
    int strided_recv = me % 2 == 1;
    if (strided_recv)
        MPI_CHECK(MPI_Scatter(wide, 1, rvec, mine, 1, vec, root, comm));
    else
        MPI_CHECK(MPI_Scatter(wide, 1, rvec, mine, len, MPI_BYTE, root, comm));
    for (int i = 0; i < len; i++) {
        unsigned char want = val(root, me, i, k);
        if (strided_recv ? (mine[2 * i] != want || mine[2 * i + 1] != 0xEE) : mine[i] != want) {
            CHECK(0, "strided scatter %d B root %d: byte %d", len, root, i);
            break;
        }
    }
    for (int i = strided_recv ? 2 * len : len; i < 2 * len; i++)
        CHECK(mine[i] == 0xEE, "strided scatter %d B root %d wrote past the data", len, root);
    MPI_CHECK(MPI_Type_free(&vec));
    MPI_CHECK(MPI_Type_free(&rvec));
    free(wide);
    free(mine);
}

static void check_all(MPI_Comm comm, int k)
{
    int n;
    MPI_Comm_size(comm, &n);
    const int sizes[] = {1, 16383, 16385, 32767, 32768, 40001, 262147, 1048576 + 5};
    for (int s = 0; s < (int)(sizeof sizes / sizeof sizes[0]); s++)
        for (int root = 0; root < n; root++) {
            contiguous(comm, sizes[s], root, 0, k + s);
            contiguous(comm, sizes[s], root, 1, k + s + 1);
            if (sizes[s] <= 262147)
                strided(comm, sizes[s], root, k + s + 2);
        }
}

int main(int argc, char **argv)
{
    ot_init("coll12_scatter", &argc, &argv);
    cpu_set_t all;
    shm_pin_odd_ranks(&all);
    MPI_Comm comm;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm));
    check_all(comm, 1);
    MPI_CHECK(MPI_Comm_free(&comm));
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0, "sched_setaffinity back");
    MPI_Comm rev;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, 0, ot_size - ot_rank, &rev));
    check_all(rev, 2);
    MPI_CHECK(MPI_Comm_free(&rev));
    return ot_pass();
}
