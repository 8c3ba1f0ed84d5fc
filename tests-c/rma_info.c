/* MPI_Win_get_info reports the hints a window knows, with their value in force, and
 * nothing else, as MPICH 4.0.2 does for every flavor: no_locks, accumulate_ordering,
 * accumulate_ops, alloc_shared_noncontig, same_size and same_disp_unit. A key the user
 * gave that is not one of them is not echoed back; values the user gave are (ordering in
 * canonical order); a malformed value leaves the hint as it was; MPI_Win_set_info changes
 * the hints it names. */
#include "oxitest.h"

static const char *keys[] = {"no_locks",          "accumulate_ordering",
                             "accumulate_ops",    "alloc_shared_noncontig",
                             "same_size",         "same_disp_unit"};
#define NKEYS 6

/* The window's hints must be exactly `want` (NKEYS values, in the order of `keys`). */
static void expect(MPI_Win win, const char *what, const char *const want[NKEYS])
{
    MPI_Info info;
    MPI_CHECK(MPI_Win_get_info(win, &info));
    int n = -1;
    MPI_CHECK(MPI_Info_get_nkeys(info, &n));
    /* MPICH reports some hints of its own besides (alloc_shm, which_accumulate_ops, ...);
     * the standard hints must be there, with the right values, and no user key. */
    for (int i = 0; i < NKEYS; i++) {
        char v[MPI_MAX_INFO_VAL + 1];
        int flag = 0;
        MPI_CHECK(MPI_Info_get(info, keys[i], MPI_MAX_INFO_VAL, v, &flag));
        CHECK(flag, "%s: hint %s missing", what, keys[i]);
        CHECK(strcmp(v, want[i]) == 0, "%s: %s = '%s', expected '%s'", what, keys[i], v,
              want[i]);
    }
    for (int i = 0; i < n; i++) {
        char k[MPI_MAX_INFO_KEY + 1];
        MPI_CHECK(MPI_Info_get_nthkey(info, i, k));
        CHECK(strncmp(k, "my_", 3) != 0, "%s: the user's key %s was echoed back", what, k);
    }
    MPI_CHECK(MPI_Info_free(&info));
}

int main(int argc, char **argv)
{
    ot_init("rma_info", &argc, &argv);
    static const char *const defaults[NKEYS] = {"false", "rar,raw,war,waw", "same_op_no_op",
                                                "false", "false",           "false"};
    static const char *const given[NKEYS] = {"true", "rar,waw", "same_op",
                                             "true", "true",    "true"};
    int buf[4];
    void *base;

    for (int flavor = 0; flavor < 4; flavor++)
        for (int with = 0; with < 2; with++) {
            /* A fresh info object each time: MPICH 4.0.2 cuts the accumulate_ordering
             * value of the user's info object while parsing it. */
            MPI_Info in = MPI_INFO_NULL;
            if (with) {
                MPI_CHECK(MPI_Info_create(&in));
                MPI_CHECK(MPI_Info_set(in, "my_unknown_key", "whatever"));
                MPI_CHECK(MPI_Info_set(in, "no_locks", "true"));
                MPI_CHECK(MPI_Info_set(in, "accumulate_ordering", "waw,rar"));
                MPI_CHECK(MPI_Info_set(in, "accumulate_ops", "same_op"));
                MPI_CHECK(MPI_Info_set(in, "alloc_shared_noncontig", "true"));
                MPI_CHECK(MPI_Info_set(in, "same_size", "true"));
                MPI_CHECK(MPI_Info_set(in, "same_disp_unit", "true"));
            }
            MPI_Win win;
            const char *name[] = {"create", "allocate", "allocate_shared", "create_dynamic"};
            switch (flavor) {
            case 0:
                MPI_CHECK(MPI_Win_create(buf, sizeof buf, 4, in, MPI_COMM_WORLD, &win));
                break;
            case 1:
                MPI_CHECK(MPI_Win_allocate(16, 4, in, MPI_COMM_WORLD, &base, &win));
                break;
            case 2:
                MPI_CHECK(MPI_Win_allocate_shared(16, 4, in, MPI_COMM_WORLD, &base, &win));
                break;
            default:
                MPI_CHECK(MPI_Win_create_dynamic(in, MPI_COMM_WORLD, &win));
            }
            char what[64];
            snprintf(what, sizeof what, "%s %s", name[flavor], with ? "with hints" : "default");
            expect(win, what, with ? given : defaults);
            MPI_CHECK(MPI_Win_free(&win));
            if (with)
                MPI_CHECK(MPI_Info_free(&in));
        }

    /* MPI_Win_set_info: named hints change, others stay, unknown keys are dropped. */
    MPI_Win win;
    MPI_CHECK(MPI_Win_create(buf, sizeof buf, 4, MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_Info set;
    MPI_CHECK(MPI_Info_create(&set));
    MPI_CHECK(MPI_Info_set(set, "accumulate_ordering", "none"));
    MPI_CHECK(MPI_Info_set(set, "same_size", "true"));
    MPI_CHECK(MPI_Info_set(set, "my_other_key", "x"));
    MPI_CHECK(MPI_Win_set_info(win, set));
    static const char *const after_set[NKEYS] = {"false", "none", "same_op_no_op",
                                                 "false", "true", "false"};
    expect(win, "after MPI_Win_set_info", after_set);
    /* Malformed booleans and ops leave the hints as they are. */
    MPI_CHECK(MPI_Info_free(&set));
    MPI_CHECK(MPI_Info_create(&set));
    MPI_CHECK(MPI_Info_set(set, "no_locks", "maybe"));
    MPI_CHECK(MPI_Info_set(set, "same_size", "TRUE"));
    MPI_CHECK(MPI_Info_set(set, "accumulate_ops", "any"));
    MPI_CHECK(MPI_Win_set_info(win, set));
    expect(win, "after malformed values", after_set);
    MPI_CHECK(MPI_Info_free(&set));
    MPI_CHECK(MPI_Win_free(&win));
    return ot_pass();
}
