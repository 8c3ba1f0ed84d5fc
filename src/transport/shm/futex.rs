//! The Linux futex calls behind the doorbell. Shared (not FUTEX_PRIVATE_FLAG) because the
//! word lives in a MAP_SHARED mapping that several processes use.

use super::doorbell::Futex;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

pub(crate) struct SharedFutex;

impl Futex for SharedFutex {
    fn wait(&self, word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
        let ts = timeout.map(|d| libc::timespec {
            tv_sec: d.as_secs().min(i64::MAX as u64) as libc::time_t,
            tv_nsec: d.subsec_nanos() as libc::c_long,
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `word` is a live, 4-byte aligned atomic for the whole call; `ts_ptr` is null
        // or points to a timespec on this stack frame. FUTEX_WAIT only reads both. Its result
        // (woken, EAGAIN because the value changed, ETIMEDOUT, EINTR) needs no handling: every
        // caller re-checks its condition, and early returns are part of the contract.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT,
                expected,
                ts_ptr,
                std::ptr::null::<u32>(),
                0u32,
            );
        }
    }

    fn wake_all(&self, word: &AtomicU32) {
        // SAFETY: `word` is a live aligned atomic; FUTEX_WAKE does not touch memory. A failure
        // can only come from an invalid address, which a reference rules out.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAKE,
                i32::MAX,
                std::ptr::null::<libc::timespec>(),
                std::ptr::null::<u32>(),
                0u32,
            );
        }
    }
}
