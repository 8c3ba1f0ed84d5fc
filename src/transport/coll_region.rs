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
//! [ header line | control line of rank 0 | ... | rank n-1 ]  128 bytes each (two cache
//!                                  lines, so the adjacent-line prefetcher shares nothing)
//! [ slot 0 of rank 0 | slot 1 of rank 0 | slot 0 of rank 1 | ... ]   `slot` bytes each
//! ```
//!
//! A control line holds `seq`, the number of the collective call its rank has reached
//! (written only by that rank, read by all), and `sleeping`, set while that rank may sleep
//! on its doorbell waiting for another rank's `seq` (so a publisher knows whom to ring).
//! The header counts the ranks that set `sleeping`, so a publisher reads one quiet word,
//! not every rank's line, to learn that nobody needs ringing. All of these are accessed
//! SeqCst: a rank that counts itself in, sets `sleeping` and then reads a peer's `seq`, and
//! a peer that stores its `seq` and then reads the count and the flags, cannot both miss
//! the other's store (Dekker), so a wake-up is never lost. What the numbers mean is the
//! algorithms' business.

use super::mem::UserPtr;
use super::shared_map::Mapping;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Bytes per control line.
const LINE: usize = 128;

/// One rank's control line.
#[repr(C, align(128))]
struct Ctl {
    seq: AtomicU64,
    sleeping: AtomicU32,
}

const _: () = assert!(std::mem::size_of::<Ctl>() == LINE);

/// The header line.
#[repr(C, align(128))]
struct Header {
    /// Ranks with `sleeping` set.
    sleepers: AtomicU32,
}

/// A communicator's region as this process maps it.
pub struct Region {
    map: Mapping,
    n: usize,
    slot: usize,
}

impl Region {
    fn bytes(n: usize, slot: usize) -> usize {
        (n + 1) * LINE + n * 2 * slot
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
    fn header(&self) -> &Header {
        // SAFETY: as for `ctl`, line 0.
        unsafe { &*(self.map.addr() as *const Header) }
    }

    #[inline]
    fn ctl(&self, r: usize) -> &Ctl {
        assert!(r < self.n, "collective region: rank {r} of {}", self.n);
        // SAFETY: the mapping is page aligned and at least `(n + 1) * LINE` bytes long, so
        // line `r + 1` is in bounds and 128-byte aligned; it lives as long as `self`. A Ctl
        // is atomics only, valid for any bit pattern (the segment starts zeroed), and every
        // process touches these words through atomic operations alone.
        unsafe { &*((self.map.addr() + (r + 1) * LINE) as *const Ctl) }
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

    /// Marks rank `r` (this process's rank) as possibly asleep, before its last check of
    /// the condition it sleeps on.
    #[inline]
    pub fn sleep_begin(&self, r: usize) {
        self.header().sleepers.fetch_add(1, Ordering::SeqCst);
        self.ctl(r).sleeping.store(1, Ordering::SeqCst);
    }

    /// Rank `r` is awake again (after [`Region::sleep_begin`]).
    #[inline]
    pub fn sleep_end(&self, r: usize) {
        self.ctl(r).sleeping.store(0, Ordering::SeqCst);
        self.header().sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Whether some rank may be asleep: read after a [`Region::publish`]; when false,
    /// nobody needs ringing.
    #[inline]
    pub fn anyone_sleeping(&self) -> bool {
        self.header().sleepers.load(Ordering::SeqCst) != 0
    }

    /// Whether rank `r` may be asleep (and must be rung after a publish it waits for).
    #[inline]
    pub fn sleeping(&self, r: usize) -> bool {
        self.ctl(r).sleeping.load(Ordering::SeqCst) != 0
    }

    /// Data slot `which` (0 or 1) of rank `r`: `slot_len()` bytes, 64-byte aligned.
    #[inline]
    pub fn slot(&self, r: usize, which: usize) -> UserPtr {
        assert!(
            r < self.n && which < 2,
            "collective region: slot {r}/{which}"
        );
        let off = (self.n + 1) * LINE + (r * 2 + which) * self.slot;
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
        assert!(!b.sleeping(1) && !b.anyone_sleeping());
        a.sleep_begin(1);
        assert!(b.sleeping(1) && b.anyone_sleeping());
        a.sleep_end(1);
        assert!(!b.sleeping(1) && !b.anyone_sleeping());
        assert_eq!(a.slot(1, 0).addr() % 64, 0);
    }

    #[test]
    fn bad_geometry_is_refused() {
        assert!(Region::create(0, 64).is_err());
        assert!(Region::create(2, 100).is_err());
    }
}
