# A k-means-style loop: each rank owns a slice of the points, assigns them to the nearest
# centre, and Allreduce sums the per-centre coordinates and counts to move the centres.
# The result must equal a serial k-means on the same data (rank 0 checks).
# np: 4
# expect: kmeans: OK converged after [0-9]+ iterations, centres match the serial run
import numpy
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
k, dim = 3, 2

rng = numpy.random.default_rng(42)
truth = numpy.array([[0.0, 0.0], [10.0, 10.0], [-10.0, 5.0]])
points = numpy.concatenate([c + rng.normal(size=(200, dim)) for c in truth])
rng.shuffle(points)
start = points[:k].copy()


def step(pts, centres):
    near = numpy.argmin(((pts[:, None, :] - centres[None, :, :]) ** 2).sum(-1), axis=1)
    sums = numpy.zeros((k, dim))
    counts = numpy.zeros(k)
    for c in range(k):
        sums[c] = pts[near == c].sum(0)
        counts[c] = (near == c).sum()
    return sums, counts


mine = points[rank::size]
centres = start.copy()
for it in range(1, 100):
    sums, counts = step(mine, centres)
    comm.Allreduce(MPI.IN_PLACE, sums, op=MPI.SUM)
    comm.Allreduce(MPI.IN_PLACE, counts, op=MPI.SUM)
    new = sums / numpy.maximum(counts, 1)[:, None]
    moved = numpy.abs(new - centres).max()
    centres = new
    if moved < 1e-12:
        break
assert int(counts.sum()) == len(points)

# every rank holds the same centres
allc = comm.gather(centres, root=0)
if rank == 0:
    for c in allc:
        assert numpy.array_equal(c, centres)
    serial = start.copy()
    for _ in range(it):
        s, n = step(points, serial)
        serial = s / numpy.maximum(n, 1)[:, None]
    assert numpy.allclose(serial, centres, atol=1e-9), (serial, centres)
    print(f"kmeans: OK converged after {it} iterations, centres match the serial run", flush=True)
