/* Probe, Iprobe, Mprobe, Improbe, Mrecv, Imrecv: probes report source/tag/count without
 * receiving; matched probes remove the message from matching so a later receive cannot take
 * it; MPI_MESSAGE_NO_PROC from probing MPI_PROC_NULL. Rank 0 receives from every other rank. */
#include "oxitest.h"

int main(int argc, char **argv)
{
    ot_init("probe", &argc, &argv);
    CHECK(ot_size >= 2, "needs at least 2 ranks");
    int buf[5000];
    if (ot_rank == 0) {
        for (int src = 1; src < ot_size; src++) {
            MPI_Status st;
            int count = -1, flag = 0;
            /* 1. Probe (blocking) then Recv */
            MPI_CHECK(MPI_Probe(src, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
            MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
            CHECK(st.MPI_SOURCE == src && st.MPI_TAG == 1 && count == 10,
                  "Probe: source %d tag %d count %d", st.MPI_SOURCE, st.MPI_TAG, count);
            /* probing again sees the same message */
            MPI_CHECK(MPI_Iprobe(src, 1, MPI_COMM_WORLD, &flag, &st));
            CHECK(flag == 1 && st.MPI_TAG == 1, "second probe: flag %d tag %d", flag,
                  st.MPI_TAG);
            MPI_CHECK(MPI_Recv(buf, count, MPI_INT, src, 1, MPI_COMM_WORLD, &st));
            CHECK(buf[0] == src * 10 + 1 && buf[9] == src * 10 + 1, "Probe+Recv data");

            /* 2. Iprobe in a loop until the message shows up (with MPI_ANY_SOURCE for the last
             *    sender, when no other sender can have a tag-2 message pending) */
            int psrc = src == ot_size - 1 ? MPI_ANY_SOURCE : src;
            do {
                MPI_CHECK(MPI_Iprobe(psrc, 2, MPI_COMM_WORLD, &flag, &st));
            } while (!flag);
            MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
            CHECK(st.MPI_SOURCE == src && count == 5000, "Iprobe: source %d count %d",
                  st.MPI_SOURCE, count);
            MPI_CHECK(MPI_Recv(buf, count, MPI_INT, st.MPI_SOURCE, 2, MPI_COMM_WORLD, &st));
            CHECK(buf[4999] == src * 10 + 2, "Iprobe+Recv data");

            /* 3. Mprobe + Mrecv: two messages with the same tag; after Mprobe takes the first,
             *    an Iprobe must see the second (the first is no longer matchable). */
            MPI_Message msg = MPI_MESSAGE_NULL;
            MPI_CHECK(MPI_Mprobe(src, 3, MPI_COMM_WORLD, &msg, &st));
            CHECK(msg != MPI_MESSAGE_NULL, "Mprobe returned MPI_MESSAGE_NULL");
            MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
            CHECK(count == 3, "Mprobe count %d", count);
            do {
                MPI_CHECK(MPI_Iprobe(src, 3, MPI_COMM_WORLD, &flag, &st));
            } while (!flag);
            MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
            CHECK(count == 4, "Iprobe after Mprobe saw count %d: the matched message is still "
                              "matchable", count);
            MPI_CHECK(MPI_Mrecv(buf, 3, MPI_INT, &msg, &st));
            CHECK(msg == MPI_MESSAGE_NULL, "Mrecv did not set the message to MPI_MESSAGE_NULL");
            CHECK(buf[0] == src * 10 + 3 && buf[2] == src * 10 + 3 && st.MPI_TAG == 3,
                  "Mrecv data %d tag %d", buf[0], st.MPI_TAG);

            /* 4. Improbe (loop) + Imrecv of the second tag-3 message */
            flag = 0;
            while (!flag)
                MPI_CHECK(MPI_Improbe(src, 3, MPI_COMM_WORLD, &flag, &msg, &st));
            MPI_Request req;
            MPI_CHECK(MPI_Imrecv(buf, 4, MPI_INT, &msg, &req));
            CHECK(msg == MPI_MESSAGE_NULL, "Imrecv did not set the message to NULL");
            MPI_CHECK(MPI_Wait(&req, &st));
            MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
            CHECK(count == 4 && buf[3] == src * 10 + 4, "Imrecv count %d data %d", count,
                  buf[3]);

            /* 5. Nothing left from src: Iprobe and Improbe report no message */
            MPI_CHECK(MPI_Iprobe(src, 3, MPI_COMM_WORLD, &flag, &st));
            CHECK(flag == 0, "Iprobe found a message that was already received");
            MPI_CHECK(MPI_Improbe(src, 3, MPI_COMM_WORLD, &flag, &msg, &st));
            CHECK(flag == 0, "Improbe found a message that was already received");
        }
        /* MPI_PROC_NULL: MPI_MESSAGE_NO_PROC, and receiving it completes at once */
        MPI_Message msg;
        MPI_Status st;
        int flag = 0;
        MPI_CHECK(MPI_Mprobe(MPI_PROC_NULL, 0, MPI_COMM_WORLD, &msg, &st));
        CHECK(msg == MPI_MESSAGE_NO_PROC, "Mprobe(MPI_PROC_NULL) did not give NO_PROC");
        CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG,
              "Mprobe(PROC_NULL) status %d/%d", st.MPI_SOURCE, st.MPI_TAG);
        buf[0] = 77;
        MPI_CHECK(MPI_Mrecv(buf, 1, MPI_INT, &msg, &st));
        CHECK(msg == MPI_MESSAGE_NULL && buf[0] == 77 && st.MPI_SOURCE == MPI_PROC_NULL,
              "Mrecv(NO_PROC)");
        MPI_CHECK(MPI_Improbe(MPI_PROC_NULL, 0, MPI_COMM_WORLD, &flag, &msg, &st));
        CHECK(flag == 1 && msg == MPI_MESSAGE_NO_PROC, "Improbe(PROC_NULL) flag %d", flag);
        MPI_Request req;
        MPI_CHECK(MPI_Imrecv(buf, 1, MPI_INT, &msg, &req));
        MPI_CHECK(MPI_Wait(&req, &st));
        CHECK(buf[0] == 77 && st.MPI_SOURCE == MPI_PROC_NULL, "Imrecv(NO_PROC)");
        int count = -1;
        MPI_CHECK(MPI_Get_count(&st, MPI_INT, &count));
        CHECK(count == 0, "Imrecv(NO_PROC) count %d", count);
    } else {
        for (int i = 0; i < 10; i++)
            buf[i] = ot_rank * 10 + 1;
        MPI_CHECK(MPI_Send(buf, 10, MPI_INT, 0, 1, MPI_COMM_WORLD));
        for (int i = 0; i < 5000; i++)
            buf[i] = ot_rank * 10 + 2;
        MPI_CHECK(MPI_Send(buf, 5000, MPI_INT, 0, 2, MPI_COMM_WORLD));
        for (int i = 0; i < 3; i++)
            buf[i] = ot_rank * 10 + 3;
        MPI_CHECK(MPI_Send(buf, 3, MPI_INT, 0, 3, MPI_COMM_WORLD));
        for (int i = 0; i < 4; i++)
            buf[i] = ot_rank * 10 + 4;
        MPI_CHECK(MPI_Send(buf, 4, MPI_INT, 0, 3, MPI_COMM_WORLD));
    }
    return ot_pass();
}
