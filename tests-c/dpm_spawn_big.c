/* Large messages between jobs: the parent (world of N) spawns 2 children; rank 0 of the
 * parents sends each child 4 MiB contiguous (single-copy read across jobs) and a strided
 * vector (streamed in cells over the socket), the child checks and echoes them back, and
 * an Alltoall over the merged communicator mixes socket and shared-memory traffic. */
#include "oxitest.h"
#include <stdlib.h>

#define N (1 << 20) /* ints: 4 MiB */
#define VCOUNT 4096

static void fill(int *b, int n, int seed)
{
    for (int i = 0; i < n; i++)
        b[i] = i * 7 + seed;
}

static void check(const int *b, int n, int seed, const char *what)
{
    for (int i = 0; i < n; i++)
        CHECK(b[i] == i * 7 + seed, "%s: element %d is %d, expected %d", what, i, b[i], i * 7 + seed);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm parent, inter;
    MPI_Comm_get_parent(&parent);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int *buf = malloc(N * sizeof(int));
    int *vbuf = malloc(2 * VCOUNT * sizeof(int));
    MPI_Datatype strided;
    MPI_Type_vector(VCOUNT, 1, 2, MPI_INT, &strided);
    MPI_Type_commit(&strided);
    int is_parent = parent == MPI_COMM_NULL;
    if (is_parent) {
        MPI_Comm_spawn(argv[0], MPI_ARGV_NULL, 2, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter,
                       MPI_ERRCODES_IGNORE);
        if (rank == 0) {
            for (int c = 0; c < 2; c++) {
                fill(buf, N, c);
                MPI_Send(buf, N, MPI_INT, c, 1, inter);
                for (int i = 0; i < 2 * VCOUNT; i++)
                    vbuf[i] = i % 2 ? -1 : (i / 2) * 7 + 100 + c;
                MPI_Send(vbuf, 1, strided, c, 2, inter);
            }
            for (int c = 0; c < 2; c++) {
                MPI_Recv(buf, N, MPI_INT, c, 3, inter, MPI_STATUS_IGNORE);
                check(buf, N, c + 1, "echo of the contiguous message");
                for (int i = 0; i < 2 * VCOUNT; i++)
                    vbuf[i] = -5;
                MPI_Recv(vbuf, 1, strided, c, 4, inter, MPI_STATUS_IGNORE);
                for (int i = 0; i < 2 * VCOUNT; i++) {
                    int want = i % 2 ? -5 : (i / 2) * 7 + 200 + c;
                    CHECK(vbuf[i] == want, "echo of the vector: element %d is %d, expected %d", i, vbuf[i], want);
                }
            }
        }
    } else {
        inter = parent;
        MPI_Status st;
        MPI_Recv(buf, N, MPI_INT, 0, 1, inter, &st);
        int got;
        MPI_Get_count(&st, MPI_INT, &got);
        CHECK(got == N, "child %d received %d ints", rank, got);
        check(buf, N, rank, "contiguous message from the parent");
        MPI_Recv(vbuf, VCOUNT, MPI_INT, 0, 2, inter, MPI_STATUS_IGNORE);
        for (int i = 0; i < VCOUNT; i++)
            CHECK(vbuf[i] == i * 7 + 100 + rank, "vector from the parent: element %d is %d", i, vbuf[i]);
        fill(buf, N, rank + 1);
        MPI_Send(buf, N, MPI_INT, 0, 3, inter);
        for (int i = 0; i < 2 * VCOUNT; i++)
            vbuf[i] = i % 2 ? -9 : (i / 2) * 7 + 200 + rank;
        MPI_Send(vbuf, 1, strided, 0, 4, inter);
    }
    MPI_Comm merged;
    MPI_Intercomm_merge(inter, !is_parent, &merged);
    int msize, mrank;
    MPI_Comm_size(merged, &msize);
    MPI_Comm_rank(merged, &mrank);
    if (is_parent)
        CHECK(msize == size + 2, "merged size %d, expected %d", msize, size + 2);
    int *sendv = malloc(msize * 1000 * sizeof(int)), *recvv = malloc(msize * 1000 * sizeof(int));
    for (int d = 0; d < msize; d++)
        for (int k = 0; k < 1000; k++)
            sendv[d * 1000 + k] = mrank * 100000 + d * 1000 + k;
    MPI_Alltoall(sendv, 1000, MPI_INT, recvv, 1000, MPI_INT, merged);
    for (int s = 0; s < msize; s++)
        for (int k = 0; k < 1000; k++)
            CHECK(recvv[s * 1000 + k] == s * 100000 + mrank * 1000 + k, "alltoall from %d, element %d", s, k);
    MPI_Comm_free(&merged);
    MPI_Comm_disconnect(&inter);
    MPI_Type_free(&strided);
    free(buf);
    free(vbuf);
    free(sendv);
    free(recvv);
    MPI_Finalize();
    if (is_parent && rank == 0)
        printf("PASS dpm_spawn_big\n");
    return 0;
}
