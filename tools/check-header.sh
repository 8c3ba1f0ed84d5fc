#!/bin/sh
# Checks of include/mpi.h that need no OxiMPI library:
#   1. it compiles warning-free as C99, C11 (-pedantic) and C++11;
#   2. every MPICH 4.0.2 constant and ABI layout matches (compare-constants.py);
#   3. its prototypes agree with MPICH's and cover mpi-functions.tsv (export-check.py);
#   4. export-check.py's own self-test;
#   5. a program compiled against it runs on MPICH's library (header-abi-smoke.c, 2 ranks).
# Steps 2, 3 and 5 need Debian's libmpich-dev / mpich and are skipped without them.
# Usage: sh tools/check-header.sh    (from the repository root; exit status 1 on failure)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
# The reference tables live in the repository (reference/, copied from the project's shared/).
tsv="$root/reference/mpi-functions.tsv"
mpich_inc=/usr/include/x86_64-linux-gnu/mpich
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
step() { printf '== %s\n' "$1"; }
bad() { printf 'FAILED: %s\n' "$1"; fail=1; }

step "compile the header"
printf '#include <mpi.h>\n#include <mpio.h>\nint main(void) { return MPI_SUCCESS; }\n' > "$tmp/t.c"
cp "$tmp/t.c" "$tmp/t.cpp"
for cc in "gcc -std=c99 -Wall -Wextra -pedantic" "gcc -std=c11 -Wall -Wextra -pedantic" \
          "gcc -std=c89 -Wall -Wextra -pedantic -Wno-long-long" "g++ -std=c++11 -Wall -Wextra -pedantic"; do
    src="$tmp/t.c"; case "$cc" in g++*) src="$tmp/t.cpp";; esac
    out=$($cc -Werror -I"$root/include" -c "$src" -o "$tmp/t.o" 2>&1) || bad "$cc: $out"
done

if [ ! -f "$tsv" ]; then
    bad "reference/mpi-functions.tsv is missing"
elif [ -f "$mpich_inc/mpi.h" ]; then
    step "constants and layouts vs MPICH"
    timeout 300 python3 "$root/tools/compare-constants.py" --ours "$root/include/mpi.h" || bad "compare-constants"
    step "prototypes vs MPICH and the tsv"
    timeout 300 python3 "$root/tools/export-check.py" --header "$root/include/mpi.h" --tsv "$tsv" \
        --mpich-proto "$mpich_inc/mpi_proto.h" || bad "export-check (header)"
fi

step "export-check self-test"
timeout 300 python3 "$root/tools/test-export-check.py" > "$tmp/selftest.log" 2>&1 || { cat "$tmp/selftest.log"; bad "test-export-check"; }

if [ -f /usr/lib/x86_64-linux-gnu/libmpich.so.12 ] && command -v mpiexec.mpich > /dev/null; then
    step "our header on MPICH's library (C and C++, 2 ranks)"
    gcc -std=c99 -Wall -Wextra -pedantic -Werror -I"$root/include" "$root/tools/header-abi-smoke.c" \
        -o "$tmp/smoke" -lmpich || bad "build smoke (C)"
    cp "$root/tools/header-abi-smoke.c" "$tmp/smoke.cpp"
    g++ -std=c++11 -Wall -Wextra -Werror -I"$root/include" "$tmp/smoke.cpp" -o "$tmp/smokepp" -lmpich \
        || bad "build smoke (C++)"
    timeout 120 mpiexec.mpich -n 2 "$tmp/smoke" || bad "smoke (C) on MPICH"
    timeout 120 mpiexec.mpich -n 2 "$tmp/smokepp" || bad "smoke (C++) on MPICH"
fi

[ $fail -eq 0 ] && echo "all header checks passed"
exit $fail
