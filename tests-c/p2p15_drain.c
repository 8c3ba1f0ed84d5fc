/* Runs of messages drained from the shared-memory fast boxes in one go (p2p15, issue 13):
 * the progress loop hands a run of plain eager messages straight to matching, and leaves
 * synchronous sends and larger messages to the per-message path. Every rank but 0 sends 0
 * a long run mixing sizes (ring records, queued cells, rendezvous), synchronous sends and
 * two tags; rank 0 has the first half of its receives posted before they arrive, and posts
 * the rest after a pause (those messages wait in the ring, the queue and the unexpected
 * queue), some with MPI_ANY_TAG. Checked: every message lands in its own receive (the order
 * of one sender is kept across ring, queue and both paths), its data, count, source, tag. */
#include "oxitest.h"
#include <unistd.h>

enum { N = 300, NS = 10 };
static const int sizes[NS] = {8, 0, 1, 32, 33, 8, 48, 200, 1024, 20000};

static int size_of(int i) { return sizes[i % NS]; }
static int tag_of(int i) { return i % 5 == 4 ? 2 : 1; }
static unsigned seed_of(int src, int i) { return 1000u * (unsigned)src + (unsigned)i; }

int main(int argc, char **argv)
{
    ot_init("p2p15_drain", &argc, &argv);
    MPI_Comm c = MPI_COMM_WORLD;
    for (int round = 0; round < 3; round++) {
        if (ot_rank != 0) {
            unsigned char **b = ot_malloc(N * sizeof *b);
            MPI_Request *r = ot_malloc(N * sizeof *r);
            for (int i = 0; i < N; i++) {
                b[i] = ot_malloc(size_of(i) + 1);
                ot_fill(b[i], size_of(i), seed_of(ot_rank, i));
                if (i % 7 == 3)
                    MPI_CHECK(MPI_Issend(b[i], size_of(i), MPI_BYTE, 0, tag_of(i), c, &r[i]));
                else
                    MPI_CHECK(MPI_Isend(b[i], size_of(i), MPI_BYTE, 0, tag_of(i), c, &r[i]));
            }
            MPI_CHECK(MPI_Waitall(N, r, MPI_STATUSES_IGNORE));
            for (int i = 0; i < N; i++)
                free(b[i]);
            free(b);
            free(r);
        } else {
            int senders = ot_size - 1, total = senders * N;
            unsigned char **b = ot_malloc(total * sizeof *b);
            MPI_Request *r = ot_malloc(total * sizeof *r);
            MPI_Status *st = ot_malloc(total * sizeof *st);
            /* Receive k is message i = k % N... of sender 1 + k / N, posted in two halves. */
            for (int half = 0; half < 2; half++) {
                for (int s = 1; s <= senders; s++)
                    for (int i = half * N / 2; i < (half + 1) * N / 2; i++) {
                        int k = (s - 1) * N + i;
                        int tag = i % 11 == 0 ? MPI_ANY_TAG : tag_of(i);
                        b[k] = ot_malloc(size_of(i) + 1);
                        MPI_CHECK(MPI_Irecv(b[k], size_of(i), MPI_BYTE, s, tag, c, &r[k]));
                    }
                if (half == 0)
                    usleep(20000);
            }
            MPI_CHECK(MPI_Waitall(total, r, st));
            for (int k = 0; k < total; k++) {
                int s = 1 + k / N, i = k % N, n;
                MPI_CHECK(MPI_Get_count(&st[k], MPI_BYTE, &n));
                CHECK(n == size_of(i), "round %d message %d of %d: count %d, want %d", round, i,
                      s, n, size_of(i));
                CHECK(st[k].MPI_SOURCE == s && st[k].MPI_TAG == tag_of(i),
                      "round %d message %d of %d: source %d tag %d", round, i, s,
                      st[k].MPI_SOURCE, st[k].MPI_TAG);
                long bad = ot_verify(b[k], size_of(i), seed_of(s, i));
                CHECK(bad < 0, "round %d message %d of %d: byte %ld differs", round, i, s, bad);
                free(b[k]);
            }
            free(b);
            free(r);
            free(st);
        }
        MPI_CHECK(MPI_Barrier(c));
    }
    return ot_pass();
}
