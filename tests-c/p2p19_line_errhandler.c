/* The small sends' straight line steps aside for the general path on anything unusual
 * (p2p19, issue 13): that path must then raise the error through the errhandler of the right
 * object, exactly as if the line did not exist. On a duplicate of MPI_COMM_WORLD with a user
 * errhandler, each of MPI_Send, MPI_Rsend, MPI_Isend, MPI_Irsend and their _c forms, with a
 * bad rank, a bad tag, a NULL request (nonblocking forms): the handler is called once, with
 * that communicator and the error's class, and the call returns the code. With an invalid
 * communicator the error goes to MPI_COMM_WORLD's handler instead (the default, as MPICH),
 * never to the duplicate's. Then what the line takes on its own reading of the datatype
 * handle: on an intercommunicator (peers are the remote group) a 1-int message of each form
 * reaches remote rank 0 with the sender's rank as source; messages of MPI_2INT, MPI_PACKED,
 * MPI_C_DOUBLE_COMPLEX and MPI_UB/MPI_LB (builtin kind) arrive whole; a rank at the remote
 * group's size is MPI_ERR_RANK through the intercommunicator's handler. */
#include "oxitest.h"
#include <string.h>

static MPI_Comm seen_comm;
static int seen_class, calls;

static void record(MPI_Comm *comm, int *code, ...)
{
    seen_comm = *comm;
    MPI_Error_class(*code, &seen_class);
    calls++;
}

typedef int (*send_fn)(const void *, int, MPI_Datatype, int, int, MPI_Comm);
typedef int (*isend_fn)(const void *, int, MPI_Datatype, int, int, MPI_Comm, MPI_Request *);
static int send_c(const void *b, int n, MPI_Datatype t, int d, int g, MPI_Comm c)
{
    return MPI_Send_c(b, (MPI_Count)n, t, d, g, c);
}
static int rsend_c(const void *b, int n, MPI_Datatype t, int d, int g, MPI_Comm c)
{
    return MPI_Rsend_c(b, (MPI_Count)n, t, d, g, c);
}
static int isend_c(const void *b, int n, MPI_Datatype t, int d, int g, MPI_Comm c, MPI_Request *r)
{
    return MPI_Isend_c(b, (MPI_Count)n, t, d, g, c, r);
}
static int irsend_c(const void *b, int n, MPI_Datatype t, int d, int g, MPI_Comm c,
                    MPI_Request *r)
{
    return MPI_Irsend_c(b, (MPI_Count)n, t, d, g, c, r);
}

/* `call` fails with `cls`, reported once to the handler of `expect` (compared IDENT). */
#define EXPECT_HANDLED(call, cls, expect, what)                                              \
    do {                                                                                     \
        calls = 0;                                                                           \
        seen_comm = MPI_COMM_NULL;                                                           \
        int rc_ = (call), c_ = -1, cmp_ = -1;                                                \
        MPI_Error_class(rc_, &c_);                                                           \
        CHECK(rc_ != MPI_SUCCESS && c_ == (cls), "%s: rc %d class %d, expected class %d",   \
              what, rc_, c_, cls);                                                           \
        CHECK(calls == 1 && seen_class == (cls), "%s: handler called %d times, class %d",    \
              what, calls, seen_class);                                                      \
        if (calls == 1) MPI_Comm_compare(seen_comm, (expect), &cmp_);                        \
        CHECK(cmp_ == MPI_IDENT, "%s: handler got another communicator (%d)", what, cmp_);   \
    } while (0)

int main(int argc, char **argv)
{
    ot_init("p2p19_line_errhandler", &argc, &argv);
    MPI_Errhandler eh;
    MPI_Comm dup;
    MPI_CHECK(MPI_Comm_create_errhandler(record, &eh));
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
    MPI_CHECK(MPI_Comm_set_errhandler(dup, eh));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, eh));
    int buf[4] = {1, 2, 3, 4}, peer = ot_rank == 0 ? 1 : 0;
    MPI_Request req = MPI_REQUEST_NULL;
    send_fn sends[4] = {MPI_Send, MPI_Rsend, send_c, rsend_c};
    isend_fn isends[4] = {MPI_Isend, MPI_Irsend, isend_c, irsend_c};
    const char *names[4] = {"Send", "Rsend", "Send_c", "Rsend_c"};

    for (int f = 0; f < 4; f++) {
        char what[64];
        snprintf(what, sizeof what, "%s rank", names[f]);
        EXPECT_HANDLED(sends[f](buf, 1, MPI_INT, ot_size, 0, dup), MPI_ERR_RANK, dup, what);
        snprintf(what, sizeof what, "%s tag", names[f]);
        EXPECT_HANDLED(sends[f](buf, 1, MPI_INT, peer, -5, dup), MPI_ERR_TAG, dup, what);
        snprintf(what, sizeof what, "%s comm", names[f]);
        EXPECT_HANDLED(sends[f](buf, 1, MPI_INT, peer, 0, MPI_COMM_NULL), MPI_ERR_COMM,
                       MPI_COMM_WORLD, what);
        snprintf(what, sizeof what, "I%s rank", names[f]);
        EXPECT_HANDLED(isends[f](buf, 1, MPI_INT, ot_size, 0, dup, &req), MPI_ERR_RANK, dup,
                       what);
        snprintf(what, sizeof what, "I%s tag", names[f]);
        EXPECT_HANDLED(isends[f](buf, 1, MPI_INT, peer, MPI_ANY_TAG, dup, &req), MPI_ERR_TAG,
                       dup, what);
        /* (a NULL request is checked before the communicator: the default handler) */
        snprintf(what, sizeof what, "I%s request", names[f]);
        EXPECT_HANDLED(isends[f](buf, 1, MPI_INT, peer, 0, dup, NULL), MPI_ERR_ARG,
                       MPI_COMM_WORLD, what);
        snprintf(what, sizeof what, "I%s comm", names[f]);
        EXPECT_HANDLED(isends[f](buf, 1, MPI_INT, peer, 0, (MPI_Comm)0x7777, &req),
                       MPI_ERR_COMM, MPI_COMM_WORLD, what);
    }

    /* An intercommunicator between rank 0 and rank 1 (others: their own pairs' leftovers
     * stay out). Ready sends are matched: the receiver posts first, then says so. */
    MPI_Comm self_side;
    MPI_CHECK(MPI_Comm_split(dup, ot_rank < 2 ? ot_rank : MPI_UNDEFINED, 0, &self_side));
    if (ot_rank < 2) {
        MPI_Comm inter;
        MPI_CHECK(MPI_Intercomm_create(self_side, 0, dup, peer, 77, &inter));
        MPI_CHECK(MPI_Comm_set_errhandler(inter, eh));
        EXPECT_HANDLED(MPI_Send(buf, 1, MPI_INT, 1, 0, inter), MPI_ERR_RANK, inter,
                       "inter Send rank 1");
        EXPECT_HANDLED(MPI_Isend(buf, 1, MPI_INT, 1, 0, inter, &req), MPI_ERR_RANK, inter,
                       "inter Isend rank 1");
        struct {
            MPI_Datatype t;
            int count, bytes;
        } kinds[] = {{MPI_INT, 1, 4},         {MPI_2INT, 3, 24},
                     {MPI_PACKED, 13, 13},    {MPI_C_DOUBLE_COMPLEX, 2, 32},
                     {MPI_UB, 5, 0},          {MPI_LB, 1, 0}};
        int nk = (int)(sizeof kinds / sizeof kinds[0]);
        for (int k = 0; k < nk; k++) {
            for (int f = 0; f < 8; f++) {
                unsigned char out[64], in[64];
                int tag = 100 + 8 * k + f;
                if (ot_rank == 0) {
                    ot_fill(out, sizeof out, (unsigned)tag);
                    int go;
                    MPI_CHECK(MPI_Recv(&go, 0, MPI_INT, 0, 1, inter, MPI_STATUS_IGNORE));
                    if (f < 4) {
                        MPI_CHECK(sends[f](out, kinds[k].count, kinds[k].t, 0, tag, inter));
                    } else {
                        MPI_CHECK(isends[f - 4](out, kinds[k].count, kinds[k].t, 0, tag, inter,
                                                &req));
                        MPI_CHECK(MPI_Wait(&req, MPI_STATUS_IGNORE));
                    }
                } else {
                    MPI_Status st;
                    MPI_Request r;
                    int n = -1;
                    memset(in, 0xee, sizeof in);
                    MPI_CHECK(MPI_Irecv(in, kinds[k].count, kinds[k].t, 0, tag, inter, &r));
                    MPI_CHECK(MPI_Send(NULL, 0, MPI_INT, 0, 1, inter));
                    MPI_CHECK(MPI_Wait(&r, &st));
                    MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &n));
                    CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == tag && n == kinds[k].bytes,
                          "kind %d form %d: source %d tag %d bytes %d (want %d)", k, f,
                          st.MPI_SOURCE, st.MPI_TAG, n, kinds[k].bytes);
                    CHECK(ot_verify(in, (size_t)kinds[k].bytes, (unsigned)tag) < 0,
                          "kind %d form %d: data differ at %ld", k, f,
                          ot_verify(in, (size_t)kinds[k].bytes, (unsigned)tag));
                    for (int i = kinds[k].bytes; i < 64; i++)
                        CHECK(in[i] == 0xee, "kind %d form %d: byte %d written", k, f, i);
                }
            }
        }
        MPI_CHECK(MPI_Comm_free(&inter));
        MPI_CHECK(MPI_Comm_free(&self_side));
    }
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    MPI_CHECK(MPI_Comm_free(&dup));
    MPI_CHECK(MPI_Errhandler_free(&eh));
    return ot_pass();
}
