/* MPI_THREAD_FUNNELED (p2p13, issue 13: below MULTIPLE the engine's locks are plain flags):
 * OpenMP-like worker threads compute while the main thread, the only one calling MPI,
 * exchanges small and medium messages with its ring neighbours (nonblocking, blocking and
 * probe); the workers' results and the messages are checked. */
#include "oxitest.h"
#include <pthread.h>

#define NWORKERS 2
#define ITERS 1000
#define MAXN 2000

struct work {
    int id;
    volatile int *stop;
    uint64_t rounds, wrong;
};

/* Fill, sum and check private memory, as a parallel loop would do next to the MPI thread. */
static void *compute(void *p)
{
    struct work *w = p;
    enum { N = 4096 };
    uint32_t *a = malloc(N * sizeof(uint32_t));
    while (!*w->stop) {
        uint64_t r = w->rounds + (uint64_t)w->id, sum = 0;
        for (int i = 0; i < N; i++)
            a[i] = (uint32_t)(i * r);
        for (int i = 0; i < N; i++)
            sum += a[i];
        uint64_t want = 0;
        for (int i = 0; i < N; i++)
            want += (uint32_t)(i * r);
        w->wrong += sum != want;
        w->rounds++;
    }
    free(a);
    return NULL;
}

int main(int argc, char **argv)
{
    ot_init_thread("p2p13_funneled", &argc, &argv, MPI_THREAD_FUNNELED);
    int level = -1, is_main = 0;
    MPI_CHECK(MPI_Query_thread(&level));
    CHECK(level == MPI_THREAD_FUNNELED, "MPI_Query_thread gave %d", level);
    MPI_CHECK(MPI_Is_thread_main(&is_main));
    CHECK(is_main, "MPI_Is_thread_main false on the main thread");
    volatile int stop = 0;
    pthread_t th[NWORKERS];
    struct work w[NWORKERS];
    for (int i = 0; i < NWORKERS; i++) {
        w[i] = (struct work){.id = i, .stop = &stop};
        CHECK(pthread_create(&th[i], NULL, compute, &w[i]) == 0, "pthread_create failed");
    }
    int left = (ot_rank + ot_size - 1) % ot_size, right = (ot_rank + 1) % ot_size;
    int *out = malloc(MAXN * sizeof(int)), *in = malloc(MAXN * sizeof(int));
    for (int it = 0; it < ITERS; it++) {
        int n = it % 50 == 0 ? MAXN : 1 + it % 9;
        for (int i = 0; i < n; i++)
            out[i] = ot_rank * 1000000 + it * 100 + i % 100;
        MPI_Status st;
        if (it % 3 == 0) {
            MPI_Request r[2];
            MPI_CHECK(MPI_Irecv(in, MAXN, MPI_INT, left, it % 100, MPI_COMM_WORLD, &r[0]));
            MPI_CHECK(MPI_Isend(out, n, MPI_INT, right, it % 100, MPI_COMM_WORLD, &r[1]));
            MPI_Status sts[2];
            MPI_CHECK(MPI_Waitall(2, r, sts));
            st = sts[0];
        } else if (it % 3 == 1) {
            MPI_CHECK(MPI_Sendrecv(out, n, MPI_INT, right, it % 100, in, MAXN, MPI_INT, left,
                                   it % 100, MPI_COMM_WORLD, &st));
        } else {
            MPI_Request r;
            MPI_CHECK(MPI_Isend(out, n, MPI_INT, right, it % 100, MPI_COMM_WORLD, &r));
            MPI_CHECK(MPI_Probe(left, it % 100, MPI_COMM_WORLD, &st));
            MPI_CHECK(MPI_Recv(in, MAXN, MPI_INT, left, it % 100, MPI_COMM_WORLD, &st));
            MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        }
        int count = -1;
        MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
        CHECK(count == n && st.MPI_SOURCE == left, "iter %d: count %d/%d source %d", it, count,
              n, st.MPI_SOURCE);
        for (int i = 0; i < n; i++)
            CHECK(in[i] == left * 1000000 + it * 100 + i % 100, "iter %d: element %d is %d", it,
                  i, in[i]);
    }
    stop = 1;
    for (int i = 0; i < NWORKERS; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].wrong == 0, "worker %d: %llu wrong sums in %llu rounds", i,
              (unsigned long long)w[i].wrong, (unsigned long long)w[i].rounds);
    }
    free(out);
    free(in);
    return ot_pass();
}
