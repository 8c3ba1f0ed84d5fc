/* MPI 4.1 buffers for buffered sends: a communicator's attached buffer takes precedence over
 * the process's; MPI_BUFFER_AUTOMATIC needs no size; Buffer_flush / Comm_flush_buffer /
 * Buffer_iflush / Comm_iflush_buffer complete once the messages buffered before them have
 * left; detach gives back what was attached. */
#include "oxitest.h"

#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
#define N 4096
int main(int argc, char **argv)
{
    ot_init("bsend_scopes", &argc, &argv);
    CHECK(ot_size >= 2, "needs 2 ranks");
    /* Errors of calls without a communicator go to MPI_COMM_SELF's handler (MPI 4). */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    static int data[N];
    if (ot_rank == 0) {
        /* A too-small process buffer: only the communicator's buffer can take the message.
         * (Not below MPI_BSEND_OVERHEAD: MPICH refuses such a buffer.) */
        int small_size = MPI_BSEND_OVERHEAD + 16;
        char *small = ot_malloc(small_size);
        MPI_CHECK(MPI_Buffer_attach(small, small_size));
        CHECK_CLASS(MPI_Bsend(data, N, MPI_INT, 1, 1, MPI_COMM_WORLD), MPI_ERR_BUFFER);
        int csize = N * sizeof(int) + MPI_BSEND_OVERHEAD;
        char *cbuf = ot_malloc(csize);
        MPI_CHECK(MPI_Comm_attach_buffer(MPI_COMM_WORLD, cbuf, csize));
        CHECK_CLASS(MPI_Comm_attach_buffer(MPI_COMM_WORLD, cbuf, csize), MPI_ERR_BUFFER);
        for (int i = 0; i < N; i++)
            data[i] = i;
        MPI_CHECK(MPI_Bsend(data, N, MPI_INT, 1, 1, MPI_COMM_WORLD));
        memset(data, 0, sizeof data); /* the message was copied */
        MPI_CHECK(MPI_Comm_flush_buffer(MPI_COMM_WORLD));
        void *addr;
        int size;
        MPI_CHECK(MPI_Comm_detach_buffer(MPI_COMM_WORLD, &addr, &size));
        CHECK(addr == cbuf && size == csize, "comm detach gave %p/%d", addr, size);
        MPI_CHECK(MPI_Buffer_detach(&addr, &size));
        CHECK(addr == small && size == small_size, "detach gave %p/%d", addr, size);
        /* Automatic buffering: any number of messages of any size. */
        MPI_CHECK(MPI_Buffer_attach(MPI_BUFFER_AUTOMATIC, 0));
        for (int k = 0; k < 10; k++) {
            for (int i = 0; i < N; i++)
                data[i] = k * N + i;
            MPI_CHECK(MPI_Bsend(data, N, MPI_INT, 1, 2, MPI_COMM_WORLD));
        }
        MPI_Request r;
        MPI_CHECK(MPI_Buffer_iflush(&r));
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Comm_iflush_buffer(MPI_COMM_WORLD, &r)); /* nothing attached: no-op */
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Buffer_detach(&addr, &size));
        CHECK(addr == MPI_BUFFER_AUTOMATIC && size == 0, "automatic detach gave %p/%d", addr, size);
        /* Nothing attached any more: MPICH's detach succeeds with NULL and 0 */
        MPI_CHECK(MPI_Buffer_detach(&addr, &size));
        CHECK(addr == NULL && size == 0, "detach with no buffer gave %p/%d", addr, size);
        free(small);
        free(cbuf);
    } else if (ot_rank == 1) {
        /* (receives below) */
        int got[N];
        MPI_CHECK(MPI_Recv(got, N, MPI_INT, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        for (int i = 0; i < N; i++)
            CHECK(got[i] == i, "comm-buffered message [%d] = %d", i, got[i]);
        for (int k = 0; k < 10; k++) {
            MPI_CHECK(MPI_Recv(got, N, MPI_INT, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            CHECK(got[0] == k * N && got[N - 1] == k * N + N - 1, "automatic message %d", k);
        }
    }
    /* A session's buffer serves the communicators made from its process sets; with no
     * process buffer attached, only it can take the message. */
    MPI_Session session;
    MPI_Group g;
    MPI_Comm sc;
    MPI_CHECK(MPI_Session_init(MPI_INFO_NULL, MPI_ERRORS_RETURN, &session));
    MPI_CHECK(MPI_Group_from_session_pset(session, "mpi://WORLD", &g));
    MPI_CHECK(MPI_Comm_create_from_group(g, "bsend_scopes", MPI_INFO_NULL, MPI_ERRORS_RETURN, &sc));
    if (ot_rank == 0) {
        CHECK_CLASS(MPI_Bsend(data, N, MPI_INT, 1, 3, sc), MPI_ERR_BUFFER);
        int ssize = N * sizeof(int) + MPI_BSEND_OVERHEAD;
        char *sbuf = ot_malloc(ssize);
        MPI_CHECK(MPI_Session_attach_buffer(session, sbuf, ssize));
        for (int i = 0; i < N; i++)
            data[i] = 7 * i;
        MPI_CHECK(MPI_Bsend(data, N, MPI_INT, 1, 3, sc));
        memset(data, 0, sizeof data);
        MPI_Request r;
        MPI_CHECK(MPI_Session_iflush_buffer(session, &r));
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        void *addr;
        int size;
        MPI_CHECK(MPI_Session_detach_buffer(session, &addr, &size));
        CHECK(addr == sbuf && size == ssize, "session detach gave %p/%d", addr, size);
        free(sbuf);
    } else if (ot_rank == 1) {
        int got[N];
        MPI_CHECK(MPI_Recv(got, N, MPI_INT, 0, 3, sc, MPI_STATUS_IGNORE));
        CHECK(got[N - 1] == 7 * (N - 1), "session-buffered message");
    }
    MPI_CHECK(MPI_Comm_free(&sc));
    MPI_CHECK(MPI_Group_free(&g));
    MPI_CHECK(MPI_Session_finalize(&session));
    return ot_pass();
}
#else
int main(int argc, char **argv)
{
    ot_init("bsend_scopes", &argc, &argv);
    return ot_pass(); /* the header predates MPI 4.1: nothing to test */
}
#endif
