/* Buffered-send accounting: a message needs its size + MPI_BSEND_OVERHEAD of attached space
 * for as long as it is pending; MPI_ERR_BUFFER (under MPI_ERRORS_RETURN) with no buffer, with
 * a buffer that is full, and for a message larger than the buffer; Buffer_detach waits until
 * the buffered messages are delivered and hands back the same buffer and size; the space is
 * then reusable. The buffered copy is independent of the user's buffer. */
#include "oxitest.h"

/* Large enough that no implementation delivers it eagerly: it stays in the attached buffer
 * until rank 1 posts the receive. */
#define BIG (4 << 20)
#define N 1000

int main(int argc, char **argv)
{
    ot_init("bsend_buffer", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    char *big = ot_malloc(BIG);
    int data[N];
    if (ot_rank == 0) {
        void *det = NULL;
        int detsize = -1;
        for (int i = 0; i < N; i++)
            data[i] = i;
        /* No buffer attached */
        CHECK_CLASS(MPI_Bsend(data, N, MPI_INT, 1, 3, MPI_COMM_WORLD), MPI_ERR_BUFFER);

        /* Room for exactly the big message */
        int bsize = BIG + MPI_BSEND_OVERHEAD;
        char *bbuf = ot_malloc(bsize);
        MPI_CHECK(MPI_Buffer_attach(bbuf, bsize));
        ot_fill(big, BIG, 5);
        MPI_CHECK(MPI_Bsend(big, BIG, MPI_BYTE, 1, 1, MPI_COMM_WORLD));
        memset(big, 0, BIG); /* the buffered copy must not see this */
        /* Full: rank 1 waits for "go" before receiving, so the big message is still pending */
        CHECK_CLASS(MPI_Bsend(data, 1, MPI_INT, 1, 3, MPI_COMM_WORLD), MPI_ERR_BUFFER);
        MPI_Request r;
        CHECK_CLASS(MPI_Ibsend(data, 1, MPI_INT, 1, 3, MPI_COMM_WORLD, &r), MPI_ERR_BUFFER);
        int go = 1;
        MPI_CHECK(MPI_Send(&go, 1, MPI_INT, 1, 9, MPI_COMM_WORLD));
        /* Detach blocks until the buffered message is out, then returns buffer and size */
        MPI_CHECK(MPI_Buffer_detach(&det, &detsize));
        CHECK(det == bbuf && detsize == bsize, "Buffer_detach gave %p/%d, expected %p/%d", det,
              detsize, (void *)bbuf, bsize);

        /* A smaller buffer, re-attached: room for two N-int messages but not a third */
        bsize = 2 * (N * (int)sizeof(int) + MPI_BSEND_OVERHEAD);
        MPI_CHECK(MPI_Buffer_attach(bbuf, bsize));
        CHECK_CLASS(MPI_Bsend(big, bsize + 1, MPI_BYTE, 1, 3, MPI_COMM_WORLD), MPI_ERR_BUFFER);
        MPI_Request rs[2];
        MPI_CHECK(MPI_Ibsend(data, N, MPI_INT, 1, 4, MPI_COMM_WORLD, &rs[0]));
        MPI_CHECK(MPI_Ibsend(data, N, MPI_INT, 1, 5, MPI_COMM_WORLD, &rs[1]));
        MPI_CHECK(MPI_Waitall(2, rs, MPI_STATUSES_IGNORE)); /* local completion: copied */
        data[0] = -2;
        MPI_CHECK(MPI_Buffer_detach(&det, &detsize));
        CHECK(det == bbuf && detsize == bsize, "second detach gave %p/%d", det, detsize);

        MPI_CHECK(MPI_Send(&go, 1, MPI_INT, 1, 9, MPI_COMM_WORLD));
        free(bbuf);
    } else if (ot_rank == 1) {
        int go;
        MPI_Status st;
        int count = -1;
        MPI_CHECK(MPI_Recv(&go, 1, MPI_INT, 0, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Recv(big, BIG, MPI_BYTE, 0, 1, MPI_COMM_WORLD, &st));
        MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count));
        CHECK(count == BIG, "big buffered message: count %d", count);
        long bad = ot_verify(big, BIG, 5);
        CHECK(bad < 0, "big buffered message: byte %ld wrong", bad);
        for (int tag = 4; tag <= 5; tag++) {
            memset(data, 0, sizeof data);
            MPI_CHECK(MPI_Recv(data, N, MPI_INT, 0, tag, MPI_COMM_WORLD, &st));
            MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
            CHECK(count == N, "tag %d: count %d", tag, count);
            for (int i = 0; i < N; i++)
                CHECK(data[i] == i, "tag %d: element %d is %d", tag, i, data[i]);
        }
        MPI_CHECK(MPI_Recv(&go, 1, MPI_INT, 0, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        int flag = 0;
        MPI_CHECK(MPI_Iprobe(0, 3, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE));
        CHECK(!flag, "a Bsend that failed with MPI_ERR_BUFFER was delivered anyway");
    }
    free(big);
    return ot_pass();
}
