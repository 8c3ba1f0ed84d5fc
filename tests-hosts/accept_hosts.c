/* MPI_Comm_accept / MPI_Comm_connect between two jobs on different hosts, for
 * tests-hosts/run.sh (only OxiMPI runs it: Debian's MPICH is built with ch4:ucx, which has
 * no dynamic processes).
 *
 *   accept_hosts server FILE   rank 0 opens a port and writes its name to FILE (then
 *                              FILE.ready), the job accepts on it
 *   accept_hosts client FILE   waits for FILE.ready, first connects with the port's secret
 *                              changed (must fail: MPI_ERR_PORT, the acceptor drops it), then
 *                              with the true name
 *
 * Then both sides: a value and 1 MiB each way between every pair of ranks of the same
 * number, MPI_Intercomm_merge (server low), an MPI_Allreduce over the merged communicator,
 * disconnect. The server's rank 0 prints "PASS accept_hosts", the client's "PASS
 * accept_hosts (client)". */
#include "../tests-c/oxitest.h"
#include <unistd.h>

#define BIG (1 << 20)

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &ot_rank);
    CHECK(argc == 3, "usage: accept_hosts server|client FILE");
    int server = strcmp(argv[1], "server") == 0;
    ot_test_name = server ? "accept_hosts" : "accept_hosts (client)";
    const char *file = argv[2];
    char ready[4096];
    snprintf(ready, sizeof ready, "%s.ready", file);
    char port[MPI_MAX_PORT_NAME] = "";
    MPI_Comm inter;
    if (server) {
        if (ot_rank == 0) {
            MPI_CHECK(MPI_Open_port(MPI_INFO_NULL, port));
            FILE *f = fopen(file, "w");
            CHECK(f != NULL, "cannot write %s", file);
            fprintf(f, "%s\n", port);
            fclose(f);
            fclose(fopen(ready, "w"));
        }
        MPI_CHECK(MPI_Comm_accept(port, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter));
    } else {
        if (ot_rank == 0) {
            for (int i = 0; access(ready, F_OK) != 0; i++) {
                CHECK(i < 600, "no port name in %s after 60 s", file);
                usleep(100000);
            }
            FILE *f = fopen(file, "r");
            CHECK(f != NULL && fgets(port, sizeof port, f), "cannot read %s", file);
            fclose(f);
            port[strcspn(port, "\n")] = 0;
            /* oximpi-port:GPID:SECRET:...: change the secret's first digit. */
            char forged[MPI_MAX_PORT_NAME];
            strcpy(forged, port);
            char *secret = strchr(strchr(forged, ':') + 1, ':') + 1;
            *secret = *secret == '1' ? '2' : '1';
            MPI_Comm bad = MPI_COMM_NULL;
            MPI_Info info;
            MPI_CHECK(MPI_Info_create(&info));
            MPI_CHECK(MPI_Info_set(info, "timeout", "20"));
            MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
            int rc = MPI_Comm_connect(forged, info, 0, MPI_COMM_SELF, &bad);
            int cls = -1;
            MPI_Error_class(rc, &cls);
            CHECK(rc != MPI_SUCCESS && bad == MPI_COMM_NULL,
                  "a connect with a forged secret succeeded");
            CHECK(cls == MPI_ERR_PORT, "a forged connect failed with class %d, want MPI_ERR_PORT",
                  cls);
            printf("forged port refused\n");
            MPI_Info_free(&info);
        }
        MPI_CHECK(MPI_Comm_connect(port, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter));
    }
    int rsize, me;
    MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
    MPI_CHECK(MPI_Comm_rank(inter, &me));
    int n = BIG / sizeof(int), *big = malloc(BIG);
    CHECK(big != NULL, "no memory");
    if (me < rsize) {
        int v = (server ? 100 : 200) + me, got = -1;
        for (int i = 0; i < n; i++)
            big[i] = v * 31 + i;
        MPI_Request r[2];
        MPI_CHECK(MPI_Isend(&v, 1, MPI_INT, me, 1, inter, &r[0]));
        MPI_CHECK(MPI_Isend(big, n, MPI_INT, me, 2, inter, &r[1]));
        int *in = malloc(BIG);
        CHECK(in != NULL, "no memory");
        MPI_CHECK(MPI_Recv(&got, 1, MPI_INT, me, 1, inter, MPI_STATUS_IGNORE));
        int want = (server ? 200 : 100) + me;
        CHECK(got == want, "got %d from the other job, want %d", got, want);
        MPI_CHECK(MPI_Recv(in, n, MPI_INT, me, 2, inter, MPI_STATUS_IGNORE));
        for (int i = 0; i < n; i++)
            CHECK(in[i] == want * 31 + i, "1 MiB message: element %d wrong", i);
        MPI_CHECK(MPI_Waitall(2, r, MPI_STATUSES_IGNORE));
        free(in);
    }
    free(big);
    MPI_Comm merged;
    MPI_CHECK(MPI_Intercomm_merge(inter, server ? 0 : 1, &merged));
    int mrank, msize, sum = 0;
    MPI_CHECK(MPI_Comm_rank(merged, &mrank));
    MPI_CHECK(MPI_Comm_size(merged, &msize));
    MPI_CHECK(MPI_Allreduce(&mrank, &sum, 1, MPI_INT, MPI_SUM, merged));
    CHECK(sum == msize * (msize - 1) / 2, "allreduce over the merged comm gave %d", sum);
    MPI_CHECK(MPI_Comm_free(&merged));
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    if (server && ot_rank == 0)
        MPI_CHECK(MPI_Close_port(port));
    if (ot_rank == 0)
        printf("PASS %s\n", ot_test_name);
    fflush(stdout);
    MPI_Finalize();
    return 0;
}
