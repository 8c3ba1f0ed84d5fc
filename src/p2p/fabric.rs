//! What the point-to-point engine needs from a node-local transport: cells with an opaque
//! header and a payload, sent to a local rank, polled FIFO per sender, returned to their
//! owner after use, and a doorbell to sleep on. The shared-memory transport implements it
//! for real; `Loopback` implements it in one process for the engine's unit tests.

use std::time::Duration;

pub const HDR_BYTES: usize = 48;

pub trait Fabric: Send + Sync {
    type Cell: Copy;
    type Rx: Copy;
    fn me(&self) -> usize;
    fn payload_capacity(&self) -> usize;
    fn alloc(&self) -> Option<Self::Cell>;
    #[allow(clippy::mut_from_ref)]
    fn header_mut(&self, c: Self::Cell) -> &mut [u8; HDR_BYTES];
    #[allow(clippy::mut_from_ref)]
    fn payload_mut(&self, c: Self::Cell) -> &mut [u8];
    fn send(&self, dst: usize, c: Self::Cell, len: usize);
    fn poll(&self) -> Option<Self::Rx>;
    fn src(&self, r: Self::Rx) -> usize;
    fn header(&self, r: Self::Rx) -> &[u8; HDR_BYTES];
    fn payload(&self, r: Self::Rx) -> &[u8];
    fn release(&self, r: Self::Rx);
    fn wait(&self, timeout: Duration);
    fn ring(&self, dst: usize);
    fn pid_of(&self, local: usize) -> i32;
    /// Single-copy read of another local process's memory; Err when the kernel forbids it.
    fn read_remote(&self, local: usize, remote: &[(usize, usize)], dst: &mut [&mut [u8]]) -> std::io::Result<usize>;
}
