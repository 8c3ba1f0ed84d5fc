//! PMI clients (the library side of the launcher contract) and singleton mode.
//!
//! * [`connection`]: [`Pmi`], the one face the runtime uses; picks the protocol from the
//!   environment and watches the launcher.
//! * [`client`]: the PMI-1 client (our mpiexec's `PMI_FD`, hydra's `PMI_PORT`).
//! * [`pmi2`]: the PMI-2 wire client (Slurm's `srun --mpi=pmi2`).
//! * [`pmix`]: the PMIx client over the run-time loaded libpmix (`srun --mpi=pmix`).
//! * [`watch`]: ends a rank whose launcher is gone (issue 15).
//! * [`wire`]: the PMI-1 line format, shared with `mpiexec`'s server; [`conn`]: the socket.
//! * [`mapping`]: `PMI_process_mapping` → node index of each rank.
//! * [`launcher`]: where to find `mpiexec` when a singleton needs one.
//!
//! `Pmi::connect()` returning `Ok(None)` is singleton mode: no launcher, rank 0 of 1.
//! `Pmi::start_launcher()` gives such a process a launcher on demand (to spawn).

pub mod client;
mod conn;
pub mod connection;
mod error;
mod launcher;
pub mod mapping;
mod pmi2;
mod pmix;
mod watch;
pub mod wire;

pub use client::SpawnCmd;
pub use connection::Pmi;
pub use error::PmiError;
