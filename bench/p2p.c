/* Point-to-point latency and bandwidth by size, per-iteration medians (P50).
 *
 *   lat:  ping-pong between ranks 0 and 1; every round trip is timed on its own and the
 *         line gives the median one-way time (half the median round trip), in microseconds.
 *   bw:   rank 0 sends a window of 64 messages with MPI_Isend (rank 1 pre-posts 64
 *         MPI_Irecv), then waits for a 4-byte acknowledgement; every window is timed on its
 *         own and the line gives the bytes of the window over the median window time, in MB/s
 *         (10^6 bytes per second), as OSU's osu_bw computes it.
 *
 * Output (rank 0): "lat BYTES USEC" and "bw BYTES MBPS" lines, sizes 0 B .. 4 MiB (powers of
 * two; bw from 1 B). The iteration count depends only on the size, so every implementation
 * does the same work; a tenth of it runs first as warm-up. With more than 2 ranks the other
 * ranks only wait in the final barrier (this measures the pair, not the job).
 *
 * Why medians of per-iteration times: on a shared 2-core machine a few preempted iterations
 * dominate a mean; the median is what a well-placed program sees, and it is the statistic the
 * comparison in README.md uses for every implementation alike.
 *
 * usage: p2p [--max BYTES] [--scale FACTOR]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG 7
#define WINDOW 64

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *t, int n)
{
    qsort(t, n, sizeof t[0], cmp);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static void die(const char *msg)
{
    fprintf(stderr, "p2p: %s\n", msg);
    MPI_Abort(MPI_COMM_WORLD, 2);
}

/* Iterations for a size: 20000 for tiny messages down to ~50 at 4 MiB, times scale; >= 9. */
static int iterations(long size, double scale)
{
    double n = scale * 4e8 / (double)(size + 20000);
    return n < 9 ? 9 : (int)n;
}

static double latency(char *buf, int size, int n, int rank, double *t)
{
    for (int i = -n / 10 - 1; i < n; i++) {
        double t0 = MPI_Wtime();
        if (rank == 0) {
            MPI_Send(buf, size, MPI_BYTE, 1, TAG, MPI_COMM_WORLD);
            MPI_Recv(buf, size, MPI_BYTE, 1, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(buf, size, MPI_BYTE, 0, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, size, MPI_BYTE, 0, TAG, MPI_COMM_WORLD);
        }
        if (i >= 0)
            t[i] = MPI_Wtime() - t0;
    }
    return median(t, n) / 2;
}

static double bandwidth(char *buf, int size, int n, int rank, double *t)
{
    MPI_Request req[WINDOW];
    int ack = 0;
    for (int i = -n / 10 - 1; i < n; i++) {
        double t0 = MPI_Wtime();
        for (int w = 0; w < WINDOW; w++) {
            if (rank == 0)
                MPI_Isend(buf, size, MPI_BYTE, 1, TAG + 1, MPI_COMM_WORLD, &req[w]);
            else
                MPI_Irecv(buf, size, MPI_BYTE, 0, TAG + 1, MPI_COMM_WORLD, &req[w]);
        }
        MPI_Waitall(WINDOW, req, MPI_STATUSES_IGNORE);
        if (rank == 0)
            MPI_Recv(&ack, 1, MPI_INT, 1, TAG + 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        else
            MPI_Send(&ack, 1, MPI_INT, 0, TAG + 2, MPI_COMM_WORLD);
        if (i >= 0)
            t[i] = MPI_Wtime() - t0;
    }
    return (double)size * WINDOW / median(t, n) / 1e6;
}

int main(int argc, char **argv)
{
    long max = 4L << 20;
    double scale = 1.0;
    MPI_Init(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--max") && i + 1 < argc)
            max = atol(argv[++i]);
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
            scale = atof(argv[++i]);
        else
            die("usage: p2p [--max BYTES] [--scale FACTOR]");
    }
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size < 2)
        die("needs at least 2 ranks");
    char *buf = malloc(max > 0 ? max : 1);
    int cap = iterations(0, scale) > 1000 ? iterations(0, scale) : 1000;
    double *t = malloc(sizeof(double) * (size_t)cap);
    if (!buf || !t)
        die("out of memory");
    memset(buf, 1, max > 0 ? max : 1);
    if (rank < 2) {
        /* connection set-up and first-touch costs are not latency */
        latency(buf, 0, 1000, rank, t);
        for (long sz = 0; sz <= max; sz = sz ? sz * 2 : 1) {
            double v = latency(buf, (int)sz, iterations(sz, scale), rank, t);
            if (rank == 0)
                printf("lat %ld %.3f\n", sz, v * 1e6);
        }
        for (long sz = 1; sz <= max; sz *= 2) {
            /* a window moves 64 messages: a 64th of the latency iterations keeps the bytes */
            int n = iterations(sz, scale) / 16;
            double v = bandwidth(buf, (int)sz, n < 9 ? 9 : n, rank, t);
            if (rank == 0)
                printf("bw %ld %.1f\n", sz, v);
        }
        if (rank == 0)
            fflush(stdout);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    free(t);
    free(buf);
    MPI_Finalize();
    return 0;
}
