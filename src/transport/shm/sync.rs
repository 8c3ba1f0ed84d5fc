//! The atomics the lock-free algorithms use: std's normally, loom's under `--cfg loom`, so
//! the queue and doorbell code in this directory is model-checked exactly as it ships.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU32, Ordering};
