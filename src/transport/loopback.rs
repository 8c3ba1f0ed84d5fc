//! An in-process fabric: several engines in one process (one per thread) exchange cells
//! through a hub. It exists so the point-to-point engine's protocols — eager, rendezvous,
//! pipelined fallback, backlog when cells run out — can be unit-tested without processes.

use super::fabric::{Fabric, HDR_BYTES};
use super::mem::UserPtr;
use parking_lot::Mutex;
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

struct CellBuf {
    hdr: [u8; HDR_BYTES],
    payload: Vec<u8>,
}

pub struct Hub {
    cells: Vec<UnsafeCell<CellBuf>>,
    per_rank: usize,
    free: Vec<Mutex<Vec<u32>>>,
    inbound: Vec<Mutex<VecDeque<(u32, usize, usize)>>>,
    cap: usize,
    allow_cma: bool,
}

// SAFETY: a cell is touched only by the holder of its token: the owner between alloc and
// send, the receiver between poll and release; the queues hand tokens over under a mutex.
unsafe impl Sync for Hub {}
// SAFETY: as above; the raw cells move between threads only through the mutex-protected queues.
unsafe impl Send for Hub {}

impl Hub {
    pub fn new(ranks: usize, cells_per_rank: usize, cap: usize, allow_cma: bool) -> Arc<Hub> {
        let cells = (0..ranks * cells_per_rank)
            .map(|_| {
                UnsafeCell::new(CellBuf {
                    hdr: [0; HDR_BYTES],
                    payload: vec![0; cap],
                })
            })
            .collect();
        let free = (0..ranks)
            .map(|r| {
                Mutex::new(
                    ((r * cells_per_rank) as u32..((r + 1) * cells_per_rank) as u32).collect(),
                )
            })
            .collect();
        let inbound = (0..ranks).map(|_| Mutex::new(VecDeque::new())).collect();
        Arc::new(Hub {
            cells,
            per_rank: cells_per_rank,
            free,
            inbound,
            cap,
            allow_cma,
        })
    }
}

pub struct Loopback {
    pub hub: Arc<Hub>,
    pub me: usize,
}

#[derive(Clone, Copy)]
pub struct Rx(u32, usize, usize);

impl Loopback {
    #[allow(clippy::mut_from_ref)]
    fn cell(&self, c: u32) -> &mut CellBuf {
        // SAFETY: see `unsafe impl Sync for Hub`: the caller holds this cell's token.
        unsafe { &mut *self.hub.cells[c as usize].get() }
    }
}

impl Fabric for Loopback {
    type Cell = u32;
    type Rx = Rx;
    fn me(&self) -> usize {
        self.me
    }
    fn payload_capacity(&self) -> usize {
        self.hub.cap
    }
    fn alloc(&self) -> Option<u32> {
        self.hub.free[self.me].lock().pop()
    }
    fn header_mut<'a>(&'a self, c: &'a mut u32) -> &'a mut [u8; HDR_BYTES] {
        &mut self.cell(*c).hdr
    }
    fn payload_mut<'a>(&'a self, c: &'a mut u32) -> &'a mut [u8] {
        &mut self.cell(*c).payload
    }
    fn send(&self, dst: usize, c: u32, len: usize) {
        self.hub.inbound[dst].lock().push_back((c, self.me, len));
    }
    /// Small messages up to 1 KiB, as the node's fast box takes them: here a cell filled
    /// from the caller's memory, so the engine's cell-less path is exercised too.
    fn send_small(&self, dst: usize, hdr: &[u8; HDR_BYTES], payload: &[u8]) -> bool {
        if payload.len() > 1024 || payload.len() > self.hub.cap {
            return false;
        }
        let Some(c) = self.alloc() else {
            return false;
        };
        let cell = self.cell(c);
        cell.hdr = *hdr;
        cell.payload[..payload.len()].copy_from_slice(payload);
        self.send(dst, c, payload.len());
        true
    }
    fn poll(&self) -> Option<Rx> {
        self.hub.inbound[self.me]
            .lock()
            .pop_front()
            .map(|(c, s, l)| Rx(c, s, l))
    }
    fn src(&self, r: &Rx) -> usize {
        r.1
    }
    fn header<'a>(&'a self, r: &'a Rx) -> &'a [u8; HDR_BYTES] {
        &self.cell(r.0).hdr
    }
    fn payload<'a>(&'a self, r: &'a Rx) -> &'a [u8] {
        &self.cell(r.0).payload[..r.2]
    }
    fn release(&self, r: Rx) {
        let owner = r.0 as usize / self.hub.per_rank;
        self.hub.free[owner].lock().push(r.0);
    }
    /// Threads of one process: the scheduler places them, there is no hint to share.
    fn peer_on_my_cpu(&self) -> bool {
        false
    }
    fn ticket(&self) -> u32 {
        0
    }
    fn wait_since(&self, _ticket: u32, timeout: Duration) {
        std::thread::sleep(timeout.min(Duration::from_micros(50)));
    }
    fn ring(&self, _dst: usize) {}
    fn pid_of(&self, _local: usize) -> i32 {
        std::process::id() as i32
    }
    fn read_remote(
        &self,
        _local: usize,
        remote: &[(usize, usize)],
        dst: &[(UserPtr, usize)],
    ) -> std::io::Result<usize> {
        if !self.hub.allow_cma {
            return Err(std::io::Error::from_raw_os_error(libc::EPERM));
        }
        // Same address space: the "remote" ranges are readable here.
        let mut src: Vec<u8> = Vec::new();
        for &(a, l) in remote {
            // SAFETY: the sender keeps this range alive until it receives FIN (engine protocol).
            src.extend_from_slice(unsafe { std::slice::from_raw_parts(a as *const u8, l) });
        }
        let mut off = 0;
        for &(d, l) in dst {
            let n = l.min(src.len() - off);
            d.write(0, &src[off..off + n]);
            off += n;
        }
        Ok(off)
    }
}
