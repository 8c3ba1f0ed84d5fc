/* Blocking send/recv of every predefined datatype (contiguous), content and Get_count
 * checked, then echoed back; pair types (MPI_DOUBLE_INT, ...) checked field by field. */
#include "oxitest.h"

struct basic {
    MPI_Datatype type;
    const char *name;
    int size; /* expected MPI_Type_size on x86-64 Linux */
};

#define T(t, s) {t, #t, s}
static const struct basic basics[] = {
    T(MPI_CHAR, 1), T(MPI_SIGNED_CHAR, 1), T(MPI_UNSIGNED_CHAR, 1), T(MPI_BYTE, 1),
    T(MPI_WCHAR, 4), T(MPI_SHORT, 2), T(MPI_UNSIGNED_SHORT, 2), T(MPI_INT, 4),
    T(MPI_UNSIGNED, 4), T(MPI_LONG, 8), T(MPI_UNSIGNED_LONG, 8), T(MPI_LONG_LONG_INT, 8),
    T(MPI_LONG_LONG, 8), T(MPI_UNSIGNED_LONG_LONG, 8), T(MPI_FLOAT, 4), T(MPI_DOUBLE, 8),
    T(MPI_LONG_DOUBLE, 16), T(MPI_PACKED, 1), T(MPI_INT8_T, 1), T(MPI_INT16_T, 2),
    T(MPI_INT32_T, 4), T(MPI_INT64_T, 8), T(MPI_UINT8_T, 1), T(MPI_UINT16_T, 2),
    T(MPI_UINT32_T, 4), T(MPI_UINT64_T, 8), T(MPI_C_BOOL, 1), T(MPI_C_FLOAT_COMPLEX, 8),
    T(MPI_C_COMPLEX, 8), T(MPI_C_DOUBLE_COMPLEX, 16), T(MPI_C_LONG_DOUBLE_COMPLEX, 32),
    T(MPI_AINT, 8), T(MPI_OFFSET, 8), T(MPI_COUNT, 8), T(MPI_CXX_BOOL, 1),
    T(MPI_CXX_FLOAT_COMPLEX, 8), T(MPI_CXX_DOUBLE_COMPLEX, 16),
    T(MPI_CXX_LONG_DOUBLE_COMPLEX, 32), T(MPI_CHARACTER, 1), T(MPI_INTEGER, 4),
    T(MPI_REAL, 4), T(MPI_DOUBLE_PRECISION, 8), T(MPI_LOGICAL, 4), T(MPI_COMPLEX, 8),
    T(MPI_DOUBLE_COMPLEX, 16), T(MPI_INTEGER1, 1), T(MPI_INTEGER2, 2), T(MPI_INTEGER4, 4),
    T(MPI_INTEGER8, 8), T(MPI_REAL4, 4), T(MPI_REAL8, 8), T(MPI_REAL16, 16),
    T(MPI_COMPLEX8, 8), T(MPI_COMPLEX16, 16), T(MPI_COMPLEX32, 32), T(MPI_2INT, 8),
    T(MPI_2INTEGER, 8), T(MPI_2REAL, 8), T(MPI_2DOUBLE_PRECISION, 16),
};
#define NBASIC ((int)(sizeof basics / sizeof basics[0]))
#define COUNT 37

struct float_int { float v; int i; };
struct double_int { double v; int i; };
struct long_int { long v; int i; };
struct short_int { short v; int i; };
struct long_double_int { long double v; int i; };

static void check_count(MPI_Status *st, MPI_Datatype t, int expected, const char *name)
{
    int count = -1;
    MPI_CHECK(MPI_Get_count(st, t, &count));
    CHECK(count == expected, "%s: MPI_Get_count %d, expected %d", name, count, expected);
}

/* Pair types: send COUNT structs whose fields encode (index, round), check each field. */
#define PAIR_TEST(stype, mtype, vexpr)                                                       \
    do {                                                                                     \
        stype buf[COUNT];                                                                    \
        MPI_Status st;                                                                       \
        memset(buf, 0, sizeof buf);                                                          \
        if (rank == 0) {                                                                     \
            for (int k = 0; k < COUNT; k++) {                                                \
                buf[k].v = vexpr;                                                            \
                buf[k].i = -1000 * k - 7;                                                    \
            }                                                                                \
            MPI_CHECK(MPI_Send(buf, COUNT, mtype, 1, 2, MPI_COMM_WORLD));                    \
        } else if (rank == 1) {                                                              \
            MPI_CHECK(MPI_Recv(buf, COUNT, mtype, 0, 2, MPI_COMM_WORLD, &st));               \
            check_count(&st, mtype, COUNT, #mtype);                                          \
            for (int k = 0; k < COUNT; k++) {                                                \
                CHECK(buf[k].v == (vexpr), "%s[%d]: value wrong", #mtype, k);                \
                CHECK(buf[k].i == -1000 * k - 7, "%s[%d]: int %d, expected %d", #mtype, k,   \
                      buf[k].i, -1000 * k - 7);                                              \
            }                                                                                \
        }                                                                                    \
    } while (0)

int main(int argc, char **argv)
{
    ot_init("types", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    int rank = ot_rank;
    unsigned char *buf = ot_malloc(COUNT * 32);

    for (int t = 0; t < NBASIC; t++) {
        const struct basic *b = &basics[t];
        if (b->type == MPI_DATATYPE_NULL)
            continue; /* not provided by this implementation (e.g. no Fortran) */
        int size = -1;
        MPI_CHECK(MPI_Type_size(b->type, &size));
        CHECK(size == b->size, "MPI_Type_size(%s) = %d, expected %d", b->name, size, b->size);
        size_t n = (size_t)COUNT * size;
        MPI_Status st;
        if (rank == 0) {
            ot_fill(buf, n, t);
            MPI_CHECK(MPI_Send(buf, COUNT, b->type, 1, t, MPI_COMM_WORLD));
            memset(buf, 0, n);
            MPI_CHECK(MPI_Recv(buf, COUNT, b->type, 1, t, MPI_COMM_WORLD, &st));
            check_count(&st, b->type, COUNT, b->name);
            long bad = ot_verify(buf, n, t);
            CHECK(bad < 0, "%s echo: byte %ld wrong", b->name, bad);
        } else if (rank == 1) {
            memset(buf, 0, n);
            MPI_CHECK(MPI_Recv(buf, COUNT, b->type, 0, t, MPI_COMM_WORLD, &st));
            CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == t, "%s: status source %d tag %d",
                  b->name, st.MPI_SOURCE, st.MPI_TAG);
            check_count(&st, b->type, COUNT, b->name);
            long bad = ot_verify(buf, n, t);
            CHECK(bad < 0, "%s: byte %ld wrong", b->name, bad);
            MPI_CHECK(MPI_Send(buf, COUNT, b->type, 0, t, MPI_COMM_WORLD));
        }
    }

    PAIR_TEST(struct float_int, MPI_FLOAT_INT, (float)k * 1.5f + 0.25f);
    PAIR_TEST(struct double_int, MPI_DOUBLE_INT, (double)k * 3.25 - 1e10);
    PAIR_TEST(struct long_int, MPI_LONG_INT, (long)k * 123456789L - 5);
    PAIR_TEST(struct short_int, MPI_SHORT_INT, (short)(k * 31 - 100));
    PAIR_TEST(struct long_double_int, MPI_LONG_DOUBLE_INT, (long double)k / 3.0L);

    free(buf);
    return ot_pass();
}
