/* Synchronous mode really synchronises: an Issend (small and large) does not complete while
 * the receiver has not posted the matching receive. The receiver deliberately waits for a
 * separate "go" message that the sender only sends after testing its Issend for a while. */
#include "oxitest.h"
#include <unistd.h>

int main(int argc, char **argv)
{
    ot_init("ssend_sync", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    const int sizes[] = {0, 4, 100000};
    char *buf = ot_malloc(100000);
    for (int s = 0; s < 3; s++) {
        int n = sizes[s];
        if (ot_rank == 0) {
            MPI_Request r;
            int flag = 0;
            ot_fill(buf, n, s);
            MPI_CHECK(MPI_Issend(buf, n, MPI_BYTE, 1, 10 + s, MPI_COMM_WORLD, &r));
            double t0 = MPI_Wtime();
            while (MPI_Wtime() - t0 < 0.2) {
                MPI_CHECK(MPI_Test(&r, &flag, MPI_STATUS_IGNORE));
                CHECK(!flag, "Issend of %d bytes completed before the receive was posted", n);
                usleep(1000);
            }
            int go = 1;
            MPI_CHECK(MPI_Send(&go, 1, MPI_INT, 1, 1, MPI_COMM_WORLD));
            MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
            /* blocking Ssend: returns only after the receiver took the "go" and posted */
            MPI_CHECK(MPI_Ssend(buf, n, MPI_BYTE, 1, 20 + s, MPI_COMM_WORLD));
        } else if (ot_rank == 1) {
            int go;
            MPI_Status st;
            MPI_CHECK(MPI_Recv(&go, 1, MPI_INT, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            memset(buf, 0, n);
            MPI_CHECK(MPI_Recv(buf, n, MPI_BYTE, 0, 10 + s, MPI_COMM_WORLD, &st));
            CHECK(ot_verify(buf, n, s) < 0, "Issend data wrong");
            MPI_CHECK(MPI_Recv(buf, n, MPI_BYTE, 0, 20 + s, MPI_COMM_WORLD, &st));
            CHECK(ot_verify(buf, n, s) < 0, "Ssend data wrong");
        }
    }
    free(buf);
    return ot_pass();
}
