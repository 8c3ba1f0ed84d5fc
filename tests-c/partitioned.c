/* Partitioned communication: Psend_init / Precv_init with 8 partitions, started several
 * times; partitions marked ready with Pready, Pready_range and Pready_list in varying order;
 * the receiver polls Parrived per partition and checks each partition's content. */
#include "oxitest.h"

#define PARTS 8
#define PER 1000 /* ints per partition */
#define ROUNDS 6

int main(int argc, char **argv)
{
    ot_init("partitioned", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    int *buf = ot_malloc(PARTS * PER * sizeof(int));
    MPI_Request req;
    if (ot_rank == 0) {
        MPI_CHECK(MPI_Psend_init(buf, PARTS, PER, MPI_INT, 1, 5, MPI_COMM_WORLD, MPI_INFO_NULL,
                                 &req));
        for (int r = 0; r < ROUNDS; r++) {
            MPI_CHECK(MPI_Start(&req));
            /* fill and mark partitions ready in reverse order (and in groups) */
            for (int p = PARTS - 1; p >= 0; p--)
                for (int i = 0; i < PER; i++)
                    buf[p * PER + i] = r * 100000 + p * 1000 + i;
            switch (r % 3) {
            case 0:
                for (int p = PARTS - 1; p >= 0; p--)
                    MPI_CHECK(MPI_Pready(p, req));
                break;
            case 1:
                MPI_CHECK(MPI_Pready_range(4, 7, req));
                MPI_CHECK(MPI_Pready_range(0, 3, req));
                break;
            default: {
                int odd[] = {1, 3, 5, 7}, even[] = {6, 4, 2, 0};
                MPI_CHECK(MPI_Pready_list(4, odd, req));
                MPI_CHECK(MPI_Pready_list(4, even, req));
            }
            }
            MPI_CHECK(MPI_Wait(&req, MPI_STATUS_IGNORE));
            CHECK(req != MPI_REQUEST_NULL, "partitioned send request freed by Wait");
        }
        MPI_CHECK(MPI_Request_free(&req));
    } else if (ot_rank == 1) {
        MPI_CHECK(MPI_Precv_init(buf, PARTS, PER, MPI_INT, 0, 5, MPI_COMM_WORLD, MPI_INFO_NULL,
                                 &req));
        for (int r = 0; r < ROUNDS; r++) {
            memset(buf, 0xff, PARTS * PER * sizeof(int));
            MPI_CHECK(MPI_Start(&req));
            int seen[PARTS] = {0}, left = PARTS;
            while (left > 0) {
                for (int p = 0; p < PARTS; p++) {
                    if (seen[p])
                        continue;
                    int flag = 0;
                    MPI_CHECK(MPI_Parrived(req, p, &flag));
                    if (!flag)
                        continue;
                    for (int i = 0; i < PER; i++)
                        CHECK(buf[p * PER + i] == r * 100000 + p * 1000 + i,
                              "round %d partition %d element %d is %d", r, p, i,
                              buf[p * PER + i]);
                    seen[p] = 1;
                    left--;
                }
            }
            MPI_Status st;
            MPI_CHECK(MPI_Wait(&req, &st));
            CHECK(req != MPI_REQUEST_NULL, "partitioned receive request freed by Wait");
        }
        MPI_CHECK(MPI_Request_free(&req));
    }
    free(buf);
    return ot_pass();
}
