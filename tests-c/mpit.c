/* MPI_T, the tool information interface: initialization counting (before MPI_Init and
 * after MPI_Finalize), every control variable, performance variable, category, event type
 * and source enumerated and looked up by name, string-length queries, handles and sessions,
 * and the error codes of bad indices, names and handles. On OxiMPI also: a control variable
 * written before MPI_Init takes effect (OXIMPI_EAGER_LIMIT) and cannot be written after;
 * counters move with real traffic (eager and rendezvous sends, shared-memory messages and
 * bytes, with a peer); a rendezvous_start event reaches its callback with the message's
 * size; a reset handle reads zero. */
#include "oxitest.h"

#define T_CHECK(call)                                                                        \
    do {                                                                                     \
        int t_rc_ = (call);                                                                  \
        CHECK(t_rc_ == MPI_SUCCESS, "%s returned %d", #call, t_rc_);                         \
    } while (0)
#define T_EXPECT(call, code)                                                                 \
    do {                                                                                     \
        int t_rc_ = (call);                                                                  \
        CHECK(t_rc_ == (code), "%s returned %d, expected %s (%d)", #call, t_rc_, #code,      \
              (int)(code));                                                                  \
    } while (0)

static int events_seen = 0;
static MPI_Count event_bytes = -1;

static void on_rndv(MPI_T_event_instance inst, MPI_T_event_registration reg,
                    MPI_T_cb_safety safety, void *user)
{
    MPI_Count bytes = -1, ts = -1;
    char raw[64];
    (void)reg;
    (void)safety;
    CHECK(user == &events_seen, "callback got user_data %p", user);
    CHECK(MPI_T_event_read(inst, 2, &bytes) == MPI_SUCCESS, "MPI_T_event_read");
    CHECK(MPI_T_event_copy(inst, raw) == MPI_SUCCESS, "MPI_T_event_copy");
    CHECK(memcmp(raw + 8, &bytes, sizeof bytes) == 0, "event_copy and event_read disagree");
    CHECK(MPI_T_event_get_timestamp(inst, &ts) == MPI_SUCCESS && ts >= 0, "timestamp");
    event_bytes = bytes;
    events_seen++;
}

/* Every cvar: info (with a length query first), lookup by name, a handle and a read. */
static void walk_cvars(void)
{
    int num, i;
    T_CHECK(MPI_T_cvar_get_num(&num));
    for (i = 0; i < num; i++) {
        char name[256], desc[1024];
        int nlen = 0, dlen = 0, verb, bind, scope, idx, count;
        MPI_Datatype dt;
        MPI_T_enum en;
        MPI_T_cvar_handle h;
        T_CHECK(MPI_T_cvar_get_info(i, NULL, &nlen, &verb, &dt, &en, NULL, &dlen, &bind, &scope));
        CHECK(nlen > 1 && nlen <= (int)sizeof name, "cvar %d: name length %d", i, nlen);
        nlen = sizeof name;
        dlen = sizeof desc;
        T_CHECK(MPI_T_cvar_get_info(i, name, &nlen, &verb, &dt, &en, desc, &dlen, &bind, &scope));
        CHECK((int)strlen(name) + 1 == nlen, "cvar %s: length %d", name, nlen);
        T_CHECK(MPI_T_cvar_get_index(name, &idx));
        CHECK(idx == i, "cvar %s: index %d, expected %d", name, idx, i);
        if (bind != MPI_T_BIND_NO_OBJECT)
            continue;
        T_CHECK(MPI_T_cvar_handle_alloc(i, NULL, &h, &count));
        CHECK(count >= 1, "cvar %s: count %d", name, count);
        if (dt == MPI_CHAR) {
            char *buf = malloc(count);
            T_CHECK(MPI_T_cvar_read(h, buf));
            CHECK(memchr(buf, 0, count) != NULL, "cvar %s: string not terminated", name);
            free(buf);
        } else {
            long long buf[16];
            CHECK(count <= 16, "cvar %s: count %d", name, count);
            T_CHECK(MPI_T_cvar_read(h, buf));
        }
        if (en != MPI_T_ENUM_NULL) {
            int items, k, value;
            char iname[128];
            int ilen = sizeof iname;
            T_CHECK(MPI_T_enum_get_info(en, &items, iname, &ilen));
            CHECK(items >= 1, "cvar %s: enum with %d items", name, items);
            for (k = 0; k < items; k++) {
                ilen = sizeof iname;
                T_CHECK(MPI_T_enum_get_item(en, k, &value, iname, &ilen));
            }
            T_EXPECT(MPI_T_enum_get_item(en, items, &value, iname, &ilen), MPI_T_ERR_INVALID_INDEX);
        }
        T_CHECK(MPI_T_cvar_handle_free(&h));
        CHECK(h == MPI_T_CVAR_HANDLE_NULL, "handle not set to NULL by free");
    }
}

static void walk_pvars(void)
{
    int num, i;
    MPI_T_pvar_session s;
    T_CHECK(MPI_T_pvar_get_num(&num));
    T_CHECK(MPI_T_pvar_session_create(&s));
    for (i = 0; i < num; i++) {
        char name[256];
        int nlen = sizeof name, verb, cls, bind, ro, cont, atomic, idx, count;
        MPI_Datatype dt;
        MPI_T_enum en;
        MPI_T_pvar_handle h;
        T_CHECK(MPI_T_pvar_get_info(i, name, &nlen, &verb, &cls, &dt, &en, NULL, NULL, &bind,
                                    &ro, &cont, &atomic));
        T_CHECK(MPI_T_pvar_get_index(name, cls, &idx));
        CHECK(idx == i, "pvar %s: index %d, expected %d", name, idx, i);
        if (bind != MPI_T_BIND_NO_OBJECT)
            continue;
        T_CHECK(MPI_T_pvar_handle_alloc(s, i, NULL, &h, &count));
        CHECK(count >= 1 && count <= 16, "pvar %s: count %d", name, count);
        if (!cont)
            T_CHECK(MPI_T_pvar_start(s, h));
        {
            long long buf[16];
            T_CHECK(MPI_T_pvar_read(s, h, buf));
        }
        T_CHECK(MPI_T_pvar_handle_free(s, &h));
        CHECK(h == MPI_T_PVAR_HANDLE_NULL, "pvar handle not set to NULL by free");
    }
    T_CHECK(MPI_T_pvar_start(s, MPI_T_PVAR_ALL_HANDLES));
    T_CHECK(MPI_T_pvar_stop(s, MPI_T_PVAR_ALL_HANDLES));
    T_CHECK(MPI_T_pvar_session_free(&s));
    CHECK(s == MPI_T_PVAR_SESSION_NULL, "session not set to NULL by free");
}

static void walk_categories(void)
{
    int num, i, total_cvars = 0, ncvar;
    T_CHECK(MPI_T_category_get_num(&num));
    T_CHECK(MPI_T_cvar_get_num(&ncvar));
    for (i = 0; i < num; i++) {
        char name[256];
        int nlen = sizeof name, nc, np, nsub, idx, nev, k;
        int ind[256];
        T_CHECK(MPI_T_category_get_info(i, name, &nlen, NULL, NULL, &nc, &np, &nsub));
        T_CHECK(MPI_T_category_get_index(name, &idx));
        CHECK(idx == i, "category %s: index %d", name, idx);
        CHECK(nc <= 256 && np <= 256 && nsub <= 256, "category %s too large", name);
        T_CHECK(MPI_T_category_get_cvars(i, nc, ind));
        for (k = 0; k < nc; k++)
            CHECK(ind[k] >= 0 && ind[k] < ncvar, "category %s: cvar index %d", name, ind[k]);
        total_cvars += nc;
        T_CHECK(MPI_T_category_get_pvars(i, np, ind));
        T_CHECK(MPI_T_category_get_categories(i, nsub, ind));
        for (k = 0; k < nsub; k++)
            CHECK(ind[k] >= 0 && ind[k] < num && ind[k] != i, "category %s: sub %d", name, ind[k]);
        T_CHECK(MPI_T_category_get_num_events(i, &nev));
        CHECK(nev <= 256, "category %s: %d events", name, nev);
        T_CHECK(MPI_T_category_get_events(i, nev, ind));
    }
    CHECK(total_cvars <= ncvar, "categories list %d cvars of %d", total_cvars, ncvar);
    T_CHECK(MPI_T_category_changed(&i));
}

static void walk_events_and_sources(void)
{
    int num, i, nsrc;
    T_CHECK(MPI_T_event_get_num(&num));
    for (i = 0; i < num; i++) {
        char name[256];
        int nlen = sizeof name, verb, nel = 0, bind, idx;
        MPI_Datatype types[16];
        MPI_Aint displs[16];
        MPI_T_enum en;
        MPI_Info info;
        T_CHECK(MPI_T_event_get_info(i, name, &nlen, &verb, NULL, NULL, &nel, &en, NULL, NULL,
                                     NULL, &bind));
        CHECK(nel >= 0 && nel <= 16, "event %s: %d elements", name, nel);
        T_CHECK(MPI_T_event_get_info(i, name, &nlen, &verb, types, displs, &nel, &en, &info,
                                     NULL, NULL, &bind));
        if (info != MPI_INFO_NULL)
            MPI_Info_free(&info);
        T_CHECK(MPI_T_event_get_index(name, &idx));
        CHECK(idx == i, "event %s: index %d", name, idx);
    }
    T_CHECK(MPI_T_source_get_num(&nsrc));
    for (i = 0; i < nsrc; i++) {
        char name[256];
        int nlen = sizeof name;
        MPI_T_source_order order;
        MPI_Count tps, maxt, t1, t2;
        MPI_Info info;
        T_CHECK(MPI_T_source_get_info(i, name, &nlen, NULL, NULL, &order, &tps, &maxt, &info));
        if (info != MPI_INFO_NULL)
            MPI_Info_free(&info);
        CHECK(tps > 0, "source %s: %lld ticks per second", name, (long long)tps);
        T_CHECK(MPI_T_source_get_timestamp(i, &t1));
        T_CHECK(MPI_T_source_get_timestamp(i, &t2));
        CHECK(t2 >= t1, "source %s goes back in time", name);
    }
}

static void bad_arguments(void)
{
    int num, idx;
    char name[16];
    int nlen = sizeof name;
    MPI_T_cvar_handle h;
    T_CHECK(MPI_T_cvar_get_num(&num));
    T_EXPECT(MPI_T_cvar_get_info(num, name, &nlen, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             MPI_T_ERR_INVALID_INDEX);
    T_EXPECT(MPI_T_cvar_get_info(-1, name, &nlen, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
             MPI_T_ERR_INVALID_INDEX);
    T_EXPECT(MPI_T_cvar_get_index("no_such_variable_anywhere", &idx), MPI_T_ERR_INVALID_NAME);
    T_EXPECT(MPI_T_pvar_get_index("no_such_variable_anywhere", MPI_T_PVAR_CLASS_COUNTER, &idx),
             MPI_T_ERR_INVALID_NAME);
    T_EXPECT(MPI_T_category_get_index("no_such_category_anywhere", &idx), MPI_T_ERR_INVALID_NAME);
    T_EXPECT(MPI_T_event_get_index("no_such_event_anywhere", &idx), MPI_T_ERR_INVALID_NAME);
    T_EXPECT(MPI_T_cvar_handle_alloc(num, NULL, &h, &idx), MPI_T_ERR_INVALID_INDEX);
    {
        int nc;
        T_CHECK(MPI_T_category_get_num(&nc));
        T_EXPECT(MPI_T_category_get_cvars(nc, 0, NULL), MPI_T_ERR_INVALID_INDEX);
    }
}

int main(int argc, char **argv)
{
    int provided, num, eager_idx = -1, oximpi;
    MPI_T_cvar_handle eager = MPI_T_CVAR_HANDLE_NULL;

    ot_test_name = "mpit";
    /* Before MPI_T_init_thread nothing but init works. */
    T_EXPECT(MPI_T_cvar_get_num(&num), MPI_T_ERR_NOT_INITIALIZED);
    T_CHECK(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided));
    T_CHECK(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided)); /* counted: two finalizes */
    walk_cvars();
    oximpi = MPI_T_cvar_get_index("OXIMPI_EAGER_LIMIT", &eager_idx) == MPI_SUCCESS;
    if (oximpi) {
        /* Before MPI_Init, the eager limit can be set: 64 bytes. */
        unsigned long long v = 64;
        int count;
        T_CHECK(MPI_T_cvar_handle_alloc(eager_idx, NULL, &eager, &count));
        T_CHECK(MPI_T_cvar_write(eager, &v));
    }
    T_CHECK(MPI_T_finalize());

    MPI_CHECK(MPI_Init(&argc, &argv));
    ot_setup("mpit");
    walk_cvars();
    walk_pvars();
    walk_categories();
    walk_events_and_sources();
    bad_arguments();

    if (oximpi) {
        unsigned long long v = 0, eager0, rndv0, msgs0, bytes0, eager1, rndv1, msgs1, bytes1;
        int count, pi_eager, pi_rndv, pi_msgs, pi_bytes, ev;
        MPI_T_pvar_session s;
        MPI_T_pvar_handle he, hr, hm, hb;
        MPI_T_event_registration reg;
        static char big[1000], small[8];
        int peer = (ot_rank + 1) % ot_size, from = (ot_rank + ot_size - 1) % ot_size;

        T_CHECK(MPI_T_cvar_read(eager, &v));
        CHECK(v == 64, "OXIMPI_EAGER_LIMIT reads %llu after MPI_Init, wrote 64", v);
        v = 4096;
        T_EXPECT(MPI_T_cvar_write(eager, &v), MPI_T_ERR_CVAR_SET_NOT_NOW);
        T_CHECK(MPI_T_cvar_handle_free(&eager));

        T_CHECK(MPI_T_pvar_get_index("eager_sends", MPI_T_PVAR_CLASS_COUNTER, &pi_eager));
        T_CHECK(MPI_T_pvar_get_index("rndv_sends", MPI_T_PVAR_CLASS_COUNTER, &pi_rndv));
        T_CHECK(MPI_T_pvar_get_index("shm_msgs_sent", MPI_T_PVAR_CLASS_COUNTER, &pi_msgs));
        T_CHECK(MPI_T_pvar_get_index("shm_bytes_sent", MPI_T_PVAR_CLASS_COUNTER, &pi_bytes));
        T_CHECK(MPI_T_pvar_session_create(&s));
        T_CHECK(MPI_T_pvar_handle_alloc(s, pi_eager, NULL, &he, &count));
        T_CHECK(MPI_T_pvar_handle_alloc(s, pi_rndv, NULL, &hr, &count));
        T_CHECK(MPI_T_pvar_handle_alloc(s, pi_msgs, NULL, &hm, &count));
        T_CHECK(MPI_T_pvar_handle_alloc(s, pi_bytes, NULL, &hb, &count));
        T_EXPECT(MPI_T_pvar_start(s, he), MPI_T_ERR_PVAR_NO_STARTSTOP);

        T_CHECK(MPI_T_event_get_index("rendezvous_start", &ev));
        T_CHECK(MPI_T_event_handle_alloc(ev, NULL, MPI_INFO_NULL, &reg));
        T_CHECK(MPI_T_event_register_callback(reg, MPI_T_CB_REQUIRE_THREAD_SAFE, MPI_INFO_NULL,
                                              &events_seen, on_rndv));

        T_CHECK(MPI_T_pvar_read(s, he, &eager0));
        T_CHECK(MPI_T_pvar_read(s, hr, &rndv0));
        T_CHECK(MPI_T_pvar_read(s, hm, &msgs0));
        T_CHECK(MPI_T_pvar_read(s, hb, &bytes0));
        /* One small (eager) and one 1000-byte (rendezvous, limit 64) message to the next
         * rank, around the ring; with one rank, to itself. */
        MPI_CHECK(MPI_Sendrecv(small, 8, MPI_CHAR, peer, 1, small, 8, MPI_CHAR, from, 1,
                               MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Sendrecv(big, 1000, MPI_CHAR, peer, 2, big, 1000, MPI_CHAR, from, 2,
                               MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        T_CHECK(MPI_T_pvar_read(s, he, &eager1));
        T_CHECK(MPI_T_pvar_read(s, hr, &rndv1));
        T_CHECK(MPI_T_pvar_read(s, hm, &msgs1));
        T_CHECK(MPI_T_pvar_read(s, hb, &bytes1));
        /* A message to oneself is a copy, neither eager nor rendezvous: the protocol
         * counters and the event need a peer. */
        if (ot_size > 1) {
            CHECK(eager1 >= eager0 + 1, "eager_sends %llu -> %llu", eager0, eager1);
            CHECK(rndv1 >= rndv0 + 1, "rndv_sends %llu -> %llu", rndv0, rndv1);
            CHECK(msgs1 >= msgs0 + 2, "shm_msgs_sent %llu -> %llu", msgs0, msgs1);
            CHECK(bytes1 >= bytes0 + 1008, "shm_bytes_sent %llu -> %llu", bytes0, bytes1);
            CHECK(events_seen >= 1, "no rendezvous_start event delivered");
            CHECK(event_bytes == 1000, "rendezvous_start event says %lld bytes",
                  (long long)event_bytes);
        }
        /* A reset handle starts again from zero. */
        T_CHECK(MPI_T_pvar_reset(s, hr));
        T_CHECK(MPI_T_pvar_read(s, hr, &rndv1));
        CHECK(rndv1 == 0, "rndv_sends after reset: %llu", rndv1);

        T_CHECK(MPI_T_event_handle_free(reg, NULL, NULL));
        T_CHECK(MPI_T_pvar_session_free(&s));
    }
    T_CHECK(MPI_T_finalize());
    T_EXPECT(MPI_T_finalize(), MPI_T_ERR_NOT_INITIALIZED);

    ot_pass();
    /* After MPI_Finalize, MPI_T can still be initialized and used. */
    T_CHECK(MPI_T_init_thread(MPI_THREAD_MULTIPLE, &provided));
    CHECK(provided == MPI_THREAD_MULTIPLE, "provided %d", provided);
    T_CHECK(MPI_T_cvar_get_num(&num));
    T_CHECK(MPI_T_finalize());
    return 0;
}
