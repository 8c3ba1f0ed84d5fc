#!/bin/bash
# What the test suites need beyond Rust, a C compiler and python3, and how to get it.
# Sourced by scripts/test.sh and tests-eco/run.sh; `scripts/deps.sh` alone installs what it
# can and reports.
#
# Debian packages: MPICH (libmpich-dev, mpich) for the ABI runs, which compile the C tests
# with MPICH's mpicc and run them on our library; cmake, pkg-config, ninja-build and
# libclang-dev (rsmpi's bindgen) for the ecosystem tests; gfortran for the Fortran module
# (mpi.mod, compiled by scripts/build.sh) and tests-f. A missing one is installed with
# apt-get when we are root and apt-get exists (OXIMPI_NO_INSTALL=1 forbids it). What cannot
# be had is reported, the runs that need it are skipped and listed loudly at the end of
# make test; under CI (CI=true) a skipped run is a failure, so CI always runs everything.

mpich_cc=/usr/bin/mpicc.mpich

# apt_install PKG...: install Debian packages if allowed and possible; 0 on success.
apt_install() {
    if [ "${OXIMPI_NO_INSTALL:-0}" = 1 ]; then
        echo "deps: $* missing and OXIMPI_NO_INSTALL=1 forbids installing them"
        return 1
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "deps: $* missing and cannot be installed here (needs root and apt-get:"
        echo "      apt-get install $*)"
        return 1
    fi
    echo "deps: installing Debian packages: $*"
    export DEBIAN_FRONTEND=noninteractive
    # Refresh the package lists only when a package is unknown to them (or the install fails).
    local p
    for p in "$@"; do
        apt-cache show "$p" >/dev/null 2>&1 || { timeout 600 apt-get update -q || true; break; }
    done
    timeout 900 apt-get install -y -q --no-install-recommends "$@" </dev/null ||
        { timeout 600 apt-get update -q &&
            timeout 900 apt-get install -y -q --no-install-recommends "$@" </dev/null; }
}

# have_mpich: 0 when MPICH's compiler wrapper is here (installing it if we can).
have_mpich() {
    [ -x "$mpich_cc" ] && return 0
    apt_install libmpich-dev mpich || true
    [ -x "$mpich_cc" ]
}

# have_gfortran: 0 when gfortran is here (installing it if we can).
have_gfortran() {
    have_tools gfortran:gfortran
}

# have_tools CMD:PKG...: 0 when every CMD is on PATH (installing the PKGs of missing ones).
# A CMD that is a path (starts with /) is a glob that must match a file.
have_tools() {
    local want=() spec cmd
    for spec in "$@"; do
        cmd=${spec%%:*}
        if [ "${cmd#/}" != "$cmd" ]; then compgen -G "$cmd" >/dev/null && continue
        else command -v "$cmd" >/dev/null 2>&1 && continue
        fi
        want+=("${spec#*:}")
    done
    [ ${#want[@]} -eq 0 ] && return 0
    apt_install "${want[@]}" || true
    for spec in "$@"; do
        cmd=${spec%%:*}
        if [ "${cmd#/}" != "$cmd" ]; then compgen -G "$cmd" >/dev/null || return 1
        else command -v "$cmd" >/dev/null 2>&1 || return 1
        fi
    done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    ok=0
    if have_mpich; then echo "deps: MPICH present ($mpich_cc)"; else ok=1; fi
    if have_tools cmake:cmake pkg-config:pkg-config ninja:ninja-build \
        '/usr/lib/llvm-*/lib/libclang.so*:libclang-dev'; then
        echo "deps: cmake, pkg-config, ninja, libclang present"
    else ok=1; fi
    if have_gfortran; then echo "deps: gfortran present"; else ok=1; fi
    exit $ok
fi
