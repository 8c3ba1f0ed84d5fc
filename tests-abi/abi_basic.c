/* The MPI 5.0 standard ABI, end to end: everything this program checks crosses the boundary
 * in the standard's encoding (pointer-sized handles, the standard's constants, its 8-int
 * MPI_Status, MPI_IN_PLACE = 1, callbacks that receive standard handles). Built with any
 * standard-ABI compiler wrapper (MPICH 5's mpicc_abi, our mpicc -mpi-abi) and run on any
 * standard-ABI library. Runs at 1 to 4 ranks; prints "PASS abi_basic" on rank 0. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static int rank = 0, size = 1;

#define CHECK(cond, ...)                                                                \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            failures++;                                                                 \
            fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", rank, __FILE__,       \
                    __LINE__, #cond);                                                   \
            fprintf(stderr, __VA_ARGS__);                                               \
            fprintf(stderr, "\n");                                                      \
        }                                                                               \
    } while (0)

/* ---- user reduction: receives the datatype as a standard handle */
static int op_saw_int = 0;
static void my_sum(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    if (*dt == MPI_INT)
        op_saw_int = 1;
    for (int i = 0; i < *len; i++)
        ((int *)inout)[i] += ((int *)in)[i];
}

/* ---- errhandler: receives the communicator and a code of the standard ABI */
static int eh_calls = 0, eh_class = -1;
static MPI_Comm eh_comm = MPI_COMM_NULL;
static void my_eh(MPI_Comm *comm, int *code, ...)
{
    eh_calls++;
    eh_comm = *comm;
    MPI_Error_class(*code, &eh_class);
}

/* ---- attribute copy: receives the old communicator as a standard handle */
static int copy_calls = 0, delete_calls = 0;
static MPI_Comm copy_saw = MPI_COMM_NULL;
static int my_copy(MPI_Comm old, int keyval, void *extra, void *in, void *out, int *flag)
{
    (void)keyval;
    copy_calls++;
    copy_saw = old;
    *(void **)out = (char *)in + (intptr_t)extra;
    *flag = 1;
    return MPI_SUCCESS;
}
static int my_delete(MPI_Comm comm, int keyval, void *val, void *extra)
{
    (void)comm; (void)keyval; (void)val; (void)extra;
    delete_calls++;
    return MPI_SUCCESS;
}

/* ---- generalized request: the query fills a standard status */
static int gq_calls = 0, gfree_calls = 0;
static int gquery(void *extra, MPI_Status *st)
{
    gq_calls++;
    MPI_Status_set_elements(st, MPI_INT, 3);
    MPI_Status_set_cancelled(st, 0);
    st->MPI_SOURCE = MPI_UNDEFINED;
    st->MPI_TAG = *(int *)extra;
    return MPI_SUCCESS;
}
static int gfree(void *extra) { (void)extra; gfree_calls++; return MPI_SUCCESS; }
static int gcancel(void *extra, int complete) { (void)extra; (void)complete; return MPI_SUCCESS; }

static void check_abi_queries(void)
{
    /* Under tests-abi/run.sh: make sure the library loaded is the one under test. */
    const char *want = getenv("ABI_EXPECT_LIBRARY");
    if (want) {
        char lib[MPI_MAX_LIBRARY_VERSION_STRING];
        int len = 0;
        MPI_Get_library_version(lib, &len);
        CHECK(strstr(lib, want) != NULL, "library version '%.60s' does not name %s", lib, want);
        CHECK(strstr(lib, "standard ABI") != NULL, "library version '%.60s' does not name the "
              "standard ABI", lib);
    }
    int major = -9, minor = -9;
    CHECK(MPI_Abi_get_version(&major, &minor) == MPI_SUCCESS, "Abi_get_version failed");
    CHECK(major == MPI_ABI_VERSION && minor == MPI_ABI_SUBVERSION, "ABI version %d.%d", major,
          minor);
    MPI_Info info = MPI_INFO_NULL;
    CHECK(MPI_Abi_get_info(&info) == MPI_SUCCESS && info != MPI_INFO_NULL, "Abi_get_info");
    char v[MPI_MAX_INFO_VAL];
    int len = sizeof v, flag = 0;
    MPI_Info_get_string(info, "mpi_aint_size", &len, v, &flag);
    CHECK(flag && atoi(v) == (int)sizeof(MPI_Aint), "mpi_aint_size %s", flag ? v : "(unset)");
    MPI_Info_free(&info);
    CHECK(info == MPI_INFO_NULL, "Info_free did not reset the handle");
}

static void check_predefined(void)
{
    int n = -1;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    CHECK(n == size, "size");
    int sz = 0;
    MPI_Type_size(MPI_DOUBLE, &sz);
    CHECK(sz == 8, "MPI_DOUBLE size %d", sz);
    MPI_Type_size(MPI_INT64_T, &sz);
    CHECK(sz == 8, "MPI_INT64_T size %d", sz);
    int result = -1;
    MPI_Comm_compare(MPI_COMM_WORLD, MPI_COMM_WORLD, &result);
    CHECK(result == MPI_IDENT, "compare world/world = %d", result);
    MPI_Comm dup;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    MPI_Comm_compare(MPI_COMM_WORLD, dup, &result);
    CHECK(result == MPI_CONGRUENT, "compare world/dup = %d", result);
    /* toint / fromint round trip */
    int i = MPI_Comm_toint(dup);
    CHECK(MPI_Comm_fromint(i) == dup, "Comm_fromint(Comm_toint(dup))");
    CHECK(MPI_Type_fromint(MPI_Type_toint(MPI_FLOAT)) == MPI_FLOAT, "Type toint/fromint");
    MPI_Comm_free(&dup);
    CHECK(dup == MPI_COMM_NULL, "Comm_free did not reset the handle");
    int provided = -1;
    MPI_Query_thread(&provided);
    CHECK(provided == MPI_THREAD_SINGLE || provided == MPI_THREAD_FUNNELED ||
              provided == MPI_THREAD_SERIALIZED || provided == MPI_THREAD_MULTIPLE,
          "Query_thread gave %d", provided);
    int *tag_ub = NULL, flag = 0;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tag_ub, &flag);
    CHECK(flag && tag_ub && *tag_ub >= 32767, "MPI_TAG_UB");
    MPI_Group g, ge;
    MPI_Comm_group(MPI_COMM_WORLD, &g);
    int in[2] = {0, MPI_PROC_NULL}, out[2] = {-7, -7};
    MPI_Group_translate_ranks(g, 2, in, g, out);
    CHECK(out[0] == 0 && out[1] == MPI_PROC_NULL, "translate_ranks %d %d", out[0], out[1]);
    MPI_Group_incl(g, 0, NULL, &ge);
    MPI_Group_compare(ge, MPI_GROUP_EMPTY, &result);
    CHECK(result == MPI_IDENT, "empty group compare %d", result);
    MPI_Group_free(&ge);
    MPI_Group_free(&g);
}

static void check_p2p(void)
{
    MPI_Status st;
    int x = -1;
    /* MPI_PROC_NULL: status source MPI_PROC_NULL, tag MPI_ANY_TAG, count 0 */
    MPI_Recv(&x, 1, MPI_INT, MPI_PROC_NULL, 5, MPI_COMM_WORLD, &st);
    int cnt = -1;
    MPI_Get_count(&st, MPI_INT, &cnt);
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG && cnt == 0,
          "recv from PROC_NULL: source %d tag %d count %d", st.MPI_SOURCE, st.MPI_TAG, cnt);
    int src = 0, tg = 0;
    MPI_Status_get_source(&st, &src);
    MPI_Status_get_tag(&st, &tg);
    CHECK(src == MPI_PROC_NULL && tg == MPI_ANY_TAG, "Status_get_source/tag: %d %d", src, tg);
    MPI_Status_set_error(&st, MPI_ERR_TAG);
    CHECK(st.MPI_ERROR == MPI_ERR_TAG, "Status_set_error: %d", st.MPI_ERROR);
    /* ring with wildcards; statuses through Waitall */
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int sendv[3] = {rank, rank * 10, 7}, recvv[3] = {-1, -1, -1};
    MPI_Request reqs[2];
    MPI_Irecv(recvv, 3, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &reqs[0]);
    MPI_Isend(sendv, 3, MPI_INT, right, 40 + rank, MPI_COMM_WORLD, &reqs[1]);
    MPI_Status sts[2];
    MPI_Waitall(2, reqs, sts);
    CHECK(reqs[0] == MPI_REQUEST_NULL && reqs[1] == MPI_REQUEST_NULL, "Waitall reset");
    CHECK(sts[0].MPI_SOURCE == left && sts[0].MPI_TAG == 40 + left,
          "ring status source %d tag %d", sts[0].MPI_SOURCE, sts[0].MPI_TAG);
    MPI_Get_count(&sts[0], MPI_INT, &cnt);
    CHECK(cnt == 3 && recvv[0] == left && recvv[1] == left * 10, "ring data/count %d", cnt);
    /* Waitany over an all-null array: MPI_UNDEFINED and an empty status */
    MPI_Request nulls[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    int idx = 0;
    MPI_Waitany(2, nulls, &idx, &st);
    CHECK(idx == MPI_UNDEFINED, "Waitany index %d", idx);
    /* Sendrecv with MPI_STATUS_IGNORE (NULL in this ABI) */
    int a = rank, b = -1;
    MPI_Sendrecv(&a, 1, MPI_INT, right, 1, &b, 1, MPI_INT, left, 1, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    CHECK(b == left, "sendrecv %d", b);
}

/* More distinct reduction functions than any fixed pool of trampolines would hold: each op
 * must call its own function, with the datatype as a standard handle. */
#define OP_FN(k)                                                                           \
    static void op_fn##k(void *in, void *io, int *len, MPI_Datatype *dt)                  \
    {                                                                                      \
        for (int i = 0; i < *len && *dt == MPI_INT; i++)                                   \
            ((int *)io)[i] += ((int *)in)[i] + k;                                          \
    }
#define OP_FN10(d) OP_FN(d##0) OP_FN(d##1) OP_FN(d##2) OP_FN(d##3) OP_FN(d##4) OP_FN(d##5) \
    OP_FN(d##6) OP_FN(d##7) OP_FN(d##8) OP_FN(d##9)
OP_FN10(1) OP_FN10(2) OP_FN10(3) OP_FN10(4) OP_FN10(5) OP_FN10(6) OP_FN10(7) OP_FN10(8)
#define OP_REF10(d) op_fn##d##0, op_fn##d##1, op_fn##d##2, op_fn##d##3, op_fn##d##4,      \
    op_fn##d##5, op_fn##d##6, op_fn##d##7, op_fn##d##8, op_fn##d##9
static MPI_User_function *op_fns[80] = {OP_REF10(1), OP_REF10(2), OP_REF10(3), OP_REF10(4),
                                        OP_REF10(5), OP_REF10(6), OP_REF10(7), OP_REF10(8)};

static void check_many_ops(void)
{
    MPI_Op ops[80];
    for (int k = 0; k < 80; k++)
        CHECK(MPI_Op_create(op_fns[k], 1, &ops[k]) == MPI_SUCCESS, "Op_create #%d", k);
    for (int k = 0; k < 80; k++) {
        int in[2] = {1, 2}, io[2] = {100, 200};
        MPI_Reduce_local(in, io, 2, MPI_INT, ops[k]);
        int base = 10 + k; /* op_fns[k] is op_fn<10+k> */
        CHECK(io[0] == 101 + base && io[1] == 202 + base, "op #%d called the wrong function: "
              "%d %d", k, io[0], io[1]);
    }
    for (int k = 0; k < 80; k++)
        MPI_Op_free(&ops[k]);
    CHECK(ops[79] == MPI_OP_NULL, "Op_free did not reset the handle");
}

/* A Fortran binding whose compiler's .TRUE. is -1 (Intel's) tells the library so; the
 * LOGICAL reductions then read and write its words. */
static void check_fortran_booleans(void)
{
    int t = -1, f = 0, is_set = -1;
    CHECK(MPI_Abi_set_fortran_booleans(4, &t, &f) == MPI_SUCCESS, "Abi_set_fortran_booleans");
    int gt = 0, gf = 1;
    MPI_Abi_get_fortran_booleans(4, &gt, &gf, &is_set);
    CHECK(is_set == 1 && gt == -1 && gf == 0, "get_fortran_booleans %d %d %d", is_set, gt, gf);
    int v[3] = {-1, rank == 0 ? 0 : -1, 0}, land[3], lor[3];
    MPI_Allreduce(v, land, 3, MPI_LOGICAL, MPI_LAND, MPI_COMM_WORLD);
    MPI_Allreduce(v, lor, 3, MPI_LOGICAL, MPI_LOR, MPI_COMM_WORLD);
    CHECK(land[0] == -1 && land[1] == 0 && land[2] == 0, "LAND on LOGICAL: %d %d %d", land[0],
          land[1], land[2]);
    CHECK(lor[0] == -1 && lor[1] == (size > 1 ? -1 : 0) && lor[2] == 0,
          "LOR on LOGICAL: %d %d %d", lor[0], lor[1], lor[2]);
    t = 1; /* back to gfortran's words for the rest of the test */
    MPI_Abi_set_fortran_booleans(4, &t, &f);
}

static void check_collectives(void)
{
    int v = rank + 1;
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    CHECK(v == size * (size + 1) / 2, "in-place allreduce %d", v);
    MPI_Op op;
    MPI_Op_create(my_sum, 1, &op);
    int w = rank + 1, r = 0;
    MPI_Reduce(&w, &r, 1, MPI_INT, op, 0, MPI_COMM_WORLD);
    if (rank == 0)
        CHECK(r == size * (size + 1) / 2, "user-op reduce %d", r);
    if (size > 1)
        CHECK(op_saw_int || rank != 0, "the user op never saw MPI_INT as its datatype");
    MPI_Op_free(&op);
    CHECK(op == MPI_OP_NULL, "Op_free");
    /* alltoallw with one int per peer */
    int *sb = malloc(size * sizeof(int)), *rb = malloc(size * sizeof(int));
    int *cnts = malloc(size * sizeof(int)), *displs = malloc(size * sizeof(int));
    MPI_Datatype *types = malloc(size * sizeof(MPI_Datatype));
    for (int i = 0; i < size; i++) {
        sb[i] = rank * 100 + i;
        rb[i] = -1;
        cnts[i] = 1;
        displs[i] = i * (int)sizeof(int);
        types[i] = MPI_INT;
    }
    MPI_Alltoallw(sb, cnts, displs, types, rb, cnts, displs, types, MPI_COMM_WORLD);
    for (int i = 0; i < size; i++)
        CHECK(rb[i] == i * 100 + rank, "alltoallw rb[%d] = %d", i, rb[i]);
    free(sb); free(rb); free(cnts); free(displs); free(types);
    /* MPI_ROOT / MPI_PROC_NULL on an intercommunicator when there are two ranks or more */
    if (size >= 2) {
        MPI_Comm half, inter;
        int color = rank % 2;
        MPI_Comm_split(MPI_COMM_WORLD, color, rank, &half);
        MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, color == 0 ? 1 : 0, 77, &inter);
        int hr;
        MPI_Comm_rank(half, &hr);
        int val = (color == 0 && hr == 0) ? 42 : -1;
        int root = color == 0 ? (hr == 0 ? MPI_ROOT : MPI_PROC_NULL) : 0;
        MPI_Bcast(&val, 1, MPI_INT, root, inter);
        if (color == 1)
            CHECK(val == 42, "intercomm bcast %d", val);
        MPI_Comm_free(&inter);
        MPI_Comm_free(&half);
    }
}

static void check_datatypes(void)
{
    int bl[2] = {1, 2};
    MPI_Aint disp[2] = {0, 8};
    MPI_Datatype ts[2] = {MPI_DOUBLE, MPI_INT}, st;
    MPI_Type_create_struct(2, bl, disp, ts, &st);
    MPI_Type_commit(&st);
    int ni, na, nd, comb;
    MPI_Type_get_envelope(st, &ni, &na, &nd, &comb);
    CHECK(comb == MPI_COMBINER_STRUCT && ni == 3 && na == 2 && nd == 2, "envelope %d", comb);
    int ints[3];
    MPI_Aint addrs[2];
    MPI_Datatype got[2];
    MPI_Type_get_contents(st, 3, 2, 2, ints, addrs, got);
    CHECK(got[0] == MPI_DOUBLE && got[1] == MPI_INT && ints[2] == 2 && addrs[1] == 8,
          "get_contents");
    MPI_Type_free(&st);
    CHECK(st == MPI_DATATYPE_NULL, "Type_free");
    int sizes[2] = {4, 4}, sub[2] = {2, 2}, starts[2] = {1, 1};
    MPI_Datatype sa;
    MPI_Type_create_subarray(2, sizes, sub, starts, MPI_ORDER_FORTRAN, MPI_INT, &sa);
    int cints[8];
    MPI_Aint caddr[1];
    MPI_Datatype ctype[1];
    MPI_Type_get_envelope(sa, &ni, &na, &nd, &comb);
    CHECK(comb == MPI_COMBINER_SUBARRAY && ni == 8, "subarray envelope %d %d", comb, ni);
    MPI_Type_get_contents(sa, 8, 0, 1, cints, caddr, ctype);
    CHECK(cints[7] == MPI_ORDER_FORTRAN && ctype[0] == MPI_INT, "subarray order %d", cints[7]);
    MPI_Type_free(&sa);
}

static void check_errors(void)
{
    /* an invalid rank through MPI_ERRORS_RETURN gives an MPI_ERR_RANK code */
    MPI_Comm c;
    MPI_Comm_dup(MPI_COMM_WORLD, &c);
    MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN);
    int x = 0;
    int rc = MPI_Send(&x, 1, MPI_INT, size + 5, 0, c);
    int cls = -1;
    MPI_Error_class(rc, &cls);
    CHECK(rc != MPI_SUCCESS && cls == MPI_ERR_RANK, "bad rank: rc %d class %d", rc, cls);
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    CHECK(len > 0, "empty error string");
    /* a user errhandler sees this communicator and a standard code */
    MPI_Errhandler eh;
    MPI_Comm_create_errhandler(my_eh, &eh);
    MPI_Comm_set_errhandler(c, eh);
    MPI_Errhandler_free(&eh);
    MPI_Send(&x, 1, MPI_INT, 0, -5, c); /* negative tag: MPI_ERR_TAG */
    CHECK(eh_calls == 1 && eh_comm == c && eh_class == MPI_ERR_TAG,
          "errhandler calls %d class %d", eh_calls, eh_class);
    int newclass = -1, newcode = -1;
    MPI_Add_error_class(&newclass);
    MPI_Add_error_code(newclass, &newcode);
    MPI_Error_class(newcode, &cls);
    CHECK(cls == newclass && newclass > MPI_ERR_LASTCODE - 1, "user class %d code %d -> %d",
          newclass, newcode, cls);
    MPI_Comm_free(&c);
}

static void check_attributes(void)
{
    int kv = MPI_KEYVAL_INVALID;
    MPI_Comm_create_keyval(my_copy, my_delete, &kv, (void *)(intptr_t)1);
    CHECK(kv != MPI_KEYVAL_INVALID, "keyval");
    MPI_Comm c, d;
    MPI_Comm_dup(MPI_COMM_WORLD, &c);
    static char base[4];
    MPI_Comm_set_attr(c, kv, base);
    MPI_Comm_dup(c, &d);
    void *got = NULL;
    int flag = 0;
    MPI_Comm_get_attr(d, kv, &got, &flag);
    CHECK(copy_calls == 1 && copy_saw == c && flag && got == base + 1,
          "copy callback calls %d", copy_calls);
    MPI_Comm_free(&d);
    MPI_Comm_free(&c);
    CHECK(delete_calls == 2, "delete callback calls %d", delete_calls);
    MPI_Comm_free_keyval(&kv);
    CHECK(kv == MPI_KEYVAL_INVALID, "free_keyval did not reset");
    /* predefined copy functions */
    int kv2;
    MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &kv2, NULL);
    MPI_Comm_dup(MPI_COMM_WORLD, &c);
    MPI_Comm_set_attr(c, kv2, base + 2);
    MPI_Comm_dup(c, &d);
    MPI_Comm_get_attr(d, kv2, &got, &flag);
    CHECK(flag && got == base + 2, "MPI_COMM_DUP_FN");
    MPI_Comm_free(&d);
    MPI_Comm_free(&c);
    MPI_Comm_free_keyval(&kv2);
}

static void check_grequest_and_topology(void)
{
    int tag = 99;
    MPI_Request req;
    MPI_Grequest_start(gquery, gfree, gcancel, &tag, &req);
    MPI_Grequest_complete(req);
    MPI_Status st;
    MPI_Wait(&req, &st);
    int cnt = -1;
    MPI_Get_count(&st, MPI_INT, &cnt);
    CHECK(gq_calls == 1 && gfree_calls == 1 && st.MPI_TAG == 99 && cnt == 3 &&
              req == MPI_REQUEST_NULL,
          "grequest: query %d free %d tag %d count %d", gq_calls, gfree_calls, st.MPI_TAG, cnt);
    int dims[1] = {size}, periods[1] = {0};
    MPI_Comm cart;
    MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &cart);
    int kind = -1;
    MPI_Topo_test(cart, &kind);
    CHECK(kind == MPI_CART, "Topo_test %d", kind);
    int src, dst;
    MPI_Cart_shift(cart, 0, 1, &src, &dst);
    if (rank == 0)
        CHECK(src == MPI_PROC_NULL, "cart_shift source %d", src);
    if (rank == size - 1)
        CHECK(dst == MPI_PROC_NULL, "cart_shift dest %d", dst);
    MPI_Comm_free(&cart);
    MPI_Topo_test(MPI_COMM_WORLD, &kind);
    CHECK(kind == MPI_UNDEFINED, "Topo_test of world %d", kind);
}

static void check_window(void)
{
    int buf[4] = {0};
    MPI_Win win;
    MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    int *flavor = NULL, flag = 0;
    MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &flavor, &flag);
    CHECK(flag && flavor && *flavor == MPI_WIN_FLAVOR_CREATE, "flavor %d", flavor ? *flavor : -1);
    MPI_Win_fence(MPI_MODE_NOPRECEDE, win);
    int one = rank + 1;
    MPI_Accumulate(&one, 1, MPI_INT, 0, 0, 1, MPI_INT, MPI_SUM, win);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    if (rank == 0)
        CHECK(buf[0] == size * (size + 1) / 2, "accumulate %d", buf[0]);
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win);
    MPI_Win_unlock(0, win);
    MPI_Win_free(&win);
    CHECK(win == MPI_WIN_NULL, "Win_free");
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    CHECK(provided >= MPI_THREAD_FUNNELED, "provided %d", provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    check_abi_queries();
    check_predefined();
    check_p2p();
    check_collectives();
    check_fortran_booleans();
    check_many_ops();
    check_datatypes();
    check_errors();
    check_attributes();
    check_grequest_and_topology();
    check_window();
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0 && all == 0)
        printf("PASS abi_basic\n");
    MPI_Finalize();
    return all != 0;
}
