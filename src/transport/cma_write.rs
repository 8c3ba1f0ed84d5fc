//! Single-copy writes into a local peer's memory with `process_vm_writev` (Cross Memory
//! Attach, the mirror of `shm::cma`'s reads). The shared-memory broadcast at 2 ranks
//! (`coll::shm::direct`) lets its root, otherwise idle while the reader copies, write part
//! of the message straight into the reader's buffer. The kernel applies the same ptrace
//! access check to writes as to reads (PTRACE_MODE_ATTACH_REALCREDS, mm/process_vm_access.c),
//! so a communicator whose ranks may read each other's memory may write it too.

use crate::transport::mem::UserPtr;
use std::io;

/// Copies `len` bytes at `src` in this process to `remote` in process `pid`; loops over
/// partial transfers. Returns the bytes copied, or the error of a call that copied
/// nothing (EPERM when forbidden, EFAULT for a bad remote range, ESRCH ...).
pub fn write_to(pid: i32, src: UserPtr, len: usize, remote: usize) -> io::Result<usize> {
    let mut done = 0usize;
    while done < len {
        let local = libc::iovec {
            iov_base: (src.addr() + done) as *mut libc::c_void,
            iov_len: len - done,
        };
        let far = libc::iovec {
            iov_base: (remote + done) as *mut libc::c_void,
            iov_len: len - done,
        };
        // SAFETY: the local range is an operation's data, valid for the call (UserPtr's
        // contract), and the kernel only reads it; the remote range is validated by the
        // kernel against `pid`'s address space (a bad one fails with EFAULT, no write here).
        let got = unsafe { libc::process_vm_writev(pid, &local, 1, &far, 1, 0) };
        if got < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "process_vm_writev copied nothing",
            ));
        }
        done += got as usize;
    }
    Ok(done)
}
