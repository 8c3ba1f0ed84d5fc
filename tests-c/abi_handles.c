/* Handles the C face hands back as MPICH does:
 * - MPI_Comm_get_errhandler / MPI_Win_get_errhandler return the handle of the errhandler
 *   the object uses, the same value at every call, each call adding a reference that
 *   MPI_Errhandler_free drops (MPICH's refcounting: every free succeeds);
 * - MPI_Bcast / MPI_Ibcast of count 0 accept MPI_DATATYPE_NULL (MPICH does), a positive
 *   count does not. */
#include "oxitest.h"

static int calls;
static void comm_fn(MPI_Comm *c, int *e, ...)
{
    (void)c;
    (void)e;
    calls++;
}
static void win_fn(MPI_Win *w, int *e, ...)
{
    (void)w;
    (void)e;
    calls++;
}

int main(int argc, char **argv)
{
    ot_init("abi_handles", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));

    /* communicator: one handle, three references, three frees */
    MPI_Comm d;
    MPI_Errhandler eh, e1, e2, e3;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &d));
    MPI_CHECK(MPI_Comm_create_errhandler(comm_fn, &eh));
    MPI_CHECK(MPI_Comm_set_errhandler(d, eh));
    MPI_CHECK(MPI_Comm_get_errhandler(d, &e1));
    MPI_CHECK(MPI_Comm_get_errhandler(d, &e2));
    CHECK(e1 == eh && e2 == eh, "Comm_get_errhandler: %#x %#x, set %#x", (unsigned)e1,
          (unsigned)e2, (unsigned)eh);
    MPI_CHECK(MPI_Errhandler_free(&e1));
    MPI_CHECK(MPI_Errhandler_free(&e2));
    CHECK(e1 == MPI_ERRHANDLER_NULL && e2 == MPI_ERRHANDLER_NULL, "freed handles not null");
    /* the communicator still calls the handler once the program freed its handles */
    MPI_CHECK(MPI_Errhandler_free(&eh));
    int rank;
    (void)MPI_Comm_rank(d, NULL);
    CHECK(calls == 1, "the communicator's errhandler ran %d times", calls);
    MPI_CHECK(MPI_Comm_get_errhandler(d, &e3));
    CHECK(e3 != MPI_ERRHANDLER_NULL && e3 != MPI_ERRORS_RETURN, "get after frees: %#x",
          (unsigned)e3);
    MPI_CHECK(MPI_Errhandler_free(&e3));
    MPI_CHECK(MPI_Comm_free(&d));
    /* predefined handlers: their fixed handles */
    MPI_CHECK(MPI_Comm_get_errhandler(MPI_COMM_WORLD, &e1));
    CHECK(e1 == MPI_ERRORS_RETURN, "world's errhandler %#x", (unsigned)e1);
    MPI_CHECK(MPI_Errhandler_free(&e1));

    /* window: the same */
    int mem[4];
    MPI_Win win;
    MPI_CHECK(MPI_Win_create(mem, sizeof mem, sizeof(int), MPI_INFO_NULL, MPI_COMM_SELF, &win));
    MPI_CHECK(MPI_Win_create_errhandler(win_fn, &eh));
    MPI_CHECK(MPI_Win_set_errhandler(win, eh));
    MPI_CHECK(MPI_Win_get_errhandler(win, &e1));
    MPI_CHECK(MPI_Win_get_errhandler(win, &e2));
    CHECK(e1 == eh && e2 == eh, "Win_get_errhandler: %#x %#x, set %#x", (unsigned)e1,
          (unsigned)e2, (unsigned)eh);
    MPI_CHECK(MPI_Errhandler_free(&e1));
    MPI_CHECK(MPI_Errhandler_free(&e2));
    MPI_CHECK(MPI_Errhandler_free(&eh));
    MPI_CHECK(MPI_Win_free(&win));

    /* broadcasts of nothing */
    MPI_Request req;
    MPI_CHECK(MPI_Bcast(NULL, 0, MPI_DATATYPE_NULL, 0, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Ibcast(NULL, 0, MPI_DATATYPE_NULL, 0, MPI_COMM_WORLD, &req));
    MPI_CHECK(MPI_Wait(&req, MPI_STATUS_IGNORE));
    CHECK_CLASS(MPI_Bcast(&rank, 1, MPI_DATATYPE_NULL, 0, MPI_COMM_WORLD), MPI_ERR_TYPE);
    /* still in step: a real broadcast */
    int v = ot_rank == 0 ? 42 : 0;
    MPI_CHECK(MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD));
    CHECK(v == 42, "broadcast after the empty ones: %d", v);
    return ot_pass();
}
