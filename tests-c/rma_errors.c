/* Error classes of the one-sided chapter (under MPI_ERRORS_RETURN on the window), window
 * attributes, names, info, group, errhandlers and MPI_WIN_NULL handling. */
#include "oxitest.h"

/* The call must fail with class `std` (what OxiMPI returns) or `alt` (what MPICH 4.0.2
 * returns where it differs from the standard's class). */
#define CHECK_CLASS_OR(call, std, alt)                                                       \
    do {                                                                                     \
        int rc_ = (call), cls_ = -1;                                                         \
        CHECK(rc_ != MPI_SUCCESS, "%s succeeded", #call);                                   \
        MPI_Error_class(rc_, &cls_);                                                         \
        CHECK(cls_ == (std) || cls_ == (alt), "%s returned class %d, expected %s", #call,   \
              cls_, #std);                                                                   \
    } while (0)

static int handler_calls = 0;
static void on_error(MPI_Win *win, int *code, ...)
{
    (void)win;
    (void)code;
    handler_calls++;
}

int main(int argc, char **argv)
{
    ot_init("rma_errors", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    int buf[16] = {0}, x = 1;
    /* MPICH detects fewer erroneous accesses (it may: the standard does not require it);
     * those checks run on OxiMPI only. */
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int liblen;
    MPI_CHECK(MPI_Get_library_version(lib, &liblen));
    int strict = strstr(lib, "OxiMPI") != NULL;
    MPI_Win win;
    MPI_CHECK(MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));

    /* Attributes. */
    void *base = NULL;
    MPI_Aint *sizep = NULL;
    int *dup = NULL, *flavor = NULL, *model = NULL, flag = 0;
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_BASE, &base, &flag));
    CHECK(flag && base == buf, "MPI_WIN_BASE");
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_SIZE, &sizep, &flag));
    CHECK(flag && *sizep == sizeof buf, "MPI_WIN_SIZE");
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_DISP_UNIT, &dup, &flag));
    CHECK(flag && *dup == sizeof(int), "MPI_WIN_DISP_UNIT");
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &flavor, &flag));
    CHECK(flag && *flavor == MPI_WIN_FLAVOR_CREATE, "MPI_WIN_CREATE_FLAVOR");
    MPI_CHECK(MPI_Win_get_attr(win, MPI_WIN_MODEL, &model, &flag));
    CHECK(flag && (*model == MPI_WIN_UNIFIED || *model == MPI_WIN_SEPARATE), "MPI_WIN_MODEL");
    int key;
    MPI_CHECK(MPI_Win_create_keyval(MPI_WIN_NULL_COPY_FN, MPI_WIN_NULL_DELETE_FN, &key, NULL));
    MPI_CHECK(MPI_Win_set_attr(win, key, (void *)(intptr_t)42));
    void *val = NULL;
    MPI_CHECK(MPI_Win_get_attr(win, key, &val, &flag));
    CHECK(flag && (intptr_t)val == 42, "user attribute");
    MPI_CHECK(MPI_Win_delete_attr(win, key));
    MPI_CHECK(MPI_Win_get_attr(win, key, &val, &flag));
    CHECK(!flag, "deleted attribute still there");
    MPI_CHECK(MPI_Win_free_keyval(&key));

    /* Name, group, info. */
    char name[MPI_MAX_OBJECT_NAME];
    int len = -1;
    MPI_CHECK(MPI_Win_get_name(win, name, &len));
    CHECK(len == 0, "a new window has an empty name (got '%s')", name);
    MPI_CHECK(MPI_Win_set_name(win, "my window"));
    MPI_CHECK(MPI_Win_get_name(win, name, &len));
    CHECK(strcmp(name, "my window") == 0 && len == 9, "name '%s'", name);
    MPI_Group g, wg;
    int cmp;
    MPI_CHECK(MPI_Win_get_group(win, &g));
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    MPI_CHECK(MPI_Group_compare(g, wg, &cmp));
    CHECK(cmp == MPI_IDENT, "window group differs from the communicator's");
    MPI_CHECK(MPI_Group_free(&g));
    MPI_CHECK(MPI_Group_free(&wg));
    MPI_Info info;
    MPI_CHECK(MPI_Win_get_info(win, &info));
    MPI_CHECK(MPI_Info_free(&info));

    /* Errors. */
    CHECK_CLASS(MPI_Put(&x, 1, MPI_INT, 0, 0, 1, MPI_INT, win), MPI_ERR_RMA_SYNC);
    CHECK_CLASS(MPI_Win_unlock(0, win), MPI_ERR_RMA_SYNC);
    CHECK_CLASS(MPI_Win_complete(win), MPI_ERR_RMA_SYNC);
    CHECK_CLASS(MPI_Win_wait(win), MPI_ERR_RMA_SYNC);
    CHECK_CLASS(MPI_Win_flush(0, win), MPI_ERR_RMA_SYNC);
    {
        /* MPI_ERR_LOCKTYPE is the standard's class; MPICH 4.0.2 says MPI_ERR_ARG. */
        int rc = MPI_Win_lock(12345, 0, 0, win), cls = -1;
        MPI_Error_class(rc, &cls);
        CHECK(cls == MPI_ERR_LOCKTYPE || cls == MPI_ERR_ARG, "bad lock type: class %d", cls);
    }
    CHECK_CLASS_OR(MPI_Win_fence(0x7, win), MPI_ERR_ASSERT, MPI_ERR_ARG);
    MPI_Aint qs;
    int qd;
    void *qb;
    MPI_CHECK(MPI_Win_fence(0, win));
    if (strict) {
        CHECK_CLASS(MPI_Put(&x, 1, MPI_INT, 0, 16, 1, MPI_INT, win), MPI_ERR_RMA_RANGE);
        CHECK_CLASS(MPI_Put(&x, 1, MPI_INT, 0, -1, 1, MPI_INT, win), MPI_ERR_DISP);
    }
    CHECK_CLASS(MPI_Put(&x, 1, MPI_INT, size, 0, 1, MPI_INT, win), MPI_ERR_RANK);
    if (strict)
        CHECK_CLASS(MPI_Accumulate(&x, 1, MPI_INT, 0, 0, 1, MPI_INT, MPI_MAXLOC, win),
                    MPI_ERR_OP);
    CHECK_CLASS(MPI_Put(&x, 1, MPI_DATATYPE_NULL, 0, 0, 1, MPI_INT, win), MPI_ERR_TYPE);
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    /* A user errhandler is called with the window. */
    MPI_Errhandler eh;
    MPI_CHECK(MPI_Win_create_errhandler(on_error, &eh));
    MPI_CHECK(MPI_Win_set_errhandler(win, eh));
    MPI_Win_unlock(0, win);
    CHECK(handler_calls == 1, "user errhandler called %d times", handler_calls);
    MPI_CHECK(MPI_Win_call_errhandler(win, MPI_ERR_OTHER));
    CHECK(handler_calls == 2, "MPI_Win_call_errhandler did not call the handler");
    MPI_Errhandler got;
    MPI_CHECK(MPI_Win_get_errhandler(win, &got));
    MPI_CHECK(MPI_Errhandler_free(&got));
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Errhandler_free(&eh));
    MPI_CHECK(MPI_Win_free(&win));

    /* Shared query on a dynamic window; attach errors; MPI_WIN_NULL. */
    MPI_CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    CHECK_CLASS(MPI_Win_shared_query(win, 0, &qs, &qd, &qb), MPI_ERR_RMA_FLAVOR);
    if (strict)
        CHECK_CLASS(MPI_Win_detach(win, buf), MPI_ERR_RMA_ATTACH);
    /* Access outside any attached region is reported at the target and returned by the
     * synchronization that completes it. */
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, win));
    MPI_Aint addr;
    MPI_CHECK(MPI_Get_address(buf, &addr));
    if (strict) {
        MPI_CHECK(MPI_Put(&x, 1, MPI_INT, rank, addr, 1, MPI_INT, win));
        CHECK_CLASS(MPI_Win_unlock(rank, win), MPI_ERR_RMA_RANGE);
    } else {
        MPI_CHECK(MPI_Win_unlock(rank, win));
    }
    MPI_CHECK(MPI_Win_free(&win));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    MPI_Win null = MPI_WIN_NULL;
    CHECK_CLASS(MPI_Win_fence(0, null), MPI_ERR_WIN);
    CHECK_CLASS(MPI_Win_free(&null), MPI_ERR_WIN);
    return ot_pass();
}
