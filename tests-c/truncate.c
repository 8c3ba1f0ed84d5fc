/* Truncation: a message longer than the receive buffer gives MPI_ERR_TRUNCATE (under
 * MPI_ERRORS_RETURN) from Recv, from Wait on an Irecv (and in the status of Waitall, whose
 * return is MPI_ERR_IN_STATUS), small and large; nothing past the buffer is written (what the
 * buffer itself holds is undefined by the standard), and later traffic still works. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("truncate", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    enum { BIG = 1 << 20 };
    const int sizes[] = {10, BIG};
    char *buf = ot_malloc(BIG + 16);
    for (int s = 0; s < 2; s++) {
        int n = sizes[s];
        if (ot_rank == 0) {
            ot_fill(buf, n, s);
            for (int k = 0; k < 3; k++)
                MPI_CHECK(MPI_Send(buf, n, MPI_BYTE, 1, 10 * s + k, MPI_COMM_WORLD));
            MPI_CHECK(MPI_Send(buf, n, MPI_BYTE, 1, 10 * s + 3, MPI_COMM_WORLD));
        } else if (ot_rank == 1) {
            int fit = n / 2;
            MPI_Status st;
            int cls = -1;
            /* Recv */
            memset(buf, 0x11, BIG + 16);
            st.MPI_ERROR = MPI_SUCCESS;
            CHECK_CLASS(MPI_Recv(buf, fit, MPI_BYTE, 0, 10 * s, MPI_COMM_WORLD, &st),
                        MPI_ERR_TRUNCATE);
            CHECK((unsigned char)buf[fit] == 0x11, "Recv wrote past the receive buffer");
            /* Irecv + Wait */
            MPI_Request r;
            MPI_CHECK(MPI_Irecv(buf, fit, MPI_BYTE, 0, 10 * s + 1, MPI_COMM_WORLD, &r));
            CHECK_CLASS(MPI_Wait(&r, &st), MPI_ERR_TRUNCATE);
            CHECK(r == MPI_REQUEST_NULL, "Wait with an error did not free the request");
            /* Waitall: MPI_ERR_IN_STATUS, the status carries MPI_ERR_TRUNCATE */
            MPI_Request rs[2];
            MPI_Status sts[2];
            int ok = -1;
            MPI_CHECK(MPI_Irecv(buf, fit, MPI_BYTE, 0, 10 * s + 2, MPI_COMM_WORLD, &rs[0]));
            MPI_CHECK(MPI_Irecv(&ok, 0, MPI_BYTE, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &rs[1]));
            CHECK_CLASS(MPI_Waitall(2, rs, sts), MPI_ERR_IN_STATUS);
            MPI_Error_class(sts[0].MPI_ERROR, &cls);
            CHECK(cls == MPI_ERR_TRUNCATE, "Waitall status[0].MPI_ERROR class %d", cls);
            /* the other request either completed (MPI_SUCCESS) or was left pending */
            CHECK(sts[1].MPI_ERROR == MPI_SUCCESS || sts[1].MPI_ERROR == MPI_ERR_PENDING,
                  "Waitall status[1].MPI_ERROR %d", sts[1].MPI_ERROR);
            if (sts[1].MPI_ERROR == MPI_ERR_PENDING)
                MPI_CHECK(MPI_Wait(&rs[1], MPI_STATUS_IGNORE));
            /* traffic after the errors */
            memset(buf, 0, n);
            MPI_CHECK(MPI_Recv(buf, n, MPI_BYTE, 0, 10 * s + 3, MPI_COMM_WORLD, &st));
            CHECK(ot_verify(buf, n, s) < 0, "message after truncations is wrong");
        }
    }
    free(buf);
    return ot_pass();
}
