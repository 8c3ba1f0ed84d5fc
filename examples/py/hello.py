# Tutorial: hello world. Every rank reports itself; rank 0 checks that all did.
# np: 4
# expect-count: 4 Hello, World! I am process [0-3] of 4 on \S+\.
# expect: hello: OK
from mpi4py import MPI

comm = MPI.COMM_WORLD
size = comm.Get_size()
rank = comm.Get_rank()
name = MPI.Get_processor_name()
print(f"Hello, World! I am process {rank} of {size} on {name}.", flush=True)

ranks = comm.gather(rank, root=0)
if rank == 0:
    assert ranks == list(range(size)), ranks
    print("hello: OK", flush=True)
