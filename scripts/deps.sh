#!/bin/bash
# What the test suites need beyond Rust, a C compiler and python3, and how to get it.
# Sourced by scripts/test.sh; `scripts/deps.sh` alone installs what it can and reports.
#
# MPICH (Debian's libmpich-dev + mpich): the ABI runs compile the C tests with MPICH's
# mpicc and run them on our library. When it is missing, it is installed with apt-get if we
# are root and apt-get exists (set OXIMPI_NO_INSTALL=1 to forbid that). When it cannot be
# had, the runs that need it are skipped and listed loudly at the end of make test; under CI
# (CI=true) a skipped run is a failure, so CI always runs everything.

mpich_cc=/usr/bin/mpicc.mpich

# have_mpich: 0 when MPICH's compiler wrapper is here (installing it if we can).
have_mpich() {
    [ -x "$mpich_cc" ] && return 0
    if [ "${OXIMPI_NO_INSTALL:-0}" = 1 ]; then
        echo "deps: MPICH is missing and OXIMPI_NO_INSTALL=1 forbids installing it"
        return 1
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "deps: MPICH is missing and cannot be installed here (needs root and apt-get:"
        echo "      apt-get install libmpich-dev mpich)"
        return 1
    fi
    echo "deps: installing Debian's MPICH (libmpich-dev mpich) for the ABI runs"
    export DEBIAN_FRONTEND=noninteractive
    # An apt-get update first only when the package is unknown to the local lists.
    if ! apt-cache show libmpich-dev >/dev/null 2>&1; then
        timeout 600 apt-get update -q || true
    fi
    timeout 900 apt-get install -y -q --no-install-recommends libmpich-dev mpich </dev/null ||
        { timeout 600 apt-get update -q && timeout 900 apt-get install -y -q \
            --no-install-recommends libmpich-dev mpich </dev/null; } || true
    [ -x "$mpich_cc" ]
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    if have_mpich; then echo "deps: MPICH present ($mpich_cc)"; else exit 1; fi
fi
