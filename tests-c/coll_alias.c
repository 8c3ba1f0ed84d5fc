/* Aliased send and receive buffers (not MPI_IN_PLACE) in collectives are MPI_ERR_BUFFER, in
 * the blocking, nonblocking and persistent forms, as MPICH's checks decide it: the same
 * address (for the gather/scatter families: the send data's own block of the receive buffer,
 * with the same type and count), only when data moves. Zero counts and MPI_IN_PLACE are
 * accepted, and a refused call leaves the communicator usable. 1 or more ranks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size;
#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL coll_alias (rank %d) %s:%d: ", rank, __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); MPI_Abort(MPI_COMM_WORLD, 1); exit(1); } } while (0)
#define OK(call) do { int rc_ = (call); CHECK(rc_ == MPI_SUCCESS, "%s returned %d", #call, rc_); } while (0)
#define CLASS(call, want) do { int rc_ = (call), c_ = -1; MPI_Error_class(rc_, &c_); \
    CHECK(c_ == (want), "%s: class %d, want %s", #call, c_, #want); } while (0)

static MPI_Request req;
/* The three forms of collective `Name`/`name` with the same arguments, each refused with
 * MPI_ERR_BUFFER; the request of a refused call stays untouched. */
#define REFUSED3(Name, name, ...) do { \
        CLASS(MPI_##Name(__VA_ARGS__), MPI_ERR_BUFFER); \
        req = MPI_REQUEST_NULL; \
        CLASS(MPI_I##name(__VA_ARGS__, &req), MPI_ERR_BUFFER); \
        CHECK(req == MPI_REQUEST_NULL, "MPI_I" #name " set a request"); \
        CLASS(MPI_##Name##_init(__VA_ARGS__, MPI_INFO_NULL, &req), MPI_ERR_BUFFER); \
        CHECK(req == MPI_REQUEST_NULL, "MPI_" #Name "_init set a request"); \
    } while (0)
/* The three forms, all accepted and completed. */
#define ACCEPTED3(Name, name, ...) do { \
        OK(MPI_##Name(__VA_ARGS__)); \
        OK(MPI_I##name(__VA_ARGS__, &req)); \
        OK(MPI_Wait(&req, MPI_STATUS_IGNORE)); \
        OK(MPI_##Name##_init(__VA_ARGS__, MPI_INFO_NULL, &req)); \
        OK(MPI_Start(&req)); \
        OK(MPI_Wait(&req, MPI_STATUS_IGNORE)); \
        OK(MPI_Request_free(&req)); \
    } while (0)

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    MPI_Comm w = MPI_COMM_WORLD, self = MPI_COMM_SELF;

    int n = 4 * size + 8;
    int *b = calloc(n, sizeof(int)), *c = calloc(n, sizeof(int));
    int *cnt = malloc(sizeof(int) * size), *cnt2 = malloc(sizeof(int) * size);
    int *dsp = malloc(sizeof(int) * size);
    MPI_Datatype *ty = malloc(sizeof(MPI_Datatype) * size);
    for (int i = 0; i < size; i++) {
        cnt[i] = cnt2[i] = 1;
        dsp[i] = i;
        ty[i] = MPI_INT;
    }
    int *own = b + rank; /* this rank's block of a gather-like buffer of one int per rank */

    /* Every rank's arguments alias: every rank is refused, nothing is sent. */
    REFUSED3(Allgather, allgather, own, 1, MPI_INT, b, 1, MPI_INT, w);
    REFUSED3(Allgatherv, allgatherv, own, 1, MPI_INT, b, cnt, dsp, MPI_INT, w);
    REFUSED3(Allreduce, allreduce, b, b, 1, MPI_INT, MPI_SUM, w);
    REFUSED3(Alltoall, alltoall, b, 1, MPI_INT, b, 1, MPI_INT, w);
    REFUSED3(Alltoallv, alltoallv, b, cnt, dsp, MPI_INT, b, cnt, dsp, MPI_INT, w);
    REFUSED3(Alltoallw, alltoallw, b, cnt, dsp, ty, b, cnt, dsp, ty, w);
    REFUSED3(Reduce_scatter, reduce_scatter, b, b, cnt, MPI_INT, MPI_SUM, w);
    REFUSED3(Reduce_scatter_block, reduce_scatter_block, b, b, 1, MPI_INT, MPI_SUM, w);
    REFUSED3(Scan, scan, b, b, 1, MPI_INT, MPI_SUM, w);
    REFUSED3(Exscan, exscan, b, b, 1, MPI_INT, MPI_SUM, w);
    /* Rooted collectives check at the root: on MPI_COMM_SELF every rank is a root. */
    REFUSED3(Gather, gather, b, 1, MPI_INT, b, 1, MPI_INT, 0, self);
    REFUSED3(Gatherv, gatherv, b, 1, MPI_INT, b, cnt, dsp, MPI_INT, 0, self);
    REFUSED3(Scatter, scatter, b, 1, MPI_INT, b, 1, MPI_INT, 0, self);
    REFUSED3(Scatterv, scatterv, b, cnt, dsp, MPI_INT, b, 1, MPI_INT, 0, self);
    REFUSED3(Reduce, reduce, b, b, 1, MPI_INT, MPI_SUM, 0, self);

    /* No data moves: accepted (as MPICH). */
    ACCEPTED3(Allreduce, allreduce, b, b, 0, MPI_INT, MPI_SUM, w);
    ACCEPTED3(Allgather, allgather, b, 0, MPI_INT, b, 0, MPI_INT, w);
    ACCEPTED3(Alltoall, alltoall, b, 0, MPI_INT, b, 0, MPI_INT, w);
    ACCEPTED3(Scan, scan, b, b, 0, MPI_INT, MPI_SUM, w);
    ACCEPTED3(Reduce, reduce, b, b, 0, MPI_INT, MPI_SUM, 0, self);

    /* The communicator still works, and MPI_IN_PLACE is no aliasing. */
    for (int i = 0; i < n; i++)
        b[i] = rank + i;
    ACCEPTED3(Allreduce, allreduce, MPI_IN_PLACE, c, 2, MPI_INT, MPI_SUM, w);
    OK(MPI_Allreduce(MPI_IN_PLACE, b, 2, MPI_INT, MPI_SUM, w));
    int s = size * (size - 1) / 2;
    CHECK(b[0] == s && b[1] == s + size, "in-place allreduce: %d %d", b[0], b[1]);
    for (int i = 0; i < size; i++)
        b[i] = i == rank ? 100 + rank : -1;
    OK(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, b, 1, MPI_INT, w));
    for (int i = 0; i < size; i++)
        CHECK(b[i] == 100 + i, "in-place allgather: [%d] = %d", i, b[i]);
    /* Distinct buffers of the same values: fine. */
    OK(MPI_Allreduce(b, c, size, MPI_INT, MPI_MAX, w));
    for (int i = 0; i < size; i++)
        CHECK(c[i] == 100 + i, "allreduce: [%d] = %d", i, c[i]);

    free(b);
    free(c);
    free(cnt);
    free(cnt2);
    free(dsp);
    free(ty);
    if (rank == 0)
        printf("PASS coll_alias\n");
    MPI_Finalize();
    return 0;
}
