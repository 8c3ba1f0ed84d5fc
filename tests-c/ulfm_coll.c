/* Collectives after a failure, under mpiexec -disable-auto-cleanup (see ulfm_run.sh): the
 * last rank exits before any collective. On the world communicator the survivors'
 * collectives end - never hang - with MPIX_ERR_PROC_FAILED when they need the dead rank
 * (barrier, allreduce), and with that error or success (with the right data) when their part
 * does not (a bcast whose tree path misses it: ULFM lets the outcome differ between ranks).
 * Then they revoke and shrink it, and the same collectives on the shrunk communicator give
 * the right values.
 * Blocking collectives with messages above coll::shm's slot (16 KiB) and nonblocking ones
 * run as schedules over point-to-point; ULFM_COLL_SMALL (ulfm_coll_small.c) adds more
 * blocking ones on the world communicator, and those with small messages, which take the
 * shared-memory path outside fault-tolerant runs (they need abi::coll to skip it and to
 * check for failed members at the call). */
#include "oxitest.h"
#include <unistd.h>

#ifndef ULFM_COLL_NAME
#define ULFM_COLL_NAME "ulfm_coll"
#endif
#define VICTIM_CODE 3
#define BIG (8 * 1024) /* ints: 32 KiB */

static int cls_of(int rc)
{
    int c = -1;
    MPI_Error_class(rc, &c);
    return c;
}

static int *buf, *out;

/* The outcome of a nonblocking collective: the error of the call (a communicator with a
 * known failed member refuses it at once), else that of its MPI_Wait. */
static int completed(int rc, MPI_Request *r)
{
    return rc != MPI_SUCCESS ? rc : MPI_Wait(r, MPI_STATUS_IGNORE);
}

/* Fills buf with the pattern of `who` (count n). */
static void fill(int who, int n)
{
    for (int i = 0; i < n; i++)
        buf[i] = who * 1000 + i;
}

static const char *text_of(int rc)
{
    static char s[MPI_MAX_ERROR_STRING];
    int n = 0;
    MPI_Error_string(rc, s, &n);
    return s;
}

/* Checks the return class of a collective that needs the dead rank. */
#define NEEDS_DEAD(what, rc)                                                                  \
    CHECK(cls_of(rc) == MPIX_ERR_PROC_FAILED, "%s on the world with a dead rank: class %d (%s)", \
          what, cls_of(rc), text_of(rc))

/* A bcast from 0: error, or success with rank 0's data. */
static void bcast_world(MPI_Comm world, int n, int nonblocking)
{
    int rank;
    MPI_Comm_rank(world, &rank);
    fill(rank == 0 ? 0 : 7, n);
    int rc;
    if (nonblocking) {
        MPI_Request r;
        rc = completed(MPI_Ibcast(buf, n, MPI_INT, 0, world, &r), &r);
    } else {
        rc = MPI_Bcast(buf, n, MPI_INT, 0, world);
    }
    CHECK(rc == MPI_SUCCESS || cls_of(rc) == MPIX_ERR_PROC_FAILED,
          "bcast (%d ints, %s) on the world: class %d", n, nonblocking ? "nonblocking" : "blocking",
          cls_of(rc));
    if (rc == MPI_SUCCESS)
        for (int i = 0; i < n; i++)
            CHECK(buf[i] == i, "bcast succeeded with wrong data at %d: %d", i, buf[i]);
}

/* The collectives on a communicator without failures: right values. */
static void works(MPI_Comm c, int n)
{
    int rank, size;
    MPI_CHECK(MPI_Comm_rank(c, &rank));
    MPI_CHECK(MPI_Comm_size(c, &size));
    MPI_CHECK(MPI_Barrier(c));
    fill(rank == 0 ? 0 : 9, n);
    MPI_CHECK(MPI_Bcast(buf, n, MPI_INT, 0, c));
    for (int i = 0; i < n; i++)
        CHECK(buf[i] == i, "bcast on the shrunk comm at %d: %d", i, buf[i]);
    for (int i = 0; i < n; i++)
        buf[i] = rank + 1;
    MPI_CHECK(MPI_Allreduce(buf, out, n, MPI_INT, MPI_SUM, c));
    for (int i = 0; i < n; i++)
        CHECK(out[i] == size * (size + 1) / 2, "allreduce on the shrunk comm at %d: %d", i, out[i]);
    MPI_Request r;
    MPI_CHECK(MPI_Iallreduce(buf, out, n, MPI_INT, MPI_SUM, c, &r));
    MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    CHECK(out[0] == size * (size + 1) / 2, "iallreduce on the shrunk comm: %d", out[0]);
}

int main(int argc, char **argv)
{
    ot_init(ULFM_COLL_NAME, &argc, &argv);
    MPI_Comm world;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &world));
    MPI_CHECK(MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN));
    /* A nonblocking collective's error in MPI_Wait goes to MPI_COMM_WORLD's handler today
     * (the request does not name its communicator): it must return too. */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    CHECK(ot_size >= 2, "needs 2 ranks");
    int victim = ot_size - 1, rc;
    buf = malloc(BIG * sizeof(int));
    out = malloc(BIG * sizeof(int));
    CHECK(buf && out, "out of memory");
    if (ot_rank == victim)
        _exit(VICTIM_CODE);

    /* Nonblocking: schedules, whatever the size. */
    MPI_Request r;
    rc = completed(MPI_Ibarrier(world, &r), &r);
    NEEDS_DEAD("ibarrier", rc);
    for (int i = 0; i < 4; i++)
        buf[i] = 1;
    rc = completed(MPI_Iallreduce(buf, out, 4, MPI_INT, MPI_SUM, world, &r), &r);
    NEEDS_DEAD("iallreduce", rc);
    bcast_world(world, 4, 1);
    /* Blocking, above the shared-memory slot. */
    for (int i = 0; i < BIG; i++)
        buf[i] = 1;
    rc = MPI_Allreduce(buf, out, BIG, MPI_INT, MPI_SUM, world);
    NEEDS_DEAD("allreduce (32 KiB)", rc);
#ifdef ULFM_COLL_SMALL
    /* Blocking collectives share one tag: a later one could match what an earlier one that
     * failed half-way left behind, unless a communicator with a known failed member
     * refuses collectives at the call (ft::members::check_collective, called by
     * abi::coll). */
    bcast_world(world, BIG, 0);
    /* Blocking, small: the shared-memory path, unless the run is fault tolerant. */
    rc = MPI_Barrier(world);
    NEEDS_DEAD("barrier", rc);
    rc = MPI_Allreduce(buf, out, 4, MPI_INT, MPI_SUM, world);
    NEEDS_DEAD("allreduce (4 ints)", rc);
    bcast_world(world, 4, 0);
#endif

    /* Recovery: revoke, shrink, and the survivors' communicator works. The revoke waits
     * until every survivor is done with the checks above (point-to-point among the
     * survivors), else their pending collectives may end with MPIX_ERR_REVOKED instead. */
    int token = 0;
    if (ot_rank == 0) {
        for (int p = 1; p < victim; p++)
            MPI_CHECK(MPI_Recv(&token, 1, MPI_INT, p, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        for (int p = 1; p < victim; p++)
            MPI_CHECK(MPI_Send(&token, 1, MPI_INT, p, 6, MPI_COMM_WORLD));
    } else {
        MPI_CHECK(MPI_Send(&token, 1, MPI_INT, 0, 5, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Recv(&token, 1, MPI_INT, 0, 6, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    }
    MPI_CHECK(MPIX_Comm_revoke(world));
    MPI_Comm small;
    MPI_CHECK(MPIX_Comm_shrink(world, &small));
    int ss = -1;
    MPI_CHECK(MPI_Comm_size(small, &ss));
    CHECK(ss == ot_size - 1, "shrunk comm of %d ranks", ss);
    works(small, 4);
    works(small, BIG);

    MPI_CHECK(MPI_Barrier(small));
    if (ot_rank == 0) {
        printf("PASS %s\n", ULFM_COLL_NAME);
        fflush(stdout);
    }
    MPI_Comm_free(&small);
    MPI_Finalize();
    return 0;
}
