//! Fast boxes: one ring of cache lines per ordered pair of local ranks, polled by the
//! receiver before its queue. A small message costs the sender a few line writes and one
//! flag store, and the receiver one flag load and the lines it reads — no queue atomics, no
//! cell travelling back — and a window of small messages fits the ring instead of falling
//! to the MPSC queue after the first (issue 13). The design is Open MPI's `sm` BTL fast
//! box (a per-pair ring of line-aligned records with a read pointer the receiver hands
//! back, btl/sm `fbox.h`) and MPICH's ch4 `posix` eager fastbox, both polled first.
//!
//! A ring is `RING_LINES` lines of 64 bytes plus one control line holding `rpos`, the
//! receiver's release point. Positions are absolute line counts (u32, wrapping); line
//! `p % RING_LINES` holds position `p`. A record starts on a line whose first word says
//! what it is (`FULL`, `COMPACT`, `SKIP`; 0 = nothing yet), then the payload length:
//!
//! * `COMPACT` (an eager header: its length field equals the payload length and its last 16
//!   bytes are zero): header bytes 0..16 and 24..32 at 8..32 of the line, payload of up to
//!   32 bytes in the rest of the line — header and payload of a small message in one line.
//! * `FULL`: the 48 header bytes at 16..64, a payload of up to 8 bytes at 8..16.
//! * A larger payload follows in the next lines, contiguous (never split at the ring's end:
//!   a `SKIP` record fills the rest of the lap and the record starts the next one).
//!
//! Protocol (single producer, single consumer per ring):
//! * sender (process-local `Tx`): needs `k` lines plus one. It may write lines below
//!   `rpos + RING_LINES` (Acquire load of `rpos`, only when its cached copy says full: the
//!   receiver's reads of those lines happen before our writes). It writes the record's body,
//!   makes sure the first word of the line after the record (the *terminator*: where the
//!   next record will start) is zero, then stores the kind word (Release). The terminator is
//!   usually zeroed already: after publishing, the sender zeroes the first words of up to
//!   `ZERO_AHEAD` free lines past its write position (no record writes them before they
//!   are reached, so a zero stored before an earlier publish still stands), which keeps
//!   the extra line write off the message's path — except after a record longer than
//!   `ZERO_AFTER_MAX` lines, where that zeroing costs the receiver more than it saves.
//! * receiver: loads the kind word at its read position (Acquire: the body and the
//!   terminator are visible), reads, and on release stores the record's end to `rpos`
//!   (Release). Its next read position is the old terminator: it reads 0 there until the
//!   sender's next Release, never a stale word of an older lap (a payload byte, an old kind),
//!   because the terminator store happens before the kind word it read.
//!
//! Why the terminator instead of sequence numbers: records have variable length, so the
//! line at the read position may have held payload in the previous lap; a stale payload
//! word could equal any sequence number. The terminator makes "0 until published" hold for
//! exactly the one line the receiver looks at. (Reasoned loom-style: the only
//! cross-thread edges are kind-word Release → Acquire (sender → receiver: body,
//! terminator) and `rpos` Release → Acquire (receiver → sender: lines free); every shared
//! access is ordered by one of them, as the two-thread stress test below exercises.)
//!
//! Only one thread per process writes a given ring (the sender's `local` lock in
//! `segment`) and only one reads it (the receiver's `rx` lock). FIFO per sender across ring
//! and queue (MPI's non-overtaking rule) rests on two rules in `segment`:
//! 1. A sender uses its ring to `dst` only when none of its cells queued to `dst` is still
//!    out: a cell is released only after `dst` dequeued it, so a ring message is never
//!    younger than a message still in the queue.
//! 2. A ring message can be older than a queued one (the ring was full, the next message
//!    went to the queue). The receiver checks the rings before the queue, but it may find a
//!    ring empty just before the sender fills it and then dequeue the newer cell. So after a
//!    dequeue from sender `s` it looks at `s`'s ring again: the dequeue's acquire makes the
//!    older ring writes visible; if the ring holds a message, the cell is *deferred* until
//!    `s`'s ring is empty (by rule 1 no newer ring message appears while that cell is out).

use super::layout::LINE;
use crate::transport::mem::{copy_small, SMALL_COPY_MAX};
use std::sync::atomic::{AtomicU32, Ordering};

/// Lines of one ring: a window of 64 one-line messages, seven of 1 KiB or three of 2 KiB
/// fits.
pub(crate) const RING_LINES: u32 = 128;
/// Bytes of a pair's ring block: the control line (`rpos`), then the ring.
pub(crate) const PAIR_BYTES: usize = LINE + RING_LINES as usize * LINE;
/// The largest payload a ring carries. 2 KiB, not 1 KiB: a 2 KiB ping-pong through the
/// ring takes 0.91 us against 1.23 us through a queued cell (bench/p2p.c, 5 alternating
/// rounds, issue 13); a bandwidth window still streams through the queue after the ring's
/// first three records (see `segment`'s rule that keeps a sender on the queue).
pub(crate) const MAX_PAYLOAD: usize = 2048;
const _: () = assert!(1 + MAX_PAYLOAD / LINE + 1 < RING_LINES as usize / 2);

/// Record kinds (the first word of a record's line; 0 = nothing published there).
const FULL: u32 = 1;
const COMPACT: u32 = 2;
const SKIP: u32 = 3;

/// Offsets inside a record's first line.
const R_LEN: usize = 4;
const FULL_INLINE: usize = 8;
const FULL_HDR: usize = 16;
const COMPACT_HDR: usize = 8;
const COMPACT_INLINE: usize = 32;
/// Inline payload capacities of the two forms.
const FULL_INLINE_MAX: usize = FULL_HDR - FULL_INLINE;
const COMPACT_INLINE_MAX: usize = LINE - COMPACT_INLINE;

/// Header bytes: a record's header is `HDR` bytes (the engine's, opaque here except for the
/// compact test: bytes 16..24 hold the payload length, 32..48 are zero for an eager cell).
const HDR: usize = super::HDR_BYTES;
const _: () = assert!(HDR == 48);

/// One ring as both sides see it: its first line and its release word.
#[derive(Clone, Copy)]
pub(crate) struct Ring<'a> {
    /// Start of line 0 (64-aligned, `RING_LINES` lines, inside the mapping).
    pub lines: *mut u8,
    /// The receiver's release point (its own line).
    pub rpos: &'a AtomicU32,
}

/// The sender's private state of one ring.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tx {
    /// Where the next record starts.
    wpos: u32,
    /// Last `rpos` read: lines below `seen + RING_LINES` may be written.
    seen: u32,
    /// Lines `wpos..zeroed` have their first word zeroed already (see `push`).
    zeroed: u32,
}

/// Lines the sender zeroes ahead of its write position, off the critical path.
const ZERO_AHEAD: u32 = 16;

/// The longest record (in lines: a 512 B payload with a compact header) after which the
/// sender zeroes ahead. After a longer one it does not, and the next record stores its own
/// terminator and takes its lines from the receiver on the message's path: that is faster.
/// One-way ping-pong, 2 ranks, P50, medians of 7 alternating rounds, with -> without:
/// 768 B 0.767 -> 0.722 us, 1 KiB 0.947 -> 0.780, 1280 B 0.972 -> 0.873, 1536 B
/// 0.990 -> 0.937, 2 KiB 1.118 -> 1.133, 512 B and below unchanged (the rule does not
/// touch them); 1 KiB was the worst case, its terminator one line past the zeroed ones.
/// Our reading: the receiver's streaming prefetcher, running ahead of its copy of the
/// record, fetches exactly the lines that follow it, and each zero store takes one back
/// mid-copy. After a one-line record there is no stream, and the terminator kept off the
/// path is worth it (8 B: 0.28 us with zeroing ahead, 0.50 without).
const ZERO_AFTER_MAX: u32 = 1 + 512 / LINE as u32;

/// Asks for the `n` payload lines after the record line `first` at once (issue 13). The
/// lines sit dirty in the sender's cache; the copy that reads them later (the receive's
/// unpack) would fetch them one miss after another until the hardware's stream prefetcher
/// caught up: 512 B -> 1 KiB cost 0.26 us for 8 more lines. Issued as soon as the kind word
/// is seen, the fetches overlap each other and the receiver's matching work before the copy.
/// Out of line: inlined, its loop made `take` too big to inline, which cost every one-line
/// message ~10 ns (one-way 8 B ping-pong 0.325 -> 0.335 us, 21 rounds).
#[inline(never)]
fn prefetch_lines(first: *const u8, n: u32) {
    #[cfg(target_arch = "x86_64")]
    for i in 1..=n as usize {
        // SAFETY: a prefetch is a hint: it never faults nor changes memory. The lines are
        // inside the ring anyway (`take` clamped the record to the lap's rest).
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                first.wrapping_add(i * LINE) as *const i8,
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (first, n);
}

/// Is position `a` after position `b` (both within a lap of each other)?
#[inline]
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// Byte offset of position `pos`'s line from the ring's first line (its first word is the
/// kind word: what a lock-free peek loads).
#[inline]
pub(crate) fn line_offset(pos: u32) -> usize {
    (pos % RING_LINES) as usize * LINE
}

/// A record the receiver took: where it is and what it carries.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record {
    /// Position of the record's first line.
    pub pos: u32,
    /// Position after the record (what `release` hands back).
    pub end: u32,
    pub len: u32,
    /// Payload offset from the record's first line.
    pub off: u32,
    pub hdr: [u8; HDR],
}

/// Payload lines after the first line for `len` bytes with `inline` bytes in line 0.
#[inline]
fn body_lines(len: usize, inline: usize) -> u32 {
    if len <= inline {
        0
    } else {
        len.div_ceil(LINE) as u32
    }
}

// The inline record's payload is copied by `mem::copy_small`, which takes this many.
const _: () = assert!(COMPACT_INLINE_MAX <= SMALL_COPY_MAX);

/// Can this header travel compact? (Lossless: the receiver rebuilds the same 48 bytes.)
#[inline]
fn compactable(hdr: &[u8; HDR], len: usize) -> bool {
    hdr[16..24] == (len as u64).to_ne_bytes() && hdr[32..48] == [0u8; 16]
}

/// Bytes 0..16 of a header: the first of the two parts a compact record keeps.
#[inline(always)]
fn compact_head(hdr: &[u8; HDR]) -> [u8; 16] {
    hdr[..16].try_into().expect("16 bytes")
}

/// Bytes 24..32 of a header: the second part a compact record keeps.
#[inline(always)]
fn compact_sreq(hdr: &[u8; HDR]) -> u64 {
    u64::from_ne_bytes(hdr[24..32].try_into().expect("8 bytes"))
}

/// The 48-byte header whose compact parts are `head` and `sreq`, for a payload of `len`
/// bytes: what the receiver rebuilds from a compact record (`take`), and what `push_short`
/// writes when its payload needs more than one line.
#[inline]
fn expand(head: &[u8; 16], sreq: u64, len: usize) -> [u8; HDR] {
    let mut hdr = [0u8; HDR];
    hdr[..16].copy_from_slice(head);
    hdr[16..24].copy_from_slice(&(len as u64).to_ne_bytes());
    hdr[24..32].copy_from_slice(&sreq.to_ne_bytes());
    hdr
}

impl<'a> Ring<'a> {
    #[inline]
    fn line(&self, pos: u32) -> *mut u8 {
        // SAFETY (of the callers' use): `pos % RING_LINES` is a line of this ring.
        self.lines.wrapping_add(line_offset(pos))
    }

    #[inline]
    fn kind_word(&self, pos: u32) -> &AtomicU32 {
        // SAFETY: the first word of a ring line is 4-aligned, inside the mapping (which
        // outlives the ring view) and only ever accessed atomically.
        unsafe { &*(self.line(pos) as *const AtomicU32) }
    }

    /// Does the record at `pos` exist (SeqCst: for the sleep re-check, see `Doorbell`)?
    pub fn has_record(&self, pos: u32) -> bool {
        self.kind_word(pos).load(Ordering::SeqCst) != 0
    }

    /// Sender: `push`, with a record of one compact line (every eager message of up to 32
    /// bytes) written in the caller's straight line and anything else by `push` out of line
    /// (issue 13: the call, `push`'s frame and its dispatch on the length cost a small
    /// message ~20 instructions).
    ///
    /// # Safety
    /// As `push`.
    #[inline(always)]
    pub unsafe fn push_small(&self, tx: &mut Tx, hdr: &[u8; HDR], payload: &[u8]) -> bool {
        if payload.len() <= COMPACT_INLINE_MAX && compactable(hdr, payload.len()) {
            // SAFETY: by this function's contract; the payload fits the line and the header
            // is compactable (checked).
            unsafe { self.push_line(tx, &compact_head(hdr), compact_sreq(hdr), payload) }
        } else {
            // SAFETY: by this function's contract.
            unsafe { self.push(tx, hdr, payload) }
        }
    }

    /// Sender: `push_small` of a header given in its compact parts (`head`: bytes 0..16,
    /// `sreq`: bytes 24..32; its length field the payload's length, its last 16 bytes zero,
    /// as `fabric::ShortHeader` describes it). A payload of up to 32 bytes goes into one
    /// line straight from those parts: the 48 bytes are neither built nor checked for
    /// compactness (issue 13: ~25 instructions of an 8 B MPI_Send); a longer one is
    /// written by `push` from the rebuilt header.
    ///
    /// # Safety
    /// As `push`.
    #[inline(always)]
    pub unsafe fn push_short(
        &self,
        tx: &mut Tx,
        head: &[u8; 16],
        sreq: u64,
        payload: &[u8],
    ) -> bool {
        if payload.len() <= COMPACT_INLINE_MAX {
            // SAFETY: by this function's contract; the payload fits the line, and a header
            // in these parts is compactable by construction.
            unsafe { self.push_line(tx, head, sreq, payload) }
        } else {
            // SAFETY: by this function's contract.
            unsafe { self.push(tx, &expand(head, sreq, payload.len()), payload) }
        }
    }

    /// Sender: writes a record of `hdr` and `payload` (at most `MAX_PAYLOAD` bytes) and
    /// publishes it; false (nothing written) when the ring has no room.
    ///
    /// # Safety
    /// The caller is the ring's only writer (serialised per process, one process per ring),
    /// `tx` is this ring's sender state, and `self` points into a live mapping.
    #[inline(never)]
    pub unsafe fn push(&self, tx: &mut Tx, hdr: &[u8; HDR], payload: &[u8]) -> bool {
        let len = payload.len();
        debug_assert!(len <= MAX_PAYLOAD);
        if len <= COMPACT_INLINE_MAX && compactable(hdr, len) {
            // SAFETY: by this function's contract.
            return unsafe { self.push_line(tx, &compact_head(hdr), compact_sreq(hdr), payload) };
        }
        let compact = compactable(hdr, len);
        let inline = if compact {
            COMPACT_INLINE_MAX
        } else {
            FULL_INLINE_MAX
        };
        let k = 1 + body_lines(len, inline);
        let at = tx.wpos % RING_LINES;
        let pad = if at + k > RING_LINES {
            RING_LINES - at
        } else {
            0
        };
        // The record, the padding before it and the terminator line after it.
        let need = pad + k + 1;
        if tx.wpos.wrapping_sub(tx.seen) + need > RING_LINES {
            tx.seen = self.rpos.load(Ordering::Acquire);
            if tx.wpos.wrapping_sub(tx.seen) + need > RING_LINES {
                return false;
            }
        }
        let pos = tx.wpos.wrapping_add(pad);
        let p = self.line(pos);
        // SAFETY: lines `pos .. pos + k` are contiguous inside the ring (no wrap, by `pad`)
        // and free (below `seen + RING_LINES`): the receiver does not read them until the
        // kind word is published. The payload does not overlap the ring.
        unsafe {
            (p.add(R_LEN) as *mut u32).write(len as u32);
            if compact {
                std::ptr::copy_nonoverlapping(hdr.as_ptr(), p.add(COMPACT_HDR), 16);
                std::ptr::copy_nonoverlapping(hdr.as_ptr().add(24), p.add(COMPACT_HDR + 16), 8);
            } else {
                std::ptr::copy_nonoverlapping(hdr.as_ptr(), p.add(FULL_HDR), HDR);
            }
            if k == 1 {
                let dst = p.add(if compact { COMPACT_INLINE } else { FULL_INLINE });
                copy_small(payload.as_ptr(), dst, len);
            } else {
                std::ptr::copy_nonoverlapping(payload.as_ptr(), p.add(LINE), len);
            }
        }
        let end = pos.wrapping_add(k);
        if !after(tx.zeroed, end) {
            // The terminator was not zeroed ahead: zero it now (it is free: `need`).
            self.kind_word(end).store(0, Ordering::Relaxed);
            tx.zeroed = end.wrapping_add(1);
        }
        self.kind_word(pos)
            .store(if compact { COMPACT } else { FULL }, Ordering::Release);
        if pad > 0 {
            // The record at the lap's start is complete before the receiver may skip to it.
            self.kind_word(tx.wpos).store(SKIP, Ordering::Release);
        }
        tx.wpos = end;
        if k <= ZERO_AFTER_MAX {
            self.zero_ahead(tx);
        }
        true
    }

    /// `push` of a record that is one compact line (every small eager message's): the
    /// general case with `k` = 1, in a straight line (issue 13). One line never needs
    /// padding (it fits any lap's rest), so the record needs its line and the terminator.
    ///
    /// The header comes as its compact parts (`compact_head`, `compact_sreq`).
    ///
    /// # Safety
    /// As `push`; `payload` is at most `COMPACT_INLINE_MAX` bytes and the header the parts
    /// come from compactable.
    #[inline(always)]
    unsafe fn push_line(&self, tx: &mut Tx, head: &[u8; 16], sreq: u64, payload: &[u8]) -> bool {
        let len = payload.len();
        if tx.wpos.wrapping_sub(tx.seen) + 2 > RING_LINES {
            tx.seen = self.rpos.load(Ordering::Acquire);
            if tx.wpos.wrapping_sub(tx.seen) + 2 > RING_LINES {
                return false;
            }
        }
        let pos = tx.wpos;
        let p = self.line(pos);
        // SAFETY: line `pos` is free (below `seen + RING_LINES`) and inside the ring: the
        // receiver does not read it until the kind word is published. Header bytes 0..16
        // and 24..32 go to 8..32 of the line, the payload (at most the 32 bytes from
        // `COMPACT_INLINE` on) after them; the payload does not overlap the ring.
        unsafe {
            (p.add(R_LEN) as *mut u32).write(len as u32);
            std::ptr::copy_nonoverlapping(head.as_ptr(), p.add(COMPACT_HDR), 16);
            (p.add(COMPACT_HDR + 16) as *mut u64).write_unaligned(sreq);
            copy_small(payload.as_ptr(), p.add(COMPACT_INLINE), len);
        }
        let end = pos.wrapping_add(1);
        if !after(tx.zeroed, end) {
            // As in `push`.
            self.kind_word(end).store(0, Ordering::Relaxed);
            tx.zeroed = end.wrapping_add(1);
        }
        self.kind_word(pos).store(COMPACT, Ordering::Release);
        tx.wpos = end;
        self.zero_ahead(tx);
        true
    }

    /// Zeroes the first word of the free lines after the write position, so that the
    /// terminator of the next records is (usually) zero already and `push` publishes after
    /// one line write: a terminator store before the kind word would put a second
    /// cache-line transfer on the message's path (x86 makes stores visible in order).
    /// These stores follow the publication, so they delay nothing the receiver waits for.
    #[inline(always)]
    fn zero_ahead(&self, tx: &mut Tx) {
        if tx.zeroed.wrapping_sub(tx.wpos) > ZERO_AHEAD / 2 {
            return;
        }
        self.zero_more(tx);
    }

    /// `zero_ahead` when it has lines to zero (one record in `ZERO_AHEAD / 2` or so: out
    /// of line, off the other records' path).
    #[inline(never)]
    fn zero_more(&self, tx: &mut Tx) {
        // Free lines end at `seen + RING_LINES`; a stale `seen` only zeroes fewer.
        let free_end = tx.seen.wrapping_add(RING_LINES);
        let mut target = tx.wpos.wrapping_add(ZERO_AHEAD);
        if after(target, free_end) {
            target = free_end;
        }
        while after(target, tx.zeroed) {
            self.kind_word(tx.zeroed).store(0, Ordering::Relaxed);
            tx.zeroed = tx.zeroed.wrapping_add(1);
        }
    }

    /// Receiver: the record at `pos` (skipping a `SKIP`), None if nothing is published.
    /// Lengths are clamped to what the ring holds (a corrupt peer cannot make us read
    /// outside it). Inlined into the receiver's polls (`take_box`, `drain_boxes`).
    #[inline]
    pub fn take(&self, pos: u32) -> Option<Record> {
        let mut pos = pos;
        let mut kind = self.kind_word(pos).load(Ordering::Acquire);
        if kind == SKIP {
            pos = pos.wrapping_add(RING_LINES - pos % RING_LINES);
            kind = self.kind_word(pos).load(Ordering::Acquire);
        }
        if kind != FULL && kind != COMPACT {
            return None;
        }
        let p = self.line(pos);
        let (inline, at) = if kind == COMPACT {
            (COMPACT_INLINE_MAX, COMPACT_INLINE)
        } else {
            (FULL_INLINE_MAX, FULL_INLINE)
        };
        // Bytes the lines after this one hold up to the lap's end.
        let room = (RING_LINES - pos % RING_LINES - 1) as usize * LINE;
        // SAFETY: the kind word's acquire made the sender's writes of this record visible;
        // the sender does not touch its lines again until we release them.
        let raw = unsafe { (p.add(R_LEN) as *const u32).read() } as usize;
        let len = raw.min(MAX_PAYLOAD);
        let (len, off) = if len <= inline {
            (len, at)
        } else {
            (len.min(room), LINE)
        };
        let body = body_lines(len, inline);
        if body > 0 {
            prefetch_lines(p, body);
        }
        let mut hdr = [0u8; HDR];
        // SAFETY: as above; the reads stay inside the record's first line.
        unsafe {
            if kind == COMPACT {
                std::ptr::copy_nonoverlapping(p.add(COMPACT_HDR), hdr.as_mut_ptr(), 16);
                std::ptr::copy_nonoverlapping(p.add(COMPACT_HDR + 16), hdr.as_mut_ptr().add(24), 8);
            } else {
                std::ptr::copy_nonoverlapping(p.add(FULL_HDR), hdr.as_mut_ptr(), HDR);
            }
        }
        if kind == COMPACT {
            hdr[16..24].copy_from_slice(&(len as u64).to_ne_bytes());
        }
        Some(Record {
            pos,
            end: pos.wrapping_add(1 + body),
            len: len as u32,
            off: off as u32,
            hdr,
        })
    }

    /// Receiver: the payload of the record at `pos` whose take gave `off` and `len`.
    ///
    /// # Safety
    /// The record was taken from this ring (so the bytes lie inside it) and is not released
    /// for as long as the slice is used.
    pub unsafe fn payload(&self, pos: u32, off: u32, len: u32) -> &'a [u8] {
        // SAFETY: by the contract.
        unsafe { std::slice::from_raw_parts(self.line(pos).add(off as usize), len as usize) }
    }

    /// Receiver: hands the lines of every record up to `end` back to the sender.
    pub fn release(&self, end: u32) {
        self.rpos.store(end, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A ring on the heap (64-aligned), as in the segment.
    struct HeapRing {
        mem: Vec<u128>,
        rpos: AtomicU32,
    }
    // SAFETY (test): the ring protocol orders every access to `mem` (see the module doc).
    unsafe impl Sync for HeapRing {}
    unsafe impl Send for HeapRing {}

    impl HeapRing {
        fn new() -> Arc<HeapRing> {
            Arc::new(HeapRing {
                mem: vec![0u128; RING_LINES as usize * LINE / 16 + 4],
                rpos: AtomicU32::new(0),
            })
        }
        fn ring(&self) -> Ring<'_> {
            let base = self.mem.as_ptr() as usize;
            let aligned = base.div_ceil(LINE) * LINE;
            Ring {
                lines: aligned as *mut u8,
                rpos: &self.rpos,
            }
        }
    }

    fn eager_hdr(seq: u64, len: usize, full: bool) -> [u8; HDR] {
        let mut h = [0u8; HDR];
        h[..8].copy_from_slice(&seq.to_ne_bytes());
        h[8..16].copy_from_slice(&(!seq).to_ne_bytes());
        h[16..24].copy_from_slice(&(len as u64).to_ne_bytes());
        h[24..32].copy_from_slice(&(seq * 3).to_ne_bytes());
        if full {
            h[40..48].copy_from_slice(&(seq | 1).to_ne_bytes());
        }
        h
    }

    fn size(seq: u64) -> usize {
        match seq % 11 {
            0 => MAX_PAYLOAD,
            1 => 33 + (seq % 500) as usize,
            2 => 0,
            _ => (seq % 40) as usize,
        }
    }

    fn byte(seq: u64, k: usize) -> u8 {
        (seq as u8).wrapping_mul(31).wrapping_add(k as u8)
    }

    /// Payload byte `k` of message `seq`: the first word of every payload line reads as a
    /// record kind (1..=3), so a stale payload line taken for a record start would show.
    fn body_byte(seq: u64, k: usize) -> u8 {
        match k % LINE {
            0 => 1 + (seq % 3) as u8,
            1..=3 => 0,
            _ => byte(seq, k),
        }
    }

    /// Two threads hand 300k records of every form and size (compact and full headers,
    /// inline and multi-line payloads, records that must skip to the next lap) through one
    /// ring, the receiver releasing each after reading: every record arrives once, in
    /// order, with every byte the sender wrote (a torn or stale read shows as a wrong byte).
    /// Payload bytes are chosen so that stale payload words at a read position would look
    /// like kind words if the terminator rule were broken.
    #[test]
    fn two_threads_hand_over_in_order_without_tearing() {
        const N: u64 = 300_000;
        let heap = HeapRing::new();
        let tx_heap = Arc::clone(&heap);
        let producer = std::thread::spawn(move || {
            let ring = tx_heap.ring();
            let mut tx = Tx::default();
            for seq in 0..N {
                let n = size(seq);
                let body: Vec<u8> = (0..n).map(|k| body_byte(seq, k)).collect();
                let hdr = eager_hdr(seq, n, seq % 5 == 0);
                // SAFETY (test): this thread is the ring's only writer.
                while !unsafe { ring.push(&mut tx, &hdr, &body) } {
                    std::hint::spin_loop();
                }
            }
        });
        let ring = heap.ring();
        let mut pos = 0u32;
        for seq in 0..N {
            let r = loop {
                if let Some(r) = ring.take(pos) {
                    break r;
                }
                std::hint::spin_loop();
            };
            let n = size(seq);
            assert_eq!(r.hdr, eager_hdr(seq, n, seq % 5 == 0), "header of {seq}");
            assert_eq!(r.len as usize, n, "length of {seq}");
            // SAFETY (test): taken and not released.
            let got = unsafe { ring.payload(r.pos, r.off, r.len) };
            for (k, &x) in got.iter().enumerate() {
                assert_eq!(x, body_byte(seq, k), "byte {k} of {seq}");
            }
            pos = r.end;
            ring.release(r.end);
        }
        producer.join().unwrap();
        assert!(ring.take(pos).is_none());
    }

    /// A full ring refuses (nothing written) and takes records again once released; a
    /// record that does not fit the rest of a lap skips to the next one.
    #[test]
    fn full_ring_refuses_then_recovers_and_skips() {
        let heap = HeapRing::new();
        let ring = heap.ring();
        let mut tx = Tx::default();
        let hdr = eager_hdr(1, 8, false);
        let mut sent = 0;
        // SAFETY (test): single thread, the only writer.
        while unsafe { ring.push(&mut tx, &hdr, &[7u8; 8]) } {
            sent += 1;
        }
        assert_eq!(
            sent,
            RING_LINES - 1,
            "one line stays free for the terminator"
        );
        let mut pos = 0;
        for _ in 0..sent {
            let r = ring.take(pos).expect("record");
            assert_eq!(unsafe { ring.payload(r.pos, r.off, r.len) }, &[7u8; 8]);
            pos = r.end;
        }
        assert!(ring.take(pos).is_none());
        ring.release(pos);
        // Now at line RING_LINES - 1: a MAX_PAYLOAD record must skip to the next lap.
        let big = vec![9u8; MAX_PAYLOAD];
        let hdr = eager_hdr(2, MAX_PAYLOAD, false);
        assert!(unsafe { ring.push(&mut tx, &hdr, &big) });
        let r = ring.take(pos).expect("record after the skip");
        assert_eq!(r.pos, RING_LINES, "starts the next lap");
        assert_eq!(unsafe { ring.payload(r.pos, r.off, r.len) }, &big[..]);
        assert_eq!(r.hdr, hdr);
        ring.release(r.end);
        assert!(ring.take(r.end).is_none());
    }

    /// Every length the inline copy takes, at every alignment: exactly the bytes asked
    /// for, nothing around them.
    #[test]
    fn small_copies_are_exact() {
        let src: Vec<u8> = (0..80u8)
            .map(|b| b.wrapping_mul(7).wrapping_add(1))
            .collect();
        for len in 0..=COMPACT_INLINE_MAX {
            for at in 0..8 {
                let mut dst = [0xEEu8; 48];
                // SAFETY (test): both ranges are inside their buffers.
                unsafe { copy_small(src.as_ptr().add(at), dst.as_mut_ptr().add(3), len) };
                assert_eq!(&dst[3..3 + len], &src[at..at + len], "len {len} at {at}");
                assert!(dst[..3].iter().chain(&dst[3 + len..]).all(|&b| b == 0xEE));
            }
        }
    }

    #[test]
    fn compact_only_when_lossless() {
        let mut h = eager_hdr(5, 8, false);
        assert!(compactable(&h, 8));
        assert!(!compactable(&h, 9));
        h[47] = 1;
        assert!(!compactable(&h, 8));
    }
}
