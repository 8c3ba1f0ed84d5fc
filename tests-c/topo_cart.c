/* Cartesian topologies: create (members and left-out ranks), get/dim/rank/coords round
 * trips, shifts at the borders of periodic and non-periodic dimensions, Cart_sub, Cart_map,
 * Topo_test. */
#include "oxitest.h"

/* True when running on MPICH (used to accept its documented deviations only there). */
static int ot_is_mpich(void)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len;
    MPI_CHECK(MPI_Get_library_version(v, &len));
    return strstr(v, "OxiMPI") == NULL;
}

static void check_grid(MPI_Comm cart, int nd, const int *dims, const int *periods, int size)
{
    int rank, n, t, csize;
    MPI_CHECK(MPI_Comm_rank(cart, &rank));
    MPI_CHECK(MPI_Comm_size(cart, &csize));
    CHECK(csize == size, "cart size %d, expected %d", csize, size);
    MPI_CHECK(MPI_Topo_test(cart, &t));
    CHECK(t == MPI_CART, "Topo_test = %d, expected MPI_CART", t);
    MPI_CHECK(MPI_Cartdim_get(cart, &n));
    CHECK(n == nd, "Cartdim_get = %d, expected %d", n, nd);

    int gd[4], gp[4], gc[4];
    MPI_CHECK(MPI_Cart_get(cart, nd, gd, gp, gc));
    int r = rank;
    for (int d = nd - 1; d >= 0; d--) { /* row-major: last dimension fastest */
        CHECK(gd[d] == dims[d] && (gp[d] != 0) == (periods[d] != 0), "Cart_get dim %d", d);
        CHECK(gc[d] == r % dims[d], "Cart_get coords[%d] = %d, expected %d", d, gc[d],
              r % dims[d]);
        r /= dims[d];
    }

    /* coords <-> rank for every rank */
    for (int q = 0; q < size; q++) {
        int c[4], back;
        MPI_CHECK(MPI_Cart_coords(cart, q, nd, c));
        MPI_CHECK(MPI_Cart_rank(cart, c, &back));
        CHECK(back == q, "Cart_rank(Cart_coords(%d)) = %d", q, back);
    }

    /* shifts by -2..2 in every dimension */
    for (int d = 0; d < nd; d++)
        for (int disp = -2; disp <= 2; disp++) {
            int src, dst;
            MPI_CHECK(MPI_Cart_shift(cart, d, disp, &src, &dst));
            for (int dir = -1; dir <= 1; dir += 2) {
                int c[4];
                memcpy(c, gc, sizeof c);
                c[d] += dir * disp;
                int want;
                if (periods[d]) {
                    c[d] = ((c[d] % dims[d]) + dims[d]) % dims[d];
                    MPI_CHECK(MPI_Cart_rank(cart, c, &want));
                } else if (c[d] < 0 || c[d] >= dims[d]) {
                    want = MPI_PROC_NULL;
                } else {
                    MPI_CHECK(MPI_Cart_rank(cart, c, &want));
                }
                int got = dir > 0 ? dst : src;
                CHECK(got == want, "Cart_shift(dim %d, disp %d): %s = %d, expected %d", d, disp,
                      dir > 0 ? "dest" : "source", got, want);
            }
        }

    /* periodic coordinates wrap in Cart_rank */
    for (int d = 0; d < nd; d++)
        if (periods[d]) {
            int c[4], w;
            memcpy(c, gc, sizeof c);
            c[d] += 3 * dims[d];
            MPI_CHECK(MPI_Cart_rank(cart, c, &w));
            CHECK(w == rank, "Cart_rank with wrapped coordinate = %d, expected %d", w, rank);
        }
}

int main(int argc, char **argv)
{
    ot_init("topo_cart", &argc, &argv);
    int size = ot_size, rank = ot_rank;

    /* 2-D: periodic in the second dimension only */
    int dims[2] = {0, 0}, periods[2] = {0, 1};
    MPI_CHECK(MPI_Dims_create(size, 2, dims));
    MPI_Comm cart;
    MPI_CHECK(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart));
    CHECK(cart != MPI_COMM_NULL, "Cart_create gave MPI_COMM_NULL to a member");
    check_grid(cart, 2, dims, periods, size);

    /* Cart_sub: rows (keep dim 1) and columns (keep dim 0) */
    int coords[2];
    MPI_CHECK(MPI_Cart_coords(cart, rank, 2, coords));
    for (int keep = 0; keep < 2; keep++) {
        int remain[2] = {keep == 0, keep == 1};
        MPI_Comm sub;
        MPI_CHECK(MPI_Cart_sub(cart, remain, &sub));
        int sdims[1] = {dims[keep]}, speriods[1] = {periods[keep]};
        check_grid(sub, 1, sdims, speriods, dims[keep]);
        int srank;
        MPI_CHECK(MPI_Comm_rank(sub, &srank));
        CHECK(srank == coords[keep], "Cart_sub rank %d, expected %d", srank, coords[keep]);
        (void)sub; /* not freed: MPI_Comm_free is not in OxiMPI yet */
    }
    /* Dropping every dimension leaves every process a 0-dimensional grid of its own, as
     * the standard says. (MPICH 4.0.2 gives MPI_COMM_NULL to all but rank 0.) */
    {
        int remain[2] = {0, 0}, n = -1, s = -1;
        MPI_Comm sub;
        MPI_CHECK(MPI_Cart_sub(cart, remain, &sub));
        CHECK(sub != MPI_COMM_NULL || (ot_is_mpich() && rank != 0),
              "Cart_sub of nothing gave MPI_COMM_NULL");
        if (sub != MPI_COMM_NULL) {
            MPI_CHECK(MPI_Comm_size(sub, &s));
            MPI_CHECK(MPI_Cartdim_get(sub, &n));
            CHECK(s == 1 && n == 0, "Cart_sub of nothing: size %d ndims %d", s, n);
        }
        (void)sub; /* not freed: MPI_Comm_free is not in OxiMPI yet */
    }
    (void)cart; /* not freed: MPI_Comm_free is not in OxiMPI yet */

    /* 3-D, all periodic or none, on a grid possibly smaller than the world */
    for (int per = 0; per < 2; per++) {
        int n = size > 1 ? size - (size % 2) : 1; /* leave one rank out when odd */
        int d3[3] = {0, 0, 0}, p3[3] = {per, per, per};
        MPI_CHECK(MPI_Dims_create(n, 3, d3));
        MPI_CHECK(MPI_Cart_create(MPI_COMM_WORLD, 3, d3, p3, 1, &cart));
        if (rank < n) {
            CHECK(cart != MPI_COMM_NULL, "member %d got MPI_COMM_NULL", rank);
            check_grid(cart, 3, d3, p3, n);
            /* sub-grid keeping dimensions 0 and 2 */
            int remain[3] = {1, 0, 1}, sd[2] = {d3[0], d3[2]}, sp[2] = {per, per};
            MPI_Comm sub;
            MPI_CHECK(MPI_Cart_sub(cart, remain, &sub));
            check_grid(sub, 2, sd, sp, d3[0] * d3[2]);
            (void)sub; /* not freed: MPI_Comm_free is not in OxiMPI yet */
            (void)cart; /* not freed: MPI_Comm_free is not in OxiMPI yet */
        } else {
            CHECK(cart == MPI_COMM_NULL, "rank %d outside the grid got a communicator", rank);
        }
    }

    /* Cart_map: identity for members, MPI_UNDEFINED for the others */
    {
        int d1[1] = {size > 1 ? size - 1 : 1}, p1[1] = {0}, nr;
        MPI_CHECK(MPI_Cart_map(MPI_COMM_WORLD, 1, d1, p1, &nr));
        int want = rank < d1[0] ? rank : MPI_UNDEFINED;
        CHECK(nr == want, "Cart_map = %d, expected %d", nr, want);
    }

    /* no topology / errors */
    {
        int t;
        MPI_CHECK(MPI_Topo_test(MPI_COMM_WORLD, &t));
        CHECK(t == MPI_UNDEFINED, "Topo_test(WORLD) = %d", t);
        MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
        int nd;
        CHECK_CLASS(MPI_Cartdim_get(MPI_COMM_WORLD, &nd), MPI_ERR_TOPOLOGY);
        int big[1] = {size + 1}, p1[1] = {0};
        MPI_Comm c;
        CHECK(MPI_Cart_create(MPI_COMM_WORLD, 1, big, p1, 0, &c) != MPI_SUCCESS,
              "Cart_create of a grid larger than the communicator succeeded");
        int d1[1] = {size}, np[1] = {0};
        MPI_CHECK(MPI_Cart_create(MPI_COMM_WORLD, 1, d1, np, 0, &c));
        MPI_CHECK(MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN));
        int out[1] = {size}, r;
        CHECK(MPI_Cart_rank(c, out, &r) != MPI_SUCCESS,
              "Cart_rank outside a non-periodic dimension succeeded");
        int s, dd;
        CHECK(MPI_Cart_shift(c, 1, 1, &s, &dd) != MPI_SUCCESS, "Cart_shift(direction 1) of 1-D");
        CHECK(MPI_Cart_coords(c, size, 1, out) != MPI_SUCCESS, "Cart_coords(rank = size)");
        (void)c; /* not freed: MPI_Comm_free is not in OxiMPI yet */
    }
    return ot_pass();
}
