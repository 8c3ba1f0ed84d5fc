/* A one-rank parent whose children are gone must get through MPI_Finalize (issue 11 class
 * 8: seen as a hang after the parent printed its result, in spawn programs shaped like
 * MPICH's spawn1, spawn2 and spawnintra; not reproduced since, kept as a regression test).
 *
 * The parent (run at np=1, also at 2) spawns two children three times:
 *   1. spawn1's shape: the parent sends each child its rank, each child answers with
 *      MPI_Ssend, both sides MPI_Comm_disconnect;
 *   2. spawn2's shape: the same, both sides MPI_Comm_free (no disconnect);
 *   3. spawnintra's shape: MPI_Intercomm_merge both ways, the merged communicators and the
 *      intercommunicator freed.
 * The children then call MPI_Finalize and exit, while the parent still runs; it prints PASS
 * and calls MPI_Finalize, which must return (the runner's time limit catches a hang). */
#include "oxitest.h"

#include <unistd.h>

static void self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    CHECK(n > 0, "readlink(/proc/self/exe) failed");
    buf[n] = 0;
}

/* Both sides of one round; `parent` says which side this is. */
static void round_trip(MPI_Comm inter, int parent, int shape)
{
    int rank, rsize, v;
    MPI_CHECK(MPI_Comm_rank(inter, &rank));
    MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
    if (parent) {
        CHECK(rsize == 2, "shape %d: %d children, expected 2", shape, rsize);
        if (rank == 0) {
            for (int i = 0; i < rsize; i++)
                MPI_CHECK(MPI_Send(&i, 1, MPI_INT, i, 0, inter));
            for (int i = 0; i < rsize; i++) {
                MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, i, 1, inter, MPI_STATUS_IGNORE));
                CHECK(v == 100 + i, "shape %d: child %d answered %d", shape, i, v);
            }
        }
    } else {
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, 0, inter, MPI_STATUS_IGNORE));
        CHECK(v == rank, "child %d got %d", rank, v);
        v = 100 + rank;
        MPI_CHECK(MPI_Ssend(&v, 1, MPI_INT, 0, 1, inter));
    }
    if (shape == 3) {
        MPI_Comm a, b;
        MPI_CHECK(MPI_Intercomm_merge(inter, !parent, &a));
        MPI_CHECK(MPI_Intercomm_merge(inter, parent, &b));
        int sa, sb;
        MPI_CHECK(MPI_Comm_size(a, &sa));
        MPI_CHECK(MPI_Comm_size(b, &sb));
        CHECK(sa == sb, "merged sizes %d and %d", sa, sb);
        MPI_CHECK(MPI_Comm_free(&a));
        MPI_CHECK(MPI_Comm_free(&b));
    }
    if (shape == 1)
        MPI_CHECK(MPI_Comm_disconnect(&inter));
    else
        MPI_CHECK(MPI_Comm_free(&inter));
}

int main(int argc, char **argv)
{
    MPI_Comm parent;
    MPI_CHECK(MPI_Init(&argc, &argv));
    MPI_CHECK(MPI_Comm_get_parent(&parent));
    if (parent != MPI_COMM_NULL) {
        ot_test_name = "dpm_spawn_finalize[child]";
        round_trip(parent, 0, atoi(argv[1]));
        MPI_CHECK(MPI_Finalize());
        return 0;
    }
    ot_setup("dpm_spawn_finalize");
    char exe[4096];
    self_path(exe, sizeof exe);
    for (int shape = 1; shape <= 3; shape++) {
        char arg[8];
        snprintf(arg, sizeof arg, "%d", shape);
        char *args[] = {arg, NULL};
        MPI_Comm inter;
        int codes[2] = {-1, -1};
        MPI_CHECK(MPI_Comm_spawn(exe, args, 2, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter, codes));
        CHECK(codes[0] == MPI_SUCCESS && codes[1] == MPI_SUCCESS, "errcodes %d %d", codes[0],
              codes[1]);
        round_trip(inter, 1, shape);
    }
    return ot_pass();
}
