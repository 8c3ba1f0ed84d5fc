# Tutorial: reductions with location: allreduce with MPI.MINLOC / MPI.MAXLOC, both the
# Python-object form and the buffer form on MPI.DOUBLE_INT pairs.
# np: 4
# expect: allreduce_minloc: OK min \(-3\.0, 3\) max \(9\.0, 1\)
import numpy
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
assert size == 4

values = [5.0, 9.0, 2.0, -3.0]
mine = values[rank]
lo = comm.allreduce((mine, rank), op=MPI.MINLOC)
hi = comm.allreduce((mine, rank), op=MPI.MAXLOC)
assert lo == (-3.0, 3), lo
assert hi == (9.0, 1), hi

# buffer form: (double, int) pairs, laid out as C's struct { double; int; } (extent 16)
pair = numpy.dtype([("val", "f8"), ("loc", "i4")], align=True)
sbuf = numpy.array([(mine, rank)], dtype=pair)
rbuf = numpy.empty(1, dtype=pair)
comm.Allreduce([sbuf, MPI.DOUBLE_INT], [rbuf, MPI.DOUBLE_INT], op=MPI.MINLOC)
assert (rbuf[0]["val"], rbuf[0]["loc"]) == (-3.0, 3), rbuf

if rank == 0:
    print(f"allreduce_minloc: OK min {lo} max {hi}", flush=True)
