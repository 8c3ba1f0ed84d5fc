/* Large-count (_c) variants with MPI_Count arguments: Send_c/Recv_c, Isend_c/Irecv_c,
 * Ssend_c, Bsend_c (with Buffer_attach_c/detach_c), Rsend_c, Sendrecv_c,
 * Sendrecv_replace_c, Send_init_c/Recv_init_c, Mrecv_c, Get_count_c/Get_elements_c, and a
 * status holding more than INT_MAX elements (set with Status_set_elements_c from MPI 4.1, or
 * Status_set_elements_x with an older header). No message is larger than INT_MAX: that would
 * need over 2 GiB per rank on a shared CI machine. */
#include "oxitest.h"
#include <limits.h>

#define N 100000

static void expect_count(MPI_Status *st, MPI_Count n, const char *what)
{
    MPI_Count c = -1;
    MPI_CHECK(MPI_Get_count_c(st, MPI_INT, &c));
    CHECK(c == n, "%s: Get_count_c %lld, expected %lld", what, (long long)c, (long long)n);
}

int main(int argc, char **argv)
{
    ot_init("largecount", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    int *buf = ot_malloc(N * sizeof(int));
    MPI_Count n = N;
    MPI_Status st;
    if (ot_rank == 0) {
        MPI_Count bsize = N * sizeof(int) + MPI_BSEND_OVERHEAD;
        void *bbuf = ot_malloc(bsize);
        MPI_CHECK(MPI_Buffer_attach_c(bbuf, bsize));
        for (int v = 0; v < 6; v++) {
            for (int i = 0; i < N; i++)
                buf[i] = v * N + i;
            MPI_Request r;
            switch (v) {
            case 0: MPI_CHECK(MPI_Send_c(buf, n, MPI_INT, 1, v, MPI_COMM_WORLD)); break;
            case 1:
                MPI_CHECK(MPI_Isend_c(buf, n, MPI_INT, 1, v, MPI_COMM_WORLD, &r));
                MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
                break;
            case 2: MPI_CHECK(MPI_Ssend_c(buf, n, MPI_INT, 1, v, MPI_COMM_WORLD)); break;
            case 3: MPI_CHECK(MPI_Bsend_c(buf, n, MPI_INT, 1, v, MPI_COMM_WORLD)); break;
            case 4: {
                int ready;
                MPI_CHECK(MPI_Recv(&ready, 1, MPI_INT, 1, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                MPI_CHECK(MPI_Rsend_c(buf, n, MPI_INT, 1, v, MPI_COMM_WORLD));
                break;
            }
            default:
                MPI_CHECK(MPI_Send_init_c(buf, n, MPI_INT, 1, v, MPI_COMM_WORLD, &r));
                MPI_CHECK(MPI_Start(&r));
                MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
                MPI_CHECK(MPI_Request_free(&r));
            }
        }
        void *det;
        MPI_Count detsize = -1;
        MPI_CHECK(MPI_Buffer_detach_c(&det, &detsize));
        CHECK(det == bbuf && detsize == bsize, "Buffer_detach_c gave %p/%lld", det,
              (long long)detsize);
        free(bbuf);
        /* Sendrecv_c and Sendrecv_replace_c with rank 1 */
        for (int i = 0; i < N; i++)
            buf[i] = -i;
        int *in = ot_malloc(N * sizeof(int));
        MPI_CHECK(MPI_Sendrecv_c(buf, n, MPI_INT, 1, 10, in, n, MPI_INT, 1, 11, MPI_COMM_WORLD,
                                 &st));
        expect_count(&st, n, "Sendrecv_c");
        for (int i = 0; i < N; i++)
            CHECK(in[i] == 2 * i, "Sendrecv_c element %d is %d", i, in[i]);
        MPI_CHECK(MPI_Sendrecv_replace_c(buf, n, MPI_INT, 1, 12, 1, 13, MPI_COMM_WORLD, &st));
        expect_count(&st, n, "Sendrecv_replace_c");
        for (int i = 0; i < N; i++)
            CHECK(buf[i] == 3 * i, "Sendrecv_replace_c element %d is %d", i, buf[i]);
        free(in);
        MPI_CHECK(MPI_Send_c(buf, n, MPI_INT, 1, 14, MPI_COMM_WORLD));
    } else if (ot_rank == 1) {
        for (int v = 0; v < 6; v++) {
            memset(buf, 0, N * sizeof(int));
            MPI_Request r;
            if (v == 1) {
                MPI_CHECK(MPI_Irecv_c(buf, n, MPI_INT, 0, v, MPI_COMM_WORLD, &r));
                MPI_CHECK(MPI_Wait(&r, &st));
            } else if (v == 4) {
                MPI_CHECK(MPI_Irecv_c(buf, n, MPI_INT, 0, v, MPI_COMM_WORLD, &r));
                int ready = 1;
                MPI_CHECK(MPI_Send(&ready, 1, MPI_INT, 0, 99, MPI_COMM_WORLD));
                MPI_CHECK(MPI_Wait(&r, &st));
            } else if (v == 5) {
                MPI_CHECK(MPI_Recv_init_c(buf, n, MPI_INT, 0, v, MPI_COMM_WORLD, &r));
                MPI_CHECK(MPI_Start(&r));
                MPI_CHECK(MPI_Wait(&r, &st));
                MPI_CHECK(MPI_Request_free(&r));
            } else {
                MPI_CHECK(MPI_Recv_c(buf, n, MPI_INT, 0, v, MPI_COMM_WORLD, &st));
            }
            expect_count(&st, n, "receive");
            for (int i = 0; i < N; i++)
                CHECK(buf[i] == v * N + i, "variant %d element %d is %d", v, i, buf[i]);
        }
        int *out = ot_malloc(N * sizeof(int));
        for (int i = 0; i < N; i++)
            out[i] = 2 * i;
        MPI_CHECK(MPI_Sendrecv_c(out, n, MPI_INT, 0, 11, buf, n, MPI_INT, 0, 10, MPI_COMM_WORLD,
                                 &st));
        for (int i = 0; i < N; i++)
            CHECK(buf[i] == -i, "Sendrecv_c element %d is %d", i, buf[i]);
        for (int i = 0; i < N; i++)
            buf[i] = 3 * i;
        MPI_CHECK(MPI_Sendrecv_replace_c(buf, n, MPI_INT, 0, 13, 0, 12, MPI_COMM_WORLD, &st));
        for (int i = 0; i < N; i++)
            CHECK(buf[i] == -i, "Sendrecv_replace_c element %d is %d", i, buf[i]);
        free(out);
        /* Mprobe + Mrecv_c */
        MPI_Message msg;
        MPI_CHECK(MPI_Mprobe(0, 14, MPI_COMM_WORLD, &msg, &st));
        MPI_CHECK(MPI_Mrecv_c(buf, n, MPI_INT, &msg, &st));
        expect_count(&st, n, "Mrecv_c");
        CHECK(buf[N - 1] == 3 * (N - 1), "Mrecv_c data %d", buf[N - 1]);
    }

    /* Counts beyond INT_MAX in a status */
    MPI_Count big = (MPI_Count)INT_MAX + 1000;
    MPI_Count got = -1;
#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
    MPI_CHECK(MPI_Status_set_elements_c(&st, MPI_BYTE, big));
#else
    MPI_CHECK(MPI_Status_set_elements_x(&st, MPI_BYTE, big));
#endif
    MPI_CHECK(MPI_Get_count_c(&st, MPI_BYTE, &got));
    CHECK(got == big, "Get_count_c after set_elements_c(%lld) gave %lld", (long long)big,
          (long long)got);
    MPI_CHECK(MPI_Get_elements_c(&st, MPI_BYTE, &got));
    CHECK(got == big, "Get_elements_c gave %lld", (long long)got);
    free(buf);
    return ot_pass();
}
