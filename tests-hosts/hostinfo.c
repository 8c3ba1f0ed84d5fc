/* A launcher-level test program for tests-hosts/run.sh: it uses only what works without
 * traffic between hosts (MPI_Init, MPI_Comm_rank/size, MPI_Finalize, MPI_Abort), so it
 * checks mpiexec across hosts before (and independently of) the TCP transport.
 *
 *   hostinfo info          print "rank R of N on HOST pid P" and finalize
 *   hostinfo exit R C      as info, then rank R exits with code C
 *   hostinfo abort R C     rank R calls MPI_Abort(C); the others wait to be killed
 *   hostinfo killself R    rank R kills itself with SIGKILL after MPI_Init
 *   hostinfo sleep         print "ready R pid P", then sleep (to be killed)
 *   hostinfo nap S         as info after S seconds without a word to the launcher
 *   hostinfo env NAME      print "env R NAME=VALUE" (or "env R NAME unset")
 */
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "info";
    int a = argc > 2 ? atoi(argv[2]) : 0;
    int b = argc > 3 ? atoi(argv[3]) : 0;
    int rank, size;
    char host[256] = "";
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    gethostname(host, sizeof host - 1);
    if (strcmp(mode, "sleep") == 0) {
        printf("ready %d pid %d\n", rank, (int)getpid());
        fflush(stdout);
        for (int i = 0; i < 600; i++)
            sleep(1);
        return 1;
    }
    if (strcmp(mode, "nap") == 0)
        sleep((unsigned)a);
    if (strcmp(mode, "abort") == 0) {
        if (rank == a)
            MPI_Abort(MPI_COMM_WORLD, b);
        for (int i = 0; i < 600; i++)
            sleep(1);
        return 1;
    }
    if (strcmp(mode, "killself") == 0) {
        if (rank == a)
            raise(SIGKILL);
        for (int i = 0; i < 600; i++)
            sleep(1);
        return 1;
    }
    if (strcmp(mode, "env") == 0) {
        const char *v = argc > 2 ? getenv(argv[2]) : NULL;
        if (v)
            printf("env %d %s=%s\n", rank, argv[2], v);
        else
            printf("env %d %s unset\n", rank, argc > 2 ? argv[2] : "?");
    } else {
        printf("rank %d of %d on %s pid %d\n", rank, size, host, (int)getpid());
    }
    fflush(stdout);
    MPI_Finalize();
    if (strcmp(mode, "exit") == 0 && rank == a)
        return b;
    return 0;
}
