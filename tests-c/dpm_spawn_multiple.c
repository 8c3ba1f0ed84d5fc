/* MPI_Comm_spawn_multiple (MPI 4.1 section 11.3.3) with two commands, both this executable:
 *   command 0: argv {"cmd0"},            maxprocs 1, MPI_INFO_NULL
 *   command 1: argv {"cmd1", "two words"}, maxprocs 2, info "wdir" = "/tmp"
 * The three children share one MPI_COMM_WORLD (ranks in command order: 0 from command 0, 1
 * and 2 from command 1); each checks its MPI_APPNUM against its rank, its argv against its
 * command, and (command 1) that its working directory is /tmp. They report to the parents,
 * who check every child's report and array_of_errcodes (3 entries, all MPI_SUCCESS). */
#include "oxitest.h"

#include <limits.h>
#include <unistd.h>

#define NCHILD 3

static void self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    CHECK(n > 0, "readlink(/proc/self/exe) failed");
    buf[n] = 0;
}

/* 1 when the current directory is /tmp (compared through realpath: /tmp may be a link). */
static int cwd_is_tmp(void)
{
    char cwd[PATH_MAX], real_tmp[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || !realpath("/tmp", real_tmp))
        return 0;
    return strcmp(cwd, real_tmp) == 0;
}

static int child(int argc, char **argv, MPI_Comm parent)
{
    ot_test_name = "dpm_spawn_multiple[child]";
    int size, rank, flag, *appnum = NULL;
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    ot_rank = rank;
    CHECK(size == NCHILD, "children's world size %d, expected %d", size, NCHILD);
    MPI_CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_APPNUM, &appnum, &flag));
    CHECK(flag, "MPI_APPNUM is not set in a process of MPI_Comm_spawn_multiple");
    int want_app = rank == 0 ? 0 : 1;
    CHECK(*appnum == want_app, "child rank %d has MPI_APPNUM %d, expected %d", rank, *appnum,
          want_app);
    int in_tmp = cwd_is_tmp();
    if (*appnum == 0) {
        CHECK(argc == 2 && strcmp(argv[1], "cmd0") == 0,
              "command 0 child: argc %d argv[1] '%s', expected 2 and 'cmd0'", argc,
              argc > 1 ? argv[1] : "");
    } else {
        CHECK(argc == 3 && strcmp(argv[1], "cmd1") == 0 && strcmp(argv[2], "two words") == 0,
              "command 1 child: argc %d argv[1] '%s' argv[2] '%s', expected 3, 'cmd1', "
              "'two words'",
              argc, argc > 1 ? argv[1] : "", argc > 2 ? argv[2] : "");
        char cwd[PATH_MAX] = "?";
        CHECK(in_tmp, "command 1 child (wdir=/tmp) runs in '%s'",
              getcwd(cwd, sizeof cwd) ? cwd : "?");
    }
    /* Report (rank, appnum, argc, in /tmp) to parent rank 0. */
    int report[4] = {rank, *appnum, argc, in_tmp};
    MPI_CHECK(MPI_Send(report, 4, MPI_INT, 0, 3, parent));
    MPI_CHECK(MPI_Comm_disconnect(&parent));
    ot_sync(MPI_COMM_WORLD);
    MPI_CHECK(MPI_Finalize());
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Comm parent;
    ot_test_name = "dpm_spawn_multiple";
    MPI_CHECK(MPI_Init(&argc, &argv));
    MPI_CHECK(MPI_Comm_get_parent(&parent));
    if (parent != MPI_COMM_NULL)
        return child(argc, argv, parent);
    ot_setup("dpm_spawn_multiple");

    char exe[4096];
    self_path(exe, sizeof exe);
    char *cmds[2] = {exe, exe};
    char *argv0[] = {"cmd0", NULL};
    char *argv1[] = {"cmd1", "two words", NULL};
    char **argvs[2] = {argv0, argv1};
    int maxprocs[2] = {1, 2};
    MPI_Info infos[2] = {MPI_INFO_NULL, MPI_INFO_NULL};
    MPI_CHECK(MPI_Info_create(&infos[1]));
    MPI_CHECK(MPI_Info_set(infos[1], "wdir", "/tmp"));
    int errcodes[NCHILD] = {-1, -1, -1};
    MPI_Comm inter = MPI_COMM_NULL;
    MPI_CHECK(MPI_Comm_spawn_multiple(2, cmds, argvs, maxprocs, infos, 0, MPI_COMM_WORLD, &inter,
                                      errcodes));
    MPI_CHECK(MPI_Info_free(&infos[1]));
    CHECK(inter != MPI_COMM_NULL, "MPI_Comm_spawn_multiple returned MPI_COMM_NULL");
    for (int i = 0; i < NCHILD; i++)
        CHECK(errcodes[i] == MPI_SUCCESS, "errcodes[%d] = %d, expected MPI_SUCCESS", i,
              errcodes[i]);
    int rsize;
    MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
    CHECK(rsize == NCHILD, "remote size %d, expected %d", rsize, NCHILD);

    if (ot_rank == 0) {
        for (int c = 0; c < NCHILD; c++) {
            int report[4] = {-1, -1, -1, -1};
            MPI_CHECK(MPI_Recv(report, 4, MPI_INT, c, 3, inter, MPI_STATUS_IGNORE));
            int want_app = c == 0 ? 0 : 1;
            CHECK(report[0] == c, "child %d reports rank %d", c, report[0]);
            CHECK(report[1] == want_app, "child %d reports appnum %d, expected %d", c, report[1],
                  want_app);
            CHECK(report[2] == (c == 0 ? 2 : 3), "child %d reports argc %d", c, report[2]);
            CHECK(c == 0 || report[3] == 1, "child %d (wdir=/tmp) is not in /tmp", c);
        }
    }
    MPI_CHECK(MPI_Comm_disconnect(&inter));
    return ot_pass();
}
