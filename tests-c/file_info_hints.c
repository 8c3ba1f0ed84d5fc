/* MPI_File_get_info returns the hints in use only (MPI 4.1 §14.2.8): a key the
 * implementation does not know is ignored, not echoed back (MPICH's ROMIO does the same),
 * whether given at MPI_File_open, MPI_File_set_info or MPI_File_set_view. When the reserved
 * file_perm hint is reported in use (OxiMPI acts on it; ROMIO ignores it), the file
 * MPI_File_open created has those permissions. */
#include "oxitest.h"
#include <sys/stat.h>
#include <unistd.h>

static void no_unknown(MPI_File fh, const char *when)
{
    MPI_Info used;
    char v[MPI_MAX_INFO_VAL + 1];
    int flag;
    MPI_CHECK(MPI_File_get_info(fh, &used));
    MPI_CHECK(MPI_Info_get(used, "oximpi_no_such_hint", MPI_MAX_INFO_VAL, v, &flag));
    CHECK(!flag, "%s: the unknown hint was echoed back (%s)", when, v);
    MPI_CHECK(MPI_Info_free(&used));
}

int main(int argc, char **argv)
{
    ot_init("file_info_hints", &argc, &argv);
    char name[256];
    snprintf(name, sizeof name, "/tmp/oximpi_file_info_hints.%d", (int)getppid());
    MPI_Info in;
    MPI_CHECK(MPI_Info_create(&in));
    MPI_CHECK(MPI_Info_set(in, "oximpi_no_such_hint", "1"));
    MPI_CHECK(MPI_Info_set(in, "file_perm", "0640"));
    if (ot_rank == 0)
        unlink(name);
    ot_sync(MPI_COMM_WORLD);
    MPI_File fh;
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_CREATE | MPI_MODE_RDWR, in, &fh));
    no_unknown(fh, "MPI_File_open");
    MPI_Info used;
    char v[MPI_MAX_INFO_VAL + 1];
    int flag;
    MPI_CHECK(MPI_File_get_info(fh, &used));
    MPI_CHECK(MPI_Info_get(used, "file_perm", MPI_MAX_INFO_VAL, v, &flag));
    MPI_CHECK(MPI_Info_free(&used));
    if (flag) {
        struct stat st;
        CHECK(strtol(v, NULL, 8) == 0640, "file_perm in use is %s", v);
        CHECK(stat(name, &st) == 0, "stat %s", name);
        CHECK((st.st_mode & 0777) == 0640, "file_perm 0640 gave mode %o", (unsigned)(st.st_mode & 0777));
    }
    MPI_CHECK(MPI_File_set_info(fh, in));
    no_unknown(fh, "MPI_File_set_info");
    MPI_CHECK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", in));
    no_unknown(fh, "MPI_File_set_view");
    MPI_CHECK(MPI_File_close(&fh));
    MPI_CHECK(MPI_Info_free(&in));
    ot_sync(MPI_COMM_WORLD);
    if (ot_rank == 0)
        unlink(name);
    return ot_pass();
}
