#!/bin/sh
# Set up MPICH 5 from the PyPI `mpich` wheel for the benchmarks and say how to use it.
#
# usage: bench/mpich-wheel.sh
#
# Installed into its own venv, bench/.venv-mpich, on the first call (later calls only check
# it). Same contract as bench/openmpi.sh: on success prints the compiler wrapper (line 1) and
# the launcher command line (line 2; the caller appends `-n N prog args`) and exits 0;
# otherwise prints the reason in one line and exits 1. pip's output goes to stderr.
# The launcher is the wheel's hydra with its defaults (shared memory within one node), as a
# user of the wheel would run it.
set -u
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
venv=$here/.venv-mpich
cc=$venv/bin/mpicc
launcher=$venv/bin/mpiexec

if [ ! -x "$cc" ] || [ ! -x "$launcher" ]; then
    if [ ! -x "$venv/bin/pip" ] && ! timeout 120 python3 -m venv "$venv" >&2; then
        echo "python3 -m venv $venv failed"
        exit 1
    fi
    echo "bench/mpich-wheel.sh: installing the PyPI mpich wheel into $venv" >&2
    if ! timeout 600 "$venv/bin/pip" install --disable-pip-version-check mpich >&2; then
        echo "pip install mpich failed (see the pip output above)"
        exit 1
    fi
    if [ ! -x "$cc" ] || [ ! -x "$launcher" ]; then
        echo "the mpich wheel installed no bin/mpicc or bin/mpiexec in $venv"
        exit 1
    fi
fi
if ! version=$(timeout 30 "$launcher" --version 2>&1 | grep -m1 -i version) || [ -z "$version" ]; then
    echo "$launcher --version failed"
    exit 1
fi
echo "bench/mpich-wheel.sh: $version" >&2
echo "$cc"
echo "$launcher"
