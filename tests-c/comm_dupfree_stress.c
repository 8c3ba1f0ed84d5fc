/* 10,000 Comm_dup/Comm_free cycles interleaved with traffic; RSS must not grow beyond a
 * small bound (handles, context ids and attribute lists are reused). */
#include "oxitest.h"
#include <unistd.h>

static long rss_kb(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &res) != 2)
        return -1;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char **argv)
{
    ot_init("comm_dupfree_stress", &argc, &argv);
    int n = ot_size, me = ot_rank;
    long before = 0;
    for (int i = 0; i < 10000; i++) {
        if (i == 500)
            before = rss_kb();
        MPI_Comm d;
        MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &d));
        int out = i, in = -1;
        MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, (me + 1) % n, 0, &in, 1, MPI_INT, (me + n - 1) % n, 0, d, MPI_STATUS_IGNORE));
        CHECK(in == i, "iteration %d got %d", i, in);
        MPI_CHECK(MPI_Comm_free(&d));
    }
    long after = rss_kb();
    if (me == 0)
        printf("RSS before %ld kB, after %ld kB\n", before, after);
    CHECK(after - before < 2048, "RSS grew by %ld kB", after - before);
    ot_pass();
    return 0;
}
