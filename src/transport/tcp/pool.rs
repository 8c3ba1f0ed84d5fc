//! Reused frame buffers: a received cell's header and payload land in a buffer taken from
//! here, and the engine's `release` gives it back, so a message costs no heap allocation
//! and no zeroing of its buffer (an eager frame of 64 KiB was a fresh zeroed vector, then
//! freed: a page-faulting round trip through the allocator per message). MPICH's ch3
//! sockets and Open MPI's btl/tcp receive into preallocated fragments the same way.

use parking_lot::Mutex;

/// Buffers kept: enough for the frames a rank holds at once (it releases each after
/// delivering it), bounded so a burst does not pin memory.
const KEEP: usize = 16;
/// Of those, at most this many larger than [`LARGE`]: an eager frame may be as large as
/// `FRAME_EAGER_MAX` (128 KiB) or a cell, and sixteen
/// large buffers would pin memory for a burst long gone; a window of large eager messages to posted receives uses one or two at a
/// time (each is copied out and given back before the next is read).
const KEEP_LARGE: usize = 4;
/// The size above which a buffer counts against [`KEEP_LARGE`].
const LARGE: usize = 256 << 10;
/// The smallest buffer made: any cell of a small message fits.
const MIN: usize = 4 << 10;

#[derive(Default)]
pub(super) struct Pool {
    /// Every buffer here is fully initialised up to its capacity (`len == capacity`).
    free: Mutex<Vec<Vec<u8>>>,
}

impl Pool {
    /// A buffer of exactly `len` bytes (contents unspecified: the caller overwrites them).
    pub(super) fn take(&self, len: usize) -> Vec<u8> {
        let found = {
            let mut free = self.free.lock();
            free.iter()
                .position(|b| b.len() >= len)
                .map(|i| free.swap_remove(i))
        };
        match found {
            Some(mut b) => {
                b.truncate(len);
                b
            }
            None => {
                let mut b = vec![0u8; len.max(MIN).next_power_of_two()];
                b.truncate(len);
                b
            }
        }
    }

    /// Takes back a buffer `take` gave out.
    pub(super) fn give(&self, mut b: Vec<u8>) {
        // SAFETY: `b` came from `take`, which made it with `vec![0; capacity]` and only
        // truncated it: every byte up to the capacity was written and u8 has no drop, so
        // the bytes past `len` are still initialised.
        unsafe { b.set_len(b.capacity()) };
        let mut free = self.free.lock();
        if b.len() > LARGE && free.iter().filter(|f| f.len() > LARGE).count() >= KEEP_LARGE {
            // Enough large ones kept: the smallest of them gives way to a larger one.
            if let Some(large) = free
                .iter_mut()
                .filter(|f| f.len() > LARGE)
                .min_by_key(|f| f.len())
            {
                if large.len() < b.len() {
                    *large = b;
                }
            }
        } else if free.len() < KEEP {
            free.push(b);
        } else if let Some(small) = free.iter_mut().min_by_key(|s| s.len()) {
            // Keep the larger buffers: a small one is cheap to make again.
            if small.len() < b.len() {
                *small = b;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_sized() {
        let p = Pool::default();
        let a = p.take(100);
        assert_eq!(a.len(), 100);
        let cap = a.capacity();
        let ptr = a.as_ptr();
        p.give(a);
        let b = p.take(200);
        assert_eq!((b.len(), b.as_ptr(), b.capacity()), (200, ptr, cap));
        let c = p.take(70_000);
        assert_eq!(c.len(), 70_000);
        p.give(b);
        p.give(c);
        let d = p.take(65_000);
        assert!(d.capacity() >= 70_000);
    }

    /// A burst of large frames leaves at most `KEEP_LARGE` large buffers behind, the
    /// largest ones, and small ones are still kept beside them.
    #[test]
    fn few_large_buffers_are_kept() {
        let p = Pool::default();
        let sizes: Vec<usize> = (0..10).map(|i| LARGE + 1 + i * (64 << 10)).collect();
        let taken: Vec<Vec<u8>> = sizes.iter().map(|&n| p.take(n)).collect();
        let small = p.take(100);
        for b in taken {
            p.give(b);
        }
        p.give(small);
        let free = p.free.lock();
        let large: Vec<usize> = free
            .iter()
            .map(|b| b.len())
            .filter(|&n| n > LARGE)
            .collect();
        assert_eq!(large.len(), KEEP_LARGE, "large buffers kept: {large:?}");
        let biggest = sizes[9].next_power_of_two();
        assert!(
            large.contains(&biggest),
            "the largest was dropped: {large:?}"
        );
        assert!(
            free.iter().any(|b| b.len() <= LARGE),
            "the small one was dropped"
        );
    }
}
