# Tutorial: scattering and gathering Python objects (lists).
# np: 4
# expect: scatter_gather: OK \[1, 4, 9, 16\]
from mpi4py import MPI

comm = MPI.COMM_WORLD
size = comm.Get_size()
rank = comm.Get_rank()

if rank == 0:
    data = [(i + 1) ** 2 for i in range(size)]
else:
    data = None
item = comm.scatter(data, root=0)
assert item == (rank + 1) ** 2, item

gathered = comm.gather(item, root=0)
if rank == 0:
    assert gathered == [(i + 1) ** 2 for i in range(size)], gathered
    print(f"scatter_gather: OK {gathered}", flush=True)
else:
    assert gathered is None
