/* The smallest alltoalls (coll12, issue 13): when a share for every rank fits the inline
 * slot of the control line (blocks of up to 24 / ranks bytes), the blocks travel there with
 * the call number instead of through a data slot. Checks, on MPI_COMM_WORLD and on a
 * reversed split:
 *  - blocks of 0..(24 / ranks + 3) bytes, every size around the inline limit, in turn with
 *    a 1 KiB block, so that inline and slot calls alternate in both call parities;
 *  - separate buffers and MPI_IN_PLACE;
 *  - a strided receive (every other byte, a resized vector per block) beside contiguous
 *    sends, with the gaps untouched;
 *  - no byte written past the receive buffer.
 */
#include "oxitest.h"

/* Byte i of the block rank `from` sends to rank `to` in round k. */
static unsigned char val(int from, int to, int i, int k)
{
    return (unsigned char)(from * 31 + to * 7 + i * 3 + k * 11 + 1);
}

static void one(MPI_Comm comm, int len, int in_place, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    size_t total = (size_t)n * len;
    unsigned char *snd = malloc(total + 1), *rcv = malloc(total + 8);
    CHECK(snd != NULL && rcv != NULL, "malloc");
    unsigned char *src = in_place ? rcv : snd;
    memset(rcv, 0xEE, total + 8);
    for (int q = 0; q < n; q++)
        for (int i = 0; i < len; i++)
            src[(size_t)q * len + i] = val(me, q, i, k);
    MPI_CHECK(MPI_Alltoall(in_place ? MPI_IN_PLACE : snd, len, MPI_BYTE, rcv, len, MPI_BYTE,
                           comm));
    for (int q = 0; q < n; q++)
        for (int i = 0; i < len; i++)
            if (rcv[(size_t)q * len + i] != val(q, me, i, k)) {
                CHECK(0, "alltoall len %d in_place %d from %d byte %d: %d", len, in_place, q, i,
                      rcv[(size_t)q * len + i]);
                q = n;
                break;
            }
    for (int i = 0; i < 8; i++)
        CHECK(rcv[total + i] == 0xEE, "alltoall len %d wrote past the buffer", len);
    free(snd);
    free(rcv);
}

static void strided(MPI_Comm comm, int len, int k)
{
    int me, n;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    if (len == 0)
        return;
    unsigned char *snd = malloc((size_t)n * len), *wide = malloc((size_t)2 * n * len);
    CHECK(snd != NULL && wide != NULL, "malloc");
    for (int q = 0; q < n; q++)
        for (int i = 0; i < len; i++)
            snd[(size_t)q * len + i] = val(me, q, i, k);
    memset(wide, 0xEE, (size_t)2 * n * len);
    MPI_Datatype vec, rvec;
    MPI_CHECK(MPI_Type_vector(len, 1, 2, MPI_BYTE, &vec));
    MPI_CHECK(MPI_Type_create_resized(vec, 0, (MPI_Aint)(2 * len), &rvec));
    MPI_CHECK(MPI_Type_commit(&rvec));
    MPI_CHECK(MPI_Alltoall(snd, len, MPI_BYTE, wide, 1, rvec, comm));
    for (int q = 0; q < n; q++)
        for (int i = 0; i < len; i++)
            if (wide[(size_t)q * 2 * len + 2 * i] != val(q, me, i, k) ||
                wide[(size_t)q * 2 * len + 2 * i + 1] != 0xEE) {
                CHECK(0, "alltoall strided len %d from %d byte %d", len, q, i);
                q = n;
                break;
            }
    MPI_CHECK(MPI_Type_free(&vec));
    MPI_CHECK(MPI_Type_free(&rvec));
    free(snd);
    free(wide);
}

static void check_all(MPI_Comm comm, int k)
{
    int n;
    MPI_Comm_size(comm, &n);
    int top = 24 / n + 3;
    for (int round = 0; round < 3; round++)
        for (int len = 0; len <= top; len++) {
            one(comm, len, round == 1, k + len);
            /* A slot-sized call between two small ones: the parities alternate routes. */
            if (len % 2)
                one(comm, 1024, round == 2, k + len + 1);
            strided(comm, len, k + round);
        }
}

int main(int argc, char **argv)
{
    int rank, size;
    ot_init("coll12_alltoall_small", &argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    check_all(MPI_COMM_WORLD, 1);
    MPI_Comm rev;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, 0, size - rank, &rev));
    check_all(rev, 2);
    MPI_CHECK(MPI_Comm_free(&rev));
    return ot_pass();
}
