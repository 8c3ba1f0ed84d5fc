#!/bin/sh
# Shared engine of run_coll.sh and run_dtype.sh: build one benchmark source with every
# implementation's compiler wrapper, run it alternately, print a table of medians.
#
# usage: bench/compare.sh SOURCE.c   (environment: RUNS, default 3; NPS, default "2";
#                                     IMPLS, default "oximpi mpich openmpi")
#
# The benchmark must print lines "name bytes usec" on rank 0. For each rank count in NPS every
# implementation runs RUNS times, alternating (oximpi, mpich, openmpi, oximpi, ...) so that
# machine noise hits all of them alike; the table gives, per (name, bytes), the median over the
# runs and the ratios oximpi/mpich and oximpi/openmpi (below 1: OxiMPI is faster). A run that
# fails or times out is reported, left out of the medians, and makes the exit status 1.
# Binaries and raw outputs (IMPL.NP.RUN, with .err) stay in build/bench/NAME/ for a look
# afterwards. OxiMPI must have been built (scripts/build.sh); Open MPI comes from
# bench/openmpi.sh and, if it cannot be had, is left out with "Open MPI: not available (reason)".
set -eu
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
src=$1
runs=${RUNS:-3}
nps=${NPS:-2}
impls=${IMPLS:-oximpi mpich openmpi}
name=$(basename -- "$src" .c)
raw=$root/build/bench/$name
mkdir -p "$raw"
rm -f "$raw"/*.[0-9]*

ompi_cc= ompi_exec=
case " $impls " in
    *" openmpi "*)
        if ompi=$("$here/openmpi.sh"); then
            ompi_cc=$(printf '%s\n' "$ompi" | sed -n 1p)
            ompi_exec=$(printf '%s\n' "$ompi" | sed -n 2p)
        else
            echo "Open MPI: not available ($ompi)"
            impls=$(printf '%s\n' $impls | grep -vx openmpi | tr '\n' ' ')
        fi
        ;;
esac

impl_cc() {
    case $1 in
        oximpi) echo "$root/build/bin/mpicc" ;;
        mpich) echo /usr/bin/mpicc.mpich ;;
        openmpi) echo "$ompi_cc" ;;
    esac
}
# The launcher command line; it may carry options, so callers leave it unquoted.
impl_exec() {
    case $1 in
        oximpi) echo "$root/build/bin/mpiexec" ;;
        mpich) echo /usr/bin/mpiexec.mpich ;;
        openmpi) echo "$ompi_exec" ;;
    esac
}

for impl in $impls; do
    "$(impl_cc "$impl")" -O2 -o "$raw/bench-$impl" "$src"
done

failed=0
for np in $nps; do
    for i in $(seq "$runs"); do
        for impl in $impls; do
            out=$raw/$impl.$np.$i
            # shellcheck disable=SC2046  # the launcher string may carry options
            if ! timeout -k 5 300 $(impl_exec "$impl") -n "$np" "$raw/bench-$impl" \
                </dev/null >"$out" 2>"$out.err"; then
                echo "bench: $impl -n $np run $i failed:" >&2
                tail -n 5 "$out.err" >&2
                rm -f "$out"
                failed=1
            fi
        done
    done
    echo "== $np ranks (usec, median of $runs runs)"
    # "impl name bytes usec" for every line of every successful run, then one awk pass that
    # prints the table in the benchmark's own order of (name, bytes).
    for impl in $impls; do
        for f in "$raw/$impl.$np".*; do
            case $f in *.err) continue ;; esac
            [ -f "$f" ] && awk -v im="$impl" 'NF == 3 { print im, $1, $2, $3 }' "$f"
        done
    done | awk -v impls="$impls" '
        function median(k,    n, i, j, t, a) {
            n = cnt[k]
            if (n == 0) return ""
            for (i = 1; i <= n; i++) a[i] = val[k, i]
            for (i = 2; i <= n; i++)            # insertion sort: a handful of runs
                for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
            return a[int((n + 1) / 2)]
        }
        {
            row = $2 " " $3
            if (!(row in seen)) { seen[row] = 1; rows[++nrows] = row }
            k = $1 SUBSEP row
            val[k, ++cnt[k]] = $4
        }
        END {
            ni = split(impls, im, " ")
            printf "%-10s %8s", "op", "bytes"
            for (i = 1; i <= ni; i++) printf " %10s", im[i]
            for (i = 2; i <= ni; i++) printf " %14s", im[1] "/" im[i]
            printf "\n"
            for (r = 1; r <= nrows; r++) {
                split(rows[r], nb, " ")
                printf "%-10s %8s", nb[1], nb[2]
                for (i = 1; i <= ni; i++) {
                    m[i] = median(im[i] SUBSEP rows[r])
                    printf " %10s", m[i] == "" ? "-" : m[i]
                }
                for (i = 2; i <= ni; i++) {
                    if (m[1] == "" || m[i] == "" || m[i] + 0 == 0) printf " %14s", "-"
                    else printf " %14.2f", m[1] / m[i]
                }
                printf "\n"
            }
        }'
done
exit $failed
