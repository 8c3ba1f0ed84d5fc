/* Cartesian edge cases as MPICH handles them: MPI_Cart_create with a grid smaller than the
 * communicator gives MPI_COMM_NULL on the extra ranks; a zero extent makes an empty grid
 * (everyone gets MPI_COMM_NULL from MPI_Cart_create, MPI_UNDEFINED from MPI_Cart_map);
 * zero dimensions make a one-process grid (rank 0). */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("topo_cart_edges", &argc, &argv);
    int me = ot_rank, n = ot_size, periods[2] = {0, 1}, dims[2], nr, t;
    MPI_Comm c;

    /* a grid of n-1 processes (1 when n == 1) */
    dims[0] = n > 1 ? n - 1 : 1;
    MPI_CHECK(MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &c));
    if (me < dims[0]) {
        CHECK(c != MPI_COMM_NULL, "rank %d of a %d-process grid got MPI_COMM_NULL", me, dims[0]);
        int s, coords[1];
        MPI_CHECK(MPI_Comm_size(c, &s));
        CHECK(s == dims[0], "grid communicator of size %d", s);
        MPI_CHECK(MPI_Topo_test(c, &t));
        CHECK(t == MPI_CART, "topology %d", t);
        MPI_CHECK(MPI_Cart_coords(c, me, 1, coords));
        CHECK(coords[0] == me, "coords %d", coords[0]);
        MPI_CHECK(MPI_Comm_free(&c));
    } else {
        CHECK(c == MPI_COMM_NULL, "rank %d outside the grid got a communicator", me);
    }
    MPI_CHECK(MPI_Cart_map(MPI_COMM_WORLD, 1, dims, periods, &nr));
    CHECK(nr == (me < dims[0] ? me : MPI_UNDEFINED), "Cart_map gave %d", nr);

    /* 2 x (n/2) grid, when there is room for it */
    dims[0] = 2;
    dims[1] = n / 2 > 0 ? n / 2 : 1;
    if (dims[0] * dims[1] <= n) {
        MPI_CHECK(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 1, &c));
        CHECK((c != MPI_COMM_NULL) == (me < dims[0] * dims[1]), "2-d grid membership of rank %d", me);
        if (c != MPI_COMM_NULL)
            MPI_CHECK(MPI_Comm_free(&c));
    }

    /* a zero extent: an empty grid */
    dims[0] = 2;
    dims[1] = 0;
    MPI_CHECK(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &c));
    CHECK(c == MPI_COMM_NULL, "empty grid gave a communicator");
    MPI_CHECK(MPI_Cart_map(MPI_COMM_WORLD, 2, dims, periods, &nr));
    CHECK(nr == MPI_UNDEFINED, "Cart_map of an empty grid gave %d", nr);

    /* no dimensions: a grid of one process */
    MPI_CHECK(MPI_Cart_create(MPI_COMM_WORLD, 0, NULL, NULL, 0, &c));
    if (me == 0) {
        CHECK(c != MPI_COMM_NULL, "0-d grid: rank 0 got MPI_COMM_NULL");
        int s;
        MPI_CHECK(MPI_Comm_size(c, &s));
        MPI_CHECK(MPI_Topo_test(c, &t));
        CHECK(s == 1 && t == MPI_CART, "0-d grid: size %d topology %d", s, t);
        MPI_CHECK(MPI_Comm_free(&c));
    } else {
        CHECK(c == MPI_COMM_NULL, "0-d grid: rank %d got a communicator", me);
    }
    MPI_CHECK(MPI_Cart_map(MPI_COMM_WORLD, 0, NULL, NULL, &nr));
    CHECK(nr == (me == 0 ? 0 : MPI_UNDEFINED), "Cart_map of a 0-d grid gave %d", nr);

    return ot_pass();
}
