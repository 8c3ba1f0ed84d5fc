/* MPI_Dims_create: the most balanced factorisation, as MPICH computes it (smallest spread,
 * then largest smallest factor, then smallest sum of squares), for many sizes and
 * dimension counts; fixed entries; error cases. */
#include "oxitest.h"

/* Best non-increasing factorisation of n into k factors by exhaustive search. */
static long best_score[3];
static int best[8], cur[8];

static int better(const int *f, int k)
{
    long spread = f[0] - f[k - 1], minf = f[k - 1], sq = 0;
    for (int i = 0; i < k; i++)
        sq += (long)f[i] * f[i];
    if (best_score[0] < 0 || spread < best_score[0] ||
        (spread == best_score[0] && (minf > best_score[1] ||
                                     (minf == best_score[1] && sq < best_score[2])))) {
        best_score[0] = spread;
        best_score[1] = minf;
        best_score[2] = sq;
        return 1;
    }
    return 0;
}

static void search(int m, int depth, int k, int last)
{
    if (depth == k) {
        if (m == 1 && better(cur, k))
            memcpy(best, cur, sizeof(int) * k);
        return;
    }
    for (int f = m < last ? m : last; f >= 1; f--)
        if (m % f == 0) {
            cur[depth] = f;
            search(m / f, depth + 1, k, f);
        }
}

static void expect(int n, int k, const int *in, const int *want)
{
    int d[8];
    memcpy(d, in, sizeof(int) * k);
    MPI_CHECK(MPI_Dims_create(n, k, d));
    for (int i = 0; i < k; i++)
        CHECK(d[i] == want[i], "Dims_create(%d, %d): dims[%d] = %d, expected %d", n, k, i, d[i],
              want[i]);
}

int main(int argc, char **argv)
{
    ot_init("topo_dims", &argc, &argv);
    int zero[8] = {0};

    /* Exhaustive comparison with the balanced rule. */
    for (int k = 1; k <= 4; k++)
        for (int n = 1; n <= 300; n++) {
            best_score[0] = -1;
            search(n, 0, k, n);
            expect(n, k, zero, best);
        }

    /* Answers taken from MPICH 4.0.2, including ones where the tie rules matter. */
    struct { int n, k, want[6]; } known[] = {
        {12, 3, {3, 2, 2}},         {24, 3, {4, 3, 2}},        {20, 4, {5, 2, 2, 1}},
        {128, 3, {8, 4, 4}},        {360, 3, {10, 6, 6}},      {360, 5, {5, 4, 3, 3, 2}},
        {210, 5, {7, 5, 3, 2, 1}},  {2160, 4, {10, 6, 6, 6}},  {2520, 4, {10, 7, 6, 6}},
        {2880, 4, {10, 8, 6, 6}},   {64, 6, {2, 2, 2, 2, 2, 2}}, {1, 2, {1, 1}},
        {97, 3, {97, 1, 1}},        {1024, 2, {32, 32}},       {4096, 3, {16, 16, 16}},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        expect(known[i].n, known[i].k, zero, known[i].want);

    /* Fixed entries are kept; the free ones are balanced, non-increasing. */
    {
        int in[3] = {0, 3, 0}, want[3] = {2, 3, 2};
        expect(12, 3, in, want);
        int in2[3] = {2, 0, 0}, want2[3] = {2, 4, 3};
        expect(24, 3, in2, want2);
        int in3[2] = {2, 3}, want3[2] = {2, 3};
        expect(6, 2, in3, want3);
        int in4[4] = {0, 5, 0, 0}, want4[4] = {3, 5, 2, 2};
        expect(60, 4, in4, want4);
    }

    /* Errors: the fixed entries must divide nnodes; no negative entries. */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    {
        int d[2] = {4, 0};
        CHECK(MPI_Dims_create(6, 2, d) != MPI_SUCCESS, "Dims_create(6, {4,0}) succeeded");
        int e[2] = {-1, 0};
        CHECK(MPI_Dims_create(6, 2, e) != MPI_SUCCESS, "Dims_create(6, {-1,0}) succeeded");
        int f[2] = {2, 2};
        CHECK(MPI_Dims_create(6, 2, f) != MPI_SUCCESS, "Dims_create(6, {2,2}) succeeded");
    }
    return ot_pass();
}
