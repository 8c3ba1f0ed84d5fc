#!/bin/sh
# Builds the Fortran part of the prefix OUT (called by scripts/build.sh after libmpi.so.12
# and the headers are in place):
#   OUT/lib/libmpifort.so.12, libmpichfort.so.12 (+ .so links): MPICH names its Fortran
#       library libmpifort.so.12, Debian renames it libmpichfort.so.12; Fortran programs
#       built by either NEED that name. Both hold the code of the `use mpi_f08` modules and
#       their wrappers (compiled by gfortran: TYPE(*), DIMENSION(..) arguments arrive as
#       gfortran's own descriptors) and NEED libmpi.so.12, where the mpif.h / `use mpi`
#       bindings are (src/abi/fortran).
#   OUT/include/mpi.mod, mpi_f08.mod, pmpi_f08.mod, mpi_f08_types.mod, ...: a .mod file is
#       specific to the compiler that wrote it, so they are compiled here, as MPICH does.
# Without gfortran the libraries are empty shims that only bring in libmpi.so.12 (mpif.h
# programs still work) and no .mod is installed. The objects are kept in target/fortran and
# rebuilt only when a source is newer (the wrappers take a minute to compile).
#
#   sh fortran/build.sh OUT
set -eu
out=$1
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
cd "$root"
FC=${FC:-gfortran}
obj=$root/target/fortran
mkdir -p "$obj"

# Compile order = module dependencies.
units="mpi mpi_f08_types mpi_f08_constants mpi_f08_callbacks oxi_f08_glue mpi_f08
mpi_f08_wrappers"
mods="mpi mpi_f08 pmpi_f08 mpi_f08_types mpi_f08_compile_constants mpi_f08_link_constants
mpi_f08_callbacks"

shim() {
    : | ${CC:-cc} -x c -shared -o "$out/lib/.$1.so.12.tmp" -Wl,-soname,$1.so.12 \
        -Wl,--no-as-needed -Wl,-rpath,'$ORIGIN' -L"$out/lib" -lmpi -
}

objects=
if command -v "$FC" >/dev/null 2>&1; then
    stale=
    for u in $units; do
        # A unit is rebuilt when it or anything compiled before it changed.
        if [ -n "$stale" ] || [ ! -f "$obj/$u.o" ] || [ "fortran/$u.f90" -nt "$obj/$u.o" ] \
            || [ include/mpif.h -nt "$obj/$u.o" ]; then
            stale=1
            # -fallow-argument-mismatch: the wrappers call the `use mpi` bindings through
            # implicit interfaces, with arguments of the f08 types. -I"$obj" first: the
            # modules just compiled, not the installed ones.
            if ! "$FC" -c -fPIC -O1 -fallow-argument-mismatch -w -I"$obj" -Iinclude -Ifortran \
                -J"$obj" -o "$obj/$u.o" "fortran/$u.f90"; then
                echo "build.sh: warning: $FC failed to compile fortran/$u.f90;" \
                    "no Fortran modules" >&2
                rm -f "$obj/$u.o"
                objects=none
                break
            fi
        fi
        objects="$objects $obj/$u.o"
    done
    if [ "$objects" != none ]; then
        for m in $mods; do
            cp "$obj/$m.mod" "$out/include/.$m.mod.tmp"
            mv -f "$out/include/.$m.mod.tmp" "$out/include/$m.mod"
        done
    fi
else
    echo "build.sh: notice: no Fortran compiler ($FC): skipping the Fortran modules;" \
        "mpif.h and the mpif.h bindings are installed" >&2
fi

for fort in libmpifort libmpichfort; do
    if [ -n "$objects" ] && [ "$objects" != none ]; then
        # shellcheck disable=SC2086
        "$FC" -shared -o "$out/lib/.$fort.so.12.tmp" -Wl,-soname,$fort.so.12 $objects \
            -Wl,--no-as-needed -Wl,-rpath,'$ORIGIN' -L"$out/lib" -lmpi
    else
        shim $fort
    fi
    mv -f "$out/lib/.$fort.so.12.tmp" "$out/lib/$fort.so.12"
    ln -sfn $fort.so.12 "$out/lib/$fort.so"
done
