#!/bin/bash
# Check that no process started by the test runs of this tree is still alive: a launcher or a
# rank that outlives its test (a spawned child nobody waited for, a rank that missed its
# job's end, a name server left behind) is a bug even when every test passed.
#
# usage: tests-c/leftovers.sh [--grace SECONDS]
#
# A process is a leftover when it is alive (not a zombie), is not this script or one of its
# ancestors, and
#   - its executable lives under build/tests-c/ (C tests, any mode) or is build/bin/mpiexec; or
#   - its environment has OXIMPI_JOB_SECRET (started by our mpiexec: ranks, spawned children,
#     Python ranks of tests-py) and it belongs to this tree (its executable, working directory
#     or a command-line argument is under it); or
#   - it is MPICH's hydra (mpiexec.hydra, hydra_pmi_proxy, hydra_nameserver) working in this
#     tree (the MPICH reference runs).
# Processes of other clones on the same machine are never blamed. Processes get --grace
# seconds (default 10) to finish exiting before the verdict. Prints each leftover (pid, parent,
# age in seconds, why, command line) and exits 1; prints "no leftover processes" and exits 0
# otherwise.
set -u
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
grace=10
while [ $# -gt 0 ]; do
    case $1 in
        --grace) grace=${2:?--grace needs a value}; shift 2 ;;
        --grace=*) grace=${1#*=}; shift ;;
        -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "leftovers.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

# This script and its ancestors (e.g. a scripts/test.sh run from a test's directory).
declare -A mine=()
p=$$
while [ -n "$p" ] && [ "$p" -gt 0 ]; do
    mine[$p]=1
    p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
done

under_root() {
    case $1 in "$root" | "$root"/*) return 0 ;; esac
    return 1
}

# why PID: prints the reason PID is a leftover, or nothing.
why() {
    local pid=$1 exe cwd state
    state=$(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || return
    [ -n "$state" ] && [ "$state" != Z ] || return
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || exe=
    exe=${exe% (deleted)} # a test binary rebuilt while the old one still runs
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || cwd=
    case $exe in
        "$root"/build/tests-c/*) echo "test program"; return ;;
        "$root"/build/bin/mpiexec) echo "our mpiexec"; return ;;
    esac
    # (/proc/PID/environ is unreadable for kernel threads and other users' processes.)
    if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -q '^OXIMPI_JOB_SECRET='; then
        if under_root "$exe" || under_root "$cwd"; then
            echo "rank of our mpiexec"
            return
        fi
        local arg
        while IFS= read -r -d '' arg; do
            if under_root "$arg"; then
                echo "rank of our mpiexec"
                return
            fi
        done < <(cat "/proc/$pid/cmdline" 2>/dev/null)
    fi
    case ${exe##*/} in
        mpiexec.hydra | hydra_pmi_proxy | hydra_nameserver)
            under_root "$cwd" && echo "MPICH hydra"
            ;;
    esac
}

scan() {
    local d pid reason
    found=()
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [ -z "${mine[$pid]:-}" ] || continue
        reason=$(why "$pid")
        [ -n "$reason" ] && found+=("$pid|$reason")
    done
}

deadline=$((SECONDS + grace))
scan
while [ ${#found[@]} -gt 0 ] && [ $SECONDS -lt "$deadline" ]; do
    sleep 1
    scan
done

if [ ${#found[@]} -eq 0 ]; then
    echo "no leftover processes"
    exit 0
fi
lines=()
for entry in "${found[@]}"; do
    pid=${entry%%|*}
    reason=${entry#*|}
    info=$(ps -o ppid=,etimes= -p "$pid" 2>/dev/null |
        awk '{ printf "parent %s, age %ss", $1, $2 }')
    cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-200)
    [ -n "$cmd" ] || continue # exited while we were looking
    lines+=("  pid $pid ($info; $reason): $cmd")
done
if [ ${#lines[@]} -eq 0 ]; then
    echo "no leftover processes"
    exit 0
fi
echo "leftover processes (still alive ${grace}s after the tests):"
printf '%s\n' "${lines[@]}"
exit 1
