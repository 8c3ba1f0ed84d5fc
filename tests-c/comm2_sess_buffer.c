/* Communicators derived from a session's communicator (Comm_dup, dup of the dup, Comm_split,
 * Comm_create, Comm_idup) use the session's attached buffer for buffered sends (MPI 4.1 §3.6):
 * with only a session buffer attached, Bsend on them succeeds and the data arrives, while
 * Bsend on MPI_COMM_WORLD (no process buffer) fails with MPI_ERR_BUFFER. Detaching gives back
 * the buffer and its size. */
#include "oxitest.h"

#define N 64

/* Each rank Bsends N ints to the next rank and receives from the previous one. */
static void ring_bsend(MPI_Comm comm, int seed)
{
    int rank, size, out[N], in[N];
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    MPI_CHECK(MPI_Comm_size(comm, &size));
    for (int i = 0; i < N; i++)
        out[i] = seed * 1000 + rank * 100 + i;
    MPI_CHECK(MPI_Bsend(out, N, MPI_INT, (rank + 1) % size, 5, comm));
    /* The send buffer is ours again at once. */
    memset(out, 0xff, sizeof out);
    int from = (rank + size - 1) % size;
    MPI_CHECK(MPI_Recv(in, N, MPI_INT, from, 5, comm, MPI_STATUS_IGNORE));
    for (int i = 0; i < N; i++)
        CHECK(in[i] == seed * 1000 + from * 100 + i, "seed %d: in[%d] = %d", seed, i, in[i]);
}

int main(int argc, char **argv)
{
    ot_init("comm2_sess_buffer", &argc, &argv);
    MPI_Session session;
    MPI_Group g;
    MPI_Comm sc, dup, dupdup, split, created, idup;
    MPI_CHECK(MPI_Session_init(MPI_INFO_NULL, MPI_ERRORS_RETURN, &session));
    MPI_CHECK(MPI_Group_from_session_pset(session, "mpi://WORLD", &g));
    MPI_CHECK(MPI_Comm_create_from_group(g, "comm2.sess_buffer", MPI_INFO_NULL,
                                         MPI_ERRORS_RETURN, &sc));

    /* Enough room for the sends of all the rounds below, each Bsend completing before the
     * next round only because its receiver got it. */
    int ssize = 8 * (N * (int)sizeof(int) + MPI_BSEND_OVERHEAD);
    char *sbuf = malloc(ssize);
    MPI_CHECK(MPI_Session_attach_buffer(session, sbuf, ssize));

    /* The derived communicators are made after the attach and before it, both ways. */
    MPI_CHECK(MPI_Comm_dup(sc, &dup));
    MPI_CHECK(MPI_Comm_dup(dup, &dupdup));
    MPI_CHECK(MPI_Comm_split(sc, ot_rank % 2, -ot_rank, &split));
    MPI_CHECK(MPI_Comm_create(dup, g, &created));
    MPI_Request r;
    MPI_CHECK(MPI_Comm_idup(split, &idup, &r));
    MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));

    /* No process buffer: a Bsend on the World model's communicator has nowhere to go. */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int one = 1;
    CHECK_CLASS(MPI_Bsend(&one, 1, MPI_INT, 0, 9, MPI_COMM_WORLD), MPI_ERR_BUFFER);

    ring_bsend(sc, 1);
    ring_bsend(dup, 2);
    ring_bsend(dupdup, 3);
    ring_bsend(split, 4);
    ring_bsend(created, 5);
    ring_bsend(idup, 6);

    void *addr = NULL;
    int size = -1;
    MPI_CHECK(MPI_Session_detach_buffer(session, &addr, &size));
    CHECK(addr == sbuf && size == ssize, "session detach gave %p/%d, attached %p/%d", addr, size,
          (void *)sbuf, ssize);
    /* Detached: the derived communicators have no buffer now. */
    MPI_CHECK(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN));
    CHECK_CLASS(MPI_Bsend(&one, 1, MPI_INT, 0, 9, dup), MPI_ERR_BUFFER);
    free(sbuf);

    MPI_Comm *all[] = {&idup, &created, &split, &dupdup, &dup, &sc};
    for (int i = 0; i < 6; i++)
        MPI_CHECK(MPI_Comm_free(all[i]));
    MPI_CHECK(MPI_Group_free(&g));
    MPI_CHECK(MPI_Session_finalize(&session));
    return ot_pass();
}
