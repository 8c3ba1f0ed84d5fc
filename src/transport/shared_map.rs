//! Memory mappings for one-sided communication: private zeroed memory (MPI_Alloc_mem,
//! MPI_Win_allocate) and memory shared by the processes of a node (MPI_Win_allocate_shared).
//!
//! A shared segment is a memfd created by one process; the others open it through
//! `/proc/<pid>/fd/<n>` while the creator keeps the descriptor open, so nothing is ever
//! named in /dev/shm and nothing can leak when a job dies.

use super::mem::UserPtr;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A live mapping, unmapped on drop. The mapping is at least one page even for a zero
/// length, so every window and allocation has a distinct, valid address.
#[derive(Debug)]
pub struct Mapping {
    addr: usize,
    /// Bytes mapped (>= the length asked for).
    mapped: usize,
    len: usize,
}

fn page() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

fn round_up(len: usize) -> usize {
    let p = page();
    len.max(1).div_ceil(p) * p
}

fn map(len: usize, flags: libc::c_int, fd: libc::c_int) -> io::Result<Mapping> {
    let mapped = round_up(len);
    // SAFETY: a fresh mapping at an address of the kernel's choice; it aliases no Rust
    // object. `fd` is valid for the call (or -1 for an anonymous mapping).
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            mapped,
            libc::PROT_READ | libc::PROT_WRITE,
            flags,
            fd,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(Mapping {
        addr: p as usize,
        mapped,
        len,
    })
}

impl Mapping {
    /// Private, zero-filled memory of `len` bytes (page aligned).
    pub fn anonymous(len: usize) -> io::Result<Mapping> {
        map(len, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1)
    }

    /// A new zero-filled shared segment of `len` bytes: the mapping and the memfd that
    /// other processes open (keep it until they have; see [`Mapping::open_peer`]).
    pub fn shared(len: usize) -> io::Result<(Mapping, OwnedFd)> {
        let fd = super::fd::memfd_create(c"oximpi-win")?;
        // SAFETY: ftruncate on a valid descriptor.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), round_up(len) as libc::off_t) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let m = map(len, libc::MAP_SHARED, fd.as_raw_fd())?;
        Ok((m, fd))
    }

    /// Maps the segment that process `pid` created with [`Mapping::shared`] and holds as
    /// descriptor `fd`, `len` bytes long.
    pub fn open_peer(pid: u32, fd: i32, len: usize) -> io::Result<Mapping> {
        let path = CString::new(format!("/proc/{pid}/fd/{fd}")).expect("no NUL");
        // SAFETY: open with a valid path; the result is checked.
        let raw = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor that nothing else owns; closed when `own` drops (the
        // mapping keeps the memory alive).
        let own = unsafe { OwnedFd::from_raw_fd(raw) };
        map(len, libc::MAP_SHARED, own.as_raw_fd())
    }

    /// The first byte.
    pub fn ptr(&self) -> UserPtr {
        // SAFETY: the whole mapping stays valid until `self` drops; users of the pointer
        // (windows, MPI_Alloc_mem) keep the Mapping alive for as long as they use it.
        unsafe { UserPtr::new(self.addr as *const u8) }
    }

    pub fn addr(&self) -> usize {
        self.addr
    }

    /// The length asked for.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `map` mapped; no Rust reference into it outlives
        // the Mapping (users hold only raw addresses, under the MPI contract).
        unsafe { libc::munmap(self.addr as *mut libc::c_void, self.mapped) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_is_zeroed_and_writable() {
        let m = Mapping::anonymous(100).unwrap();
        let mut b = [1u8; 100];
        m.ptr().read(0, &mut b);
        assert!(b.iter().all(|&x| x == 0));
        m.ptr().write(10, &[7, 8]);
        m.ptr().read(10, &mut b[..2]);
        assert_eq!(&b[..2], &[7, 8]);
    }

    #[test]
    fn shared_is_seen_through_a_second_mapping() {
        let (a, fd) = Mapping::shared(64).unwrap();
        let b = Mapping::open_peer(std::process::id(), fd.as_raw_fd(), 64).unwrap();
        a.ptr().write(3, &[42]);
        let mut x = [0u8];
        b.ptr().read(3, &mut x);
        assert_eq!(x[0], 42);
        assert_ne!(a.addr(), b.addr());
    }
}
