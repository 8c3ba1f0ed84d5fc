//! The segment of a process with no peers on its node. (The engine's fabric is
//! `transport::net::Net`, which wraps the node segment and the sockets.)

use super::shm::{Shm, ShmConfig, HDR_BYTES};
use std::io;
use std::os::fd::AsRawFd;

// The engine writes its header into a cell's header bytes: both sides must agree.
const _: () = assert!(HDR_BYTES == crate::transport::fabric::HDR_BYTES);

/// A one-rank segment for a process without peers on its node (a singleton, or the only
/// rank of a job on this host): an anonymous memfd nobody else maps.
pub fn private_segment(cfg: &ShmConfig) -> io::Result<Shm> {
    // The mapping keeps the memory alive after the fd is dropped (closed) here.
    let fd = super::fd::memfd_create(c"oximpi-private")?;
    Shm::from_fd(fd.as_raw_fd(), 1, 0, cfg)
}
