/* Ranks whose CPU affinity masks differ still agree on every collective's route: after
 * MPI_Init the odd ranks pin themselves to one CPU, so they count 1 usable CPU where the
 * even ranks count all of theirs, and then a fresh communicator (its shared-memory region
 * is made at its first collective) runs bcasts, allreduces and reduces from 8 B to past
 * 1 MiB, every root. The routes (staged, single-copy, split, chained) depend on whether the
 * node is oversubscribed and on how many ranks share a CPU: each rank deciding from its own
 * mask picked different routes for one call (a hang) until rank 0's view was made the
 * communicator's. Every byte is checked. On a 1-CPU machine the masks cannot differ and the
 * test checks the collectives only. */
#define _GNU_SOURCE
#include "shmcoll.h"

static void check(MPI_Comm comm, int bytes, int root, int k)
{
    int rank, size;
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    MPI_CHECK(MPI_Comm_size(comm, &size));
    unsigned char *b = malloc(bytes);
    CHECK(b != NULL, "malloc %d", bytes);
    for (int i = 0; i < bytes; i++)
        b[i] = rank == root ? (unsigned char)(i * 7 + root + k) : 0;
    MPI_CHECK(MPI_Bcast(b, bytes, MPI_BYTE, root, comm));
    for (int i = 0; i < bytes; i++)
        CHECK(b[i] == (unsigned char)(i * 7 + root + k), "bcast %d B root %d: byte %d = %d",
              bytes, root, i, b[i]);
    free(b);

    int n = bytes / 4 + 1;
    int *in = malloc(4 * (size_t)n), *out = malloc(4 * (size_t)n);
    CHECK(in != NULL && out != NULL, "malloc %d ints", n);
    for (int i = 0; i < n; i++)
        in[i] = shm_val(rank, i, k);
    MPI_CHECK(MPI_Allreduce(in, out, n, MPI_INT, MPI_SUM, comm));
    for (int i = 0; i < n; i++) {
        int want = 0;
        for (int r = 0; r < size; r++)
            want += shm_val(r, i, k);
        CHECK(out[i] == want, "allreduce %d ints: element %d = %d, want %d", n, i, out[i], want);
    }
    for (int i = 0; i < n; i++)
        out[i] = -1;
    MPI_CHECK(MPI_Reduce(in, out, n, MPI_INT, MPI_MAX, root, comm));
    if (rank == root)
        for (int i = 0; i < n; i++) {
            int want = 0;
            for (int r = 0; r < size; r++)
                if (shm_val(r, i, k) > want)
                    want = shm_val(r, i, k);
            CHECK(out[i] == want, "reduce %d ints root %d: element %d = %d, want %d", n, root,
                  i, out[i], want);
        }
    free(in);
    free(out);
}

int main(int argc, char **argv)
{
    ot_init("shmcoll_affinity", &argc, &argv);
    cpu_set_t all;
    shm_pin_odd_ranks(&all);
    MPI_Comm comm;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm));
    const int sizes[] = {8, 4096, 40000, 70001, 131071, 300000, 1048576 + 3};
    for (int k = 0; k < 2; k++)
        for (int s = 0; s < (int)(sizeof sizes / sizeof sizes[0]); s++)
            for (int root = 0; root < ot_size; root++)
                check(comm, sizes[s], root, k);
    MPI_CHECK(MPI_Comm_free(&comm));
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0, "sched_setaffinity back");
    return ot_pass();
}
