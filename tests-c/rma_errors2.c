/* One-sided argument and synchronization errors that MPICH reports, through the window's
 * errhandler (a user handler counts the calls):
 *  - MPI_Compare_and_swap on a type outside the standard's list (C/Fortran integer,
 *    logical, byte) fails with MPI_ERR_TYPE; every type of the list works;
 *  - MPI_Fetch_and_op on a derived type fails with MPI_ERR_TYPE;
 *  - accumulates whose target type is not made of one predefined type fail with
 *    MPI_ERR_TYPE (MPICH 4.0.2 aborts on those: OxiMPI only), while MPI_Get_accumulate
 *    with MPI_NO_OP takes any type, as MPICH does;
 *  - epochs of different kinds do not mix (MPI_ERR_RMA_SYNC), following MPICH's rules: a
 *    fence epoch in which operations were issued excludes lock, lock_all, post and start;
 *    an unused one gives way to them; a lock or start epoch excludes fence, start, and
 *    a second lock of the same kind; an exposure epoch (post) coexists with locks;
 *  - a bad access detected at the target comes back to the origin as an error and the
 *    target keeps serving; an absurd count fails with MPI_ERR_RMA_RANGE instead of taking
 *    the origin down. */
#include "oxitest.h"

static int handler_calls = 0, last_class = -1;
static void on_error(MPI_Win *win, int *code, ...)
{
    (void)win;
    handler_calls++;
    MPI_Error_class(*code, &last_class);
}

/* The call must fail with `cls`, reported through the window's handler. */
#define CHECK_WIN_ERR(call, cls)                                                             \
    do {                                                                                     \
        int before_ = handler_calls;                                                         \
        CHECK_CLASS(call, cls);                                                              \
        CHECK(handler_calls == before_ + 1 && last_class == (cls),                           \
              "%s: the window's errhandler was not called with %s", #call, #cls);            \
    } while (0)

int main(int argc, char **argv)
{
    ot_init("rma_errors2", &argc, &argv);
    int rank = ot_rank;
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int liblen;
    MPI_CHECK(MPI_Get_library_version(lib, &liblen));
    int strict = strstr(lib, "OxiMPI") != NULL;

    long double mem[8];
    memset(mem, 0, sizeof mem);
    MPI_Win win;
    MPI_CHECK(MPI_Win_create(mem, sizeof mem, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_Errhandler eh;
    MPI_CHECK(MPI_Win_create_errhandler(on_error, &eh));
    MPI_CHECK(MPI_Win_set_errhandler(win, eh));
    MPI_Group self;
    MPI_CHECK(MPI_Comm_group(MPI_COMM_SELF, &self));

    /* ---- Compare_and_swap and Fetch_and_op datatypes. */
    MPI_Datatype contig, dup, vec;
    MPI_CHECK(MPI_Type_contiguous(1, MPI_INT, &contig));
    MPI_CHECK(MPI_Type_commit(&contig));
    MPI_CHECK(MPI_Type_dup(MPI_INT, &dup));
    MPI_CHECK(MPI_Type_vector(2, 1, 2, MPI_INT, &vec));
    MPI_CHECK(MPI_Type_commit(&vec));
    MPI_Datatype good[] = {MPI_CHAR,      MPI_SIGNED_CHAR, MPI_UNSIGNED_CHAR, MPI_BYTE,
                           MPI_SHORT,     MPI_INT,         MPI_UNSIGNED,      MPI_LONG,
                           MPI_LONG_LONG, MPI_INT8_T,      MPI_UINT64_T,      MPI_C_BOOL,
                           MPI_CXX_BOOL,  MPI_LOGICAL,     MPI_INTEGER,       MPI_INTEGER8,
                           MPI_CHARACTER, MPI_AINT,        MPI_OFFSET,        MPI_COUNT};
    MPI_Datatype bad[] = {MPI_FLOAT,   MPI_DOUBLE,  MPI_LONG_DOUBLE, MPI_WCHAR,
                          MPI_REAL,    MPI_COMPLEX, MPI_C_DOUBLE_COMPLEX,
                          MPI_2INT,    MPI_FLOAT_INT, MPI_PACKED,   contig,
                          dup,         vec};
    long double o = 0, c = 0, r = 0;
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, win));
    for (unsigned i = 0; i < sizeof good / sizeof good[0]; i++) {
        char name[MPI_MAX_OBJECT_NAME];
        int len;
        MPI_Type_get_name(good[i], name, &len);
        int rc = MPI_Compare_and_swap(&o, &c, &r, good[i], rank, 0, win);
        CHECK(rc == MPI_SUCCESS, "MPI_Compare_and_swap on %s failed", name);
    }
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_WIN_ERR(MPI_Compare_and_swap(&o, &c, &r, bad[i], rank, 0, win), MPI_ERR_TYPE);
    /* Checked before the target: MPI_PROC_NULL does not excuse a bad type. */
    CHECK_WIN_ERR(MPI_Compare_and_swap(&o, &c, &r, MPI_DOUBLE, MPI_PROC_NULL, 0, win),
                  MPI_ERR_TYPE);
    CHECK_WIN_ERR(MPI_Fetch_and_op(&o, &r, contig, rank, 0, MPI_SUM, win), MPI_ERR_TYPE);
    CHECK_WIN_ERR(MPI_Fetch_and_op(&o, &r, vec, rank, 0, MPI_NO_OP, win), MPI_ERR_TYPE);
    CHECK_WIN_ERR(MPI_Fetch_and_op(&o, &r, dup, MPI_PROC_NULL, 0, MPI_SUM, win), MPI_ERR_TYPE);
    MPI_CHECK(MPI_Fetch_and_op(&o, &r, MPI_DOUBLE, rank, 0, MPI_SUM, win));

    /* ---- Accumulate target types. */
    int bl[2] = {1, 1};
    MPI_Aint disp[2] = {0, 8};
    MPI_Datatype mixed_t[2] = {MPI_INT, MPI_DOUBLE}, mixed;
    MPI_CHECK(MPI_Type_create_struct(2, bl, disp, mixed_t, &mixed));
    MPI_CHECK(MPI_Type_commit(&mixed));
    long double in[4] = {0}, out[4];
    if (strict) {
        CHECK_WIN_ERR(MPI_Accumulate(in, 1, mixed, rank, 0, 1, mixed, MPI_SUM, win),
                      MPI_ERR_TYPE);
        CHECK_WIN_ERR(MPI_Accumulate(in, 1, mixed, rank, 0, 1, mixed, MPI_REPLACE, win),
                      MPI_ERR_TYPE);
        CHECK_WIN_ERR(MPI_Get_accumulate(in, 1, mixed, out, 1, mixed, rank, 0, 1, mixed,
                                         MPI_SUM, win),
                      MPI_ERR_TYPE);
        /* An absurd count is refused by its range before anything is walked or packed. */
        CHECK_WIN_ERR(MPI_Put_c(in, (MPI_Count)1 << 40, MPI_INT, rank, 0, (MPI_Count)1 << 40,
                                MPI_INT, win),
                      MPI_ERR_RMA_RANGE);
        CHECK_WIN_ERR(MPI_Get_c(in, (MPI_Count)1 << 40, MPI_INT, rank, 0, (MPI_Count)1 << 40,
                                MPI_INT, win),
                      MPI_ERR_RMA_RANGE);
        MPI_Request req = MPI_REQUEST_NULL;
        CHECK_WIN_ERR(MPI_Raccumulate(in, 1, mixed, rank, 0, 1, mixed, MPI_MAX, win, &req),
                      MPI_ERR_TYPE);
        CHECK(req == MPI_REQUEST_NULL, "a failed MPI_Raccumulate left a request");
    }
    /* MPI_NO_OP only reads: any target type, as for MPI_Get. */
    ((int *)mem)[0] = 42;
    ((double *)mem)[1] = 2.5;
    struct {
        int i;
        int pad;
        double d;
    } got = {0, 0, 0};
    MPI_CHECK(MPI_Get_accumulate(NULL, 0, MPI_INT, &got, 1, mixed, rank, 0, 1, mixed, MPI_NO_OP,
                                 win));
    MPI_CHECK(MPI_Win_unlock(rank, win));
    CHECK(got.i == 42 && got.d == 2.5, "MPI_NO_OP on a struct type fetched %d %g", got.i, got.d);

    /* ---- Epochs. */
    int x = 1;
    /* Passive target or PSCW open: no fence. */
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win));
    CHECK_WIN_ERR(MPI_Win_fence(0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_start(self, 0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_lock_all(0, win), MPI_ERR_RMA_SYNC);
    /* An exposure epoch may coexist with a lock. */
    MPI_CHECK(MPI_Win_post(self, 0, win));
    MPI_CHECK(MPI_Win_unlock(rank, win));
    CHECK_WIN_ERR(MPI_Win_fence(0, win), MPI_ERR_RMA_SYNC);
    MPI_CHECK(MPI_Win_start(self, 0, win));
    CHECK_WIN_ERR(MPI_Win_fence(0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_lock_all(0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_start(self, 0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_post(self, 0, win), MPI_ERR_RMA_SYNC);
    MPI_CHECK(MPI_Win_complete(win));
    MPI_CHECK(MPI_Win_wait(win));
    MPI_CHECK(MPI_Win_lock_all(0, win));
    CHECK_WIN_ERR(MPI_Win_fence(0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_start(self, 0, win), MPI_ERR_RMA_SYNC);
    MPI_CHECK(MPI_Win_unlock_all(win));

    /* A fence epoch that carried operations excludes the other kinds. */
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(&x, 1, MPI_INT, rank, 0, 1, MPI_INT, win));
    CHECK_WIN_ERR(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_lock_all(0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_post(self, 0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_start(self, 0, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_unlock(rank, win), MPI_ERR_RMA_SYNC);
    CHECK_WIN_ERR(MPI_Win_complete(win), MPI_ERR_RMA_SYNC);
    /* The same after a fetching operation. */
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Fetch_and_op(&x, &o, MPI_INT, rank, 0, MPI_SUM, win));
    CHECK_WIN_ERR(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, win), MPI_ERR_RMA_SYNC);
    /* A fence epoch with nothing issued gives way to a lock, and is over after it. */
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win));
    MPI_CHECK(MPI_Win_unlock(rank, win));
    CHECK_WIN_ERR(MPI_Put(&x, 1, MPI_INT, rank, 0, 1, MPI_INT, win), MPI_ERR_RMA_SYNC);
    /* ... and to lock_all and to PSCW. */
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Win_lock_all(0, win));
    MPI_CHECK(MPI_Win_unlock_all(win));
    CHECK_WIN_ERR(MPI_Put(&x, 1, MPI_INT, rank, 0, 1, MPI_INT, win), MPI_ERR_RMA_SYNC);
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Win_post(self, 0, win));
    MPI_CHECK(MPI_Win_start(self, 0, win));
    MPI_CHECK(MPI_Put(&x, 1, MPI_INT, rank, 0, 1, MPI_INT, win));
    MPI_CHECK(MPI_Win_complete(win));
    MPI_CHECK(MPI_Win_wait(win));
    CHECK_WIN_ERR(MPI_Put(&x, 1, MPI_INT, rank, 0, 1, MPI_INT, win), MPI_ERR_RMA_SYNC);
    /* After MPI_MODE_NOSUCCEED anything goes. */
    MPI_CHECK(MPI_Win_fence(0, win));
    MPI_CHECK(MPI_Put(&x, 1, MPI_INT, rank, 0, 1, MPI_INT, win));
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win));
    MPI_CHECK(MPI_Win_unlock(rank, win));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_free(&win));

    /* ---- Bad requests detected at the target come back as errors; the target lives on. */
    if (strict) {
        MPI_CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win));
        MPI_CHECK(MPI_Win_set_errhandler(win, eh));
        static long long cell[4];
        MPI_CHECK(MPI_Win_attach(win, cell, sizeof cell));
        MPI_Aint at, nowhere;
        MPI_CHECK(MPI_Get_address(cell, &at));
        MPI_CHECK(MPI_Get_address(&handler_calls, &nowhere));
        long long v = 5, old = -1, cmp = 0;
        int target = (rank + 1) % ot_size;
        MPI_Aint tat;
        MPI_CHECK(MPI_Sendrecv(&at, 1, MPI_AINT, (rank + ot_size - 1) % ot_size, 2, &tat, 1,
                               MPI_AINT, target, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        MPI_Aint tnowhere = tat + 64 * (MPI_Aint)sizeof cell;
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, target, 0, win));
        MPI_CHECK(MPI_Fetch_and_op(&v, &old, MPI_LONG_LONG, target, tnowhere, MPI_SUM, win));
        CHECK_WIN_ERR(MPI_Win_flush(target, win), MPI_ERR_RMA_RANGE);
        MPI_CHECK(MPI_Compare_and_swap(&v, &cmp, &old, MPI_LONG_LONG, target, tnowhere, win));
        MPI_CHECK(MPI_Accumulate(&v, 1, MPI_LONG_LONG, target, tnowhere, 1, MPI_LONG_LONG,
                                 MPI_SUM, win));
        CHECK_WIN_ERR(MPI_Win_unlock(target, win), MPI_ERR_RMA_RANGE);
        /* The target still serves. */
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, target, 0, win));
        MPI_CHECK(MPI_Fetch_and_op(&v, &old, MPI_LONG_LONG, target, tat, MPI_SUM, win));
        MPI_CHECK(MPI_Win_unlock(target, win));
        CHECK(old == 0, "fetch_and_op after the errors fetched %lld", old);
        MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(cell[0] == 5, "cell = %lld, expected 5", cell[0]);
        (void)nowhere;
        MPI_CHECK(MPI_Win_detach(win, cell));
        MPI_CHECK(MPI_Win_free(&win));
    }
    MPI_CHECK(MPI_Errhandler_free(&eh));
    MPI_CHECK(MPI_Group_free(&self));
    MPI_CHECK(MPI_Type_free(&contig));
    MPI_CHECK(MPI_Type_free(&dup));
    MPI_CHECK(MPI_Type_free(&vec));
    MPI_CHECK(MPI_Type_free(&mixed));
    return ot_pass();
}
