/* MPI_PROC_NULL with blocking calls (procnull_nb covers requests): every operation succeeds
 * at once; a receive's status has source
 * MPI_PROC_NULL, tag MPI_ANY_TAG and count 0, and the buffer is untouched. */
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
    ot_init("procnull", &argc, &argv);
    int buf[4] = {1, 2, 3, 4};
    MPI_Status st;
    int flag;

    MPI_CHECK(MPI_Send(buf, 4, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Ssend(buf, 4, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Rsend(buf, 4, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Bsend(buf, 4, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD));

    memset(&st, 0x55, sizeof st);
    MPI_CHECK(MPI_Recv(buf, 4, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &st));
    check_null_status(&st, "Recv");
    CHECK(buf[0] == 1 && buf[3] == 4, "Recv from MPI_PROC_NULL modified the buffer");

    memset(&st, 0x55, sizeof st);
    MPI_CHECK(MPI_Sendrecv(buf, 4, MPI_INT, MPI_PROC_NULL, 1, buf, 4, MPI_INT, MPI_PROC_NULL, 1,
                           MPI_COMM_WORLD, &st));
    check_null_status(&st, "Sendrecv");

    memset(&st, 0x55, sizeof st);
    MPI_CHECK(MPI_Probe(MPI_PROC_NULL, 1, MPI_COMM_WORLD, &st));
    check_null_status(&st, "Probe");
    flag = 0;
    MPI_CHECK(MPI_Iprobe(MPI_PROC_NULL, 1, MPI_COMM_WORLD, &flag, &st));
    CHECK(flag == 1, "Iprobe(MPI_PROC_NULL) flag %d", flag);
    check_null_status(&st, "Iprobe");

    return ot_pass();
}
