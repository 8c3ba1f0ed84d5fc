#!/bin/bash
# Compile and run the self-checking C tests listed in tests-c/manifest.
#
# usage: tests-c/run.sh [--impl oximpi|mpich] [--abi ldpath|preload] [--filter REGEX]
#                       [--timeout SECONDS] [--keep-going-quiet]
#
#   --impl oximpi   (default) build with build/bin/mpicc, run with build/bin/mpiexec
#   --impl mpich    build with /usr/bin/mpicc.mpich, run with /usr/bin/mpiexec.mpich
#   --abi ldpath    build with /usr/bin/mpicc.mpich (MPICH's mpi.h), run with our mpiexec and
#                   LD_LIBRARY_PATH=build/lib (our libmpich.so.12 shim replaces MPICH's)
#   --abi preload   same, but LD_PRELOAD=build/lib/libmpi.so.12
#   --filter REGEX  only tests whose name matches (grep -E)
#   --timeout S     default per-run time limit (a manifest line can set its own)
#
# Prints one line per (test, rank count) run and a final line "N passed, N failed";
# exits non-zero if anything failed.
set -u

here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
impl=oximpi
abi=
filter=
default_timeout=${OXIMPI_TEST_TIMEOUT:-60}

while [ $# -gt 0 ]; do
    case $1 in
        --impl) impl=${2:?--impl needs a value}; shift 2 ;;
        --impl=*) impl=${1#*=}; shift ;;
        --abi) abi=${2:?--abi needs a value}; shift 2 ;;
        --abi=*) abi=${1#*=}; shift ;;
        --filter) filter=${2:?--filter needs a value}; shift 2 ;;
        --filter=*) filter=${1#*=}; shift ;;
        --timeout) default_timeout=${2:?--timeout needs a value}; shift 2 ;;
        --timeout=*) default_timeout=${1#*=}; shift ;;
        -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

mpich_cc=/usr/bin/mpicc.mpich
mpich_exec=/usr/bin/mpiexec.mpich
run_env=()          # extra environment for the job (ABI modes)
launcher_timeout=no # does the launcher take --timeout? (ours does; hydra uses MPIEXEC_TIMEOUT)

case $impl in
    oximpi) ;;
    mpich) [ -z "$abi" ] || { echo "run.sh: --abi runs on OxiMPI; drop --impl mpich" >&2; exit 2; } ;;
    *) echo "run.sh: --impl must be oximpi or mpich" >&2; exit 2 ;;
esac

case $abi in
    "")
        if [ "$impl" = mpich ]; then
            cc=$mpich_cc; mpiexec=$mpich_exec; mode=mpich
        else
            cc=$root/build/bin/mpicc; mpiexec=$root/build/bin/mpiexec; mode=oximpi
            launcher_timeout=yes
        fi
        ;;
    ldpath)
        cc=$mpich_cc; mpiexec=$root/build/bin/mpiexec; mode=abi-ldpath; launcher_timeout=yes
        run_env=("LD_LIBRARY_PATH=$root/build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
        ;;
    preload)
        cc=$mpich_cc; mpiexec=$root/build/bin/mpiexec; mode=abi-preload; launcher_timeout=yes
        run_env=("LD_PRELOAD=$root/build/lib/libmpi.so.12${LD_PRELOAD:+:$LD_PRELOAD}")
        ;;
    *) echo "run.sh: --abi must be ldpath or preload" >&2; exit 2 ;;
esac

for tool in "$cc" "$mpiexec"; do
    if [ ! -x "$tool" ]; then
        echo "run.sh: $tool not found (run 'make', or install mpich/libmpich-dev)" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done
if [ -n "$abi" ] && [ ! -e "$root/build/lib/libmpi.so.12" ]; then
    echo "run.sh: $root/build/lib/libmpi.so.12 missing (run 'make')" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

bindir=$root/build/tests-c/$mode
logdir=$bindir/logs
mkdir -p "$bindir" "$logdir"

passed=0
failed=0
failures=()

now() { echo "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# Print the last lines of a log, indented, so a failure explains itself in CI output.
show_log() {
    local f=$1
    [ -s "$f" ] && tail -n 15 "$f" | sed 's/^/      | /'
}

echo "tests-c: mode $mode, cc $cc, mpiexec $mpiexec"

# Manifest lines: NAME RANKS [key=value ...]   (see tests-c/manifest for the keys).
# NAME.c is compiled; if tests-c/NAME.sh exists, it is run instead of the program (with
# MPIEXEC, EXE, NP and TIMEOUT in its environment) and judged the same way.
while read -r name ranks opts; do
    case $name in "" | \#*) continue ;; esac
    if [ -n "$filter" ] && ! [[ $name =~ $filter ]]; then
        continue
    fi
    expect_exit=0
    expect_stderr=
    timeout_s=$default_timeout
    skip_modes=
    for opt in $opts; do
        case $opt in
            exit=*) expect_exit=${opt#exit=} ;;
            stderr=*) expect_stderr=${opt#stderr=} ;;
            timeout=*) timeout_s=${opt#timeout=} ;;
            skip=*) skip_modes=${opt#skip=} ;;
            *) echo "run.sh: manifest: unknown option '$opt' for $name" >&2; exit 2 ;;
        esac
    done
    IFS=, read -r -a counts <<<"$ranks"
    if [[ ",$skip_modes," == *",$mode,"* ]]; then
        echo "SKIP    $name (not run in mode $mode)"
        continue
    fi

    src=$here/$name.c
    exe=$bindir/$name
    if ! "$cc" -O1 -g -Wall -Werror=implicit-function-declaration -pthread -I"$here" "$src" -o "$exe" >"$logdir/$name.compile" 2>&1; then
        for n in "${counts[@]}"; do
            echo "FAIL    $name -n $n (compile error)"
            failed=$((failed + 1))
            failures+=("$name -n $n")
        done
        show_log "$logdir/$name.compile"
        continue
    fi

    for n in "${counts[@]}"; do
        out=$logdir/$name.n$n.out
        err=$logdir/$name.n$n.err
        largs=()
        [ "$launcher_timeout" = yes ] && largs=(--timeout "$timeout_s")
        t0=$(now)
        # The outer timeout is the hard limit (the launcher's own timeout should fire first,
        # 5 s earlier); -k kills a launcher that ignores SIGTERM. Stdin is closed so a hung job
        # can never wait on the terminal.
        if [ -f "$here/$name.sh" ]; then
            # A shell-driven test (e.g. several mpiexec runs): NAME.sh gets the launcher and
            # the compiled NAME.c, ends what it starts, prints "PASS NAME" like a program.
            env "${run_env[@]}" MPIEXEC_TIMEOUT="$timeout_s" MPIEXEC="$mpiexec" EXE="$exe" \
                NP="$n" TIMEOUT="$timeout_s" timeout -k 5 $((timeout_s + 5)) \
                bash "$here/$name.sh" </dev/null >"$out" 2>"$err"
        else
            env "${run_env[@]}" MPIEXEC_TIMEOUT="$timeout_s" \
                timeout -k 5 $((timeout_s + 5)) "$mpiexec" "${largs[@]}" -n "$n" "$exe" \
                </dev/null >"$out" 2>"$err"
        fi
        rc=$?
        t1=$(now)
        secs=$(elapsed "$t0" "$t1")
        verdict=PASS
        why=
        # 124/137: the outer timeout fired; otherwise a failing run that lasted the whole limit
        # was ended by the launcher's own timeout.
        if [ $rc -eq 124 ] || [ $rc -eq 137 ] ||
            { [ $rc -ne 0 ] && awk -v s="$secs" -v t="$timeout_s" 'BEGIN { exit !(s >= t - 0.5) }'; }; then
            verdict=TIMEOUT
            why="no exit after ${timeout_s}s"
        elif [ "$expect_exit" = 0 ]; then
            if [ $rc -ne 0 ]; then
                verdict=FAIL; why="exit code $rc"
            elif ! grep -qx "PASS $name" "$out"; then
                verdict=FAIL; why="no 'PASS $name' line on stdout"
            fi
        else
            if [ "$expect_exit" = nonzero ]; then
                [ $rc -ne 0 ] || { verdict=FAIL; why="job succeeded, expected failure"; }
            elif [ $rc -ne "$expect_exit" ]; then
                verdict=FAIL; why="exit code $rc, expected $expect_exit"
            fi
            if [ $verdict = PASS ] && [ -n "$expect_stderr" ] && ! grep -Eq "$expect_stderr" "$err"; then
                verdict=FAIL; why="stderr does not match /$expect_stderr/"
            fi
        fi
        printf '%-7s %-24s -n %-2s %7ss%s\n' "$verdict" "$name" "$n" "$secs" "${why:+  ($why)}"
        if [ $verdict = PASS ]; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            failures+=("$name -n $n")
            show_log "$out"
            show_log "$err"
        fi
    done
done < <(cat "$here/manifest" "$here"/manifest.d/* 2>/dev/null)

if [ ${#failures[@]} -gt 0 ]; then
    echo "failed runs ($mode):"
    printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
