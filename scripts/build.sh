#!/bin/sh
# Build OxiMPI and assemble the install prefix build/ (the layout other tools rely on):
#   build/lib/libmpi.so.12   copy of target/release/libmpi.so
#   build/lib/libmpi.so, libmpich.so  -> libmpi.so.12  (for -lmpi / -lmpich at link time)
#   build/lib/libmpich.so.12  a shim with SONAME libmpich.so.12 that only needs libmpi.so.12:
#                            binaries built by MPICH's mpicc (NEEDED libmpich.so.12) load us
#                            through LD_LIBRARY_PATH or, once installed, through ldconfig
#   build/lib/libmpifort.so.12 (+ libmpifort.so, libmpichfort.so.12 / .so: Debian's name for
#                            it) the Fortran library, NEEDED libmpi.so.12: the `use mpi_f08`
#                            modules' code (gfortran); the mpif.h / `use mpi` bindings are in
#                            libmpi.so.12 (src/abi/fortran). See fortran/build.sh
#   build/include/mpi.h, mpio.h, mpif.h, mpi.mod, mpi_f08.mod, ... (the .mod files: only when
#                            gfortran is present)
#   build/bin/mpicc, mpicxx, mpifort, mpif77, mpif90, mpiexec
#   build/lib/pkgconfig/mpi.pc, mpich.pc, mpi-c.pc, mpi-cxx.pc
# scripts/install.sh (make install) copies this prefix to its place.
set -eu
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
cd "$root"

cargo build --release

out=$root/build
mkdir -p "$out/lib" "$out/include" "$out/bin"

# Copy through a temporary name and rename, so a running job never sees a half-written library.
cp target/release/libmpi.so "$out/lib/.libmpi.so.12.tmp"
mv -f "$out/lib/.libmpi.so.12.tmp" "$out/lib/libmpi.so.12"
for link in libmpi.so libmpich.so; do
    ln -sfn libmpi.so.12 "$out/lib/$link"
done
# The shim: no code, SONAME libmpich.so.12, DT_NEEDED libmpi.so.12 (found beside it through
# $ORIGIN). The loader's global lookup then resolves every MPI symbol of a MPICH-built binary
# in libmpi.so.12. A symlink would do for LD_LIBRARY_PATH, but ldconfig files a library under
# its SONAME, so only a real libmpich.so.12 wins over an installed MPICH's in the loader cache.
rm -f "$out/lib/libmpich.so.12"
: | ${CC:-cc} -x c -shared -o "$out/lib/.libmpich.so.12.tmp" -Wl,-soname,libmpich.so.12 \
    -Wl,--no-as-needed -Wl,-rpath,'$ORIGIN' -L"$out/lib" -lmpi -
mv -f "$out/lib/.libmpich.so.12.tmp" "$out/lib/libmpich.so.12"
for h in mpi.h mpio.h mpif.h; do
    if [ -f "include/$h" ]; then
        cp "include/$h" "$out/include/$h"
    else
        echo "build.sh: warning: include/$h does not exist yet" >&2
    fi
done

# The Fortran library and modules (libmpifort.so.12 / libmpichfort.so.12, mpi.mod,
# mpi_f08.mod, ...): fortran/build.sh says how.
sh fortran/build.sh "$out"

# cp follows the mpicxx -> mpicc symlink: build/bin gets two real files, and the wrapper
# picks its C or C++ personality from the name it is called by.
for w in mpicc mpicxx mpifort mpif77 mpif90; do
    cp mpicc-wrapper/$w "$out/bin/.$w.tmp"
    chmod 755 "$out/bin/.$w.tmp"
    mv -f "$out/bin/.$w.tmp" "$out/bin/$w"
done
cp target/release/mpiexec "$out/bin/.mpiexec.tmp"
mv -f "$out/bin/.mpiexec.tmp" "$out/bin/mpiexec"

# pkg-config: mpich.pc as MPICH names it, mpi.pc as Debian's alternatives name the default
# MPI, and the per-language mpi-c / mpi-cxx names. ${pcfiledir} makes them relocatable, so the
# same files serve build/ (PKG_CONFIG_PATH=build/lib/pkgconfig) and any installed prefix. The
# rpath lets a program linked with these flags start without LD_LIBRARY_PATH (MPICH's .pc
# has none because it installs into the loader's path; build/ is not there).
version=$(sed -n 's/^#define OXIMPI_VERSION "\(.*\)"/\1/p' include/mpi.h)
mkdir -p "$out/lib/pkgconfig"
for pc in mpi mpich mpi-c mpi-cxx; do
    cat >"$out/lib/pkgconfig/.$pc.pc.tmp" <<EOF
# OxiMPI $version: MPI 4.1 with the MPICH ABI (libmpi.so.12).
prefix=\${pcfiledir}/../..
exec_prefix=\${prefix}
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: $pc
Description: OxiMPI, an MPI implementation with the MPICH ABI
Version: $version
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lmpi
Cflags: -I\${includedir}

# As in MPICH's mpich.pc: flags pkg-config has no field for, read with --variable.
cxxflags=-I\${includedir}
EOF
    mv -f "$out/lib/pkgconfig/.$pc.pc.tmp" "$out/lib/pkgconfig/$pc.pc"
done

"$root/scripts/build-abi.sh"   # the MPI 5.0 standard-ABI library (libmpi_abi.so.1)

echo "build.sh: OxiMPI installed in $out"
