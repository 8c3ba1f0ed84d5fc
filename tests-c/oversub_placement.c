/* Oversubscribed ranks place themselves in blocks (issue 13, src/transport/shm/segment/
 * placement.rs): with more local ranks than CPUs, consecutive ranks share a CPU (ranks 0, 1 on
 * one, 2, 3 on the other for 4 ranks on 2 CPUs) and the groups run on different CPUs, whatever
 * CPUs the kernel started them on.
 *
 * Run with 4 ranks. Each rank first narrows its affinity mask to the first two CPUs it may use
 * (before MPI_Init, so the library counts 2 CPUs: oversubscribed on any machine), then, to
 * start from a bad placement, runs for a moment on one of them only (ranks 0, 2, 3 on the
 * first, rank 1 on the second) and gets both back (the kernel leaves running threads where
 * they are). Pairs (0,1) and (2,3) then
 * ping-pong in rounds, checking every message's contents; after each round rank 0 collects
 * where every rank runs. The placement must be in blocks in most of the later rounds (a
 * loaded machine may move a rank now and then; the rank goes back at its next wait).
 * With a single usable CPU there is no placement to check: the ping-pong still runs. */
#define _GNU_SOURCE
#include "oxitest.h"
#include <sched.h>

#define ROUNDS 30
#define COUNTED 20 /* the last rounds, where the placement must have settled */
#define TRIPS 500

/* Keeps the first two CPUs of the mask; returns how many are left (1 or 2). */
static int narrow_to_two(cpu_set_t *two)
{
    cpu_set_t mask;
    CPU_ZERO(&mask);
    if (sched_getaffinity(0, sizeof mask, &mask) != 0)
        FAIL("sched_getaffinity failed");
    CPU_ZERO(two);
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &mask)) {
            CPU_SET(c, two);
            n++;
        }
    if (sched_setaffinity(0, sizeof *two, two) != 0)
        FAIL("sched_setaffinity failed");
    return n;
}

/* Runs on CPU `which` (0 or 1) of `two` for a moment, then may use both again. */
static void start_on(const cpu_set_t *two, int which)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int c = 0, k = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, two) && k++ == which) {
            CPU_SET(c, &one);
            break;
        }
    if (sched_setaffinity(0, sizeof one, &one) != 0 || sched_setaffinity(0, sizeof *two, two))
        FAIL("sched_setaffinity failed");
}

static void pingpong(int partner, int leader, int round)
{
    int buf[4];
    for (int i = 0; i < TRIPS; i++) {
        int v = round * TRIPS + i;
        if (leader) {
            buf[0] = v;
            MPI_CHECK(MPI_Send(buf, 4, MPI_INT, partner, 1, MPI_COMM_WORLD));
            MPI_CHECK(MPI_Recv(buf, 4, MPI_INT, partner, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            CHECK(buf[0] == -v, "round %d trip %d: reply %d, expected %d", round, i, buf[0], -v);
        } else {
            MPI_CHECK(MPI_Recv(buf, 4, MPI_INT, partner, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            CHECK(buf[0] == v, "round %d trip %d: got %d, expected %d", round, i, buf[0], v);
            buf[0] = -v;
            MPI_CHECK(MPI_Send(buf, 4, MPI_INT, partner, 2, MPI_COMM_WORLD));
        }
    }
}

int main(int argc, char **argv)
{
    cpu_set_t two;
    int ncpu = narrow_to_two(&two);
    ot_init("oversub_placement", &argc, &argv);
    CHECK(ot_size == 4, "run with 4 ranks, not %d", ot_size);
    /* Ranks 0, 2, 3 on one CPU, rank 1 on the other: neither balanced nor in blocks, a
     * placement the kernel keeps for a long while (issue 13). */
    if (ncpu == 2)
        start_on(&two, ot_rank == 1);
    int leader = ot_rank % 2 == 0, partner = leader ? ot_rank + 1 : ot_rank - 1;
    int blocks = 0;
    char seen[COUNTED][16];
    for (int round = 0; round < ROUNDS; round++) {
        pingpong(partner, leader, round);
        int cpu = sched_getcpu(), where[4];
        if (ot_rank == 0) {
            where[0] = cpu;
            for (int r = 1; r < 4; r++)
                MPI_CHECK(MPI_Recv(&where[r], 1, MPI_INT, r, 3, MPI_COMM_WORLD,
                                   MPI_STATUS_IGNORE));
            int ok = where[0] == where[1] && where[2] == where[3] && where[0] != where[2];
            if (round >= ROUNDS - COUNTED) {
                blocks += ok;
                snprintf(seen[round - (ROUNDS - COUNTED)], sizeof seen[0], "%d%d%d%d",
                         where[0], where[1], where[2], where[3]);
            }
        } else {
            MPI_CHECK(MPI_Send(&cpu, 1, MPI_INT, 0, 3, MPI_COMM_WORLD));
        }
    }
    if (ot_rank == 0 && ncpu == 2) {
        char all[COUNTED * 17 + 1] = "";
        for (int i = 0; i < COUNTED; i++) {
            strcat(all, seen[i]);
            strcat(all, " ");
        }
        CHECK(blocks > COUNTED / 2,
              "ranks in blocks (0,1 | 2,3) in %d of the last %d rounds; CPUs of ranks 0-3: %s",
              blocks, COUNTED, all);
    } else if (ot_rank == 0) {
        printf("oversub_placement: one usable CPU, placement not checked\n");
    }
    ot_pass();
}
