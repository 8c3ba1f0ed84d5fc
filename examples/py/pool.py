# mpi4py.futures with spawned workers: started as a single process (mpiexec -n 1),
# MPIPoolExecutor spawns its workers with MPI_Comm_spawn and maps a function over range(100)
# on them; the results must come back complete and in order.
# np: 1
# expect: pool ok
import sys

from mpi4py.futures import MPIPoolExecutor


def affine(x):
    return 3 * x * x + 2 * x + 1


def main():
    expected = [affine(x) for x in range(100)]
    with MPIPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(affine, range(100), chunksize=7))
    if got != expected:
        wrong = [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]
        print(f"pool FAILED: {len(got)} results, first wrong index {wrong[:1]}", flush=True)
        sys.exit(1)
    print("pool ok", flush=True)


if __name__ == "__main__":
    main()
