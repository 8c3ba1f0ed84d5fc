/* Messages to oneself: on MPI_COMM_WORLD (rank to itself) and on MPI_COMM_SELF, small and
 * large, blocking receive after a nonblocking send, several in flight, order kept. */
#include "oxitest.h"

static void self_round(MPI_Comm comm, int me, const char *what)
{
    const int sizes[] = {0, 1, 100, 70000, 3 << 20};
    enum { N = sizeof sizes / sizeof sizes[0] };
    char *sbuf[N], *rbuf[N];
    MPI_Request req[N];
    for (int i = 0; i < N; i++) {
        sbuf[i] = ot_malloc(sizes[i]);
        rbuf[i] = ot_malloc(sizes[i]);
        ot_fill(sbuf[i], sizes[i], 50 + i);
        /* all with the same tag: the receives must match in send order */
        MPI_CHECK(MPI_Isend(sbuf[i], sizes[i], MPI_BYTE, me, 5, comm, &req[i]));
    }
    for (int i = 0; i < N; i++) {
        MPI_Status st;
        int count = -1;
        MPI_CHECK(MPI_Recv(rbuf[i], sizes[i], MPI_BYTE, me, 5, comm, &st));
        MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count));
        CHECK(count == sizes[i] && st.MPI_SOURCE == me && st.MPI_TAG == 5,
              "%s message %d: count %d (expected %d) source %d tag %d", what, i, count,
              sizes[i], st.MPI_SOURCE, st.MPI_TAG);
        long bad = ot_verify(rbuf[i], sizes[i], 50 + i);
        CHECK(bad < 0, "%s message %d (%d bytes): byte %ld wrong", what, i, sizes[i], bad);
    }
    MPI_CHECK(MPI_Waitall(N, req, MPI_STATUSES_IGNORE));
    /* Receive posted before the blocking send (small: a blocking self-send of a large message
     * may legitimately deadlock, so the large case above used Isend). */
    int in = -1, out = 4242;
    MPI_Request r;
    /* On COMM_WORLD a full wildcard could legally match another rank's message (the test
     * helpers' end-of-test synchronisation), so the source is wild only on COMM_SELF. */
    int wsrc = comm == MPI_COMM_SELF ? MPI_ANY_SOURCE : me;
    MPI_CHECK(MPI_Irecv(&in, 1, MPI_INT, wsrc, MPI_ANY_TAG, comm, &r));
    MPI_CHECK(MPI_Send(&out, 1, MPI_INT, me, 77, comm));
    MPI_Status st;
    MPI_CHECK(MPI_Wait(&r, &st));
    CHECK(in == 4242 && st.MPI_SOURCE == me && st.MPI_TAG == 77,
          "%s: wildcard self receive got %d from %d tag %d", what, in, st.MPI_SOURCE,
          st.MPI_TAG);
    /* Sendrecv with oneself */
    in = -1;
    MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, me, 3, &in, 1, MPI_INT, me, 3, comm, &st));
    CHECK(in == 4242, "%s: Sendrecv to self got %d", what, in);
    for (int i = 0; i < N; i++) {
        free(sbuf[i]);
        free(rbuf[i]);
    }
}

int main(int argc, char **argv)
{
    ot_init("self", &argc, &argv);
    self_round(MPI_COMM_WORLD, ot_rank, "COMM_WORLD");
    self_round(MPI_COMM_SELF, 0, "COMM_SELF");
    return ot_pass();
}
