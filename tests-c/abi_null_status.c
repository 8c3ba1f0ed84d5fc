/* Status and request-array arguments checked before anything happens (issue 15 item 5).
 *
 * A NULL status pointer (not MPI_STATUS_IGNORE) in a call with a status out-argument is
 * MPI_ERR_ARG, as MPICH's MPIR_ERRTEST_ARGNULL; so is a NULL array of statuses with a
 * positive count. A negative count of requests is MPI_ERR_COUNT (MPICH's
 * MPIR_ERRTEST_COUNT). Each failing call must leave everything as it was: the message is
 * still there to receive, the request still there to complete. Rank 0 sends, rank 1
 * receives; at one rank the self-addressed parts run alone. */
#include "oxitest.h"

#define NREQ 2

/* A pending receive from rank `src` (tag `tag`) into `*v`. */
static MPI_Request irecv(int *v, int src, int tag)
{
    MPI_Request r;
    MPI_CHECK(MPI_Irecv(v, 1, MPI_INT, src, tag, MPI_COMM_WORLD, &r));
    return r;
}

/* The calls on requests: rank `peer` sends the values 100 + tag for tags 10.. */
static void request_calls(int peer)
{
    int v[NREQ] = {0, 0}, flag = -1, idx = -1, outcount = -1, indices[NREQ];
    MPI_Request r[NREQ];
    MPI_Status st, sts[NREQ];

    /* count < 0: MPI_ERR_COUNT, whatever the arrays */
    r[0] = r[1] = MPI_REQUEST_NULL;
    CHECK_CLASS(MPI_Waitall(-1, r, sts), MPI_ERR_COUNT);
    CHECK_CLASS(MPI_Testall(-1, r, &flag, sts), MPI_ERR_COUNT);
    CHECK_CLASS(MPI_Waitany(-1, r, &idx, &st), MPI_ERR_COUNT);
    CHECK_CLASS(MPI_Testany(-1, r, &idx, &flag, &st), MPI_ERR_COUNT);
    CHECK_CLASS(MPI_Waitsome(-1, r, &outcount, indices, sts), MPI_ERR_COUNT);
    CHECK_CLASS(MPI_Testsome(-1, r, &outcount, indices, sts), MPI_ERR_COUNT);
    CHECK_CLASS(MPI_Startall(-1, r), MPI_ERR_COUNT);
    /* count 0: nothing to check, nothing to do */
    MPI_CHECK(MPI_Waitall(0, NULL, NULL));
    MPI_CHECK(MPI_Testall(0, NULL, &flag, NULL));
    CHECK(flag != 0, "Testall of nothing: flag %d", flag);

    /* NULL status with a live request: refused, and the request survives */
    r[0] = irecv(&v[0], peer, 10);
    CHECK_CLASS(MPI_Wait(&r[0], NULL), MPI_ERR_ARG);
    CHECK(r[0] != MPI_REQUEST_NULL, "MPI_Wait with a NULL status freed the request");
    CHECK_CLASS(MPI_Test(&r[0], &flag, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Request_get_status(r[0], &flag, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Waitany(1, r, &idx, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Testany(1, r, &idx, &flag, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Waitall(1, r, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Testall(1, r, &flag, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Waitsome(1, r, &outcount, indices, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Testsome(1, r, &outcount, indices, NULL), MPI_ERR_ARG);
    CHECK(r[0] != MPI_REQUEST_NULL, "a refused call freed the request");
    MPI_CHECK(MPI_Wait(&r[0], &st));
    CHECK(v[0] == 110 && st.MPI_SOURCE == peer && st.MPI_TAG == 10,
          "after the refused calls: value %d source %d tag %d", v[0], st.MPI_SOURCE,
          st.MPI_TAG);

    /* the IGNORE constants are not NULL: accepted */
    r[0] = irecv(&v[0], peer, 11);
    r[1] = irecv(&v[1], peer, 12);
    MPI_CHECK(MPI_Waitall(NREQ, r, MPI_STATUSES_IGNORE));
    CHECK(v[0] == 111 && v[1] == 112, "Waitall: %d %d", v[0], v[1]);
    r[0] = irecv(&v[0], peer, 13);
    MPI_CHECK(MPI_Wait(&r[0], MPI_STATUS_IGNORE));
    CHECK(v[0] == 113, "Wait: %d", v[0]);
}

/* The receives and probes: rank `peer` sends 200 + tag for tags 20.. */
static void receive_calls(int peer)
{
    int v = 0, flag = -1;
    MPI_Status st;
    MPI_Message msg;

    /* the message stays queued through every refused call */
    CHECK_CLASS(MPI_Recv(&v, 1, MPI_INT, peer, 20, MPI_COMM_WORLD, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Probe(peer, 20, MPI_COMM_WORLD, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Iprobe(peer, 20, MPI_COMM_WORLD, &flag, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Mprobe(peer, 20, MPI_COMM_WORLD, &msg, NULL), MPI_ERR_ARG);
    CHECK_CLASS(MPI_Improbe(peer, 20, MPI_COMM_WORLD, &flag, &msg, NULL), MPI_ERR_ARG);
    MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, peer, 20, MPI_COMM_WORLD, &st));
    CHECK(v == 220 && st.MPI_TAG == 20, "after the refused receives: value %d tag %d", v,
          st.MPI_TAG);

    /* a matched message survives a refused MPI_Mrecv */
    MPI_CHECK(MPI_Mprobe(peer, 21, MPI_COMM_WORLD, &msg, &st));
    CHECK_CLASS(MPI_Mrecv(&v, 1, MPI_INT, &msg, NULL), MPI_ERR_ARG);
    CHECK(msg != MPI_MESSAGE_NULL, "a refused MPI_Mrecv consumed the message handle");
    MPI_CHECK(MPI_Mrecv(&v, 1, MPI_INT, &msg, &st));
    CHECK(v == 221, "Mrecv after the refused one: %d", v);

    /* Sendrecv and Sendrecv_replace with MPI_PROC_NULL: only the status argument is wrong */
    CHECK_CLASS(MPI_Sendrecv(&v, 1, MPI_INT, MPI_PROC_NULL, 0, &v, 1, MPI_INT, MPI_PROC_NULL,
                             0, MPI_COMM_WORLD, NULL),
                MPI_ERR_ARG);
    CHECK_CLASS(MPI_Sendrecv_replace(&v, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_PROC_NULL, 0,
                                     MPI_COMM_WORLD, NULL),
                MPI_ERR_ARG);
}

int main(int argc, char **argv)
{
    ot_init("abi_null_status", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    const int peer = 0; /* the sender, to rank 1 (to itself at one rank) */
    if (ot_rank == 0) {
        int dst = ot_size > 1 ? 1 : 0;
        static int vals[6];
        MPI_Request sr[6];
        int tags[] = {10, 11, 12, 13, 20, 21}, n = 6;
        for (int i = 0; i < n; i++) {
            vals[i] = (tags[i] < 20 ? 100 : 200) + tags[i];
            MPI_CHECK(MPI_Isend(&vals[i], 1, MPI_INT, dst, tags[i], MPI_COMM_WORLD, &sr[i]));
        }
        if (dst == 0) {
            request_calls(peer);
            receive_calls(peer);
        }
        MPI_CHECK(MPI_Waitall(n, sr, MPI_STATUSES_IGNORE));
    } else if (ot_rank == 1) {
        request_calls(peer);
        receive_calls(peer);
    }
    return ot_pass();
}
