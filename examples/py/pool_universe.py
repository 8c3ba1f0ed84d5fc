# The seed example: `mpiexec -n 1 python pool_universe.py`. MPIPoolExecutor() with no
# arguments fills the rest of the universe (MPI_UNIVERSE_SIZE - 1 workers, spawned with
# MPI_Comm_spawn); map(compute, range(100)) must return the right list.
# np: 1
# expect: pool filled the universe: \d+ workers
import sys

from mpi4py import MPI
from mpi4py.futures import MPIPoolExecutor


def compute(x):
    return x * x - 1


def main():
    universe = MPI.COMM_WORLD.Get_attr(MPI.UNIVERSE_SIZE)
    if not universe or universe < 2:
        print(f"MPI_UNIVERSE_SIZE is {universe}: no room for workers", file=sys.stderr)
        return 1
    executor = MPIPoolExecutor()
    got = list(executor.map(compute, range(100)))
    workers = executor.num_workers
    executor.shutdown()
    if got != [compute(x) for x in range(100)]:
        print(f"wrong results: {got}", file=sys.stderr)
        return 1
    if workers != universe - 1:
        print(f"{workers} workers in a universe of {universe}", file=sys.stderr)
        return 1
    print(f"pool filled the universe: {workers} workers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
