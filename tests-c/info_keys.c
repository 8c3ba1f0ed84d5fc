/* Info: insertion order, replace, delete, dup, limits and error classes, INFO_ENV. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("info_keys", &argc, &argv);
    MPI_Info info, dup;
    int n, flag, len;
    char key[MPI_MAX_INFO_KEY + 1], val[MPI_MAX_INFO_VAL + 1];
    MPI_CHECK(MPI_Info_create(&info));
    MPI_CHECK(MPI_Info_set(info, "zeta", "1"));
    MPI_CHECK(MPI_Info_set(info, "alpha", "two"));
    MPI_CHECK(MPI_Info_set(info, "mid", "3"));
    MPI_CHECK(MPI_Info_set(info, "zeta", "one"));
    MPI_CHECK(MPI_Info_get_nkeys(info, &n));
    CHECK(n == 3, "nkeys %d", n);
    const char *want[] = {"zeta", "alpha", "mid"};
    for (int i = 0; i < 3; i++) {
        MPI_CHECK(MPI_Info_get_nthkey(info, i, key));
        CHECK(strcmp(key, want[i]) == 0, "key %d = %s", i, key);
    }
    MPI_CHECK(MPI_Info_get(info, "zeta", MPI_MAX_INFO_VAL, val, &flag));
    CHECK(flag && strcmp(val, "one") == 0, "replaced value '%s'", val);
    MPI_CHECK(MPI_Info_get_valuelen(info, "alpha", &len, &flag));
    CHECK(flag && len == 3, "valuelen %d", len);
    MPI_CHECK(MPI_Info_get(info, "nope", MPI_MAX_INFO_VAL, val, &flag));
    CHECK(!flag, "missing key");
    /* get_string */
    int buflen = 2;
    MPI_CHECK(MPI_Info_get_string(info, "alpha", &buflen, val, &flag));
    CHECK(flag && buflen == 4 && strcmp(val, "t") == 0, "get_string %d '%s'", buflen, val);
    MPI_CHECK(MPI_Info_dup(info, &dup));
    MPI_CHECK(MPI_Info_delete(info, "zeta"));
    MPI_CHECK(MPI_Info_get_nthkey(info, 0, key));
    CHECK(strcmp(key, "alpha") == 0, "after delete %s", key);
    MPI_CHECK(MPI_Info_get_nkeys(dup, &n));
    CHECK(n == 3, "dup unaffected %d", n);
    MPI_CHECK(MPI_Info_get_nthkey(dup, 0, key));
    CHECK(strcmp(key, "zeta") == 0, "dup order %s", key);

    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    CHECK_CLASS(MPI_Info_delete(info, "zeta"), MPI_ERR_INFO_NOKEY);
    char longkey[MPI_MAX_INFO_KEY + 10];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    CHECK_CLASS(MPI_Info_set(info, longkey, "v"), MPI_ERR_INFO_KEY);
    static char longval[MPI_MAX_INFO_VAL + 10];
    memset(longval, 'v', sizeof longval - 1);
    CHECK_CLASS(MPI_Info_set(info, "k", longval), MPI_ERR_INFO_VALUE);
    CHECK_CLASS(MPI_Info_set(info, "", "v"), MPI_ERR_INFO_KEY);
    /* exactly the limits are fine */
    longkey[MPI_MAX_INFO_KEY] = 0;
    longval[MPI_MAX_INFO_VAL] = 0;
    MPI_CHECK(MPI_Info_set(info, longkey, longval));
    MPI_CHECK(MPI_Info_get_valuelen(info, longkey, &len, &flag));
    CHECK(flag && len == MPI_MAX_INFO_VAL, "long value len %d", len);

    /* MPI_INFO_ENV is readable */
    MPI_CHECK(MPI_Info_get_nkeys(MPI_INFO_ENV, &n));
    CHECK(n >= 0, "env nkeys");

    MPI_CHECK(MPI_Info_free(&info));
    MPI_CHECK(MPI_Info_free(&dup));
    CHECK(info == MPI_INFO_NULL && dup == MPI_INFO_NULL, "free sets NULL");
    ot_pass();
    return 0;
}
