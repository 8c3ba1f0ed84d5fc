/* A message of count 0 may name MPI_DATATYPE_NULL, as MPICH accepts it (its argument checks
 * test the datatype only when count > 0): sends in every mode, receives, sendrecv, persistent
 * and partitioned inits, matched receives (issue 11 class 12). A count of 1 with
 * MPI_DATATYPE_NULL stays MPI_ERR_TYPE. The empty messages really travel: each is received
 * with count 0 and the right envelope. */
#include "oxitest.h"

static void expect_empty_msg(const MPI_Status *st, int src, int tag, const char *what)
{
    int n = -1;
    MPI_CHECK(MPI_Get_count(st, MPI_BYTE, &n));
    CHECK(st->MPI_SOURCE == src && st->MPI_TAG == tag && n == 0,
          "%s: source %d tag %d count %d", what, st->MPI_SOURCE, st->MPI_TAG, n);
}

int main(int argc, char **argv)
{
    ot_init("dtnull_zero", &argc, &argv);
    const MPI_Datatype D = MPI_DATATYPE_NULL;
    MPI_Comm c = MPI_COMM_SELF;
    MPI_Request r[4];
    MPI_Status st, sts[4];
    char b[8];
    int bsize = 4 * MPI_BSEND_OVERHEAD;
    char *bbuf = ot_malloc(bsize);
    MPI_CHECK(MPI_Buffer_attach(bbuf, bsize));

    MPI_CHECK(MPI_Irecv(b, 0, D, 0, 1, c, &r[0]));
    MPI_CHECK(MPI_Isend(b, 0, D, 0, 1, c, &r[1]));
    MPI_CHECK(MPI_Waitall(2, r, sts));
    expect_empty_msg(&sts[0], 0, 1, "Irecv/Isend");
    MPI_CHECK(MPI_Irecv(b, 0, D, 0, 2, c, &r[0]));
    MPI_CHECK(MPI_Send(b, 0, D, 0, 2, c));
    MPI_CHECK(MPI_Wait(&r[0], &st));
    expect_empty_msg(&st, 0, 2, "Send");
    MPI_CHECK(MPI_Irecv(b, 0, D, 0, 3, c, &r[0]));
    MPI_CHECK(MPI_Rsend(b, 0, D, 0, 3, c));
    MPI_CHECK(MPI_Wait(&r[0], &st));
    expect_empty_msg(&st, 0, 3, "Rsend");
    MPI_CHECK(MPI_Irecv(b, 0, D, 0, 4, c, &r[0]));
    MPI_CHECK(MPI_Ssend(b, 0, D, 0, 4, c));
    MPI_CHECK(MPI_Wait(&r[0], &st));
    expect_empty_msg(&st, 0, 4, "Ssend");
    MPI_CHECK(MPI_Bsend(b, 0, D, 0, 5, c));
    MPI_CHECK(MPI_Recv(b, 0, D, 0, 5, c, &st));
    expect_empty_msg(&st, 0, 5, "Bsend/Recv");
    MPI_CHECK(MPI_Ibsend(b, 0, D, 0, 6, c, &r[0]));
    MPI_CHECK(MPI_Irecv(b, 0, D, 0, 6, c, &r[1]));
    MPI_CHECK(MPI_Issend(b, 0, D, 0, 7, c, &r[2]));
    MPI_CHECK(MPI_Irecv(b, 0, D, 0, 7, c, &r[3]));
    MPI_CHECK(MPI_Waitall(4, r, sts));
    expect_empty_msg(&sts[1], 0, 6, "Ibsend");
    expect_empty_msg(&sts[3], 0, 7, "Issend");
    MPI_CHECK(MPI_Irecv(b, 0, D, 0, 8, c, &r[0]));
    MPI_CHECK(MPI_Irsend(b, 0, D, 0, 8, c, &r[1]));
    MPI_CHECK(MPI_Waitall(2, r, sts));
    expect_empty_msg(&sts[0], 0, 8, "Irsend");
    MPI_CHECK(MPI_Sendrecv(b, 0, D, 0, 9, b, 0, D, 0, 9, c, &st));
    expect_empty_msg(&st, 0, 9, "Sendrecv");
    MPI_CHECK(MPI_Sendrecv_replace(b, 0, D, 0, 10, 0, 10, c, &st));
    expect_empty_msg(&st, 0, 10, "Sendrecv_replace");

    /* persistent: every send mode, and the receive */
    MPI_CHECK(MPI_Recv_init(b, 0, D, 0, 11, c, &r[0]));
    MPI_CHECK(MPI_Send_init(b, 0, D, 0, 11, c, &r[1]));
    MPI_CHECK(MPI_Startall(2, r));
    MPI_CHECK(MPI_Waitall(2, r, sts));
    expect_empty_msg(&sts[0], 0, 11, "Recv_init/Send_init");
    MPI_CHECK(MPI_Request_free(&r[1]));
    MPI_CHECK(MPI_Ssend_init(b, 0, D, 0, 11, c, &r[1]));
    MPI_CHECK(MPI_Startall(2, r));
    MPI_CHECK(MPI_Waitall(2, r, sts));
    MPI_CHECK(MPI_Request_free(&r[1]));
    MPI_CHECK(MPI_Rsend_init(b, 0, D, 0, 11, c, &r[1]));
    MPI_CHECK(MPI_Startall(2, r));
    MPI_CHECK(MPI_Waitall(2, r, sts));
    MPI_CHECK(MPI_Request_free(&r[1]));
    MPI_CHECK(MPI_Bsend_init(b, 0, D, 0, 11, c, &r[1]));
    MPI_CHECK(MPI_Startall(2, r));
    MPI_CHECK(MPI_Waitall(2, r, sts));
    expect_empty_msg(&sts[0], 0, 11, "Bsend_init");
    MPI_CHECK(MPI_Request_free(&r[1]));
    MPI_CHECK(MPI_Request_free(&r[0]));

    /* matched receives */
    MPI_Message m;
    MPI_CHECK(MPI_Isend(b, 0, D, 0, 12, c, &r[0]));
    MPI_CHECK(MPI_Mprobe(0, 12, c, &m, &st));
    MPI_CHECK(MPI_Mrecv(b, 0, D, &m, &st));
    expect_empty_msg(&st, 0, 12, "Mrecv");
    MPI_CHECK(MPI_Wait(&r[0], MPI_STATUS_IGNORE));
    MPI_CHECK(MPI_Isend(b, 0, D, 0, 13, c, &r[0]));
    MPI_CHECK(MPI_Mprobe(0, 13, c, &m, &st));
    MPI_CHECK(MPI_Imrecv(b, 0, D, &m, &r[1]));
    MPI_CHECK(MPI_Waitall(2, r, sts));
    expect_empty_msg(&sts[1], 0, 13, "Imrecv");

    /* partitioned, count 0 per partition */
    MPI_CHECK(MPI_Precv_init(b, 2, 0, D, 0, 14, c, MPI_INFO_NULL, &r[0]));
    MPI_CHECK(MPI_Psend_init(b, 2, 0, D, 0, 14, c, MPI_INFO_NULL, &r[1]));
    MPI_CHECK(MPI_Startall(2, r));
    MPI_CHECK(MPI_Pready_range(0, 1, r[1]));
    MPI_CHECK(MPI_Waitall(2, r, sts));
    MPI_CHECK(MPI_Request_free(&r[0]));
    MPI_CHECK(MPI_Request_free(&r[1]));

    /* a real count with MPI_DATATYPE_NULL is still an error */
    MPI_CHECK(MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN));
    CHECK_CLASS(MPI_Send(b, 1, D, MPI_PROC_NULL, 1, c), MPI_ERR_TYPE);
    CHECK_CLASS(MPI_Recv(b, 1, D, MPI_PROC_NULL, 1, c, &st), MPI_ERR_TYPE);
    CHECK_CLASS(MPI_Irecv(b, 1, D, MPI_PROC_NULL, 1, c, &r[0]), MPI_ERR_TYPE);

    void *addr;
    int size;
    MPI_CHECK(MPI_Buffer_detach(&addr, &size));
    free(bbuf);
    return ot_pass();
}
