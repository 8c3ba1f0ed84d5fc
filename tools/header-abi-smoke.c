/* Header ABI smoke test: compiled against OxiMPI's include/mpi.h and linked against MPICH's
 * libmpich, it must pass on 2 ranks. This proves the header's handles, constants, status layout,
 * callback types and prototypes are binary-compatible with MPICH. (Also builds as C++.) */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int fails = 0;
#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s\n", __LINE__, #c); fails++; } } while (0)

static void my_sum(void *in, void *inout, int *len, MPI_Datatype *dt) {
    int i; (void)dt;
    for (i = 0; i < *len; i++) ((int *)inout)[i] += ((int *)in)[i];
}

int main(int argc, char **argv) {
    int rank, size, provided, flag, count, keyval, *tagub, val = 42, i;
    MPI_Status st;
    MPI_Count c;
    MPI_Comm dup, split;
    MPI_Datatype vec;
    MPI_Op op;
    MPI_Info info;
    char buf[MPI_MAX_INFO_VAL];
    MPI_Aint lb, ext;
    struct { double d; int i; } in, out;

    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    CHECK(size == 2);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);

    /* point-to-point with status fields and large-count query */
    if (rank == 0) {
        int data[5] = {1, 2, 3, 4, 5};
        MPI_Send(data, 5, MPI_INT, 1, 7, MPI_COMM_WORLD);
        MPI_Send_c(data, (MPI_Count)3, MPI_INT, 1, 8, MPI_COMM_WORLD);
    } else {
        int data[5];
        MPI_Recv(data, 5, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 7);
        MPI_Get_count(&st, MPI_INT, &count);
        CHECK(count == 5 && data[4] == 5);
        MPI_Recv(data, 5, MPI_INT, 0, 8, MPI_COMM_WORLD, &st);
        MPI_Get_count_c(&st, MPI_INT, &c);
        CHECK(c == 3);
        MPI_Test_cancelled(&st, &flag);
        CHECK(!flag);
    }
    CHECK(sizeof(MPI_Status) == 20);

    /* collectives with user op and MPI_IN_PLACE, pair type */
    MPI_Op_create(my_sum, 1, &op);
    val = rank + 1;
    MPI_Allreduce(MPI_IN_PLACE, &val, 1, MPI_INT, op, MPI_COMM_WORLD);
    CHECK(val == 3);
    MPI_Op_free(&op);
    CHECK(op == MPI_OP_NULL);
    in.d = rank * 2.0; in.i = rank;
    MPI_Allreduce(&in, &out, 1, MPI_DOUBLE_INT, MPI_MAXLOC, MPI_COMM_WORLD);
    CHECK(out.d == 2.0 && out.i == 1);

    /* communicators, attributes, dup callback, compare */
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tagub, &flag);
    CHECK(flag && *tagub >= 32767);
    MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &keyval, NULL);
    MPI_Comm_set_attr(MPI_COMM_WORLD, keyval, &val);
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    {
        int *got;
        MPI_Comm_get_attr(dup, keyval, &got, &flag);
        CHECK(flag && got == &val);
    }
    MPI_Comm_compare(MPI_COMM_WORLD, dup, &flag);
    CHECK(flag == MPI_CONGRUENT);
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &split);
    CHECK(split != MPI_COMM_NULL);
    MPI_Comm_free(&split);
    MPI_Comm_free(&dup);
    CHECK(dup == MPI_COMM_NULL);
    MPI_Comm_free_keyval(&keyval);

    /* datatypes */
    MPI_Type_vector(3, 1, 2, MPI_DOUBLE, &vec);
    MPI_Type_commit(&vec);
    MPI_Type_get_extent(vec, &lb, &ext);
    CHECK(lb == 0 && ext == 5 * (MPI_Aint)sizeof(double));
    {
        int ni, na, nd, comb;
        MPI_Type_get_envelope(vec, &ni, &na, &nd, &comb);
        CHECK(comb == MPI_COMBINER_VECTOR);
    }
    MPI_Type_free(&vec);

    /* info and errors */
    MPI_Info_create(&info);
    MPI_Info_set(info, "key", "value");
    MPI_Info_get(info, "key", MPI_MAX_INFO_VAL - 1, buf, &flag);
    CHECK(flag && strcmp(buf, "value") == 0);
    MPI_Info_free(&info);
    CHECK(MPI_Send(&val, 1, MPI_INT, 5, 0, MPI_COMM_WORLD) != MPI_SUCCESS);
    {
        int cls, rc = MPI_Send(&val, 1, MPI_INT, 0, -5, MPI_COMM_WORLD);
        MPI_Error_class(rc, &cls);
        CHECK(cls == MPI_ERR_TAG);
    }

    /* requests with MPI_STATUSES_IGNORE, proc null */
    {
        MPI_Request r[2];
        MPI_Isend(&val, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &r[0]);
        MPI_Irecv(&val, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &r[1]);
        MPI_Waitall(2, r, MPI_STATUSES_IGNORE);
        CHECK(r[0] == MPI_REQUEST_NULL && r[1] == MPI_REQUEST_NULL);
    }
    for (i = 0; i < 1; i++) MPI_Barrier(MPI_COMM_WORLD);
    printf("rank %d: %s\n", rank, fails ? "FAILED" : "ok");
    MPI_Finalize();
    return fails != 0;
}
