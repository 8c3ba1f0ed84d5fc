/* Message sizes from 0 B to 64 MiB: every power of two and odd sizes around them, content
 * checked, both directions (rank 0 -> 1 and the echo back), which crosses the eager /
 * rendezvous / single-copy thresholds whatever they are. */
#include "oxitest.h"

#define MAXSZ (64u << 20)

int main(int argc, char **argv)
{
    ot_init("sizes", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    unsigned char *buf = ot_malloc(MAXSZ + 1);
    size_t list[128];
    int n = 0;
    list[n++] = 0;
    list[n++] = 1;
    for (size_t p = 2; p <= MAXSZ; p *= 2) {
        list[n++] = p;
        /* odd sizes near the power of two, and an unaligned one in between */
        if (p >= 8 && p < MAXSZ) {
            list[n++] = p + 1;
            list[n++] = p * 3 / 2 + 3;
        }
        if (p >= 8)
            list[n++] = p - 1;
    }
    for (int i = 0; i < n; i++) {
        size_t sz = list[i];
        unsigned seed = (unsigned)i + 1;
        int tag = i;
        MPI_Status st;
        int count = -1;
        if (ot_rank == 0) {
            ot_fill(buf, sz, seed);
            MPI_CHECK(MPI_Send(buf, (int)sz, MPI_BYTE, 1, tag, MPI_COMM_WORLD));
            memset(buf, 0, sz);
            /* The echo arrives with seed+1: proves rank 1 really rewrote it. */
            MPI_CHECK(MPI_Recv(buf, MAXSZ + 1, MPI_BYTE, 1, tag, MPI_COMM_WORLD, &st));
            MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count));
            CHECK((size_t)count == sz, "echo of %zu bytes: count %d", sz, count);
            long bad = ot_verify(buf, sz, seed + 1000);
            CHECK(bad < 0, "echo of %zu bytes: byte %ld wrong", sz, bad);
        } else if (ot_rank == 1) {
            /* Poison the byte just past the message: it must stay untouched. */
            memset(buf, 0, sz);
            buf[sz] = 0xA5;
            MPI_CHECK(MPI_Recv(buf, MAXSZ + 1, MPI_BYTE, 0, tag, MPI_COMM_WORLD, &st));
            MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count));
            CHECK((size_t)count == sz, "%zu bytes: count %d", sz, count);
            long bad = ot_verify(buf, sz, seed);
            CHECK(bad < 0, "%zu bytes: byte %ld wrong", sz, bad);
            CHECK(buf[sz] == 0xA5, "%zu bytes: byte past the message overwritten", sz);
            ot_fill(buf, sz, seed + 1000);
            MPI_CHECK(MPI_Send(buf, (int)sz, MPI_BYTE, 0, tag, MPI_COMM_WORLD));
        }
    }
    free(buf);
    return ot_pass();
}
