# Tutorial: Allreduce of a NumPy array with MPI.SUM.
# np: 4
# expect: allreduce_sum: OK \[ ?6\. 10\. 14\.\]
import numpy
from mpi4py import MPI

comm = MPI.COMM_WORLD
size = comm.Get_size()
rank = comm.Get_rank()

sendbuf = numpy.array([rank, rank + 1, rank + 2], dtype="d")
recvbuf = numpy.empty_like(sendbuf)
comm.Allreduce(sendbuf, recvbuf, op=MPI.SUM)
expect = numpy.array([sum(r + k for r in range(size)) for k in range(3)], dtype="d")
assert (recvbuf == expect).all(), recvbuf

# in place, and the pickle-based lower-case form
buf = sendbuf.copy()
comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
assert (buf == expect).all(), buf
assert comm.allreduce(rank, op=MPI.SUM) == size * (size - 1) // 2

if rank == 0:
    print(f"allreduce_sum: OK {recvbuf}", flush=True)
