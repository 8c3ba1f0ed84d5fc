/* Nested MPI_Comm_spawn: the parent job spawns a child, which spawns a grandchild. A value
 * travels down (parent -> child -> grandchild), is transformed at each level and comes back
 * up, so each level checks what the one below did:
 *   parent rank 0 sends V; child sends 3*V down; grandchild returns 3*V + 1;
 *   child returns 2*(3*V + 1) + every parent rank's contribution (an inter Allreduce).
 * The role comes from argv[1] ("child" / "grandchild"), cross-checked with
 * MPI_Comm_get_parent. Each level disconnects from the level below before finalizing. */
#include "oxitest.h"

#include <unistd.h>

#define V 7

static void self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    CHECK(n > 0, "readlink(/proc/self/exe) failed");
    buf[n] = 0;
}

/* Spawns one copy of this program with argument ROLE from a one-process world. */
static MPI_Comm spawn_one(const char *role)
{
    char exe[4096];
    self_path(exe, sizeof exe);
    char *args[] = {(char *)role, NULL};
    int err = -1;
    MPI_Comm inter = MPI_COMM_NULL;
    MPI_CHECK(MPI_Comm_spawn(exe, args, 1, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter, &err));
    CHECK(err == MPI_SUCCESS, "spawning the %s: errcode %d", role, err);
    int rsize = -1;
    MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
    CHECK(rsize == 1, "the %s's intercommunicator has remote size %d", role, rsize);
    return inter;
}

static int grandchild(MPI_Comm parent)
{
    ot_test_name = "dpm_spawn_nested[grandchild]";
    ot_rank = 0;
    int rsize, x = -1;
    MPI_CHECK(MPI_Comm_remote_size(parent, &rsize));
    CHECK(rsize == 1, "grandchild's parent group has %d processes, expected 1", rsize);
    MPI_CHECK(MPI_Recv(&x, 1, MPI_INT, 0, 1, parent, MPI_STATUS_IGNORE));
    CHECK(x == 3 * V, "grandchild got %d, expected %d", x, 3 * V);
    x += 1;
    MPI_CHECK(MPI_Send(&x, 1, MPI_INT, 0, 2, parent));
    MPI_CHECK(MPI_Comm_disconnect(&parent));
    MPI_CHECK(MPI_Finalize());
    return 0;
}

static int child(MPI_Comm parent)
{
    ot_test_name = "dpm_spawn_nested[child]";
    ot_rank = 0;
    int nparents, x = -1;
    MPI_CHECK(MPI_Comm_remote_size(parent, &nparents));
    MPI_CHECK(MPI_Recv(&x, 1, MPI_INT, 0, 1, parent, MPI_STATUS_IGNORE));
    CHECK(x == V, "child got %d from the parent, expected %d", x, V);

    MPI_Comm down = spawn_one("grandchild");
    /* The child's own parent did not change by spawning. */
    MPI_Comm p2;
    MPI_CHECK(MPI_Comm_get_parent(&p2));
    CHECK(p2 == parent, "MPI_Comm_get_parent changed after the child spawned");
    int y = 3 * x;
    MPI_CHECK(MPI_Send(&y, 1, MPI_INT, 0, 1, down));
    MPI_CHECK(MPI_Recv(&y, 1, MPI_INT, 0, 2, down, MPI_STATUS_IGNORE));
    CHECK(y == 3 * V + 1, "child got %d from the grandchild, expected %d", y, 3 * V + 1);
    MPI_CHECK(MPI_Comm_disconnect(&down));

    int sum = -1, zero = 0;
    MPI_CHECK(MPI_Allreduce(&zero, &sum, 1, MPI_INT, MPI_SUM, parent));
    CHECK(sum == nparents * (nparents + 1) / 2, "child's inter Allreduce %d", sum);
    int up = 2 * y + sum;
    MPI_CHECK(MPI_Send(&up, 1, MPI_INT, 0, 2, parent));
    MPI_CHECK(MPI_Comm_disconnect(&parent));
    MPI_CHECK(MPI_Finalize());
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Comm parent;
    ot_test_name = "dpm_spawn_nested";
    MPI_CHECK(MPI_Init(&argc, &argv));
    MPI_CHECK(MPI_Comm_get_parent(&parent));
    if (argc > 1 && strcmp(argv[1], "grandchild") == 0) {
        CHECK(parent != MPI_COMM_NULL, "grandchild without a parent");
        return grandchild(parent);
    }
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        CHECK(parent != MPI_COMM_NULL, "child without a parent");
        return child(parent);
    }
    CHECK(parent == MPI_COMM_NULL, "top-level job has a parent");
    ot_setup("dpm_spawn_nested");

    /* Collective over the parents' world: root 0 spawns. */
    char exe[4096];
    self_path(exe, sizeof exe);
    char *args[] = {"child", NULL};
    MPI_Comm inter;
    MPI_CHECK(MPI_Comm_spawn(exe, args, 1, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter,
                             MPI_ERRCODES_IGNORE));
    if (ot_rank == 0) {
        int v = V;
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 1, inter));
    }
    int mine = ot_rank + 1, sum = -1;
    MPI_CHECK(MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, inter));
    CHECK(sum == 0, "parent's inter Allreduce got %d from the child, expected 0", sum);
    if (ot_rank == 0) {
        int up = -1, want = 2 * (3 * V + 1) + ot_size * (ot_size + 1) / 2;
        MPI_CHECK(MPI_Recv(&up, 1, MPI_INT, 0, 2, inter, MPI_STATUS_IGNORE));
        CHECK(up == want, "parent got %d back up, expected %d", up, want);
    }
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    return ot_pass();
}
