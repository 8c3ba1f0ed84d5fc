/* A job on two (pretend) nodes: ranks on one node talk through shared memory, across nodes
 * over TCP. tcp_two_nodes.sh starts it under hydra with a launcher that runs every "host"
 * here, so PMI_process_mapping says two nodes. Checks: MPI_Comm_split_type(SHARED) gives
 * the node's ranks; small and large messages between every pair (eager frames and
 * rendezvous pulls across nodes, non-overtaking order on one pair); a collective. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(c, ...)                                                              \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "tcp_two_nodes: rank %d: ", rank);                     \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, "\n");                                                 \
            MPI_Abort(MPI_COMM_WORLD, 1);                                          \
        }                                                                          \
    } while (0)

int main(int argc, char **argv) {
    int rank, size, nsize;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &nsize);
    const int ppn = atoi(argc > 1 ? argv[1] : "2");
    CHECK(nsize == ppn, "my node has %d ranks, expected %d", nsize, ppn);

    const int big = 3 << 20, msgs = 50;
    char *out = malloc(big), *in = malloc(big);
    for (int peer = 0; peer < size; peer++) {
        if (peer == rank)
            continue;
        for (int len = 1; len <= big; len *= 96) {
            for (int i = 0; i < len; i++)
                out[i] = (char)(rank * 13 + peer * 7 + i);
            MPI_Sendrecv(out, len, MPI_CHAR, peer, 1, in, len, MPI_CHAR, peer, 1,
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            for (int i = 0; i < len; i++)
                CHECK(in[i] == (char)(peer * 13 + rank * 7 + i), "%d bytes from %d: byte %d",
                      len, peer, i);
        }
        /* Non-overtaking: a burst of numbered messages of mixed sizes arrives in order. */
        MPI_Request reqs[2 * 50];
        int sent[50], got[50];
        for (int k = 0; k < msgs; k++) {
            sent[k] = k;
            MPI_Isend(&sent[k], 1, MPI_INT, peer, 2, MPI_COMM_WORLD, &reqs[k]);
            MPI_Irecv(&got[k], 1, MPI_INT, peer, 2, MPI_COMM_WORLD, &reqs[msgs + k]);
        }
        MPI_Waitall(2 * msgs, reqs, MPI_STATUSES_IGNORE);
        for (int k = 0; k < msgs; k++)
            CHECK(got[k] == k, "message %d from %d arrived as %d", k, peer, got[k]);
    }
    long sum = 0, mine = rank + 1;
    MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    CHECK(sum == (long)size * (size + 1) / 2, "allreduce gave %ld", sum);
    free(out);
    free(in);
    MPI_Comm_free(&node);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0)
        printf("PASS tcp_two_nodes\n");
    MPI_Finalize();
    return 0;
}
