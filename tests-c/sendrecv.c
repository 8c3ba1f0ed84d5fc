/* Sendrecv, Sendrecv_replace, Isendrecv, Isendrecv_replace around a ring (rank r sends to
 * r+1, receives from r-1), small and large, with one rank also exchanging with itself. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("sendrecv", &argc, &argv);
    int right = (ot_rank + 1) % ot_size, left = (ot_rank + ot_size - 1) % ot_size;
    const int sizes[] = {0, 1, 1000, 250000};
    int *sbuf = ot_malloc(250000 * sizeof(int)), *rbuf = ot_malloc(250000 * sizeof(int));
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        for (int variant = 0; variant < 4; variant++) {
            MPI_Status st;
            MPI_Request req;
            int count = -1;
            unsigned seed = (unsigned)(ot_rank * 100 + variant * 10 + s);
            unsigned lseed = (unsigned)(left * 100 + variant * 10 + s);
            ot_fill(sbuf, n * sizeof(int), seed);
            memset(rbuf, 0, n * sizeof(int));
            switch (variant) {
            case 0:
                MPI_CHECK(MPI_Sendrecv(sbuf, n, MPI_INT, right, 10 + s, rbuf, n, MPI_INT, left,
                                       10 + s, MPI_COMM_WORLD, &st));
                break;
            case 1:
                memcpy(rbuf, sbuf, n * sizeof(int));
                MPI_CHECK(MPI_Sendrecv_replace(rbuf, n, MPI_INT, right, 20 + s, left, 20 + s,
                                               MPI_COMM_WORLD, &st));
                break;
            case 2:
                MPI_CHECK(MPI_Isendrecv(sbuf, n, MPI_INT, right, 30 + s, rbuf, n, MPI_INT, left,
                                        30 + s, MPI_COMM_WORLD, &req));
                MPI_CHECK(MPI_Wait(&req, &st));
                break;
            default:
                memcpy(rbuf, sbuf, n * sizeof(int));
                MPI_CHECK(MPI_Isendrecv_replace(rbuf, n, MPI_INT, right, 40 + s, left, 40 + s,
                                                MPI_COMM_WORLD, &req));
                MPI_CHECK(MPI_Wait(&req, &st));
                break;
            }
            MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
            CHECK(count == n && st.MPI_SOURCE == left,
                  "variant %d, %d ints: count %d source %d (expected %d)", variant, n, count,
                  st.MPI_SOURCE, left);
            long bad = ot_verify(rbuf, n * sizeof(int), lseed);
            CHECK(bad < 0, "variant %d, %d ints: byte %ld wrong", variant, n, bad);
        }
    }
    /* Wildcards in the receive half (one at a time: a pending MPI_ANY_SOURCE + MPI_ANY_TAG
     * receive could match the final synchronisation messages of the test harness). */
    int out = ot_rank, in = -1;
    MPI_Status st;
    MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, right, 99, &in, 1, MPI_INT, MPI_ANY_SOURCE, 99,
                           MPI_COMM_WORLD, &st));
    CHECK(in == left && st.MPI_SOURCE == left && st.MPI_TAG == 99,
          "MPI_ANY_SOURCE Sendrecv got %d from %d tag %d", in, st.MPI_SOURCE, st.MPI_TAG);
    in = -1;
    MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, right, 98, &in, 1, MPI_INT, left, MPI_ANY_TAG,
                           MPI_COMM_WORLD, &st));
    CHECK(in == left && st.MPI_SOURCE == left && st.MPI_TAG == 98,
          "MPI_ANY_TAG Sendrecv got %d from %d tag %d", in, st.MPI_SOURCE, st.MPI_TAG);
    free(sbuf);
    free(rbuf);
    return ot_pass();
}
