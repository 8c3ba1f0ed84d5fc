//! The transport interface: what the point-to-point engine needs from whatever carries its
//! messages. Cells with an opaque header (`HDR_BYTES`) and a payload, sent to a fabric index,
//! polled FIFO per sender, returned to their owner after use, and a doorbell to sleep on.
//!
//! Implementations: `net::Net` (the node segment for our job's ranks on this host plus the
//! socket engine for other jobs' processes) in a real process, and `loopback::Loopback` in
//! one process for the engine's unit tests. TCP between hosts is a further arm of `Net`
//! (`transport::tcp`), as sockets are.
//! Nothing here knows of requests, matching or communicators: transport imports no p2p.

use super::mem::UserPtr;
use std::time::Duration;

pub const HDR_BYTES: usize = 48;
/// The largest payload any fabric's `send_small` takes, so the engine does not build a
/// header for a message no fabric would take. 2 KiB, the fast box's largest record
/// (`shm::fastbox::MAX_PAYLOAD`): a message up to there goes from the user's memory straight
/// into the ring, with no cell allocated, filled and copied again, and one the ring cannot
/// take now goes to a cell from the same straight line (`Engine::put_now`). Measured against
/// 256 (bench/p2p.c, 2 ranks, P50, medians of 11 alternating rounds, issue 13): ping-pong
/// 512 B 0.532 -> 0.516 us, 1 KiB 0.692 -> 0.679, 2 KiB 1.048 -> 0.959; window bandwidth
/// 1 KiB 2325 -> 3482 MB/s. (An earlier build found 1 KiB slower this way, 0.58 -> 0.69 us;
/// the ring has since stopped zeroing ahead after long records, `fastbox::ZERO_AFTER_MAX`.)
pub const SMALL_SEND_MAX: usize = 2048;

/// The header of a small eager message in its short form (issue 13): bytes 0..16 of the
/// 48 (`head`: kind, flags, context, source, tag as the engine encodes them) and bytes
/// 24..32 (`sreq`, the sender's request); its length field (16..24) is the payload's
/// length and bytes 32..48 are zero. These are exactly the parts the node segment's
/// compact fast-box record keeps, so [`Fabric::send_small_short`] writes them there
/// without building the 48 bytes, storing them to the stack and checking them for zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortHeader {
    pub head: [u8; 16],
    pub sreq: u64,
}

impl ShortHeader {
    /// The 48 bytes this stands for, with a payload of `len` bytes.
    #[inline]
    pub fn full(&self, len: usize) -> [u8; HDR_BYTES] {
        let mut h = [0u8; HDR_BYTES];
        h[..16].copy_from_slice(&self.head);
        h[16..24].copy_from_slice(&(len as u64).to_ne_bytes());
        h[24..32].copy_from_slice(&self.sreq.to_ne_bytes());
        h
    }
}

/// A peer the fabric can no longer reach (its connection failed or ended without a
/// goodbye): fabric index and why, for the failure detector above.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostPeer {
    pub index: usize,
    pub reason: String,
}

pub trait Fabric: Send + Sync {
    type Cell;
    type Rx;
    fn me(&self) -> usize;
    fn payload_capacity(&self) -> usize;
    /// Processes of other jobs (over sockets): fabric indices `base..base +
    /// remote_peers()`, where `base` is one past the last index of a world rank; they grow
    /// while the process runs.
    fn remote_peers(&self) -> usize {
        0
    }
    fn alloc(&self) -> Option<Self::Cell>;
    fn header_mut<'a>(&'a self, c: &'a mut Self::Cell) -> &'a mut [u8; HDR_BYTES];
    fn payload_mut<'a>(&'a self, c: &'a mut Self::Cell) -> &'a mut [u8];
    fn send(&self, dst: usize, c: Self::Cell, len: usize);
    /// `send` of a cell that holds a user's eager message (not a protocol message: RTS,
    /// FIN, acknowledgement), which the fabric may hold a while to write it with others to
    /// the same peer (TCP's coalescing), until the next `poll`, `wait_since` or
    /// `after_blocking_send`. The default: `send`.
    #[inline]
    fn send_eager(&self, dst: usize, c: Self::Cell, len: usize) {
        self.send(dst, c, len)
    }
    fn poll(&self) -> Option<Self::Rx>;
    fn src(&self, r: &Self::Rx) -> usize;
    fn header<'a>(&'a self, r: &'a Self::Rx) -> &'a [u8; HDR_BYTES];
    fn payload<'a>(&'a self, r: &'a Self::Rx) -> &'a [u8];
    fn release(&self, r: Self::Rx);
    /// Hands a run of small messages that wait in the fabric to `f` (sender's fabric
    /// index, header, payload), oldest first per sender, at most `max`, without an `Rx`
    /// each: what `poll`, `header`, `payload` and `release` do per message, done once for
    /// the run. `f` returns false to leave the message for `poll`. Returns the messages
    /// `f` consumed; a fabric without such a path (the default) hands none.
    fn drain_small(
        &self,
        _max: usize,
        _f: impl FnMut(usize, &[u8; HDR_BYTES], &[u8]) -> bool,
    ) -> usize {
        0
    }
    /// Looks at the oldest small message that waits from fabric index `peer` and consumes
    /// it only if `f` (header, payload) takes it (returns true): Some(true) taken,
    /// Some(false) left where it is (for `poll` or `drain_small` to hand out later), None
    /// when nothing from `peer` waits on that path now or the path cannot be used for it
    /// (another thread is polling, a message of `peer` is handed out, `peer` is not on
    /// such a path). What a blocking receive from one peer polls (`Engine::recv_from`):
    /// that peer's next message, and only if it is the one the receive matches, so the
    /// order of the others is untouched.
    ///
    /// The default: no such path (None), so the caller takes its general route; a fabric
    /// that can reach one sender's small messages directly overrides it (`Net`: the node
    /// segment's ring from that peer).
    fn take_small_from(
        &self,
        _peer: usize,
        _f: impl FnOnce(&[u8; HDR_BYTES], &[u8]) -> bool,
    ) -> Option<bool> {
        None
    }
    /// Called when a blocked call starts waiting: true when another process of the job
    /// last waited on the CPU this thread runs on, so that spinning would keep it off the
    /// CPU it needs (the waiting policy then yields at once). May move this thread first:
    /// with a core for every rank, off a CPU another rank waits on, to a free one; with
    /// more local ranks than cores, to its block's CPU (consecutive ranks share one,
    /// `shm::segment::placement`), where the answer may be true. Fabrics that cannot tell
    /// say false.
    fn peer_on_my_cpu(&self) -> bool;
    /// A ticket of my doorbell, taken before the last check for work.
    fn ticket(&self) -> u32;
    /// Sleeps until rung after `ticket`, inbound traffic arrives, or `timeout` passes.
    fn wait_since(&self, ticket: u32, timeout: Duration);
    fn ring(&self, dst: usize);
    fn pid_of(&self, local: usize) -> i32;
    /// Peers lost since the last call, each reported once; the doorbell is rung when one
    /// is lost, so a blocked waiter wakes up to look. Sends to a lost peer are dropped and
    /// its reads fail: the operations waiting on it must be failed by the caller. Before the
    /// first poll after this call finds nothing, a fabric delivers every frame that arrived
    /// before the call (TCP reads every connection on that poll): the caller then fails what
    /// still waits on the lost peers after a single drain (`Engine::fail_pending`). Fabrics
    /// that cannot lose a peer (one process) keep the default.
    fn lost_peers(&self) -> Vec<LostPeer> {
        Vec::new()
    }
    /// Ranks of the job on this host (they share its cores), when it differs from the
    /// number of world ranks the fabric reaches directly (ranks on other hosts, or every
    /// rank over TCP on one host).
    fn host_ranks(&self) -> Option<usize> {
        None
    }
    /// The largest message the engine may send to `dst` eagerly in a frame of its own
    /// ([`Fabric::send_frame`]) instead of a cell and a rendezvous: links that stream (TCP)
    /// carry a message a few cells long faster in one write than in a round trip. 0 (the
    /// default): cells only.
    fn frame_eager_limit(&self, _dst: usize) -> usize {
        0
    }
    /// Sends one eager message to `dst`: the header and a payload gathered from the
    /// operation's memory (`data`: address, length pieces, in order), without a staging
    /// copy. Only for destinations and sizes [`Fabric::frame_eager_limit`] allows; it is
    /// ordered with the cells sent to `dst` (one stream). A failure loses the peer, which
    /// [`Fabric::lost_peers`] reports, as for a cell.
    fn send_frame(
        &self,
        _dst: usize,
        _hdr: &[u8; HDR_BYTES],
        _data: &[(UserPtr, usize)],
    ) -> std::io::Result<()> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "this fabric sends messages in cells only",
        ))
    }
    /// Sends one small eager message to `dst` — the header and `payload`, read straight
    /// from the operation's memory — without a cell, when the fabric has a path for that
    /// (the node segment's fast box). True when it went; false (nothing sent) when it
    /// cannot now, and the engine sends a cell instead. Ordered with the cells sent to
    /// `dst`. The default: no such path.
    fn send_small(&self, _dst: usize, _hdr: &[u8; HDR_BYTES], _payload: &[u8]) -> bool {
        false
    }
    /// [`Fabric::send_small`] of a header in its short form (`h.full(payload.len())` is the
    /// header sent): the engine's straight-line sends give this, so that a fabric whose
    /// small records keep only those parts (`Net`'s node segment) writes them directly.
    /// The default builds the 48 bytes and calls `send_small`.
    #[inline]
    fn send_small_short(&self, dst: usize, h: &ShortHeader, payload: &[u8]) -> bool {
        self.send_small(dst, &h.full(payload.len()), payload)
    }
    /// Called when a blocking send's message to `dst` has gone out and the call is about to
    /// return. A fabric whose notification leaves the message in this CPU's store buffer
    /// (the node segment's light doorbell) drains it here, so the receiver sees it sooner
    /// (a latency heuristic, not a correctness need); the nonblocking sends of a window,
    /// which would pay it per message, do not call this. The default: nothing.
    #[inline]
    fn after_blocking_send(&self, _dst: usize) {}
    /// Single-copy read of another process's memory into the operation's memory at `dst`
    /// (address, length ranges, in order): CMA on this host, a pull over TCP otherwise;
    /// Err when the kernel forbids it or the peer cannot answer.
    fn read_remote(
        &self,
        local: usize,
        remote: &[(usize, usize)],
        dst: &[(UserPtr, usize)],
    ) -> std::io::Result<usize>;
    /// [`Fabric::read_remote`] that need not wait for the data: `Done` with the bytes read
    /// when it finished at once (CMA: one system call), or `Pending` with a token that
    /// [`Fabric::poll_reads`] reports once the read has ended (TCP: the pull is sent and its
    /// answer lands in `dst` whenever a thread reads the socket, see `tcp::Tcp::start_pull`).
    /// Until then `dst` belongs to the fabric: the caller must neither reuse nor give back
    /// that memory (the engine keeps the receive pending). Every `Pending` read is reported
    /// exactly once, with an error when the peer is lost, and the fabric writes nothing to
    /// `dst` after its report. The default: the blocking read, at once.
    fn start_read_remote(
        &self,
        local: usize,
        remote: &[(usize, usize)],
        dst: &[(UserPtr, usize)],
    ) -> std::io::Result<ReadStart> {
        self.read_remote(local, remote, dst).map(ReadStart::Done)
    }
    /// Hands every read of [`Fabric::start_read_remote`] that ended since the last call to
    /// `f` (its token, and the bytes read or why it failed); returns how many. The doorbell
    /// is rung when one ends, so a waiter asleep wakes to look. The default: none (no read
    /// is ever pending).
    fn poll_reads(&self, _f: impl FnMut(u64, std::io::Result<usize>)) -> usize {
        0
    }
    /// True when this thread answered a peer's read of our memory since the last call (a
    /// TCP pull's answer written from inside `poll`): progress that delivers no message, but
    /// keeps a waiting sender spinning instead of going to sleep and leaving its answers to
    /// a background thread. The default: never.
    fn served_reads(&self) -> bool {
        false
    }
}

/// How [`Fabric::start_read_remote`] started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadStart {
    /// The read finished: this many bytes are in place.
    Done(usize),
    /// The read is in flight; [`Fabric::poll_reads`] reports this token when it ends.
    Pending(u64),
}
