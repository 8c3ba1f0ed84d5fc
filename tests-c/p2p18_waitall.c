/* MPI_Waitall checks its array and waits under one engine lock (p2p18, issue 13). Checked:
 * - a window of receives mixing null entries, quick sends, a truncated message and a
 *   generalized request: MPI_ERR_IN_STATUS, each status (source, tag, count, error), every
 *   handle MPI_REQUEST_NULL afterwards (errors return on both communicators: MPICH reports
 *   an array call's errors on MPI_COMM_WORLD, OxiMPI on the first request's communicator);
 * - OxiMPI only: a stale handle (a request already waited for, its slot reused) among live
 *   receives: MPI_ERR_REQUEST and nothing reaped, the live receives complete afterwards. */
#include "oxitest.h"

enum { W = 6 };

static int query(void *extra, MPI_Status *s)
{
    (void)extra;
    MPI_Status_set_elements(s, MPI_BYTE, 3);
    MPI_Status_set_cancelled(s, 0);
    s->MPI_SOURCE = 5;
    s->MPI_TAG = 6;
    s->MPI_ERROR = MPI_SUCCESS;
    return MPI_SUCCESS;
}
static int freefn(void *extra) { (void)extra; return MPI_SUCCESS; }
static int cancelfn(void *extra, int done) { (void)extra; (void)done; return MPI_SUCCESS; }

int main(int argc, char **argv)
{
    ot_init("p2p18_waitall", &argc, &argv);
    MPI_Comm c;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &c));
    MPI_CHECK(MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int peer = 1 - ot_rank;
    for (int grequest = 0; grequest < 2; grequest++) {
        /* Entries: 0 recv 8 B (tag 1), 1 null, 2 recv 8 B of a 16 B message (tag 2,
         * truncated), 3 a quick send to the peer, 4 recv 8 B (tag 3), 5 null or a
         * generalized request completed before the wait. */
        char in[3][8], big[16], out[8] = "abcdefg";
        MPI_Request r[W];
        MPI_Status st[W];
        for (int i = 0; i < 16; i++)
            big[i] = (char)i;
        if (ot_rank == 1) {
            MPI_CHECK(MPI_Send(out, 8, MPI_BYTE, peer, 1, c));
            MPI_CHECK(MPI_Send(big, 16, MPI_BYTE, peer, 2, c));
            MPI_CHECK(MPI_Send(out, 8, MPI_BYTE, peer, 3, c));
        }
        MPI_CHECK(MPI_Irecv(in[0], 8, MPI_BYTE, peer, 1, c, &r[0]));
        r[1] = MPI_REQUEST_NULL;
        MPI_CHECK(MPI_Irecv(in[1], 8, MPI_BYTE, peer, 2, c, &r[2]));
        MPI_CHECK(MPI_Isend(out, 8, MPI_BYTE, peer, 4, c, &r[3]));
        MPI_CHECK(MPI_Irecv(in[2], 8, MPI_BYTE, peer, 3, c, &r[4]));
        r[5] = MPI_REQUEST_NULL;
        if (grequest) {
            MPI_CHECK(MPI_Grequest_start(query, freefn, cancelfn, NULL, &r[5]));
            MPI_CHECK(MPI_Grequest_complete(r[5]));
        }
        if (ot_rank == 0) {
            MPI_CHECK(MPI_Send(out, 8, MPI_BYTE, peer, 1, c));
            MPI_CHECK(MPI_Send(big, 16, MPI_BYTE, peer, 2, c));
            MPI_CHECK(MPI_Send(out, 8, MPI_BYTE, peer, 3, c));
        }
        CHECK_CLASS(MPI_Waitall(W, r, st), MPI_ERR_IN_STATUS);
        for (int i = 0; i < W; i++) {
            /* MPICH may leave requests after the failed one pending (MPI_ERR_PENDING). */
            if (st[i].MPI_ERROR == MPI_ERR_PENDING) {
                MPI_CHECK(MPI_Wait(&r[i], &st[i]));
                st[i].MPI_ERROR = MPI_SUCCESS;
            }
            CHECK(r[i] == MPI_REQUEST_NULL, "grequest %d: entry %d not MPI_REQUEST_NULL", grequest,
                  i);
        }
        int want_tag[W] = {1, MPI_ANY_TAG, 2, 4, 3, grequest ? 6 : MPI_ANY_TAG};
        int want_n[W] = {8, 0, 8, 0, 8, grequest ? 3 : 0};
        for (int i = 0; i < W; i++) {
            if (i == 3)
                continue; /* a send's status says nothing more */
            int n, cls;
            MPI_CHECK(MPI_Get_count(&st[i], MPI_BYTE, &n));
            MPI_CHECK(MPI_Error_class(st[i].MPI_ERROR, &cls));
            int want_err = i == 2 ? MPI_ERR_TRUNCATE : MPI_SUCCESS;
            CHECK(cls == want_err, "grequest %d entry %d: error class %d", grequest, i, cls);
            CHECK(n == want_n[i], "grequest %d entry %d: count %d, want %d", grequest, i, n,
                  want_n[i]);
            CHECK(st[i].MPI_TAG == want_tag[i], "grequest %d entry %d: tag %d", grequest, i,
                  st[i].MPI_TAG);
            if (i == 0 || i == 2 || i == 4)
                CHECK(st[i].MPI_SOURCE == peer, "grequest %d entry %d: source %d", grequest, i,
                      st[i].MPI_SOURCE);
        }
        CHECK(memcmp(in[0], out, 8) == 0 && memcmp(in[2], out, 8) == 0 &&
                  memcmp(in[1], big, 8) == 0,
              "grequest %d: data differs", grequest);
        char q[8];
        MPI_CHECK(MPI_Recv(q, 8, MPI_BYTE, peer, 4, c, MPI_STATUS_IGNORE));
    }

#ifdef OXIMPI
    /* A stale handle among live receives: the whole call fails before anything completes
     * (OxiMPI's handles carry a generation; MPICH reuses a freed handle's bits at once). */
    char a[8], b[8], out[8] = "0123456";
    MPI_Request old, r[3];
    MPI_CHECK(MPI_Irecv(a, 8, MPI_BYTE, peer, 7, c, &old));
    MPI_Request stale = old;
    MPI_CHECK(MPI_Send(out, 8, MPI_BYTE, peer, 7, c));
    MPI_CHECK(MPI_Wait(&old, MPI_STATUS_IGNORE));
    MPI_CHECK(MPI_Irecv(a, 8, MPI_BYTE, peer, 8, c, &r[0]));
    r[1] = stale;
    MPI_CHECK(MPI_Irecv(b, 8, MPI_BYTE, peer, 9, c, &r[2]));
    MPI_CHECK(MPI_Send(out, 8, MPI_BYTE, peer, 8, c));
    MPI_CHECK(MPI_Send(out, 8, MPI_BYTE, peer, 9, c));
    CHECK_CLASS(MPI_Waitall(3, r, MPI_STATUSES_IGNORE), MPI_ERR_REQUEST);
    CHECK(r[0] != MPI_REQUEST_NULL && r[2] != MPI_REQUEST_NULL,
          "stale handle: live entries were retired");
    MPI_Request live[2] = {r[0], r[2]};
    MPI_CHECK(MPI_Waitall(2, live, MPI_STATUSES_IGNORE));
    CHECK(memcmp(a, out, 8) == 0 && memcmp(b, out, 8) == 0, "stale handle: data differs");
#endif
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    MPI_CHECK(MPI_Comm_free(&c));
    return ot_pass();
}
