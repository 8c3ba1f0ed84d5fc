#!/bin/bash
# Stock mpi4py on OxiMPI: build mpi4py 4.1.2 from its source release with our mpicc, run
# mpi4py's own test suite as its documentation says, and run the tutorial examples of
# examples/py/.
#
#   tests-py/run.sh                 suite at np=1,2,3,4 and as a singleton + examples + the
#                                   PyPI wheel at np=2 (what `make test` runs)
#   tests-py/run.sh --suite         only the suite          --np 2,3   other runs
#   tests-py/run.sh --examples      only the examples       --filter RX  examples matching RX
#   tests-py/run.sh --wheel         the prebuilt PyPI wheel (loads build/lib/libmpi.so.12) at np=2
#   tests-py/run.sh --mpich         baseline: mpi4py built against MPICH 4.0.2, np=1..4, counts only
#   tests-py/run.sh --stdabi        mpi4py built with MPI4PY_BUILD_MPIABI=1 by build/bin/mpicc_abi
#                                   against the MPI 5.0 standard ABI (libmpi_abi.so.1), np=1,2
#                                   (known failures: known-failures-stdabi.txt)
#   tests-py/run.sh --ulfm          mpi4py built with MPI4PY_BUILD_CONFIGURE=1 (its configure
#                                   step probes every MPI name, so it calls our MPI_Comm_revoke,
#                                   MPI_Comm_iagree, ... where the default build compiles its
#                                   ULFM layer out for MPICH): test_ulfm at np=1,2,3,4, no
#                                   ULFM skip allowed (allowed-skips-ulfm.txt). The default
#                                   build configures too (our mpi.h defines no MPICH_NAME, so
#                                   mpi4py probes every name): this is its focused ULFM run
#   tests-py/run.sh --suite -- -i test_p2p -k testSend    (after --: arguments for mpi4py's main.py)
#
# Each suite run is the documented command, from the top of mpi4py's source release:
# `mpiexec -n N python test/main.py` for N in --np, and `python test/main.py` without a
# launcher for the np entry "singleton". observe/sitecustomize.py records each rank's tests
# (harness.py puts it on PYTHONPATH; the command itself is unchanged).
#
# Needs build/ (scripts/build.sh). Everything it installs stays here: venvs in tests-py/.venv*,
# the sdist and built wheels in tests-py/.cache (or $OXIMPI_PY_CACHE, to share across clones),
# logs in tests-py/work/<label>-np<N>/rank<R>.{log,events}. The first run builds mpi4py (a few
# minutes); later ones reuse it until mpi.h, mpicc or libmpi's exports change.
# known-failures.txt: tests expected to fail (with the reason); excluded.txt: tests or modules
# not run at all because they kill or hang the whole process; allowed-skips.txt: the reasons
# a test may be skipped for (missing optional Python packages, too few or too many ranks);
# flaky.txt: tests whose own code races (shown failing without MPI and on MPICH): a failure
# of one is run again alone at the same rank count and fails the run only if it fails again.
# The run fails on an unlisted failure, on a listed test that now passes, on a skip for an
# unlisted reason, on a crash/hang/timeout, and if mpi4py does not import. Time limits:
# --timeout per suite run (600 s), --budget for all suite runs (1200 s).
# The last line is "N passed, N failed" over the parts run (the MPICH baseline excluded).
set -u
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(cd -P -- "$here/.." && pwd)
cd "$root"

MPI4PY_VERSION=4.1.2
cache=${OXIMPI_PY_CACHE:-$here/.cache}
work=$here/work
python=${PYTHON:-python3}

do_suite=0 do_examples=0 do_wheel=0 do_mpich=0 do_stdabi=0 do_ulfm=0
np_list=""
timeout_s=600
budget_s=1200
filter=""
suite_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --suite) do_suite=1 ;;
        --examples) do_examples=1 ;;
        --wheel) do_wheel=1 ;;
        --mpich) do_mpich=1 ;;
        --stdabi) do_stdabi=1 ;;
        --ulfm) do_ulfm=1 ;;
        --np) np_list=$2; shift ;;
        --timeout) timeout_s=$2; shift ;;
        --budget) budget_s=$2; shift ;;
        --filter) filter=$2; shift ;;
        --) shift; suite_args=("$@"); break ;;
        -h|--help) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ $((do_suite + do_examples + do_wheel + do_mpich + do_stdabi + do_ulfm)) -eq 0 ]; then
    do_suite=1 do_examples=1 do_wheel=1
fi

mkdir -p "$cache" "$work"
: > "$work/summary.json"
total_passed=0
total_failed=0
problems=()

say() { echo "run.sh: $*"; }

# Add the "label: N passed, N failed" line of a part's output to the totals.
count_part() {
    local log=$1 label=$2 line p f
    line=$(grep -E "^$label: [0-9]+ passed, [0-9]+ failed$" "$log" | tail -n 1)
    if [ -z "$line" ]; then
        problems+=("$label: no summary line (the runner died)")
        total_failed=$((total_failed + 1))
        return
    fi
    p=${line#*: }
    p=${p%% passed*}
    f=${line#*, }
    f=${f%% failed*}
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    [ "$f" -eq 0 ] || problems+=("$label: $f failed")
}

fail_part() {
    problems+=("$1")
    total_failed=$((total_failed + 1))
}

# ---------------------------------------------------------------- preparing

sdist=$cache/mpi4py-$MPI4PY_VERSION.tar.gz
get_sdist() {
    [ -f "$sdist" ] && return 0
    say "downloading the mpi4py $MPI4PY_VERSION source release"
    # --no-binary for mpi4py only: its build requirements (Cython, setuptools) come as
    # wheels, as pip needs them to read the sdist's metadata (building Cython from source
    # took most of the first run).
    "$python" -m pip download --quiet --no-binary mpi4py --no-deps \
        -d "$cache" "mpi4py==$MPI4PY_VERSION" && [ -f "$sdist" ]
}

# The test suite comes from the sdist (the wheels do not ship it).
testdir=$work/src/mpi4py-$MPI4PY_VERSION/test
unpack_tests() {
    [ -f "$testdir/main.py" ] && return 0
    mkdir -p "$work/src" && tar -xzf "$sdist" -C "$work/src"
}

# make_venv DIR: a venv with numpy (mpi4py's suite tests the buffer paths with it).
make_venv() {
    local venv=$1
    if [ ! -x "$venv/bin/python" ]; then
        say "creating $venv"
        "$python" -m venv "$venv" || return 1
    fi
    if ! "$venv/bin/python" -c "import numpy" 2>/dev/null; then
        say "installing numpy in $venv"
        "$venv/bin/python" -m pip install --quiet numpy || return 1
    fi
}

# What mpi4py's build sees of an MPI: its headers, its compiler wrapper, the symbols its
# library exports (mpi4py's configure probes for every function). A change in any of them
# means a rebuild; otherwise the cached wheel is reused.
build_key() {
    local cc=$1 lib=$2 inc=$3
    {
        echo "$MPI4PY_VERSION"
        cat "$cc" "$inc"/mpi.h "$inc"/mpio.h 2>/dev/null
        nm -D --defined-only "$lib" 2>/dev/null | awk '{print $NF}' | sort
    } | sha256sum | cut -c1-16
}

# build_wheel LABEL MPICC KEY VENV: build mpi4py from the sdist with that mpicc (cached).
build_wheel() {
    local label=$1 mpicc=$2 key=$3 venv=$4
    local dir=$cache/wheel-$label-$key
    local whl
    whl=$(ls "$dir"/mpi4py-*.whl 2>/dev/null | head -n 1)
    if [ -z "$whl" ]; then
        say "building mpi4py $MPI4PY_VERSION with $mpicc (a few minutes; log $work/build-$label.log)"
        rm -rf "$cache"/wheel-"$label"-*
        mkdir -p "$dir"
        if ! MPI4PY_BUILD_MPICC=$mpicc MPICC=$mpicc timeout 1500 \
            "$venv/bin/python" -m pip wheel --no-cache-dir --no-deps -v -w "$dir" "$sdist" \
            > "$work/build-$label.log" 2>&1; then
            say "building mpi4py with $mpicc FAILED; last lines of $work/build-$label.log:"
            tail -n 40 "$work/build-$label.log" | sed 's/^/    | /'
            rm -rf "$dir"
            return 1
        fi
        whl=$(ls "$dir"/mpi4py-*.whl | head -n 1)
    fi
    if [ "$(cat "$venv/.mpi4py-key" 2>/dev/null)" != "$key" ]; then
        "$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$whl" || return 1
        echo "$key" > "$venv/.mpi4py-key"
    fi
}

# ---------------------------------------------------------------- parts

# run_harness LABEL VENV MPIEXEC NP [harness options]: the suite, judged by harness.py.
run_harness() {
    local label=$1 venv=$2 mpiexec=$3 nps=$4
    shift 4
    local log=$work/$label.log
    timeout $((budget_s + 300)) "$venv/bin/python" "$here/harness.py" \
        --label "$label" --python "$venv/bin/python" --mpiexec "$mpiexec" \
        --testdir "$testdir" --workdir "$work" --np "$nps" \
        --timeout "$timeout_s" --budget "$budget_s" --summary-json "$work/summary.json" \
        "$@" -- "${suite_args[@]}" 2>&1 | tee "$log"
}

oximpi_ready=0
prepare_oximpi() {
    [ $oximpi_ready -eq 1 ] && return 0
    if [ ! -x build/bin/mpicc ] || [ ! -f build/lib/libmpi.so.12 ]; then
        say "build/ is missing: run scripts/build.sh first"
        return 1
    fi
    get_sdist && unpack_tests && make_venv "$here/.venv" || return 1
    local key
    key=$(build_key "$root/build/bin/mpicc" "$root/build/lib/libmpi.so.12" "$root/build/include")
    build_wheel oximpi "$root/build/bin/mpicc" "$key" "$here/.venv" || return 1
    oximpi_ready=1
}

if [ $do_suite -eq 1 ]; then
    if prepare_oximpi; then
        run_harness oximpi "$here/.venv" "$root/build/bin/mpiexec" "${np_list:-1,2,3,4,singleton}" \
            --mpiexec-timeout
        count_part "$work/oximpi.log" oximpi
    else
        fail_part "oximpi: could not build or install mpi4py against OxiMPI"
    fi
fi

if [ $do_examples -eq 1 ]; then
    if prepare_oximpi; then
        echo
        echo "== examples/py on OxiMPI"
        timeout 900 "$here/.venv/bin/python" "$here/examples.py" --python "$here/.venv/bin/python" \
            --mpiexec "$root/build/bin/mpiexec" --dir "$root/examples/py" --filter "$filter" \
            2>&1 | tee "$work/examples.log"
        count_part "$work/examples.log" examples
    else
        fail_part "examples: could not build or install mpi4py against OxiMPI"
    fi
fi

if [ $do_wheel -eq 1 ]; then
    # The PyPI wheel carries no libmpi: mpi4py's loader (_mpiabi.py) dlopens the library
    # named by MPI4PY_LIBMPI (else libmpi.so / libmpi.so.12 on the library path), decides
    # the ABI (MPI_Abi_get_version, else "openmpi" if ompi_mpi_comm_self exists, else
    # "mpich") and loads the matching MPI.<abi>.so, whose DT_NEEDED libmpi.so.12 resolves
    # to ours through LD_LIBRARY_PATH.
    venv=$here/.venv-wheel
    if get_sdist && unpack_tests && make_venv "$venv" &&
        { "$venv/bin/python" -c "import mpi4py" 2>/dev/null ||
            "$venv/bin/python" -m pip install --quiet --only-binary :all: "mpi4py==$MPI4PY_VERSION"; }; then
        export MPI4PY_LIBMPI=$root/build/lib/libmpi.so.12
        export LD_LIBRARY_PATH=$root/build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
        run_harness wheel "$venv" "$root/build/bin/mpiexec" "${np_list:-2}" --mpiexec-timeout
        count_part "$work/wheel.log" wheel
        unset MPI4PY_LIBMPI
    else
        fail_part "wheel: could not install the mpi4py $MPI4PY_VERSION binary wheel"
    fi
fi

if [ $do_stdabi -eq 1 ]; then
    # The standard ABI: mpi4py's build with MPI4PY_BUILD_MPIABI=1 and our mpicc_abi compiles
    # against mpi_abi.h and links libmpi_abi.so.1 (rpath to build/lib).
    venv=$here/.venv-stdabi
    abicc=$root/build/bin/mpicc_abi
    if [ ! -x "$abicc" ] || [ ! -f "$root/build/lib/libmpi_abi.so.1" ]; then
        fail_part "stdabi: build/bin/mpicc_abi or build/lib/libmpi_abi.so.1 missing (scripts/build-abi.sh)"
    elif get_sdist && unpack_tests && make_venv "$venv" &&
        key=$({ build_key "$abicc" "$root/build/lib/libmpi_abi.so.1" "$root/build/include";
                cat "$root/build/include/mpi_abi.h"; } | sha256sum | cut -c1-16) &&
        MPI4PY_BUILD_MPIABI=1 build_wheel stdabi "$abicc" "$key" "$venv"; then
        run_harness stdabi "$venv" "$root/build/bin/mpiexec" "${np_list:-1,2}" --mpiexec-timeout \
            --known "$here/known-failures-stdabi.txt" --allowed-skips "$here/allowed-skips-stdabi.txt"
        count_part "$work/stdabi.log" stdabi
    else
        fail_part "stdabi: could not build or install mpi4py against the standard ABI"
    fi
fi

if [ $do_ulfm -eq 1 ]; then
    # mpi4py's configure build: a venv and a cached wheel of its own (the key says
    # "configure", so the default build's wheel is never taken for it).
    venv=$here/.venv-ulfm
    if prepare_oximpi && make_venv "$venv" &&
        key=$({ echo configure; build_key "$root/build/bin/mpicc" "$root/build/lib/libmpi.so.12" \
                "$root/build/include"; } | sha256sum | cut -c1-16) &&
        MPI4PY_BUILD_CONFIGURE=1 build_wheel ulfm "$root/build/bin/mpicc" "$key" "$venv"; then
        args=("${suite_args[@]}")
        [ ${#args[@]} -gt 0 ] || args=(-i test_ulfm)
        saved=("${suite_args[@]}")
        suite_args=("${args[@]}")
        run_harness ulfm "$venv" "$root/build/bin/mpiexec" "${np_list:-1,2,3,4}" --mpiexec-timeout \
            --allowed-skips "$here/allowed-skips-ulfm.txt"
        suite_args=("${saved[@]}")
        count_part "$work/ulfm.log" ulfm
    else
        fail_part "ulfm: could not build or install mpi4py with MPI4PY_BUILD_CONFIGURE=1"
    fi
fi

if [ $do_mpich -eq 1 ]; then
    venv=$here/.venv-mpich
    mpicc=/usr/bin/mpicc.mpich
    if [ ! -x $mpicc ] || [ ! -x /usr/bin/mpiexec.mpich ]; then
        say "MPICH is not installed (apt-get install mpich libmpich-dev): no baseline"
    elif get_sdist && unpack_tests && make_venv "$venv" &&
        build_wheel mpich $mpicc \
            "$(build_key $mpicc /usr/lib/x86_64-linux-gnu/libmpich.so.12 /usr/include/x86_64-linux-gnu/mpich)" \
            "$venv"; then
        # Baseline only: counts and times, no known-failures judgement, not in the totals.
        run_harness mpich "$venv" /usr/bin/mpiexec.mpich "${np_list:-1,2,3,4}" --no-judge
    else
        say "could not build mpi4py against MPICH: no baseline"
    fi
fi

# Side-by-side table when both OxiMPI and the baseline ran in this invocation.
if grep -q '"label": "mpich"' "$work/summary.json" && grep -q '"label": "oximpi"' "$work/summary.json"; then
    echo
    echo "== mpi4py suite: OxiMPI vs MPICH 4.0.2"
    "$python" - "$work/summary.json" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {(r["label"], r["np"]): r for r in rows}
nps = sorted({r["np"] for r in rows}, key=str)
print(f"{'np':>3} | {'OxiMPI pass/fail/err/skip':>26} {'time':>6} | {'MPICH pass/fail/err/skip':>26} {'time':>6}")
for np in nps:
    cells = []
    for label in ("oximpi", "mpich"):
        r = by.get((label, np))
        if r is None:
            cells.append(f"{'-':>26} {'-':>6}")
        else:
            c = f"{r['passed']}/{r['failed']}/{r['errors']}/{r['skipped']}"
            if r["problems"]:
                c += f" ({r['problems']} run problems)"
            cells.append(f"{c:>26} {r['seconds']:>5}s")
    print(f"{np:>3} | {cells[0]} | {cells[1]}")
EOF
fi

echo
if [ ${#problems[@]} -gt 0 ]; then
    say "FAILED: ${problems[*]}"
fi
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
