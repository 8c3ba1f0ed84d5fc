//! Scratch memory for schedules, recycled between calls.
//!
//! A large collective needs scratch buffers as big as the message. Fresh ones come from
//! mmap (glibc serves blocks of 128 KiB and more that way) and return to the kernel when
//! freed, so every call paid a page fault per 4 KiB page, plus the kernel's zeroing, before
//! any byte moved: for a 256 KiB MPI_Reduce that was most of the time. Buffers of at least
//! [`KEEP_FROM`] bytes go back to a small process-wide pool when their schedule ends, and
//! the next schedule that needs one takes it with its pages already mapped. The pool is
//! bounded ([`KEEP_BYTES`] in all) so a rank's memory stays what its largest recent
//! collectives needed. Recycled memory is not zeroed: schedules write every scratch byte
//! before they read it.

use parking_lot::Mutex;

/// Buffers smaller than this are left to malloc (which recycles them cheaply itself).
pub const KEEP_FROM: usize = 64 * 1024;
/// Most bytes the pool keeps.
pub const KEEP_BYTES: usize = 32 * 1024 * 1024;

static POOL: Mutex<Vec<Box<[u8]>>> = Mutex::new(Vec::new());

/// A buffer of exactly `bytes` bytes' use (it may be longer): recycled if one fits, new
/// (zeroed) otherwise.
pub fn take(bytes: usize) -> Box<[u8]> {
    if bytes >= KEEP_FROM {
        let mut pool = POOL.lock();
        // The smallest that fits, and not more than twice too big (else a small request
        // would pin a huge buffer).
        let best = pool
            .iter()
            .enumerate()
            .filter(|(_, b)| b.len() >= bytes && b.len() / 2 <= bytes)
            .min_by_key(|(_, b)| b.len())
            .map(|(i, _)| i);
        if let Some(i) = best {
            return pool.swap_remove(i);
        }
    }
    vec![0u8; bytes.max(1)].into_boxed_slice()
}

/// Returns a buffer from [`take`] for reuse (or frees it).
pub fn give(b: Box<[u8]>) {
    if b.len() < KEEP_FROM {
        return;
    }
    let mut pool = POOL.lock();
    let mut held: usize = pool.iter().map(|b| b.len()).sum();
    // Room is made by dropping the oldest buffers first.
    while held + b.len() > KEEP_BYTES && !pool.is_empty() {
        held -= pool.remove(0).len();
    }
    if held + b.len() <= KEEP_BYTES {
        pool.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_come_back() {
        let b = take(200_000);
        let addr = b.as_ptr() as usize;
        give(b);
        // Other tests may take it meanwhile; when it is still there, it is reused.
        let c = take(150_000);
        assert!(c.len() >= 150_000);
        if c.as_ptr() as usize == addr {
            assert_eq!(c.len(), 200_000);
        }
        give(c);
        assert!(take(10).len() >= 10);
    }

    #[test]
    fn the_pool_is_bounded() {
        for _ in 0..(KEEP_BYTES / (4 << 20) + 4) {
            give(vec![0u8; 4 << 20].into_boxed_slice());
        }
        assert!(POOL.lock().iter().map(|b| b.len()).sum::<usize>() <= KEEP_BYTES);
    }
}
