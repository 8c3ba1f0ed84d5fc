/* Collective latency by message size (8 B .. 1 MiB): allreduce (MPI_INT sum), bcast,
 * alltoall (bytes per peer, up to 256 KiB), barrier. Prints "op bytes usec" lines (median over repetitions, max over ranks). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t maxb = 1 << 20;
    char *a = calloc(maxb * size, 1), *b = calloc(maxb * size, 1);
    const char *ops[] = {"allreduce", "bcast", "alltoall", "barrier"};
    /* 8 B .. 1 MiB, denser above the 128 KiB large-message threshold. */
    const size_t sizes[] = {8, 64, 512, 4096, 32768, 131072, 262144, 524288, 1 << 20};
    for (int o = 0; o < 4; o++) {
        for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t bytes = sizes[k];
            if (o == 3 && bytes > 8) break;
            if (o == 2 && bytes > maxb / 4) break;
            int reps = bytes <= 4096 ? 200 : bytes <= 65536 ? 40 : 8;
            double t[200];
            for (int r = -2; r < reps; r++) {
                MPI_Barrier(MPI_COMM_WORLD);
                double t0 = MPI_Wtime();
                if (o == 0) MPI_Allreduce(a, b, (int)(bytes / 4), MPI_INT, MPI_SUM, MPI_COMM_WORLD);
                else if (o == 1) MPI_Bcast(a, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
                else if (o == 2) MPI_Alltoall(a, (int)bytes, MPI_BYTE, b, (int)bytes, MPI_BYTE, MPI_COMM_WORLD);
                else MPI_Barrier(MPI_COMM_WORLD);
                double dt = MPI_Wtime() - t0, mx;
                MPI_Allreduce(&dt, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
                if (r >= 0) t[r] = mx;
            }
            qsort(t, reps, sizeof(double), cmp);
            if (rank == 0) printf("%s %zu %.2f\n", ops[o], bytes, t[reps / 2] * 1e6);
        }
    }
    free(a); free(b);
    MPI_Finalize();
    return 0;
}
