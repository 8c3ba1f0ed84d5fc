/* MPI_Session_init after MPI_Init at MPI_THREAD_SINGLE (p2p13, issue 13): the process's
 * locks start exclusive (plain flags) and must become real ones when the session, which
 * provides MPI_THREAD_MULTIPLE, starts. Then four threads per rank exchange messages
 * concurrently on a communicator made from the session's world process set, while the main
 * thread keeps to MPI_COMM_WORLD before and after. Content, source and tag checked. */
#include "oxitest.h"
#include <pthread.h>

#define NTHREADS 4
#define ITERS 300
#define MAXN 1500

static MPI_Comm scomm;

struct targ {
    int id, failed_iter;
};

static void *worker(void *p)
{
    struct targ *a = p;
    int right = (ot_rank + 1) % ot_size, left = (ot_rank + ot_size - 1) % ot_size;
    int tag = 10 + a->id;
    int *out = malloc(MAXN * sizeof(int)), *in = malloc(MAXN * sizeof(int));
    a->failed_iter = -1;
    for (int it = 0; it < ITERS && a->failed_iter < 0; it++) {
        int n = it % 25 == 0 ? MAXN : 1 + it % 6;
        for (int i = 0; i < n; i++)
            out[i] = ot_rank * 1000000 + a->id * 100000 + it * 10 + i % 10;
        MPI_Request r[2];
        MPI_Status sts[2];
        MPI_CHECK(MPI_Irecv(in, MAXN, MPI_INT, left, tag, scomm, &r[0]));
        MPI_CHECK(MPI_Isend(out, n, MPI_INT, right, tag, scomm, &r[1]));
        MPI_CHECK(MPI_Waitall(2, r, sts));
        int count = -1;
        MPI_CHECK(MPI_Get_count(&sts[0], MPI_INT, &count));
        if (count != n || sts[0].MPI_SOURCE != left || sts[0].MPI_TAG != tag)
            a->failed_iter = it;
        for (int i = 0; i < n && a->failed_iter < 0; i++)
            if (in[i] != left * 1000000 + a->id * 100000 + it * 10 + i % 10)
                a->failed_iter = it;
    }
    free(out);
    free(in);
    return NULL;
}

static void ring_once(int tag)
{
    int right = (ot_rank + 1) % ot_size, left = (ot_rank + ot_size - 1) % ot_size;
    int out = ot_rank * 10 + tag, in = -1;
    MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, right, tag, &in, 1, MPI_INT, left, tag,
                           MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    CHECK(in == left * 10 + tag, "world ring tag %d: got %d", tag, in);
}

int main(int argc, char **argv)
{
    ot_init_thread("p2p13_session_multiple", &argc, &argv, MPI_THREAD_SINGLE);
    ring_once(1);
    MPI_Session s;
    MPI_Group g;
    MPI_CHECK(MPI_Session_init(MPI_INFO_NULL, MPI_ERRORS_RETURN, &s));
    MPI_Info info;
    char level[64] = "";
    int flag = 0;
    MPI_CHECK(MPI_Session_get_info(s, &info));
    MPI_CHECK(MPI_Info_get(info, "mpi_thread_support_level", sizeof level - 1, level, &flag));
    CHECK(flag && strcmp(level, "MPI_THREAD_MULTIPLE") == 0, "session level %s", level);
    MPI_CHECK(MPI_Info_free(&info));
    MPI_CHECK(MPI_Group_from_session_pset(s, "mpi://WORLD", &g));
    MPI_CHECK(MPI_Comm_create_from_group(g, "p2p13", MPI_INFO_NULL, MPI_ERRORS_RETURN, &scomm));
    pthread_t th[NTHREADS];
    struct targ args[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        args[i].id = i;
        CHECK(pthread_create(&th[i], NULL, worker, &args[i]) == 0, "pthread_create failed");
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].failed_iter < 0, "thread %d failed at iteration %d", i,
              args[i].failed_iter);
    }
    MPI_CHECK(MPI_Comm_free(&scomm));
    MPI_CHECK(MPI_Group_free(&g));
    MPI_CHECK(MPI_Session_finalize(&s));
    ring_once(2);
    return ot_pass();
}
