/* Thread levels as MPICH gives them (issue 11 class 12): MPI_Init_thread provides exactly
 * the level asked for, MPI_Init provides MPI_THREAD_SINGLE unless
 * MPIR_CVAR_DEFAULT_THREAD_LEVEL names another (read case-insensitively), and
 * MPI_Query_thread tells the level provided.
 *
 * Each rank starts MPI its own way, picked from its launcher rank (PMI_RANK, set by our
 * mpiexec and by hydra) since MPI is not running yet:
 *   rank % 4 == 0  MPI_Init                                          -> MPI_THREAD_SINGLE
 *   rank % 4 == 1  MPI_Init_thread(MPI_THREAD_FUNNELED)              -> MPI_THREAD_FUNNELED
 *   rank % 4 == 2  MPI_Init_thread(MPI_THREAD_SERIALIZED)            -> MPI_THREAD_SERIALIZED
 *   rank % 4 == 3  MPIR_CVAR_DEFAULT_THREAD_LEVEL=mpi_thread_multiple, MPI_Init
 *                                                                    -> MPI_THREAD_MULTIPLE
 * Then every rank checks MPI_Query_thread and MPI_Is_thread_main, and the ranks exchange
 * messages (each level is a working MPI). */
#include "oxitest.h"

int main(int argc, char **argv)
{
    const char *r = getenv("PMI_RANK");
    int way = r ? atoi(r) % 4 : 0;
    int expected, provided = -1;
    ot_test_name = "init_thread_levels";
    /* A default level set from outside must not change what ranks 0..2 check. */
    if (way != 3)
        unsetenv("MPIR_CVAR_DEFAULT_THREAD_LEVEL");
    switch (way) {
    case 0:
        MPI_CHECK(MPI_Init(&argc, &argv));
        expected = MPI_THREAD_SINGLE;
        break;
    case 1:
        MPI_CHECK(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided));
        expected = MPI_THREAD_FUNNELED;
        CHECK(provided == expected, "Init_thread(FUNNELED) provided %d, expected %d", provided,
              expected);
        break;
    case 2:
        MPI_CHECK(MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided));
        expected = MPI_THREAD_SERIALIZED;
        CHECK(provided == expected, "Init_thread(SERIALIZED) provided %d, expected %d",
              provided, expected);
        break;
    default:
        setenv("MPIR_CVAR_DEFAULT_THREAD_LEVEL", "mpi_thread_multiple", 1);
        MPI_CHECK(MPI_Init(&argc, &argv));
        expected = MPI_THREAD_MULTIPLE;
        break;
    }
    ot_setup("init_thread_levels");
    int level = -1, flag = -1;
    MPI_CHECK(MPI_Query_thread(&level));
    CHECK(level == expected, "way %d: MPI_Query_thread gave %d, expected %d", way, level,
          expected);
    MPI_CHECK(MPI_Is_thread_main(&flag));
    CHECK(flag == 1, "MPI_Is_thread_main gave %d on the main thread", flag);

    /* Every rank reports its level to rank 0, which checks them all. */
    if (ot_rank == 0) {
        for (int i = 1; i < ot_size; i++) {
            int got[2];
            MPI_CHECK(MPI_Recv(got, 2, MPI_INT, i, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            CHECK(got[0] == got[1], "rank %d was given level %d, expected %d", i, got[0],
                  got[1]);
        }
    } else {
        int mine[2] = {level, expected};
        MPI_CHECK(MPI_Send(mine, 2, MPI_INT, 0, 5, MPI_COMM_WORLD));
    }
    return ot_pass();
}
