/* The thread level of a session (MPI 4 section 11.3.1; MPICH's session_impl.c):
 *   1. MPI_Session_init reads the requested level from info key "thread_level" (MPI 4.0's
 *      example 11.9, MPICH's key) or "mpi_thread_support_level" (MPI 4.1's, Open MPI's), and
 *      MPI_Session_get_info reports the level under both keys: the one asked for, or
 *      MPI_THREAD_MULTIPLE when none was asked;
 *   2. a value that names no level, or two keys naming different levels, fail with class
 *      MPI_ERR_OTHER (as MPICH) through MPI_ERRORS_RETURN, leaving MPI_SESSION_NULL;
 *   3. a session asking for MPI_THREAD_SINGLE still makes a working communicator from
 *      mpi://WORLD (an allreduce over it gives the right sum on every rank). */
#include "oxitest.h"

static void expect_level(MPI_Session s, const char *want)
{
    const char *keys[] = {"thread_level", "mpi_thread_support_level"};
    MPI_Info used;
    CHECK(MPI_Session_get_info(s, &used) == MPI_SUCCESS, "MPI_Session_get_info");
    for (int k = 0; k < 2; k++) {
        char v[MPI_MAX_INFO_VAL + 1] = "";
        int len = sizeof v, flag = 0;
        CHECK(MPI_Info_get_string(used, keys[k], &len, v, &flag) == MPI_SUCCESS,
              "MPI_Info_get_string %s", keys[k]);
        CHECK(flag, "Session_get_info has no key %s", keys[k]);
        CHECK(strcmp(v, want) == 0, "%s is %s, expected %s", keys[k], v, want);
    }
    MPI_Info_free(&used);
}

static MPI_Session init_with(const char *k1, const char *v1, const char *k2, const char *v2,
                             int *rc)
{
    MPI_Info info;
    MPI_Session s = MPI_SESSION_NULL;
    MPI_Info_create(&info);
    if (k1)
        MPI_Info_set(info, k1, v1);
    if (k2)
        MPI_Info_set(info, k2, v2);
    *rc = MPI_Session_init(info, MPI_ERRORS_RETURN, &s);
    MPI_Info_free(&info);
    return s;
}

static void expect_refused(const char *k1, const char *v1, const char *k2, const char *v2)
{
    int rc, cls = -1;
    MPI_Session s = init_with(k1, v1, k2, v2, &rc);
    CHECK(rc != MPI_SUCCESS, "MPI_Session_init accepted %s=%s %s=%s", k1, v1, k2 ? k2 : "",
          v2 ? v2 : "");
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_OTHER, "class %d for %s=%s, expected MPI_ERR_OTHER", cls, k1, v1);
    CHECK(s == MPI_SESSION_NULL, "a refused MPI_Session_init left a session");
}

int main(void)
{
    int rc;
    ot_test_name = "sess_thread_level";

    MPI_Session s = init_with(NULL, NULL, NULL, NULL, &rc);
    CHECK(rc == MPI_SUCCESS, "MPI_Session_init without a level");
    expect_level(s, "MPI_THREAD_MULTIPLE");
    CHECK(MPI_Session_finalize(&s) == MPI_SUCCESS, "finalize");

    s = init_with("mpi_thread_support_level", "MPI_THREAD_FUNNELED", NULL, NULL, &rc);
    CHECK(rc == MPI_SUCCESS, "MPI_Session_init mpi_thread_support_level=FUNNELED");
    expect_level(s, "MPI_THREAD_FUNNELED");
    CHECK(MPI_Session_finalize(&s) == MPI_SUCCESS, "finalize");

    s = init_with("thread_level", "MPI_THREAD_SERIALIZED", "mpi_thread_support_level",
                  "MPI_THREAD_SERIALIZED", &rc);
    CHECK(rc == MPI_SUCCESS, "MPI_Session_init with both keys agreeing");
    expect_level(s, "MPI_THREAD_SERIALIZED");
    CHECK(MPI_Session_finalize(&s) == MPI_SUCCESS, "finalize");

    expect_refused("thread_level", "MPI_THREAD_LOTS", NULL, NULL);
    expect_refused("mpi_thread_support_level", "", NULL, NULL);
    expect_refused("thread_level", "MPI_THREAD_SINGLE", "mpi_thread_support_level",
                   "MPI_THREAD_MULTIPLE");

    s = init_with("thread_level", "MPI_THREAD_SINGLE", NULL, NULL, &rc);
    CHECK(rc == MPI_SUCCESS, "MPI_Session_init thread_level=SINGLE");
    expect_level(s, "MPI_THREAD_SINGLE");
    MPI_Group g;
    MPI_Comm c;
    CHECK(MPI_Group_from_session_pset(s, "mpi://WORLD", &g) == MPI_SUCCESS, "group");
    CHECK(MPI_Comm_create_from_group(g, "sess_thread_level", MPI_INFO_NULL, MPI_ERRORS_RETURN,
                                     &c) == MPI_SUCCESS,
          "comm from group");
    int rank, size, sum = -1;
    MPI_Comm_rank(c, &rank);
    MPI_Comm_size(c, &size);
    ot_rank = rank;
    int one = rank + 1;
    CHECK(MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, c) == MPI_SUCCESS, "allreduce");
    CHECK(sum == size * (size + 1) / 2, "sum %d over %d ranks", sum, size);
    MPI_Group_free(&g);
    MPI_Comm_free(&c);
    CHECK(MPI_Session_finalize(&s) == MPI_SUCCESS, "finalize");
    if (rank == 0)
        printf("PASS sess_thread_level\n");
    return 0;
}
