/* Types without gaps whose type map is not in increasing memory order (indexed {2,1,0}, a
 * struct with descending displacements), a resized type (extent != size) and a type with a
 * negative lower bound: data must travel in type-map order, not as plain memory, in
 * point-to-point, bcast, allgather and gather (including each rank's local copy).
 * 2 or more ranks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size;
#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL dtype_order (rank %d) %s:%d: ", rank, __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); MPI_Abort(MPI_COMM_WORLD, 1); exit(1); } } while (0)
#define OK(call) do { int rc_ = (call); CHECK(rc_ == MPI_SUCCESS, "%s returned %d", #call, rc_); } while (0)

static void expect(const int *got, const int *want, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        CHECK(got[i] == want[i], "%s: [%d] = %d, want %d", what, i, got[i], want[i]);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);

    /* rev: 3 ints, displacements {2,1,0}: packs a[2], a[1], a[0]. */
    MPI_Datatype rev, sdesc, rs, neg;
    int ones[3] = {1, 1, 1}, rdisp[3] = {2, 1, 0};
    OK(MPI_Type_indexed(3, ones, rdisp, MPI_INT, &rev));
    OK(MPI_Type_commit(&rev));
    /* sdesc: struct {int at 4, int at 0}: packs a[1], a[0]; extent 8. */
    int bl2[2] = {1, 1};
    MPI_Aint sd[2] = {4, 0};
    MPI_Datatype ints2[2] = {MPI_INT, MPI_INT};
    OK(MPI_Type_create_struct(2, bl2, sd, ints2, &sdesc));
    OK(MPI_Type_commit(&sdesc));
    /* rs: one int, extent 8 (every other int). */
    OK(MPI_Type_create_resized(MPI_INT, 0, 2 * sizeof(int), &rs));
    OK(MPI_Type_commit(&rs));
    /* neg: one int at displacement -8 (lb -8, extent 4): count n reads buf[-2 .. n-3]. */
    int b1 = 1;
    MPI_Aint nd = -2 * (MPI_Aint)sizeof(int);
    MPI_Datatype i1 = MPI_INT;
    OK(MPI_Type_create_struct(1, &b1, &nd, &i1, &neg));
    OK(MPI_Type_commit(&neg));

    MPI_Count tsize;
    MPI_Aint tlb, text;
    OK(MPI_Type_get_true_extent(rev, &tlb, &text));
    OK(MPI_Type_size_x(rev, &tsize));
    CHECK(tlb == 0 && text == 3 * (MPI_Aint)sizeof(int) && tsize == 3 * (MPI_Count)sizeof(int),
          "rev has no gaps (true lb %ld, true extent %ld, size %lld)", (long)tlb, (long)text,
          (long long)tsize);

    int a[8], got[8], want[8];

    /* ---- Point-to-point, both directions of each type (ranks 0 and 1). */
    if (rank < 2) {
        int peer = 1 - rank;
        for (int i = 0; i < 8; i++)
            a[i] = 100 * rank + i;
        /* Send with rev, receive plain ints. */
        memset(got, -1, sizeof got);
        OK(MPI_Sendrecv(a, 1, rev, peer, 1, got, 3, MPI_INT, peer, 1, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
        int w1[3] = {100 * peer + 2, 100 * peer + 1, 100 * peer};
        expect(got, w1, 3, "p2p send rev");
        /* Send plain ints, receive with rev. */
        memset(got, -1, sizeof got);
        OK(MPI_Sendrecv(a, 3, MPI_INT, peer, 2, got, 1, rev, peer, 2, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
        expect(got, w1, 3, "p2p recv rev");
        /* Struct with descending displacements, count 1 and 2. */
        memset(got, -1, sizeof got);
        OK(MPI_Sendrecv(a, 1, sdesc, peer, 3, got, 2, MPI_INT, peer, 3, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
        int w2[4] = {100 * peer + 1, 100 * peer, 100 * peer + 3, 100 * peer + 2};
        expect(got, w2, 2, "p2p send struct desc");
        memset(got, -1, sizeof got);
        OK(MPI_Sendrecv(a, 2, sdesc, peer, 4, got, 4, MPI_INT, peer, 4, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
        expect(got, w2, 4, "p2p send 2 struct desc");
        memset(got, -1, sizeof got);
        OK(MPI_Sendrecv(a, 4, MPI_INT, peer, 5, got, 2, sdesc, peer, 5, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
        expect(got, w2, 4, "p2p recv 2 struct desc");
        /* Resized: count 3 takes every other int. */
        memset(got, -1, sizeof got);
        OK(MPI_Sendrecv(a, 3, rs, peer, 6, got, 3, MPI_INT, peer, 6, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
        int w3[3] = {100 * peer, 100 * peer + 2, 100 * peer + 4};
        expect(got, w3, 3, "p2p send resized");
        memset(got, -1, sizeof got);
        OK(MPI_Sendrecv(a, 3, MPI_INT, peer, 7, got, 3, rs, peer, 7, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
        CHECK(got[0] == 100 * peer && got[2] == 100 * peer + 1 && got[4] == 100 * peer + 2
                  && got[1] == -1 && got[3] == -1,
              "p2p recv resized: %d %d %d %d %d", got[0], got[1], got[2], got[3], got[4]);
        /* Negative lower bound: data starts 2 ints before the buffer pointer. */
        memset(got, -1, sizeof got);
        OK(MPI_Sendrecv(&a[2], 3, neg, peer, 8, &got[2], 3, neg, peer, 8, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
        int w4[3] = {100 * peer, 100 * peer + 1, 100 * peer + 2};
        expect(got, w4, 3, "p2p negative lb");
        CHECK(got[3] == -1, "p2p negative lb wrote past the data");
    }

    /* ---- A large reversed type (past the eager size: rendezvous / single copy paths). */
    {
        enum { N = 1 << 16 };
        int *bl = malloc(sizeof(int) * N), *dp = malloc(sizeof(int) * N);
        int *big = malloc(sizeof(int) * N), *bgot = malloc(sizeof(int) * N);
        for (int i = 0; i < N; i++) {
            bl[i] = 1;
            dp[i] = N - 1 - i;
            big[i] = i * 3 + rank;
        }
        MPI_Datatype brev;
        OK(MPI_Type_indexed(N, bl, dp, MPI_INT, &brev));
        OK(MPI_Type_commit(&brev));
        if (rank < 2) {
            int peer = 1 - rank;
            OK(MPI_Sendrecv(big, 1, brev, peer, 9, bgot, N, MPI_INT, peer, 9, MPI_COMM_WORLD,
                            MPI_STATUS_IGNORE));
            for (int i = 0; i < N; i++)
                CHECK(bgot[i] == (N - 1 - i) * 3 + peer, "large rev p2p: [%d] = %d", i, bgot[i]);
        }
        OK(MPI_Bcast(big, rank == 0 ? 1 : N, rank == 0 ? brev : MPI_INT, 0, MPI_COMM_WORLD));
        for (int i = 0; i < N; i++)
            CHECK(big[i] == (rank == 0 ? i * 3 : (N - 1 - i) * 3), "large rev bcast: [%d] = %d",
                  i, big[i]);
        MPI_Type_free(&brev);
        free(bl);
        free(dp);
        free(big);
        free(bgot);
    }

    /* ---- Bcast: the root sends with rev / sdesc, the others receive plain ints. */
    for (int i = 0; i < 8; i++)
        a[i] = 10 + i;
    int root = size - 1;
    memcpy(got, a, sizeof a);
    OK(MPI_Bcast(got, rank == root ? 1 : 3, rank == root ? rev : MPI_INT, root, MPI_COMM_WORLD));
    if (rank != root) {
        int w[3] = {12, 11, 10};
        expect(got, w, 3, "bcast rev to ints");
    }
    /* And the reverse: plain ints from the root, rev on the others. */
    memset(got, -1, sizeof got);
    if (rank == root)
        memcpy(got, a, sizeof a);
    OK(MPI_Bcast(got, rank == root ? 3 : 1, rank == root ? MPI_INT : rev, root, MPI_COMM_WORLD));
    if (rank != root) {
        int w[3] = {12, 11, 10};
        expect(got, w, 3, "bcast ints to rev");
    }
    memset(got, -1, sizeof got);
    if (rank == root)
        memcpy(got, a, sizeof a);
    OK(MPI_Bcast(got, rank == root ? 2 : 4, rank == root ? sdesc : MPI_INT, root,
                 MPI_COMM_WORLD));
    if (rank != root) {
        int w[4] = {11, 10, 13, 12};
        expect(got, w, 4, "bcast struct desc to ints");
    }

    /* ---- Allgather: each rank sends {r, r+1, r+2} with rev, all receive ints; the rank's own
     * block goes through the local copy. Then the same with sdesc and rs. */
    int *all = malloc(sizeof(int) * 4 * size);
    for (int i = 0; i < 8; i++)
        a[i] = 1000 * rank + i;
    OK(MPI_Allgather(a, 1, rev, all, 3, MPI_INT, MPI_COMM_WORLD));
    for (int r = 0; r < size; r++) {
        int w[3] = {1000 * r + 2, 1000 * r + 1, 1000 * r};
        expect(&all[3 * r], w, 3, "allgather rev");
    }
    OK(MPI_Allgather(a, 2, sdesc, all, 4, MPI_INT, MPI_COMM_WORLD));
    for (int r = 0; r < size; r++) {
        int w[4] = {1000 * r + 1, 1000 * r, 1000 * r + 3, 1000 * r + 2};
        expect(&all[4 * r], w, 4, "allgather struct desc");
    }
    OK(MPI_Allgather(a, 3, rs, all, 3, MPI_INT, MPI_COMM_WORLD));
    for (int r = 0; r < size; r++) {
        int w[3] = {1000 * r, 1000 * r + 2, 1000 * r + 4};
        expect(&all[3 * r], w, 3, "allgather resized");
    }

    /* ---- Gather to rank 0 received with rev: block r lands reversed. */
    for (int i = 0; i < 3 * size; i++)
        all[i] = -1;
    OK(MPI_Gather(a, 3, MPI_INT, all, 1, rev, 0, MPI_COMM_WORLD));
    if (rank == 0)
        for (int r = 0; r < size; r++) {
            int w[3] = {1000 * r + 2, 1000 * r + 1, 1000 * r};
            expect(&all[3 * r], w, 3, "gather into rev");
        }

    free(all);
    MPI_Type_free(&rev);
    MPI_Type_free(&sdesc);
    MPI_Type_free(&rs);
    MPI_Type_free(&neg);
    if (rank == 0)
        printf("PASS dtype_order\n");
    MPI_Finalize();
    return 0;
}
