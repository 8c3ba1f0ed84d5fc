/* MPI_Session_init reports its errors through its errhandler argument (issue 11 class 11;
 * MPI 4.1 section 11.3.1, as MPICH does from 4.1 on; MPICH 4.0.2 aborts whatever the
 * errhandler, hence skip=mpich):
 *   1. an invalid info handle with MPI_ERRORS_RETURN: the call returns an error of class
 *      MPI_ERR_INFO and the session stays MPI_SESSION_NULL;
 *   2. the same with a user session errhandler: the handler runs once with that class and
 *      the call returns the code;
 *   3. afterwards a valid MPI_Session_init still works, and MPI_Initialized stays 0
 *      (failed calls left nothing behind). */
#include "oxitest.h"

static int calls = 0, seen_class = -1;

static void handler(MPI_Session *s, int *code, ...)
{
    (void)s;
    calls++;
    MPI_Error_class(*code, &seen_class);
}

int main(void)
{
    /* A handle of the info kind that was never created. */
    MPI_Info bad = (MPI_Info)0x1c00abcd;
    MPI_Session s = MPI_SESSION_NULL;
    int cls = -1, flag = -1;
    ot_test_name = "sess_init_errors";

    int rc = MPI_Session_init(bad, MPI_ERRORS_RETURN, &s);
    CHECK(rc != MPI_SUCCESS, "MPI_Session_init with an invalid info succeeded");
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_INFO, "class %d, expected MPI_ERR_INFO (%d)", cls, MPI_ERR_INFO);
    CHECK(s == MPI_SESSION_NULL, "session is not MPI_SESSION_NULL after a failed init");

    MPI_Errhandler eh;
    CHECK(MPI_Session_create_errhandler(handler, &eh) == MPI_SUCCESS, "create_errhandler");
    rc = MPI_Session_init(bad, eh, &s);
    CHECK(rc != MPI_SUCCESS, "MPI_Session_init with an invalid info succeeded (user handler)");
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_INFO, "class %d with the user handler", cls);
    CHECK(calls == 1 && seen_class == MPI_ERR_INFO, "user handler ran %d times, class %d", calls,
       seen_class);

    CHECK(MPI_Session_init(MPI_INFO_NULL, eh, &s) == MPI_SUCCESS, "valid MPI_Session_init");
    CHECK(s != MPI_SESSION_NULL, "valid init gave MPI_SESSION_NULL");
    int np = -1;
    CHECK(MPI_Session_get_num_psets(s, MPI_INFO_NULL, &np) == MPI_SUCCESS && np >= 2, "psets");
    CHECK(calls == 1, "the handler ran for a call that succeeded");
    CHECK(MPI_Errhandler_free(&eh) == MPI_SUCCESS, "errhandler free");
    CHECK(MPI_Session_finalize(&s) == MPI_SUCCESS, "finalize");
    MPI_Initialized(&flag);
    CHECK(flag == 0, "MPI_Initialized is %d", flag);
    printf("PASS sess_init_errors\n");
    return 0;
}
