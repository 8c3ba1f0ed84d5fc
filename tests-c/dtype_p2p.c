/* Derived types on the wire: vector to contiguous, partial receives (Get_count /
 * Get_elements), MPI_BOTTOM with absolute addresses, and error classes under
 * MPI_ERRORS_RETURN. 2 ranks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int rank;
#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL dtype_p2p (rank %d) %s:%d: ", rank, __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); MPI_Abort(MPI_COMM_WORLD, 1); exit(1); } } while (0)
#define OK(call) do { int rc_ = (call); CHECK(rc_ == MPI_SUCCESS, "%s returned %d", #call, rc_); } while (0)
#define CLASS(call, want) do { int rc_ = (call), c_ = -1; MPI_Error_class(rc_, &c_); \
    CHECK(c_ == (want), "%s: class %d, want %s", #call, c_, #want); } while (0)

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int peer = 1 - rank;

    /* Columns of a 4x4 matrix: vector(4, 1, 4). */
    double m[16], col[4];
    MPI_Datatype column;
    OK(MPI_Type_vector(4, 1, 4, MPI_DOUBLE, &column));

    /* Errors first (no traffic): uncommitted type, negative count. */
    CLASS(MPI_Send(m, 1, column, peer, 0, MPI_COMM_WORLD), MPI_ERR_TYPE);
    CLASS(MPI_Send(m, -1, MPI_DOUBLE, peer, 0, MPI_COMM_WORLD), MPI_ERR_COUNT);
    CLASS(MPI_Send(m, 1, MPI_DATATYPE_NULL, peer, 0, MPI_COMM_WORLD), MPI_ERR_TYPE);
    OK(MPI_Type_commit(&column));

    if (rank == 0) {
        for (int i = 0; i < 16; i++)
            m[i] = i;
        OK(MPI_Send(&m[2], 1, column, 1, 1, MPI_COMM_WORLD));
    } else {
        MPI_Status st;
        OK(MPI_Recv(col, 4, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD, &st));
        for (int i = 0; i < 4; i++)
            CHECK(col[i] == 2 + 4 * i, "col[%d] = %g", i, col[i]);
        int n;
        OK(MPI_Get_count(&st, column, &n));
        CHECK(n == 1, "count in columns %d", n);
    }

    /* Partial receive: 3 doubles into a 2-column type. */
    MPI_Datatype two;
    OK(MPI_Type_contiguous(2, column, &two));
    OK(MPI_Type_commit(&two));
    if (rank == 0) {
        double d3[3] = {1, 2, 3};
        OK(MPI_Send(d3, 3, MPI_DOUBLE, 1, 2, MPI_COMM_WORLD));
    } else {
        double big[32];
        MPI_Status st;
        OK(MPI_Recv(big, 1, two, 0, 2, MPI_COMM_WORLD, &st));
        int n;
        OK(MPI_Get_count(&st, two, &n));
        CHECK(n == MPI_UNDEFINED, "count of partial %d", n);
        OK(MPI_Get_elements(&st, two, &n));
        CHECK(n == 3, "elements of partial %d", n);
        MPI_Count nc;
        OK(MPI_Get_elements_x(&st, column, &nc));
        CHECK(nc == 3, "elements_x %lld", (long long)nc);
        CHECK(big[0] == 1 && big[4] == 2 && big[8] == 3, "partial data");
    }

    /* MPI_BOTTOM: a struct of absolute addresses. */
    int x = rank == 0 ? 42 : 0;
    double y = rank == 0 ? -1.5 : 0;
    MPI_Aint ax, ay;
    OK(MPI_Get_address(&x, &ax));
    OK(MPI_Get_address(&y, &ay));
    MPI_Datatype abs;
    OK(MPI_Type_create_struct(2, (int[]){1, 1}, (MPI_Aint[]){ax, ay}, (MPI_Datatype[]){MPI_INT, MPI_DOUBLE}, &abs));
    OK(MPI_Type_commit(&abs));
    if (rank == 0)
        OK(MPI_Send(MPI_BOTTOM, 1, abs, 1, 3, MPI_COMM_WORLD));
    else {
        OK(MPI_Recv(MPI_BOTTOM, 1, abs, 0, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(x == 42 && y == -1.5, "MPI_BOTTOM receive %d %g", x, y);
    }

    /* A type freed while a receive using it is pending stays valid. */
    if (rank == 1) {
        MPI_Request req;
        double out[16] = {0};
        MPI_Datatype c2;
        OK(MPI_Type_dup(column, &c2));
        OK(MPI_Irecv(out, 1, c2, 0, 4, MPI_COMM_WORLD, &req));
        OK(MPI_Type_free(&c2));
        OK(MPI_Send(&x, 0, MPI_INT, 0, 5, MPI_COMM_WORLD));
        OK(MPI_Wait(&req, MPI_STATUS_IGNORE));
        CHECK(out[0] == 7 && out[4] == 8 && out[8] == 9 && out[12] == 10 && out[1] == 0, "freed type receive");
    } else {
        double d4[4] = {7, 8, 9, 10};
        OK(MPI_Recv(&x, 0, MPI_INT, 1, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        OK(MPI_Send(d4, 4, MPI_DOUBLE, 1, 4, MPI_COMM_WORLD));
    }

    MPI_Type_free(&abs);
    MPI_Type_free(&two);
    MPI_Type_free(&column);
    /* Synchronise before reporting. */
    int token = 0;
    if (rank == 0) {
        OK(MPI_Recv(&token, 1, MPI_INT, 1, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        printf("PASS dtype_p2p\n");
    } else
        OK(MPI_Send(&token, 1, MPI_INT, 0, 9, MPI_COMM_WORLD));
    MPI_Finalize();
    return 0;
}
