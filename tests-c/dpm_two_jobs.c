/* Connect/accept between two separately started jobs through the name service (MPI 4.1
 * section 11.4). Driven by tests-c/dpm_two_jobs.sh, which starts two mpiexec runs at once:
 *   dpm_two_jobs server SERVICE   opens a port, publishes it as SERVICE, accepts
 *   dpm_two_jobs client SERVICE   looks SERVICE up (retrying until the server has published
 *                                 it, for at most LOOKUP_SECONDS), connects
 * Then, over the intercommunicator: remote size = the other job's size (both jobs have the
 * same size), values both ways between the rank 0s, an Allreduce (each job gets the other's
 * sum of ranks + its tag), Intercomm_merge (server low) with a known Allreduce. The server
 * unpublishes and closes the port; both disconnect. Each job's rank 0 prints "server ok" /
 * "client ok"; the script prints "PASS dpm_two_jobs" when both jobs succeed. */
#include "oxitest.h"

#include <time.h>
#include <unistd.h>

#define LOOKUP_SECONDS 40
#define SERVER_TAG 1000
#define CLIENT_TAG 2000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Rank 0 looks the service up until it is published (the server job may start later). */
static void lookup_retrying(const char *service, char *port)
{
    double deadline = now() + LOOKUP_SECONDS;
    for (;;) {
        int rc = MPI_Lookup_name(service, MPI_INFO_NULL, port);
        if (rc == MPI_SUCCESS) {
            /* MPICH 4.0.2 with hydra_nameserver "finds" unknown names as "" (a bug): say so. */
            CHECK(port[0] != 0, "MPI_Lookup_name('%s') succeeded with an empty port name",
                  service);
            return;
        }
        int cls = -1;
        MPI_CHECK(MPI_Error_class(rc, &cls));
        CHECK(cls == MPI_ERR_NAME, "MPI_Lookup_name('%s') failed with class %d, not MPI_ERR_NAME",
              service, cls);
        CHECK(now() < deadline, "'%s' not published after %d s", service, LOOKUP_SECONDS);
        usleep(100 * 1000);
    }
}

int main(int argc, char **argv)
{
    ot_init("dpm_two_jobs", &argc, &argv);
    CHECK(argc == 3 && (strcmp(argv[1], "server") == 0 || strcmp(argv[1], "client") == 0),
          "usage: dpm_two_jobs server|client SERVICE (run by tests-c/dpm_two_jobs.sh)");
    int server = strcmp(argv[1], "server") == 0;
    const char *service = argv[2];
    ot_test_name = server ? "dpm_two_jobs[server]" : "dpm_two_jobs[client]";
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    int me = ot_rank, n = ot_size;

    char port[MPI_MAX_PORT_NAME] = "";
    MPI_Comm inter = MPI_COMM_NULL;
    if (server) {
        if (me == 0) {
            MPI_CHECK(MPI_Open_port(MPI_INFO_NULL, port));
            MPI_CHECK(MPI_Publish_name(service, MPI_INFO_NULL, port));
        }
        MPI_CHECK(MPI_Comm_accept(port, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter));
    } else {
        if (me == 0)
            lookup_retrying(service, port);
        MPI_CHECK(MPI_Comm_connect(port, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter));
    }

    int rsize = -1, rank = -1;
    MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
    MPI_CHECK(MPI_Comm_rank(inter, &rank));
    CHECK(rsize == n, "remote size %d, expected %d (both jobs have the same size)", rsize, n);
    CHECK(rank == me, "intercommunicator rank %d, world rank %d", rank, me);

    int tag = server ? SERVER_TAG : CLIENT_TAG, other = server ? CLIENT_TAG : SERVER_TAG;
    if (me == 0) {
        int out = tag + 7, in = -1;
        MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, 0, 5, &in, 1, MPI_INT, 0, 5, inter,
                               MPI_STATUS_IGNORE));
        CHECK(in == other + 7, "rank 0 got %d from the other job, expected %d", in, other + 7);
    }
    int mine = tag + me, sum = -1, want = n * other + n * (n - 1) / 2;
    MPI_CHECK(MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, inter));
    CHECK(sum == want, "inter Allreduce %d, expected %d", sum, want);

    MPI_Comm merged;
    MPI_CHECK(MPI_Intercomm_merge(inter, server ? 0 : 1, &merged));
    int msize = -1, mrank = -1, total = -1;
    MPI_CHECK(MPI_Comm_size(merged, &msize));
    MPI_CHECK(MPI_Comm_rank(merged, &mrank));
    CHECK(msize == 2 * n && mrank == (server ? me : n + me), "merged size %d rank %d", msize,
          mrank);
    MPI_CHECK(MPI_Allreduce(&mrank, &total, 1, MPI_INT, MPI_SUM, merged));
    CHECK(total == 2 * n * (2 * n - 1) / 2, "merged Allreduce %d", total);
    MPI_CHECK(MPI_Comm_free(&merged));

    if (server && me == 0) {
        MPI_CHECK(MPI_Unpublish_name(service, MPI_INFO_NULL, port));
        MPI_CHECK(MPI_Close_port(port));
    }
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    if (me == 0) {
        printf("%s ok\n", server ? "server" : "client");
        fflush(stdout);
    }
    ot_sync(MPI_COMM_WORLD);
    MPI_CHECK(MPI_Finalize());
    return 0;
}
