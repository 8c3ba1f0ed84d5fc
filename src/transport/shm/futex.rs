//! The Linux futex calls behind the doorbell. Shared (not FUTEX_PRIVATE_FLAG) because the
//! word lives in a MAP_SHARED mapping that several processes use.

use super::doorbell::Futex;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

pub(crate) struct SharedFutex;

/// Whether this process is registered for `membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)`
/// (Linux 4.16): the first call registers it, later calls return the answer. True if the
/// kernel offers the command and took the registration (a seccomp filter or an older kernel
/// say no; the doorbell then keeps its symmetric fences).
///
/// Call it first while the process still has one thread: registering a process that has
/// several waits for an RCU grace period in the kernel (synchronize_rcu, to make every
/// thread's next switch see the flag) — 11.5-13.3 ms a rank here (strace -T), which doubled
/// `mpiexec -n 4 hello` (12 -> 24 ms) when it ran after MPI_Init had started its launcher
/// watch thread. Hence `runtime::start` calls it (through `shm::register_process_barrier`)
/// before it starts any thread; a program that made threads of its own pays the grace
/// period once, in MPI_Init.
pub(crate) fn process_barrier_registered() -> bool {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *REGISTERED.get_or_init(register)
}

fn register() -> bool {
    const QUERY: libc::c_int = 0;
    const GLOBAL_EXPEDITED: libc::c_int = 1 << 1;
    const REGISTER_GLOBAL_EXPEDITED: libc::c_int = 1 << 2;
    // SAFETY: membarrier's query and register commands take no pointer and touch no memory
    // of ours; a kernel without the call returns -1 (ENOSYS).
    unsafe {
        let cmds = libc::syscall(libc::SYS_membarrier, QUERY, 0, 0);
        cmds >= 0
            && cmds & (GLOBAL_EXPEDITED | REGISTER_GLOBAL_EXPEDITED) as libc::c_long
                == (GLOBAL_EXPEDITED | REGISTER_GLOBAL_EXPEDITED) as libc::c_long
            && libc::syscall(libc::SYS_membarrier, REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0
    }
}

impl Futex for SharedFutex {
    fn process_barrier(&self) {
        const GLOBAL_EXPEDITED: libc::c_int = 1 << 1;
        // SAFETY: takes no pointer and touches no memory of ours. It cannot fail once this
        // process registered (`process_barrier_registered`, the condition of every `light`
        // doorbell); were it to, the sleep's timeout still ends the wait.
        unsafe {
            libc::syscall(libc::SYS_membarrier, GLOBAL_EXPEDITED, 0, 0);
        }
    }

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
