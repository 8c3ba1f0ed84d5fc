/* MPI_Comm_connect to a port that exists but where nobody accepts must fail, with an error
 * of class MPI_ERR_PORT, once its time limit has passed (issue 11 class 11), as MPICH's
 * does: the limit is the info key "timeout" (seconds), else the environment variable
 * MPIR_CVAR_CH4_COMM_CONNECT_TIMEOUT (seconds, default 180).
 *
 * Rank 0 opens a port and sends its name to rank 1, then waits. Rank 1, on MPI_COMM_SELF with
 * MPI_ERRORS_RETURN:
 *   1. connects with info timeout=2: MPI_ERR_PORT, after about 2 s (less than 60 s);
 *   2. sets MPIR_CVAR_CH4_COMM_CONNECT_TIMEOUT=1 and connects with MPI_INFO_NULL: MPI_ERR_PORT;
 *   3. info timeout=abc is refused (MPI_ERR_INFO_VALUE) without waiting.
 * Then rank 1 tells rank 0, which accepts, and rank 1 connects once more: the connections
 * that gave up must not stand in the way, the new one must meet the accept and carry a
 * message. */
#include "oxitest.h"
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    ot_init("dpm_connect_timeout", &argc, &argv);
    char port[MPI_MAX_PORT_NAME];
    MPI_Comm inter;
    if (ot_rank == 0) {
        MPI_CHECK(MPI_Open_port(MPI_INFO_NULL, port));
        MPI_CHECK(MPI_Send(port, MPI_MAX_PORT_NAME, MPI_CHAR, 1, 1, MPI_COMM_WORLD));
        int go = 0;
        MPI_CHECK(MPI_Recv(&go, 1, MPI_INT, 1, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Comm_accept(port, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter));
        int v = -1;
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 0, 3, inter, MPI_STATUS_IGNORE));
        CHECK(v == 4242, "accepted side got %d", v);
        MPI_CHECK(MPI_Comm_disconnect(&inter));
        MPI_CHECK(MPI_Close_port(port));
    } else if (ot_rank == 1) {
        MPI_CHECK(MPI_Recv(port, MPI_MAX_PORT_NAME, MPI_CHAR, 0, 1, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
        MPI_Info info;
        MPI_CHECK(MPI_Info_create(&info));
        MPI_CHECK(MPI_Info_set(info, "timeout", "2"));
        double t0 = now();
        inter = MPI_COMM_NULL;
        CHECK_CLASS(MPI_Comm_connect(port, info, 0, MPI_COMM_SELF, &inter), MPI_ERR_PORT);
        double dt = now() - t0;
        CHECK(dt >= 1.5 && dt < 60, "connect with timeout=2 failed after %.1f s", dt);
        CHECK(inter == MPI_COMM_NULL, "failed connect left newcomm set");

        setenv("MPIR_CVAR_CH4_COMM_CONNECT_TIMEOUT", "1", 1);
        t0 = now();
        CHECK_CLASS(MPI_Comm_connect(port, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter),
                    MPI_ERR_PORT);
        dt = now() - t0;
        CHECK(dt >= 0.5 && dt < 60, "connect under the variable failed after %.1f s", dt);

        MPI_CHECK(MPI_Info_set(info, "timeout", "abc"));
        CHECK_CLASS(MPI_Comm_connect(port, info, 0, MPI_COMM_SELF, &inter),
                    MPI_ERR_INFO_VALUE);
        MPI_CHECK(MPI_Info_free(&info));

        int go = 1;
        MPI_CHECK(MPI_Send(&go, 1, MPI_INT, 0, 2, MPI_COMM_WORLD));
        unsetenv("MPIR_CVAR_CH4_COMM_CONNECT_TIMEOUT");
        MPI_CHECK(MPI_Comm_connect(port, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter));
        int v = 4242;
        MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 3, inter));
        MPI_CHECK(MPI_Comm_disconnect(&inter));
    }
    return ot_pass();
}
