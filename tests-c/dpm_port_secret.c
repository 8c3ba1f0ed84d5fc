/* A port's name is what authorizes a connection to it (as with MPICH, whose port names carry
 * host and port): OxiMPI's names, `oximpi-port:<id>:<secret>:<number>:<host>@<ip>:<port>`,
 * hold a random secret of the port that connectors prove with an HMAC (never sent). Rank 0
 * opens a port and sends its name to rank 1, which connects over MPI_COMM_SELF (errors
 * returned) with: the secret changed, the port number changed (no such port), and a name
 * that is no port name at all — each fails with MPI_ERR_PORT, and none reaches rank 0's
 * accept — then with the true name, which works: a value both ways over the new
 * intercommunicator, disconnect, close. OxiMPI's name format only (skip=mpich: Debian's
 * MPICH, ch4:ucx, has no ports at all). */
#include "oxitest.h"

/* Field `k` (0-based, after the prefix) of a port name, changed in its first digit. */
static void forge(char *name, int k)
{
    char *p = strchr(name, ':');
    for (int i = 0; i < k && p; i++)
        p = strchr(p + 1, ':');
    CHECK(p != NULL, "port name '%s' has no field %d", name, k);
    p++;
    *p = *p == '1' ? '2' : '1';
}

static void refused(const char *name, const char *why)
{
    MPI_Info info;
    MPI_CHECK(MPI_Info_create(&info));
    MPI_CHECK(MPI_Info_set(info, "timeout", "10"));
    MPI_Comm c = MPI_COMM_NULL;
    int rc = MPI_Comm_connect(name, info, 0, MPI_COMM_SELF, &c);
    int cls = -1;
    MPI_Error_class(rc, &cls);
    CHECK(rc != MPI_SUCCESS && c == MPI_COMM_NULL, "%s: the connect succeeded", why);
    CHECK(cls == MPI_ERR_PORT, "%s: error class %d, want MPI_ERR_PORT", why, cls);
    MPI_Info_free(&info);
}

int main(int argc, char **argv)
{
    ot_init("dpm_port_secret", &argc, &argv);
    CHECK(ot_size == 2, "needs 2 ranks");
    char port[MPI_MAX_PORT_NAME] = "";
    MPI_Comm inter;
    if (ot_rank == 0) {
        MPI_CHECK(MPI_Open_port(MPI_INFO_NULL, port));
        CHECK(strncmp(port, "oximpi-port:", 12) == 0, "not OxiMPI's port name: %s", port);
        CHECK(strchr(port, '@') != NULL, "the port name has no address: %s", port);
        MPI_CHECK(MPI_Send(port, MPI_MAX_PORT_NAME, MPI_CHAR, 1, 1, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Comm_accept(port, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter));
    } else {
        MPI_CHECK(MPI_Recv(port, MPI_MAX_PORT_NAME, MPI_CHAR, 0, 1, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
        char bad[MPI_MAX_PORT_NAME];
        strcpy(bad, port);
        forge(bad, 1);
        refused(bad, "a forged secret");
        strcpy(bad, port);
        forge(bad, 2);
        refused(bad, "another port number");
        refused("oximpi-port:not-a-port", "a malformed name");
        MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL));
        MPI_CHECK(MPI_Comm_connect(port, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter));
    }
    int out = 10 + ot_rank, in = -1;
    MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, 0, 2, &in, 1, MPI_INT, 0, 2, inter,
                           MPI_STATUS_IGNORE));
    CHECK(in == 11 - ot_rank, "got %d over the intercommunicator, want %d", in, 11 - ot_rank);
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    if (ot_rank == 0)
        MPI_CHECK(MPI_Close_port(port));
    return ot_pass();
}
