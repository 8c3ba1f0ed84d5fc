# mpi4py.futures without spawning: `python -m mpi4py.futures SCRIPT` on 4 ranks makes rank 0
# run this script as the client and ranks 1-3 its workers (MPI_COMM_WORLD split into client
# and workers). Maps a function over range(100) and checks that the results are complete, in
# order, and were computed by the worker ranks, not by the client.
# np: 4
# run: -m mpi4py.futures examples/py/dpm_futures_script.py
# expect: futures ok
import sys

from mpi4py import MPI
from mpi4py.futures import MPIPoolExecutor


def cube_on(x):
    return x * x * x, MPI.COMM_WORLD.Get_rank()


def main():
    with MPIPoolExecutor() as pool:
        results = list(pool.map(cube_on, range(100), chunksize=5))
    values = [v for v, _ in results]
    ranks = {r for _, r in results}
    if values != [x * x * x for x in range(100)]:
        print("futures FAILED: wrong or missing results", flush=True)
        sys.exit(1)
    if not ranks <= {1, 2, 3}:
        print(f"futures FAILED: ran on ranks {sorted(ranks)}, expected workers 1-3", flush=True)
        sys.exit(1)
    print(f"futures ok (workers used: {sorted(ranks)})", flush=True)


if __name__ == "__main__":
    main()
