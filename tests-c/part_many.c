/* Partitioned communication under load (issue 11 class 7): several Psend_init/Precv_init
 * pairs in flight at once on the same communicator and tag (they pair in the order they were
 * initialised), many partitions, derived datatypes (a vector and a struct), ping-ping (both
 * ranks send and receive at once), repeated start/wait rounds with data that changes every
 * round, partitions readied in a scrambled order. Every element received is checked. */
#include "oxitest.h"
#include <stddef.h>

#define NPAIRS 5
enum { VEC, INT, STRUCT };
#define ROUNDS 6

typedef struct {
    double d;
    int i;
    char c;
} elem_t;

static int value(int pair, int round, int part, int k, int from)
{
    return ((pair * 131 + round) * 1031 + part) * 17 + k + from * 7;
}

int main(int argc, char **argv)
{
    ot_init("part_many", &argc, &argv);
    CHECK(ot_size >= 2, "needs 2 ranks");
    if (ot_rank > 1)
        return ot_pass();
    int peer = 1 - ot_rank;

    /* vector: 2 ints out of every 3; struct: {double, int, char} */
    MPI_Datatype vec, st0, st;
    MPI_CHECK(MPI_Type_vector(2, 2, 3, MPI_INT, &vec));
    MPI_CHECK(MPI_Type_commit(&vec));
    int bl[3] = {1, 1, 1};
    MPI_Aint disp[3] = {offsetof(elem_t, d), offsetof(elem_t, i), offsetof(elem_t, c)};
    MPI_Datatype types[3] = {MPI_DOUBLE, MPI_INT, MPI_CHAR};
    MPI_CHECK(MPI_Type_create_struct(3, bl, disp, types, &st0));
    MPI_CHECK(MPI_Type_create_resized(st0, 0, sizeof(elem_t), &st));
    MPI_CHECK(MPI_Type_commit(&st));

    /* pair p: partitions parts[p], count[p] elements of type[p] per partition; the last two
     * have partitions too large to travel eagerly (contiguous, and not) */
    const int parts[NPAIRS] = {64, 1024, 256, 8, 16};
    const int count[NPAIRS] = {3, 1, 2, 16384, 4096};
    const int kind[NPAIRS] = {VEC, INT, STRUCT, INT, VEC};
    MPI_Datatype type[NPAIRS] = {vec, MPI_INT, st, MPI_INT, vec};
    void *sbuf[NPAIRS], *rbuf[NPAIRS];
    MPI_Request sreq[NPAIRS], rreq[NPAIRS];
    for (int p = 0; p < NPAIRS; p++) {
        MPI_Aint lb, ext;
        MPI_CHECK(MPI_Type_get_extent(type[p], &lb, &ext));
        size_t n = (size_t)parts[p] * count[p] * ext + 64;
        sbuf[p] = ot_malloc(n);
        rbuf[p] = ot_malloc(n);
        memset(sbuf[p], 0, n);
        /* same tag for all pairs: they pair by init order */
        MPI_CHECK(MPI_Psend_init(sbuf[p], parts[p], count[p], type[p], peer, 5, MPI_COMM_WORLD,
                                 MPI_INFO_NULL, &sreq[p]));
        MPI_CHECK(MPI_Precv_init(rbuf[p], parts[p], count[p], type[p], peer, 5, MPI_COMM_WORLD,
                                 MPI_INFO_NULL, &rreq[p]));
    }

    for (int round = 0; round < ROUNDS; round++) {
        /* fill the send buffers with this round's values */
        for (int p = 0; p < NPAIRS; p++) {
            int nelem = parts[p] * count[p];
            for (int e = 0; e < nelem; e++) {
                int part = e / count[p], k = e % count[p];
                int v = value(p, round, part, k, ot_rank);
                if (kind[p] == VEC) {
                    /* vector extent: 5 ints; data at 0, 1, 3, 4 */
                    int *b = (int *)((char *)sbuf[p] + (size_t)e * 5 * sizeof(int));
                    b[0] = v, b[1] = v + 1, b[3] = v + 2, b[4] = v + 3;
                } else if (kind[p] == INT) {
                    ((int *)sbuf[p])[e] = v;
                } else {
                    elem_t *x = (elem_t *)sbuf[p] + e;
                    x->d = v + 0.5, x->i = v, x->c = (char)(v & 0x7f);
                }
            }
        }
        /* start receives and sends (in a different order each round) */
        for (int q = 0; q < NPAIRS; q++) {
            int p = (q + round) % NPAIRS;
            MPI_CHECK(MPI_Start(&rreq[p]));
        }
        for (int q = 0; q < NPAIRS; q++) {
            int p = (NPAIRS - 1 - q + round) % NPAIRS;
            MPI_CHECK(MPI_Start(&sreq[p]));
        }
        /* ready the partitions, interleaving the pairs, in a scrambled order */
        int maxp = 0;
        for (int p = 0; p < NPAIRS; p++)
            maxp = parts[p] > maxp ? parts[p] : maxp;
        for (int j = 0; j < maxp; j++)
            for (int q = NPAIRS - 1; q >= 0; q--) {
                if (j >= parts[q])
                    continue;
                /* a permutation of 0..parts-1 (parts are powers of two, 37 is odd) */
                int part = (j * 37 + round * 11) % parts[q];
                MPI_CHECK(MPI_Pready(part, sreq[q]));
            }
        MPI_Status sts[NPAIRS];
        MPI_CHECK(MPI_Waitall(NPAIRS, sreq, sts));
        MPI_CHECK(MPI_Waitall(NPAIRS, rreq, sts));
        /* check every element */
        for (int p = 0; p < NPAIRS; p++) {
            int nelem = parts[p] * count[p];
            for (int e = 0; e < nelem; e++) {
                int part = e / count[p], k = e % count[p];
                int v = value(p, round, part, k, peer);
                if (kind[p] == VEC) {
                    int *b = (int *)((char *)rbuf[p] + (size_t)e * 5 * sizeof(int));
                    CHECK(b[0] == v && b[1] == v + 1 && b[3] == v + 2 && b[4] == v + 3,
                          "pair %d (vector) round %d partition %d element %d: got %d %d %d %d, "
                          "expected %d..%d",
                          p, round, part, k, b[0], b[1], b[3], b[4], v, v + 3);
                } else if (kind[p] == INT) {
                    int got = ((int *)rbuf[p])[e];
                    CHECK(got == v, "pair %d round %d partition %d: expected %d but received %d",
                          p, round, part, v, got);
                } else {
                    elem_t *x = (elem_t *)rbuf[p] + e;
                    CHECK(x->d == v + 0.5 && x->i == v && x->c == (char)(v & 0x7f),
                          "pair %d (struct) round %d partition %d element %d: got %g %d, "
                          "expected %d",
                          p, round, part, k, x->d, x->i, v);
                }
            }
        }
    }
    for (int p = 0; p < NPAIRS; p++) {
        MPI_CHECK(MPI_Request_free(&sreq[p]));
        MPI_CHECK(MPI_Request_free(&rreq[p]));
        free(sbuf[p]);
        free(rbuf[p]);
    }
    MPI_CHECK(MPI_Type_free(&vec));
    MPI_CHECK(MPI_Type_free(&st0));
    MPI_CHECK(MPI_Type_free(&st));
    return ot_pass();
}
