/* MPI_Comm_split_type accepts every split type MPICH 4.0.2 does and returns MPI_COMM_NULL
 * where none applies: MPI_COMM_TYPE_SHARED; MPI_COMM_TYPE_HW_GUIDED with
 * mpi_hw_resource_type "mpi_shared_memory" (an unknown or missing type gives MPI_COMM_NULL);
 * MPI_COMM_TYPE_HW_UNGUIDED (MPI_COMM_NULL when no level is smaller than the communicator,
 * as on one node); MPIX_COMM_TYPE_NEIGHBORHOOD with nbhd_common_dirname (MPI_COMM_NULL
 * without it); MPI_UNDEFINED; an unknown type is MPI_ERR_ARG. The tests run on one host. */
#include "oxitest.h"

static MPI_Comm split(int type, const char *key, const char *val)
{
    MPI_Info info = MPI_INFO_NULL;
    MPI_Comm c;
    if (key) {
        MPI_CHECK(MPI_Info_create(&info));
        MPI_CHECK(MPI_Info_set(info, key, val));
    }
    MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, type, ot_rank, info, &c));
    if (key)
        MPI_CHECK(MPI_Info_free(&info));
    return c;
}

static void expect_node(const char *what, MPI_Comm c)
{
    int s, r;
    CHECK(c != MPI_COMM_NULL, "%s gave MPI_COMM_NULL", what);
    MPI_CHECK(MPI_Comm_size(c, &s));
    MPI_CHECK(MPI_Comm_rank(c, &r));
    CHECK(s == ot_size && r == ot_rank, "%s: size %d rank %d", what, s, r);
    MPI_CHECK(MPI_Comm_free(&c));
}

int main(int argc, char **argv)
{
    ot_init("comm_split_types", &argc, &argv);
    expect_node("MPI_COMM_TYPE_SHARED", split(MPI_COMM_TYPE_SHARED, NULL, NULL));
    expect_node("HW_GUIDED mpi_shared_memory",
                split(MPI_COMM_TYPE_HW_GUIDED, "mpi_hw_resource_type", "mpi_shared_memory"));
    CHECK(split(MPI_COMM_TYPE_HW_GUIDED, "mpi_hw_resource_type", "no_such_level") == MPI_COMM_NULL,
          "HW_GUIDED with an unknown resource type gave a communicator");
    CHECK(split(MPI_COMM_TYPE_HW_GUIDED, NULL, NULL) == MPI_COMM_NULL,
          "HW_GUIDED without mpi_hw_resource_type gave a communicator");
    CHECK(split(MPI_COMM_TYPE_HW_UNGUIDED, NULL, NULL) == MPI_COMM_NULL,
          "HW_UNGUIDED on one node gave a communicator");
    expect_node("MPIX_COMM_TYPE_NEIGHBORHOOD nbhd_common_dirname",
                split(MPIX_COMM_TYPE_NEIGHBORHOOD, "nbhd_common_dirname", "/tmp"));
    CHECK(split(MPIX_COMM_TYPE_NEIGHBORHOOD, NULL, NULL) == MPI_COMM_NULL,
          "NEIGHBORHOOD without a hint gave a communicator");
    CHECK(split(MPI_UNDEFINED, NULL, NULL) == MPI_COMM_NULL, "MPI_UNDEFINED gave a communicator");
    MPI_Comm c;
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    CHECK_CLASS(MPI_Comm_split_type(MPI_COMM_WORLD, 1000, 0, MPI_INFO_NULL, &c), MPI_ERR_ARG);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    return ot_pass();
}
