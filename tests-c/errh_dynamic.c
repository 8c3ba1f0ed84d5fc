/* MPICH's default errhandler is dynamic: an object whose handler was never set, and an error
 * that belongs to no object (or to an invalid handle), uses the handler MPI_COMM_WORLD has at
 * the time of the error (MPICH's errutil.c). Programs written for MPI <= 3.1 set
 * MPI_ERRORS_RETURN on MPI_COMM_WORLD and expect every later error to come back as a code.
 * Files are apart: MPI_File_open errors go to MPI_FILE_NULL's handler (MPI_ERRORS_RETURN at
 * start). MPI_Comm_get_errhandler on a communicator whose handler was never set still says
 * MPI_ERRORS_ARE_FATAL, as in MPICH. */
#include "oxitest.h"

static int calls;
static MPI_Comm last_comm;
static void handler(MPI_Comm *c, int *code, ...)
{
    calls++;
    last_comm = *c;
    (void)code;
}

static int file_calls;
static void file_handler(MPI_File *f, int *code, ...)
{
    file_calls++;
    (void)f;
    (void)code;
}

#define EXPECT(call, cls) CHECK_CLASS(call, cls)

int main(int argc, char **argv)
{
    ot_init("errh_dynamic", &argc, &argv);
    MPI_Comm d;
    MPI_Errhandler e;
    /* made before any handler is set: its handler stays unset */
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &d));
    MPI_CHECK(MPI_Comm_get_errhandler(d, &e));
    CHECK(e == MPI_ERRORS_ARE_FATAL, "unset handler reads as %#x", (unsigned)e);

    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    /* the older communicator follows MPI_COMM_WORLD's handler now */
    EXPECT(MPI_Send(NULL, 0, MPI_INT, 1000, 0, d), MPI_ERR_RANK);
    MPI_CHECK(MPI_Comm_get_errhandler(d, &e));
    CHECK(e == MPI_ERRORS_ARE_FATAL, "unset handler reads as %#x after the world's was set", (unsigned)e);
    int x;
    EXPECT(MPI_Comm_rank(d, NULL), MPI_ERR_ARG);
    /* invalid and null handles */
    EXPECT(MPI_Comm_size(MPI_COMM_NULL, &x), MPI_ERR_COMM);
    int flag;
    void *v;
    EXPECT(MPI_Comm_get_attr(d, 123456, &v, &flag), MPI_ERR_KEYVAL);
    /* errors on no communicator: groups, datatypes, keyvals */
    MPI_Group wg, g;
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    int bad = 1000;
    EXPECT(MPI_Group_incl(wg, 1, &bad, &g), MPI_ERR_RANK);
    EXPECT(MPI_Group_size(MPI_GROUP_NULL, &x), MPI_ERR_GROUP);
    MPI_CHECK(MPI_Group_free(&wg));
    MPI_Datatype t = MPI_DATATYPE_NULL;
    EXPECT(MPI_Type_commit(&t), MPI_ERR_TYPE);
    int kv = 654321;
    EXPECT(MPI_Comm_free_keyval(&kv), MPI_ERR_KEYVAL);

    /* a user handler on MPI_COMM_WORLD gets errors of unset objects, called with
     * MPI_COMM_WORLD (the communicator whose handler it is) */
    MPI_Errhandler eh;
    MPI_CHECK(MPI_Comm_create_errhandler(handler, &eh));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, eh));
    int rc = MPI_Send(NULL, 0, MPI_INT, 1000, 0, d);
    CHECK(rc != MPI_SUCCESS && calls == 1, "user handler of MPI_COMM_WORLD not called (rc %d, calls %d)", rc, calls);
    CHECK(last_comm == MPI_COMM_WORLD, "the handler was not given MPI_COMM_WORLD");
    rc = MPI_Group_size(MPI_GROUP_NULL, &x);
    CHECK(rc != MPI_SUCCESS && calls == 2, "group error did not reach the handler (calls %d)", calls);

    /* a handler set on the object itself wins */
    MPI_CHECK(MPI_Comm_set_errhandler(d, MPI_ERRORS_RETURN));
    EXPECT(MPI_Send(NULL, 0, MPI_INT, 1000, 0, d), MPI_ERR_RANK);
    CHECK(calls == 2, "the world's handler was called for a communicator with its own");

    /* files: MPI_File_open errors go to MPI_FILE_NULL's handler, whatever the world's */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    MPI_File fh;
    rc = MPI_File_open(MPI_COMM_WORLD, "/nonexistent-dir/errh_dynamic", MPI_MODE_RDONLY, MPI_INFO_NULL, &fh);
    CHECK(rc != MPI_SUCCESS, "opening a missing file succeeded");
    int cls;
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_NO_SUCH_FILE || cls == MPI_ERR_FILE || cls == MPI_ERR_IO, "open class %d", cls);
    MPI_Errhandler feh;
    MPI_CHECK(MPI_File_create_errhandler(file_handler, &feh));
    MPI_CHECK(MPI_File_set_errhandler(MPI_FILE_NULL, feh));
    rc = MPI_File_open(MPI_COMM_WORLD, "/nonexistent-dir/errh_dynamic", MPI_MODE_RDONLY, MPI_INFO_NULL, &fh);
    CHECK(rc != MPI_SUCCESS && file_calls == 1, "MPI_FILE_NULL's handler not called (calls %d)", file_calls);
    MPI_CHECK(MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Errhandler_free(&feh));

    MPI_CHECK(MPI_Errhandler_free(&eh));
    MPI_CHECK(MPI_Comm_free(&d));
    return ot_pass();
}
