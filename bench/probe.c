/* The machine's mode: how long a dirty cache line takes to reach the other CPU.
 *
 * The bench VMs (2 vCPUs of a larger AMD EPYC host) switch, every few seconds to minutes,
 * between a "fast" state where a line written on one vCPU reaches the other in ~60 ns and a
 * "slow" one where it takes ~190 ns (the two vCPUs on cores that share a last-level cache or
 * not, as the host schedules them). Every implementation's ping-pong and every copy through
 * shared memory moves with it (2 KiB one-way latency 0.33 us fast, 1.2 us slow, for OxiMPI and
 * Open MPI alike), so bench/run.sh runs this probe just before and after each point-to-point
 * run, and bench/report.py sorts the rounds by mode before comparing them.
 *
 * Two threads pinned to the first two CPUs of the affinity mask hand a line (and then a 2 KiB
 * buffer, written by one side and read by the other) back and forth; every round trip is timed
 * and the output gives half the median round trip (P50, like the benchmarks):
 *   "line NS" and "handoff2k NS"
 * No MPI: it measures the machine, not an implementation. usage: probe
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 4000
#define MAX_LEN 2048

static _Alignas(64) atomic_int turn;
static _Alignas(64) char shared_buf[MAX_LEN];
static double trip[ROUNDS];
static size_t len;
static int cpus[2];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    if (pthread_setaffinity_np(pthread_self(), sizeof s, &s) != 0) {
        fprintf(stderr, "probe: cannot pin to CPU %d\n", cpu);
        exit(1);
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The far side: wait for an odd turn, read what the near side wrote, write it back. */
static void *far_side(void *arg)
{
    char tmp[MAX_LEN];
    volatile char sink = 0;
    (void)arg;
    pin(cpus[1]);
    for (int i = 0; i < ROUNDS; i++) {
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 1)
            ;
        if (len) {
            memcpy(tmp, shared_buf, len);
            sink = tmp[len - 1];
            memset(shared_buf, i, len);
        }
        atomic_store_explicit(&turn, 2 * i + 2, memory_order_release);
    }
    (void)sink;
    return NULL;
}

static double one_way_ns(size_t bytes)
{
    char tmp[MAX_LEN];
    volatile char sink = 0;
    pthread_t th;
    len = bytes;
    atomic_store(&turn, 0);
    if (pthread_create(&th, NULL, far_side, NULL) != 0) {
        fprintf(stderr, "probe: pthread_create failed\n");
        exit(1);
    }
    for (int i = 0; i < ROUNDS; i++) {
        double t0 = now();
        if (len)
            memset(shared_buf, i, len);
        atomic_store_explicit(&turn, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 2)
            ;
        if (len) {
            memcpy(tmp, shared_buf, len);
            sink = tmp[0];
        }
        trip[i] = now() - t0;
    }
    pthread_join(th, NULL);
    (void)sink;
    qsort(trip, ROUNDS, sizeof trip[0], cmp);
    return trip[ROUNDS / 2] / 2 * 1e9;
}

int main(void)
{
    cpu_set_t mask;
    int n = 0;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) {
        perror("probe: sched_getaffinity");
        return 1;
    }
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &mask))
            cpus[n++] = c;
    if (n < 2) {
        fprintf(stderr, "probe: needs two CPUs\n");
        return 1;
    }
    pin(cpus[0]);
    printf("line %.1f\n", one_way_ns(0));
    printf("handoff2k %.1f\n", one_way_ns(MAX_LEN));
    return 0;
}
