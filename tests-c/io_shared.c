/* MPI-IO shared file pointer: independent shared writes (each record exactly once),
 * ordered writes and reads (exact rank order), seek_shared / get_position_shared, split
 * ordered collectives, and MPI_MODE_SEQUENTIAL. */
#include "oxitest.h"
#include <unistd.h>

#define REC 4 /* ints per record */

static void tmpname(char *out, size_t n, const char *tag)
{
    const char *d = getenv("TMPDIR");
    if (!d || !*d)
        d = "/tmp";
    int pid = (int)getpid();
    MPI_CHECK(MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD));
    snprintf(out, n, "%s/oxi_io_shared_%s_%d", d, tag, pid);
}

int main(int argc, char **argv)
{
    ot_init("io_shared", &argc, &argv);
    int rank = ot_rank, size = ot_size;
    char name[512], seqname[512];
    tmpname(name, sizeof name, "a");
    tmpname(seqname, sizeof seqname, "seq");
    MPI_File fh;
    MPI_Status st;
    int count;
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_RDWR | MPI_MODE_CREATE
                            | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL, &fh));
    MPI_CHECK(MPI_File_set_view(fh, 0, MPI_INT, MPI_INT, "native", MPI_INFO_NULL));

    /* Each rank appends rank+1 records through the shared pointer. */
    int nrec = rank + 1, rec[REC];
    for (int k = 0; k < nrec; k++) {
        for (int i = 0; i < REC; i++)
            rec[i] = (rank * 100 + k) * 10 + i;
        MPI_CHECK(MPI_File_write_shared(fh, rec, REC, MPI_INT, &st));
        MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
        CHECK(count == REC, "write_shared count %d", count);
    }
    MPI_CHECK(MPI_File_sync(fh));
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_File_sync(fh));
    int nall = size * (size + 1) / 2;
    MPI_Offset sp, fsize;
    MPI_CHECK(MPI_File_get_size(fh, &fsize));
    CHECK(fsize == (MPI_Offset)nall * REC * 4, "size %lld after shared writes, expected %d",
          (long long)fsize, nall * REC * 4);
    int *all = malloc(sizeof(int) * nall * REC);
    MPI_CHECK(MPI_File_read_at(fh, 0, all, nall * REC, MPI_INT, &st));
    /* Every record whole, each (rank, k) exactly once. */
    int *seen = calloc(size * size, sizeof(int));
    for (int j = 0; j < nall; j++) {
        int id = all[j * REC] / 10, r = id / 100, k = id % 100;
        CHECK(r >= 0 && r < size && k <= r, "bad record id %d", id);
        for (int i = 0; i < REC; i++)
            CHECK(all[j * REC + i] == id * 10 + i, "torn record %d", j);
        seen[r * size + k]++;
    }
    for (int r = 0; r < size; r++)
        for (int k = 0; k <= r; k++)
            CHECK(seen[r * size + k] == 1, "record (%d,%d) seen %d times", r, k,
                  seen[r * size + k]);

    /* Ordered: after the shared records, rank r writes r+1 ints in rank order. */
    int mine[8];
    for (int i = 0; i <= rank; i++)
        mine[i] = 5000 + rank * 10 + i;
    MPI_CHECK(MPI_File_write_ordered(fh, mine, rank + 1, MPI_INT, &st));
    MPI_CHECK(MPI_File_get_position_shared(fh, &sp));
    CHECK(sp == (MPI_Offset)nall * REC + nall, "shared position after ordered %lld",
          (long long)sp);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    int *ord = malloc(sizeof(int) * nall);
    MPI_CHECK(MPI_File_read_at(fh, nall * REC, ord, nall, MPI_INT, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == nall, "ordered data count %d", count);
    for (int r = 0, j = 0; r < size; r++)
        for (int i = 0; i <= r; i++, j++)
            CHECK(ord[j] == 5000 + r * 10 + i, "ordered[%d] = %d", j, ord[j]);

    /* Read them back in order from a shared position set collectively. */
    MPI_CHECK(MPI_File_seek_shared(fh, nall * REC, MPI_SEEK_SET));
    int back[8] = {0};
    MPI_CHECK(MPI_File_read_ordered(fh, back, rank + 1, MPI_INT, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == rank + 1, "read_ordered count %d", count);
    for (int i = 0; i <= rank; i++)
        CHECK(back[i] == mine[i], "read_ordered[%d] = %d", i, back[i]);

    /* Split ordered write at the end of the file, then read its size. */
    MPI_CHECK(MPI_File_seek_shared(fh, 0, MPI_SEEK_END));
    MPI_CHECK(MPI_File_write_ordered_begin(fh, mine, rank + 1, MPI_INT));
    MPI_CHECK(MPI_File_write_ordered_end(fh, mine, &st));
    MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == rank + 1, "write_ordered_end count %d", count);
    MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_CHECK(MPI_File_get_size(fh, &fsize));
    CHECK(fsize == (MPI_Offset)(nall * REC + 2 * nall) * 4, "size %lld", (long long)fsize);
    MPI_CHECK(MPI_File_seek_shared(fh, nall * REC + nall, MPI_SEEK_SET));
    MPI_CHECK(MPI_File_read_ordered_begin(fh, back, rank + 1, MPI_INT));
    MPI_CHECK(MPI_File_read_ordered_end(fh, back, &st));
    for (int i = 0; i <= rank; i++)
        CHECK(back[i] == mine[i], "split read_ordered[%d] = %d", i, back[i]);
    /* set_view puts the shared pointer back at 0. */
    MPI_CHECK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    MPI_CHECK(MPI_File_get_position_shared(fh, &sp));
    CHECK(sp == 0, "shared position after set_view %lld", (long long)sp);
    MPI_CHECK(MPI_File_close(&fh));

    /* Sequential files: only shared-pointer access; the ordered bytes are "abcd...". */
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, seqname, MPI_MODE_WRONLY | MPI_MODE_CREATE
                            | MPI_MODE_SEQUENTIAL, MPI_INFO_NULL, &fh));
    char c = (char)('a' + rank);
    MPI_CHECK(MPI_File_write_ordered(fh, &c, 1, MPI_CHAR, &st));
    CHECK_CLASS(MPI_File_write_at(fh, 0, &c, 1, MPI_CHAR, &st), MPI_ERR_UNSUPPORTED_OPERATION);
    MPI_CHECK(MPI_File_close(&fh));
    MPI_CHECK(MPI_File_open(MPI_COMM_WORLD, seqname, MPI_MODE_RDONLY | MPI_MODE_DELETE_ON_CLOSE,
                            MPI_INFO_NULL, &fh));
    char text[16] = {0};
    MPI_CHECK(MPI_File_read_at(fh, 0, text, size, MPI_CHAR, &st));
    for (int r = 0; r < size; r++)
        CHECK(text[r] == 'a' + r, "sequential file byte %d is '%c'", r, text[r]);
    MPI_CHECK(MPI_File_close(&fh));

    free(all);
    free(seen);
    free(ord);
    ot_pass();
    return 0;
}
