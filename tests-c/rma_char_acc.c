/* One-sided accumulates on the C character types MPI_CHAR, MPI_SIGNED_CHAR and
 * MPI_UNSIGNED_CHAR: MPICH allows every predefined reduction on them (MPI_CHAR as an
 * extension of the standard's C integer group), in MPI_Accumulate, MPI_Get_accumulate
 * and MPI_Fetch_and_op alike, and computes them as C char arithmetic.
 *
 * 1. Every rank adds rank + 1 to two chars of rank 0 (MPI_Accumulate, MPI_SUM, fence).
 * 2. Every rank takes a ticket from a char counter on rank 0 (MPI_Fetch_and_op, MPI_SUM,
 *    passive target): the tickets are distinct and the counter ends at the rank count.
 * 3. Each rank checks every op through MPI_Get_accumulate on the next rank's window: the
 *    old value comes back and the new one is what C computes. */
#include "oxitest.h"

#define NT 3
static const char *tname[NT] = {"MPI_CHAR", "MPI_SIGNED_CHAR", "MPI_UNSIGNED_CHAR"};

/* The value C computes for `op` on chars of type kind t (0 char, 1 signed, 2 unsigned). */
static int expect(int t, MPI_Op op, int a, int b)
{
    long r;
    if (op == MPI_SUM)
        r = a + b;
    else if (op == MPI_PROD)
        r = (long)a * b;
    else if (op == MPI_MAX)
        r = a > b ? a : b;
    else if (op == MPI_MIN)
        r = a < b ? a : b;
    else if (op == MPI_LAND)
        r = a && b;
    else if (op == MPI_LOR)
        r = a || b;
    else if (op == MPI_LXOR)
        r = !a != !b;
    else if (op == MPI_BAND)
        r = a & b;
    else if (op == MPI_BOR)
        r = a | b;
    else if (op == MPI_BXOR)
        r = a ^ b;
    else if (op == MPI_REPLACE)
        r = a;
    else /* MPI_NO_OP */
        r = b;
    return t == 2 ? (int)(unsigned char)r : (int)(signed char)r;
}

/* Element i of a char buffer of type kind t, as an int. */
static int val(int t, const void *buf, int i)
{
    return t == 2 ? ((const unsigned char *)buf)[i] : ((const signed char *)buf)[i];
}

int main(int argc, char **argv)
{
    ot_init("rma_char_acc", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    MPI_Datatype types[NT] = {MPI_CHAR, MPI_SIGNED_CHAR, MPI_UNSIGNED_CHAR};
    /* Per type: [0..1] the sum, [2] the ticket counter, [4..5] get_accumulate target. */
    char *mem;
    MPI_Win win;
    MPI_CHECK(MPI_Win_allocate(8 * NT, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win));
    MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    for (int t = 0; t < NT; t++) {
        mem[8 * t + 0] = 10;
        mem[8 * t + 1] = 20;
        mem[8 * t + 2] = 0;
    }

    /* 1. Accumulate: sum of rank + 1 over the ranks. */
    MPI_CHECK(MPI_Win_fence(0, win));
    for (int t = 0; t < NT; t++) {
        char add[2] = {(char)(rank + 1), (char)(rank + 1)};
        int rc = MPI_Accumulate(add, 2, types[t], 0, 8 * t, 2, types[t], MPI_SUM, win);
        CHECK(rc == MPI_SUCCESS, "MPI_Accumulate(%s, MPI_SUM) failed", tname[t]);
    }
    MPI_CHECK(MPI_Win_fence(0, win));
    if (rank == 0)
        for (int t = 0; t < NT; t++) {
            int s = size * (size + 1) / 2;
            CHECK(mem[8 * t] == 10 + s && mem[8 * t + 1] == 20 + s,
                  "%s sum: %d %d, expected %d %d", tname[t], mem[8 * t], mem[8 * t + 1], 10 + s,
                  20 + s);
        }
    MPI_CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));

    /* 2. Fetch_and_op tickets. */
    int tickets[NT];
    for (int t = 0; t < NT; t++) {
        char one = 1, got = -1;
        MPI_CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
        int rc = MPI_Fetch_and_op(&one, &got, types[t], 0, 8 * t + 2, MPI_SUM, win);
        CHECK(rc == MPI_SUCCESS, "MPI_Fetch_and_op(%s, MPI_SUM) failed", tname[t]);
        MPI_CHECK(MPI_Win_unlock(0, win));
        tickets[t] = got;
        CHECK(got >= 0 && got < size, "%s ticket %d out of [0, %d)", tname[t], got, size);
    }
    /* Distinct tickets: every rank reports its own to rank 0. */
    if (rank == 0) {
        for (int t = 0; t < NT; t++) {
            int seen[64] = {0};
            seen[tickets[t]] = 1;
            for (int r = 1; r < size; r++) {
                int tk;
                MPI_CHECK(MPI_Recv(&tk, 1, MPI_INT, r, t, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                CHECK(!seen[tk], "%s: ticket %d handed out twice", tname[t], tk);
                seen[tk] = 1;
            }
        }
    } else {
        for (int t = 0; t < NT; t++)
            MPI_CHECK(MPI_Send(&tickets[t], 1, MPI_INT, 0, t, MPI_COMM_WORLD));
    }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0)
        for (int t = 0; t < NT; t++)
            CHECK(mem[8 * t + 2] == size, "%s counter %d, expected %d", tname[t], mem[8 * t + 2],
                  size);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));

    /* 3. Every op through Get_accumulate on the next rank (alone on that window slot). */
    MPI_Op ops[] = {MPI_SUM,  MPI_PROD, MPI_MAX, MPI_MIN,  MPI_LAND,    MPI_LOR,
                    MPI_LXOR, MPI_BAND, MPI_BOR, MPI_BXOR, MPI_REPLACE, MPI_NO_OP};
    const char *oname[] = {"SUM",  "PROD", "MAX", "MIN",  "LAND",    "LOR",
                           "LXOR", "BAND", "BOR", "BXOR", "REPLACE", "NO_OP"};
    int next = (rank + 1) % size;
    /* Values chosen so that sums and products overflow a char: C wraps them. */
    const int tv[2] = {100, 0x5a};
    const int ov[2] = {50, 0x0f};
    for (int t = 0; t < NT; t++)
        for (unsigned o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            char init[2], org[2], res[2] = {0, 0}, now[2] = {0, 0};
            for (int i = 0; i < 2; i++) {
                init[i] = (char)(t == 2 || i == 1 ? tv[i] : -tv[i] / 4);
                org[i] = (char)ov[i];
            }
            MPI_CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, next, 0, win));
            MPI_CHECK(MPI_Put(init, 2, types[t], next, 8 * t + 4, 2, types[t], win));
            MPI_CHECK(MPI_Win_flush(next, win));
            int rc = MPI_Get_accumulate(org, 2, types[t], res, 2, types[t], next, 8 * t + 4, 2,
                                        types[t], ops[o], win);
            CHECK(rc == MPI_SUCCESS, "MPI_Get_accumulate(%s, MPI_%s) failed", tname[t],
                  oname[o]);
            MPI_CHECK(MPI_Win_flush(next, win));
            MPI_CHECK(MPI_Get(now, 2, types[t], next, 8 * t + 4, 2, types[t], win));
            MPI_CHECK(MPI_Win_unlock(next, win));
            for (int i = 0; i < 2; i++) {
                int a = val(t, org, i), b = val(t, init, i);
                CHECK(val(t, res, i) == b, "%s %s [%d]: fetched %d, expected the old %d",
                      tname[t], oname[o], i, val(t, res, i), b);
                CHECK(val(t, now, i) == expect(t, ops[o], a, b),
                      "%s %s [%d]: %d op %d gave %d, expected %d", tname[t], oname[o], i, a, b,
                      val(t, now, i), expect(t, ops[o], a, b));
            }
        }
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_Win_free(&win));
    return ot_pass();
}
