//! The shared memory behind one communicator's shared-memory collectives (`coll::shm`):
//! one control line per rank and two data slots per rank, in a segment every rank of the
//! communicator maps.
//!
//! The segment is a memfd made by the communicator's rank 0 and opened by the others
//! through `/proc/<pid>/fd/<n>` while rank 0 keeps the descriptor (`shared_map::Mapping`,
//! as MPI_Win_allocate_shared does): no name in /dev/shm, nothing to leak when a job dies.
//!
//! Layout (`n` ranks, `slot` bytes per slot, both fixed at creation):
//!
//! ```text
//! [ control line of rank 0 | ... | rank n-1 ]  128 bytes each (two cache lines: `seq`
//!                                             in the first, the sleep words in the second)
//! [ slot 0 of rank 0 | slot 1 of rank 0 | slot 0 of rank 1 | ... ]   `slot` bytes each
//! ```
//!
//! A control line holds `seq`, the number of the collective call its rank has reached
//! (written only by that rank, read by all), `cpu`, the CPU it last waited on, and two
//! inline slots of [`INLINE`] bytes for the smallest messages in its first cache line,
//! and in its second
//! what its rank sleeps on when it sleeps: `waits`, 0 while awake, else whom it waits for
//! (one rank, or every other rank), and `wait_seq`, the call number it waits for. A
//! publisher reads the `waits` words of the others after storing its `seq`, and wakes
//! exactly the sleepers its store released (`coll::shm` rings their doorbells); the words
//! sit on their own line, written only around a sleep, so while nobody sleeps the
//! publisher's reads hit its cache and publishing stays a store. `seq` and `waits` are
//! accessed SeqCst: a rank that announces its sleep and then reads a peer's `seq`, and a
//! peer that stores its `seq` and then reads the announcement, cannot both miss the other's
//! store (Dekker), so a wake-up is never lost. What the numbers mean is the algorithms'
//! business.

use super::mem::UserPtr;
use super::shared_map::Mapping;
use std::cell::UnsafeCell;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Bytes per control line.
const LINE: usize = 128;

/// Bytes of each of a rank's two inline slots ([`Region::inline_slot`]).
pub const INLINE: usize = 24;

/// Offset of the inline slots in a control line.
const INLINE_AT: usize = 16;

/// One rank's control line.
#[repr(C, align(128))]
struct Ctl {
    seq: AtomicU64,
    cpu: AtomicU32,
    _pad: u32,
    /// The two inline slots, used through raw pointers only ([`Region::inline_slot`]).
    _inline: UnsafeCell<[u8; 2 * INLINE]>,
    waits: AtomicU32,
    wait_seq: AtomicU64,
}

const _: () = assert!(std::mem::size_of::<Ctl>() == LINE);
const _: () = assert!(std::mem::offset_of!(Ctl, _inline) == INLINE_AT);
const _: () = assert!(INLINE_AT + 2 * INLINE <= 64);

/// What a sleeping rank waits for ([`Region::sleep_begin`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Awaits {
    /// Rank `r` to reach the call.
    One(usize),
    /// Every other rank to reach the call.
    All,
}

/// `waits` of a rank waiting for every other one (a rank r waiting for one is `r + 1`).
const WAITS_ALL: u32 = u32::MAX;

/// A communicator's region as this process maps it.
pub struct Region {
    map: Mapping,
    n: usize,
    slot: usize,
}

impl Region {
    fn bytes(n: usize, slot: usize) -> usize {
        n * LINE + n * 2 * slot
    }

    fn check(n: usize, slot: usize) -> io::Result<()> {
        if n == 0 || slot == 0 || slot % 64 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a collective region needs ranks and slots of a multiple of 64 bytes",
            ));
        }
        Ok(())
    }

    /// A new zeroed region for `n` ranks with slots of `slot` bytes, and the memfd the other
    /// ranks open with [`Region::open`] (keep it until they have).
    pub fn create(n: usize, slot: usize) -> io::Result<(Region, OwnedFd)> {
        Self::check(n, slot)?;
        let (map, fd) = Mapping::shared(Self::bytes(n, slot))?;
        Ok((Region { map, n, slot }, fd))
    }

    /// Maps the region process `pid` created and holds as descriptor `fd`.
    pub fn open(pid: u32, fd: i32, n: usize, slot: usize) -> io::Result<Region> {
        Self::check(n, slot)?;
        let map = Mapping::open_peer(pid, fd, Self::bytes(n, slot))?;
        Ok(Region { map, n, slot })
    }

    #[inline]
    fn ctl(&self, r: usize) -> &Ctl {
        assert!(r < self.n, "collective region: rank {r} of {}", self.n);
        // SAFETY: the mapping is page aligned and at least `n * LINE` bytes long, so
        // line `r` is in bounds and 128-byte aligned; it lives as long as `self`. A Ctl
        // is atomics only, valid for any bit pattern (the segment starts zeroed), and every
        // process touches these words through atomic operations alone.
        unsafe { &*((self.map.addr() + r * LINE) as *const Ctl) }
    }

    /// Number of ranks.
    pub fn ranks(&self) -> usize {
        self.n
    }

    /// Bytes per data slot.
    pub fn slot_len(&self) -> usize {
        self.slot
    }

    /// The call number rank `r` has published.
    #[inline]
    pub fn seq(&self, r: usize) -> u64 {
        self.ctl(r).seq.load(Ordering::SeqCst)
    }

    /// Publishes call number `s` for rank `r` (this process's rank). Everything written to
    /// the slots before is visible to whoever reads `seq(r) >= s`.
    #[inline]
    pub fn publish(&self, r: usize, s: u64) {
        self.ctl(r).seq.store(s, Ordering::SeqCst);
    }

    /// Records the CPU rank `me` (this process's rank) runs on now, as a hint for the
    /// others (see [`Region::cpu`]).
    #[inline]
    pub fn set_cpu(&self, me: usize, cpu: u32) {
        self.ctl(me).cpu.store(cpu + 1, Ordering::Relaxed);
    }

    /// The CPU rank `r` last said it runs on, if it did: a hint, perhaps stale.
    #[inline]
    pub fn cpu(&self, r: usize) -> Option<u32> {
        self.ctl(r).cpu.load(Ordering::Relaxed).checked_sub(1)
    }

    /// Announces that rank `me` (this process's rank) may sleep until `on` reaches call
    /// `s`: call it before the last check of that condition, then sleep unless it holds.
    #[inline]
    pub fn sleep_begin(&self, me: usize, on: Awaits, s: u64) {
        let c = self.ctl(me);
        c.wait_seq.store(s, Ordering::SeqCst);
        let w = match on {
            Awaits::One(r) => {
                assert!(
                    r < self.n && r != me,
                    "collective region: rank {me} awaits {r}"
                );
                r as u32 + 1
            }
            Awaits::All => WAITS_ALL,
        };
        c.waits.store(w, Ordering::SeqCst);
    }

    /// Rank `me` is awake again (after [`Region::sleep_begin`]).
    #[inline]
    pub fn sleep_end(&self, me: usize) {
        self.ctl(me).waits.store(0, Ordering::SeqCst);
    }

    /// Call right after [`Region::publish`] of call `s` by rank `me`: whether rank `r`
    /// sleeps on a condition that store made true; if so it is marked awake (only one
    /// publisher wins it) and the caller must wake it.
    #[inline]
    pub fn released(&self, me: usize, s: u64, r: usize) -> bool {
        let c = self.ctl(r);
        let w = c.waits.load(Ordering::SeqCst);
        if w == 0 {
            return false;
        }
        let target = c.wait_seq.load(Ordering::SeqCst);
        let done = if w == WAITS_ALL {
            // Whoever completes the set wakes it: the last publisher sees every other store
            // (each stored its `seq` before reading the others').
            s >= target && (0..self.n).all(|q| q == r || self.seq(q) >= target)
        } else {
            w == me as u32 + 1 && s >= target
        };
        done && c
            .waits
            .compare_exchange(w, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Whether rank `r` has announced a sleep (tests and diagnostics).
    #[inline]
    pub fn sleeping(&self, r: usize) -> bool {
        self.ctl(r).waits.load(Ordering::SeqCst) != 0
    }

    /// Inline slot `which` (0 or 1) of rank `r`: [`INLINE`] bytes, 8-byte aligned, in the
    /// cache line of the rank's `seq`, so that a reader waiting for the call number gets a
    /// small message with the same cache-line transfer (a slot of its own costs a second
    /// miss on the critical path). Used like [`Region::slot`].
    #[inline]
    pub fn inline_slot(&self, r: usize, which: usize) -> UserPtr {
        assert!(
            r < self.n && which < 2,
            "collective region: inline slot {r}/{which}"
        );
        let at = r * LINE + INLINE_AT + which * INLINE;
        // SAFETY: `at + INLINE` lies within control line `r` (checked above and by the
        // layout assertions), inside the mapping, which lives as long as `self`. The bytes
        // are no atomic's: the `seq` protocol orders who writes them when, as for slots.
        unsafe { UserPtr::new((self.map.addr() + at) as *const u8) }
    }

    /// Data slot `which` (0 or 1) of rank `r`: `slot_len()` bytes, 64-byte aligned.
    #[inline]
    pub fn slot(&self, r: usize, which: usize) -> UserPtr {
        assert!(
            r < self.n && which < 2,
            "collective region: slot {r}/{which}"
        );
        let off = self.n * LINE + (r * 2 + which) * self.slot;
        // SAFETY: `off + slot` is within the mapping, which lives as long as `self`; users
        // of the pointer hold the Region (an Arc in `coll::shm`) while they copy. Which
        // process writes a slot when is ordered by the `seq` protocol of the algorithms.
        unsafe { UserPtr::new((self.map.addr() + off) as *const u8) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_peer_mapping_sees_flags_and_slots() {
        let (a, fd) = Region::create(3, 256).unwrap();
        let b = Region::open(std::process::id(), fd.as_raw_fd(), 3, 256).unwrap();
        assert_eq!(b.seq(2), 0);
        a.slot(2, 1).write(0, &[9, 8, 7]);
        a.publish(2, 5);
        assert_eq!(b.seq(2), 5);
        let mut x = [0u8; 3];
        b.slot(2, 1).read(0, &mut x);
        assert_eq!(x, [9, 8, 7]);
        assert!(!b.sleeping(1));
        assert_eq!(b.cpu(1), None);
        a.set_cpu(1, 0);
        assert_eq!(b.cpu(1), Some(0));
        // Rank 1 waits for rank 2 at call 6: rank 2's call 5 does not release it, call 6
        // does, once; rank 0's does not.
        a.sleep_begin(1, Awaits::One(2), 6);
        assert!(b.sleeping(1));
        assert!(!b.released(2, 5, 1));
        b.publish(2, 6);
        assert!(!b.released(0, 6, 1));
        assert!(b.released(2, 6, 1));
        assert!(!b.sleeping(1) && !b.released(2, 6, 1));
        // Rank 0 waits for all at call 6: rank 1 at 5 holds it back until it publishes.
        a.publish(1, 5);
        a.sleep_begin(0, Awaits::All, 6);
        assert!(!b.released(2, 6, 0));
        b.publish(1, 6);
        assert!(b.released(1, 6, 0));
        a.sleep_end(0);
        assert!(!b.sleeping(0));
        assert_eq!(a.slot(1, 0).addr() % 64, 0);
        // The inline slots sit in the line of `seq`, beside it and `cpu`, and apart from
        // each other and from the sleep words.
        a.inline_slot(2, 0).write(0, &[0xAB; INLINE]);
        a.inline_slot(2, 1).write(0, &[0xCD; INLINE]);
        let mut y = [0u8; INLINE];
        b.inline_slot(2, 0).read(0, &mut y);
        assert_eq!(y, [0xAB; INLINE]);
        b.inline_slot(2, 1).read(0, &mut y);
        assert_eq!(y, [0xCD; INLINE]);
        assert_eq!((b.seq(2), b.cpu(2)), (6, None));
        assert!(!b.sleeping(2));
        assert_eq!(
            a.inline_slot(2, 0).addr() / 64,
            a.inline_slot(2, 1).addr() / 64
        );
        assert_eq!(a.inline_slot(2, 0).addr() % 8, 0);
    }

    #[test]
    fn bad_geometry_is_refused() {
        assert!(Region::create(0, 64).is_err());
        assert!(Region::create(2, 100).is_err());
    }
}
