/* MPI_THREAD_SERIALIZED (p2p13, issue 13: below MULTIPLE the engine's locks are plain
 * flags): three threads per rank take turns, in a fixed order, under a pthread mutex and
 * condition variable, each turn exchanging messages with both ring neighbours. Requests
 * cross threads: a turn posts the next turn's receives, which the next thread (another
 * thread) completes, and the sends of odd turns are completed by the following turn. The
 * program's mutex is the only synchronization between the threads' MPI calls, as the
 * standard allows at this level. Contents, sources and tags checked. */
#include "oxitest.h"
#include <pthread.h>

#define NTHREADS 3
#define TURNS 600
#define MAXN 300

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn; /* whose turn: turn % NTHREADS */
/* Handed over from turn to turn (only touched by the thread whose turn it is). */
static MPI_Request rreq[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
static MPI_Request sreq[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
static int inbuf[2][MAXN], outbuf[2][2][MAXN]; /* outbuf[turn parity][dir] */

static int len_of(int t) { return t % 7 == 0 ? MAXN : 1 + t % 5; }
static int val(int from, int t, int i) { return from * 1000000 + t * 1000 + i; }

static void post_recvs(int t)
{
    int left = (ot_rank + ot_size - 1) % ot_size, right = (ot_rank + 1) % ot_size;
    MPI_CHECK(MPI_Irecv(inbuf[0], MAXN, MPI_INT, left, t % 1000, MPI_COMM_WORLD, &rreq[0]));
    MPI_CHECK(MPI_Irecv(inbuf[1], MAXN, MPI_INT, right, t % 1000, MPI_COMM_WORLD, &rreq[1]));
}

/* One turn: send turn t's messages, complete turn t's receives (posted by the previous
 * turn), check them, post turn t+1's receives. */
static void one_turn(int t)
{
    int left = (ot_rank + ot_size - 1) % ot_size, right = (ot_rank + 1) % ot_size;
    int n = len_of(t), p = t % 2;
    /* The sends still pending from turn t-2 used this parity's buffers. */
    MPI_CHECK(MPI_Waitall(2, sreq, MPI_STATUSES_IGNORE));
    for (int i = 0; i < n; i++)
        outbuf[p][0][i] = outbuf[p][1][i] = val(ot_rank, t, i);
    MPI_CHECK(MPI_Isend(outbuf[p][0], n, MPI_INT, right, t % 1000, MPI_COMM_WORLD, &sreq[0]));
    MPI_CHECK(MPI_Isend(outbuf[p][1], n, MPI_INT, left, t % 1000, MPI_COMM_WORLD, &sreq[1]));
    MPI_Status st[2];
    MPI_CHECK(MPI_Waitall(2, rreq, st));
    int from[2] = {left, right};
    for (int d = 0; d < 2; d++) {
        int count = -1;
        MPI_CHECK(MPI_Get_count(&st[d], MPI_INT, &count));
        CHECK(count == n && st[d].MPI_SOURCE == from[d] && st[d].MPI_TAG == t % 1000,
              "turn %d dir %d: count %d/%d source %d tag %d", t, d, count, n,
              st[d].MPI_SOURCE, st[d].MPI_TAG);
        for (int i = 0; i < n; i++)
            CHECK(inbuf[d][i] == val(from[d], t, i), "turn %d dir %d: element %d is %d", t, d,
                  i, inbuf[d][i]);
    }
    if (t % 2 == 0) /* even turns complete their own sends; odd turns leave them over */
        MPI_CHECK(MPI_Waitall(2, sreq, MPI_STATUSES_IGNORE));
    if (t + 1 < TURNS)
        post_recvs(t + 1);
}

static void *worker(void *p)
{
    int id = *(int *)p;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (turn < TURNS && turn % NTHREADS != id)
            pthread_cond_wait(&cv, &mu);
        if (turn >= TURNS) {
            pthread_mutex_unlock(&mu);
            return NULL;
        }
        one_turn(turn);
        turn++;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
}

int main(int argc, char **argv)
{
    ot_init_thread("p2p13_serialized", &argc, &argv, MPI_THREAD_SERIALIZED);
    int level = -1;
    MPI_CHECK(MPI_Query_thread(&level));
    CHECK(level == MPI_THREAD_SERIALIZED, "MPI_Query_thread gave %d", level);
    post_recvs(0);
    pthread_t th[NTHREADS];
    int ids[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        ids[i] = i;
        CHECK(pthread_create(&th[i], NULL, worker, &ids[i]) == 0, "pthread_create failed");
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    /* The last odd turn's sends are still pending: the main thread completes them. */
    MPI_CHECK(MPI_Waitall(2, sreq, MPI_STATUSES_IGNORE));
    CHECK(turn == TURNS, "stopped at turn %d", turn);
    return ot_pass();
}
