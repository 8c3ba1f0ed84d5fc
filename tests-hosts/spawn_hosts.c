/* MPI_Comm_spawn across hosts, for tests-hosts/run.sh (only OxiMPI runs it: Debian's MPICH is
 * built with ch4:ucx, which has no dynamic processes, so there is nothing to compare with).
 *
 *   spawn_hosts HOSTS [INFOHOST [die]]
 *
 * The parents spawn 2 children (themselves, with argument "child") from root 0, with the
 * info key host=INFOHOST when given, else with no info (mpiexec takes the next free slots of
 * its host list). HOSTS is where the children must run ("hostb,hostb"): each child reports
 * its host name to parent 0, which checks it. Over the intercommunicator: an int and a
 * 1 MiB message from every parent to a child and back (both directions, big and small),
 * then MPI_Intercomm_merge (parents low) and an MPI_Allreduce and a 1 MiB MPI_Bcast over
 * the merged communicator, with known results. Parent 0 prints "PASS spawn_hosts".
 * With "die", the children exit with code 5 right after MPI_Init: the job must end with
 * their code and mpiexec's message, as when a rank of the first job fails. */
#include "../tests-c/oxitest.h"
#include <unistd.h>

#define BIG (1 << 20)
#define NCHILD 2

static void fill(int *b, int n, int seed)
{
    for (int i = 0; i < n; i++)
        b[i] = seed * 7919 + i;
}

static void check_fill(const int *b, int n, int seed, const char *what)
{
    for (int i = 0; i < n; i++)
        CHECK(b[i] == seed * 7919 + i, "%s: element %d is %d, want %d", what, i, b[i],
              seed * 7919 + i);
}

/* Traffic, merge and collectives; `parent`: which side we are. Returns the merged size. */
static int exercise(MPI_Comm inter, int parent)
{
    int me, lsize, rsize;
    MPI_CHECK(MPI_Comm_rank(inter, &me));
    MPI_CHECK(MPI_Comm_size(inter, &lsize));
    MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
    int n = BIG / sizeof(int);
    int *big = malloc(BIG);
    CHECK(big != NULL, "no memory");
    if (parent) {
        /* Parent p talks to child p % NCHILD. */
        int c = me % NCHILD, v = 1000 + me, back = -1;
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, c, 1, inter));
        fill(big, n, me);
        MPI_CHECK(MPI_Send(big, n, MPI_INT, c, 2, inter));
        MPI_CHECK(MPI_Recv(&back, 1, MPI_INT, c, 3, inter, MPI_STATUS_IGNORE));
        CHECK(back == 2000 + me, "parent %d: child %d answered %d, want %d", me, c, back,
              2000 + me);
        MPI_CHECK(MPI_Recv(big, n, MPI_INT, c, 4, inter, MPI_STATUS_IGNORE));
        check_fill(big, n, 100 + me, "a child's 1 MiB answer");
    } else {
        for (int p = me; p < rsize; p += NCHILD) {
            int v = -1;
            MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, p, 1, inter, MPI_STATUS_IGNORE));
            CHECK(v == 1000 + p, "child %d: parent %d sent %d", me, p, v);
            MPI_CHECK(MPI_Recv(big, n, MPI_INT, p, 2, inter, MPI_STATUS_IGNORE));
            check_fill(big, n, p, "a parent's 1 MiB message");
            v = 2000 + p;
            MPI_CHECK(MPI_Send(&v, 1, MPI_INT, p, 3, inter));
            fill(big, n, 100 + p);
            MPI_CHECK(MPI_Send(big, n, MPI_INT, p, 4, inter));
        }
    }
    MPI_Comm merged;
    MPI_CHECK(MPI_Intercomm_merge(inter, parent ? 0 : 1, &merged));
    int mrank, msize, sum = 0;
    MPI_CHECK(MPI_Comm_rank(merged, &mrank));
    MPI_CHECK(MPI_Comm_size(merged, &msize));
    CHECK(msize == lsize + rsize, "merged size %d, want %d", msize, lsize + rsize);
    CHECK(mrank == (parent ? me : rsize + me), "merged rank %d, parents must come first", mrank);
    MPI_CHECK(MPI_Allreduce(&mrank, &sum, 1, MPI_INT, MPI_SUM, merged));
    CHECK(sum == msize * (msize - 1) / 2, "allreduce over the merged comm gave %d", sum);
    /* A broadcast rooted at the last child. */
    if (mrank == msize - 1)
        fill(big, n, 42);
    else
        memset(big, 0, BIG);
    MPI_CHECK(MPI_Bcast(big, n, MPI_INT, msize - 1, merged));
    check_fill(big, n, 42, "1 MiB bcast over the merged comm");
    MPI_CHECK(MPI_Comm_free(&merged));
    free(big);
    return msize;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc > 1 && strcmp(argv[1], "die") == 0)
        exit(5);
    MPI_Comm_rank(MPI_COMM_WORLD, &ot_rank);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    MPI_Comm parent;
    MPI_CHECK(MPI_Comm_get_parent(&parent));
    if (parent != MPI_COMM_NULL) {
        ot_test_name = "spawn_hosts (child)";
        MPI_CHECK(MPI_Send(host, sizeof host, MPI_CHAR, 0, 9, parent));
        exercise(parent, 0);
        MPI_CHECK(MPI_Comm_disconnect(&parent));
        MPI_Finalize();
        return 0;
    }
    ot_test_name = "spawn_hosts";
    CHECK(argc >= 2, "usage: spawn_hosts HOSTS [INFOHOST]");
    MPI_Info info = MPI_INFO_NULL;
    if (argc > 2) {
        MPI_CHECK(MPI_Info_create(&info));
        MPI_CHECK(MPI_Info_set(info, "host", argv[2]));
    }
    char *cargv[] = {argc > 3 ? argv[3] : "child", NULL};
    int codes[NCHILD];
    MPI_Comm inter;
    MPI_CHECK(MPI_Comm_spawn(argv[0], cargv, NCHILD, info, 0, MPI_COMM_WORLD, &inter, codes));
    for (int i = 0; i < NCHILD; i++)
        CHECK(codes[i] == MPI_SUCCESS, "error code %d for child %d", codes[i], i);
    if (ot_rank == 0) {
        /* HOSTS: where each child must be, comma-separated. */
        char want[512];
        snprintf(want, sizeof want, "%s", argv[1]);
        char *save = NULL, *w = strtok_r(want, ",", &save);
        for (int c = 0; c < NCHILD; c++) {
            char got[256];
            MPI_CHECK(MPI_Recv(got, sizeof got, MPI_CHAR, c, 9, inter, MPI_STATUS_IGNORE));
            CHECK(w != NULL, "HOSTS names fewer than %d hosts", NCHILD);
            CHECK(strcmp(got, w) == 0, "child %d runs on %s, want %s", c, got, w);
            printf("child %d on %s (parent 0 on %s)\n", c, got, host);
            w = strtok_r(NULL, ",", &save);
        }
    }
    exercise(inter, 1);
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    if (info != MPI_INFO_NULL)
        MPI_Info_free(&info);
    if (ot_rank == 0)
        printf("PASS spawn_hosts\n");
    fflush(stdout);
    MPI_Finalize();
    return 0;
}
