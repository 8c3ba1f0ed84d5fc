/* MPI_Recv's straight line (lat23, issue 13): a blocking receive from a specific rank on the
 * node polls that rank's fast box and takes its next message when it is plain eager data the
 * receive matches; everything else falls back to a posted receive. Each case checks data,
 * order and status on the line and on every fall-back:
 *   sizes        ping-pongs from 0 B to 1 MiB (eager in the box, eager in a cell, rendezvous),
 *                the receive waiting first and the message coming first, status or
 *                MPI_STATUS_IGNORE, MPI_Get_count in elements
 *   order        a non-matching tag at the box's head, then the matching one: the receive
 *                takes the later message, the other is received next, in order
 *   any_tag      MPI_ANY_TAG receives take a sender's messages in order
 *   posted_first a receive posted before (MPI_Irecv, a specific and MPI_ANY_SOURCE one) gets
 *                the first message, the blocking one the second
 *   ssend        MPI_Ssend completes only once the receive matched it
 *   truncate     MPI_ERR_TRUNCATE through MPI_ERRORS_RETURN, the receive waiting or the
 *                message coming first; the message is consumed
 *   proc_null    MPI_PROC_NULL's empty status
 *   self         a blocking receive from myself (not the line)
 *   third        the other ranks' streams interleaved with rank 1's ping-pong, each in order,
 *                some received with MPI_ANY_SOURCE
 *   asleep       a receive blocked 1.5 s uses almost no CPU
 * Rank 0 receives; rank 1 is the main sender; ranks >= 2 send the interleaved streams. */
#include "oxitest.h"
#include <sys/resource.h>
#include <unistd.h>

static unsigned seed_of(int src, int seq) { return (unsigned)(src * 100003 + seq); }

static void check_data(const unsigned char *b, int n, unsigned seed, const char *what)
{
    long bad = ot_verify(b, (size_t)n, seed);
    CHECK(bad < 0, "%s: byte %ld of %d wrong", what, bad, n);
}

/* Ping-pongs between ranks 0 and 1 at each size; on odd rounds the receiver of the round
 * sleeps first, so the message waits in the box (or queue) when the receive starts; on even
 * rounds the receive waits on the line. */
static void sizes(void)
{
    static const int lens[] = {0, 1, 8, 31, 32, 33, 100, 1024, 2047, 2048, 2049, 4096, 65536, 1 << 20};
    int nl = (int)(sizeof lens / sizeof lens[0]);
    unsigned char *b = ot_malloc(1 << 20);
    for (int k = 0; k < nl; k++) {
        int n = lens[k];
        for (int r = 0; r < 6; r++) {
            int tag = 100 + k;
            unsigned seed = seed_of(k, r);
            if (ot_rank == 0) {
                ot_fill(b, (size_t)n, seed);
                MPI_CHECK(MPI_Send(b, n, MPI_BYTE, 1, tag, MPI_COMM_WORLD));
                if (r % 2)
                    usleep(2000);
                memset(b, 0, (size_t)n);
                MPI_Status st;
                if (r % 3 == 2) {
                    MPI_CHECK(MPI_Recv(b, n, MPI_BYTE, 1, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                } else {
                    MPI_CHECK(MPI_Recv(b, n, MPI_BYTE, 1, tag, MPI_COMM_WORLD, &st));
                    ot_check_status(&st, 1, tag, n, "sizes, reply");
                }
                check_data(b, n, seed + 7, "sizes, reply");
            } else if (ot_rank == 1) {
                if (r % 2 == 0)
                    usleep(2000);
                MPI_Status st;
                MPI_CHECK(MPI_Recv(b, n, MPI_BYTE, 0, tag, MPI_COMM_WORLD, &st));
                ot_check_status(&st, 0, tag, n, "sizes, ping");
                check_data(b, n, seed, "sizes, ping");
                ot_fill(b, (size_t)n, seed + 7);
                MPI_CHECK(MPI_Send(b, n, MPI_BYTE, 0, tag, MPI_COMM_WORLD));
            }
        }
    }
    /* MPI_Get_count in elements of the receive's type. */
    int v[5] = {1, 2, 3, 4, 5}, w[8] = {0};
    if (ot_rank == 1) {
        MPI_CHECK(MPI_Send(v, 5, MPI_INT, 0, 150, MPI_COMM_WORLD));
    } else if (ot_rank == 0) {
        MPI_Status st;
        int c = -1;
        MPI_CHECK(MPI_Recv(w, 8, MPI_INT, 1, 150, MPI_COMM_WORLD, &st));
        MPI_CHECK(MPI_Get_count(&st, MPI_INT, &c));
        CHECK(c == 5 && w[4] == 5 && w[5] == 0, "int count %d, w[4] %d", c, w[4]);
    }
    free(b);
}

/* Rank 1 sends tags 201, 202, 203 (seq 0, 1, 2) and then three of tag 204; rank 0 receives
 * 203 first (the box's head is 201: not this receive's), then 201, 202, and the 204s in
 * order. Half the time the receiver comes late (everything waits), half early. */
static void order(void)
{
    unsigned char b[64];
    for (int late = 0; late < 2; late++) {
        if (ot_rank == 1) {
            for (int i = 0; i < 6; i++) {
                ot_fill(b, 64, seed_of(late, 200 + i));
                MPI_CHECK(MPI_Send(b, 8 + i, MPI_BYTE, 0, i < 3 ? 201 + i : 204, MPI_COMM_WORLD));
            }
        } else if (ot_rank == 0) {
            static const int want[] = {2, 0, 1, 3, 4, 5};
            if (late)
                usleep(20000);
            for (int k = 0; k < 6; k++) {
                int i = want[k], tag = i < 3 ? 201 + i : 204;
                MPI_Status st;
                memset(b, 0, sizeof b);
                MPI_CHECK(MPI_Recv(b, 64, MPI_BYTE, 1, tag, MPI_COMM_WORLD, &st));
                ot_check_status(&st, 1, tag, 8 + i, "order");
                check_data(b, 8 + i, seed_of(late, 200 + i), "order");
            }
        }
    }
}

/* MPI_ANY_TAG from a specific source: messages in the order sent, with their tags. */
static void any_tag(void)
{
    unsigned char b[2048];
    static const int lens[] = {8, 0, 2048, 40, 1000};
    if (ot_rank == 1) {
        for (int i = 0; i < 5; i++) {
            ot_fill(b, (size_t)lens[i], seed_of(1, 300 + i));
            MPI_CHECK(MPI_Send(b, lens[i], MPI_BYTE, 0, 300 + i, MPI_COMM_WORLD));
        }
    } else if (ot_rank == 0) {
        for (int i = 0; i < 5; i++) {
            MPI_Status st;
            if (i == 2)
                usleep(10000);
            MPI_CHECK(MPI_Recv(b, 2048, MPI_BYTE, 1, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
            ot_check_status(&st, 1, 300 + i, lens[i], "any tag");
            check_data(b, lens[i], seed_of(1, 300 + i), "any tag");
        }
    }
}

/* A receive posted before the blocking one gets the first message (MPI's order of posted
 * receives), whether it names the source or MPI_ANY_SOURCE. */
static void posted_first(void)
{
    for (int any = 0; any < 2; any++) {
        int tag = 400 + any;
        if (ot_rank == 1) {
            for (int i = 0; i < 2; i++) {
                int v = 1000 * any + i;
                if (i == 1)
                    usleep(5000);
                MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, tag, MPI_COMM_WORLD));
            }
        } else if (ot_rank == 0) {
            int a = -1, b = -1;
            MPI_Request r;
            MPI_Status st;
            MPI_CHECK(MPI_Irecv(&a, 1, MPI_INT, any ? MPI_ANY_SOURCE : 1, tag, MPI_COMM_WORLD, &r));
            MPI_CHECK(MPI_Recv(&b, 1, MPI_INT, 1, tag, MPI_COMM_WORLD, &st));
            ot_check_status(&st, 1, tag, 4, "posted first, blocking");
            MPI_CHECK(MPI_Wait(&r, &st));
            ot_check_status(&st, 1, tag, 4, "posted first, posted");
            CHECK(a == 1000 * any && b == 1000 * any + 1, "posted first (any %d): %d then %d", any,
                  a, b);
        }
    }
}

/* MPI_Ssend completes only after the receive matched it: the receiver receives 0.3 s after
 * a message that tells the sender when the receive starts at the earliest. */
static void ssend(void)
{
    unsigned char b[8];
    for (int late = 0; late < 2; late++) {
        if (ot_rank == 1) {
            double t0 = MPI_Wtime();
            ot_fill(b, 8, seed_of(1, 500 + late));
            MPI_CHECK(MPI_Ssend(b, 8, MPI_BYTE, 0, 500, MPI_COMM_WORLD));
            double dt = MPI_Wtime() - t0;
            if (late)
                CHECK(dt > 0.2, "MPI_Ssend returned after %.3f s, before the receive (0.3 s)", dt);
        } else if (ot_rank == 0) {
            MPI_Status st;
            if (late)
                usleep(300000);
            MPI_CHECK(MPI_Recv(b, 8, MPI_BYTE, 1, 500, MPI_COMM_WORLD, &st));
            ot_check_status(&st, 1, 500, 8, "ssend");
            check_data(b, 8, seed_of(1, 500 + late), "ssend");
        }
    }
}

/* A 16-byte message into an 8-byte receive: MPI_ERR_TRUNCATE, the first 8 bytes stored,
 * the message consumed (the next one arrives whole). The receive waits first (late 0) or the
 * message does (late 1). */
static void truncate_(MPI_Comm ret)
{
    unsigned char b[16];
    for (int late = 0; late < 2; late++) {
        if (ot_rank == 1) {
            if (!late)
                usleep(20000);
            ot_fill(b, 16, seed_of(late, 600));
            MPI_CHECK(MPI_Send(b, 16, MPI_BYTE, 0, 600, ret));
            ot_fill(b, 16, seed_of(late, 601));
            MPI_CHECK(MPI_Send(b, 16, MPI_BYTE, 0, 600, ret));
        } else if (ot_rank == 0) {
            MPI_Status st;
            if (late)
                usleep(20000);
            memset(b, 0xee, sizeof b);
            st.MPI_SOURCE = st.MPI_TAG = -7;
            CHECK_CLASS(MPI_Recv(b, 8, MPI_BYTE, 1, 600, ret, &st), MPI_ERR_TRUNCATE);
            CHECK(st.MPI_SOURCE == 1 && st.MPI_TAG == 600, "truncated: status %d %d",
                  st.MPI_SOURCE, st.MPI_TAG);
            check_data(b, 8, seed_of(late, 600), "truncated");
            for (int i = 8; i < 16; i++)
                CHECK(b[i] == 0xee, "truncated: byte %d past the receive written", i);
            MPI_CHECK(MPI_Recv(b, 16, MPI_BYTE, 1, 600, ret, &st));
            ot_check_status(&st, 1, 600, 16, "after the truncated one");
            check_data(b, 16, seed_of(late, 601), "after the truncated one");
        }
    }
}

static void proc_null(void)
{
    MPI_Status st;
    int x = 5;
    MPI_CHECK(MPI_Recv(&x, 1, MPI_INT, MPI_PROC_NULL, 7, MPI_COMM_WORLD, &st));
    int n = -1;
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &n));
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG && n == 0 && x == 5,
          "proc null: status %d %d count %d", st.MPI_SOURCE, st.MPI_TAG, n);
}

static void self(void)
{
    int v = 42 + ot_rank, w = -1;
    MPI_Request r;
    MPI_Status st;
    MPI_CHECK(MPI_Isend(&v, 1, MPI_INT, ot_rank, 700, MPI_COMM_WORLD, &r));
    MPI_CHECK(MPI_Recv(&w, 1, MPI_INT, ot_rank, 700, MPI_COMM_WORLD, &st));
    MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    ot_check_status(&st, ot_rank, 700, 4, "self");
    CHECK(w == v, "self: %d", w);
}

/* Ranks >= 2 each stream M numbered messages to rank 0 (tag 800) while rank 1 ping-pongs
 * with it (tag 801); rank 0 alternates: one ping-pong, then one message from each other rank
 * (every fourth with MPI_ANY_SOURCE, which may take any of them: each sender's sequence must
 * still come in order). */
static void third(void)
{
    enum { M = 200 };
    if (ot_size < 3)
        return;
    int v;
    if (ot_rank == 1) {
        for (int i = 0; i < M; i++) {
            MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, 801, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            CHECK(v == i, "third: ping %d, expected %d", v, i);
            v = -i;
            MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 801, MPI_COMM_WORLD));
        }
    } else if (ot_rank >= 2) {
        for (int i = 0; i < M; i++) {
            v = i;
            MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 800, MPI_COMM_WORLD));
        }
    } else {
        int next[8] = {0};
        for (int i = 0; i < M; i++) {
            v = i;
            MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 1, 801, MPI_COMM_WORLD));
            MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 1, 801, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            CHECK(v == -i, "third: pong %d, expected %d", v, -i);
            for (int s = 2; s < ot_size; s++) {
                MPI_Status st;
                /* MPI_ANY_SOURCE may take a stream ahead of the others: a specific receive
                 * then names a stream that still has messages to come (there is always one:
                 * the loop receives exactly M per stream in all). */
                int from = s;
                while (next[from] >= M)
                    from = from + 1 < ot_size ? from + 1 : 2;
                if (i % 4 == 3)
                    from = MPI_ANY_SOURCE;
                MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, from, 800, MPI_COMM_WORLD, &st));
                int got = st.MPI_SOURCE;
                CHECK(got >= 2 && got < ot_size && v == next[got],
                      "third: %d from %d, expected %d", v, got, got >= 2 && got < 8 ? next[got] : -1);
                next[got]++;
            }
        }
        for (int s = 2; s < ot_size; s++)
            while (next[s] < M) {
                MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, s, 800, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                CHECK(v == next[s], "third, rest: %d from %d, expected %d", v, s, next[s]);
                next[s]++;
            }
    }
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + (double)u.ru_stime.tv_sec +
           u.ru_stime.tv_usec * 1e-6;
}

/* A receive from rank 1 blocked 1.5 s sleeps on the doorbell: it spins only at the start.
 * (The bound is generous for a loaded machine; an idle one measures a few milliseconds.) */
static void asleep(void)
{
    int v = 0;
    if (ot_rank == 1) {
        usleep(1500000);
        v = 9;
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 900, MPI_COMM_WORLD));
    } else if (ot_rank == 0) {
        double c0 = cpu_seconds(), t0 = MPI_Wtime();
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 1, 900, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        double cpu = cpu_seconds() - c0, wall = MPI_Wtime() - t0;
        CHECK(v == 9, "asleep: %d", v);
        CHECK(wall > 1.0, "asleep: received after %.3f s", wall);
        CHECK(cpu < 0.15, "asleep: a blocked receive used %.3f s of CPU in %.3f s", cpu, wall);
    }
}

int main(int argc, char **argv)
{
    ot_init("lat23_recv_line", &argc, &argv);
    CHECK(ot_size >= 2, "needs 2 ranks");
    MPI_Comm ret;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &ret));
    MPI_CHECK(MPI_Comm_set_errhandler(ret, MPI_ERRORS_RETURN));
    sizes();
    ot_sync(MPI_COMM_WORLD);
    order();
    ot_sync(MPI_COMM_WORLD);
    any_tag();
    ot_sync(MPI_COMM_WORLD);
    posted_first();
    ot_sync(MPI_COMM_WORLD);
    ssend();
    ot_sync(MPI_COMM_WORLD);
    truncate_(ret);
    ot_sync(MPI_COMM_WORLD);
    proc_null();
    self();
    ot_sync(MPI_COMM_WORLD);
    third();
    ot_sync(MPI_COMM_WORLD);
    asleep();
    MPI_CHECK(MPI_Comm_free(&ret));
    return ot_pass();
}
