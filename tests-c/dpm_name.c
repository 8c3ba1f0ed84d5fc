/* Name publishing within one job (MPI 4.1 section 11.4.4): MPI_Publish_name,
 * MPI_Lookup_name, MPI_Unpublish_name.
 * Rank 0 (side A) opens a port and publishes it under a service name unique to this run
 * (rank 0's pid and the time), then sends the service name to the other ranks (side B). After
 * a barrier, B looks the service up and must get exactly the published port, then connects
 * to it while rank 0 accepts (so the looked-up name really works), one value each way.
 * Errors, under MPI_ERRORS_RETURN (set on MPI_COMM_WORLD and MPI_COMM_SELF: MPI 4 raises
 * errors of calls without an object on MPI_COMM_SELF, earlier versions on WORLD):
 *   - lookup of a name never published: MPI_ERR_NAME (every rank);
 *   - unpublish, then unpublish again: MPI_ERR_SERVICE;
 *   - lookup after the unpublish: MPI_ERR_NAME. */
#include "oxitest.h"

#include <time.h>
#include <unistd.h>

#define SVC_LEN 128

int main(int argc, char **argv)
{
    ot_init("dpm_name", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    int me = ot_rank, rc, cls;
    char service[SVC_LEN] = "", unknown[SVC_LEN + 16] = "";
    char port[MPI_MAX_PORT_NAME] = "", found[MPI_MAX_PORT_NAME] = "";

    if (me == 0) {
        snprintf(service, sizeof service, "oximpi-dpm_name-%ld-%ld", (long)getpid(),
                 (long)time(NULL));
        MPI_CHECK(MPI_Open_port(MPI_INFO_NULL, port));
        MPI_CHECK(MPI_Publish_name(service, MPI_INFO_NULL, port));
        for (int r = 1; r < ot_size; r++) {
            MPI_CHECK(MPI_Send(service, SVC_LEN, MPI_CHAR, r, 1, MPI_COMM_WORLD));
            MPI_CHECK(MPI_Send(port, MPI_MAX_PORT_NAME, MPI_CHAR, r, 2, MPI_COMM_WORLD));
        }
    } else {
        MPI_CHECK(MPI_Recv(service, SVC_LEN, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Recv(port, MPI_MAX_PORT_NAME, MPI_CHAR, 0, 2, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE));
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* A name nobody published. */
    snprintf(unknown, sizeof unknown, "%s-unknown", service);
    rc = MPI_Lookup_name(unknown, MPI_INFO_NULL, found);
    CHECK(rc != MPI_SUCCESS, "lookup of unpublished '%s' succeeded ('%s')", unknown, found);
    MPI_CHECK(MPI_Error_class(rc, &cls));
    CHECK(cls == MPI_ERR_NAME, "lookup of an unpublished name: class %d, expected MPI_ERR_NAME",
          cls);

    /* Side B: the published name gives exactly the port; connect to it. */
    MPI_Comm side, inter;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, me == 0 ? 0 : 1, me, &side));
    if (me != 0) {
        found[0] = 0;
        MPI_CHECK(MPI_Lookup_name(service, MPI_INFO_NULL, found));
        CHECK(strcmp(found, port) == 0, "lookup of '%s' gave '%s', published '%s'", service,
              found, port);
        MPI_CHECK(MPI_Comm_connect(found, MPI_INFO_NULL, 0, side, &inter));
        int v = -1;
        MPI_CHECK(MPI_Bcast(&v, 1, MPI_INT, 0, inter));
        CHECK(v == 4711, "value from the acceptor %d", v);
        int mine = me;
        MPI_CHECK(MPI_Reduce(&mine, NULL, 1, MPI_INT, MPI_SUM, 0, inter));
    } else {
        MPI_CHECK(MPI_Comm_accept(port, MPI_INFO_NULL, 0, side, &inter));
        int v = 4711, sum = -1;
        MPI_CHECK(MPI_Bcast(&v, 1, MPI_INT, MPI_ROOT, inter));
        MPI_CHECK(MPI_Reduce(NULL, &sum, 1, MPI_INT, MPI_SUM, MPI_ROOT, inter));
        CHECK(sum == ot_size * (ot_size - 1) / 2, "sum from the connectors %d", sum);
    }
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    MPI_CHECK(MPI_Comm_free(&side));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* Unpublish; a second unpublish of the same name fails. */
    if (me == 0) {
        MPI_CHECK(MPI_Unpublish_name(service, MPI_INFO_NULL, port));
        rc = MPI_Unpublish_name(service, MPI_INFO_NULL, port);
        CHECK(rc != MPI_SUCCESS, "second MPI_Unpublish_name of '%s' succeeded", service);
        MPI_CHECK(MPI_Error_class(rc, &cls));
        CHECK(cls == MPI_ERR_SERVICE,
              "second unpublish: class %d, expected MPI_ERR_SERVICE", cls);
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (me != 0) {
        rc = MPI_Lookup_name(service, MPI_INFO_NULL, found);
        CHECK(rc != MPI_SUCCESS, "lookup after the unpublish succeeded ('%s')", found);
        MPI_CHECK(MPI_Error_class(rc, &cls));
        CHECK(cls == MPI_ERR_NAME, "lookup after the unpublish: class %d, expected MPI_ERR_NAME",
              cls);
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (me == 0)
        MPI_CHECK(MPI_Close_port(port));
    return ot_pass();
}
