//! Transports below the progress engine: shared memory on the node, TCP across hosts.
pub mod shm;
