/* Many nonblocking collectives in flight at once on MPI_COMM_WORLD and MPI_COMM_SELF,
 * interleaved with point-to-point traffic on MPI_COMM_WORLD, completed with one Waitall in
 * a scrambled order. (MPI_Comm_dup is not used: it may not exist yet.) */
#include "oxitest.h"

int main(int argc, char **argv)
{
    int rank, size;
    ot_init("coll_overlap", &argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    enum { NB = 8, N = 1000 };
    for (int round = 0; round < 3; round++) {
        MPI_Request rq[4 * NB + 2];
        int nr = 0;
        static int ar_in[NB][N], ar_out[NB][N], bc[NB][N], self_in[NB], self_out[NB];
        int token = -1, mine = rank * 10 + round;
        for (int k = 0; k < NB; k++) {
            for (int i = 0; i < N; i++) { ar_in[k][i] = rank + k + i; bc[k][i] = rank == k % size ? k * i + round : -1; }
            MPI_CHECK(MPI_Iallreduce(ar_in[k], ar_out[k], N, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &rq[nr++]));
            MPI_CHECK(MPI_Ibcast(bc[k], N, MPI_INT, k % size, MPI_COMM_WORLD, &rq[nr++]));
            self_in[k] = k + round;
            MPI_CHECK(MPI_Iallreduce(&self_in[k], &self_out[k], 1, MPI_INT, MPI_SUM, MPI_COMM_SELF, &rq[nr++]));
            MPI_CHECK(MPI_Ibarrier(MPI_COMM_WORLD, &rq[nr++]));
            if (k == NB / 2) {
                MPI_CHECK(MPI_Irecv(&token, 1, MPI_INT, (rank + size - 1) % size, 5, MPI_COMM_WORLD, &rq[nr++]));
                MPI_CHECK(MPI_Isend(&mine, 1, MPI_INT, (rank + 1) % size, 5, MPI_COMM_WORLD, &rq[nr++]));
            }
        }
        /* Reverse the order so completion does not follow the start order. */
        for (int i = 0; i < nr / 2; i++) { MPI_Request t = rq[i]; rq[i] = rq[nr - 1 - i]; rq[nr - 1 - i] = t; }
        MPI_CHECK(MPI_Waitall(nr, rq, MPI_STATUSES_IGNORE));
        for (int k = 0; k < NB; k++) {
            for (int i = 0; i < N; i++) {
                int e = size * (k + i) + size * (size - 1) / 2;
                CHECK(ar_out[k][i] == e, "round %d iallreduce %d [%d] = %d want %d", round, k, i, ar_out[k][i], e);
                CHECK(bc[k][i] == k * i + round, "round %d ibcast %d [%d]", round, k, i);
            }
            CHECK(self_out[k] == k + round, "self allreduce");
        }
        CHECK(token == ((rank + size - 1) % size) * 10 + round, "p2p token %d", token);
    }
    ot_pass();
    return 0;
}
