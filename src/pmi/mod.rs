//! PMI clients (the library side of the launcher contract) and singleton mode.
//!
//! * [`wire`]: the PMI-1 line format, shared with `mpiexec`'s server.
//! * [`client`]: [`Pmi`], the PMI-1 client (`PMI_FD` or hydra's `PMI_PORT`).
//! * [`mapping`]: `PMI_process_mapping` → node index of each rank.
//! * [`launcher`]: where to find `mpiexec` when a singleton needs one.
//!
//! `Pmi::connect()` returning `Ok(None)` is singleton mode: no launcher, rank 0 of 1.
//! `Pmi::start_launcher()` gives such a process a launcher on demand (to spawn).

pub mod client;
mod launcher;
pub mod mapping;
pub mod wire;

pub use client::{Pmi, PmiError, SpawnCmd};
