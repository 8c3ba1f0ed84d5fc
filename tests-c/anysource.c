/* MPI_ANY_SOURCE / MPI_ANY_TAG with non-overtaking order: every other rank sends many
 * numbered messages (mixed sizes, varying tags) to rank 0, which receives them all with
 * wildcards and checks that each sender's messages arrive in the order they were sent. Then
 * rank 0 receives with a specific tag but any source, mixing in the other tag. */
#include "oxitest.h"

#define NMSG 300

int main(int argc, char **argv)
{
    ot_init("anysource", &argc, &argv);
    int senders = ot_size - 1;
    int buf[1 + 2048];
    if (ot_rank == 0) {
        int *next = calloc(ot_size, sizeof(int));
        for (int i = 0; i < NMSG * senders; i++) {
            MPI_Status st;
            int count = -1;
            MPI_CHECK(MPI_Recv(buf, 1 + 2048, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG,
                               MPI_COMM_WORLD, &st));
            int src = st.MPI_SOURCE;
            CHECK(src >= 1 && src < ot_size, "bad source %d", src);
            CHECK(buf[0] == next[src], "from %d: got message #%d, expected #%d (overtaken)",
                  src, buf[0], next[src]);
            CHECK(st.MPI_TAG == buf[0] % 7, "from %d #%d: tag %d expected %d", src, buf[0],
                  st.MPI_TAG, buf[0] % 7);
            MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
            int expect = 1 + (buf[0] % 5 == 0 ? 2048 : buf[0] % 3);
            CHECK(count == expect, "from %d #%d: count %d expected %d", src, buf[0], count,
                  expect);
            for (int k = 1; k < count; k++)
                CHECK(buf[k] == src * 100000 + buf[0] * 10 + k % 10, "from %d #%d: word %d",
                      src, buf[0], k);
            next[src]++;
        }
        free(next);
    } else {
        for (int m = 0; m < NMSG; m++) {
            int count = 1 + (m % 5 == 0 ? 2048 : m % 3);
            buf[0] = m;
            for (int k = 1; k < count; k++)
                buf[k] = ot_rank * 100000 + m * 10 + k % 10;
            if (m % 4 == 1) {
                MPI_Request r;
                MPI_CHECK(MPI_Isend(buf, count, MPI_INT, 0, m % 7, MPI_COMM_WORLD, &r));
                MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
            } else {
                MPI_CHECK(MPI_Send(buf, count, MPI_INT, 0, m % 7, MPI_COMM_WORLD));
            }
        }
    }
    ot_sync(MPI_COMM_WORLD);

    /* Tag selection with any source: every sender sends tag 1 then tag 2; rank 0 first takes
     * all tag-2 messages (which must match past the earlier tag-1 ones), then all tag-1. */
    if (ot_rank == 0) {
        for (int pass = 2; pass >= 1; pass--) {
            for (int i = 0; i < senders; i++) {
                MPI_Status st;
                MPI_CHECK(MPI_Recv(buf, 1, MPI_INT, MPI_ANY_SOURCE, pass, MPI_COMM_WORLD, &st));
                CHECK(st.MPI_TAG == pass && buf[0] == st.MPI_SOURCE * 10 + pass,
                      "tag pass %d: got %d from %d tag %d", pass, buf[0], st.MPI_SOURCE,
                      st.MPI_TAG);
            }
        }
    } else {
        int v = ot_rank * 10 + 1;
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 1, MPI_COMM_WORLD));
        v = ot_rank * 10 + 2;
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 2, MPI_COMM_WORLD));
    }
    return ot_pass();
}
