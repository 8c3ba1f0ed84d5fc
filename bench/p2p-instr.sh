#!/bin/sh
# Instructions per small-message call under callgrind (issue 13): builds bench/p2p_instr.c
# with build/bin/mpicc, runs it on 2 ranks under valgrind, and prints for each rank the
# inclusive instructions per call of the point-to-point functions, then rank 0's receives
# of queued messages (recv_unexpected: one call makes N/10 receives). See p2p_instr.c for what
# each figure includes.
#
# usage: bench/p2p-instr.sh [N] [LIBDIR]   (N: iterations, default 2000; LIBDIR: a directory
#        holding another libmpi.so.12 to measure, e.g. a copy of the base build's)
set -eu
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
n=${1:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/build/bin/mpicc" -O2 -o "$tmp/p2p_instr" "$root/bench/p2p_instr.c"
run() { # run TOGGLE: one callgrind run, collecting only inside functions matching TOGGLE
    LD_LIBRARY_PATH=${2:-${LD_LIBRARY_PATH:-}} timeout 600 "$root/build/bin/mpiexec" -n 2 \
        valgrind --tool=callgrind --toggle-collect="$1" \
        --callgrind-out-file="$tmp/cg.$1.%p" "$tmp/p2p_instr" "$n" >/dev/null 2>&1
}
lib=${2:-}
run 'PMPI_*' "$lib"
for f in "$tmp"/cg.PMPI_*; do
    echo "== rank file ${f##*.}"
    python3 "$root/bench/callgrind-calls.py" "$f" 'PMPI_(Send|Recv|Isend|Irecv|Waitall|Iprobe|Ssend)'
done
run recv_unexpected "$lib"
for f in "$tmp"/cg.recv_unexpected.*; do
    python3 "$root/bench/callgrind-calls.py" "$f" recv_unexpected
done | grep -v ' calls        0 '
