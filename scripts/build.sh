#!/bin/sh
# Build OxiMPI and assemble the install prefix build/ (the layout other tools rely on):
#   build/lib/libmpi.so.12   copy of target/release/libmpi.so
#   build/lib/libmpi.so, libmpich.so.12, libmpich.so  -> libmpi.so.12  (so binaries linked
#                            against MPICH's libmpich.so.12 find us through LD_LIBRARY_PATH)
#   build/include/mpi.h, mpio.h
#   build/bin/mpicc, mpicxx, mpiexec
set -eu
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
cd "$root"

cargo build --release

out=$root/build
mkdir -p "$out/lib" "$out/include" "$out/bin"

# Copy through a temporary name and rename, so a running job never sees a half-written library.
cp target/release/libmpi.so "$out/lib/.libmpi.so.12.tmp"
mv -f "$out/lib/.libmpi.so.12.tmp" "$out/lib/libmpi.so.12"
for link in libmpi.so libmpich.so.12 libmpich.so; do
    ln -sfn libmpi.so.12 "$out/lib/$link"
done

for h in mpi.h mpio.h; do
    if [ -f "include/$h" ]; then
        cp "include/$h" "$out/include/$h"
    else
        echo "build.sh: warning: include/$h does not exist yet" >&2
    fi
done

# cp follows the mpicxx -> mpicc symlink: build/bin gets two real files, and the wrapper
# picks its C or C++ personality from the name it is called by.
for w in mpicc mpicxx; do
    cp mpicc-wrapper/$w "$out/bin/.$w.tmp"
    chmod 755 "$out/bin/.$w.tmp"
    mv -f "$out/bin/.$w.tmp" "$out/bin/$w"
done
cp target/release/mpiexec "$out/bin/.mpiexec.tmp"
mv -f "$out/bin/.mpiexec.tmp" "$out/bin/mpiexec"

echo "build.sh: OxiMPI installed in $out"
