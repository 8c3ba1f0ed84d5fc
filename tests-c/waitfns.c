/* Completion functions: Wait, Test, Waitall, Testall, Waitany, Testany, Waitsome, Testsome,
 * with MPI_REQUEST_NULL entries and MPI_STATUSES_IGNORE; Request_get_status (and the MPI 4.1
 * Request_get_status_any/all/some when the header is 4.1 or later). Rank 1 sends to rank 0
 * only when rank 0 asks ("go" messages), so rank 0 can check "not complete yet" results. */
#include "oxitest.h"

#define NR 6

static void go(int n)
{
    MPI_CHECK(MPI_Send(&n, 1, MPI_INT, 1, 500, MPI_COMM_WORLD));
}

/* Rank 0: post NR receives with tags 0..NR-1, sources 1; some entries replaced by NULL. */
static void post(MPI_Request *req, int *buf, int base)
{
    for (int i = 0; i < NR; i++) {
        buf[i] = -1;
        if (i == 2) {
            req[i] = MPI_REQUEST_NULL;
            continue;
        }
        MPI_CHECK(MPI_Irecv(&buf[i], 1, MPI_INT, 1, base + i, MPI_COMM_WORLD, &req[i]));
    }
}

static void receiver(void)
{
    MPI_Request req[NR];
    MPI_Status st[NR];
    int buf[NR], flag = -1, idx = -1, outcount = -1, indices[NR];

    /* Wait / Test on a single request, and on MPI_REQUEST_NULL */
    MPI_Request null = MPI_REQUEST_NULL;
    MPI_Status s;
    MPI_CHECK(MPI_Wait(&null, &s));
    CHECK(s.MPI_SOURCE == MPI_ANY_SOURCE && s.MPI_TAG == MPI_ANY_TAG,
          "Wait(REQUEST_NULL): empty status expected, got source %d tag %d", s.MPI_SOURCE,
          s.MPI_TAG);
    MPI_CHECK(MPI_Test(&null, &flag, &s));
    CHECK(flag == 1, "Test(REQUEST_NULL) flag %d", flag);

    MPI_CHECK(MPI_Irecv(&buf[0], 1, MPI_INT, 1, 0, MPI_COMM_WORLD, &req[0]));
    MPI_CHECK(MPI_Test(&req[0], &flag, &s));
    CHECK(flag == 0, "Test: complete before the message was sent");
    MPI_CHECK(MPI_Request_get_status(req[0], &flag, &s));
    CHECK(flag == 0, "Request_get_status: complete before the message was sent");
    go(1);
    do {
        MPI_CHECK(MPI_Request_get_status(req[0], &flag, &s));
    } while (!flag);
    CHECK(req[0] != MPI_REQUEST_NULL, "Request_get_status freed the request");
    CHECK(s.MPI_TAG == 0 && s.MPI_SOURCE == 1, "Request_get_status status %d/%d", s.MPI_SOURCE,
          s.MPI_TAG);
    MPI_CHECK(MPI_Wait(&req[0], &s));
    CHECK(req[0] == MPI_REQUEST_NULL && buf[0] == 100, "Wait: buf %d", buf[0]);

    /* Waitall with a NULL entry, statuses returned */
    post(req, buf, 10);
    go(2);
    MPI_CHECK(MPI_Waitall(NR, req, st));
    for (int i = 0; i < NR; i++) {
        CHECK(req[i] == MPI_REQUEST_NULL, "Waitall left request %d", i);
        if (i == 2) {
            CHECK(buf[i] == -1 && st[i].MPI_SOURCE == MPI_ANY_SOURCE, "Waitall null entry");
        } else {
            CHECK(buf[i] == 110 + i && st[i].MPI_TAG == 10 + i, "Waitall entry %d: %d tag %d",
                  i, buf[i], st[i].MPI_TAG);
        }
    }

    /* Testall: false while one is missing (and then requests stay active), true at the end */
    post(req, buf, 20);
    go(3); /* rank 1 sends all but tag 20+NR-1 */
    /* wait for the last message sent so far (matching is ordered, so the others have matched
     * too); a null entry counts as complete for Testall */
    MPI_CHECK(MPI_Wait(&req[NR - 2], &s));
    MPI_CHECK(MPI_Testall(NR, req, &flag, MPI_STATUSES_IGNORE));
    CHECK(flag == 0, "Testall true with one receive unmatched");
    go(4);
    do {
        MPI_CHECK(MPI_Testall(NR, req, &flag, st));
    } while (!flag);
    for (int i = 0; i < NR; i++)
        CHECK(req[i] == MPI_REQUEST_NULL && (i == 2 || buf[i] == 120 + i),
              "Testall entry %d: %d", i, buf[i]);

    /* Waitany: NR-1 times returns distinct indices, then MPI_UNDEFINED */
    post(req, buf, 30);
    go(5);
    int seen[NR] = {0};
    for (int k = 0; k < NR - 1; k++) {
        MPI_CHECK(MPI_Waitany(NR, req, &idx, &s));
        CHECK(idx >= 0 && idx < NR && idx != 2 && !seen[idx], "Waitany index %d", idx);
        seen[idx] = 1;
        CHECK(buf[idx] == 130 + idx && s.MPI_TAG == 30 + idx, "Waitany entry %d", idx);
    }
    MPI_CHECK(MPI_Waitany(NR, req, &idx, &s));
    CHECK(idx == MPI_UNDEFINED, "Waitany on all-null gave %d", idx);

    /* Testany: flag 0 before anything is sent; all-null -> flag 1, MPI_UNDEFINED */
    post(req, buf, 40);
    MPI_CHECK(MPI_Testany(NR, req, &idx, &flag, &s));
    CHECK(flag == 0 && idx == MPI_UNDEFINED, "Testany before sends: flag %d idx %d", flag, idx);
    go(6);
    memset(seen, 0, sizeof seen);
    for (int k = 0; k < NR - 1;) {
        MPI_CHECK(MPI_Testany(NR, req, &idx, &flag, &s));
        if (!flag)
            continue;
        CHECK(idx >= 0 && idx != 2 && !seen[idx] && buf[idx] == 140 + idx,
              "Testany index %d", idx);
        seen[idx] = 1;
        k++;
    }
    MPI_CHECK(MPI_Testany(NR, req, &idx, &flag, &s));
    CHECK(flag == 1 && idx == MPI_UNDEFINED, "Testany all-null: flag %d idx %d", flag, idx);

    /* Waitsome / Testsome */
    post(req, buf, 50);
    MPI_CHECK(MPI_Testsome(NR, req, &outcount, indices, st));
    CHECK(outcount == 0, "Testsome before sends gave %d", outcount);
    go(7);
    memset(seen, 0, sizeof seen);
    int done = 0;
    while (done < NR - 1) {
        if (done % 2)
            MPI_CHECK(MPI_Testsome(NR, req, &outcount, indices, MPI_STATUSES_IGNORE));
        else
            MPI_CHECK(MPI_Waitsome(NR, req, &outcount, indices, st));
        CHECK(outcount >= 0 && outcount <= NR - 1 - done, "Wait/Testsome outcount %d",
              outcount);
        for (int k = 0; k < outcount; k++) {
            int i = indices[k];
            CHECK(i >= 0 && i < NR && i != 2 && !seen[i] && buf[i] == 150 + i,
                  "Wait/Testsome index %d", i);
            if (done % 2 == 0)
                CHECK(st[k].MPI_TAG == 50 + i, "Waitsome status %d has tag %d", k,
                      st[k].MPI_TAG);
            seen[i] = 1;
        }
        done += outcount;
    }
    MPI_CHECK(MPI_Waitsome(NR, req, &outcount, indices, st));
    CHECK(outcount == MPI_UNDEFINED, "Waitsome on all-null gave %d", outcount);
    MPI_CHECK(MPI_Testsome(NR, req, &outcount, indices, st));
    CHECK(outcount == MPI_UNDEFINED, "Testsome on all-null gave %d", outcount);

#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
    /* MPI 4.1: Request_get_status_any/all/some never free the requests */
    post(req, buf, 60);
    MPI_CHECK(MPI_Request_get_status_all(NR, req, &flag, MPI_STATUSES_IGNORE));
    CHECK(flag == 0, "Request_get_status_all before sends");
    MPI_CHECK(MPI_Request_get_status_any(NR, req, &idx, &flag, &s));
    CHECK(flag == 0, "Request_get_status_any before sends");
    go(8);
    do {
        MPI_CHECK(MPI_Request_get_status_any(NR, req, &idx, &flag, &s));
    } while (!flag);
    CHECK(idx != 2 && req[idx] != MPI_REQUEST_NULL, "Request_get_status_any idx %d", idx);
    do {
        MPI_CHECK(MPI_Request_get_status_some(NR, req, &outcount, indices, st));
    } while (outcount == 0);
    do {
        MPI_CHECK(MPI_Request_get_status_all(NR, req, &flag, st));
    } while (!flag);
    for (int i = 0; i < NR; i++)
        CHECK(i == 2 ? req[i] == MPI_REQUEST_NULL : req[i] != MPI_REQUEST_NULL,
              "Request_get_status_* changed request %d", i);
    MPI_CHECK(MPI_Waitall(NR, req, MPI_STATUSES_IGNORE));
    for (int i = 0; i < NR; i++)
        CHECK(i == 2 || buf[i] == 160 + i, "get_status round: entry %d is %d", i, buf[i]);
#endif
    go(0); /* done */
}

static void sender(void)
{
    for (;;) {
        int what;
        MPI_CHECK(MPI_Recv(&what, 1, MPI_INT, 0, 500, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        if (what == 0)
            return;
        if (what == 1) {
            int v = 100;
            MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, 0, MPI_COMM_WORLD));
            continue;
        }
        /* what 2..8 -> round base 10*(what-1), with 3/4 splitting the Testall round */
        int base = what <= 3 ? 10 * (what - 1) : 10 * (what - 2);
        for (int i = 0; i < NR; i++) {
            if (i == 2)
                continue;
            if (what == 3 && i == NR - 1)
                continue; /* held back until "4" */
            if (what == 4 && i != NR - 1)
                continue;
            int v = 100 + base + i;
            MPI_CHECK(MPI_Send(&v, 1, MPI_INT, 0, base + i, MPI_COMM_WORLD));
        }
    }
}

int main(int argc, char **argv)
{
    ot_init("waitfns", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    if (ot_rank == 0)
        receiver();
    else if (ot_rank == 1)
        sender();
    return ot_pass();
}
