/* Failing MPI_Comm_spawn calls (MPI 4.1 section 11.3.2), under MPI_ERRORS_RETURN:
 *  - a command that does not exist: the call returns an error of class MPI_ERR_SPAWN (the
 *    standard's class for "unable to spawn"), every entry of array_of_errcodes is not
 *    MPI_SUCCESS, at every rank of the collective;
 *  - maxprocs -1 (spawned alone over MPI_COMM_SELF, where the caller is the root):
 *    MPI_ERR_ARG; maxprocs 0: an error (the standard names no class);
 *  - root out of range (size, and -1) over MPI_COMM_WORLD: MPI_ERR_ROOT (MPI_ERR_ARG is
 *    accepted too: the standard names no class for spawn's root; Open MPI 5 gives ARG).
 * Afterwards the library still works: traffic on MPI_COMM_WORLD and a successful spawn of one
 * child that answers. */
#include "oxitest.h"

#include <unistd.h>

#define MISSING "/nonexistent-dir-oximpi/dpm_no_such_program"

static void self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    CHECK(n > 0, "readlink(/proc/self/exe) failed");
    buf[n] = 0;
}

static int error_class(int rc)
{
    int cls = -1;
    MPI_CHECK(MPI_Error_class(rc, &cls));
    return cls;
}

static int child(MPI_Comm parent)
{
    ot_test_name = "dpm_spawn_errors[child]";
    ot_rank = 0;
    int v = -1;
    MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, 1, parent, MPI_STATUS_IGNORE));
    v += 1;
    MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 2, parent));
    MPI_CHECK(MPI_Comm_disconnect(&parent));
    MPI_CHECK(MPI_Finalize());
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Comm parent;
    ot_test_name = "dpm_spawn_errors";
    MPI_CHECK(MPI_Init(&argc, &argv));
    MPI_CHECK(MPI_Comm_get_parent(&parent));
    if (parent != MPI_COMM_NULL)
        return child(parent);
    ot_setup("dpm_spawn_errors");
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    MPI_Comm inter;
    int rc, cls;

    /* 1. A command that does not exist. */
    int errcodes[2] = {MPI_SUCCESS, MPI_SUCCESS};
    inter = MPI_COMM_NULL;
    rc = MPI_Comm_spawn(MISSING, MPI_ARGV_NULL, 2, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter,
                        errcodes);
    CHECK(rc != MPI_SUCCESS, "spawning a missing program succeeded");
    cls = error_class(rc);
    CHECK(cls == MPI_ERR_SPAWN, "spawning a missing program: class %d, expected MPI_ERR_SPAWN",
          cls);
    for (int i = 0; i < 2; i++)
        CHECK(errcodes[i] != MPI_SUCCESS, "missing program: errcodes[%d] is MPI_SUCCESS", i);
    /* No process was started: if an intercommunicator came back anyway, it must be usable
     * enough to be released (the standard does not say; MPI_COMM_NULL is the norm). */
    if (inter != MPI_COMM_NULL)
        MPI_CHECK(MPI_Comm_disconnect(&inter));

    /* 2. maxprocs out of range, spawned alone (MPI_COMM_SELF, root 0 = this process). */
    inter = MPI_COMM_NULL;
    rc = MPI_Comm_spawn(MISSING, MPI_ARGV_NULL, -1, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter,
                        MPI_ERRCODES_IGNORE);
    CHECK(rc != MPI_SUCCESS, "spawn with maxprocs -1 succeeded");
    cls = error_class(rc);
    CHECK(cls == MPI_ERR_ARG, "spawn with maxprocs -1: class %d, expected MPI_ERR_ARG", cls);
    CHECK(inter == MPI_COMM_NULL, "spawn with maxprocs -1 returned a communicator");
    /* maxprocs 0 cannot succeed (an intercommunicator needs a non-empty remote group), but
     * the standard names no class for it: only the failure is checked. */
    rc = MPI_Comm_spawn(MISSING, MPI_ARGV_NULL, 0, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter,
                        MPI_ERRCODES_IGNORE);
    CHECK(rc != MPI_SUCCESS, "spawn with maxprocs 0 succeeded");

    /* 3. Root out of range: every rank sees the same bad root, so every rank fails alone. */
    int bad_roots[2] = {ot_size, -1};
    for (int i = 0; i < 2; i++) {
        rc = MPI_Comm_spawn(MISSING, MPI_ARGV_NULL, 1, MPI_INFO_NULL, bad_roots[i],
                            MPI_COMM_WORLD, &inter, MPI_ERRCODES_IGNORE);
        CHECK(rc != MPI_SUCCESS, "spawn with root %d succeeded", bad_roots[i]);
        cls = error_class(rc);
        CHECK(cls == MPI_ERR_ROOT || cls == MPI_ERR_ARG,
              "spawn with root %d: class %d, expected MPI_ERR_ROOT (or MPI_ERR_ARG)",
              bad_roots[i], cls);
    }

    /* 4. Still usable: a ring on WORLD, then a real spawn. */
    int right = (ot_rank + 1) % ot_size, left = (ot_rank + ot_size - 1) % ot_size, got = -1;
    MPI_CHECK(MPI_Sendrecv(&ot_rank, 1, MPI_INT, right, 9, &got, 1, MPI_INT, left, 9,
                           MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    CHECK(got == left, "ring after the failed spawns got %d, expected %d", got, left);

    char exe[4096];
    self_path(exe, sizeof exe);
    int err = -1;
    MPI_CHECK(MPI_Comm_spawn(exe, MPI_ARGV_NULL, 1, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter,
                             &err));
    CHECK(err == MPI_SUCCESS, "spawn after the failures: errcode %d", err);
    if (ot_rank == 0) {
        int v = 41;
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 1, inter));
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, 2, inter, MPI_STATUS_IGNORE));
        CHECK(v == 42, "the child answered %d, expected 42", v);
    }
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    return ot_pass();
}
