/* Creating communicators until the context ids run out fails cleanly: under
 * MPI_ERRORS_RETURN the creation returns an error (MPI_ERR_OTHER, as MPICH's "Too many
 * communicators") on every member, the program goes on, frees what it made and can create
 * again. Checked for Comm_dup, Comm_split, Intercomm_create and Comm_idup (whose request
 * completes with the error), the four agreement paths. */
#include "oxitest.h"

#define MAX_COMMS 100000

static MPI_Comm comms[MAX_COMMS];

/* Makes communicators with `make` until it fails; checks the failure, frees them all and
 * returns how many were made. */
static int exhaust(const char *what, int (*make)(MPI_Comm *), void (*at_limit)(void))
{
    int made = 0, rc = MPI_SUCCESS;
    while (made < MAX_COMMS) {
        rc = make(&comms[made]);
        if (rc != MPI_SUCCESS)
            break;
        made++;
    }
    CHECK(made < MAX_COMMS, "%s: %d communicators and no failure", what, made);
    CHECK(made >= 64, "%s: failed after only %d communicators", what, made);
    int cls;
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_OTHER, "%s: failure of class %d, expected MPI_ERR_OTHER", what, cls);
    /* every member failed at the same point */
    int lo = 0, hi = 0;
    MPI_CHECK(MPI_Allreduce(&made, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Allreduce(&made, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
    CHECK(lo == hi, "%s: members failed after %d and %d communicators", what, lo, hi);
    if (at_limit)
        at_limit();
    for (int i = 0; i < made; i++)
        MPI_CHECK(MPI_Comm_free(&comms[i]));
    return made;
}

static int make_dup(MPI_Comm *c) { return MPI_Comm_dup(MPI_COMM_WORLD, c); }
static int make_split(MPI_Comm *c) { return MPI_Comm_split(MPI_COMM_WORLD, 0, ot_rank, c); }
/* At the limit, MPI_Comm_idup starts but its request completes with MPI_ERR_OTHER. */
static void idup_at_limit(void)
{
    MPI_Comm c = MPI_COMM_NULL;
    MPI_Request rq = MPI_REQUEST_NULL;
    int cls;
    MPI_CHECK(MPI_Comm_idup(MPI_COMM_WORLD, &c, &rq));
    int rc = MPI_Wait(&rq, MPI_STATUS_IGNORE);
    CHECK(rc != MPI_SUCCESS, "Comm_idup at the limit succeeded");
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_OTHER, "Comm_idup at the limit: class %d, expected MPI_ERR_OTHER", cls);
}

static MPI_Comm half;
static int make_inter(MPI_Comm *c)
{
    return MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, ot_rank % 2 ? 0 : 1, 21, c);
}

int main(int argc, char **argv)
{
    ot_init("comm_too_many", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int a = exhaust("Comm_dup", make_dup, idup_at_limit);
    /* room again after freeing: the same number once more */
    int b = exhaust("Comm_dup again", make_dup, NULL);
    CHECK(a == b, "Comm_dup made %d, then %d after freeing", a, b);
    exhaust("Comm_split", make_split, NULL);
    if (ot_size >= 2) {
        MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, ot_rank % 2, ot_rank, &half));
        exhaust("Intercomm_create", make_inter, NULL);
        MPI_CHECK(MPI_Comm_free(&half));
    }
    MPI_Comm c;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &c));
    MPI_CHECK(MPI_Barrier(c));
    MPI_CHECK(MPI_Comm_free(&c));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    return ot_pass();
}
