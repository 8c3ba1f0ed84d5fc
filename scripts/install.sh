#!/bin/sh
# Install the prefix that scripts/build.sh assembled in build/ under PREFIX, as MPICH lays
# itself out, or remove such an installation:
#
#   scripts/install.sh [--prefix DIR] [--destdir DIR]            (make install)
#   scripts/install.sh --uninstall [--prefix DIR] [--destdir DIR] (make uninstall)
#
#   PREFIX/bin/      mpicc, mpicxx (+ mpic++), mpifort, mpif77, mpif90, mpiexec (+ mpirun)
#   PREFIX/lib/      libmpi.so.12 (SONAME libmpi.so.12); libmpi.so, libmpich.so -> it;
#                    libmpich.so.12, the shim build.sh makes (binaries linked against
#                    MPICH's libmpich.so.12 load us); libmpifort.so.12 and libmpichfort.so.12
#                    (+ .so links), the Fortran shims; pkgconfig/mpi.pc, mpich.pc, mpi-c.pc,
#                    mpi-cxx.pc
#   PREFIX/include/  mpi.h, mpio.h, mpif.h, mpi.mod (when build.sh had gfortran)
#   PREFIX/share/doc/oximpi/  README.md, design notes
#   PREFIX/share/oximpi/install-manifest.txt   every file installed (what uninstall removes)
#
# The installation is relocatable: the wrappers find their prefix from their own path and
# the .pc files from theirs (${pcfiledir}), so a DESTDIR staging tree or a moved prefix works
# as is. After installing into a directory the dynamic loader searches (/usr/local/lib on
# Debian), run `ldconfig` so programs that load libmpi.so.12 by name (the mpi4py wheel,
# rsmpi binaries, MPICH-built binaries) find OxiMPI with no environment variable.
set -eu
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
prefix=/usr/local
destdir=
mode=install
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --destdir) destdir=${2?--destdir needs a directory}; shift 2 ;;
        --destdir=*) destdir=${1#*=}; shift ;;
        --uninstall) mode=uninstall; shift ;;
        -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case $prefix in
    /*) ;;
    *) echo "install.sh: --prefix must be an absolute path, not '$prefix'" >&2; exit 2 ;;
esac
dest=$destdir$prefix
manifest_rel=share/oximpi/install-manifest.txt

if [ "$mode" = uninstall ]; then
    if [ ! -f "$dest/$manifest_rel" ]; then
        echo "install.sh: no OxiMPI installation in $dest ($manifest_rel is missing)" >&2
        exit 1
    fi
    # Files and links first, then the directories we made, deepest first, if now empty.
    while IFS= read -r f; do
        rm -f -- "$dest/$f"
    done <"$dest/$manifest_rel"
    rm -f -- "$dest/$manifest_rel"
    for d in share/oximpi share/doc/oximpi lib/pkgconfig share/doc share include lib bin; do
        rmdir -- "$dest/$d" 2>/dev/null || true
    done
    echo "install.sh: OxiMPI removed from $dest"
    exit 0
fi

src=$root/build
if [ ! -e "$src/lib/libmpi.so.12" ] || [ ! -x "$src/bin/mpiexec" ]; then
    echo "install.sh: build/ is incomplete; run 'make' (scripts/build.sh) first" >&2
    exit 1
fi
version=$(sed -n 's/^#define OXIMPI_VERSION "\(.*\)"/\1/p' "$root/include/mpi.h")

installed=
# put SRC REL MODE: copy SRC to $dest/REL through a temporary name (a running program never
# sees half a file) and record REL.
put() {
    mkdir -p -- "$(dirname -- "$dest/$2")"
    cp -- "$1" "$dest/$2.oximpi-tmp"
    chmod "$3" "$dest/$2.oximpi-tmp"
    mv -f -- "$dest/$2.oximpi-tmp" "$dest/$2"
    installed="$installed$2
"
}
# link TARGET REL: a relative symbolic link $dest/REL -> TARGET, recorded.
link() {
    mkdir -p -- "$(dirname -- "$dest/$2")"
    ln -sfn -- "$1" "$dest/$2"
    installed="$installed$2
"
}

put "$src/lib/libmpi.so.12" lib/libmpi.so.12 755
for l in libmpi.so libmpich.so; do
    link libmpi.so.12 lib/$l
done
put "$src/lib/libmpich.so.12" lib/libmpich.so.12 755
for fort in libmpifort libmpichfort; do
    put "$src/lib/$fort.so.12" lib/$fort.so.12 755
    link $fort.so.12 lib/$fort.so
done
for h in mpi.h mpio.h mpif.h; do
    put "$src/include/$h" include/$h 644
done
[ -f "$src/include/mpi.mod" ] && put "$src/include/mpi.mod" include/mpi.mod 644
put "$src/bin/mpicc" bin/mpicc 755
put "$src/bin/mpicxx" bin/mpicxx 755
for w in mpifort mpif77 mpif90; do
    put "$src/bin/$w" bin/$w 755
done
link mpicxx bin/mpic++
put "$src/bin/mpiexec" bin/mpiexec 755
link mpiexec bin/mpirun

# pkg-config files (made by build.sh, relocatable through ${pcfiledir}).
for pc in mpi mpich mpi-c mpi-cxx; do
    put "$src/lib/pkgconfig/$pc.pc" lib/pkgconfig/$pc.pc 644
done

put "$root/README.md" share/doc/oximpi/README.md 644
mkdir -p -- "$(dirname -- "$dest/$manifest_rel")"
printf '%s' "$installed" >"$dest/$manifest_rel"
echo "install.sh: OxiMPI $version installed in $dest"
case $prefix in
    /usr/local | /usr)
        [ -z "$destdir" ] && echo "install.sh: run 'ldconfig' so the loader finds $prefix/lib/libmpi.so.12" ;;
esac
