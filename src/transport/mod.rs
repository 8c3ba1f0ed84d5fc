//! Transports below the progress engine: shared memory on the node, TCP across hosts.

pub mod fd;
pub mod loopback;
pub mod mem;
pub mod net;
pub mod pmix;
pub mod process;
pub mod shared_map;
pub mod shm;
pub mod shm_fabric;
pub mod sock;
