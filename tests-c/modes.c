/* The four send modes (Send, Ssend, Bsend, Rsend) and their nonblocking forms, at a small and
 * a large size, between every pair (0, r). Rsend needs the receive posted first: the receiver
 * posts it, then tells the sender "ready" with a separate message. */
#include "oxitest.h"

enum { M_SEND, M_SSEND, M_BSEND, M_RSEND, NMODES };
static const char *mode_names[] = {"Send", "Ssend", "Bsend", "Rsend"};

static int do_send(int mode, int nonblocking, void *buf, int n, int dest, int tag)
{
    MPI_Request req;
    if (!nonblocking) {
        switch (mode) {
        case M_SEND: return MPI_Send(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
        case M_SSEND: return MPI_Ssend(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
        case M_BSEND: return MPI_Bsend(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
        default: return MPI_Rsend(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
        }
    }
    int rc;
    switch (mode) {
    case M_SEND: rc = MPI_Isend(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &req); break;
    case M_SSEND: rc = MPI_Issend(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &req); break;
    case M_BSEND: rc = MPI_Ibsend(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &req); break;
    default: rc = MPI_Irsend(buf, n, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &req); break;
    }
    if (rc != MPI_SUCCESS)
        return rc;
    MPI_Status st;
    rc = MPI_Wait(&req, &st);
    CHECK(req == MPI_REQUEST_NULL, "request not freed by MPI_Wait");
    return rc;
}

int main(int argc, char **argv)
{
    ot_init("modes", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    const int sizes[] = {0, 13, 4096, 300000};
    const int maxn = 300000;
    char *buf = ot_malloc(maxn);
    /* Buffered messages hold their space until delivered; room for every Bsend/Ibsend of one
     * peer's round (2 x 4 sizes) keeps the test independent of how lazily space is reclaimed. */
    int bsize = 8 * (maxn + MPI_BSEND_OVERHEAD);
    char *bbuf = ot_malloc(bsize);
    MPI_CHECK(MPI_Buffer_attach(bbuf, bsize));

    for (int peer = 1; peer < ot_size; peer++) {
        for (int mode = 0; mode < NMODES; mode++) {
            for (int nb = 0; nb < 2; nb++) {
                for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                    int n = sizes[s];
                    int tag = mode * 100 + nb * 10 + s;
                    unsigned seed = peer * 1000 + tag;
                    if (ot_rank == 0) {
                        ot_fill(buf, n, seed);
                        if (mode == M_RSEND) {
                            int ready;
                            MPI_CHECK(MPI_Recv(&ready, 1, MPI_INT, peer, 999, MPI_COMM_WORLD,
                                               MPI_STATUS_IGNORE));
                        }
                        int rc = do_send(mode, nb, buf, n, peer, tag);
                        CHECK(rc == MPI_SUCCESS, "%s%s of %d bytes returned %d",
                              nb ? "I" : "", mode_names[mode], n, rc);
                    } else if (ot_rank == peer) {
                        MPI_Request req;
                        MPI_Status st;
                        memset(buf, 0, n);
                        MPI_CHECK(MPI_Irecv(buf, maxn, MPI_BYTE, 0, tag, MPI_COMM_WORLD, &req));
                        if (mode == M_RSEND) {
                            int ready = 1;
                            MPI_CHECK(MPI_Send(&ready, 1, MPI_INT, 0, 999, MPI_COMM_WORLD));
                        }
                        MPI_CHECK(MPI_Wait(&req, &st));
                        int count = -1;
                        MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &count));
                        CHECK(count == n && st.MPI_SOURCE == 0 && st.MPI_TAG == tag,
                              "%s%s: count %d (expected %d), source %d, tag %d",
                              nb ? "I" : "", mode_names[mode], count, n, st.MPI_SOURCE,
                              st.MPI_TAG);
                        long bad = ot_verify(buf, n, seed);
                        CHECK(bad < 0, "%s%s of %d bytes: byte %ld wrong", nb ? "I" : "",
                              mode_names[mode], n, bad);
                    }
                }
            }
        }
    }
    void *det;
    int detsize;
    MPI_CHECK(MPI_Buffer_detach(&det, &detsize));
    CHECK(det == bbuf && detsize == bsize, "Buffer_detach gave %p/%d", det, detsize);
    free(bbuf);
    free(buf);
    return ot_pass();
}
