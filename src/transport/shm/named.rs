//! Names of node segments in /dev/shm: how they are made, swept when stale, and removed from
//! a fatal-signal handler.
//!
//! A name is `oximpi-<pid>-<start>-<rank>`: the creator's pid and its start time (field 22
//! of /proc/PID/stat, in clock ticks since boot), so a later job can tell a live creator
//! from a dead one whose pid was reused. Older names `oximpi-<pid>-<rank>` are judged by
//! the pid alone.

use std::cell::UnsafeCell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

pub const SHM_DIR: &str = "/dev/shm";
const PREFIX: &str = "oximpi-";

/// The start time of process `pid`, `None` if there is no such process.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// A new name for the segment of the job rank `rank` creates.
pub fn fresh_name(rank: u32) -> String {
    let pid = std::process::id();
    let start = start_time(pid).unwrap_or(0);
    format!("/{PREFIX}{pid}-{start}-{rank}")
}

/// True when the segment named `file` (without the slash) was made by a process that
/// is gone. Names that are not ours are never judged stale.
pub fn is_stale(file: &str) -> bool {
    let Some(rest) = file.strip_prefix(PREFIX) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('-').collect();
    let nums: Option<Vec<u64>> = parts.iter().map(|p| p.parse().ok()).collect();
    let Some(nums) = nums else { return false };
    let (pid, start) = match nums[..] {
        [pid, start, _rank] => (pid, Some(start)),
        [pid, _rank] => (pid, None),
        _ => return false,
    };
    let Ok(pid) = u32::try_from(pid) else {
        return false;
    };
    match (start_time(pid), start) {
        (None, _) => true,
        (Some(now), Some(then)) => then != 0 && now != then,
        (Some(_), None) => false,
    }
}

/// Removes the segments of `dir` whose creator is gone (ours only: the directory is
/// sticky, so another user's would not go anyway). Returns how many were removed.
pub fn sweep_stale(dir: &Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_stale(name) || e.metadata().map_or(true, |m| m.uid() != me) {
            continue;
        }
        if std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Signals whose default action ends the process and that a handler can catch.
const FATAL: [libc::c_int; 9] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGABRT,
    libc::SIGFPE,
    libc::SIGILL,
];

/// What the handler needs, written before it is armed and only read while it is.
struct Slot {
    /// "/dev/shm/oximpi-...\0"
    path: UnsafeCell<[u8; 128]>,
    old: UnsafeCell<[libc::sigaction; FATAL.len()]>,
}
// SAFETY: written only by `arm` while ARMED is false and no handler of ours is
// installed; read by the handler and `disarm` only after ARMED was set (release/acquire).
unsafe impl Sync for Slot {}

static SLOT: Slot = Slot {
    path: UnsafeCell::new([0; 128]),
    // SAFETY: an all-zero sigaction is a valid value (SIG_DFL, empty mask).
    old: UnsafeCell::new(unsafe { std::mem::zeroed() }),
};
/// A name is waiting to be removed and our handlers are installed.
static ARMED: AtomicBool = AtomicBool::new(false);
/// Serialises arm/disarm (one segment window at a time per process).
static BUSY: AtomicBool = AtomicBool::new(false);

extern "C" fn on_fatal(sig: libc::c_int) {
    if ARMED.swap(false, Ordering::AcqRel) {
        // SAFETY: ARMED was set after `path` was written, and nobody writes it while
        // set. unlink(2) is async-signal-safe.
        unsafe { libc::unlink(SLOT.path.get() as *const libc::c_char) };
    }
    // Put back what was there and deliver the signal to it: the program (or the
    // default action) handles it as if we had never been here.
    if let Some(i) = FATAL.iter().position(|&s| s == sig) {
        // SAFETY: `old` was filled by `arm` before any handler was installed and is
        // only read now; sigaction and raise are async-signal-safe. The signal is
        // blocked while we run, so the raise is delivered when we return.
        unsafe {
            let old = &(*SLOT.old.get())[i];
            libc::sigaction(sig, old, std::ptr::null_mut());
            libc::raise(sig);
        }
    }
}

/// Installs the handlers that remove `name` if a fatal signal comes before [`disarm`].
/// Does nothing (the name is still removed on the other paths) if a window is open.
pub fn arm(name: &str) {
    let path = format!("{SHM_DIR}{name}");
    if path.len() >= 128 || BUSY.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: BUSY is ours and ARMED is false: no handler of ours reads SLOT now.
    unsafe {
        let buf = &mut *SLOT.path.get();
        buf.fill(0);
        buf[..path.len()].copy_from_slice(path.as_bytes());
    }
    for (i, &sig) in FATAL.iter().enumerate() {
        // SAFETY: we fill a zeroed sigaction with a handler that does only
        // async-signal-safe work; the old action is saved into SLOT, ours alone.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fatal as *const () as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            let old = &mut (*SLOT.old.get())[i];
            libc::sigaction(sig, std::ptr::null(), old);
            // A signal the program ignores stays ignored: it cannot end us.
            if old.sa_sigaction == libc::SIG_IGN {
                continue;
            }
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    ARMED.store(true, Ordering::Release);
}

/// Closes the window: the handlers installed by [`arm`] give the signals back to
/// whatever had them before (unless the program has changed them since).
pub fn disarm() {
    if !BUSY.load(Ordering::Acquire) {
        return;
    }
    ARMED.store(false, Ordering::Release);
    for (i, &sig) in FATAL.iter().enumerate() {
        // SAFETY: reading the current action into a local, then restoring the saved one
        // (SLOT.old is stable while BUSY is set).
        unsafe {
            let mut now: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut now);
            if now.sa_sigaction == on_fatal as *const () as libc::sighandler_t {
                libc::sigaction(sig, &(*SLOT.old.get())[i], std::ptr::null_mut());
            }
        }
    }
    BUSY.store(false, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_names_are_those_of_dead_creators() {
        let me = std::process::id();
        let start = start_time(me).unwrap();
        assert!(!is_stale(&format!("oximpi-{me}-{start}-0")));
        assert!(is_stale(&format!("oximpi-{me}-{}-0", start + 1)));
        assert!(!is_stale(&format!("oximpi-{me}-0")));
        // pid_max is at most 2^22: this pid cannot exist.
        assert!(is_stale("oximpi-4194305-7-0"));
        assert!(is_stale("oximpi-4194305-0"));
        for other in ["oximpi-x-1-0", "mpich-1-2", "oximpi-1-2-3-4", "oximpi-"] {
            assert!(!is_stale(other), "{other}");
        }
        let fresh = fresh_name(3);
        assert!(!is_stale(&fresh[1..]), "{fresh}");
    }

    #[test]
    fn the_creator_removes_its_name_on_every_path() {
        use crate::transport::shm::{Shm, ShmConfig};
        let cfg = ShmConfig {
            cells_per_rank: 2,
            cell_payload: 16,
        };
        let exists = |n: &str| Path::new(&format!("{SHM_DIR}{n}")).exists();
        // Dropped before the peers attached (a failed MPI_Init): the name goes.
        let a = Shm::create_node_segment(7, 2, 0, &cfg).unwrap();
        let name = a.segment_name().unwrap();
        assert!(exists(&name));
        drop(a);
        assert!(!exists(&name));
        // The normal path: peers open it, the creator unlinks it, twice is harmless.
        let a = Shm::create_node_segment(8, 2, 0, &cfg).unwrap();
        let name = a.segment_name().unwrap();
        let _b = Shm::open_named(&name, 2, 1, &cfg).unwrap();
        a.unlink_name().unwrap();
        a.unlink_name().unwrap();
        assert!(!exists(&name) && a.segment_name().is_none());
        // The handlers were given back: SIGTERM's action is what it was (default here).
        let mut now: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY (test): reads the current action into a local.
        unsafe { libc::sigaction(libc::SIGTERM, std::ptr::null(), &mut now) };
        assert_ne!(
            now.sa_sigaction,
            on_fatal as *const () as libc::sighandler_t
        );
    }

    #[test]
    fn sweep_removes_only_stale_files() {
        let dir = std::env::temp_dir().join(format!("oximpi-sweep-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let live = &fresh_name(0)[1..];
        for f in ["oximpi-4194305-7-0", live, "unrelated"] {
            std::fs::write(dir.join(f), b"").unwrap();
        }
        assert_eq!(sweep_stale(&dir), 1);
        assert!(dir.join(live).exists() && dir.join("unrelated").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
