/* Sessions: init before MPI_Init, psets, group from pset, communicator from group with
 * traffic, session info and errhandler, then the World model alongside. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL sess_basic: " __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)

int main(int argc, char **argv)
{
    MPI_Session s;
    int flag = -1;
    CK(MPI_Session_init(MPI_INFO_NULL, MPI_ERRORS_RETURN, &s) == MPI_SUCCESS, "init");
    MPI_Initialized(&flag);
    CK(flag == 0, "Initialized true after Session_init");
    int np;
    CK(MPI_Session_get_num_psets(s, MPI_INFO_NULL, &np) == MPI_SUCCESS && np >= 2, "num psets %d", np);
    int found_world = 0;
    for (int i = 0; i < np; i++) {
        int len = 0;
        MPI_Session_get_nth_pset(s, MPI_INFO_NULL, i, &len, NULL);
        char *name = malloc(len);
        CK(MPI_Session_get_nth_pset(s, MPI_INFO_NULL, i, &len, name) == MPI_SUCCESS, "nth");
        if (strcmp(name, "mpi://WORLD") == 0)
            found_world = 1;
        free(name);
    }
    CK(found_world, "no mpi://WORLD");
    MPI_Group g;
    CK(MPI_Group_from_session_pset(s, "mpi://WORLD", &g) == MPI_SUCCESS, "group");
    int gs, gr;
    MPI_Group_size(g, &gs);
    MPI_Group_rank(g, &gr);
    MPI_Info pi;
    CK(MPI_Session_get_pset_info(s, "mpi://WORLD", &pi) == MPI_SUCCESS, "pset info");
    char v[64];
    MPI_Info_get(pi, "mpi_size", 63, v, &flag);
    CK(flag && atoi(v) == gs, "mpi_size %s", v);
    MPI_Info_free(&pi);
    MPI_Comm c;
    CK(MPI_Comm_create_from_group(g, "org.oximpi.test", MPI_INFO_NULL, MPI_ERRORS_RETURN, &c) == MPI_SUCCESS, "from group");
    int r, n;
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &n);
    CK(r == gr && n == gs, "rank/size");
    int tok = r, got = -1;
    MPI_Sendrecv(&tok, 1, MPI_INT, (r + 1) % n, 0, &got, 1, MPI_INT, (r + n - 1) % n, 0, c, MPI_STATUS_IGNORE);
    CK(got == (r + n - 1) % n, "ring %d", got);
    /* an error on the session goes to its handler (ERRORS_RETURN) */
    CK(MPI_Group_from_session_pset(s, "mpi://nope", &g) != MPI_SUCCESS, "unknown pset accepted");

    /* the World model alongside */
    MPI_Init(&argc, &argv);
    int wr;
    MPI_Comm_rank(MPI_COMM_WORLD, &wr);
    CK(wr == gr, "world rank %d vs %d", wr, gr);
    MPI_Comm_free(&c);
    MPI_Group_free(&g);
    MPI_Finalize();
    CK(MPI_Session_finalize(&s) == MPI_SUCCESS, "finalize");
    CK(s == MPI_SESSION_NULL, "session not NULL");
    if (gr == 0)
        printf("PASS sess_basic\n");
    return 0;
}
