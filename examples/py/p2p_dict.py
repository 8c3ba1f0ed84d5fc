# Tutorial: point-to-point communication of generic Python objects (pickled).
# np: 2
# expect: p2p_dict: OK \{'a': 7, 'b': 3\.14\}
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()

if rank == 0:
    data = {"a": 7, "b": 3.14}
    comm.send(data, dest=1, tag=11)
    back = comm.recv(source=1, tag=12)
    assert back == {"a": 8, "b": 6.28}, back
elif rank == 1:
    status = MPI.Status()
    data = comm.recv(source=0, tag=11, status=status)
    assert status.Get_source() == 0 and status.Get_tag() == 11
    print(f"p2p_dict: OK {data}", flush=True)
    comm.send({"a": data["a"] + 1, "b": data["b"] * 2}, dest=0, tag=12)
