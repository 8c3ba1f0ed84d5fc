# Tutorial: non-blocking point-to-point communication of Python objects.
# np: 2
# expect: nb_dict: OK \{'a': 7, 'b': 3\.14\}
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()

if rank == 0:
    data = {"a": 7, "b": 3.14}
    req = comm.isend(data, dest=1, tag=11)
    req.wait()
elif rank == 1:
    req = comm.irecv(source=0, tag=11)
    data = req.wait()
    assert data == {"a": 7, "b": 3.14}, data
    print(f"nb_dict: OK {data}", flush=True)
