#!/bin/sh
# Build the MPI 5.0 standard-ABI library and add it to the build/ prefix:
#   build/lib/libmpi_abi.so.1   (SONAME libmpi_abi.so.1) + libmpi_abi.so -> it, for -lmpi_abi
#   build/include/mpi_abi.h     the standard ABI's header
#   build/bin/mpicc_abi, mpicxx_abi   the wrappers (= mpicc -mpi-abi)
# The library is the same crate built with the `std-abi` feature (src/abi/std): the
# MPICH-ABI functions are compiled in but not exported, the standard's are. It has its own
# target directory so the two builds do not invalidate each other.
# Called by scripts/build.sh; run alone after a change to src/abi/std.
set -eu
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
cd "$root"
out=$root/build
mkdir -p "$out/lib" "$out/include" "$out/bin"

# The soname: build.rs gives every cdylib of the crate -soname libmpi.so.12, after any
# argument passed here; ld keeps the last -soname it sees, so a linker wrapper appends ours
# behind everything rustc passes. -z defs: every OXIMPI_MPICH_* the face calls must be
# defined in the library (a shared object may otherwise link with undefined symbols).
mkdir -p target/std-abi
linker=target/std-abi/cc-soname-abi
printf '#!/bin/sh\nexec %s "$@" -Wl,-z,defs -Wl,-soname,libmpi_abi.so.1\n' "${CC:-cc}" >"$linker.tmp"
chmod 755 "$linker.tmp"
mv -f "$linker.tmp" "$linker"
cargo rustc --release --lib --crate-type cdylib --features std-abi-mpit --target-dir target/std-abi \
    -- -C linker="$root/$linker"

lib=target/std-abi/release/libmpi.so
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != libmpi_abi.so.1 ]; then
    echo "build-abi.sh: $lib has SONAME '$soname', not libmpi_abi.so.1" >&2
    exit 1
fi
cp "$lib" "$out/lib/.libmpi_abi.so.1.tmp"
mv -f "$out/lib/.libmpi_abi.so.1.tmp" "$out/lib/libmpi_abi.so.1"
ln -sfn libmpi_abi.so.1 "$out/lib/libmpi_abi.so"
cp include/mpi_abi.h "$out/include/.mpi_abi.h.tmp"
mv -f "$out/include/.mpi_abi.h.tmp" "$out/include/mpi_abi.h"
# <mpi.h> for programs built against the standard ABI (mpicc -mpi-abi puts this directory
# first): the standard's header under the name programs include.
mkdir -p "$out/include/abi"
printf '%s\n' '/* mpi.h of the MPI 5.0 standard ABI: see mpi_abi.h. */' \
    '#include "../mpi_abi.h"' >"$out/include/abi/.mpi.h.tmp"
mv -f "$out/include/abi/.mpi.h.tmp" "$out/include/abi/mpi.h"
for w in mpicc_abi mpicxx_abi; do
    cp mpicc-wrapper/mpicc_abi "$out/bin/.$w.tmp"
    chmod 755 "$out/bin/.$w.tmp"
    mv -f "$out/bin/.$w.tmp" "$out/bin/$w"
done
echo "build-abi.sh: libmpi_abi.so.1 installed in $out/lib"
