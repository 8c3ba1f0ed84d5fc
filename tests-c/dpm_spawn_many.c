/* MPI_Comm_spawn of 3 children with MPI_ARGV_NULL and MPI_ERRCODES_IGNORE (MPI 4.1 section
 * 11.3). The children form their own MPI_COMM_WORLD of size 3 with MPI_APPNUM 0 (spawned by
 * MPI_Comm_spawn), get no arguments, talk among themselves (a ring of Sendrecv and an
 * Allreduce on their world) and report to the parents over the intercommunicator, which the
 * parents check. The same executable plays both roles (MPI_Comm_get_parent decides). */
#include "oxitest.h"

#include <unistd.h>

#define NCHILD 3

static void self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    CHECK(n > 0, "readlink(/proc/self/exe) failed");
    buf[n] = 0;
}

static int child(int argc, MPI_Comm parent)
{
    ot_test_name = "dpm_spawn_many[child]";
    int size, rank, rsize, flag, *appnum = NULL;
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    ot_rank = rank;
    CHECK(size == NCHILD, "children's MPI_COMM_WORLD has size %d, expected %d", size, NCHILD);
    CHECK(argc == 1, "child got argc %d with MPI_ARGV_NULL, expected 1", argc);
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_APPNUM, &appnum, &flag));
    CHECK(flag, "MPI_APPNUM is not set in a spawned process");
    CHECK(*appnum == 0, "MPI_APPNUM %d in a process of MPI_Comm_spawn, expected 0", *appnum);

    /* The children among themselves: ring and Allreduce on their own world. */
    int right = (rank + 1) % size, left = (rank + size - 1) % size, got = -1;
    MPI_CHECK(MPI_Sendrecv(&rank, 1, MPI_INT, right, 5, &got, 1, MPI_INT, left, 5,
                           MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    CHECK(got == left, "child ring got %d, expected %d", got, left);
    int sum = -1;
    MPI_CHECK(MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    CHECK(sum == 0 + 1 + 2, "children's Allreduce %d, expected 3", sum);

    /* Local and remote views of the intercommunicator. */
    int lsize, lrank;
    MPI_CHECK(MPI_Comm_size(parent, &lsize));
    MPI_CHECK(MPI_Comm_rank(parent, &lrank));
    MPI_CHECK(MPI_Comm_remote_size(parent, &rsize));
    CHECK(lsize == NCHILD && lrank == rank, "child inter size %d rank %d", lsize, lrank);

    /* Report to parent rank 0: (world size, world rank, Allreduce result, parent count). */
    int report[4] = {size, rank, sum, rsize};
    MPI_CHECK(MPI_Send(report, 4, MPI_INT, 0, 7, parent));
    /* Every parent rank sends its rank to every child. */
    for (int p = 0; p < rsize; p++) {
        int v = -1;
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, p, 8, parent, MPI_STATUS_IGNORE));
        CHECK(v == 10 * p + rank, "child got %d from parent %d, expected %d", v, p,
              10 * p + rank);
    }
    MPI_CHECK(MPI_Comm_disconnect(&parent));
    ot_sync(MPI_COMM_WORLD);
    MPI_CHECK(MPI_Finalize());
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Comm parent;
    ot_test_name = "dpm_spawn_many";
    MPI_CHECK(MPI_Init(&argc, &argv));
    MPI_CHECK(MPI_Comm_get_parent(&parent));
    if (parent != MPI_COMM_NULL)
        return child(argc, parent);
    ot_setup("dpm_spawn_many");
    int me = ot_rank;

    /* The parent job was started by mpiexec with one command: if MPI_APPNUM is set, it is 0. */
    int flag, *appnum = NULL;
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_APPNUM, &appnum, &flag));
    CHECK(!flag || *appnum == 0, "parent MPI_APPNUM %d, expected 0", flag ? *appnum : -1);

    char exe[4096];
    self_path(exe, sizeof exe);
    MPI_Comm inter = MPI_COMM_NULL;
    MPI_CHECK(MPI_Comm_spawn(exe, MPI_ARGV_NULL, NCHILD, MPI_INFO_NULL, 0, MPI_COMM_WORLD,
                             &inter, MPI_ERRCODES_IGNORE));
    CHECK(inter != MPI_COMM_NULL, "MPI_Comm_spawn returned MPI_COMM_NULL");
    int rsize;
    MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
    CHECK(rsize == NCHILD, "remote size %d, expected %d", rsize, NCHILD);

    if (me == 0) {
        int seen[NCHILD] = {0};
        for (int i = 0; i < NCHILD; i++) {
            int report[4] = {-1, -1, -1, -1};
            MPI_Status st;
            MPI_CHECK(MPI_Recv(report, 4, MPI_INT, MPI_ANY_SOURCE, 7, inter, &st));
            int c = st.MPI_SOURCE;
            CHECK(c >= 0 && c < NCHILD && !seen[c], "report from unexpected child %d", c);
            seen[c] = 1;
            CHECK(report[0] == NCHILD && report[1] == c, "child %d reports world size %d rank %d",
                  c, report[0], report[1]);
            CHECK(report[2] == 3, "child %d reports Allreduce %d, expected 3", c, report[2]);
            CHECK(report[3] == ot_size, "child %d sees %d parents, expected %d", c, report[3],
                  ot_size);
        }
    }
    for (int c = 0; c < NCHILD; c++) {
        int v = 10 * me + c;
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, c, 8, inter));
    }
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    return ot_pass();
}
