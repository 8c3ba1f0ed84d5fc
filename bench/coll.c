/* Collective latency by message size, per-iteration medians (P50).
 *
 * Operations: barrier, bcast, reduce and allreduce (MPI_INT sum; bytes / 4 ints), gather,
 * allgather, scatter and alltoall (bytes per rank). Sizes 8 B .. 1 MiB (alltoall up to 256
 * KiB per peer). Every iteration starts after a barrier, is timed on every rank, and counts
 * as the slowest rank's time (an MPI_MAX allreduce outside the timed part); the line gives
 * the median over the iterations, in microseconds. Roots rotate over the ranks so no rank is
 * always the one with the least work.
 *
 * Output (rank 0): "OP BYTES USEC" lines.
 * usage: coll [--scale FACTOR] [--max BYTES] [--min BYTES] [--ops NAME,NAME,...] [--sweep]
 * (--ops: run only the named operations, e.g. --ops reduce,allreduce; --sweep: every power
 * of two from 4 B to --max, and 0 B, instead of the eight-fold steps)
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { BARRIER, BCAST, REDUCE, ALLREDUCE, GATHER, ALLGATHER, SCATTER, ALLTOALL, NOPS };
static const char *names[NOPS] = {"barrier", "bcast",     "reduce",  "allreduce",
                                  "gather",  "allgather", "scatter", "alltoall"};

static void run(int op, char *a, char *b, size_t bytes, int root)
{
    MPI_Comm w = MPI_COMM_WORLD;
    int n = (int)bytes;
    switch (op) {
    case BARRIER: MPI_Barrier(w); break;
    case BCAST: MPI_Bcast(a, n, MPI_BYTE, root, w); break;
    case REDUCE: MPI_Reduce(a, b, n / 4, MPI_INT, MPI_SUM, root, w); break;
    case ALLREDUCE: MPI_Allreduce(a, b, n / 4, MPI_INT, MPI_SUM, w); break;
    case GATHER: MPI_Gather(a, n, MPI_BYTE, b, n, MPI_BYTE, root, w); break;
    case ALLGATHER: MPI_Allgather(a, n, MPI_BYTE, b, n, MPI_BYTE, w); break;
    case SCATTER: MPI_Scatter(a, n, MPI_BYTE, b, n, MPI_BYTE, root, w); break;
    case ALLTOALL: MPI_Alltoall(a, n, MPI_BYTE, b, n, MPI_BYTE, w); break;
    }
}

int main(int argc, char **argv)
{
    double scale = 1.0;
    size_t maxb = 1 << 20, minb = 0;
    const char *only = NULL;
    int sweep = 0;
    MPI_Init(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scale") && i + 1 < argc)
            scale = atof(argv[++i]);
        else if (!strcmp(argv[i], "--max") && i + 1 < argc)
            maxb = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--min") && i + 1 < argc)
            minb = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--sweep"))
            sweep = 1;
        else {
            fprintf(stderr, "usage: coll [--scale FACTOR] [--max BYTES] [--min BYTES] "
                            "[--ops NAME,NAME,...] [--sweep]\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char *a = calloc(maxb * size, 1), *b = calloc(maxb * size, 1);
    size_t sizes[32] = {8, 64, 512, 4096, 32768, 262144, 1 << 20};
    unsigned nsizes = 7;
    if (sweep) {
        nsizes = 0;
        sizes[nsizes++] = 0;
        for (size_t s = 4; s <= maxb && nsizes < 32; s *= 2)
            sizes[nsizes++] = s;
    }
    int cap = (int)(1000 * scale) + 9;
    double *t = malloc(sizeof(double) * (size_t)cap);
    if (!a || !b || !t) {
        fprintf(stderr, "coll: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (int op = 0; op < NOPS; op++) {
        if (only) {
            /* the name as a whole item of the comma-separated list */
            size_t len = strlen(names[op]);
            const char *p = only;
            int found = 0;
            while ((p = strstr(p, names[op])) != NULL) {
                if ((p == only || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
                    found = 1;
                p += len;
            }
            if (!found)
                continue;
        }
        for (unsigned k = 0; k < nsizes; k++) {
            size_t bytes = sizes[k];
            if (bytes > maxb || (op == BARRIER && k > 0) || (op == ALLTOALL && bytes > maxb / 4))
                break;
            if (bytes < minb && op != BARRIER)
                continue;
            int reps = (int)(scale * (bytes <= 4096 ? 1000 : bytes <= 65536 ? 200 : 30));
            if (reps < 9)
                reps = 9;
            if (reps > cap)
                reps = cap;
            for (int r = -reps / 10 - 1; r < reps; r++) {
                int root = (r < 0 ? 0 : r) % size;
                MPI_Barrier(MPI_COMM_WORLD);
                double t0 = MPI_Wtime();
                run(op, a, b, bytes, root);
                double dt = MPI_Wtime() - t0, mx;
                MPI_Allreduce(&dt, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
                if (r >= 0)
                    t[r] = mx;
            }
            qsort(t, reps, sizeof(double), cmp);
            double med = reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
            if (rank == 0)
                printf("%s %zu %.3f\n", names[op], op == BARRIER ? 0 : bytes, med * 1e6);
        }
    }
    free(t);
    free(a);
    free(b);
    MPI_Finalize();
    return 0;
}
