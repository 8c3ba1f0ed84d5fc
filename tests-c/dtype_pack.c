/* Pack/Unpack, Pack_size, MPI_BOTTOM with absolute addresses, external32 bytes, extents
 * and Get_elements / Get_count through Status_set_elements. 1 rank. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL dtype_pack %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); MPI_Abort(MPI_COMM_WORLD, 1); exit(1); } } while (0)
#define OK(call) do { int rc_ = (call); CHECK(rc_ == MPI_SUCCESS, "%s returned %d", #call, rc_); } while (0)

struct rec { char c; double d; int i; };

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);

    /* A strided vector packs its blocks in order and unpacks into the same places. */
    int a[20], b[20], pos = 0, psize;
    char buf[256];
    for (int i = 0; i < 20; i++) { a[i] = i; b[i] = -1; }
    MPI_Datatype v;
    OK(MPI_Type_vector(3, 2, 5, MPI_INT, &v));
    OK(MPI_Type_commit(&v));
    OK(MPI_Pack_size(2, v, MPI_COMM_WORLD, &psize));
    CHECK(psize == 48, "pack_size %d", psize);
    MPI_Aint lb, ext;
    OK(MPI_Type_get_extent(v, &lb, &ext));
    CHECK(lb == 0 && ext == 48, "vector extent %ld", (long)ext);
    OK(MPI_Pack(a, 1, v, buf, sizeof buf, &pos, MPI_COMM_WORLD));
    OK(MPI_Pack(&a[1], 1, MPI_INT, buf, sizeof buf, &pos, MPI_COMM_WORLD));
    CHECK(pos == 28, "position %d", pos);
    int packed[7];
    memcpy(packed, buf, 28);
    int want[7] = {0, 1, 5, 6, 10, 11, 1};
    for (int i = 0; i < 7; i++)
        CHECK(packed[i] == want[i], "packed[%d] = %d", i, packed[i]);
    pos = 0;
    OK(MPI_Unpack(buf, 28, &pos, b, 1, v, MPI_COMM_WORLD));
    for (int i = 0; i < 20; i++) {
        int in = (i % 5) < 2 && i < 15;
        CHECK(b[i] == (in ? i : -1), "unpacked b[%d] = %d", i, b[i]);
    }
    int rc;

    /* A struct with padding: extent 24, size 13. */
    struct rec r[2] = {{'x', 1.5, 7}, {'y', -2.25, 9}}, r2[2];
    MPI_Datatype st;
    OK(MPI_Type_create_struct(3, (int[]){1, 1, 1},
                              (MPI_Aint[]){offsetof(struct rec, c), offsetof(struct rec, d), offsetof(struct rec, i)},
                              (MPI_Datatype[]){MPI_CHAR, MPI_DOUBLE, MPI_INT}, &st));
    OK(MPI_Type_commit(&st));
    OK(MPI_Type_get_extent(st, &lb, &ext));
    CHECK(lb == 0 && ext == sizeof(struct rec), "struct extent %ld", (long)ext);
    MPI_Aint tlb, text;
    OK(MPI_Type_get_true_extent(st, &tlb, &text));
    CHECK(tlb == 0 && text == 20, "struct true extent %ld %ld", (long)tlb, (long)text);
    pos = 0;
    OK(MPI_Pack(r, 2, st, buf, sizeof buf, &pos, MPI_COMM_WORLD));
    CHECK(pos == 26, "struct packed %d", pos);
    memset(r2, 0, sizeof r2);
    pos = 0;
    OK(MPI_Unpack(buf, 26, &pos, r2, 2, st, MPI_COMM_WORLD));
    CHECK(r2[1].c == 'y' && r2[1].d == -2.25 && r2[1].i == 9 && r2[0].d == 1.5, "struct round trip");

    /* Elements of a partial struct stream: 13 + 1 + 8 bytes = 5 basic elements. */
    MPI_Status s;
    int n;
    OK(MPI_Status_set_elements(&s, MPI_BYTE, 22));
    OK(MPI_Get_elements(&s, st, &n));
    CHECK(n == 5, "get_elements %d", n);
    OK(MPI_Get_count(&s, st, &n));
    CHECK(n == MPI_UNDEFINED, "get_count of partial %d", n);
    OK(MPI_Status_set_elements(&s, MPI_BYTE, 20));
    OK(MPI_Get_elements(&s, st, &n));
    CHECK(n == 4, "elements ending inside a double %d", n); /* the cut double does not count */
    OK(MPI_Status_set_elements(&s, MPI_DOUBLE, 3));
    MPI_Count nc;
    OK(MPI_Get_elements_x(&s, MPI_BYTE, &nc));
    CHECK(nc == 24, "set_elements(MPI_DOUBLE, 3) stored %lld bytes", (long long)nc);

    /* Displacements from MPI_Get_address, relative to the first item. (MPI_BOTTOM is
     * checked in dtype_p2p: MPICH 4.0.2's MPI_Pack rejects a null inbuf.) */
    int x = 11;
    double y = 3.25;
    MPI_Aint ax, ay;
    OK(MPI_Get_address(&x, &ax));
    OK(MPI_Get_address(&y, &ay));
    CHECK(MPI_Aint_diff(ay, ax) == (char *)&y - (char *)&x, "Aint_diff");
    CHECK(MPI_Aint_add(ax, 4) == ax + 4, "Aint_add");
    MPI_Datatype rel;
    OK(MPI_Type_create_struct(2, (int[]){1, 1}, (MPI_Aint[]){0, MPI_Aint_diff(ay, ax)},
                              (MPI_Datatype[]){MPI_INT, MPI_DOUBLE}, &rel));
    OK(MPI_Type_commit(&rel));
    pos = 0;
    OK(MPI_Pack(&x, 1, rel, buf, sizeof buf, &pos, MPI_COMM_WORLD));
    CHECK(pos == 12, "relative pack %d", pos);
    x = 0;
    y = 0;
    pos = 0;
    OK(MPI_Unpack(buf, 12, &pos, &x, 1, rel, MPI_COMM_WORLD));
    CHECK(x == 11 && y == 3.25, "relative unpack %d %g", x, y);

    /* external32: big-endian, MPI_LONG is 4 bytes. */
    MPI_Aint esize, epos = 0;
    long lv[2] = {0x01020304L, -2};
    OK(MPI_Pack_external_size("external32", 2, MPI_LONG, &esize));
    CHECK(esize == 8, "external32 size of 2 longs %ld", (long)esize);
    unsigned char eb[16];
    OK(MPI_Pack_external("external32", lv, 2, MPI_LONG, eb, sizeof eb, &epos));
    unsigned char ewant[8] = {1, 2, 3, 4, 0xff, 0xff, 0xff, 0xfe};
    CHECK(epos == 8 && memcmp(eb, ewant, 8) == 0, "external32 long bytes");
    double dv = 1.0;
    OK(MPI_Pack_external("external32", &dv, 1, MPI_DOUBLE, eb, sizeof eb, &epos));
    unsigned char dwant[8] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
    CHECK(epos == 16 && memcmp(eb + 8, dwant, 8) == 0, "external32 double bytes");
    long lb2[2];
    double dv2;
    epos = 0;
    OK(MPI_Unpack_external("external32", eb, 16, &epos, lb2, 2, MPI_LONG));
    OK(MPI_Unpack_external("external32", eb, 16, &epos, &dv2, 1, MPI_DOUBLE));
    CHECK(lb2[0] == 0x01020304L && lb2[1] == -2 && dv2 == 1.0, "external32 round trip");

    /* Uncommitted types cannot be packed. */
    MPI_Datatype u;
    OK(MPI_Type_contiguous(2, MPI_INT, &u));
    pos = 0;
    rc = MPI_Pack(a, 1, u, buf, sizeof buf, &pos, MPI_COMM_WORLD);
    int cls = -1;
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_TYPE, "pack with uncommitted type: class %d", cls);

    MPI_Type_free(&u);
    MPI_Type_free(&rel);
    MPI_Type_free(&st);
    MPI_Type_free(&v);
    printf("PASS dtype_pack\n");
    MPI_Finalize();
    return 0;
}
