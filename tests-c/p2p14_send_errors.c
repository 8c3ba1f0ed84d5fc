/* Every argument error of the small-message sends on their inlined fast path (p2p14, issue
 * 13): errclass.c checks MPI_Send; this checks MPI_Isend, MPI_Irsend and MPI_Issend with a
 * predefined type and a peer on the node (the case the fast path takes), each bad argument
 * alone: rank, tag, count, datatype, communicator, NULL buffer with count > 0, NULL request.
 * A failed call sends nothing: after the errors, rank 0 sends one standard and one
 * synchronous message to rank 1 (a ready send there would be erroneous: no receive is known
 * to be posted), which must receive exactly those (tag, value), in order. */
#include "oxitest.h"

typedef int (*isend_fn)(const void *, int, MPI_Datatype, int, int, MPI_Comm, MPI_Request *);

int main(int argc, char **argv)
{
    ot_init("p2p14_send_errors", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    isend_fn fns[3] = {MPI_Isend, MPI_Irsend, MPI_Issend};
    int buf[2] = {7, 8}, peer = ot_rank == 0 ? 1 : 0, size = ot_size;
    MPI_Request req = MPI_REQUEST_NULL;

    for (int f = 0; f < 3; f++) {
        isend_fn fn = fns[f];
        CHECK_CLASS(fn(buf, 1, MPI_INT, size, 0, MPI_COMM_WORLD, &req), MPI_ERR_RANK);
        CHECK_CLASS(fn(buf, 1, MPI_INT, -2, 0, MPI_COMM_WORLD, &req), MPI_ERR_RANK);
        CHECK_CLASS(fn(buf, 1, MPI_INT, peer, -1, MPI_COMM_WORLD, &req), MPI_ERR_TAG);
        CHECK_CLASS(fn(buf, 1, MPI_INT, peer, MPI_ANY_TAG, MPI_COMM_WORLD, &req), MPI_ERR_TAG);
        CHECK_CLASS(fn(buf, -1, MPI_INT, peer, 0, MPI_COMM_WORLD, &req), MPI_ERR_COUNT);
        CHECK_CLASS(fn(buf, 1, MPI_DATATYPE_NULL, peer, 0, MPI_COMM_WORLD, &req), MPI_ERR_TYPE);
        CHECK_CLASS(fn(buf, 1, (MPI_Datatype)0x12345, peer, 0, MPI_COMM_WORLD, &req),
                    MPI_ERR_TYPE);
        CHECK_CLASS(fn(buf, 1, MPI_INT, peer, 0, MPI_COMM_NULL, &req), MPI_ERR_COMM);
        CHECK_CLASS(fn(buf, 1, MPI_INT, peer, 0, (MPI_Comm)12345, &req), MPI_ERR_COMM);
        CHECK_CLASS(fn(NULL, 2, MPI_INT, peer, 0, MPI_COMM_WORLD, &req), MPI_ERR_BUFFER);
        CHECK_CLASS(fn(buf, 1, MPI_INT, peer, 0, MPI_COMM_WORLD, NULL), MPI_ERR_ARG);
    }

    /* nothing went out: the first messages rank 1 sees are the two below */
    if (ot_rank == 0) {
        MPI_Request r[3];
        for (int f = 0; f < 3; f += 2) {
            buf[0] = 100 + f;
            MPI_CHECK(fns[f](&buf[0], 1, MPI_INT, 1, 10 + f, MPI_COMM_WORLD, &r[f]));
            MPI_CHECK(MPI_Wait(&r[f], MPI_STATUS_IGNORE));
        }
    } else if (ot_rank == 1) {
        for (int f = 0; f < 3; f += 2) {
            int v = -1;
            MPI_Status st;
            MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
            CHECK(st.MPI_TAG == 10 + f && v == 100 + f, "message %d: tag %d value %d", f,
                  st.MPI_TAG, v);
        }
    }
    return ot_pass();
}
