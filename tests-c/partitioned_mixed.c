/* Partitioned communication beyond the basics: the two sides partition differently (4 send
 * partitions of 2 MiB, received as 16 partitions of 512 KiB, so each piece takes the large-
 * message path), a partitioned exchange with oneself, Parrived of a partition becoming true
 * before the whole receive completes, and the error classes of bad partition arguments. */
#include "oxitest.h"

#define SEND_PARTS 4
#define RECV_PARTS 16
#define TOTAL (SEND_PARTS * 512 * 1024) /* doubles: 16 MiB */

int main(int argc, char **argv)
{
    ot_init("partitioned_mixed", &argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int peer = ot_size > 1 ? 1 - (ot_rank & 1) + (ot_rank & ~1) : ot_rank;
    if (peer >= ot_size)
        peer = ot_rank; /* odd last rank talks to itself */
    double *sbuf = ot_malloc(TOTAL * sizeof(double));
    double *rbuf = ot_malloc(TOTAL * sizeof(double));
    MPI_Request sreq, rreq;
    MPI_CHECK(MPI_Precv_init(rbuf, RECV_PARTS, TOTAL / RECV_PARTS, MPI_DOUBLE, peer, 3,
                             MPI_COMM_WORLD, MPI_INFO_NULL, &rreq));
    MPI_CHECK(MPI_Psend_init(sbuf, SEND_PARTS, TOTAL / SEND_PARTS, MPI_DOUBLE, peer, 3,
                             MPI_COMM_WORLD, MPI_INFO_NULL, &sreq));
    for (int round = 0; round < 3; round++) {
        for (long i = 0; i < TOTAL; i++)
            sbuf[i] = round * 1e7 + i;
        memset(rbuf, 0, TOTAL * sizeof(double));
        MPI_CHECK(MPI_Start(&rreq));
        MPI_CHECK(MPI_Start(&sreq));
        /* Only the first send partition: receive partitions 0..3 arrive, 4.. do not. */
        MPI_CHECK(MPI_Pready(0, sreq));
        int flag = 0;
        while (!flag)
            MPI_CHECK(MPI_Parrived(rreq, 3, &flag));
        CHECK(rbuf[3 * (TOTAL / RECV_PARTS)] == round * 1e7 + 3 * (TOTAL / RECV_PARTS),
              "partition 3 content after Parrived");
        if (peer == ot_rank) { /* only we can have sent to ourselves: 4.. cannot be there */
            MPI_CHECK(MPI_Parrived(rreq, 4, &flag));
            CHECK(!flag, "partition 4 arrived before its send partition was ready");
        }
        int rest[] = {3, 1, 2};
        MPI_CHECK(MPI_Pready_list(3, rest, sreq));
        MPI_CHECK(MPI_Wait(&sreq, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Wait(&rreq, MPI_STATUS_IGNORE));
        for (long i = 0; i < TOTAL; i++)
            if (rbuf[i] != round * 1e7 + i)
                CHECK(0, "round %d element %ld = %g", round, i, rbuf[i]);
    }
    /* Bad arguments: the request is inactive now, and partition numbers out of range. */
    CHECK_CLASS(MPI_Pready(0, sreq), MPI_ERR_REQUEST);
    MPI_CHECK(MPI_Start(&rreq));
    MPI_CHECK(MPI_Start(&sreq));
    CHECK_CLASS(MPI_Pready(SEND_PARTS, sreq), MPI_ERR_ARG);
    int flag;
    CHECK_CLASS(MPI_Parrived(rreq, RECV_PARTS, &flag), MPI_ERR_ARG);
    MPI_CHECK(MPI_Pready(0, sreq));
    CHECK_CLASS(MPI_Pready(0, sreq), MPI_ERR_ARG); /* already ready */
    MPI_CHECK(MPI_Pready_range(1, SEND_PARTS - 1, sreq));
    MPI_Request both[2] = {sreq, rreq};
    MPI_CHECK(MPI_Waitall(2, both, MPI_STATUSES_IGNORE));
    MPI_CHECK(MPI_Request_free(&sreq));
    MPI_CHECK(MPI_Request_free(&rreq));
    free(sbuf);
    free(rbuf);
    return ot_pass();
}
