/* MPI_PROC_NULL with requests (nonblocking and persistent): they complete at once; a
 * receive's status has source MPI_PROC_NULL, tag MPI_ANY_TAG and count 0, and the buffer
 * is untouched. */
#include "oxitest.h"

static void check_null_status(MPI_Status *st, const char *what)
{
    int count = -1;
    CHECK(st->MPI_SOURCE == MPI_PROC_NULL, "%s: status source %d, expected MPI_PROC_NULL",
          what, st->MPI_SOURCE);
    CHECK(st->MPI_TAG == MPI_ANY_TAG, "%s: status tag %d, expected MPI_ANY_TAG", what,
          st->MPI_TAG);
    MPI_CHECK(MPI_Get_count(st, MPI_INT, &count));
    CHECK(count == 0, "%s: count %d, expected 0", what, count);
}

int main(int argc, char **argv)
{
    ot_init("procnull_nb", &argc, &argv);
    int buf[4] = {1, 2, 3, 4};
    MPI_Status st;
    MPI_Request req;
    int flag;

    MPI_CHECK(MPI_Irecv(buf, 4, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &req));
    memset(&st, 0x55, sizeof st);
    flag = 0;
    MPI_CHECK(MPI_Test(&req, &flag, &st));
    CHECK(flag == 1, "Irecv from MPI_PROC_NULL not complete at first Test");
    CHECK(req == MPI_REQUEST_NULL, "request not freed");
    check_null_status(&st, "Irecv");

    MPI_CHECK(MPI_Isend(buf, 4, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &req));
    MPI_CHECK(MPI_Wait(&req, MPI_STATUS_IGNORE));

    /* Persistent requests to/from MPI_PROC_NULL */
    MPI_Request preq[2];
    MPI_CHECK(MPI_Send_init(buf, 4, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &preq[0]));
    MPI_CHECK(MPI_Recv_init(buf, 4, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &preq[1]));
    for (int i = 0; i < 3; i++) {
        MPI_Status sts[2];
        MPI_CHECK(MPI_Startall(2, preq));
        MPI_CHECK(MPI_Waitall(2, preq, sts));
        check_null_status(&sts[1], "persistent Recv_init");
    }
    MPI_CHECK(MPI_Request_free(&preq[0]));
    MPI_CHECK(MPI_Request_free(&preq[1]));
    return ot_pass();
}
