#!/bin/sh
# Collective latency (bench/coll.c: allreduce, bcast, alltoall, barrier), OxiMPI against MPICH
# and Open MPI, at 2 and 4 ranks (NPS="2" for 2 only): each configuration runs RUNS times
# (default 3), alternating implementations, and the median of the per-run medians is reported
# with the ratios oximpi/mpich and oximpi/openmpi (below 1: OxiMPI is faster).
# IMPLS="oximpi mpich" leaves Open MPI out. Needs scripts/build.sh to have run.
# See bench/compare.sh for the details.
set -eu
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
NPS=${NPS:-2 4} exec "$here/compare.sh" "$here/coll.c"
