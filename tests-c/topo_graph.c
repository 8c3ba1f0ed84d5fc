/* Graph and distributed-graph topologies: creation, Graphdims_get / Graph_get /
 * Graph_neighbors(_count), Graph_map, Dist_graph_create(_adjacent) and
 * Dist_graph_neighbors(_count), weighted and unweighted, Topo_test. */
#include "oxitest.h"

static int cmp_pair(const void *a, const void *b)
{
    const int *x = a, *y = b;
    return x[0] != y[0] ? x[0] - y[0] : x[1] - y[1];
}

int main(int argc, char **argv)
{
    ot_init("topo_graph", &argc, &argv);
    int size = ot_size, rank = ot_rank;

    /* A ring with a chord from 0 to every node: node i links i-1, i+1 (mod n), and 0. */
    int index[8], edges[64], ne = 0;
    for (int i = 0; i < size; i++) {
        if (size > 1) {
            edges[ne++] = (i + size - 1) % size;
            edges[ne++] = (i + 1) % size;
        }
        if (i != 0)
            edges[ne++] = 0;
        index[i] = ne;
    }
    MPI_Comm g;
    MPI_CHECK(MPI_Graph_create(MPI_COMM_WORLD, size, index, edges, 0, &g));
    int t, nn, nedges;
    MPI_CHECK(MPI_Topo_test(g, &t));
    CHECK(t == MPI_GRAPH, "Topo_test = %d, expected MPI_GRAPH", t);
    MPI_CHECK(MPI_Graphdims_get(g, &nn, &nedges));
    CHECK(nn == size && nedges == ne, "Graphdims_get = %d, %d; expected %d, %d", nn, nedges,
          size, ne);
    int gi[8], ge[64];
    MPI_CHECK(MPI_Graph_get(g, size, ne, gi, ge));
    for (int i = 0; i < size; i++)
        CHECK(gi[i] == index[i], "Graph_get index[%d] = %d", i, gi[i]);
    for (int i = 0; i < ne; i++)
        CHECK(ge[i] == edges[i], "Graph_get edges[%d] = %d", i, ge[i]);
    for (int q = 0; q < size; q++) {
        int cnt, nb[64], start = q ? index[q - 1] : 0;
        MPI_CHECK(MPI_Graph_neighbors_count(g, q, &cnt));
        CHECK(cnt == index[q] - start, "Graph_neighbors_count(%d) = %d", q, cnt);
        MPI_CHECK(MPI_Graph_neighbors(g, q, cnt, nb));
        for (int k = 0; k < cnt; k++)
            CHECK(nb[k] == edges[start + k], "Graph_neighbors(%d)[%d] = %d, expected %d", q, k,
                  nb[k], edges[start + k]);
    }
    int nr;
    MPI_CHECK(MPI_Graph_map(MPI_COMM_WORLD, size, index, edges, &nr));
    CHECK(nr == rank, "Graph_map = %d", nr);

    /* A graph on fewer nodes leaves the others out. */
    if (size > 1) {
        int idx1[1] = {0};
        MPI_Comm g1;
        MPI_CHECK(MPI_Graph_create(MPI_COMM_WORLD, 1, idx1, edges, 0, &g1));
        CHECK((rank == 0) == (g1 != MPI_COMM_NULL), "1-node graph membership on rank %d", rank);
        MPI_CHECK(MPI_Graph_map(MPI_COMM_WORLD, 1, idx1, edges, &nr));
        CHECK(nr == (rank == 0 ? 0 : MPI_UNDEFINED), "Graph_map on 1 node = %d", nr);
    }

    /* Dist_graph_create_adjacent: in from r-1 and r-2, out to r+1 and r+2, weighted. */
    {
        int src[2] = {(rank + size - 1) % size, (rank + 2 * size - 2) % size};
        int dst[2] = {(rank + 1) % size, (rank + 2) % size};
        int sw[2] = {10 * src[0] + rank, 10 * src[1] + rank};
        int dw[2] = {10 * rank + dst[0], 10 * rank + dst[1]};
        MPI_Comm dg;
        MPI_CHECK(MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 2, src, sw, 2, dst, dw,
                                                 MPI_INFO_NULL, 0, &dg));
        MPI_CHECK(MPI_Topo_test(dg, &t));
        CHECK(t == MPI_DIST_GRAPH, "Topo_test = %d, expected MPI_DIST_GRAPH", t);
        int in, out, w;
        MPI_CHECK(MPI_Dist_graph_neighbors_count(dg, &in, &out, &w));
        CHECK(in == 2 && out == 2 && w, "neighbors_count = %d %d %d", in, out, w);
        int s2[2], sw2[2], d2[2], dw2[2];
        MPI_CHECK(MPI_Dist_graph_neighbors(dg, 2, s2, sw2, 2, d2, dw2));
        for (int k = 0; k < 2; k++)
            CHECK(s2[k] == src[k] && sw2[k] == sw[k] && d2[k] == dst[k] && dw2[k] == dw[k],
                  "Dist_graph_neighbors entry %d", k);
        /* unweighted */
        MPI_Comm du;
        MPI_CHECK(MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 2, src, MPI_UNWEIGHTED, 2, dst,
                                                 MPI_UNWEIGHTED, MPI_INFO_NULL, 0, &du));
        MPI_CHECK(MPI_Dist_graph_neighbors_count(du, &in, &out, &w));
        CHECK(in == 2 && out == 2 && !w, "unweighted neighbors_count = %d %d %d", in, out, w);
        MPI_CHECK(MPI_Dist_graph_neighbors(du, 2, s2, MPI_UNWEIGHTED, 2, d2, MPI_UNWEIGHTED));
        CHECK(s2[0] == src[0] && s2[1] == src[1] && d2[0] == dst[0] && d2[1] == dst[1],
              "unweighted Dist_graph_neighbors");
    }

    /* Dist_graph_create: rank 0 describes every edge i -> i+1; each rank r also gives the
     * edge r -> 0 (so 0 -> 0 exists too). Weights encode the edge. */
    {
        int n = 0, sources[9], degrees[9], dests[16], weights[16], nd = 0;
        if (rank == 0)
            for (int i = 0; i < size; i++) {
                sources[n] = i;
                degrees[n++] = 1;
                dests[nd] = (i + 1) % size;
                weights[nd++] = 100 * i + (i + 1) % size;
            }
        sources[n] = rank;
        degrees[n++] = 1;
        dests[nd] = 0;
        weights[nd++] = 100 * rank;
        MPI_Comm dg;
        MPI_CHECK(MPI_Dist_graph_create(MPI_COMM_WORLD, n, sources, degrees, dests, weights,
                                        MPI_INFO_NULL, 0, &dg));
        int in, out, w;
        MPI_CHECK(MPI_Dist_graph_neighbors_count(dg, &in, &out, &w));
        int want_in = 1 + (rank == 0 ? size : 0);
        CHECK(in == want_in && out == 2 && w, "Dist_graph_create counts %d %d %d", in, out, w);
        int s[10], sw[10], d[2], dw[2];
        MPI_CHECK(MPI_Dist_graph_neighbors(dg, in, s, sw, out, d, dw));
        /* The order is the implementation's: compare sorted (neighbour, weight) pairs. */
        int got[10][2], want[10][2], k = 0;
        for (int i = 0; i < in; i++) {
            got[i][0] = s[i];
            got[i][1] = sw[i];
        }
        want[k][0] = (rank + size - 1) % size;
        want[k][1] = 100 * want[k][0] + rank;
        k++;
        if (rank == 0)
            for (int i = 0; i < size; i++, k++) {
                want[k][0] = i;
                want[k][1] = 100 * i;
            }
        qsort(got, in, sizeof got[0], cmp_pair);
        qsort(want, k, sizeof want[0], cmp_pair);
        for (int i = 0; i < in; i++)
            CHECK(got[i][0] == want[i][0] && got[i][1] == want[i][1],
                  "in-edge %d: (%d, w %d), expected (%d, w %d)", i, got[i][0], got[i][1],
                  want[i][0], want[i][1]);
        int gd[2][2] = {{d[0], dw[0]}, {d[1], dw[1]}};
        int wd[2][2] = {{(rank + 1) % size, 100 * rank + (rank + 1) % size}, {0, 100 * rank}};
        qsort(gd, 2, sizeof gd[0], cmp_pair);
        qsort(wd, 2, sizeof wd[0], cmp_pair);
        for (int i = 0; i < 2; i++)
            CHECK(gd[i][0] == wd[i][0] && gd[i][1] == wd[i][1], "out-edge %d: (%d, w %d)", i,
                  gd[i][0], gd[i][1]);
    }

    /* errors */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    {
        int in, out, w, c;
        CHECK_CLASS(MPI_Dist_graph_neighbors_count(MPI_COMM_WORLD, &in, &out, &w),
                    MPI_ERR_TOPOLOGY);
        CHECK_CLASS(MPI_Graphdims_get(MPI_COMM_WORLD, &in, &out), MPI_ERR_TOPOLOGY);
        MPI_CHECK(MPI_Comm_set_errhandler(g, MPI_ERRORS_RETURN));
        CHECK(MPI_Graph_neighbors_count(g, size, &c) != MPI_SUCCESS,
              "Graph_neighbors_count(rank = size) succeeded");
        /* (MPICH 4.0.2 rejects neither an edge to a node outside the graph nor a bad
         * source rank; we do.) */
        MPI_Comm x;
        int badsrc[1] = {size}, one = 1, bad_edges[1] = {size}, bad_index[1] = {1};
        char v[MPI_MAX_LIBRARY_VERSION_STRING];
        int len;
        MPI_CHECK(MPI_Get_library_version(v, &len));
        if (strstr(v, "OxiMPI") != NULL) {
            CHECK(MPI_Graph_create(MPI_COMM_WORLD, 1, bad_index, bad_edges, 0, &x) !=
                      MPI_SUCCESS,
                  "Graph_create with an edge to a missing node succeeded");
            CHECK(MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 1, badsrc, MPI_UNWEIGHTED, 0,
                                             &one, MPI_UNWEIGHTED, MPI_INFO_NULL, 0,
                                             &x) != MPI_SUCCESS,
              "Dist_graph_create_adjacent with a bad source succeeded");
        }
    }
    return ot_pass();
}
