/* A program started without mpiexec (a singleton) spawns: the library starts a launcher on
 * demand (MPI 4.1 §11.8, as MPICH does). Parent: world of 1, spawns 2 copies of itself,
 * sends each its rank squared, gets back the sum of its world, merges, Allreduce, and
 * disconnects. Run by dpm_singleton.sh (not under mpiexec). */
#include "oxitest.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm parent;
    MPI_Comm_get_parent(&parent);
    int wsize, wrank;
    MPI_Comm_size(MPI_COMM_WORLD, &wsize);
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    if (parent == MPI_COMM_NULL) {
        CHECK(wsize == 1, "a singleton's world has 1 process, got %d", wsize);
        MPI_Comm inter;
        int errs[2] = {-1, -1};
        MPI_Comm_spawn(argv[0], MPI_ARGV_NULL, 2, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter, errs);
        CHECK(errs[0] == MPI_SUCCESS && errs[1] == MPI_SUCCESS, "errcodes %d %d", errs[0], errs[1]);
        int rsize;
        MPI_Comm_remote_size(inter, &rsize);
        CHECK(rsize == 2, "2 children, got %d", rsize);
        for (int c = 0; c < 2; c++) {
            int v = c * c + 10;
            MPI_Send(&v, 1, MPI_INT, c, 1, inter);
        }
        int sum = -1;
        MPI_Recv(&sum, 1, MPI_INT, 0, 2, inter, MPI_STATUS_IGNORE);
        CHECK(sum == 10 + 11, "children's sum: %d", sum);
        MPI_Comm merged;
        MPI_Intercomm_merge(inter, 0, &merged);
        int msize, mrank, total = 0, one = 1;
        MPI_Comm_size(merged, &msize);
        MPI_Comm_rank(merged, &mrank);
        CHECK(msize == 3 && mrank == 0, "merged size %d rank %d", msize, mrank);
        MPI_Allreduce(&one, &total, 1, MPI_INT, MPI_SUM, merged);
        CHECK(total == 3, "allreduce over the merged comm: %d", total);
        MPI_Comm_free(&merged);
        MPI_Comm_disconnect(&inter);
        CHECK(inter == MPI_COMM_NULL, "disconnect sets MPI_COMM_NULL");
        MPI_Finalize();
        printf("PASS dpm_singleton\n");
        return 0;
    }
    int v = -1;
    MPI_Recv(&v, 1, MPI_INT, 0, 1, parent, MPI_STATUS_IGNORE);
    CHECK(v == wrank * wrank + 10, "child %d got %d", wrank, v);
    int sum = 0;
    MPI_Reduce(&v, &sum, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (wrank == 0)
        MPI_Send(&sum, 1, MPI_INT, 0, 2, parent);
    MPI_Comm merged;
    MPI_Intercomm_merge(parent, 1, &merged);
    int one = 1, total = 0;
    MPI_Allreduce(&one, &total, 1, MPI_INT, MPI_SUM, merged);
    CHECK(total == 3, "child allreduce over the merged comm: %d", total);
    MPI_Comm_free(&merged);
    MPI_Comm_disconnect(&parent);
    MPI_Finalize();
    return 0;
}
