#!/bin/sh
# The loom model checks of the node segment's MPSC queue and doorbell (loom/: a crate that
# compiles src/transport/shm/{sync,queue,doorbell}.rs under `--cfg loom`). Its own target
# directory, so the library's build is never rebuilt with loom's cfg.
#
# usage: scripts/loom.sh [cargo test args...]
set -eu
root=$(cd -P -- "$(dirname -- "$0")/.." && pwd)
cd "$root/loom"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$root/target/loom" exec cargo test --release "$@"
