/* Errhandlers of the intercommunicators dynamic processes make (issue 11 class 2):
 *   - MPI_Comm_spawn, MPI_Comm_spawn_multiple, MPI_Comm_accept and MPI_Comm_connect: the new
 *     communicator inherits the errhandler of their `comm` argument;
 *   - MPI_Comm_join and the children's MPI_COMM_PARENT: MPICH makes them without an
 *     errhandler of their own, so their errors go to MPI_COMM_WORLD's; they carry
 *     MPI_COMM_WORLD's errhandler. MPI_COMM_PARENT is also named "MPI_COMM_PARENT", and
 *     MPI_Comm_join's own errors go to MPI_COMM_WORLD's errhandler as in MPICH.
 * Each is checked with MPI_Comm_get_errhandler and with a real error (a send to a rank that
 * does not exist must come back as MPI_ERR_RANK, not end the job).
 *
 * World ranks 0 and 1 (the test runs at 2). MPI_COMM_WORLD keeps MPI_ERRORS_ARE_FATAL until
 * the join part, so a communicator that wrongly took MPI_COMM_WORLD's errhandler would end
 * the job at the first bad send. */
#include "oxitest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static void self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    CHECK(n > 0, "readlink(/proc/self/exe) failed");
    buf[n] = 0;
}

/* `c` has errhandler `expected` and returns MPI_ERR_RANK for a send to a missing rank. */
static void check_returns(MPI_Comm c, MPI_Errhandler expected, const char *what)
{
    MPI_Errhandler e = MPI_ERRHANDLER_NULL;
    MPI_CHECK(MPI_Comm_get_errhandler(c, &e));
    CHECK(e == expected, "%s: errhandler %#x, expected %#x", what, (unsigned)e,
          (unsigned)expected);
    if (e != MPI_ERRORS_RETURN && e != MPI_ERRORS_ARE_FATAL && e != MPI_ERRORS_ABORT)
        MPI_CHECK(MPI_Errhandler_free(&e));
    int v = 1;
    CHECK_CLASS(MPI_Send(&v, 1, MPI_INT, 1000, 0, c), MPI_ERR_RANK);
}

/* The children are started with the argument "child" (they must set MPI_COMM_WORLD's
 * errhandler before they first ask for their parent). */
static int child(void)
{
    ot_test_name = "dpm_errhandler[child]";
    /* MPI_COMM_PARENT takes MPI_COMM_WORLD's errhandler when it is first asked for. */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_Comm parent;
    MPI_CHECK(MPI_Comm_get_parent(&parent));
    CHECK(parent != MPI_COMM_NULL, "a spawned child has no parent");
    char name[MPI_MAX_OBJECT_NAME];
    int len = 0;
    MPI_CHECK(MPI_Comm_get_name(parent, name, &len));
    CHECK(strcmp(name, "MPI_COMM_PARENT") == 0, "parent communicator named '%s'", name);
    check_returns(parent, MPI_ERRORS_RETURN, "MPI_COMM_PARENT");
    MPI_CHECK(MPI_Comm_disconnect(&parent));
    MPI_CHECK(MPI_Finalize());
    return 0;
}

int main(int argc, char **argv)
{
    MPI_CHECK(MPI_Init(&argc, &argv));
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child();
    ot_setup("dpm_errhandler");
    CHECK(ot_size == 2, "runs at 2 ranks");

    /* spawn and spawn_multiple from a communicator with MPI_ERRORS_RETURN */
    MPI_Comm dup, inter;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
    MPI_CHECK(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN));
    char exe[4096];
    self_path(exe, sizeof exe);
    char *args[] = {"child", NULL};
    MPI_CHECK(MPI_Comm_spawn(exe, args, 1, MPI_INFO_NULL, 0, dup, &inter, MPI_ERRCODES_IGNORE));
    check_returns(inter, MPI_ERRORS_RETURN, "MPI_Comm_spawn's intercommunicator");
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    char *cmds[1] = {exe};
    int np[1] = {1};
    MPI_Info infos[1] = {MPI_INFO_NULL};
    char **argvs[1] = {args};
    MPI_CHECK(MPI_Comm_spawn_multiple(1, cmds, argvs, np, infos, 0, dup, &inter,
                                      MPI_ERRCODES_IGNORE));
    check_returns(inter, MPI_ERRORS_RETURN, "MPI_Comm_spawn_multiple's intercommunicator");
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    MPI_CHECK(MPI_Comm_free(&dup));

    /* accept/connect: each side's own comm (a dup of MPI_COMM_SELF) with MPI_ERRORS_RETURN. */
    MPI_Comm self;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_SELF, &self));
    char port[MPI_MAX_PORT_NAME];
    if (ot_rank == 0) {
        MPI_CHECK(MPI_Comm_set_errhandler(self, MPI_ERRORS_RETURN));
        MPI_CHECK(MPI_Open_port(MPI_INFO_NULL, port));
        MPI_CHECK(MPI_Send(port, MPI_MAX_PORT_NAME, MPI_CHAR, 1, 1, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Comm_accept(port, MPI_INFO_NULL, 0, self, &inter));
        check_returns(inter, MPI_ERRORS_RETURN, "MPI_Comm_accept's intercommunicator");
        MPI_CHECK(MPI_Close_port(port));
    } else {
        MPI_CHECK(MPI_Comm_set_errhandler(self, MPI_ERRORS_RETURN));
        MPI_CHECK(MPI_Recv(port, MPI_MAX_PORT_NAME, MPI_CHAR, 0, 1, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Comm_connect(port, MPI_INFO_NULL, 0, self, &inter));
        check_returns(inter, MPI_ERRORS_RETURN, "MPI_Comm_connect's intercommunicator");
    }
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    MPI_CHECK(MPI_Comm_free(&self));

    /* join: MPI_COMM_WORLD's errhandler (MPI_COMM_SELF's stays fatal). */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int fd, lfd = -1, tcp = -1;
    if (ot_rank == 0) {
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        lfd = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 &&
                  listen(lfd, 1) == 0,
              "listen: %s", strerror(errno));
        socklen_t len = sizeof a;
        CHECK(getsockname(lfd, (struct sockaddr *)&a, &len) == 0, "getsockname");
        tcp = ntohs(a.sin_port);
        MPI_CHECK(MPI_Send(&tcp, 1, MPI_INT, 1, 2, MPI_COMM_WORLD));
        fd = accept(lfd, NULL, NULL);
        CHECK(fd >= 0, "accept: %s", strerror(errno));
    } else {
        MPI_CHECK(MPI_Recv(&tcp, 1, MPI_INT, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((unsigned short)tcp);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s",
              strerror(errno));
    }
    MPI_CHECK(MPI_Comm_join(fd, &inter));
    check_returns(inter, MPI_ERRORS_RETURN, "MPI_Comm_join's intercommunicator");
    /* MPI_Comm_join's own errors go to MPI_COMM_WORLD's errhandler too (MPI_COMM_SELF's
     * is still fatal): a descriptor that is no socket must come back as an error code. */
    MPI_Comm none = MPI_COMM_NULL;
    CHECK(MPI_Comm_join(-1, &none) != MPI_SUCCESS, "MPI_Comm_join(-1) succeeded");
    CHECK(none == MPI_COMM_NULL, "a failed MPI_Comm_join set the intercommunicator");
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    close(fd);
    if (lfd >= 0)
        close(lfd);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    return ot_pass();
}
