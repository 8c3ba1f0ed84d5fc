//! OxiMPI: an MPI library with the MPICH ABI. See design.md (shared/) for the map:
//! `abi` is the C surface; below it nothing knows C handles or `c_int` error codes.

pub mod abi;
pub mod coll;
pub mod comm_build;
pub mod datatype;
pub mod dpm;
pub mod error;
pub mod ft;
pub mod handle;
pub mod io;
pub mod object;
pub mod op;
pub mod p2p;
pub mod pmi;
pub mod progress;
pub mod rma;
pub mod runtime;
pub mod settings;
pub mod tool;
pub mod topo;
pub mod transport;
