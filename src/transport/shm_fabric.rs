//! The shared-memory segment as the point-to-point engine's fabric.

use super::shm::{cma, Cell, Received, Shm, ShmConfig, HDR_BYTES};
use crate::p2p::fabric::Fabric;
use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

const _: () = assert!(HDR_BYTES == crate::p2p::fabric::HDR_BYTES);

/// A one-rank segment for a process without peers on its node (a singleton, or the only
/// rank of a job on this host): an anonymous memfd nobody else maps.
pub fn private_segment(cfg: &ShmConfig) -> io::Result<Shm> {
    // The mapping keeps the memory alive after the fd is dropped (closed) here.
    let fd = super::fd::memfd_create(c"oximpi-private")?;
    Shm::from_fd(fd.as_raw_fd(), 1, 0, cfg)
}

impl Fabric for Shm {
    type Cell = Cell;
    type Rx = Received;

    #[inline]
    fn me(&self) -> usize {
        Shm::me(self)
    }
    #[inline]
    fn payload_capacity(&self) -> usize {
        Shm::payload_capacity(self)
    }
    #[inline]
    fn alloc(&self) -> Option<Cell> {
        Shm::alloc(self)
    }
    #[inline]
    fn header_mut<'a>(&'a self, c: &'a mut Cell) -> &'a mut [u8; HDR_BYTES] {
        Shm::header_mut(self, c)
    }
    #[inline]
    fn payload_mut<'a>(&'a self, c: &'a mut Cell) -> &'a mut [u8] {
        Shm::payload_mut(self, c)
    }
    #[inline]
    fn send(&self, dst: usize, c: Cell, len: usize) {
        Shm::send(self, dst, c, len)
    }
    #[inline]
    fn poll(&self) -> Option<Received> {
        Shm::poll(self)
    }
    #[inline]
    fn src(&self, r: &Received) -> usize {
        r.src()
    }
    #[inline]
    fn header<'a>(&'a self, r: &'a Received) -> &'a [u8; HDR_BYTES] {
        Shm::header(self, r)
    }
    #[inline]
    fn payload<'a>(&'a self, r: &'a Received) -> &'a [u8] {
        Shm::payload(self, r)
    }
    #[inline]
    fn release(&self, r: Received) {
        Shm::release(self, r)
    }
    fn ticket(&self) -> u32 {
        self.doorbell_ticket()
    }
    fn wait_since(&self, ticket: u32, timeout: Duration) {
        Shm::wait_since(self, ticket, timeout)
    }
    fn ring(&self, dst: usize) {
        Shm::ring(self, dst)
    }
    fn pid_of(&self, local: usize) -> i32 {
        Shm::pid_of(self, local)
    }
    fn read_remote(
        &self,
        local: usize,
        remote: &[(usize, usize)],
        dst: &mut [&mut [u8]],
    ) -> io::Result<usize> {
        cma::read_into(self.pid_of(local), remote, dst)
    }
}
