/* MPI_THREAD_MULTIPLE: 4 threads per rank, each exchanging many messages (blocking and
 * nonblocking, small and medium) with the same-numbered thread on the neighbouring ranks,
 * tags distinct per thread; content and per-thread order checked. */
#include "oxitest.h"
#include <pthread.h>

#define NTHREADS 4
#define ITERS 100

struct targ {
    int id;
    int failed_iter; /* -1 when everything checked out */
};

static void *worker(void *p)
{
    struct targ *a = p;
    int right = (ot_rank + 1) % ot_size, left = (ot_rank + ot_size - 1) % ot_size;
    int tag = 100 + a->id;
    enum { MAXN = 5000 };
    int *out = malloc(MAXN * sizeof(int)), *in = malloc(MAXN * sizeof(int));
    a->failed_iter = -1;
    for (int it = 0; it < ITERS && a->failed_iter < 0; it++) {
        int n = (it % 10 == 0) ? MAXN : 1 + it % 7;
        for (int i = 0; i < n; i++)
            out[i] = ot_rank * 1000000 + a->id * 100000 + it * 10 + i % 10;
        MPI_Request r[2];
        MPI_Status st;
        if (it % 2) {
            MPI_CHECK(MPI_Irecv(in, MAXN, MPI_INT, left, tag, MPI_COMM_WORLD, &r[0]));
            MPI_CHECK(MPI_Isend(out, n, MPI_INT, right, tag, MPI_COMM_WORLD, &r[1]));
            MPI_Status sts[2];
            MPI_CHECK(MPI_Waitall(2, r, sts));
            st = sts[0];
        } else {
            MPI_CHECK(MPI_Sendrecv(out, n, MPI_INT, right, tag, in, MAXN, MPI_INT, left, tag,
                                   MPI_COMM_WORLD, &st));
        }
        int count = -1;
        MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
        if (count != n || st.MPI_TAG != tag || st.MPI_SOURCE != left) {
            fprintf(stderr, "thread %d iter %d: count %d/%d tag %d source %d\n", a->id, it,
                    count, n, st.MPI_TAG, st.MPI_SOURCE);
            a->failed_iter = it;
        }
        for (int i = 0; i < n && a->failed_iter < 0; i++)
            if (in[i] != left * 1000000 + a->id * 100000 + it * 10 + i % 10) {
                fprintf(stderr, "thread %d iter %d: element %d is %d\n", a->id, it, i, in[i]);
                a->failed_iter = it;
            }
    }
    free(out);
    free(in);
    return NULL;
}

int main(int argc, char **argv)
{
    ot_init_thread("threads", &argc, &argv, MPI_THREAD_MULTIPLE);
    pthread_t t[NTHREADS];
    struct targ args[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        args[i].id = i;
        CHECK(pthread_create(&t[i], NULL, worker, &args[i]) == 0, "pthread_create failed");
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK(args[i].failed_iter < 0, "thread %d failed at iteration %d", i,
              args[i].failed_iter);
    }
    return ot_pass();
}
