/* Error classes under MPI_ERRORS_RETURN (set on MPI_COMM_WORLD and MPI_COMM_SELF, since
 * errors not tied to a communicator are raised on MPI_COMM_SELF): invalid rank, negative
 * tag, negative count, invalid communicator, MPI_DATATYPE_NULL, invalid request handle, NULL
 * buffer with count > 0; then Error_class / Error_string round-trips. After all these errors
 * the library still works. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("errclass", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    int buf[4] = {0}, flag;
    MPI_Request req;
    MPI_Status st;
    int size = ot_size;

    /* invalid rank: == size, large, negative (other than the MPI_ constants) */
    CHECK_CLASS(MPI_Send(buf, 1, MPI_INT, size, 0, MPI_COMM_WORLD), MPI_ERR_RANK);
    CHECK_CLASS(MPI_Send(buf, 1, MPI_INT, size + 1000, 0, MPI_COMM_WORLD), MPI_ERR_RANK);
    CHECK_CLASS(MPI_Send(buf, 1, MPI_INT, -7, 0, MPI_COMM_WORLD), MPI_ERR_RANK);
    CHECK_CLASS(MPI_Recv(buf, 1, MPI_INT, size, 0, MPI_COMM_WORLD, &st), MPI_ERR_RANK);
    CHECK_CLASS(MPI_Isend(buf, 1, MPI_INT, size, 0, MPI_COMM_WORLD, &req), MPI_ERR_RANK);
    CHECK_CLASS(MPI_Irecv(buf, 1, MPI_INT, size, 0, MPI_COMM_WORLD, &req), MPI_ERR_RANK);
    CHECK_CLASS(MPI_Iprobe(size, 0, MPI_COMM_WORLD, &flag, &st), MPI_ERR_RANK);
    CHECK_CLASS(MPI_Send(buf, 1, MPI_INT, 1, 0, MPI_COMM_SELF), MPI_ERR_RANK);

    /* negative tag (MPI_ANY_TAG is only valid for receives) */
    CHECK_CLASS(MPI_Send(buf, 1, MPI_INT, 0, -5, MPI_COMM_WORLD), MPI_ERR_TAG);
    CHECK_CLASS(MPI_Send(buf, 1, MPI_INT, 0, MPI_ANY_TAG, MPI_COMM_WORLD), MPI_ERR_TAG);
    CHECK_CLASS(MPI_Recv(buf, 1, MPI_INT, 0, -5, MPI_COMM_WORLD, &st), MPI_ERR_TAG);
    CHECK_CLASS(MPI_Irecv(buf, 1, MPI_INT, 0, -5, MPI_COMM_WORLD, &req), MPI_ERR_TAG);

    /* negative count */
    CHECK_CLASS(MPI_Send(buf, -1, MPI_INT, 0, 0, MPI_COMM_WORLD), MPI_ERR_COUNT);
    CHECK_CLASS(MPI_Recv(buf, -1, MPI_INT, 0, 0, MPI_COMM_WORLD, &st), MPI_ERR_COUNT);
    CHECK_CLASS(MPI_Isend(buf, -3, MPI_INT, 0, 0, MPI_COMM_WORLD, &req), MPI_ERR_COUNT);

    /* invalid communicators: a made-up handle and MPI_COMM_NULL */
    CHECK_CLASS(MPI_Send(buf, 1, MPI_INT, 0, 0, (MPI_Comm)12345), MPI_ERR_COMM);
    CHECK_CLASS(MPI_Send(buf, 1, MPI_INT, 0, 0, MPI_COMM_NULL), MPI_ERR_COMM);
    CHECK_CLASS(MPI_Recv(buf, 1, MPI_INT, 0, 0, MPI_COMM_NULL, &st), MPI_ERR_COMM);
    int rank;
    CHECK_CLASS(MPI_Comm_rank((MPI_Comm)12345, &rank), MPI_ERR_COMM);
    CHECK_CLASS(MPI_Comm_size(MPI_COMM_NULL, &rank), MPI_ERR_COMM);

    /* MPI_DATATYPE_NULL */
    CHECK_CLASS(MPI_Send(buf, 1, MPI_DATATYPE_NULL, 0, 0, MPI_COMM_WORLD), MPI_ERR_TYPE);
    CHECK_CLASS(MPI_Recv(buf, 1, MPI_DATATYPE_NULL, 0, 0, MPI_COMM_WORLD, &st), MPI_ERR_TYPE);

    /* invalid request handles */
    req = (MPI_Request)12345;
    CHECK_CLASS(MPI_Wait(&req, &st), MPI_ERR_REQUEST);
    req = (MPI_Request)12345;
    CHECK_CLASS(MPI_Test(&req, &flag, &st), MPI_ERR_REQUEST);
    req = (MPI_Request)12345;
    CHECK_CLASS(MPI_Request_free(&req), MPI_ERR_REQUEST);
    req = MPI_REQUEST_NULL;
    CHECK_CLASS(MPI_Start(&req), MPI_ERR_REQUEST);
    CHECK_CLASS(MPI_Request_free(&req), MPI_ERR_REQUEST);

    /* NULL buffer with count > 0 */
    CHECK_CLASS(MPI_Send(NULL, 4, MPI_INT, 0, 0, MPI_COMM_WORLD), MPI_ERR_BUFFER);
    CHECK_CLASS(MPI_Recv(NULL, 4, MPI_INT, 0, 0, MPI_COMM_WORLD, &st), MPI_ERR_BUFFER);

    /* Error_class / Error_string round trip for every predefined class */
    static const int classes[] = {
        MPI_SUCCESS, MPI_ERR_BUFFER, MPI_ERR_COUNT, MPI_ERR_TYPE, MPI_ERR_TAG, MPI_ERR_COMM,
        MPI_ERR_RANK, MPI_ERR_REQUEST, MPI_ERR_ROOT, MPI_ERR_GROUP, MPI_ERR_OP,
        MPI_ERR_TOPOLOGY, MPI_ERR_DIMS, MPI_ERR_ARG, MPI_ERR_UNKNOWN, MPI_ERR_TRUNCATE,
        MPI_ERR_OTHER, MPI_ERR_INTERN, MPI_ERR_IN_STATUS, MPI_ERR_PENDING, MPI_ERR_KEYVAL,
        MPI_ERR_NO_MEM, MPI_ERR_BASE, MPI_ERR_INFO_KEY, MPI_ERR_INFO_VALUE,
        MPI_ERR_INFO_NOKEY, MPI_ERR_SPAWN, MPI_ERR_PORT, MPI_ERR_SERVICE, MPI_ERR_NAME,
        MPI_ERR_WIN, MPI_ERR_SIZE, MPI_ERR_DISP, MPI_ERR_INFO, MPI_ERR_LOCKTYPE,
        MPI_ERR_ASSERT, MPI_ERR_RMA_CONFLICT, MPI_ERR_RMA_SYNC, MPI_ERR_FILE,
        MPI_ERR_NOT_SAME, MPI_ERR_AMODE, MPI_ERR_UNSUPPORTED_DATAREP,
        MPI_ERR_UNSUPPORTED_OPERATION, MPI_ERR_NO_SUCH_FILE, MPI_ERR_FILE_EXISTS,
        MPI_ERR_BAD_FILE, MPI_ERR_ACCESS, MPI_ERR_NO_SPACE, MPI_ERR_QUOTA,
        MPI_ERR_READ_ONLY, MPI_ERR_FILE_IN_USE, MPI_ERR_DUP_DATAREP, MPI_ERR_CONVERSION,
        MPI_ERR_IO, MPI_ERR_RMA_RANGE, MPI_ERR_RMA_ATTACH, MPI_ERR_RMA_SHARED,
        MPI_ERR_RMA_FLAVOR, MPI_ERR_SESSION, MPI_ERR_PROC_ABORTED, MPI_ERR_VALUE_TOO_LARGE,
    };
    for (unsigned i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        int c = classes[i], cls = -1, len = -1;
        char msg[MPI_MAX_ERROR_STRING];
        memset(msg, 0x7f, sizeof msg);
        MPI_CHECK(MPI_Error_class(c, &cls));
        CHECK(cls == c, "MPI_Error_class(%d) = %d", c, cls);
        MPI_CHECK(MPI_Error_string(c, msg, &len));
        CHECK(len > 0 && len < MPI_MAX_ERROR_STRING && (int)strlen(msg) == len,
              "MPI_Error_string(%d): len %d strlen %zu", c, len, strlen(msg));
    }
    /* the error code returned by a failing call maps to its class and has a message */
    int code = MPI_Send(buf, 1, MPI_INT, size, 0, MPI_COMM_WORLD), cls = -1, len = -1;
    char msg[MPI_MAX_ERROR_STRING];
    MPI_CHECK(MPI_Error_class(code, &cls));
    MPI_CHECK(MPI_Error_string(code, msg, &len));
    CHECK(cls == MPI_ERR_RANK && len > 0, "code %d: class %d, message length %d", code, cls, len);

    /* still working: a message to self */
    int in = 0, out = 99;
    MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, ot_rank, 1, &in, 1, MPI_INT, ot_rank, 1,
                           MPI_COMM_WORLD, &st));
    CHECK(in == 99, "self message after errors: %d", in);
    return ot_pass();
}
