# Tutorial: Send/Recv and Isend/Irecv of NumPy arrays (buffer-based, fast path),
# with explicit MPI datatypes and with automatic discovery of the datatype.
# np: 2
# expect: numpy_p2p: OK
import numpy
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
n = 1000

# passing MPI datatypes explicitly
if rank == 0:
    data = numpy.arange(n, dtype="i")
    comm.Send([data, MPI.INT], dest=1, tag=77)
elif rank == 1:
    data = numpy.empty(n, dtype="i")
    comm.Recv([data, MPI.INT], source=0, tag=77)
    assert (data == numpy.arange(n, dtype="i")).all()

# automatic MPI datatype discovery
if rank == 0:
    data = numpy.arange(n, dtype=numpy.float64)
    comm.Send(data, dest=1, tag=13)
elif rank == 1:
    data = numpy.empty(n, dtype=numpy.float64)
    comm.Recv(data, source=0, tag=13)
    assert (data == numpy.arange(n, dtype=numpy.float64)).all()

# non-blocking, both directions at once; a large array exercises the big-message path
big = 1 << 20
out = numpy.full(big, rank + 1.5, dtype=numpy.float64)
inp = numpy.empty(big, dtype=numpy.float64)
other = 1 - rank
reqs = [comm.Irecv(inp, source=other, tag=5), comm.Isend(out, dest=other, tag=5)]
MPI.Request.Waitall(reqs)
assert (inp == other + 1.5).all()

if rank == 1:
    print("numpy_p2p: OK", flush=True)
