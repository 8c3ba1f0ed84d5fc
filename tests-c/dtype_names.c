/* MPI_Type_get_name of every predefined datatype gives MPICH 4.0.2's name (MPI_C_COMPLEX and
 * MPI_C_FLOAT_COMPLEX, one handle, are named "MPI_C_COMPLEX"; the aliases MPI_LONG_LONG
 * and MPI_LONG_LONG_INT "MPI_LONG_LONG_INT"). A duplicate has no name until given one. 1 rank. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank;
#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL dtype_names (rank %d) %s:%d: ", rank, __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); MPI_Abort(MPI_COMM_WORLD, 1); exit(1); } } while (0)
#define OK(call) do { int rc_ = (call); CHECK(rc_ == MPI_SUCCESS, "%s returned %d", #call, rc_); } while (0)

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    /* MPICH 4.0.2's names, printed by a program run on it. */
    struct { MPI_Datatype t; const char *name; } names[] = {
        {MPI_2DOUBLE_PRECISION, "MPI_2DOUBLE_PRECISION"},
        {MPI_2INT, "MPI_2INT"},
        {MPI_2INTEGER, "MPI_2INTEGER"},
        {MPI_2REAL, "MPI_2REAL"},
        {MPI_AINT, "MPI_AINT"},
        {MPI_BYTE, "MPI_BYTE"},
        {MPI_CHAR, "MPI_CHAR"},
        {MPI_CHARACTER, "MPI_CHARACTER"},
        {MPI_COMPLEX, "MPI_COMPLEX"},
        {MPI_COMPLEX16, "MPI_COMPLEX16"},
        {MPI_COMPLEX32, "MPI_COMPLEX32"},
        {MPI_COMPLEX8, "MPI_COMPLEX8"},
        {MPI_COUNT, "MPI_COUNT"},
        {MPI_CXX_BOOL, "MPI_CXX_BOOL"},
        {MPI_CXX_DOUBLE_COMPLEX, "MPI_CXX_DOUBLE_COMPLEX"},
        {MPI_CXX_FLOAT_COMPLEX, "MPI_CXX_FLOAT_COMPLEX"},
        {MPI_CXX_LONG_DOUBLE_COMPLEX, "MPI_CXX_LONG_DOUBLE_COMPLEX"},
        {MPI_C_BOOL, "MPI_C_BOOL"},
        {MPI_C_DOUBLE_COMPLEX, "MPI_C_DOUBLE_COMPLEX"},
        {MPI_C_FLOAT_COMPLEX, "MPI_C_COMPLEX"},
        {MPI_C_LONG_DOUBLE_COMPLEX, "MPI_C_LONG_DOUBLE_COMPLEX"},
        {MPI_DOUBLE, "MPI_DOUBLE"},
        {MPI_DOUBLE_COMPLEX, "MPI_DOUBLE_COMPLEX"},
        {MPI_DOUBLE_INT, "MPI_DOUBLE_INT"},
        {MPI_DOUBLE_PRECISION, "MPI_DOUBLE_PRECISION"},
        {MPI_FLOAT, "MPI_FLOAT"},
        {MPI_FLOAT_INT, "MPI_FLOAT_INT"},
        {MPI_INT, "MPI_INT"},
        {MPI_INT16_T, "MPI_INT16_T"},
        {MPI_INT32_T, "MPI_INT32_T"},
        {MPI_INT64_T, "MPI_INT64_T"},
        {MPI_INT8_T, "MPI_INT8_T"},
        {MPI_INTEGER, "MPI_INTEGER"},
        {MPI_INTEGER1, "MPI_INTEGER1"},
        {MPI_INTEGER2, "MPI_INTEGER2"},
        {MPI_INTEGER4, "MPI_INTEGER4"},
        {MPI_INTEGER8, "MPI_INTEGER8"},
        {MPI_LB, "MPI_LB"},
        {MPI_LOGICAL, "MPI_LOGICAL"},
        {MPI_LONG, "MPI_LONG"},
        {MPI_LONG_DOUBLE, "MPI_LONG_DOUBLE"},
        {MPI_LONG_DOUBLE_INT, "MPI_LONG_DOUBLE_INT"},
        {MPI_LONG_INT, "MPI_LONG_INT"},
        {MPI_LONG_LONG_INT, "MPI_LONG_LONG_INT"},
        {MPI_OFFSET, "MPI_OFFSET"},
        {MPI_PACKED, "MPI_PACKED"},
        {MPI_REAL, "MPI_REAL"},
        {MPI_REAL16, "MPI_REAL16"},
        {MPI_REAL4, "MPI_REAL4"},
        {MPI_REAL8, "MPI_REAL8"},
        {MPI_SHORT, "MPI_SHORT"},
        {MPI_SHORT_INT, "MPI_SHORT_INT"},
        {MPI_SIGNED_CHAR, "MPI_SIGNED_CHAR"},
        {MPI_UB, "MPI_UB"},
        {MPI_UINT16_T, "MPI_UINT16_T"},
        {MPI_UINT32_T, "MPI_UINT32_T"},
        {MPI_UINT64_T, "MPI_UINT64_T"},
        {MPI_UINT8_T, "MPI_UINT8_T"},
        {MPI_UNSIGNED, "MPI_UNSIGNED"},
        {MPI_UNSIGNED_CHAR, "MPI_UNSIGNED_CHAR"},
        {MPI_UNSIGNED_LONG, "MPI_UNSIGNED_LONG"},
        {MPI_UNSIGNED_LONG_LONG, "MPI_UNSIGNED_LONG_LONG"},
        {MPI_UNSIGNED_SHORT, "MPI_UNSIGNED_SHORT"},
        {MPI_WCHAR, "MPI_WCHAR"},
        {MPI_C_FLOAT_COMPLEX, "MPI_C_COMPLEX"},
        {MPI_LONG_LONG, "MPI_LONG_LONG_INT"},
    };
    char got[MPI_MAX_OBJECT_NAME];
    int len;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        memset(got, 'x', sizeof got);
        len = -1;
        OK(MPI_Type_get_name(names[i].t, got, &len));
        CHECK(strcmp(got, names[i].name) == 0 && len == (int)strlen(names[i].name),
              "name of %s: \"%s\" (length %d)", names[i].name, got, len);
    }
    /* MPIX_C_FLOAT16: MPICH 4.0.2 leaves it unnamed (""), an oversight of its own; we name
     * it. Either is accepted. */
    OK(MPI_Type_get_name(MPIX_C_FLOAT16, got, &len));
    CHECK(strcmp(got, "") == 0 || strcmp(got, "MPIX_C_FLOAT16") == 0, "MPIX_C_FLOAT16: \"%s\"", got);
    /* A duplicate starts unnamed; a name given to it is its own. */
    MPI_Datatype d;
    OK(MPI_Type_dup(MPI_C_COMPLEX, &d));
    OK(MPI_Type_get_name(d, got, &len));
    CHECK(len == 0 && got[0] == 0, "a duplicate is named \"%s\"", got);
    OK(MPI_Type_set_name(d, "mine"));
    OK(MPI_Type_get_name(d, got, &len));
    CHECK(strcmp(got, "mine") == 0 && len == 4, "set name: \"%s\"", got);
    OK(MPI_Type_get_name(MPI_C_COMPLEX, got, &len));
    CHECK(strcmp(got, "MPI_C_COMPLEX") == 0, "the predefined name changed: \"%s\"", got);
    OK(MPI_Type_free(&d));
    if (rank == 0)
        printf("PASS dtype_names\n");
    MPI_Finalize();
    return 0;
}
