//! The lock-free algorithms of the node segment (src/transport/shm), compiled on their own
//! under `--cfg loom` so that their model-check tests (`loom_tests` in each file) explore
//! every interleaving and memory order loom allows. The files are included exactly as the
//! library compiles them; only `sync.rs` differs between the two builds (std's or loom's
//! atomics). Run with `scripts/loom.sh`.

#![allow(dead_code)]

#[path = "../src/transport/shm/sync.rs"]
mod sync;

#[path = "../src/transport/shm/queue.rs"]
mod queue;

#[path = "../src/transport/shm/doorbell.rs"]
mod doorbell;
