/* MPI_Comm_get_info returns the hints in use (MPI 4.1 §7.4.4), as MPICH does: the standard's
 * assertions with their values in force (false unless set), never the unknown keys a
 * program passed; MPI_Comm_dup_with_info takes the given ones, MPI_Comm_dup starts from none
 * (MPICH does not copy the parent's), MPI_Comm_set_info updates them. */
#include "oxitest.h"

static void expect_at(int line, MPI_Comm c, const char *key, const char *val)
{
    MPI_Info i;
    char buf[MPI_MAX_INFO_VAL + 1];
    int flag;
    MPI_CHECK(MPI_Comm_get_info(c, &i));
    MPI_CHECK(MPI_Info_get(i, key, MPI_MAX_INFO_VAL, buf, &flag));
    if (val == NULL)
        CHECK(!flag, "line %d: key %s reported (value %s)", line, key, buf);
    else
        CHECK(flag && strcmp(buf, val) == 0, "line %d: key %s: %s, expected %s", line, key, flag ? buf : "(absent)", val);
    MPI_CHECK(MPI_Info_free(&i));
}

#define expect(c, k, v) expect_at(__LINE__, c, k, v)

int main(int argc, char **argv)
{
    ot_init("comm_info_hints", &argc, &argv);
    MPI_Info in;
    MPI_Comm a, b, d;
    expect(MPI_COMM_WORLD, "mpi_assert_no_any_tag", "false");
    MPI_CHECK(MPI_Info_create(&in));
    MPI_CHECK(MPI_Info_set(in, "oximpi_unknown_key", "some value"));
    MPI_CHECK(MPI_Info_set(in, "mpi_assert_no_any_tag", "true"));
    MPI_CHECK(MPI_Comm_dup_with_info(MPI_COMM_WORLD, in, &a));
    expect(a, "oximpi_unknown_key", NULL);
    expect(a, "mpi_assert_no_any_tag", "true");
    expect(a, "mpi_assert_no_any_source", "false");
    MPI_CHECK(MPI_Comm_dup(a, &d));
    expect(d, "mpi_assert_no_any_tag", "false");
    expect(d, "oximpi_unknown_key", NULL);
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &b));
    MPI_CHECK(MPI_Comm_set_info(b, in));
    expect(b, "oximpi_unknown_key", NULL);
    expect(b, "mpi_assert_no_any_tag", "true");
    MPI_CHECK(MPI_Info_set(in, "mpi_assert_no_any_tag", "false"));
    MPI_CHECK(MPI_Info_set(in, "mpi_assert_allow_overtaking", "true"));
    MPI_CHECK(MPI_Comm_set_info(b, in));
    expect(b, "mpi_assert_no_any_tag", "false");
    expect(b, "mpi_assert_allow_overtaking", "true");
    MPI_CHECK(MPI_Info_free(&in));
    MPI_CHECK(MPI_Comm_free(&a));
    MPI_CHECK(MPI_Comm_free(&b));
    MPI_CHECK(MPI_Comm_free(&d));
    return ot_pass();
}
