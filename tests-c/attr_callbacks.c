/* Attribute callbacks: copy on dup (NULL_COPY / DUP_FN / user), delete on free, set over
 * an existing value, delete_attr, COMM_SELF attributes deleted at Finalize (last set
 * first), predefined attributes, type attributes. */
#include "oxitest.h"

static int ncopy, ndel;
static int order[8], norder;

static int copy_fn(MPI_Comm c, int k, void *extra, void *in, void *out, int *flag)
{
    ncopy++;
    *(void **)out = (void *)((char *)in + 100);
    *flag = 1;
    return MPI_SUCCESS;
}
static int del_fn(MPI_Comm c, int k, void *val, void *extra)
{
    ndel++;
    if (norder < 8)
        order[norder++] = (int)(intptr_t)val;
    return MPI_SUCCESS;
}
static int self_del(MPI_Comm c, int k, void *val, void *extra)
{
    int fin = 1;
    MPI_Finalized(&fin);
    if (fin) {
        fprintf(stderr, "FAIL attr_callbacks: COMM_SELF attribute deleted after finalize\n");
        exit(1);
    }
    static int expect = 2;
    if ((int)(intptr_t)val != expect) {
        fprintf(stderr, "FAIL attr_callbacks: COMM_SELF delete order: got %d want %d\n", (int)(intptr_t)val, expect);
        exit(1);
    }
    expect--;
    printf("self delete %d\n", (int)(intptr_t)val);
    fflush(stdout);
    return MPI_SUCCESS;
}
static int tdel;
static int type_del(MPI_Datatype t, int k, void *val, void *extra)
{
    tdel++;
    return MPI_SUCCESS;
}

int main(int argc, char **argv)
{
    ot_init("attr_callbacks", &argc, &argv);
    int k1, k2, k3, flag;
    void *v;
    MPI_CHECK(MPI_Comm_create_keyval(copy_fn, del_fn, &k1, NULL));
    MPI_CHECK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, del_fn, &k2, NULL));
    MPI_CHECK(MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &k3, NULL));
    MPI_Comm c;
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &c));
    MPI_CHECK(MPI_Comm_set_attr(c, k1, (void *)1));
    MPI_CHECK(MPI_Comm_set_attr(c, k2, (void *)2));
    MPI_CHECK(MPI_Comm_set_attr(c, k3, (void *)3));
    /* overwrite calls delete on the old value */
    MPI_CHECK(MPI_Comm_set_attr(c, k2, (void *)22));
    CHECK(ndel == 1 && order[0] == 2, "overwrite delete %d %d", ndel, order[0]);
    MPI_CHECK(MPI_Comm_get_attr(c, k2, &v, &flag));
    CHECK(flag && v == (void *)22, "get after overwrite");

    MPI_Comm d;
    MPI_CHECK(MPI_Comm_dup(c, &d));
    CHECK(ncopy == 1, "copy calls %d", ncopy);
    MPI_CHECK(MPI_Comm_get_attr(d, k1, &v, &flag));
    CHECK(flag && v == (void *)101, "copied value %p", v);
    MPI_CHECK(MPI_Comm_get_attr(d, k2, &v, &flag));
    CHECK(!flag, "NULL_COPY_FN attribute not copied");
    MPI_CHECK(MPI_Comm_get_attr(d, k3, &v, &flag));
    CHECK(flag && v == (void *)3, "DUP_FN copies the value");

    /* keyval freed while attributes exist: still usable through the objects */
    int k1save = k1;
    MPI_CHECK(MPI_Comm_free_keyval(&k1));
    CHECK(k1 == MPI_KEYVAL_INVALID, "free_keyval sets INVALID");
    (void)k1save;

    norder = 0;
    ndel = 0;
    MPI_CHECK(MPI_Comm_free(&d)); /* deletes k1 (101) */
    CHECK(ndel == 1 && order[0] == 101, "free deletes: %d", ndel);
    norder = 0;
    ndel = 0;
    MPI_CHECK(MPI_Comm_delete_attr(c, k2));
    CHECK(ndel == 1 && order[0] == 22, "delete_attr");
    MPI_CHECK(MPI_Comm_get_attr(c, k2, &v, &flag));
    CHECK(!flag, "deleted attribute gone");
    norder = 0;
    ndel = 0;
    MPI_CHECK(MPI_Comm_free(&c)); /* k1 (1) */
    CHECK(ndel == 1 && order[0] == 1, "free deletes k1: %d", ndel);

    /* predefined */
    int *p;
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &p, &flag));
    CHECK(flag && *p >= 32767, "TAG_UB %d", flag ? *p : -1);
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_WTIME_IS_GLOBAL, &p, &flag));
    CHECK(!flag || *p == 0 || *p == 1, "WTIME_IS_GLOBAL");
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_HOST, &p, &flag));
    CHECK(flag, "HOST");
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_IO, &p, &flag));
    CHECK(flag, "IO");
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &p, &flag));
    CHECK(flag && *p >= MPI_ERR_LASTCODE - MPI_ERR_LASTCODE, "LASTUSEDCODE");
    MPI_CHECK(MPI_Attr_get(MPI_COMM_WORLD, MPI_TAG_UB, &p, &flag));
    CHECK(flag && *p >= 32767, "Attr_get TAG_UB");

    /* deprecated interface */
    int kold;
    MPI_CHECK(MPI_Keyval_create(MPI_NULL_COPY_FN, MPI_NULL_DELETE_FN, &kold, NULL));
    MPI_CHECK(MPI_Attr_put(MPI_COMM_WORLD, kold, (void *)7));
    MPI_CHECK(MPI_Attr_get(MPI_COMM_WORLD, kold, &v, &flag));
    CHECK(flag && v == (void *)7, "Attr_get");
    MPI_CHECK(MPI_Attr_delete(MPI_COMM_WORLD, kold));
    MPI_CHECK(MPI_Keyval_free(&kold));

    /* type attributes */
    int tk;
    MPI_Datatype t, t2;
    MPI_CHECK(MPI_Type_create_keyval(MPI_TYPE_DUP_FN, type_del, &tk, NULL));
    MPI_CHECK(MPI_Type_contiguous(2, MPI_INT, &t));
    MPI_CHECK(MPI_Type_set_attr(t, tk, (void *)5));
    MPI_CHECK(MPI_Type_get_attr(t, tk, &v, &flag));
    CHECK(flag && v == (void *)5, "type attr");
    MPI_CHECK(MPI_Type_delete_attr(t, tk));
    CHECK(tdel == 1, "type delete callback %d", tdel);
    MPI_CHECK(MPI_Type_get_attr(t, tk, &v, &flag));
    CHECK(!flag, "type attr deleted");
    (void)t2;
    MPI_CHECK(MPI_Type_free(&t));
    MPI_CHECK(MPI_Type_free_keyval(&tk));

    /* COMM_SELF: deleted at Finalize, last set first */
    int s1, s2;
    MPI_CHECK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, self_del, &s1, NULL));
    MPI_CHECK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, self_del, &s2, NULL));
    if (ot_rank == 0) {
        MPI_CHECK(MPI_Comm_set_attr(MPI_COMM_SELF, s1, (void *)1));
        MPI_CHECK(MPI_Comm_set_attr(MPI_COMM_SELF, s2, (void *)2));
    }
    MPI_CHECK(MPI_Comm_free_keyval(&k2));
    MPI_CHECK(MPI_Comm_free_keyval(&k3));
    ot_pass();
    return 0;
}
