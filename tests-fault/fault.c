/* The program the fault-injection driver (tests-fault/run.sh) starts: each mode puts the
 * job in the state where the driver injects its fault, and records the pids of the job's
 * processes in $FAULT_DIR/pid.<tag> so the driver can check that every one of them is gone.
 *
 *   coll          every rank loops in MPI_Allreduce            (driver: kill -9 one rank)
 *   recv          every rank blocks in MPI_Recv                 (driver: kill -9 one rank)
 *   init          rank 1 waits before MPI_Init, the others are inside it (kill -9 rank 1)
 *   spawn         the parents spawn 2 children; all loop in a barrier over the intercomm
 *                 merge                                         (driver: kill -9 a child)
 *   spawnwait     the parents spawn a child that waits before MPI_Init, so the parents are
 *                 inside MPI_Comm_spawn                         (driver: kill -9 the child)
 *   abort_thread  a second thread calls MPI_Abort(7) while main waits in MPI_Recv
 *   sleep         every rank sleeps in MPI_Recv                 (driver: signals mpiexec)
 *   fds           a rank starts a program (fork+exec, and system()) that lists its fds:
 *                 only 0, 1 and 2 may be open                   (exit code = extra fds)
 *   pingpong N    ranks 0 and 1 exchange N messages (N = 0: until $FAULT_DIR/stop
 *                 exists) and check them; rank 0 opens a port first so its socket
 *                 listener runs (the hostile-peer target); prints the rate
 *   listfds       (internal) print the open fds other than 0-2; exit with their count
 */
#include <mpi.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static void note_pid(const char *tag, int rank)
{
    const char *dir = getenv("FAULT_DIR");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/pid.%s.%d.%d", dir, tag, rank, (int)getpid());
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
}

/* Marks that the job reached the state the driver waits for. */
static void ready(const char *tag, int rank)
{
    const char *dir = getenv("FAULT_DIR");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/ready.%s.%d", dir, tag, rank);
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

static int list_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        perror("opendir");
        return 100;
    }
    int extra = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd <= 2 || fd == dirfd(d))
            continue;
        char link[256] = "", path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0)
            link[n] = 0;
        printf("inherited fd %d -> %s\n", fd, link);
        extra++;
    }
    closedir(d);
    return extra;
}

static void *abort_later(void *arg)
{
    (void)arg;
    usleep(200 * 1000);
    MPI_Abort(MPI_COMM_WORLD, 7);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "listfds"))
        return list_fds();
    int rank, size, provided;
    if (!strcmp(mode, "init")) {
        const char *r = getenv("PMI_RANK");
        if (r && atoi(r) == 1) {
            note_pid("init", 1);
            ready("init", 1);
            sleep(600); /* the driver kills us here */
        }
    }
    if (!strcmp(mode, "spawnee")) {
        note_pid("spawnwait", 100);
        ready("spawnwait", 100);
        sleep(600); /* the driver kills us here, while our parents wait in MPI_Comm_spawn */
    }
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm parent;
    MPI_Comm_get_parent(&parent);
    note_pid(mode, parent == MPI_COMM_NULL ? rank : 100 + rank);

    if (!strcmp(mode, "coll")) {
        ready("coll", rank);
        for (long i = 0;; i++) {
            long in = i, out;
            MPI_Allreduce(&in, &out, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        }
    } else if (!strcmp(mode, "recv") || !strcmp(mode, "sleep")) {
        ready(mode, rank);
        int x;
        MPI_Recv(&x, 1, MPI_INT, MPI_ANY_SOURCE, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (!strcmp(mode, "spawn")) {
        MPI_Comm inter, all;
        if (parent == MPI_COMM_NULL) {
            MPI_Comm_spawn(argv[0], argv + 1, 2, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter,
                           MPI_ERRCODES_IGNORE);
            MPI_Intercomm_merge(inter, 0, &all);
        } else {
            MPI_Intercomm_merge(parent, 1, &all);
            ready("spawn", 100 + rank);
        }
        for (;;)
            MPI_Barrier(all);
    } else if (!strcmp(mode, "spawnwait")) {
        char *args[] = {"spawnee", NULL};
        MPI_Comm inter;
        ready("spawnwait", rank);
        MPI_Comm_spawn(argv[0], args, 1, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter,
                       MPI_ERRCODES_IGNORE);
    } else if (!strcmp(mode, "abort_thread")) {
        pthread_t t;
        if (rank == 0)
            pthread_create(&t, NULL, abort_later, NULL);
        int x;
        MPI_Recv(&x, 1, MPI_INT, MPI_ANY_SOURCE, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (!strcmp(mode, "fds")) {
        /* A port and a window make the library open what it opens lazily too. */
        char port[MPI_MAX_PORT_NAME];
        MPI_Open_port(MPI_INFO_NULL, port);
        MPI_Win win;
        int *base;
        MPI_Win_allocate_shared(64, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win);
        int bad = 0;
        if (rank == 0) {
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) {
                execl(argv[0], argv[0], "listfds", (char *)NULL);
                _exit(100);
            }
            int st;
            waitpid(pid, &st, 0);
            int n = WIFEXITED(st) ? WEXITSTATUS(st) : 100;
            char cmd[4200];
            snprintf(cmd, sizeof cmd, "'%s' listfds", argv[0]);
            int s2 = system(cmd);
            int n2 = WIFEXITED(s2) ? WEXITSTATUS(s2) : 100;
            printf("fork+exec: %d extra fds, system(): %d extra fds\n", n, n2);
            bad = n + n2;
        }
        MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
        MPI_Win_free(&win);
        MPI_Close_port(port);
        MPI_Finalize();
        return bad ? 1 : 0;
    } else if (!strcmp(mode, "pingpong")) {
        long n = argc > 2 ? atol(argv[2]) : 10000;
        char port[MPI_MAX_PORT_NAME];
        if (rank == 0)
            MPI_Open_port(MPI_INFO_NULL, port);
        MPI_Barrier(MPI_COMM_WORLD);
        ready("pingpong", rank);
        struct timeval t0, t1;
        gettimeofday(&t0, NULL);
        long errors = 0, i;
        /* n == 0: until the driver creates $FAULT_DIR/stop (rank 0 looks every 256 round
         * trips and tells rank 1 with the value -1). */
        char stop[4096];
        snprintf(stop, sizeof stop, "%s/stop", getenv("FAULT_DIR") ? getenv("FAULT_DIR") : ".");
        for (i = 0; (n == 0 || i < n) && size > 1; i++) {
            long v = i;
            if (rank == 0) {
                if (n == 0 && i % 256 == 255 && access(stop, F_OK) == 0)
                    v = -1;
                MPI_Send(&v, 1, MPI_LONG, 1, 1, MPI_COMM_WORLD);
                long sent = v;
                MPI_Recv(&v, 1, MPI_LONG, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                errors += v != (sent < 0 ? sent : i + 1);
                if (sent < 0)
                    break;
            } else if (rank == 1) {
                MPI_Recv(&v, 1, MPI_LONG, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                if (v >= 0)
                    v++;
                MPI_Send(&v, 1, MPI_LONG, 0, 1, MPI_COMM_WORLD);
                if (v < 0)
                    break;
            }
        }
        n = i;
        gettimeofday(&t1, NULL);
        double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
        if (rank == 0) {
            printf("pingpong: %ld round trips in %.2f s (%.0f/s), %ld errors\n", n, s, n / s,
                   errors);
            MPI_Close_port(port);
        }
        MPI_Finalize();
        return errors ? 1 : 0;
    }
    MPI_Finalize();
    return 2;
}
