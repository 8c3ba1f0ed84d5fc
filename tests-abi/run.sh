#!/bin/bash
# The MPI 5.0 standard ABI (libmpi_abi.so.1) of OxiMPI, four ways:
#
#   wheel    tests-abi/*.c built by MPICH 5's mpicc_abi (the PyPI `mpich` wheel, installed in
#            a venv under tests-abi/work) and run with our mpiexec on our libmpi_abi.so.1
#            through LD_LIBRARY_PATH: a binary built for the standard ABI elsewhere runs here
#   ours     the same sources built with our `mpicc -mpi-abi`
#   tests-c  the tests-c programs listed in tests-abi/tests-c.list, built with
#            `mpicc -mpi-abi`, at the rank counts of their manifest line (at most --max-np)
#   mpi4py   mpi4py built with MPI4PY_BUILD_MPIABI=1 against our standard ABI, its suite
#            (tests-py/run.sh --stdabi --np 1,2,3,4)
#
# usage: tests-abi/run.sh [--part wheel,ours,tests-c,mpi4py] [--np 1,2,3] [--max-np 3]
#                         [--mpi4py-np 1,2]
# Needs build/ with the standard-ABI library (scripts/build.sh, which runs build-abi.sh).
# Prints one line per run and "N passed, N failed"; exits non-zero on any failure.
# About 4 minutes on 2 cores once the venvs exist (the first run installs the mpich wheel
# and builds mpi4py: a few minutes more).
set -u
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
work=$here/work
MPICH_WHEEL_VERSION=5.0.2
python=${PYTHON:-python3}

parts=wheel,ours,tests-c,mpi4py
np_list=1,2,3
max_np=3
mpi4py_np=1,2,3,4
while [ $# -gt 0 ]; do
    case $1 in
        --part | --parts) parts=$2; shift ;;
        --np) np_list=$2; shift ;;
        --max-np) max_np=$2; shift ;;
        --mpi4py-np) mpi4py_np=$2; shift ;;
        -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
has_part() { [[ ",$parts," == *",$1,"* ]]; }

mpiexec=$root/build/bin/mpiexec
mpicc=$root/build/bin/mpicc
passed=0
failed=0
failures=()
mkdir -p "$work/logs"

if [ ! -e "$root/build/lib/libmpi_abi.so.1" ] || [ ! -x "$mpicc" ]; then
    echo "run.sh: build/lib/libmpi_abi.so.1 missing: run scripts/build.sh (or scripts/build-abi.sh)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

record() { # record VERDICT LABEL WHY
    printf '%-7s %-40s%s\n' "$1" "$2" "${3:+  ($3)}"
    if [ "$1" = PASS ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$2")
    fi
}

show_log() { [ -s "$1" ] && tail -n 12 "$1" | sed 's/^/      | /'; }

# run_job LABEL NAME NP TIMEOUT EXPECT_EXIT STDERR_RX EXE [env...]: one mpiexec run, judged as
# tests-c/run.sh judges (exit code, "PASS NAME" on stdout, stderr pattern).
run_job() {
    local label=$1 name=$2 n=$3 t=$4 want=$5 rx=$6 exe=$7
    shift 7
    local out=$work/logs/$label.out err=$work/logs/$label.err rc why=
    env "$@" timeout -k 5 $((t + 5)) "$mpiexec" --timeout "$t" -n "$n" "$exe" \
        </dev/null >"$out" 2>"$err"
    rc=$?
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        why="no exit after ${t}s"
    elif [ "$want" = 0 ]; then
        [ $rc -eq 0 ] || why="exit code $rc"
        [ -n "$why" ] || grep -qx "PASS $name" "$out" || why="no 'PASS $name' line"
    elif [ "$want" = nonzero ]; then
        [ $rc -ne 0 ] || why="job succeeded, expected failure"
    else
        [ $rc -eq "$want" ] || why="exit code $rc, expected $want"
    fi
    if [ -z "$why" ] && [ -n "$rx" ] && ! grep -Eq "$rx" "$err"; then
        why="stderr does not match /$rx/"
    fi
    if [ -z "$why" ]; then
        record PASS "$label"
    else
        record FAIL "$label" "$why"
        show_log "$out"
        show_log "$err"
    fi
}

IFS=, read -r -a nps <<<"$np_list"
sources=("$here"/*.c)

# ---------------------------------------------------------------- MPICH 5's mpicc_abi
if has_part wheel; then
    venv=$work/venv-mpich
    if [ ! -x "$venv/bin/mpicc_abi" ]; then
        echo "run.sh: installing the mpich $MPICH_WHEEL_VERSION wheel in $venv"
        "$python" -m venv "$venv" &&
            "$venv/bin/python" -m pip install --quiet "mpich==$MPICH_WHEEL_VERSION" ||
            record FAIL "wheel: install mpich $MPICH_WHEEL_VERSION" "pip failed"
    fi
    if [ -x "$venv/bin/mpicc_abi" ]; then
        mkdir -p "$work/wheel"
        for src in "${sources[@]}"; do
            name=$(basename "$src" .c)
            exe=$work/wheel/$name
            if ! "$venv/bin/mpicc_abi" -O1 -g -Wall -o "$exe" "$src" >"$work/logs/wheel-$name.compile" 2>&1; then
                record FAIL "wheel: $name (mpicc_abi)" "compile error"
                show_log "$work/logs/wheel-$name.compile"
                continue
            fi
            # The binary names libmpi_abi.so.1 with a RUNPATH to the wheel's copy:
            # LD_LIBRARY_PATH comes first, so ours is loaded; the test checks the library's
            # version string to be sure (ABI_EXPECT_LIBRARY).
            for n in "${nps[@]}"; do
                run_job "wheel-$name-n$n" "$name" "$n" 60 0 "" "$exe" \
                    LD_LIBRARY_PATH="$root/build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
                    ABI_EXPECT_LIBRARY=OxiMPI
            done
        done
    fi
fi

# ---------------------------------------------------------------- our mpicc -mpi-abi
if has_part ours; then
    mkdir -p "$work/ours"
    for src in "${sources[@]}"; do
        name=$(basename "$src" .c)
        exe=$work/ours/$name
        if ! "$mpicc" -mpi-abi -O1 -g -Wall -o "$exe" "$src" >"$work/logs/ours-$name.compile" 2>&1; then
            record FAIL "ours: $name (mpicc -mpi-abi)" "compile error"
            show_log "$work/logs/ours-$name.compile"
            continue
        fi
        for n in "${nps[@]}"; do
            run_job "ours-$name-n$n" "$name" "$n" 60 0 "" "$exe" ABI_EXPECT_LIBRARY=OxiMPI
        done
    done
fi

# ---------------------------------------------------------------- tests-c programs
if has_part tests-c; then
    mkdir -p "$work/tests-c"
    list=$(grep -v '^#' "$here/tests-c.list" | awk '{print $1}')
    while read -r name ranks opts; do
        case $name in "" | \#*) continue ;; esac
        grep -qx "$name" <<<"$list" || continue
        want=0 rx= t=60
        for opt in $opts; do
            case $opt in
                exit=*) want=${opt#exit=} ;;
                stderr=*) rx=${opt#stderr=} ;;
                timeout=*) t=${opt#timeout=} ;;
            esac
        done
        exe=$work/tests-c/$name
        if ! "$mpicc" -mpi-abi -O1 -g -Wall -Werror=implicit-function-declaration -pthread \
            -I"$root/tests-c" "$root/tests-c/$name.c" -o "$exe" >"$work/logs/tc-$name.compile" 2>&1; then
            record FAIL "tests-c: $name (mpicc -mpi-abi)" "compile error"
            show_log "$work/logs/tc-$name.compile"
            continue
        fi
        IFS=, read -r -a counts <<<"$ranks"
        for n in "${counts[@]}"; do
            [ "$n" -le "$max_np" ] || continue
            run_job "tc-$name-n$n" "$name" "$n" "$t" "$want" "$rx" "$exe"
        done
    done < <(cat "$root/tests-c/manifest" "$root"/tests-c/manifest.d/* 2>/dev/null)
fi

# ---------------------------------------------------------------- mpi4py
if has_part mpi4py; then
    log=$work/logs/mpi4py.log
    "$root/tests-py/run.sh" --stdabi --np "$mpi4py_np" 2>&1 | tee "$log" | grep -E '^(run\.sh|stdabi|== )' 
    line=$(tail -n 1 "$log")
    if [[ $line =~ ^([0-9]+)\ passed,\ 0\ failed$ ]]; then
        record PASS "mpi4py (MPI4PY_BUILD_MPIABI=1) np $mpi4py_np" "${BASH_REMATCH[1]} tests passed"
    else
        record FAIL "mpi4py (MPI4PY_BUILD_MPIABI=1) np $mpi4py_np" "$line"
    fi
fi

echo
[ ${#failures[@]} -eq 0 ] || echo "run.sh: FAILED: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
