#!/usr/bin/env bash
# tests-tcp/run.sh: the whole tests-c suite with every rank-to-rank message over TCP
# (OXIMPI_TRANSPORT=tcp, on loopback), so the TCP transport runs in CI without several hosts.
#
# usage: tests-tcp/run.sh [any tests-c/run.sh option: --filter REGEX, --timeout S, ...]
#
# The suite runs in a shadow tree whose build/bin/mpiexec is a wrapper adding
# `-genv OXIMPI_TRANSPORT tcp -genv OXIMPI_TCP_IFACE lo` (explicit, so that it holds also for
# the tests that clear or rebuild the environment of their ranks) and whose manifests leave
# out the skipped tests; everything else (the compilers, the library, the tests) is the real
# tree's, by symlink. The shadow tree keeps its own build/tests-c/ (binaries, logs) and is
# removed at exit.
#
# Skips (tests that cannot mean anything over TCP) are listed in tests-tcp/skip with reasons.
set -u
here=$(cd -P -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$here")
if [ ! -x "$root/build/bin/mpiexec" ]; then
    echo "tests-tcp: $root/build/bin/mpiexec not found (run scripts/build.sh)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
shadow=$(mktemp -d "${TMPDIR:-/tmp}/oximpi-tcp.XXXXXX")
trap 'rm -rf -- "$shadow"' EXIT
mkdir -p "$shadow/build/bin" "$shadow/tests-c/manifest.d"
for d in "$root"/build/*; do
    case $(basename -- "$d") in bin | tests-c) ;; *) ln -s "$d" "$shadow/build/" ;; esac
done
for f in "$root"/build/bin/*; do
    [ "$(basename -- "$f")" = mpiexec ] || ln -s "$f" "$shadow/build/bin/"
done
cat >"$shadow/build/bin/mpiexec" <<WRAP
#!/bin/sh
exec "$root/build/bin/mpiexec" -genv OXIMPI_TRANSPORT tcp -genv OXIMPI_TCP_IFACE lo "\$@"
WRAP
chmod +x "$shadow/build/bin/mpiexec"
for f in "$root"/tests-c/*; do
    case $(basename -- "$f") in run.sh | manifest | manifest.d) ;; *) ln -s "$f" "$shadow/tests-c/" ;; esac
done
cp "$root/tests-c/run.sh" "$shadow/tests-c/run.sh"
# The manifests, less the skipped tests (tests-tcp/skip: NAME  reason).
skips=$(grep -Ev '^[[:space:]]*(#|$)' "$here/skip" 2>/dev/null | awk '{print $1}')
drop() {
    if [ -z "$skips" ]; then cat; else grep -Ev "^($(echo "$skips" | paste -sd'|'))[[:space:]]"; fi
}
drop <"$root/tests-c/manifest" >"$shadow/tests-c/manifest"
for m in "$root"/tests-c/manifest.d/*; do
    drop <"$m" >"$shadow/tests-c/manifest.d/$(basename -- "$m")"
done
if [ -n "$skips" ]; then
    grep -Ev '^[[:space:]]*(#|$)' "$here/skip" | while read -r name why; do
        echo "SKIP    $name (over TCP: $why)"
    done
fi
bash "$shadow/tests-c/run.sh" "$@"
