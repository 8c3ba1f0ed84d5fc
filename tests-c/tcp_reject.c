/* The TCP transport drops connections that do not prove the job's secret, and the job
 * goes on (issue 14 item 2). Run over TCP (tcp_reject.sh sets OXIMPI_TRANSPORT=tcp).
 *
 * Every rank finds its own TCP listening port (in /proc: a LISTEN socket among its file
 * descriptors) and sends it to the previous rank, which attacks it: a handshake with a
 * wrong key, garbage, a connection closed half-way, and an idle connection. Each must be
 * closed by the listener without a proof. Then the ranks exchange small and large
 * messages over TCP (eager frames and rendezvous pulls) and check every byte. The
 * rejections themselves are logged on stderr; tcp_reject.sh checks the log. */
#include <mpi.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(c, ...)                                                              \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "tcp_reject: rank %d: ", rank);                        \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, "\n");                                                 \
            MPI_Abort(MPI_COMM_WORLD, 1);                                          \
        }                                                                          \
    } while (0)

static int rank, size;

/* The port of this process's TCP listener on 127.0.0.1 (OXIMPI_TCP_IFACE=lo), from
 * /proc/self/net/tcp and its fds (a launcher's listener a rank inherited is on another
 * address). */
static int my_listen_port(void) {
    char line[512];
    FILE *f = fopen("/proc/self/net/tcp", "r");
    CHECK(f, "cannot open /proc/self/net/tcp");
    int port = -1;
    while (port < 0 && fgets(line, sizeof line, f)) {
        unsigned lport, st;
        unsigned long inode;
        char local[64];
        if (sscanf(line, " %*d: %63[0-9A-Fa-f:] %*s %x %*s %*s %*s %*s %*s %lu", local, &st,
                   &inode) != 3)
            continue;
        if (st != 0x0A || strncmp(local, "0100007F:", 9) ||
            sscanf(strchr(local, ':') + 1, "%x", &lport) != 1)
            continue;
        /* Ours if one of our descriptors is this socket. */
        char want[64];
        snprintf(want, sizeof want, "socket:[%lu]", inode);
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            char path[300], target[64];
            snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
            ssize_t n = readlink(path, target, sizeof target - 1);
            if (n > 0) {
                target[n] = 0;
                if (!strcmp(target, want))
                    port = (int)lport;
            }
        }
        if (d)
            closedir(d);
    }
    fclose(f);
    return port;
}

static int dial(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == 0, "connect to port %d: %s", port,
          strerror(errno));
    return s;
}

/* Reads until the peer closes; the number of bytes read, or -1 after `secs` seconds. */
static int read_until_closed(int s, int secs) {
    int got = 0;
    char buf[256];
    for (int waited = 0; waited < secs * 10;) {
        struct pollfd p = {s, POLLIN, 0};
        int r = poll(&p, 1, 100);
        if (r == 0) {
            waited++;
            continue;
        }
        ssize_t n = read(s, buf, sizeof buf);
        if (n <= 0)
            return got; /* EOF or reset: closed */
        got += (int)n;
    }
    return -1;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > 1) {
        int port = my_listen_port();
        CHECK(port > 0, "no TCP listener found (is OXIMPI_TRANSPORT=tcp set?)");
        int next = (rank + 1) % size, prev = (rank + size - 1) % size, target;
        MPI_Sendrecv(&port, 1, MPI_INT, prev, 0, &target, 1, MPI_INT, next, 0, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);

        /* 1. The right protocol with a wrong key: the listener's hello (44 bytes), then our
         * answer with a MAC made without the secret. No proof may come back. */
        int s = dial(target);
        char hello[44];
        size_t have = 0;
        while (have < sizeof hello) {
            ssize_t n = read(s, hello + have, sizeof hello - have);
            CHECK(n > 0, "no hello from the listener");
            have += (size_t)n;
        }
        CHECK(!memcmp(hello, "OXTCP001", 8), "the listener's hello has no magic");
        char answer[76];
        memcpy(answer, "OXTCP001", 8);
        memcpy(answer + 8, &rank, 4);
        for (int i = 12; i < 76; i++)
            answer[i] = (char)(i * 7 + rank);
        CHECK(write(s, answer, sizeof answer) == (ssize_t)sizeof answer, "write");
        CHECK(read_until_closed(s, 30) == 0, "a wrong key was answered or not closed");
        close(s);

        /* 2. Garbage. */
        s = dial(target);
        /* (longer than a connector's answer, so the listener judges it at once) */
        const char junk[] = "GET / HTTP/1.0\r\nHost: x\r\n\r\nGET / HTTP/1.0\r\nHost: y\r\n\r\n"
                            "0123456789012345678901234567890123456789";
        CHECK(write(s, junk, sizeof junk - 1) > 0, "write");
        CHECK(read_until_closed(s, 30) == 44, "garbage was answered beyond the hello");
        close(s);

        /* 3. Half a handshake, then gone (after reading the hello, so the close is a FIN,
         * not a reset). */
        s = dial(target);
        have = 0;
        while (have < sizeof hello) {
            ssize_t n = read(s, hello + have, sizeof hello - have);
            CHECK(n > 0, "no hello from the listener");
            have += (size_t)n;
        }
        CHECK(write(s, "OXTCP001", 8) == 8, "write");
        close(s);

        /* 4. Silent: dropped at the handshake deadline. */
        s = dial(target);
        CHECK(read_until_closed(s, 30) == 44, "an idle connection was not closed");
        close(s);
    }
    MPI_Barrier(MPI_COMM_WORLD);

    /* The job goes on: small and large messages between all pairs, checked. */
    const int big = 4 << 20;
    char *out = malloc(big), *in = malloc(big);
    for (int peer = 0; peer < size; peer++) {
        if (peer == rank)
            continue;
        for (int len = 8; len <= big; len *= 64) {
            for (int i = 0; i < len; i++)
                out[i] = (char)(rank * 31 + peer + i);
            MPI_Sendrecv(out, len, MPI_CHAR, peer, len & 0x7fff, in, len, MPI_CHAR, peer,
                         len & 0x7fff, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            for (int i = 0; i < len; i++)
                CHECK(in[i] == (char)(peer * 31 + rank + i), "%d bytes from %d: byte %d wrong",
                      len, peer, i);
        }
    }
    free(out);
    free(in);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0)
        printf("PASS tcp_reject\n");
    MPI_Finalize();
    return 0;
}
