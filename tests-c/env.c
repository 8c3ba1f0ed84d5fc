/* Environment: Init/Finalize state queries, thread level, version strings, processor name,
 * timers, rank/size of MPI_COMM_WORLD and MPI_COMM_SELF. */
#include "oxitest.h"
#include <unistd.h>

int main(int argc, char **argv)
{
    int flag = -1;
    ot_test_name = "env";
    /* These four may be called before MPI_Init. */
    MPI_CHECK(MPI_Initialized(&flag));
    CHECK(flag == 0, "MPI_Initialized before MPI_Init gave %d", flag);
    MPI_CHECK(MPI_Finalized(&flag));
    CHECK(flag == 0, "MPI_Finalized before MPI_Init gave %d", flag);
    int version = -1, subversion = -1;
    MPI_CHECK(MPI_Get_version(&version, &subversion));
    /* A binary built against an older header (MPICH 4.0's) may run on a newer library. */
    CHECK(version == MPI_VERSION && subversion >= MPI_SUBVERSION,
          "MPI_Get_version before init: %d.%d, header says %d.%d", version, subversion,
          MPI_VERSION, MPI_SUBVERSION);
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = -1;
    memset(lib, 0x7f, sizeof lib);
    MPI_CHECK(MPI_Get_library_version(lib, &len));
    CHECK(len > 0 && len < MPI_MAX_LIBRARY_VERSION_STRING, "library version length %d", len);
    CHECK((int)strlen(lib) == len, "library version strlen %zu != len %d", strlen(lib), len);

    ot_init("env", &argc, &argv);
    MPI_CHECK(MPI_Initialized(&flag));
    CHECK(flag == 1, "MPI_Initialized after MPI_Init gave %d", flag);
    MPI_CHECK(MPI_Finalized(&flag));
    CHECK(flag == 0, "MPI_Finalized before MPI_Finalize gave %d", flag);

    int level = -1;
    MPI_CHECK(MPI_Query_thread(&level));
    CHECK(level >= MPI_THREAD_SINGLE && level <= MPI_THREAD_MULTIPLE, "thread level %d", level);
    MPI_CHECK(MPI_Is_thread_main(&flag));
    CHECK(flag == 1, "MPI_Is_thread_main on the main thread gave %d", flag);

    /* Rank and size: WORLD agrees with itself across ranks (checked below), SELF is 1/0. */
    int rank = -1, size = -1;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    CHECK(size >= 1 && rank >= 0 && rank < size, "world rank %d size %d", rank, size);
    int srank = -1, ssize = -1;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_SELF, &srank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_SELF, &ssize));
    CHECK(srank == 0 && ssize == 1, "COMM_SELF rank %d size %d", srank, ssize);

    /* Every rank reports its rank and size to rank 0: ranks are distinct and sizes equal. */
    if (rank == 0) {
        char *seen = calloc(size, 1);
        for (int i = 1; i < size; i++) {
            int msg[2];
            MPI_Status st;
            MPI_CHECK(MPI_Recv(msg, 2, MPI_INT, MPI_ANY_SOURCE, 1, MPI_COMM_WORLD, &st));
            CHECK(msg[0] == st.MPI_SOURCE, "rank %d says it is rank %d", st.MPI_SOURCE, msg[0]);
            CHECK(msg[1] == size, "rank %d says size %d, rank 0 says %d", msg[0], msg[1], size);
            CHECK(!seen[msg[0]], "rank %d reported twice", msg[0]);
            seen[msg[0]] = 1;
        }
        free(seen);
    } else {
        int msg[2] = {rank, size};
        MPI_CHECK(MPI_Send(msg, 2, MPI_INT, 0, 1, MPI_COMM_WORLD));
    }

    char name[MPI_MAX_PROCESSOR_NAME];
    len = -1;
    memset(name, 0x7f, sizeof name);
    MPI_CHECK(MPI_Get_processor_name(name, &len));
    CHECK(len > 0 && len < MPI_MAX_PROCESSOR_NAME, "processor name length %d", len);
    CHECK((int)strlen(name) == len, "processor name strlen %zu != len %d", strlen(name), len);

    /* Timers: wtick positive and at most 1 ms; wtime is monotonic and measures a 20 ms sleep. */
    double tick = MPI_Wtick();
    CHECK(tick > 0.0 && tick <= 1e-3, "MPI_Wtick %g", tick);
    double t0 = MPI_Wtime();
    usleep(20000);
    double t1 = MPI_Wtime();
    CHECK(t1 - t0 >= 0.019 && t1 - t0 < 5.0, "20 ms sleep measured as %g s", t1 - t0);
    double prev = MPI_Wtime();
    for (int i = 0; i < 1000; i++) {
        double t = MPI_Wtime();
        CHECK(t >= prev, "MPI_Wtime went backwards: %.9f after %.9f", t, prev);
        prev = t;
    }

    ot_sync(MPI_COMM_WORLD);
    if (rank == 0) {
        printf("PASS env\n");
        fflush(stdout);
    }
    MPI_CHECK(MPI_Finalize());
    MPI_CHECK(MPI_Finalized(&flag));
    CHECK(flag == 1, "MPI_Finalized after MPI_Finalize gave %d", flag);
    MPI_CHECK(MPI_Initialized(&flag));
    CHECK(flag == 1, "MPI_Initialized after MPI_Finalize gave %d", flag);
    return 0;
}
