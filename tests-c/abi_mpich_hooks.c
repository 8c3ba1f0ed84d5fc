/* The two hooks MPICH's own libmpifort calls in libmpi.so.12 to have Fortran callbacks run
 * with Fortran conventions (MPICH's prototypes, declared here as MPICH's mpi.h does not):
 * - MPII_Keyval_set_proxy: the keyval's copy and delete functions are called through the
 *   given proxies, with (user function, object, keyval, extra_state, attribute type, value,
 *   &new value, &flag) and (user function, object, keyval, attribute type, value,
 *   extra_state);
 * - MPII_Grequest_set_lang_f77: the generalized request's query / free / cancel functions
 *   take every argument by reference and return their error in a last out-argument (the
 *   query fills a Fortran status, taken only when it succeeds). */
#include "oxitest.h"

typedef int(copy_proxy_t)(MPI_Comm_copy_attr_function *, int, int, void *, int, void *,
                          void **, int *);
typedef int(delete_proxy_t)(MPI_Comm_delete_attr_function *, int, int, int, void *, void *);
void MPII_Keyval_set_proxy(int keyval, copy_proxy_t *copy, delete_proxy_t *del);
void MPII_Grequest_set_lang_f77(MPI_Request greq);
/* How libmpifort stores a Fortran attribute: the value itself, type MPIR_ATTR_AINT (1). */
int MPII_Comm_set_attr(MPI_Comm comm, int keyval, void *value, int attr_type);
int MPII_Comm_get_attr(MPI_Comm comm, int keyval, void *value, int *flag, int attr_type);

/* "Fortran" attribute callbacks: every argument by reference, ierr last. */
typedef void(f_copy_t)(MPI_Fint *, MPI_Fint *, MPI_Aint *, MPI_Aint *, MPI_Aint *, MPI_Fint *,
                       MPI_Fint *);
typedef void(f_delete_t)(MPI_Fint *, MPI_Fint *, MPI_Aint *, MPI_Aint *, MPI_Fint *);

static int copies, deletes, proxy_copies, proxy_deletes;
static MPI_Aint deleted_value;

static void f_copy(MPI_Fint *old, MPI_Fint *keyval, MPI_Aint *extra, MPI_Aint *in,
                   MPI_Aint *out, MPI_Fint *flag, MPI_Fint *ierr)
{
    (void)old;
    (void)keyval;
    copies++;
    *out = *in + *extra;
    *flag = 1;
    *ierr = 0;
}

static void f_delete(MPI_Fint *comm, MPI_Fint *keyval, MPI_Aint *value, MPI_Aint *extra,
                     MPI_Fint *ierr)
{
    (void)comm;
    (void)keyval;
    (void)extra;
    deletes++;
    deleted_value = *value;
    *ierr = 0;
}

/* The proxies do what MPICH's Fortran 90 proxies do: pass by reference, value as an
 * MPI_Aint, extra_state the address of the Fortran one. */
static int copy_proxy(MPI_Comm_copy_attr_function *fn, int handle, int keyval, void *extra,
                      int attr_type, void *value, void **copy, int *flag)
{
    MPI_Fint h = handle, k = keyval, f = 0, ierr = 0;
    MPI_Aint in = (MPI_Aint)value, out = 0;
    proxy_copies++;
    CHECK(attr_type == 1, "copy proxy: attribute type %d, wanted MPIR_ATTR_AINT (1)", attr_type);
    ((f_copy_t *)(void *)fn)(&h, &k, (MPI_Aint *)extra, &in, &out, &f, &ierr);
    *flag = f;
    if (f)
        *copy = (void *)out;
    return (int)ierr;
}

static int delete_proxy(MPI_Comm_delete_attr_function *fn, int handle, int keyval,
                        int attr_type, void *value, void *extra)
{
    MPI_Fint h = handle, k = keyval, ierr = 0;
    MPI_Aint v = (MPI_Aint)value;
    proxy_deletes++;
    CHECK(attr_type == 1, "delete proxy: attribute type %d", attr_type);
    ((f_delete_t *)(void *)fn)(&h, &k, &v, (MPI_Aint *)extra, &ierr);
    return (int)ierr;
}

/* "Fortran" generalized-request callbacks. */
static int queried, freed, cancelled;
static MPI_Fint cancel_complete = -1;
static MPI_Fint query_error;

static void f_query(void *extra, MPI_Fint *status, MPI_Fint *ierr)
{
    MPI_Status s;
    queried++;
    memset(&s, 0, sizeof s);
    s.MPI_SOURCE = MPI_UNDEFINED;
    s.MPI_TAG = *(int *)extra;
    MPI_Status_set_elements(&s, MPI_BYTE, 0);
    memcpy(status, &s, sizeof s); /* MPICH's Fortran status: the C one's ints */
    *ierr = query_error;
}

static void f_free(void *extra, MPI_Fint *ierr)
{
    (void)extra;
    freed++;
    *ierr = 0;
}

static void f_cancel(void *extra, MPI_Fint *complete, MPI_Fint *ierr)
{
    (void)extra;
    cancelled++;
    cancel_complete = *complete;
    *ierr = 0;
}

int main(int argc, char **argv)
{
    ot_init("abi_mpich_hooks", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));

    /* keyval proxies: the copy on dup and the delete on free go through them */
    static MPI_Aint extra = 100;
    int key;
    MPI_CHECK(MPI_Comm_create_keyval((MPI_Comm_copy_attr_function *)(void *)f_copy,
                                     (MPI_Comm_delete_attr_function *)(void *)f_delete, &key,
                                     &extra));
    MPII_Keyval_set_proxy(key, copy_proxy, delete_proxy);
    MPI_Comm a, b;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &a));
    MPI_CHECK(MPII_Comm_set_attr(a, key, (void *)(MPI_Aint)7, 1));
    MPI_CHECK(MPI_Comm_dup(a, &b));
    CHECK(proxy_copies == 1 && copies == 1, "copy: %d proxy calls, %d callbacks", proxy_copies,
          copies);
    void *v;
    int flag;
    MPI_CHECK(MPII_Comm_get_attr(b, key, &v, &flag, 1)); /* as libmpifort reads it */
    CHECK(flag && (MPI_Aint)v == 107, "copied value %ld, wanted 107", (long)(MPI_Aint)v);
    MPI_CHECK(MPI_Comm_free(&b));
    CHECK(proxy_deletes == 1 && deletes == 1 && deleted_value == 107,
          "delete: %d proxy calls, %d callbacks, value %ld", proxy_deletes, deletes,
          (long)deleted_value);
    MPI_CHECK(MPI_Comm_free_keyval(&key));
    MPI_CHECK(MPI_Comm_free(&a));
    CHECK(deletes == 2 && deleted_value == 7, "last delete: %d, value %ld", deletes,
          (long)deleted_value);

    /* generalized request with Fortran callbacks */
    static int tag = 42;
    MPI_Request r;
    MPI_Status st;
    MPI_CHECK(MPI_Grequest_start((MPI_Grequest_query_function *)(void *)f_query,
                                 (MPI_Grequest_free_function *)(void *)f_free,
                                 (MPI_Grequest_cancel_function *)(void *)f_cancel, &tag, &r));
    MPII_Grequest_set_lang_f77(r);
    MPI_CHECK(MPI_Cancel(&r));
    CHECK(cancelled == 1 && cancel_complete == 0, "cancel: %d calls, complete %d", cancelled,
          (int)cancel_complete);
    MPI_CHECK(MPI_Grequest_complete(r));
    MPI_CHECK(MPI_Wait(&r, &st));
    CHECK(queried == 1 && freed == 1, "wait: %d queries, %d frees", queried, freed);
    CHECK(st.MPI_TAG == 42, "status tag %d, wanted 42 (from the Fortran query)", st.MPI_TAG);
    CHECK(r == MPI_REQUEST_NULL, "request not freed");

    /* a failing Fortran query: its ierr is the call's error */
    query_error = MPI_ERR_OTHER;
    MPI_CHECK(MPI_Grequest_start((MPI_Grequest_query_function *)(void *)f_query,
                                 (MPI_Grequest_free_function *)(void *)f_free,
                                 (MPI_Grequest_cancel_function *)(void *)f_cancel, &tag, &r));
    MPII_Grequest_set_lang_f77(r);
    MPI_CHECK(MPI_Grequest_complete(r));
    int rc = MPI_Wait(&r, &st);
    CHECK(rc != MPI_SUCCESS && freed == 2, "failing query: rc %d, %d frees", rc, freed);

    return ot_pass();
}
