# Tutorial: broadcasting a Python dictionary.
# np: 4
# expect-count: 4 bcast_dict: rank [0-3] got \{'key1': \[7, 2\.72, \(2\+3j\)\], 'key2': \('abc', 'xyz'\)\}
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()

if rank == 0:
    data = {"key1": [7, 2.72, 2 + 3j], "key2": ("abc", "xyz")}
else:
    data = None
data = comm.bcast(data, root=0)
assert data == {"key1": [7, 2.72, 2 + 3j], "key2": ("abc", "xyz")}, data
print(f"bcast_dict: rank {rank} got {data}", flush=True)
