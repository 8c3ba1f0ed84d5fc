/* Status queries: Get_count and Get_elements(_x) with the received type and with a smaller
 * type (MPI_UNDEFINED when the bytes are not a whole number of elements);
 * Status_set_elements(_x) and Status_set_cancelled on a user-built status. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("status", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    if (ot_rank == 0) {
        char bytes[13] = "abcdefghijkl";
        int ints[5] = {1, 2, 3, 4, 5};
        MPI_CHECK(MPI_Send(ints, 5, MPI_INT, 1, 1, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Send(bytes, 13, MPI_BYTE, 1, 2, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Send(bytes, 0, MPI_BYTE, 1, 3, MPI_COMM_WORLD));
    } else if (ot_rank == 1) {
        int buf[8];
        MPI_Status st;
        int count = -1;
        MPI_Count countx = -1;
        MPI_CHECK(MPI_Recv(buf, 8, MPI_INT, 0, 1, MPI_COMM_WORLD, &st));
        MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
        CHECK(count == 5, "Get_count(INT) %d", count);
        MPI_CHECK(MPI_Get_elements(&st, MPI_INT, &count));
        CHECK(count == 5, "Get_elements(INT) %d", count);
        MPI_CHECK(MPI_Get_elements_x(&st, MPI_INT, &countx));
        CHECK(countx == 5, "Get_elements_x(INT) %lld", (long long)countx);
        MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count));
        CHECK(count == 20, "Get_count(BYTE) of 5 ints %d", count);
        MPI_CHECK(MPI_Get_count(&st, MPI_SHORT, &count));
        CHECK(count == 10, "Get_count(SHORT) of 5 ints %d", count);
        MPI_CHECK(MPI_Get_count(&st, MPI_DOUBLE, &count));
        CHECK(count == MPI_UNDEFINED, "Get_count(DOUBLE) of 20 bytes %d", count);
        MPI_CHECK(MPI_Get_elements(&st, MPI_DOUBLE, &count));
        CHECK(count == MPI_UNDEFINED, "Get_elements(DOUBLE) of 20 bytes %d", count);
        MPI_CHECK(MPI_Get_elements_x(&st, MPI_DOUBLE, &countx));
        CHECK(countx == MPI_UNDEFINED, "Get_elements_x(DOUBLE) of 20 bytes %lld",
              (long long)countx);

        /* 13 bytes received into an int buffer: not a whole number of ints */
        MPI_CHECK(MPI_Recv(buf, 32, MPI_BYTE, 0, 2, MPI_COMM_WORLD, &st));
        MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count));
        CHECK(count == 13, "Get_count(BYTE) %d", count);
        MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
        CHECK(count == MPI_UNDEFINED, "Get_count(INT) of 13 bytes %d", count);
        MPI_CHECK(MPI_Get_elements(&st, MPI_INT, &count));
        CHECK(count == MPI_UNDEFINED, "Get_elements(INT) of 13 bytes %d", count);

        MPI_CHECK(MPI_Recv(buf, 8, MPI_INT, 0, 3, MPI_COMM_WORLD, &st));
        MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
        CHECK(count == 0, "Get_count of an empty message %d", count);
        int flag = -1;
        MPI_CHECK(MPI_Test_cancelled(&st, &flag));
        CHECK(flag == 0, "received message reported cancelled");
    }

    /* A status built by hand (as a generalized-request query function would) */
    MPI_Status st;
    int count = -1, flag = -1;
    MPI_Count countx = -1;
    memset(&st, 0, sizeof st);
    MPI_CHECK(MPI_Status_set_elements(&st, MPI_DOUBLE, 7));
    MPI_CHECK(MPI_Get_count(&st, MPI_DOUBLE, &count));
    CHECK(count == 7, "after Status_set_elements(DOUBLE, 7): Get_count %d", count);
    MPI_CHECK(MPI_Get_elements(&st, MPI_DOUBLE, &count));
    CHECK(count == 7, "after Status_set_elements(DOUBLE, 7): Get_elements %d", count);
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 14, "after Status_set_elements(DOUBLE, 7): Get_count(INT) %d", count);
    MPI_CHECK(MPI_Status_set_elements_x(&st, MPI_INT, (MPI_Count)3000000000LL));
    MPI_CHECK(MPI_Get_elements_x(&st, MPI_INT, &countx));
    CHECK(countx == 3000000000LL, "Status_set_elements_x(3e9): Get_elements_x %lld",
          (long long)countx);
    /* 3e9 does not fit in an int: Get_count reports MPI_UNDEFINED */
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == MPI_UNDEFINED, "Get_count of 3e9 elements %d", count);
    MPI_CHECK(MPI_Status_set_elements(&st, MPI_BYTE, 0));
    MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count));
    CHECK(count == 0, "set_elements 0: count %d", count);
    MPI_CHECK(MPI_Status_set_cancelled(&st, 1));
    MPI_CHECK(MPI_Test_cancelled(&st, &flag));
    CHECK(flag == 1, "Status_set_cancelled(1) then Test_cancelled %d", flag);
    MPI_CHECK(MPI_Status_set_cancelled(&st, 0));
    MPI_CHECK(MPI_Test_cancelled(&st, &flag));
    CHECK(flag == 0, "Status_set_cancelled(0) then Test_cancelled %d", flag);
    return ot_pass();
}
