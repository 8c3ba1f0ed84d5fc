//! What the point-to-point engine needs from a node-local transport: cells with an opaque
//! header and a payload, sent to a local rank, polled FIFO per sender, returned to their
//! owner after use, and a doorbell to sleep on. The shared-memory transport implements it
//! for real; `Loopback` implements it in one process for the engine's unit tests.

use std::time::Duration;

pub const HDR_BYTES: usize = 48;

pub trait Fabric: Send + Sync {
    type Cell;
    type Rx;
    fn me(&self) -> usize;
    fn payload_capacity(&self) -> usize;
    /// Peers beyond the node's slots (processes of other jobs, over sockets): fabric
    /// indices `nlocal..nlocal + remote_peers()`; they grow while the process runs.
    fn remote_peers(&self) -> usize {
        0
    }
    fn alloc(&self) -> Option<Self::Cell>;
    fn header_mut<'a>(&'a self, c: &'a mut Self::Cell) -> &'a mut [u8; HDR_BYTES];
    fn payload_mut<'a>(&'a self, c: &'a mut Self::Cell) -> &'a mut [u8];
    fn send(&self, dst: usize, c: Self::Cell, len: usize);
    fn poll(&self) -> Option<Self::Rx>;
    fn src(&self, r: &Self::Rx) -> usize;
    fn header<'a>(&'a self, r: &'a Self::Rx) -> &'a [u8; HDR_BYTES];
    fn payload<'a>(&'a self, r: &'a Self::Rx) -> &'a [u8];
    fn release(&self, r: Self::Rx);
    /// A ticket of my doorbell, taken before the last check for work.
    fn ticket(&self) -> u32;
    /// Sleeps until rung after `ticket`, inbound traffic arrives, or `timeout` passes.
    fn wait_since(&self, ticket: u32, timeout: Duration);
    fn ring(&self, dst: usize);
    fn pid_of(&self, local: usize) -> i32;
    /// Single-copy read of another local process's memory; Err when the kernel forbids it.
    fn read_remote(
        &self,
        local: usize,
        remote: &[(usize, usize)],
        dst: &mut [&mut [u8]],
    ) -> std::io::Result<usize>;
}
