#!/bin/sh
# Noncontiguous (vector, struct) ping-pong, OxiMPI against MPICH, at 2 ranks: each
# configuration runs
# RUNS times (default 3) and the median of the per-run medians is reported with the ratio
# oximpi/mpich (below 1: OxiMPI is faster). Needs scripts/build.sh to have run.
set -eu
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
runs=${RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/build/bin/mpicc" -O2 -o "$tmp/dtype_oxi" "$root/bench/dtype.c"
/usr/bin/mpicc.mpich -O2 -o "$tmp/dtype_mpich" "$root/bench/dtype.c"
for np in 2; do
    for i in $(seq "$runs"); do
        timeout 300 "$root/build/bin/mpiexec" -n "$np" "$tmp/dtype_oxi" > "$tmp/oxi.$np.$i"
        timeout 300 /usr/bin/mpiexec.mpich -n "$np" "$tmp/dtype_mpich" > "$tmp/mpich.$np.$i"
    done
    echo "== $np ranks (usec, median of $runs runs)"
    printf '%-10s %8s %10s %10s %7s\n' op bytes oximpi mpich ratio
    cat "$tmp"/oxi."$np".* | awk '{print $1, $2}' | sort -u -k1,1 -k2n | while read -r op bytes; do
        med() { cat "$tmp"/"$1"."$np".* | awk -v o="$op" -v b="$bytes" '$1==o && $2==b {print $3}' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
        o=$(med oxi); m=$(med mpich)
        printf '%-10s %8s %10s %10s %7.2f\n' "$op" "$bytes" "$o" "$m" "$(echo "$o $m" | awk '{print $1/$2}')"
    done
done
