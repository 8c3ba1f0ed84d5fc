/* Buffered sends that do not fit the attached buffer fail with MPI_ERR_BUFFER, as in MPICH's
 * bsend: a message holds its packed size + MPI_BSEND_OVERHEAD of the buffer until it has been
 * transferred - for a message to oneself, until it is received (issue 11 class 12). The same
 * for MPI_Bsend, MPI_Ibsend and MPI_Start of an MPI_Bsend_init request (which then completes
 * with that error, as MPICH's does). Also MPICH's edges: attaching less than
 * MPI_BSEND_OVERHEAD is MPI_ERR_BUFFER; detaching with no buffer attached succeeds and gives
 * NULL and 0. */
#include "oxitest.h"

#define BIG (4 << 20)

/* Bsend, Ibsend and a Bsend_init start of one int to `dest` must all fail: no room. */
static void expect_full(int dest, MPI_Comm comm, const char *when)
{
    int x = 7, flag = -1, cls = -1;
    MPI_Request r = MPI_REQUEST_NULL;
    MPI_Status st;
    CHECK_CLASS(MPI_Bsend(&x, 1, MPI_INT, dest, 2, comm), MPI_ERR_BUFFER);
    CHECK_CLASS(MPI_Ibsend(&x, 1, MPI_INT, dest, 2, comm, &r), MPI_ERR_BUFFER);
    MPI_CHECK(MPI_Bsend_init(&x, 1, MPI_INT, dest, 2, comm, &r));
    CHECK_CLASS(MPI_Start(&r), MPI_ERR_BUFFER);
    /* The failed start leaves the request complete with the error */
    int rc = MPI_Test(&r, &flag, &st);
    MPI_Error_class(rc, &cls);
    CHECK(flag == 1 && cls == MPI_ERR_BUFFER, "%s: Test after a failed start: flag %d class %d",
          when, flag, cls);
    CHECK(r != MPI_REQUEST_NULL, "%s: Test freed the persistent request", when);
    MPI_CHECK(MPI_Request_free(&r));
}

int main(int argc, char **argv)
{
    ot_init("bsend_overflow", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    void *addr = (void *)&addr;
    int size = -1;
    int go = 1;
    if (ot_rank == 0) {
        /* Detach with nothing attached */
        MPI_CHECK(MPI_Buffer_detach(&addr, &size));
        CHECK(addr == NULL && size == 0, "detach with no buffer gave %p/%d", addr, size);
        /* Too small to hold even the overhead */
        char tiny[MPI_BSEND_OVERHEAD];
        CHECK_CLASS(MPI_Buffer_attach(tiny, MPI_BSEND_OVERHEAD - 1), MPI_ERR_BUFFER);

        /* To oneself: room for exactly one message until it is received */
        int msg[16], got[16];
        for (int i = 0; i < 16; i++)
            msg[i] = 100 + i;
        int bsize = (int)sizeof msg + MPI_BSEND_OVERHEAD;
        char *bbuf = ot_malloc(bsize);
        MPI_CHECK(MPI_Buffer_attach(bbuf, bsize));
        MPI_CHECK(MPI_Bsend(msg, 16, MPI_INT, 0, 1, MPI_COMM_SELF));
        expect_full(0, MPI_COMM_SELF, "to self");
        MPI_CHECK(MPI_Recv(got, 16, MPI_INT, 0, 1, MPI_COMM_SELF, MPI_STATUS_IGNORE));
        CHECK(got[15] == 115, "buffered message to self: %d", got[15]);
        /* received: the space is free again */
        msg[15] = -1;
        MPI_CHECK(MPI_Bsend(msg, 16, MPI_INT, 0, 1, MPI_COMM_SELF));
        MPI_CHECK(MPI_Recv(got, 16, MPI_INT, 0, 1, MPI_COMM_SELF, MPI_STATUS_IGNORE));
        CHECK(got[15] == -1, "second buffered message to self: %d", got[15]);
        MPI_CHECK(MPI_Buffer_detach(&addr, &size));
        CHECK(addr == bbuf && size == bsize, "detach gave %p/%d", addr, size);
        free(bbuf);

        /* To another rank, which receives only later: a large message stays buffered */
        if (ot_size > 1) {
            char *big = ot_malloc(BIG);
            ot_fill(big, BIG, 4);
            bsize = BIG + MPI_BSEND_OVERHEAD;
            bbuf = ot_malloc(bsize);
            MPI_CHECK(MPI_Buffer_attach(bbuf, bsize));
            MPI_CHECK(MPI_Bsend(big, BIG, MPI_BYTE, 1, 1, MPI_COMM_WORLD));
            expect_full(1, MPI_COMM_WORLD, "to rank 1");
            MPI_CHECK(MPI_Send(&go, 1, MPI_INT, 1, 9, MPI_COMM_WORLD));
            MPI_CHECK(MPI_Buffer_detach(&addr, &size));
            free(bbuf);
            free(big);
        }
    } else if (ot_rank == 1) {
        char *big = ot_malloc(BIG);
        MPI_CHECK(MPI_Recv(&go, 1, MPI_INT, 0, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Recv(big, BIG, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        long bad = ot_verify(big, BIG, 4);
        CHECK(bad < 0, "buffered message: byte %ld wrong", bad);
        int flag = 1;
        MPI_CHECK(MPI_Iprobe(0, 2, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE));
        CHECK(!flag, "a buffered send that failed was delivered");
        free(big);
    }
    return ot_pass();
}
