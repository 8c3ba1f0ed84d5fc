/* Ping-pong latency and bandwidth, 0 B to 4 MiB (powers of two).
 *
 * Ranks are paired (0,1), (2,3), ...; every pair ping-pongs at the same time, so running with
 * 4 ranks on 2 cores measures the oversubscribed case. The iteration count depends only on
 * the size (10000 round trips for small messages down to ~50 at 4 MiB, times --scale), so
 * every implementation does exactly the same work; a tenth of it runs first as warm-up. Rank 0
 * prints one line per size: size, iterations, one-way latency in microseconds (half the mean
 * round trip, averaged over pairs) and bandwidth in MB/s (10^6 bytes per second, from the
 * same one-way time). Only point-to-point calls are used.
 *
 * usage: pingpong [--min BYTES] [--max BYTES] [--scale FACTOR]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG 7

static void die(const char *msg)
{
    fprintf(stderr, "pingpong: %s\n", msg);
    MPI_Abort(MPI_COMM_WORLD, 2);
}

/* n round trips of `size` bytes; returns the elapsed time on the leader. */
static double rounds(char *buf, int size, int n, int leader, int partner)
{
    double t0 = MPI_Wtime();
    for (int i = 0; i < n; i++) {
        if (leader) {
            MPI_Send(buf, size, MPI_BYTE, partner, TAG, MPI_COMM_WORLD);
            MPI_Recv(buf, size, MPI_BYTE, partner, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(buf, size, MPI_BYTE, partner, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, size, MPI_BYTE, partner, TAG, MPI_COMM_WORLD);
        }
    }
    return MPI_Wtime() - t0;
}

/* Round trips for a size: ~2e8 / (size + 20000), i.e. 10000 for tiny messages, 187 at 1 MiB,
 * 47 at 4 MiB; at least 5. */
static int iterations(long size, double scale)
{
    double n = scale * 2e8 / (double)(size + 20000);
    return n < 5 ? 5 : (int)n;
}

int main(int argc, char **argv)
{
    long min = 0, max = 4L << 20;
    double scale = 1.0;
    MPI_Init(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--min") && i + 1 < argc)
            min = atol(argv[++i]);
        else if (!strcmp(argv[i], "--max") && i + 1 < argc)
            max = atol(argv[++i]);
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
            scale = atof(argv[++i]);
        else
            die("usage: pingpong [--min BYTES] [--max BYTES] [--scale FACTOR]");
    }
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size % 2)
        die("needs an even number of ranks");
    int leader = rank % 2 == 0, partner = leader ? rank + 1 : rank - 1;
    char *buf = malloc(max > 0 ? max : 1);
    if (!buf)
        die("out of memory");
    memset(buf, 1, max > 0 ? max : 1);
    if (rank == 0)
        printf("# pairs %d\n# size iters latency_us bandwidth_MBps\n", size / 2);

    /* Connection set-up and first-touch costs are not latency: get them out of the way. */
    rounds(buf, 0, 1000, leader, partner);
    for (long sz = 0; sz <= max; sz = sz ? sz * 2 : 1) {
        if (sz < min)
            continue;
        int s = (int)sz;
        int n = iterations(sz, scale);
        rounds(buf, s, n / 10 + 1, leader, partner); /* warm-up */
        double t = rounds(buf, s, n, leader, partner);
        double lat = t / n / 2; /* one way, seconds */
        /* rank 0 averages the pairs' latencies (other leaders report by message) */
        if (rank == 0) {
            double sum = lat;
            for (int p = 2; p < size; p += 2) {
                double other;
                MPI_Recv(&other, 1, MPI_DOUBLE, p, TAG + 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                sum += other;
            }
            lat = sum / (size / 2);
            printf("%ld %d %.3f %.2f\n", sz, n, lat * 1e6, lat > 0 ? sz / lat / 1e6 : 0.0);
            fflush(stdout);
        } else if (leader) {
            MPI_Send(&lat, 1, MPI_DOUBLE, 0, TAG + 2, MPI_COMM_WORLD);
        }
        /* keep the pairs in step: the next size starts when rank 0 says so */
        int go = 1;
        if (rank == 0) {
            for (int r = 1; r < size; r++)
                MPI_Send(&go, 1, MPI_INT, r, TAG + 3, MPI_COMM_WORLD);
        } else {
            MPI_Recv(&go, 1, MPI_INT, 0, TAG + 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
