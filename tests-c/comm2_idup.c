/* MPI_Comm_idup is nonblocking: the agreement progresses while ranks do other communication
 * (rank 0 idups then receives from rank 1, which Ssends before its idup: no deadlock); several
 * idups outstanding at once on the same and on different parents (intra and inter), completed
 * in different orders on different ranks, give distinct working communicators (messages with
 * the same tag on all of them at once land on the right one) congruent with their parents;
 * attributes and errhandlers are copied; errhandler and name set on the new handle before
 * completion are kept; a blocking Comm_dup can run while an idup is pending;
 * idup/free cycles reuse context ids without collisions. */
#include "oxitest.h"

#define K 6

static int copies = 0;
static int copy_fn(MPI_Comm c, int kv, void *extra, void *in, void *out, int *flag)
{
    (void)c;
    (void)kv;
    (void)extra;
    copies++;
    *(void **)out = in;
    *flag = 1;
    return MPI_SUCCESS;
}

/* Every comm in `cs` carries, at once, one message per rank with the same tag (to the next
 * rank; on an intercommunicator, between ranks r of both sides for r below both sizes); each
 * must arrive on its own communicator. */
static void check_distinct(MPI_Comm *cs, int n, int seed)
{
    int out[16], in[16];
    MPI_Request rq[32];
    for (int i = 0; i < n; i++) {
        int rank, size, inter;
        MPI_CHECK(MPI_Comm_rank(cs[i], &rank));
        MPI_CHECK(MPI_Comm_size(cs[i], &size));
        MPI_CHECK(MPI_Comm_test_inter(cs[i], &inter));
        out[i] = seed * 100 + i;
        in[i] = -1;
        rq[2 * i] = rq[2 * i + 1] = MPI_REQUEST_NULL;
        int to = (rank + 1) % size, from = (rank + size - 1) % size;
        if (inter) {
            int rsize;
            MPI_CHECK(MPI_Comm_remote_size(cs[i], &rsize));
            if (rank >= (rsize < size ? rsize : size)) {
                in[i] = out[i]; /* no partner */
                continue;
            }
            to = from = rank;
        }
        MPI_CHECK(MPI_Irecv(&in[i], 1, MPI_INT, from, 7, cs[i], &rq[2 * i]));
        MPI_CHECK(MPI_Isend(&out[i], 1, MPI_INT, to, 7, cs[i], &rq[2 * i + 1]));
    }
    MPI_CHECK(MPI_Waitall(2 * n, rq, MPI_STATUSES_IGNORE));
    for (int i = 0; i < n; i++)
        CHECK(in[i] == seed * 100 + i, "seed %d comm %d: got %d, want %d (contexts collide?)",
              seed, i, in[i], seed * 100 + i);
}

int main(int argc, char **argv)
{
    ot_init("comm2_idup", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    MPI_Comm n0;
    MPI_Request r0;

    /* 1. Other traffic between the idup and its wait. */
    if (size >= 2 && rank == 0) {
        int v = 0;
        MPI_CHECK(MPI_Comm_idup(MPI_COMM_WORLD, &n0, &r0));
        CHECK(n0 != MPI_COMM_NULL, "idup wrote MPI_COMM_NULL at the call");
        MPI_CHECK(MPI_Recv(&v, 1, MPI_INT, 1, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(v == 42, "got %d", v);
        MPI_CHECK(MPI_Wait(&r0, MPI_STATUS_IGNORE));
    } else if (size >= 2 && rank == 1) {
        int v = 42;
        /* Synchronous: completes only once rank 0, inside its idup, posts the receive. */
        MPI_CHECK(MPI_Ssend(&v, 1, MPI_INT, 0, 3, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Comm_idup(MPI_COMM_WORLD, &n0, &r0));
        MPI_CHECK(MPI_Wait(&r0, MPI_STATUS_IGNORE));
    } else {
        MPI_CHECK(MPI_Comm_idup(MPI_COMM_WORLD, &n0, &r0));
        MPI_CHECK(MPI_Wait(&r0, MPI_STATUS_IGNORE));
    }
    CHECK(r0 == MPI_REQUEST_NULL, "request not freed by MPI_Wait");

    /* Local calls on the new communicator before completion (as MPICH allows and mpi4py
     * does): their effect survives completion. */
    MPI_Comm n1;
    MPI_Request r1;
    MPI_CHECK(MPI_Comm_idup(n0, &n1, &r1));
    MPI_CHECK(MPI_Comm_set_errhandler(n1, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_name(n1, "early"));
    int early_size;
    MPI_CHECK(MPI_Comm_size(n1, &early_size));
    CHECK(early_size == size, "size %d before completion", early_size);
    MPI_CHECK(MPI_Wait(&r1, MPI_STATUS_IGNORE));
    {
        MPI_Errhandler e;
        char name[MPI_MAX_OBJECT_NAME];
        int len;
        MPI_CHECK(MPI_Comm_get_errhandler(n1, &e));
        CHECK(e == MPI_ERRORS_RETURN, "errhandler set before completion was lost");
        MPI_CHECK(MPI_Comm_get_name(n1, name, &len));
        CHECK(strcmp(name, "early") == 0, "name set before completion was lost (\"%s\")", name);
    }
    check_distinct(&n1, 1, 9);
    MPI_CHECK(MPI_Comm_free(&n1));
    int cmp;
    MPI_CHECK(MPI_Comm_compare(MPI_COMM_WORLD, n0, &cmp));
    CHECK(cmp == MPI_CONGRUENT, "idup of WORLD compares %d", cmp);
    check_distinct(&n0, 1, 1);

    /* 2. Several outstanding, on the same and on different parents, attributes copied. */
    MPI_Comm half, parent2;
    MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half));
    MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &parent2));
    int kv, attrval = 99, *got, flag;
    MPI_CHECK(MPI_Comm_create_keyval(copy_fn, MPI_COMM_NULL_DELETE_FN, &kv, NULL));
    MPI_CHECK(MPI_Comm_set_attr(parent2, kv, &attrval));
    MPI_CHECK(MPI_Comm_set_errhandler(parent2, MPI_ERRORS_RETURN));
    MPI_Comm cs[K + 1];
    MPI_Request rq[K];
    MPI_Comm parents[K] = {MPI_COMM_WORLD, parent2, half, MPI_COMM_WORLD, half, parent2};
    for (int i = 0; i < K; i++)
        MPI_CHECK(MPI_Comm_idup(parents[i], &cs[i], &rq[i]));
    CHECK(copies == 2, "attribute copy callback ran %d times at the calls, want 2", copies);
    /* A blocking dup of another communicator while they are pending. */
    MPI_Comm blocking;
    MPI_CHECK(MPI_Comm_dup(n0, &blocking));
    /* Completion order differs between ranks. */
    if (rank % 2 == 0) {
        MPI_CHECK(MPI_Waitall(K, rq, MPI_STATUSES_IGNORE));
    } else {
        for (int i = K - 1; i >= 0; i--)
            MPI_CHECK(MPI_Wait(&rq[i], MPI_STATUS_IGNORE));
    }
    for (int i = 0; i < K; i++) {
        MPI_CHECK(MPI_Comm_compare(parents[i], cs[i], &cmp));
        CHECK(cmp == MPI_CONGRUENT, "idup %d compares %d with its parent", i, cmp);
        for (int j = 0; j < i; j++)
            CHECK(cs[i] != cs[j], "idups %d and %d have one handle", i, j);
    }
    MPI_CHECK(MPI_Comm_get_attr(cs[1], kv, &got, &flag));
    CHECK(flag && got == &attrval, "attribute not copied to the idup of parent2");
    MPI_Errhandler eh;
    MPI_CHECK(MPI_Comm_get_errhandler(cs[5], &eh));
    CHECK(eh == MPI_ERRORS_RETURN, "errhandler not copied");
    cs[K] = blocking;
    check_distinct(cs, K + 1, 2);

    /* 3. Intercommunicator idup (two at once). */
    if (size >= 2) {
        MPI_Comm inter, id1, id2;
        MPI_Request ir[2];
        MPI_CHECK(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, rank % 2 == 0 ? 1 : 0, 11, &inter));
        MPI_CHECK(MPI_Comm_idup(inter, &id1, &ir[0]));
        MPI_CHECK(MPI_Comm_idup_with_info(inter, MPI_INFO_NULL, &id2, &ir[1]));
        MPI_CHECK(MPI_Waitall(2, ir, MPI_STATUSES_IGNORE));
        int t, rs, rs0;
        MPI_CHECK(MPI_Comm_test_inter(id1, &t));
        CHECK(t, "idup of an intercommunicator is not one");
        MPI_CHECK(MPI_Comm_remote_size(id2, &rs));
        MPI_CHECK(MPI_Comm_remote_size(inter, &rs0));
        CHECK(rs == rs0, "remote size %d, want %d", rs, rs0);
        MPI_CHECK(MPI_Comm_compare(inter, id1, &cmp));
        CHECK(cmp == MPI_CONGRUENT, "intercomm idup compares %d", cmp);
        MPI_Comm ics[3] = {inter, id1, id2};
        check_distinct(ics, 3, 3);
        MPI_CHECK(MPI_Comm_free(&id1));
        MPI_CHECK(MPI_Comm_free(&id2));
        MPI_CHECK(MPI_Comm_free(&inter));
    }

    /* 4. idup/free cycles: ids are reused, never shared by live communicators. */
    for (int round = 0; round < 20; round++) {
        MPI_Comm a, b;
        MPI_Request two[2];
        MPI_CHECK(MPI_Comm_idup(MPI_COMM_WORLD, &a, &two[0]));
        MPI_CHECK(MPI_Comm_idup(half, &b, &two[1]));
        MPI_CHECK(MPI_Waitall(2, two, MPI_STATUSES_IGNORE));
        MPI_Comm both[3] = {a, b, n0};
        check_distinct(both, 3, 10 + round);
        MPI_CHECK(MPI_Comm_free(&a));
        MPI_CHECK(MPI_Comm_free(&b));
    }

    for (int i = 0; i < K; i++)
        MPI_CHECK(MPI_Comm_free(&cs[i]));
    MPI_CHECK(MPI_Comm_free(&blocking));
    MPI_CHECK(MPI_Comm_free(&parent2));
    MPI_CHECK(MPI_Comm_free(&half));
    MPI_CHECK(MPI_Comm_free(&n0));
    MPI_CHECK(MPI_Comm_free_keyval(&kv));
    return ot_pass();
}
