/* Instructions per small-message call, for callgrind (issue 13): deterministic where wall
 * clock on a shared machine is not. bench/p2p-instr.sh builds and runs it and prints the
 * instructions per call of each MPI function (inclusive, from PMPI_ entry to return).
 *
 * Per rank, n = argv[1] (default 2000):
 *   phase 1: n ping-pongs of 8 B (MPI_Send / MPI_Recv on a posted receive: the Recv figure
 *            includes the polling while the reply travels, so it varies from run to run)
 *   phase 2: n/10 windows of 64 x 8 B MPI_Isend (rank 0) / MPI_Irecv (rank 1) + MPI_Waitall,
 *            then a 0 B acknowledgement (rank 0's Waitall finds every send complete: per
 *            request it is deterministic; rank 1's includes polling)
 *   phase 3: n 8 B messages from rank 1 queued before rank 0 receives them, in 10 batches;
 *            rank 0's receives are in recv_unexpected (count them with
 *            --toggle-collect=recv_unexpected: a receive that finds its message queued)
 *   phase 4: n MPI_Iprobe that find nothing (one empty progress round each) */
#include <mpi.h>
#include <stdlib.h>
/* the receives of phase 3, apart so callgrind can count them alone (--toggle-collect=recv_unexpected) */
__attribute__((noinline)) void recv_unexpected(char *buf, int m) {
  for (int i = 0; i < m; i++) MPI_Recv(buf, 8, MPI_BYTE, 1, 4, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000, rank; char buf[8] = {0};
  MPI_Init(&argc, &argv); MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (int i = 0; i < n; i++) {
    if (rank == 0) { MPI_Send(buf, 8, MPI_BYTE, 1, 1, MPI_COMM_WORLD); MPI_Recv(buf, 8, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE); }
    else { MPI_Recv(buf, 8, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE); MPI_Send(buf, 8, MPI_BYTE, 0, 1, MPI_COMM_WORLD); }
  }
  enum { W = 64 }; MPI_Request r[W]; char wb[W][8];
  for (int i = 0; i < n / 10; i++) {
    for (int j = 0; j < W; j++) {
      if (rank == 0) MPI_Isend(wb[j], 8, MPI_BYTE, 1, 2, MPI_COMM_WORLD, &r[j]);
      else MPI_Irecv(wb[j], 8, MPI_BYTE, 0, 2, MPI_COMM_WORLD, &r[j]);
    }
    MPI_Waitall(W, r, MPI_STATUSES_IGNORE);
    if (rank == 0) MPI_Recv(buf, 0, MPI_BYTE, 1, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    else MPI_Ssend(buf, 0, MPI_BYTE, 0, 3, MPI_COMM_WORLD);
  }
  for (int k = 0; k < 10; k++) {
    if (rank == 1) { for (int i = 0; i < n / 10; i++) MPI_Send(buf, 8, MPI_BYTE, 0, 4, MPI_COMM_WORLD); MPI_Ssend(buf, 0, MPI_BYTE, 0, 5, MPI_COMM_WORLD); }
    else { MPI_Recv(buf, 0, MPI_BYTE, 1, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE); recv_unexpected(buf, n / 10); }
  }
  int flag;
  for (int i = 0; i < n; i++) MPI_Iprobe(MPI_ANY_SOURCE, 99, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Finalize(); return 0;
}
