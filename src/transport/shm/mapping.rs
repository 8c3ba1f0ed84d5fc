//! Obtaining and mapping the segment's memory: an inherited memfd, or a named POSIX shm
//! object under a foreign launcher.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

/// A MAP_SHARED read/write mapping, unmapped on drop.
pub(crate) struct Mapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain shared memory with no thread affinity; all access to it goes
// through atomics or through cells whose exclusive ownership the queue protocol guarantees.
unsafe impl Send for Mapping {}
// SAFETY: as above; `&Mapping` only hands out the base pointer.
unsafe impl Sync for Mapping {}

impl Mapping {
    pub fn base(&self) -> *mut u8 {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Map `len` bytes of `fd` from offset 0, after growing the file to `len` if it is
    /// smaller (never shrinking it: peers may already map it).
    pub fn of_fd(fd: RawFd, len: usize, may_grow: bool) -> io::Result<Mapping> {
        let size = file_size(fd)?;
        if size < len {
            if !may_grow {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("shm: segment has {size} bytes, {len} needed"),
                ));
            }
            // SAFETY: ftruncate on a caller-provided descriptor; no memory is involved.
            if unsafe { libc::ftruncate(fd, len as libc::off_t) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: a fresh shared mapping chosen by the kernel (addr NULL); the result is
        // checked against MAP_FAILED before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            ptr: ptr.cast(),
            len,
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr/len` is exactly the region mmap returned and nothing borrows it any more
        // (borrows of the segment are tied to the owning Shm).
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

fn file_size(fd: RawFd) -> io::Result<usize> {
    // SAFETY: `st` is a properly sized out-parameter for fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes only into `st`.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.st_size as usize)
}

/// POSIX shm names are "/name"; accept the name with or without the slash.
fn shm_name(name: &str) -> io::Result<CString> {
    let full = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/{name}")
    };
    if full.len() < 2 || full[1..].contains('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "shm: bad segment name",
        ));
    }
    CString::new(full).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "shm: NUL in name"))
}

/// Open (`create`: create exclusively, mode 0600) a named shm object. Returns an owned fd.
pub(crate) fn open_named(name: &str, create: bool) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let cname = shm_name(name)?;
    let flags = libc::O_RDWR
        | libc::O_CLOEXEC
        | if create {
            libc::O_CREAT | libc::O_EXCL
        } else {
            0
        };
    // SAFETY: `cname` is a valid NUL-terminated string for the duration of the call.
    let fd = unsafe { libc::shm_open(cname.as_ptr(), flags, 0o600) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by shm_open and is owned by nobody else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

pub(crate) fn unlink_named(name: &str) -> io::Result<()> {
    let cname = shm_name(name)?;
    // SAFETY: `cname` is a valid NUL-terminated string.
    if unsafe { libc::shm_unlink(cname.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
