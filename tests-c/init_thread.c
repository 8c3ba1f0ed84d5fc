/* MPI_Init_thread(MPI_THREAD_MULTIPLE): the level is granted, Query_thread agrees, and
 * Is_thread_main is true on the main thread and false on another thread. */
#include "oxitest.h"
#include <pthread.h>

static void *other_thread(void *arg)
{
    int *flag = arg;
    MPI_CHECK(MPI_Is_thread_main(flag));
    return NULL;
}

int main(int argc, char **argv)
{
    ot_init_thread("init_thread", &argc, &argv, MPI_THREAD_MULTIPLE);
    int level = -1, flag = -1;
    MPI_CHECK(MPI_Query_thread(&level));
    CHECK(level == MPI_THREAD_MULTIPLE, "MPI_Query_thread gave %d after MULTIPLE was granted",
          level);
    MPI_CHECK(MPI_Is_thread_main(&flag));
    CHECK(flag == 1, "MPI_Is_thread_main on main thread gave %d", flag);
    pthread_t t;
    flag = -1;
    CHECK(pthread_create(&t, NULL, other_thread, &flag) == 0, "pthread_create failed");
    pthread_join(t, NULL);
    CHECK(flag == 0, "MPI_Is_thread_main on another thread gave %d", flag);
    return ot_pass();
}
