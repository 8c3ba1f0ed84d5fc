# Tutorial pattern: a parallel map. Rank 0 scatters chunks of work, every rank maps its
# chunk, allgather gives everybody the whole result.
# np: 3
# expect: parallel_map: OK 100 squares, sum 328350
from mpi4py import MPI

comm = MPI.COMM_WORLD
size = comm.Get_size()
rank = comm.Get_rank()

work = list(range(100))
chunks = [work[i::size] for i in range(size)] if rank == 0 else None
mine = comm.scatter(chunks, root=0)
mapped = [(x, x * x) for x in mine]
everything = comm.allgather(mapped)
result = dict(pair for part in everything for pair in part)
assert result == {x: x * x for x in work}
if rank == 0:
    print(f"parallel_map: OK {len(result)} squares, sum {sum(result.values())}", flush=True)
