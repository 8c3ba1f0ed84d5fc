/* MPICH's MPIX_ extensions other than ULFM: the GPU-support queries answer "no GPU" as an
 * MPICH built without GPU support does; MPIX_Delete_error_* really remove user classes,
 * codes and strings (and refuse predefined and unknown ones with MPI_ERR_OTHER). */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("mpix_misc", &argc, &argv);
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));

    CHECK(MPIX_Query_cuda_support() == 0, "cuda support claimed");
    CHECK(MPIX_Query_ze_support() == 0, "ze support claimed");
    CHECK(MPIX_Query_hip_support() == 0, "hip support claimed");
    int types[3] = {MPIX_GPU_SUPPORT_CUDA, MPIX_GPU_SUPPORT_ZE, MPIX_GPU_SUPPORT_HIP};
    for (int i = 0; i < 3; i++) {
        int s = -1;
        MPI_CHECK(MPIX_GPU_query_support(types[i], &s));
        CHECK(s == 0, "gpu type %d: is_supported %d", types[i], s);
    }
    CHECK(MPIX_GPU_query_support(MPIX_GPU_SUPPORT_CUDA, NULL) != MPI_SUCCESS,
          "a null is_supported accepted");

    /* A class with a code and strings; remove them in the order the standard allows. */
    int cls, code, cls2, len;
    char msg[MPI_MAX_ERROR_STRING];
    MPI_CHECK(MPI_Add_error_class(&cls));
    MPI_CHECK(MPI_Add_error_code(cls, &code));
    MPI_CHECK(MPI_Add_error_string(cls, "my class"));
    MPI_CHECK(MPI_Add_error_string(code, "my code"));
    MPI_CHECK(MPI_Error_string(code, msg, &len));
    CHECK(strcmp(msg, "my code") == 0, "code string '%s'", msg);
    MPI_CHECK(MPIX_Delete_error_string(code));
    MPI_CHECK(MPI_Error_string(code, msg, &len));
    CHECK(len == 0 || msg[0] == 0, "string survived its deletion: '%s'", msg);
    MPI_CHECK(MPIX_Delete_error_code(code));
    /* The code is gone: a second deletion is refused. */
    CHECK_CLASS(MPIX_Delete_error_code(code), MPI_ERR_OTHER);
    MPI_CHECK(MPIX_Delete_error_string(cls));
    MPI_CHECK(MPIX_Delete_error_class(cls));
    CHECK_CLASS(MPIX_Delete_error_class(cls), MPI_ERR_OTHER);
    /* A fresh class can be added and deleted. */
    MPI_CHECK(MPI_Add_error_class(&cls2));
    MPI_CHECK(MPIX_Delete_error_class(cls2));
    /* Predefined classes are not the user's to delete. */
    CHECK_CLASS(MPIX_Delete_error_class(MPI_ERR_ARG), MPI_ERR_OTHER);
    CHECK_CLASS(MPIX_Delete_error_code(MPI_ERR_TYPE), MPI_ERR_OTHER);
    CHECK_CLASS(MPIX_Delete_error_string(MPI_ERR_COMM), MPI_ERR_OTHER);
    return ot_pass();
}
