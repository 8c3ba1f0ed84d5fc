/* MPI_Open_port / MPI_Comm_accept / MPI_Comm_connect within one job (MPI 4.1 section 11.4).
 * MPI_COMM_WORLD splits into half A (the lower ranks, (n+1)/2 of them) and half B. A's rank
 * 0 opens a port and sends its name to B's rank 0 (world rank nA) over MPI_COMM_WORLD, which
 * broadcasts it inside B (the port name is significant only at the root, but B's other ranks
 * check they agree). A accepts over its half, B connects over its half. Over the new
 * intercommunicator: sizes, Sendrecv pairs both ways, an Allreduce; Intercomm_merge with A
 * low (merged ranks = world ranks) and an Allreduce with known results; Comm_disconnect;
 * MPI_Close_port. Then a second accept/connect on a new port, to show a port can be used
 * after another one was closed. */
#include "oxitest.h"

static void one_round(int in_a, int na, int nb, MPI_Comm half, int round)
{
    int me = ot_rank, hrank;
    MPI_CHECK(MPI_Comm_rank(half, &hrank));
    char port[MPI_MAX_PORT_NAME] = "";
    if (in_a && hrank == 0) {
        MPI_CHECK(MPI_Open_port(MPI_INFO_NULL, port));
        CHECK(port[0] != 0, "MPI_Open_port gave an empty name");
        CHECK(strlen(port) < MPI_MAX_PORT_NAME, "port name too long");
        MPI_CHECK(MPI_Send(port, MPI_MAX_PORT_NAME, MPI_CHAR, na, 1, MPI_COMM_WORLD));
    } else if (!in_a && hrank == 0) {
        MPI_CHECK(MPI_Recv(port, MPI_MAX_PORT_NAME, MPI_CHAR, 0, 1, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE));
    }
    if (!in_a) {
        MPI_CHECK(MPI_Bcast(port, MPI_MAX_PORT_NAME, MPI_CHAR, 0, half));
        CHECK(port[0] != 0, "B rank %d got an empty port name", hrank);
    }

    MPI_Comm inter = MPI_COMM_NULL;
    if (in_a)
        MPI_CHECK(MPI_Comm_accept(port, MPI_INFO_NULL, 0, half, &inter));
    else
        MPI_CHECK(MPI_Comm_connect(port, MPI_INFO_NULL, 0, half, &inter));
    CHECK(inter != MPI_COMM_NULL, "round %d: no intercommunicator", round);

    int flag, size, rank, rsize;
    MPI_CHECK(MPI_Comm_test_inter(inter, &flag));
    CHECK(flag, "round %d: accept/connect result is not an intercommunicator", round);
    MPI_CHECK(MPI_Comm_size(inter, &size));
    MPI_CHECK(MPI_Comm_rank(inter, &rank));
    MPI_CHECK(MPI_Comm_remote_size(inter, &rsize));
    CHECK(size == (in_a ? na : nb) && rank == hrank, "inter size %d rank %d", size, rank);
    CHECK(rsize == (in_a ? nb : na), "inter remote size %d, expected %d", rsize,
          in_a ? nb : na);

    /* Pairs (A rank i, B rank i) for i < min(na, nb): values both ways. */
    if (rank < rsize) {
        int out = 1000 * round + me, in = -1;
        int peer_world = in_a ? na + rank : rank;
        MPI_CHECK(MPI_Sendrecv(&out, 1, MPI_INT, rank, 2, &in, 1, MPI_INT, rank, 2, inter,
                               MPI_STATUS_IGNORE));
        CHECK(in == 1000 * round + peer_world, "pair got %d, expected %d", in,
              1000 * round + peer_world);
    }
    /* Each side gets the other side's sum of world ranks. */
    int sum = -1, sum_a = na * (na - 1) / 2, sum_b = (na + nb) * (na + nb - 1) / 2 - sum_a;
    MPI_CHECK(MPI_Allreduce(&me, &sum, 1, MPI_INT, MPI_SUM, inter));
    CHECK(sum == (in_a ? sum_b : sum_a), "inter Allreduce %d, expected %d", sum,
          in_a ? sum_b : sum_a);

    MPI_Comm merged;
    MPI_CHECK(MPI_Intercomm_merge(inter, in_a ? 0 : 1, &merged));
    MPI_CHECK(MPI_Comm_rank(merged, &rank));
    MPI_CHECK(MPI_Comm_size(merged, &size));
    CHECK(size == ot_size && rank == me, "merged size %d rank %d, expected %d %d", size, rank,
          ot_size, me);
    int mx = -1;
    MPI_CHECK(MPI_Allreduce(&me, &mx, 1, MPI_INT, MPI_MAX, merged));
    CHECK(mx == ot_size - 1, "merged MAX %d", mx);
    MPI_CHECK(MPI_Comm_free(&merged));

    MPI_CHECK(MPI_Comm_disconnect(&inter));
    CHECK(inter == MPI_COMM_NULL, "Comm_disconnect left the handle set");
    if (in_a && hrank == 0)
        MPI_CHECK(MPI_Close_port(port));
}

int main(int argc, char **argv)
{
    ot_init("dpm_connect_accept", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    int na = (ot_size + 1) / 2, nb = ot_size - na;
    int in_a = ot_rank < na;
    MPI_Comm half;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, in_a ? 0 : 1, ot_rank, &half));
    for (int round = 1; round <= 2; round++)
        one_round(in_a, na, nb, half, round);
    MPI_CHECK(MPI_Comm_free(&half));
    return ot_pass();
}
