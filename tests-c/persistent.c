/* Persistent requests: Send_init, Ssend_init, Bsend_init, Rsend_init and Recv_init, each
 * started many times (Start and Startall) with the buffer refilled between rounds; the
 * requests stay allocated (not MPI_REQUEST_NULL) after completion until Request_free. */
#include "oxitest.h"

#define ROUNDS 50
#define N 1000

int main(int argc, char **argv)
{
    ot_init("persistent", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    int bufs[4][N];
    int bsize = 4 * (N * (int)sizeof(int) + MPI_BSEND_OVERHEAD);
    void *bbuf = ot_malloc(bsize);
    MPI_CHECK(MPI_Buffer_attach(bbuf, bsize));
    MPI_Request req[4];

    if (ot_rank == 0) {
        MPI_CHECK(MPI_Send_init(bufs[0], N, MPI_INT, 1, 0, MPI_COMM_WORLD, &req[0]));
        MPI_CHECK(MPI_Ssend_init(bufs[1], N, MPI_INT, 1, 1, MPI_COMM_WORLD, &req[1]));
        MPI_CHECK(MPI_Bsend_init(bufs[2], N, MPI_INT, 1, 2, MPI_COMM_WORLD, &req[2]));
        MPI_CHECK(MPI_Rsend_init(bufs[3], N, MPI_INT, 1, 3, MPI_COMM_WORLD, &req[3]));
        for (int r = 0; r < ROUNDS; r++) {
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < N; i++)
                    bufs[k][i] = r * 1000000 + k * 10000 + i;
            /* the receiver has posted its receives (needed by Rsend) */
            int ready;
            MPI_CHECK(MPI_Recv(&ready, 1, MPI_INT, 1, 100, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            CHECK(ready == r, "ready message %d in round %d", ready, r);
            if (r % 2) {
                MPI_CHECK(MPI_Startall(4, req));
            } else {
                for (int k = 0; k < 4; k++)
                    MPI_CHECK(MPI_Start(&req[k]));
            }
            MPI_CHECK(MPI_Waitall(4, req, MPI_STATUSES_IGNORE));
            for (int k = 0; k < 4; k++)
                CHECK(req[k] != MPI_REQUEST_NULL, "persistent send %d freed by Waitall", k);
        }
    } else if (ot_rank == 1) {
        for (int k = 0; k < 4; k++)
            MPI_CHECK(MPI_Recv_init(bufs[k], N, MPI_INT, 0, k, MPI_COMM_WORLD, &req[k]));
        for (int r = 0; r < ROUNDS; r++) {
            memset(bufs, 0xff, sizeof bufs);
            if (r % 2) {
                MPI_CHECK(MPI_Startall(4, req));
            } else {
                for (int k = 0; k < 4; k++)
                    MPI_CHECK(MPI_Start(&req[k]));
            }
            MPI_CHECK(MPI_Send(&r, 1, MPI_INT, 0, 100, MPI_COMM_WORLD));
            MPI_Status st[4];
            MPI_CHECK(MPI_Waitall(4, req, st));
            for (int k = 0; k < 4; k++) {
                int count = -1;
                CHECK(req[k] != MPI_REQUEST_NULL, "persistent recv %d freed by Waitall", k);
                MPI_CHECK(MPI_Get_count(&st[k], MPI_INT, &count));
                CHECK(count == N && st[k].MPI_TAG == k && st[k].MPI_SOURCE == 0,
                      "round %d req %d: count %d tag %d source %d", r, k, count, st[k].MPI_TAG,
                      st[k].MPI_SOURCE);
                for (int i = 0; i < N; i++)
                    CHECK(bufs[k][i] == r * 1000000 + k * 10000 + i,
                          "round %d req %d: element %d is %d", r, k, i, bufs[k][i]);
            }
        }
    }
    if (ot_rank <= 1) {
        /* An inactive persistent request: Wait / Test return at once with an empty status. */
        MPI_Status st;
        int flag = 0;
        MPI_CHECK(MPI_Wait(&req[0], &st));
        MPI_CHECK(MPI_Test(&req[0], &flag, &st));
        CHECK(flag == 1, "Test on an inactive persistent request gave flag 0");
        for (int k = 0; k < 4; k++) {
            MPI_CHECK(MPI_Request_free(&req[k]));
            CHECK(req[k] == MPI_REQUEST_NULL, "Request_free did not null the handle");
        }
    }
    void *det;
    int detsize;
    MPI_CHECK(MPI_Buffer_detach(&det, &detsize));
    free(bbuf);
    return ot_pass();
}
