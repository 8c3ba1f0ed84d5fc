#!/bin/bash
# The tools people already use, each tried as a user would, on the build/ prefix and on an
# installed OxiMPI:
#
#   pkgconfig   PKG_CONFIG_PATH=build/lib/pkgconfig: mpi, mpich, mpi-c, mpi-cxx; a program
#               built with `pkg-config --cflags --libs` runs on 3 ranks
#   cmake-path  find_package(MPI) with only our build/bin first on PATH   \  each: our
#   cmake-home  ... with MPI_HOME=build (Debian's MPICH on PATH)           > library and
#   cmake-cc    ... with -DMPI_C_COMPILER=build/bin/mpicc                 /  mpiexec, ctest 3 ranks
#               (cmake-cc: FindMPI takes mpiexec from PATH before it looks at the compiler,
#               so there it may be Debian's hydra, which runs our ranks through PMI-1)
#   cmake-fortran  find_package(MPI COMPONENTS C Fortran), build/bin first on PATH: our
#               mpifort and libmpifort, the mpi_f08 module, a use-mpi_f08 ring under ctest
#   meson       dependency('mpi') (Meson from PyPI) with build/bin first on PATH
#   destdir     make install DESTDIR=... round trip: the staged wrappers build and run a
#               program; make uninstall leaves nothing
#   system-*    (root) make install into a prefix the loader searches (ld.so.conf.d +
#               ldconfig), then with no LD_LIBRARY_PATH: an MPICH-built binary, the PyPI
#               mpi4py wheel, and rsmpi (the `mpi` crate from crates.io, through pkg-config
#               and through mpicc; our rsmpi/ program and three of the crate's own examples)
#               all run on OxiMPI. The loader configuration is removed at the end.
#
# usage: tests-eco/run.sh [--filter REGEX]     (needs build/: scripts/build.sh)
# Missing tools (cmake, pkg-config, ninja, libclang) are installed by scripts/deps.sh when
# it can; parts that cannot run are listed as NOT RUN (a failure under CI=true).
# Prints one line per part and "N passed, N failed" last; exits non-zero on any failure.
set -u
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
cd "$root"
. scripts/deps.sh

filter=.
while [ $# -gt 0 ]; do
    case $1 in
        --filter) filter=${2:?--filter needs a value}; shift 2 ;;
        -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

build=$root/build
work=$here/work
cache=$here/.cache
rm -rf "$work"
mkdir -p "$work" "$cache"
passed=0 failed=0
not_run=()
python=${PYTHON:-python3}
# The user's environment, without anything that would point the loader at a library.
clean_env=(env -u LD_LIBRARY_PATH -u LD_PRELOAD -u MPI4PY_LIBMPI)

# part NAME FUNCTION: run one part with its output in work/NAME.log; print the verdict.
part() {
    local name=$1 fn=$2
    echo "$name" | grep -Eq -- "$filter" || return 0
    local log=$work/$name.log start=$SECONDS
    if "$fn" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "PASS $name ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        echo "FAIL $name ($((SECONDS - start)) s), last lines of $log:"
        tail -n 25 "$log" | sed 's/^/    /'
    fi
}

skip() {
    not_run+=("$1: $2")
    echo "NOT RUN $1: $2"
}

# expect FILE REGEX: FILE must match REGEX (else show it and fail).
expect() {
    if grep -Eq -- "$2" "$1"; then return 0; fi
    echo "expected /$2/ in $1, which holds:"
    cat "$1"
    return 1
}

# uses_our_lib BINARY LIBDIR: the loader resolves libmpi of BINARY to LIBDIR's.
uses_our_lib() {
    local line
    line=$("${clean_env[@]}" ldd "$1" | grep -E 'lib(mpi|mpich)\.so') || true
    echo "ldd $1: $line"
    case $line in *"$(readlink -f "$2")/"* | *"$2/"*) return 0 ;; esac
    echo "libmpi does not resolve to $2"
    return 1
}

t_pkgconfig() {
    set -e
    export PKG_CONFIG_PATH=$build/lib/pkgconfig
    local v pc
    v=$(sed -n 's/^#define OXIMPI_VERSION "\(.*\)"/\1/p' include/mpi.h)
    for pc in mpi mpich mpi-c mpi-cxx; do
        [ "$(pkg-config --modversion $pc)" = "$v" ]
        pkg-config --cflags --libs $pc
    done
    # shellcheck disable=SC2046
    cc -o "$work/ring-pc" tests-eco/ring.c $(pkg-config --cflags --libs mpich)
    uses_our_lib "$work/ring-pc" "$build/lib"
    "${clean_env[@]}" timeout 60 "$build/bin/mpiexec" -n 3 "$work/ring-pc" | tee "$work/pc.out"
    expect "$work/pc.out" "^ring ok: 3 ranks, OxiMPI"
}

# cmake_case NAME ours|any ENV-ASSIGNMENTS... -- CMAKE-ARGS...: "ours" requires that
# CMake picked our mpiexec.
cmake_case() {
    set -e
    local name=$1 want=$2
    shift 2
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    local b=$work/cmake-$name
    env "${envs[@]}" cmake -S tests-eco/cmake -B "$b" "$@"
    local exe
    exe=$(sed -n 's/^MPIEXEC_EXECUTABLE:[A-Z]*=//p' "$b/CMakeCache.txt")
    echo "MPIEXEC_EXECUTABLE=$exe"
    if [ "$want" = ours ] && [ "$(readlink -f "$exe")" != "$(readlink -f "$build/bin/mpiexec")" ]; then
        echo "CMake picked $exe, not our mpiexec"
        return 1
    fi
    grep -E '^MPI_(mpi|mpich)_LIBRARY:' "$b/CMakeCache.txt"
    grep -Eq "^MPI_(mpi|mpich)_LIBRARY:FILEPATH=$build/lib/" "$b/CMakeCache.txt"
    cmake --build "$b"
    uses_our_lib "$b/ring" "$build/lib"
    (cd "$b" && "${clean_env[@]}" timeout 120 ctest --output-on-failure)
}
t_cmake_path() { cmake_case path ours "PATH=$build/bin:$PATH" --; }
t_cmake_home() { cmake_case home ours "MPI_HOME=$build" --; }
t_cmake_cc() { cmake_case cc any -- "-DMPI_C_COMPILER=$build/bin/mpicc"; }

# find_package(MPI COMPONENTS C Fortran) with our build/bin first on PATH: both languages
# must be ours (mpifort's libmpifort from build/lib, the mpi_f08 module found) and the
# use-mpi_f08 ring runs under ctest.
t_cmake_fortran() {
    set -e
    local b=$work/cmake-fortran
    rm -rf "$b"
    env "PATH=$build/bin:$PATH" cmake -S tests-eco/cmake-fortran -B "$b" | tee "$b.log"
    grep -E "MPI_Fortran_COMPILER=$build/bin/" "$b.log"
    grep -E "MPI_Fortran_LIBRARIES=.*$build/lib/libmpifort" "$b.log"
    cmake --build "$b"
    uses_our_lib "$b/ring_f08" "$build/lib"
    (cd "$b" && "${clean_env[@]}" timeout 120 ctest --output-on-failure)
}

t_meson() {
    set -e
    local venv=$here/.venv-meson
    [ -x "$venv/bin/meson" ] || {
        "$python" -m venv "$venv"
        timeout 300 "$venv/bin/pip" install -q meson ninja
    }
    local b=$work/meson
    PATH="$build/bin:$venv/bin:$PATH" meson setup "$b" tests-eco/meson | tee "$work/meson.setup"
    expect "$work/meson.setup" "Run-time dependency [Mm][Pp][Ii] found: YES"
    PATH="$venv/bin:$PATH" meson compile -C "$b"
    uses_our_lib "$b/ring" "$build/lib"
    "${clean_env[@]}" timeout 60 "$build/bin/mpiexec" -n 2 "$b/ring" | tee "$work/meson.out"
    expect "$work/meson.out" "^ring ok: 2 ranks, OxiMPI"
}

t_destdir() {
    set -e
    local stage=$work/stage pfx=/opt/oximpi-eco
    make -s install DESTDIR="$stage" PREFIX=$pfx
    for f in bin/mpicc bin/mpicxx bin/mpiexec bin/mpirun lib/libmpi.so.12 lib/libmpich.so.12 \
        lib/pkgconfig/mpi.pc include/mpi.h; do
        [ -e "$stage$pfx/$f" ] || { echo "missing $f"; return 1; }
    done
    readelf -d "$stage$pfx/lib/libmpi.so.12" | grep -q 'SONAME.*\[libmpi\.so\.12\]'
    # The staged wrapper finds its own prefix (relocatable).
    "$stage$pfx/bin/mpicc" -o "$work/ring-staged" tests-eco/ring.c
    uses_our_lib "$work/ring-staged" "$stage$pfx/lib"
    "${clean_env[@]}" timeout 60 "$stage$pfx/bin/mpirun" -n 2 "$work/ring-staged" | tee "$work/staged.out"
    expect "$work/staged.out" "^ring ok: 2 ranks, OxiMPI"
    make -s uninstall DESTDIR="$stage" PREFIX=$pfx
    local left
    left=$(find "$stage" -mindepth 1 ! -type d)
    [ -z "$left" ] || { echo "left after uninstall: $left"; return 1; }
}

# The system parts share one installation into a prefix the loader searches.
sys_prefix=$work/sysprefix
ld_conf=/etc/ld.so.conf.d/00-oximpi-tests.conf
sys_cleanup() {
    if [ -f "$ld_conf" ]; then
        rm -f "$ld_conf"
        ldconfig
    fi
}
sys_install() {
    set -e
    make -s install PREFIX="$sys_prefix"
    # 00- sorts before Debian's own files, so this prefix wins over an installed MPICH.
    echo "$sys_prefix/lib" >"$ld_conf"
    ldconfig
    ldconfig -p | grep -F "$sys_prefix/lib/libmpi.so.12"
}

t_sys_mpich_binary() {
    set -e
    /usr/bin/mpicc.mpich -o "$work/ring-mpich" tests-eco/ring.c
    uses_our_lib "$work/ring-mpich" "$sys_prefix/lib"
    "${clean_env[@]}" timeout 60 "$sys_prefix/bin/mpiexec" -n 3 "$work/ring-mpich" | tee "$work/mpichbin.out"
    expect "$work/mpichbin.out" "^ring ok: 3 ranks, OxiMPI"
}

t_sys_mpi4py_wheel() {
    set -e
    local venv=$here/.venv-wheel
    [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import mpi4py' 2>/dev/null || {
        rm -rf "$venv"
        "$python" -m venv "$venv"
        timeout 300 "$venv/bin/pip" install -q --only-binary=:all: mpi4py
    }
    "${clean_env[@]}" timeout 60 "$sys_prefix/bin/mpiexec" -n 2 "$venv/bin/python" -c '
from mpi4py import MPI
lib = MPI.Get_library_version()
assert lib.startswith("OxiMPI"), lib
c = MPI.COMM_WORLD
assert c.allreduce(c.rank + 1) == c.size * (c.size + 1) // 2
if c.rank == 0: print("wheel ok:", c.size, "ranks,", lib.splitlines()[0])
' | tee "$work/wheel.out"
    expect "$work/wheel.out" "^wheel ok: 2 ranks, OxiMPI"
}

rs_target=$cache/rsmpi-target
t_sys_rsmpi() {
    set -e
    local crate=$root/tests-eco/rsmpi exe=$rs_target/release/oximpi-eco-rsmpi
    # 1. through pkg-config (rsmpi's preferred route), 2. through `mpicc -show`. The probe
    # runs in mpi-sys's build script: clean it between the two so the second route is used.
    "${clean_env[@]}" MPI_PKG_CONFIG="$sys_prefix/lib/pkgconfig/mpich.pc" \
        cargo build --release -q --manifest-path "$crate/Cargo.toml" --target-dir "$rs_target"
    uses_our_lib "$exe" "$sys_prefix/lib"
    "${clean_env[@]}" timeout 60 "$sys_prefix/bin/mpiexec" -n 3 "$exe" | tee "$work/rs1.out"
    expect "$work/rs1.out" "^rsmpi ok: 3 ranks, OxiMPI"
    cargo clean -q -p mpi-sys --release --manifest-path "$crate/Cargo.toml" --target-dir "$rs_target"
    "${clean_env[@]}" MPICC="$sys_prefix/bin/mpicc" PATH="$sys_prefix/bin:$PATH" \
        cargo build --release -q --manifest-path "$crate/Cargo.toml" --target-dir "$rs_target"
    uses_our_lib "$exe" "$sys_prefix/lib"
    "${clean_env[@]}" timeout 60 "$sys_prefix/bin/mpiexec" -n 2 "$exe" | tee "$work/rs2.out"
    expect "$work/rs2.out" "^rsmpi ok: 2 ranks, OxiMPI"
    # Three of the crate's own examples, from the source cargo fetched (not copied here).
    local src
    src=$(cargo metadata --format-version 1 --manifest-path "$crate/Cargo.toml" |
        "$python" -c 'import json,sys; m=json.load(sys.stdin); print([p["manifest_path"] for p in m["packages"] if p["name"]=="mpi"][0])')
    rm -rf "$work/rsmpi-src"
    cp -r "$(dirname "$src")" "$work/rsmpi-src"
    "${clean_env[@]}" MPI_PKG_CONFIG="$sys_prefix/lib/pkgconfig/mpich.pc" \
        cargo build --release -q --manifest-path "$work/rsmpi-src/Cargo.toml" \
        --target-dir "$rs_target" --example readme --example reduce --example spawn
    local ex
    for ex in readme reduce spawn; do
        echo "== example $ex"
        "${clean_env[@]}" timeout 60 "$sys_prefix/bin/mpiexec" -n 2 "$rs_target/release/examples/$ex"
    done
}

# ---- the runs
if have_tools pkg-config:pkg-config; then
    part pkgconfig t_pkgconfig
else skip pkgconfig "pkg-config missing"; fi

if have_tools cmake:cmake; then
    part cmake-path t_cmake_path
    part cmake-home t_cmake_home
    part cmake-cc t_cmake_cc
    if have_gfortran; then part cmake-fortran t_cmake_fortran
    else skip cmake-fortran "gfortran missing"; fi
else skip cmake "cmake missing"; fi

part meson t_meson
part destdir t_destdir

if [ "$(id -u)" != 0 ]; then
    skip system "needs root (ld.so.conf.d and ldconfig)"
elif echo "system-" | grep -Eq -- "$filter" || echo "system-mpich-binary system-mpi4py-wheel system-rsmpi" | grep -Eq -- "$filter"; then
    trap sys_cleanup EXIT
    if sys_install >"$work/system-install.log" 2>&1; then
        if have_mpich; then part system-mpich-binary t_sys_mpich_binary
        else skip system-mpich-binary "MPICH missing"; fi
        part system-mpi4py-wheel t_sys_mpi4py_wheel
        if have_tools '/usr/lib/llvm-*/lib/libclang.so*:libclang-dev'; then
            part system-rsmpi t_sys_rsmpi
        else skip system-rsmpi "libclang missing (rsmpi's bindgen)"; fi
    else
        failed=$((failed + 1))
        echo "FAIL system-install:"; tail -n 20 "$work/system-install.log" | sed 's/^/    /'
    fi
    sys_cleanup
fi

if [ ${#not_run[@]} -gt 0 ]; then
    echo "NOT RUN:"
    printf '    %s\n' "${not_run[@]}"
    [ "${CI:-}" = true ] && failed=$((failed + ${#not_run[@]}))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
