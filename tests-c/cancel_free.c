/* Request_free on an active send (the message must still be delivered), and Cancel of a
 * posted receive (Test_cancelled true, buffer untouched, the later message goes to the next
 * receive). Also: cancelling a receive that already completed is not reported as cancelled. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("cancel_free", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    enum { BIG = 1 << 20 };
    char *big = ot_malloc(BIG);
    if (ot_rank == 0) {
        /* Request_free on active sends, small and large (the large one typically waits for
         * the receiver: it must complete in the background). The buffer is not reused until
         * rank 1 confirms receipt. */
        int small = 31337;
        MPI_Request r;
        MPI_CHECK(MPI_Isend(&small, 1, MPI_INT, 1, 1, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Request_free(&r));
        CHECK(r == MPI_REQUEST_NULL, "Request_free did not null the handle");
        ot_fill(big, BIG, 9);
        MPI_CHECK(MPI_Isend(big, BIG, MPI_BYTE, 1, 2, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Request_free(&r));
        int ack = 0;
        MPI_CHECK(MPI_Recv(&ack, 1, MPI_INT, 1, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(ack == 1, "rank 1 reported a bad freed-send message");

        /* Cancel a posted receive that nothing will match */
        int buf = -5, flag = -1;
        MPI_Status st;
        MPI_CHECK(MPI_Irecv(&buf, 1, MPI_INT, 1, 4, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        MPI_CHECK(MPI_Wait(&r, &st));
        MPI_CHECK(MPI_Test_cancelled(&st, &flag));
        CHECK(flag == 1, "cancelled receive: Test_cancelled gave %d", flag);
        CHECK(buf == -5, "cancelled receive wrote the buffer");
        /* Now the tag-4 message is sent: it goes to this new receive */
        MPI_CHECK(MPI_Irecv(&buf, 1, MPI_INT, 1, 4, MPI_COMM_WORLD, &r));
        int go = 1;
        MPI_CHECK(MPI_Send(&go, 1, MPI_INT, 1, 5, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Wait(&r, &st));
        MPI_CHECK(MPI_Test_cancelled(&st, &flag));
        CHECK(flag == 0 && buf == 44, "receive after cancel: cancelled %d value %d", flag, buf);

        /* Cancel of a receive with wildcards, completed via Test */
        MPI_CHECK(MPI_Irecv(&buf, 1, MPI_INT, MPI_ANY_SOURCE, 6, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Cancel(&r));
        do {
            MPI_CHECK(MPI_Test(&r, &flag, &st));
        } while (!flag);
        MPI_CHECK(MPI_Test_cancelled(&st, &flag));
        CHECK(flag == 1, "cancelled wildcard receive: Test_cancelled gave %d", flag);

        /* Cancel after completion: the receive completed normally, not cancelled */
        MPI_CHECK(MPI_Irecv(&buf, 1, MPI_INT, 1, 7, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Send(&go, 1, MPI_INT, 1, 5, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Probe(1, 8, MPI_COMM_WORLD, &st)); /* sent after tag 7: 7 has arrived */
        MPI_CHECK(MPI_Cancel(&r));
        MPI_CHECK(MPI_Wait(&r, &st));
        MPI_CHECK(MPI_Test_cancelled(&st, &flag));
        CHECK(flag == 0 && buf == 77, "cancel after match: cancelled %d value %d", flag, buf);
        MPI_CHECK(MPI_Recv(&buf, 1, MPI_INT, 1, 8, MPI_COMM_WORLD, &st));
    } else if (ot_rank == 1) {
        int v = 0, ok = 1;
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        if (v != 31337) {
            fprintf(stderr, "freed small send delivered %d\n", v);
            ok = 0;
        }
        MPI_CHECK(MPI_Recv(big, BIG, MPI_BYTE, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        long bad = ot_verify(big, BIG, 9);
        if (bad >= 0) {
            fprintf(stderr, "freed large send: byte %ld wrong\n", bad);
            ok = 0;
        }
        MPI_CHECK(MPI_Send(&ok, 1, MPI_INT, 0, 3, MPI_COMM_WORLD));
        int go;
        MPI_CHECK(MPI_Recv(&go, 1, MPI_INT, 0, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        v = 44;
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 4, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Recv(&go, 1, MPI_INT, 0, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        v = 77;
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 7, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 8, MPI_COMM_WORLD));
    }
    free(big);
    return ot_pass();
}
