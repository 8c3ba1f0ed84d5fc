/* Envelope and contents of every combiner, dup, names, f90 and match_size. 1 rank. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL dtype_contents %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); MPI_Abort(MPI_COMM_WORLD, 1); exit(1); } } while (0)
#define OK(call) do { int rc_ = (call); CHECK(rc_ == MPI_SUCCESS, "%s returned %d", #call, rc_); } while (0)

static void expect(MPI_Datatype t, int comb, int ni, int na, int nd, const int *ints,
                   const MPI_Aint *addrs, const MPI_Datatype *types, const char *what)
{
    int gi, ga, gd, gc;
    OK(MPI_Type_get_envelope(t, &gi, &ga, &gd, &gc));
    CHECK(gc == comb && gi == ni && ga == na && gd == nd, "%s: envelope %d %d %d comb %d", what, gi, ga, gd, gc);
    int ci[64];
    MPI_Aint ca[64];
    MPI_Datatype ct[64];
    OK(MPI_Type_get_contents(t, 64, 64, 64, ci, ca, ct));
    for (int i = 0; i < ni; i++)
        CHECK(ci[i] == ints[i], "%s: int[%d] = %d, want %d", what, i, ci[i], ints[i]);
    for (int i = 0; i < na; i++)
        CHECK(ca[i] == addrs[i], "%s: addr[%d] = %ld, want %ld", what, i, (long)ca[i], (long)addrs[i]);
    for (int i = 0; i < nd; i++) {
        int a, b, c, k;
        /* Derived components come back as handles with the same envelope. */
        MPI_Type_get_envelope(ct[i], &a, &b, &c, &k);
        int ka, kb, kc, kk;
        MPI_Type_get_envelope(types[i], &ka, &kb, &kc, &kk);
        CHECK(k == kk && a == ka && b == kb && c == kc, "%s: type[%d] differs", what, i);
        if (kk == MPI_COMBINER_NAMED)
            CHECK(ct[i] == types[i], "%s: predefined type[%d] not returned as is", what, i);
        else
            OK(MPI_Type_free(&ct[i]));
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    MPI_Datatype t, v, s;

    OK(MPI_Type_contiguous(3, MPI_INT, &t));
    expect(t, MPI_COMBINER_CONTIGUOUS, 1, 0, 1, (int[]){3}, NULL, (MPI_Datatype[]){MPI_INT}, "contiguous");

    OK(MPI_Type_vector(2, 3, 4, MPI_DOUBLE, &v));
    expect(v, MPI_COMBINER_VECTOR, 3, 0, 1, (int[]){2, 3, 4}, NULL, (MPI_Datatype[]){MPI_DOUBLE}, "vector");

    OK(MPI_Type_create_hvector(2, 1, 24, v, &s));
    expect(s, MPI_COMBINER_HVECTOR, 2, 1, 1, (int[]){2, 1}, (MPI_Aint[]){24}, (MPI_Datatype[]){v}, "hvector");
    OK(MPI_Type_free(&s));

    OK(MPI_Type_indexed(2, (int[]){1, 2}, (int[]){5, 0}, MPI_INT, &s));
    expect(s, MPI_COMBINER_INDEXED, 5, 0, 1, (int[]){2, 1, 2, 5, 0}, NULL, (MPI_Datatype[]){MPI_INT}, "indexed");
    OK(MPI_Type_free(&s));

    OK(MPI_Type_create_hindexed(2, (int[]){1, 2}, (MPI_Aint[]){40, 0}, MPI_INT, &s));
    expect(s, MPI_COMBINER_HINDEXED, 3, 2, 1, (int[]){2, 1, 2}, (MPI_Aint[]){40, 0}, (MPI_Datatype[]){MPI_INT}, "hindexed");
    OK(MPI_Type_free(&s));

    OK(MPI_Type_create_indexed_block(3, 2, (int[]){0, 4, 8}, MPI_SHORT, &s));
    expect(s, MPI_COMBINER_INDEXED_BLOCK, 5, 0, 1, (int[]){3, 2, 0, 4, 8}, NULL, (MPI_Datatype[]){MPI_SHORT}, "indexed_block");
    OK(MPI_Type_free(&s));

    OK(MPI_Type_create_hindexed_block(2, 1, (MPI_Aint[]){8, 0}, MPI_SHORT, &s));
    expect(s, MPI_COMBINER_HINDEXED_BLOCK, 2, 2, 1, (int[]){2, 1}, (MPI_Aint[]){8, 0}, (MPI_Datatype[]){MPI_SHORT}, "hindexed_block");
    OK(MPI_Type_free(&s));

    OK(MPI_Type_create_struct(2, (int[]){1, 2}, (MPI_Aint[]){0, 8}, (MPI_Datatype[]){MPI_CHAR, v}, &s));
    expect(s, MPI_COMBINER_STRUCT, 3, 2, 2, (int[]){2, 1, 2}, (MPI_Aint[]){0, 8}, (MPI_Datatype[]){MPI_CHAR, v}, "struct");
    OK(MPI_Type_free(&s));

    OK(MPI_Type_create_subarray(2, (int[]){4, 5}, (int[]){2, 3}, (int[]){1, 2}, MPI_ORDER_FORTRAN, MPI_INT, &s));
    expect(s, MPI_COMBINER_SUBARRAY, 8, 0, 1, (int[]){2, 4, 5, 2, 3, 1, 2, MPI_ORDER_FORTRAN}, NULL, (MPI_Datatype[]){MPI_INT}, "subarray");
    MPI_Aint lb, ext;
    OK(MPI_Type_get_extent(s, &lb, &ext));
    CHECK(lb == 0 && ext == 80, "subarray extent %ld %ld", (long)lb, (long)ext);
    OK(MPI_Type_free(&s));

    OK(MPI_Type_create_darray(4, 1, 2, (int[]){8, 6}, (int[]){MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_CYCLIC},
                              (int[]){MPI_DISTRIBUTE_DFLT_DARG, 2}, (int[]){2, 2}, MPI_ORDER_C, MPI_FLOAT, &s));
    expect(s, MPI_COMBINER_DARRAY, 12, 0, 1,
           (int[]){4, 1, 2, 8, 6, MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_CYCLIC, MPI_DISTRIBUTE_DFLT_DARG, 2, 2, 2, MPI_ORDER_C},
           NULL, (MPI_Datatype[]){MPI_FLOAT}, "darray");
    int size;
    OK(MPI_Type_size(s, &size));
    CHECK(size == 4 * 4 * 2, "darray size %d", size); /* rows 0..3, columns 2,3 */
    OK(MPI_Type_free(&s));

    OK(MPI_Type_create_resized(v, -8, 100, &s));
    expect(s, MPI_COMBINER_RESIZED, 0, 2, 1, NULL, (MPI_Aint[]){-8, 100}, (MPI_Datatype[]){v}, "resized");
    OK(MPI_Type_get_extent(s, &lb, &ext));
    CHECK(lb == -8 && ext == 100, "resized extent %ld %ld", (long)lb, (long)ext);
    OK(MPI_Type_free(&s));

    OK(MPI_Type_dup(MPI_INT, &s));
    expect(s, MPI_COMBINER_DUP, 0, 0, 1, NULL, NULL, (MPI_Datatype[]){MPI_INT}, "dup");
    OK(MPI_Type_free(&s));
    OK(MPI_Type_dup(v, &s));
    expect(s, MPI_COMBINER_DUP, 0, 0, 1, NULL, NULL, (MPI_Datatype[]){v}, "dup derived");
    OK(MPI_Type_free(&s));

    /* Predefined: NAMED, and get_contents is an error. */
    int ni, na, nd, comb, cls;
    OK(MPI_Type_get_envelope(MPI_FLOAT_INT, &ni, &na, &nd, &comb));
    CHECK(comb == MPI_COMBINER_NAMED && ni == 0 && na == 0 && nd == 0, "FLOAT_INT envelope");
    int rc = MPI_Type_get_contents(MPI_INT, 0, 0, 0, NULL, NULL, NULL);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_TYPE, "contents of MPI_INT: class %d", cls);

    /* f90 types: cached, combiner F90_*. */
    MPI_Datatype f1, f2;
    OK(MPI_Type_create_f90_real(10, MPI_UNDEFINED, &f1));
    OK(MPI_Type_create_f90_real(10, MPI_UNDEFINED, &f2));
    CHECK(f1 == f2, "f90 real handles differ");
    expect(f1, MPI_COMBINER_F90_REAL, 2, 0, 0, (int[]){10, MPI_UNDEFINED}, NULL, NULL, "f90 real");
    OK(MPI_Type_size(f1, &size));
    CHECK(size == 8, "f90 real(10) size %d", size);
    OK(MPI_Type_create_f90_integer(5, &f1));
    expect(f1, MPI_COMBINER_F90_INTEGER, 1, 0, 0, (int[]){5}, NULL, NULL, "f90 integer");
    OK(MPI_Type_size(f1, &size));
    CHECK(size == 4, "f90 integer(5) size %d", size);
    OK(MPI_Type_create_f90_complex(3, 20, &f1));
    OK(MPI_Type_size(f1, &size));
    CHECK(size == 8, "f90 complex(3,20) size %d", size);

    MPI_Datatype m;
    OK(MPI_Type_match_size(MPI_TYPECLASS_INTEGER, 8, &m));
    CHECK(m == MPI_INTEGER8, "match_size integer 8");
    OK(MPI_Type_match_size(MPI_TYPECLASS_REAL, 4, &m));
    CHECK(m == MPI_REAL4, "match_size real 4");

    /* Names. */
    char name[MPI_MAX_OBJECT_NAME];
    int len;
    OK(MPI_Type_get_name(MPI_DOUBLE, name, &len));
    CHECK(strcmp(name, "MPI_DOUBLE") == 0 && len == 10, "name of MPI_DOUBLE: '%s'", name);
    OK(MPI_Type_get_name(MPI_2INT, name, &len));
    CHECK(strcmp(name, "MPI_2INT") == 0, "name of MPI_2INT: '%s'", name);
    OK(MPI_Type_get_name(v, name, &len));
    CHECK(len == 0 && name[0] == 0, "new type has name '%s'", name);
    OK(MPI_Type_set_name(v, "my vector"));
    OK(MPI_Type_get_name(v, name, &len));
    CHECK(strcmp(name, "my vector") == 0 && len == 9, "set name: '%s'", name);

    OK(MPI_Type_free(&v));
    CHECK(v == MPI_DATATYPE_NULL, "free did not reset handle");
    OK(MPI_Type_free(&t));
    MPI_Datatype pre = MPI_INT;
    rc = MPI_Type_free(&pre);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_TYPE, "free MPI_INT: class %d", cls);

    printf("PASS dtype_contents\n");
    MPI_Finalize();
    return 0;
}
