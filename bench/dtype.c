/* Noncontiguous transfers: ping-pong between ranks 0 and 1 of
 *   vector  - 1 double out of every 2 (MPI_Type_vector), 1 MiB of data per message, sent and
 *             received with the vector type on both sides;
 *   vec2con - the same vector sent, received as contiguous doubles;
 *   struct  - an array of struct { int; double; char } (MPI_Type_create_struct, resized to
 *             the C struct), 1 MiB of data per message.
 * Prints "name bytes usec" per case: the median one-way time over several repetitions. */
#include <mpi.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPS 7
#define ITERS 20

struct item {
    int i;
    double d;
    char c;
};

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pingpong(void *sbuf, int scount, MPI_Datatype st, void *rbuf, int rcount,
                       MPI_Datatype rt, int rank)
{
    double t[REPS];
    for (int r = 0; r < REPS; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (int i = 0; i < ITERS; i++) {
            if (rank == 0) {
                MPI_Send(sbuf, scount, st, 1, 0, MPI_COMM_WORLD);
                MPI_Recv(rbuf, rcount, rt, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else if (rank == 1) {
                MPI_Recv(rbuf, rcount, rt, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                MPI_Send(sbuf, scount, st, 0, 0, MPI_COMM_WORLD);
            }
        }
        t[r] = (MPI_Wtime() - t0) / ITERS / 2 * 1e6;
    }
    qsort(t, REPS, sizeof t[0], cmp);
    return t[REPS / 2];
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const int n = (1 << 20) / sizeof(double); /* doubles of data per message */
    double *strided = calloc(2 * (size_t)n, sizeof(double));
    double *strided2 = calloc(2 * (size_t)n, sizeof(double));
    double *flat = calloc(n, sizeof(double));
    for (int i = 0; i < 2 * n; i++)
        strided[i] = i;
    MPI_Datatype vec;
    MPI_Type_vector(n, 1, 2, MPI_DOUBLE, &vec);
    MPI_Type_commit(&vec);
    double tv = pingpong(strided, 1, vec, strided2, 1, vec, rank);
    double tc = pingpong(strided, 1, vec, flat, n, MPI_DOUBLE, rank);
    if (rank <= 1 && flat[n - 1] != 2.0 * (n - 1) && strided2[2 * (n - 1)] != 2.0 * (n - 1)) {
        fprintf(stderr, "dtype bench: wrong data\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    /* struct: int + double + char = 13 bytes of data per 24-byte element */
    const int m = (1 << 20) / 13;
    struct item *items = calloc(m, sizeof(struct item)), *items2 = calloc(m, sizeof(struct item));
    int bl[3] = {1, 1, 1};
    MPI_Aint disp[3] = {offsetof(struct item, i), offsetof(struct item, d),
                        offsetof(struct item, c)};
    MPI_Datatype types[3] = {MPI_INT, MPI_DOUBLE, MPI_CHAR}, st0, st;
    MPI_Type_create_struct(3, bl, disp, types, &st0);
    MPI_Type_create_resized(st0, 0, sizeof(struct item), &st);
    MPI_Type_commit(&st);
    double ts = pingpong(items, m, st, items2, m, st, rank);
    if (rank == 0) {
        printf("vector %d %.1f\n", n * 8, tv);
        printf("vec2con %d %.1f\n", n * 8, tc);
        printf("struct %d %.1f\n", m * 13, ts);
    }
    MPI_Type_free(&vec);
    MPI_Type_free(&st0);
    MPI_Type_free(&st);
    free(strided);
    free(strided2);
    free(flat);
    free(items);
    free(items2);
    MPI_Finalize();
    return 0;
}
