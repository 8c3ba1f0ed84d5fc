/* The straight line of small sends (p2p16, issue 13): MPI_Send/Isend/Rsend/Irsend of a
 * predefined type whose count elements lie in one run of at most 256 bytes go to the fast box
 * without a datatype on the way; everything else takes the general path. For each send form
 * and for types of every element size, and for the pair types whose elements have a gap
 * (MPI_SHORT_INT, MPI_DOUBLE_INT: count > 1 is not one run and must be packed), at counts
 * around the 256-byte bound, the receiver gets every value and the status counts them; empty
 * messages from a NULL buffer arrive with count 0; a send to MPI_PROC_NULL sends nothing; and
 * the messages of the two paths, interleaved on one tag, arrive in send order. */
#include "oxitest.h"
#include <stdint.h>
#include <string.h>

enum { FORMS = 4, MAXB = 1024 };

typedef struct { short s; int i; } short_int;
typedef struct { double d; int i; } double_int;

struct kind {
    MPI_Datatype t;
    int size; /* bytes of one element in memory (its extent) */
    const char *name;
};

static const struct kind kinds[] = {
    {MPI_CHAR, 1, "MPI_CHAR"},           {MPI_SHORT, 2, "MPI_SHORT"},
    {MPI_INT, 4, "MPI_INT"},             {MPI_DOUBLE, 8, "MPI_DOUBLE"},
    {MPI_C_DOUBLE_COMPLEX, 16, "MPI_C_DOUBLE_COMPLEX"},
    {MPI_SHORT_INT, (int)sizeof(short_int), "MPI_SHORT_INT"},
    {MPI_DOUBLE_INT, (int)sizeof(double_int), "MPI_DOUBLE_INT"},
};
enum { KINDS = sizeof kinds / sizeof kinds[0] };

/* Element counts: empty, one, a few, and those that bring the bytes around 256. */
static int counts(int size, int *c)
{
    int n = 0;
    c[n++] = 0;
    c[n++] = 1;
    c[n++] = 3;
    c[n++] = 256 / size - 1;
    c[n++] = 256 / size;
    c[n++] = 256 / size + 1;
    return n;
}

/* Fills element k of a buffer of kind `kd` from `seed` (the pair types: both members, the
 * gap left alone). */
static void fill(const struct kind *kd, void *buf, int count, unsigned seed)
{
    if (kd->t == MPI_SHORT_INT) {
        short_int *p = buf;
        for (int k = 0; k < count; k++) {
            p[k].s = (short)(seed + 3 * k);
            p[k].i = (int)(seed * 7 + k);
        }
    } else if (kd->t == MPI_DOUBLE_INT) {
        double_int *p = buf;
        for (int k = 0; k < count; k++) {
            p[k].d = seed + 0.5 * k;
            p[k].i = (int)(seed * 5 + k);
        }
    } else {
        unsigned char *p = buf;
        for (int k = 0; k < count * kd->size; k++)
            p[k] = ot_byte(seed, (size_t)k);
    }
}

static int same(const struct kind *kd, const void *a, const void *b, int count)
{
    if (kd->t == MPI_SHORT_INT) {
        const short_int *x = a, *y = b;
        for (int k = 0; k < count; k++)
            if (x[k].s != y[k].s || x[k].i != y[k].i)
                return 0;
        return 1;
    }
    if (kd->t == MPI_DOUBLE_INT) {
        const double_int *x = a, *y = b;
        for (int k = 0; k < count; k++)
            if (x[k].d != y[k].d || x[k].i != y[k].i)
                return 0;
        return 1;
    }
    return memcmp(a, b, (size_t)count * kd->size) == 0;
}

/* Send form f of `count` elements: 0 Send, 1 Isend, 2 Rsend, 3 Irsend (the ready forms
 * after the receiver said its receive is posted). */
static void send_form(int f, const void *buf, int count, MPI_Datatype t, int tag)
{
    MPI_Request r;
    switch (f) {
    case 0:
        MPI_CHECK(MPI_Send(buf, count, t, 1, tag, MPI_COMM_WORLD));
        break;
    case 1:
        MPI_CHECK(MPI_Isend(buf, count, t, 1, tag, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        break;
    case 2:
        MPI_CHECK(MPI_Rsend(buf, count, t, 1, tag, MPI_COMM_WORLD));
        break;
    default:
        MPI_CHECK(MPI_Irsend(buf, count, t, 1, tag, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    }
}

static _Alignas(16) unsigned char out[MAXB], in[MAXB], want[MAXB];

static void types(void)
{
    for (int f = 0; f < FORMS; f++)
        for (int k = 0; k < KINDS; k++) {
            const struct kind *kd = &kinds[k];
            int c[8], nc = counts(kd->size, c);
            for (int j = 0; j < nc; j++) {
                unsigned seed = (unsigned)(100 * f + 10 * k + j);
                int tag = 1 + j, got = -1;
                if (ot_rank == 0) {
                    fill(kd, out, c[j], seed);
                    MPI_CHECK(MPI_Recv(NULL, 0, MPI_BYTE, 1, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                    send_form(f, out, c[j], kd->t, tag);
                } else {
                    MPI_Request r;
                    MPI_Status st;
                    memset(in, 0xA5, sizeof in);
                    MPI_CHECK(MPI_Irecv(in, MAXB / kd->size, kd->t, 0, tag, MPI_COMM_WORLD, &r));
                    MPI_CHECK(MPI_Send(NULL, 0, MPI_BYTE, 0, 99, MPI_COMM_WORLD));
                    MPI_CHECK(MPI_Wait(&r, &st));
                    MPI_CHECK(MPI_Get_count(&st, kd->t, &got));
                    CHECK(got == c[j], "form %d %s: count %d received as %d", f, kd->name, c[j], got);
                    fill(kd, want, c[j], seed);
                    CHECK(same(kd, in, want, c[j]), "form %d %s count %d: wrong values", f,
                          kd->name, c[j]);
                }
            }
        }
}

/* Empty messages from a NULL buffer; a send to MPI_PROC_NULL. */
static void empty(void)
{
    int got = -1;
    MPI_Status st;
    MPI_Request r;
    if (ot_rank == 0) {
        MPI_CHECK(MPI_Send(NULL, 0, MPI_INT, 1, 20, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Isend(NULL, 0, MPI_DOUBLE, 1, 21, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        MPI_CHECK(MPI_Send(out, 8, MPI_INT, MPI_PROC_NULL, 22, MPI_COMM_WORLD));
        MPI_CHECK(MPI_Isend(out, 8, MPI_INT, MPI_PROC_NULL, 22, MPI_COMM_WORLD, &r));
        MPI_CHECK(MPI_Wait(&r, &st));
        CHECK(st.MPI_SOURCE == MPI_PROC_NULL, "Isend to MPI_PROC_NULL: source %d", st.MPI_SOURCE);
        MPI_CHECK(MPI_Send(out, 1, MPI_INT, 1, 23, MPI_COMM_WORLD));
    } else {
        for (int tag = 20; tag <= 21; tag++) {
            MPI_CHECK(MPI_Recv(in, 4, MPI_INT, 0, tag, MPI_COMM_WORLD, &st));
            MPI_CHECK(MPI_Get_count(&st, MPI_INT, &got));
            CHECK(got == 0, "tag %d: empty message received as count %d", tag, got);
        }
        /* Nothing of tag 22 came: the next message is tag 23's. */
        MPI_CHECK(MPI_Recv(in, 4, MPI_INT, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
        CHECK(st.MPI_TAG == 23, "after the MPI_PROC_NULL sends: tag %d arrived", st.MPI_TAG);
    }
}

/* Messages of both paths on one tag: 8 B (straight line), 300 B,
 * 3 x MPI_SHORT_INT (packed, general path), 100 KiB (rendezvous), in send order. */
static void order(void)
{
    enum { N = 400, BIG = 100 * 1024 };
    static unsigned char big[BIG];
    static unsigned char bin[BIG];
    short_int si[3], so[3];
    for (int i = 0; i < N; i++) {
        int which = (i * 7) % 5;
        if (ot_rank == 0) {
            uint32_t v[75];
            for (int k = 0; k < 75; k++)
                v[k] = (uint32_t)(i * 1000 + k);
            if (which == 0 || which == 4)
                MPI_CHECK(MPI_Send(v, 2, MPI_UINT32_T, 1, 30, MPI_COMM_WORLD));
            else if (which == 1) {
                MPI_Request r;
                MPI_CHECK(MPI_Isend(v, 75, MPI_UINT32_T, 1, 30, MPI_COMM_WORLD, &r));
                MPI_CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE));
            } else if (which == 2) {
                fill(&kinds[5], so, 3, (unsigned)i);
                MPI_CHECK(MPI_Send(so, 3, MPI_SHORT_INT, 1, 30, MPI_COMM_WORLD));
            } else {
                memset(big, i & 0xff, BIG);
                MPI_CHECK(MPI_Send(big, BIG, MPI_BYTE, 1, 30, MPI_COMM_WORLD));
            }
        } else {
            MPI_Status st;
            int got = -1;
            if (which == 2) {
                short_int w[3];
                MPI_CHECK(MPI_Recv(si, 3, MPI_SHORT_INT, 0, 30, MPI_COMM_WORLD, &st));
                fill(&kinds[5], w, 3, (unsigned)i);
                CHECK(same(&kinds[5], si, w, 3), "message %d (3 MPI_SHORT_INT) out of order", i);
            } else if (which == 3) {
                MPI_CHECK(MPI_Recv(bin, BIG, MPI_BYTE, 0, 30, MPI_COMM_WORLD, &st));
                MPI_CHECK(MPI_Get_count(&st, MPI_BYTE, &got));
                CHECK(got == BIG && bin[0] == (i & 0xff) && bin[BIG - 1] == (i & 0xff),
                      "message %d (100 KiB) out of order", i);
            } else {
                uint32_t v[75];
                int n = which == 1 ? 75 : 2;
                MPI_CHECK(MPI_Recv(v, 75, MPI_UINT32_T, 0, 30, MPI_COMM_WORLD, &st));
                MPI_CHECK(MPI_Get_count(&st, MPI_UINT32_T, &got));
                CHECK(got == n && v[0] == (uint32_t)(i * 1000) && v[n - 1] == (uint32_t)(i * 1000 + n - 1),
                      "message %d (%d x 4 B) out of order: count %d, first %u", i, n, got, v[0]);
            }
        }
    }
}

int main(int argc, char **argv)
{
    ot_init("p2p16_small_types", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    if (ot_rank <= 1) {
        types();
        empty();
        order();
    }
    ot_pass();
    return 0;
}
