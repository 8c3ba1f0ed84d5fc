#!/bin/sh
# Noncontiguous (vector, struct) ping-pong (bench/dtype.c), OxiMPI against MPICH and Open MPI,
# at 2 ranks: each configuration runs RUNS times (default 3), alternating implementations, and
# the median of the per-run medians is reported with the ratios oximpi/mpich and
# oximpi/openmpi (below 1: OxiMPI is faster).
# IMPLS="oximpi mpich" leaves Open MPI out. Needs scripts/build.sh to have run.
# See bench/compare.sh for the details.
set -eu
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
NPS=2 exec "$here/compare.sh" "$here/dtype.c"
