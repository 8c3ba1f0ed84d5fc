/* MPI_Comm_split and MPI_Comm_split_type on intercommunicators (MPI 4.1 §7.4.2): members of
 * each side with one color form a new intercommunicator (local group: my side's members with
 * my color, by key; remote group: the other side's with that color); a color present on one
 * side only, and MPI_UNDEFINED, give MPI_COMM_NULL. The intercommunicator comes from
 * Intercomm_create over the even and odd halves of MPI_COMM_WORLD. Group sizes, ranks, the
 * order of the remote group, and traffic both ways are checked. */
#include "oxitest.h"

static MPI_Group world_group;

static int world_rank_of(MPI_Group g, int r)
{
    int w;
    MPI_CHECK(MPI_Group_translate_ranks(g, 1, &r, world_group, &w));
    return w;
}

/* Local rank r and remote rank r (r below both sizes) swap world ranks: checks that both
 * sides agree on the groups and that traffic flows both ways. */
static void traffic(MPI_Comm ic, int tag)
{
    int rank, lsize, rsize, me, got = -1;
    MPI_Group rg;
    MPI_CHECK(MPI_Comm_rank(ic, &rank));
    MPI_CHECK(MPI_Comm_size(ic, &lsize));
    MPI_CHECK(MPI_Comm_remote_size(ic, &rsize));
    MPI_CHECK(MPI_Comm_remote_group(ic, &rg));
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    if (rank < lsize && rank < rsize) {
        MPI_CHECK(MPI_Sendrecv(&me, 1, MPI_INT, rank, tag, &got, 1, MPI_INT, rank, tag, ic,
                               MPI_STATUS_IGNORE));
        int want = world_rank_of(rg, rank);
        CHECK(got == want, "tag %d: remote rank %d is world %d, got %d", tag, rank, want, got);
    }
    MPI_CHECK(MPI_Group_free(&rg));
}

static void sizes(MPI_Comm ic, int rank, int lsize, int rsize, const char *what)
{
    int r, l, s, inter;
    CHECK(ic != MPI_COMM_NULL, "%s: MPI_COMM_NULL", what);
    MPI_CHECK(MPI_Comm_test_inter(ic, &inter));
    CHECK(inter, "%s: not an intercommunicator", what);
    MPI_CHECK(MPI_Comm_rank(ic, &r));
    MPI_CHECK(MPI_Comm_size(ic, &l));
    MPI_CHECK(MPI_Comm_remote_size(ic, &s));
    CHECK(r == rank && l == lsize && s == rsize,
          "%s: rank/size/remote size %d/%d/%d, want %d/%d/%d", what, r, l, s, rank, lsize,
          rsize);
}

int main(int argc, char **argv)
{
    ot_init("comm2_intersplit", &argc, &argv);
    int wrank = ot_rank, wsize = ot_size;
    if (wsize < 2) {
        CHECK(0, "needs at least 2 ranks");
    }
    MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &world_group));
    int side = wrank % 2;
    MPI_Comm half, ic, n;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, side, wrank, &half));
    MPI_CHECK(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, side == 0 ? 1 : 0, 5, &ic));
    int rank, lsize, rsize;
    MPI_CHECK(MPI_Comm_rank(ic, &rank));
    MPI_CHECK(MPI_Comm_size(ic, &lsize));
    MPI_CHECK(MPI_Comm_remote_size(ic, &rsize));
    MPI_Group base_remote;
    MPI_CHECK(MPI_Comm_remote_group(ic, &base_remote));

    /* One color everywhere: same shape as the parent. */
    MPI_CHECK(MPI_Comm_split(ic, 42, 42, &n));
    sizes(n, rank, lsize, rsize, "one color");
    traffic(n, 1);
    MPI_CHECK(MPI_Comm_free(&n));

    /* Color = rank: local rank r pairs with remote rank r; the rest get MPI_COMM_NULL. */
    MPI_CHECK(MPI_Comm_split(ic, rank, 0, &n));
    if (rank < rsize) {
        sizes(n, 0, 1, 1, "color = rank");
        MPI_Group g;
        MPI_CHECK(MPI_Comm_remote_group(n, &g));
        CHECK(world_rank_of(g, 0) == world_rank_of(base_remote, rank),
              "color = rank: wrong partner");
        MPI_CHECK(MPI_Group_free(&g));
        traffic(n, 2);
        MPI_CHECK(MPI_Comm_free(&n));
    } else {
        CHECK(n == MPI_COMM_NULL, "color %d exists only on my side, got a communicator", rank);
    }

    /* Reversed keys: ranks reversed on both sides, and the remote group too. */
    MPI_CHECK(MPI_Comm_split(ic, 0, -rank, &n));
    sizes(n, lsize - 1 - rank, lsize, rsize, "reversed keys");
    {
        MPI_Group g;
        MPI_CHECK(MPI_Comm_remote_group(n, &g));
        for (int i = 0; i < rsize; i++)
            CHECK(world_rank_of(g, i) == world_rank_of(base_remote, rsize - 1 - i),
                  "reversed keys: remote rank %d is not the parent's %d", i, rsize - 1 - i);
        MPI_CHECK(MPI_Group_free(&g));
    }
    traffic(n, 3);
    MPI_CHECK(MPI_Comm_free(&n));

    /* Colors that do not meet: every process gets MPI_COMM_NULL. */
    MPI_CHECK(MPI_Comm_split(ic, side == 0 ? 1 : 2, 0, &n));
    CHECK(n == MPI_COMM_NULL, "colors differ between sides, got a communicator");
    MPI_CHECK(MPI_Comm_split(ic, MPI_UNDEFINED, 0, &n));
    CHECK(n == MPI_COMM_NULL, "MPI_UNDEFINED gave a communicator");

    /* Even side: even local ranks color 5, odd ones MPI_UNDEFINED; odd side: all color 5. */
    int color = (side == 1 || rank % 2 == 0) ? 5 : MPI_UNDEFINED;
    MPI_CHECK(MPI_Comm_split(ic, color, rank, &n));
    int evens_even = (lsize + 1) / 2; /* on the even side */
    if (side == 0) {
        if (rank % 2 == 0) {
            sizes(n, rank / 2, evens_even, rsize, "partial colors (even side)");
            traffic(n, 4);
            MPI_CHECK(MPI_Comm_free(&n));
        } else {
            CHECK(n == MPI_COMM_NULL, "MPI_UNDEFINED gave a communicator");
        }
    } else {
        sizes(n, rank, lsize, (rsize + 1) / 2, "partial colors (odd side)");
        MPI_Group g;
        MPI_CHECK(MPI_Comm_remote_group(n, &g));
        for (int i = 0; i < (rsize + 1) / 2; i++)
            CHECK(world_rank_of(g, i) == world_rank_of(base_remote, 2 * i),
                  "partial colors: remote rank %d is not the parent's %d", i, 2 * i);
        MPI_CHECK(MPI_Group_free(&g));
        traffic(n, 4);
        MPI_CHECK(MPI_Comm_free(&n));
    }

    /* Split_type: all ranks share this node, so SHARED keeps the parent's shape. */
    MPI_CHECK(MPI_Comm_split_type(ic, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &n));
    sizes(n, rank, lsize, rsize, "split_type shared");
    traffic(n, 5);
    /* Two results of one parent at once, both working. */
    MPI_Comm n2;
    MPI_CHECK(MPI_Comm_split(ic, 7, rank, &n2));
    traffic(n2, 6);
    traffic(n, 6);
    MPI_CHECK(MPI_Comm_free(&n2));
    MPI_CHECK(MPI_Comm_free(&n));
    MPI_CHECK(MPI_Comm_split_type(ic, MPI_UNDEFINED, rank, MPI_INFO_NULL, &n));
    CHECK(n == MPI_COMM_NULL, "split_type MPI_UNDEFINED gave a communicator");

    /* A split of a split. */
    MPI_Comm a, b;
    int arank;
    MPI_CHECK(MPI_Comm_split(ic, 0, -rank, &a));
    MPI_CHECK(MPI_Comm_rank(a, &arank));
    MPI_CHECK(MPI_Comm_split(a, 0, -arank, &b));
    sizes(b, rank, lsize, rsize, "split of a split");
    traffic(b, 7);
    MPI_CHECK(MPI_Comm_free(&b));
    MPI_CHECK(MPI_Comm_free(&a));

    MPI_CHECK(MPI_Group_free(&base_remote));
    MPI_CHECK(MPI_Group_free(&world_group));
    MPI_CHECK(MPI_Comm_free(&ic));
    MPI_CHECK(MPI_Comm_free(&half));
    return ot_pass();
}
