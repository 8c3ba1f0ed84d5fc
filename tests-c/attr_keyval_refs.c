/* Keyvals are reference-counted, as in MPICH: freeing a keyval while attributes still use
 * it is no error, nor is freeing it again through a copy of the handle (MPICH's
 * keyval_double_free); the attributes stay readable and their delete callbacks still run
 * when their objects go. Also: the MPI_LASTUSEDCODE attribute is at least MPI_ERR_LASTCODE
 * and follows the user's error classes. */
#include "oxitest.h"

static int deletes;
static int del_fn(MPI_Comm c, int k, void *v, void *extra)
{
    (void)c;
    (void)k;
    (void)extra;
    CHECK(v == (void *)&deletes, "delete callback got value %p", v);
    deletes++;
    return MPI_SUCCESS;
}

static int type_deletes;
static int type_del_fn(MPI_Datatype t, int k, void *v, void *extra)
{
    (void)t;
    (void)k;
    (void)v;
    (void)extra;
    type_deletes++;
    return MPI_SUCCESS;
}

int main(int argc, char **argv)
{
    ot_init("attr_keyval_refs", &argc, &argv);
    MPI_Comm a, b;
    int kv, copy, orig, flag;
    void *v;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &a));
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &b));
    MPI_CHECK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, del_fn, &kv, NULL));
    copy = orig = kv;
    MPI_CHECK(MPI_Comm_set_attr(a, kv, &deletes));
    MPI_CHECK(MPI_Comm_set_attr(b, kv, &deletes));
    MPI_CHECK(MPI_Comm_free(&a));
    CHECK(deletes == 1, "delete callbacks %d after the first free", deletes);
    /* freed while b still uses it, then again through the copy of the handle */
    MPI_CHECK(MPI_Comm_free_keyval(&kv));
    CHECK(kv == MPI_KEYVAL_INVALID, "free_keyval did not reset the handle");
    MPI_CHECK(MPI_Comm_free_keyval(&copy));
    /* the attribute is still there, and its delete callback runs when b goes */
    MPI_CHECK(MPI_Comm_get_attr(b, orig, &v, &flag));
    CHECK(flag && v == (void *)&deletes, "attribute lost when its keyval was freed");
    MPI_CHECK(MPI_Comm_free(&b));
    CHECK(deletes == 2, "delete callbacks %d after freeing the last user", deletes);

    /* the same for datatypes, with MPI_Type_delete_attr as the last use */
    MPI_Datatype t;
    MPI_CHECK(MPI_Type_contiguous(2, MPI_INT, &t));
    MPI_CHECK(MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, type_del_fn, &kv, NULL));
    copy = kv;
    MPI_CHECK(MPI_Type_set_attr(t, kv, NULL));
    MPI_CHECK(MPI_Type_free_keyval(&kv));
    MPI_CHECK(MPI_Type_get_attr(t, copy, &v, &flag));
    CHECK(flag, "attribute lost when its keyval was freed");
    MPI_CHECK(MPI_Type_delete_attr(t, copy));
    CHECK(type_deletes == 1, "type delete callbacks %d", type_deletes);
    MPI_CHECK(MPI_Type_free(&t));

    int *last, cls, code;
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &last, &flag));
    CHECK(flag && *last >= MPI_ERR_LASTCODE, "MPI_LASTUSEDCODE %d < MPI_ERR_LASTCODE", flag ? *last : -1);
    MPI_CHECK(MPI_Add_error_class(&cls));
    MPI_CHECK(MPI_Add_error_code(cls, &code));
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &last, &flag));
    CHECK(flag && *last >= cls && *last > MPI_ERR_LASTCODE, "MPI_LASTUSEDCODE %d below new class %d", *last, cls);
    return ot_pass();
}
