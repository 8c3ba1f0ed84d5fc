/* MPI_Comm_spawn of one child (MPI 4.1 section 11.3). The same executable plays both roles:
 * MPI_Comm_get_parent tells them apart (MPI_COMM_NULL in the parent job).
 *
 * Parent world of N ranks spawns 1 child with an argv that the child checks (an argument
 * with a space in it must arrive as one argument); array_of_errcodes must say MPI_SUCCESS.
 * Over the intercommunicator: sizes and remote sizes, Send/Recv both ways with every parent
 * rank, a Bcast rooted in each group (MPI_ROOT / MPI_PROC_NULL), an Allreduce (each group
 * gets the other group's sum), then Intercomm_merge (parents low, child high) and an
 * Allreduce on the merged communicator with known results; Comm_disconnect on both sides.
 * The child ends with MPI_Finalize and exit 0 (the launcher reports a child's failure). */
#include "oxitest.h"

#include <unistd.h>

/* Values the parents and the child agree on. */
#define CHILD_BCAST 4242
#define CHILD_CONTRIB 1000
#define PARENT_BCAST 777

/* Absolute path of this executable, so the child is the same program whatever the cwd. */
static void self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    CHECK(n > 0, "readlink(/proc/self/exe) failed");
    buf[n] = 0;
}

static int child(int argc, char **argv, MPI_Comm parent)
{
    ot_test_name = "dpm_spawn1[child]";
    ot_rank = 0;
    int size, rsize, rank, inter;
    CHECK(argc == 3, "child argc %d, expected 3 (program + 2 arguments)", argc);
    CHECK(strcmp(argv[1], "alpha") == 0, "child argv[1] '%s', expected 'alpha'", argv[1]);
    CHECK(strcmp(argv[2], "beta gamma") == 0, "child argv[2] '%s', expected 'beta gamma'",
          argv[2]);
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    CHECK(size == 1, "child MPI_COMM_WORLD size %d, expected 1", size);
    MPI_CHECK(MPI_Comm_test_inter(parent, &inter));
    CHECK(inter, "the parent communicator is not an intercommunicator");
    MPI_CHECK(MPI_Comm_size(parent, &size));
    MPI_CHECK(MPI_Comm_rank(parent, &rank));
    MPI_CHECK(MPI_Comm_remote_size(parent, &rsize));
    CHECK(size == 1 && rank == 0, "child local size %d rank %d, expected 1 and 0", size, rank);
    CHECK(rsize >= 1, "child sees remote size %d", rsize);

    /* Point-to-point with every parent rank, both directions. */
    for (int p = 0; p < rsize; p++) {
        int v = -1;
        MPI_Status st;
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, p, 1, parent, &st));
        CHECK(v == 100 + p, "child got %d from parent %d, expected %d", v, p, 100 + p);
        CHECK(st.MPI_SOURCE == p && st.MPI_TAG == 1, "child status source %d tag %d",
              st.MPI_SOURCE, st.MPI_TAG);
        int back = 200 + p;
        MPI_CHECK(MPI_Send(&back, 1, MPI_INT, p, 2, parent));
    }

    /* Bcast rooted at parent rank 0, then rooted at the child (MPI_ROOT here). */
    int b = -1;
    MPI_CHECK(MPI_Bcast(&b, 1, MPI_INT, 0, parent));
    CHECK(b == PARENT_BCAST, "child Bcast from parent 0 got %d, expected %d", b, PARENT_BCAST);
    b = CHILD_BCAST;
    MPI_CHECK(MPI_Bcast(&b, 1, MPI_INT, MPI_ROOT, parent));

    /* Intercommunicator Allreduce: the child gets the parents' sum 1+2+...+rsize. */
    int mine = CHILD_CONTRIB, sum = -1;
    MPI_CHECK(MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, parent));
    CHECK(sum == rsize * (rsize + 1) / 2, "child inter Allreduce %d, expected %d", sum,
          rsize * (rsize + 1) / 2);

    /* Merge with the child high: it is the last rank. */
    MPI_Comm merged;
    MPI_CHECK(MPI_Intercomm_merge(parent, 1, &merged));
    MPI_CHECK(MPI_Comm_size(merged, &size));
    MPI_CHECK(MPI_Comm_rank(merged, &rank));
    CHECK(size == rsize + 1 && rank == rsize, "child merged size %d rank %d, expected %d %d",
          size, rank, rsize + 1, rsize);
    int in[2] = {rank, rank * rank}, out[2] = {-1, -1};
    MPI_CHECK(MPI_Allreduce(in, out, 2, MPI_INT, MPI_SUM, merged));
    CHECK(out[0] == rsize * (rsize + 1) / 2, "child merged sum of ranks %d", out[0]);
    CHECK(out[1] == rsize * (rsize + 1) * (2 * rsize + 1) / 6, "child merged sum of squares %d",
          out[1]);
    MPI_CHECK(MPI_Comm_free(&merged));

    MPI_CHECK(MPI_Comm_disconnect(&parent));
    CHECK(parent == MPI_COMM_NULL, "Comm_disconnect did not set the handle to MPI_COMM_NULL");
    MPI_CHECK(MPI_Finalize());
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Comm parent;
    ot_test_name = "dpm_spawn1";
    MPI_CHECK(MPI_Init(&argc, &argv));
    MPI_CHECK(MPI_Comm_get_parent(&parent));
    if (parent != MPI_COMM_NULL)
        return child(argc, argv, parent);
    ot_setup("dpm_spawn1");
    int n = ot_size, me = ot_rank;

    char exe[4096];
    self_path(exe, sizeof exe);
    char *args[] = {"alpha", "beta gamma", NULL};
    int errcodes[1] = {-1};
    MPI_Comm inter = MPI_COMM_NULL;
    MPI_CHECK(MPI_Comm_spawn(exe, args, 1, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter, errcodes));
    CHECK(inter != MPI_COMM_NULL, "MPI_Comm_spawn returned MPI_COMM_NULL");
    CHECK(errcodes[0] == MPI_SUCCESS, "errcodes[0] = %d, expected MPI_SUCCESS", errcodes[0]);

    /* The parent job itself still has no parent. */
    MPI_Comm again;
    MPI_CHECK(MPI_Comm_get_parent(&again));
    CHECK(again == MPI_COMM_NULL, "get_parent in the parent job is not MPI_COMM_NULL");

    int size, rsize, rank, flag;
    MPI_CHECK(MPI_Comm_test_inter(inter, &flag));
    CHECK(flag, "the spawn result is not an intercommunicator");
    MPI_CHECK(MPI_Comm_size(inter, &size));
    MPI_CHECK(MPI_Comm_rank(inter, &rank));
    MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
    CHECK(size == n && rank == me, "parent local size %d rank %d, expected %d %d", size, rank,
          n, me);
    CHECK(rsize == 1, "parent remote size %d, expected 1", rsize);

    int v = 100 + me, back = -1;
    MPI_Status st;
    MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 1, inter));
    MPI_CHECK(MPI_Recv(&back, 1, MPI_INT, 0, 2, inter, &st));
    CHECK(back == 200 + me, "parent got %d back, expected %d", back, 200 + me);
    CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 2, "parent status source %d tag %d",
          st.MPI_SOURCE, st.MPI_TAG);

    int b = me == 0 ? PARENT_BCAST : -5;
    MPI_CHECK(MPI_Bcast(&b, 1, MPI_INT, me == 0 ? MPI_ROOT : MPI_PROC_NULL, inter));
    CHECK(b == (me == 0 ? PARENT_BCAST : -5), "MPI_PROC_NULL/MPI_ROOT buffer changed to %d", b);
    b = -1;
    MPI_CHECK(MPI_Bcast(&b, 1, MPI_INT, 0, inter));
    CHECK(b == CHILD_BCAST, "parent Bcast from the child got %d, expected %d", b, CHILD_BCAST);

    int mine = me + 1, sum = -1;
    MPI_CHECK(MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, inter));
    CHECK(sum == CHILD_CONTRIB, "parent inter Allreduce %d, expected %d", sum, CHILD_CONTRIB);

    MPI_Comm merged;
    MPI_CHECK(MPI_Intercomm_merge(inter, 0, &merged));
    MPI_CHECK(MPI_Comm_size(merged, &size));
    MPI_CHECK(MPI_Comm_rank(merged, &rank));
    CHECK(size == n + 1 && rank == me, "parent merged size %d rank %d, expected %d %d", size,
          rank, n + 1, me);
    int in[2] = {rank, rank * rank}, out[2] = {-1, -1};
    MPI_CHECK(MPI_Allreduce(in, out, 2, MPI_INT, MPI_SUM, merged));
    CHECK(out[0] == n * (n + 1) / 2, "parent merged sum of ranks %d", out[0]);
    CHECK(out[1] == n * (n + 1) * (2 * n + 1) / 6, "parent merged sum of squares %d", out[1]);
    MPI_CHECK(MPI_Comm_free(&merged));

    MPI_CHECK(MPI_Comm_disconnect(&inter));
    CHECK(inter == MPI_COMM_NULL, "Comm_disconnect did not set the handle to MPI_COMM_NULL");
    return ot_pass();
}
