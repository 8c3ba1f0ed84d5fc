/* Small scatters whose blocks all fit the control line's inline slot (coll10, issue 13):
 * block sizes around the inline limit for the communicator's size (24 bytes in all), every
 * root, the root in place, blocks sent as MPI_BYTE and received through a strided vector
 * type, and consecutive calls alternating the two inline slots. Every byte is checked,
 * and the bytes around each received block must stay untouched.
 */
#include "oxitest.h"

static unsigned char pat(int root, int dest, int i, int call)
{
    return (unsigned char)(root * 61 + dest * 17 + i * 5 + call * 3 + 1);
}

int main(int argc, char **argv)
{
    ot_init("coll10_scatter_inline", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    static const int lens[] = {0, 1, 2, 3, 5, 8, 11, 12, 13, 24, 25, 64};
    unsigned char send[64 * 8], recv[64 + 16];
    int call = 0;
    for (unsigned li = 0; li < sizeof lens / sizeof *lens; li++) {
        int n = lens[li];
        for (int root = 0; root < size; root++) {
            for (int inplace = 0; inplace < 2; inplace++, call++) {
                for (int d = 0; d < size; d++)
                    for (int i = 0; i < n; i++)
                        send[d * n + i] = pat(root, d, i, call);
                memset(recv, 0xee, sizeof recv);
                if (inplace && rank == root) {
                    MPI_CHECK(MPI_Scatter(send, n, MPI_BYTE, MPI_IN_PLACE, n, MPI_BYTE, root,
                                          MPI_COMM_WORLD));
                    for (int i = 0; i < n; i++)
                        CHECK(send[root * n + i] == pat(root, root, i, call),
                              "in place root %d len %d: own block changed at %d", root, n, i);
                    continue;
                }
                MPI_CHECK(MPI_Scatter(send, n, MPI_BYTE, recv + 8, n, MPI_BYTE, root,
                                      MPI_COMM_WORLD));
                for (int i = 0; i < n; i++)
                    CHECK(recv[8 + i] == pat(root, rank, i, call),
                          "root %d len %d call %d: byte %d is %d, want %d", root, n, call, i,
                          recv[8 + i], pat(root, rank, i, call));
                for (int i = 0; i < 8; i++)
                    CHECK(recv[i] == 0xee && recv[8 + n + i] == 0xee,
                          "root %d len %d: bytes around the block written", root, n);
            }
        }
    }
    /* Received through a strided type: element i of the block at recv[2 * i]. */
    MPI_Datatype every_other;
    MPI_CHECK(MPI_Type_vector(4, 1, 2, MPI_BYTE, &every_other));
    MPI_CHECK(MPI_Type_commit(&every_other));
    for (int root = 0; root < size; root++, call++) {
        for (int d = 0; d < size; d++)
            for (int i = 0; i < 4; i++)
                send[d * 4 + i] = pat(root, d, i, call);
        memset(recv, 0xee, sizeof recv);
        MPI_CHECK(MPI_Scatter(send, 4, MPI_BYTE, recv, 1, every_other, root, MPI_COMM_WORLD));
        for (int i = 0; i < 4; i++) {
            CHECK(recv[2 * i] == pat(root, rank, i, call), "strided root %d: element %d", root,
                  i);
            CHECK(i == 3 || recv[2 * i + 1] == 0xee, "strided root %d: gap %d written", root,
                  i);
        }
    }
    MPI_CHECK(MPI_Type_free(&every_other));
    return ot_pass();
}
