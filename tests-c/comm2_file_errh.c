/* Errhandlers of MPI_FILE_NULL (the default file errhandler, MPI 4.1 §9.3, §14.7): initially
 * MPI_ERRORS_RETURN; File_set_errhandler on MPI_FILE_NULL changes it; File_call_errhandler on
 * MPI_FILE_NULL invokes it with the code and a pointer to MPI_FILE_NULL; a communicator
 * errhandler is refused. Also window keyvals and errhandlers, which exist without windows. */
#include "oxitest.h"

static int calls = 0, last_code = -1;
static MPI_File last_file = (MPI_File)1;

static void file_handler(MPI_File *fh, int *code, ...)
{
    calls++;
    last_code = *code;
    last_file = *fh;
}

static void comm_handler(MPI_Comm *comm, int *code, ...)
{
    (void)comm;
    (void)code;
}

static void win_handler(MPI_Win *win, int *code, ...)
{
    (void)win;
    (void)code;
}

int main(int argc, char **argv)
{
    ot_init("comm2_file_errh", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));

    MPI_Errhandler eh = MPI_ERRHANDLER_NULL, fe, ce, we;
    MPI_CHECK(MPI_File_get_errhandler(MPI_FILE_NULL, &eh));
    CHECK(eh == MPI_ERRORS_RETURN, "default file errhandler is %#x, want MPI_ERRORS_RETURN",
          (unsigned)eh);

    /* Under MPI_ERRORS_RETURN, call_errhandler returns (and the handler returns the code). */
    MPI_CHECK(MPI_File_call_errhandler(MPI_FILE_NULL, MPI_ERR_FILE));

    MPI_CHECK(MPI_File_create_errhandler(file_handler, &fe));
    MPI_CHECK(MPI_File_set_errhandler(MPI_FILE_NULL, fe));
    MPI_CHECK(MPI_File_get_errhandler(MPI_FILE_NULL, &eh));
    CHECK(eh != MPI_ERRHANDLER_NULL && eh != MPI_ERRORS_RETURN && eh != MPI_ERRORS_ARE_FATAL,
          "File_get_errhandler did not return the user errhandler (%#x)", (unsigned)eh);
    MPI_CHECK(MPI_Errhandler_free(&eh));

    int code;
    MPI_CHECK(MPI_Add_error_code(MPI_ERR_IO, &code));
    MPI_File_call_errhandler(MPI_FILE_NULL, code);
    CHECK(calls == 1, "file handler called %d times, want 1", calls);
    CHECK(last_code == code, "file handler got code %d, want %d", last_code, code);
    CHECK(last_file == MPI_FILE_NULL, "file handler got a file other than MPI_FILE_NULL");
    MPI_File_call_errhandler(MPI_FILE_NULL, MPI_ERR_ACCESS);
    CHECK(calls == 2 && last_code == MPI_ERR_ACCESS, "second call: %d calls, code %d", calls,
          last_code);
    /* Freeing the errhandler object does not detach it from MPI_FILE_NULL. */
    MPI_CHECK(MPI_Errhandler_free(&fe));
    CHECK(fe == MPI_ERRHANDLER_NULL, "Errhandler_free did not null the handle");
    MPI_File_call_errhandler(MPI_FILE_NULL, MPI_ERR_IO);
    CHECK(calls == 3 && last_code == MPI_ERR_IO, "after free: %d calls, code %d", calls,
          last_code);

    /* A communicator errhandler is not a file errhandler; the error goes to the file
     * default handler (ours, which records it). */
    MPI_CHECK(MPI_Comm_create_errhandler(comm_handler, &ce));
    int rc = MPI_File_set_errhandler(MPI_FILE_NULL, ce);
    CHECK(rc != MPI_SUCCESS, "File_set_errhandler accepted a communicator errhandler");
    MPI_CHECK(MPI_Errhandler_free(&ce));

    /* Back to the predefined ones. */
    MPI_CHECK(MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_File_get_errhandler(MPI_FILE_NULL, &eh));
    CHECK(eh == MPI_ERRORS_RETURN, "file errhandler is %#x after reset", (unsigned)eh);
    int before = calls;
    MPI_CHECK(MPI_File_call_errhandler(MPI_FILE_NULL, MPI_ERR_IO));
    CHECK(calls == before, "user handler still called after reset");

    /* Window keyvals and errhandlers exist without windows. */
    int kv = MPI_KEYVAL_INVALID;
    MPI_CHECK(MPI_Win_create_keyval(MPI_WIN_NULL_COPY_FN, MPI_WIN_NULL_DELETE_FN, &kv, NULL));
    CHECK(kv != MPI_KEYVAL_INVALID, "Win_create_keyval gave MPI_KEYVAL_INVALID");
    MPI_CHECK(MPI_Win_free_keyval(&kv));
    CHECK(kv == MPI_KEYVAL_INVALID, "Win_free_keyval did not reset the keyval");
    MPI_CHECK(MPI_Win_create_errhandler(win_handler, &we));
    CHECK(we != MPI_ERRHANDLER_NULL, "Win_create_errhandler gave MPI_ERRHANDLER_NULL");
    MPI_CHECK(MPI_Errhandler_free(&we));
    return ot_pass();
}
