//! Transports below the progress engine: shared memory on the node, TCP across hosts.
//! `fabric::Fabric` is the interface the engine drives; `links::Links` the one the dynamic-
//! process layer uses to open ports and reach other jobs; `mem::UserPtr` is where user
//! addresses become byte copies; `exclusive` the locking mode the thread level sets, which the
//! engine's lock and the segment's process-local locks follow.

pub mod coll_region;
pub mod cpu;
pub mod exclusive;
pub mod fabric;
pub mod fd;
pub mod links;
pub mod loopback;
pub mod mem;
pub mod net;
pub mod pmix;
pub mod process;
pub mod shared_map;
pub mod shm;
pub mod shm_fabric;
pub mod sock;
pub mod tcp;
