/* MPI_Comm_join (MPI 4.1 section 11.8): two processes joined through a TCP socket they
 * connected themselves. World rank 0 listens on 127.0.0.1 (port chosen by the kernel) and
 * sends the port number to rank 1 with MPI_Send; rank 1 connects; both call MPI_Comm_join on
 * their end of the connection. Over the resulting intercommunicator (1 process each side):
 * values both ways, an Allreduce, Intercomm_merge (rank 0 low) with a known Allreduce; then
 * Comm_disconnect and the sockets are closed. Ranks beyond 1 only take part in the final
 * synchronisation. */
#include "oxitest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_local(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0, "bind: %s", strerror(errno));
    CHECK(listen(s, 1) == 0, "listen: %s", strerror(errno));
    socklen_t len = sizeof a;
    CHECK(getsockname(s, (struct sockaddr *)&a, &len) == 0, "getsockname: %s", strerror(errno));
    *port = ntohs(a.sin_port);
    return s;
}

static int connect_local(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == 0, "connect to port %d: %s", port,
          strerror(errno));
    return s;
}

int main(int argc, char **argv)
{
    ot_init("dpm_join", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    int me = ot_rank;
    if (me <= 1) {
        int fd, lfd = -1, port = -1;
        if (me == 0) {
            lfd = listen_local(&port);
            MPI_CHECK(MPI_Send(&port, 1, MPI_INT, 1, 1, MPI_COMM_WORLD));
            fd = accept(lfd, NULL, NULL);
            CHECK(fd >= 0, "accept: %s", strerror(errno));
        } else {
            MPI_CHECK(MPI_Recv(&port, 1, MPI_INT, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            fd = connect_local(port);
        }

        MPI_Comm inter = MPI_COMM_NULL;
        MPI_CHECK(MPI_Comm_join(fd, &inter));
        CHECK(inter != MPI_COMM_NULL, "MPI_Comm_join returned MPI_COMM_NULL");
        int flag, size, rank, rsize;
        MPI_CHECK(MPI_Comm_test_inter(inter, &flag));
        CHECK(flag, "MPI_Comm_join did not return an intercommunicator");
        MPI_CHECK(MPI_Comm_size(inter, &size));
        MPI_CHECK(MPI_Comm_rank(inter, &rank));
        MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
        CHECK(size == 1 && rank == 0 && rsize == 1, "join sizes: local %d rank %d remote %d",
              size, rank, rsize);

        int out = 500 + me, in = -1;
        MPI_Status st;
        MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, 0, 3, &in, 1, MPI_INT, 0, 3, inter, &st));
        CHECK(in == 500 + (1 - me), "joined peer sent %d, expected %d", in, 500 + (1 - me));
        CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 3, "status source %d tag %d", st.MPI_SOURCE,
              st.MPI_TAG);
        /* A larger message too (above typical eager limits): 1 MiB each way. */
        size_t n = 1 << 20;
        unsigned char *sb = ot_malloc(n), *rb = ot_malloc(n);
        ot_fill(sb, n, 10 + me);
        memset(rb, 0, n);
        MPI_CHECK(MPI_Sendrecv(sb, (int)n, MPI_BYTE, 0, 4, rb, (int)n, MPI_BYTE, 0, 4, inter,
                               MPI_STATUS_IGNORE));
        long bad = ot_verify(rb, n, 10 + (1 - me));
        CHECK(bad < 0, "1 MiB message over the joined communicator wrong at byte %ld", bad);
        free(sb);
        free(rb);

        int sum = -1;
        MPI_CHECK(MPI_Allreduce(&out, &sum, 1, MPI_INT, MPI_SUM, inter));
        CHECK(sum == 500 + (1 - me), "inter Allreduce %d", sum);

        MPI_Comm merged;
        MPI_CHECK(MPI_Intercomm_merge(inter, me, &merged));
        MPI_CHECK(MPI_Comm_rank(merged, &rank));
        CHECK(rank == me, "merged rank %d, expected %d", rank, me);
        int both = -1;
        MPI_CHECK(MPI_Allreduce(&out, &both, 1, MPI_INT, MPI_SUM, merged));
        CHECK(both == 1001, "merged Allreduce %d, expected 1001", both);
        MPI_CHECK(MPI_Comm_free(&merged));

        MPI_CHECK(MPI_Comm_disconnect(&inter));
        CHECK(inter == MPI_COMM_NULL, "Comm_disconnect left the handle set");
        close(fd);
        if (lfd >= 0)
            close(lfd);
    }
    return ot_pass();
}
