//! Single-copy transfers between local processes with `process_vm_readv` (Cross Memory
//! Attach). The receiver reads straight from the sender's buffer; the p2p engine decides when
//! to use it (large messages) and must probe it once, because the kernel may forbid it
//! (Yama ptrace_scope ≥ 2, containers without CAP_SYS_PTRACE, seccomp).

use crate::transport::mem::UserPtr;
use std::io::{self, IoSliceMut};

/// Linux's UIO_MAXIOV: the most iovecs one call accepts on either side.
const IOV_MAX: usize = 1024;

/// Let any process of ours read this one's memory. Under Yama `ptrace_scope == 1` only
/// ancestors may otherwise; `PR_SET_PTRACER_ANY` lifts that, as Open MPI does. Does nothing
/// (and succeeds) when Yama is absent or set otherwise.
pub fn allow_peers_to_read() -> io::Result<()> {
    let scope = match std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope") {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if scope.trim() != "1" {
        return Ok(());
    }
    // SAFETY: prctl(PR_SET_PTRACER, ANY) only changes this process's ptrace policy.
    let rc = unsafe { libc::prctl(libc::PR_SET_PTRACER, libc::PR_SET_PTRACER_ANY, 0, 0, 0) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A position in a list of (address, length) ranges.
struct Cursor {
    i: usize,
    off: usize,
}

/// `read_from` into an operation's memory ranges (the engine's `Fabric::read_remote`).
pub fn read_into(
    pid: i32,
    remote: &[(usize, usize)],
    dst: &[(UserPtr, usize)],
) -> io::Result<usize> {
    let mut iov: Vec<IoSliceMut> = dst
        .iter()
        // SAFETY: the ranges are the receive's memory (UserPtr's contract); the slices live
        // only for this call, and nothing else references that memory meanwhile.
        .map(|&(p, l)| IoSliceMut::new(unsafe { p.slice_mut(0, l) }))
        .collect();
    read_from(pid, remote, &mut iov)
}

/// Copy the bytes of process `pid` at `remote` ranges (in order) into `local` (in order),
/// `min(total remote, total local)` bytes. Loops over partial transfers and over lists longer
/// than the kernel's iovec limit. Returns the bytes copied; an error if the first byte of
/// a call cannot be read (EPERM when forbidden, EFAULT for a bad remote range, ESRCH ...).
pub fn read_from(
    pid: i32,
    remote: &[(usize, usize)],
    local: &mut [IoSliceMut],
) -> io::Result<usize> {
    let remote_total: usize = remote.iter().map(|r| r.1).sum();
    let local_total: usize = local.iter().map(|l| l.len()).sum();
    let want = remote_total.min(local_total);
    let mut r = Cursor { i: 0, off: 0 };
    let mut l = Cursor { i: 0, off: 0 };
    let mut done = 0usize;
    let mut riov: Vec<libc::iovec> = Vec::with_capacity(remote.len().min(IOV_MAX));
    let mut liov: Vec<libc::iovec> = Vec::with_capacity(local.len().min(IOV_MAX));
    while done < want {
        // Describe the next batch, starting at the cursors, at most IOV_MAX ranges a side and
        // no more bytes than are left to copy.
        riov.clear();
        let mut budget = want - done;
        let (mut i, mut off) = (r.i, r.off);
        while riov.len() < IOV_MAX && i < remote.len() && budget > 0 {
            let n = (remote[i].1 - off).min(budget);
            if n > 0 {
                riov.push(libc::iovec {
                    iov_base: (remote[i].0 + off) as *mut libc::c_void,
                    iov_len: n,
                });
                budget -= n;
            }
            i += 1;
            off = 0;
        }
        let batch = want - done - budget;
        liov.clear();
        let mut budget = batch;
        let (mut i, mut off) = (l.i, l.off);
        while liov.len() < IOV_MAX && i < local.len() && budget > 0 {
            let n = (local[i].len() - off).min(budget);
            if n > 0 {
                // SAFETY: `off + n <= local[i].len()`; the pointer stays inside the slice.
                let base = unsafe { local[i].as_mut_ptr().add(off) };
                liov.push(libc::iovec {
                    iov_base: base.cast(),
                    iov_len: n,
                });
                budget -= n;
            }
            i += 1;
            off = 0;
        }
        // SAFETY: every local iovec lies inside a caller's exclusively borrowed slice; the
        // remote iovecs are only read by the kernel, which validates them against `pid`.
        let got = unsafe {
            libc::process_vm_readv(
                pid,
                liov.as_ptr(),
                liov.len() as libc::c_ulong,
                riov.as_ptr(),
                riov.len() as libc::c_ulong,
                0,
            )
        };
        let Some(got) = transferred(got, "process_vm_readv")? else {
            continue;
        };
        advance(&mut r, got, |k| remote[k].1);
        advance(&mut l, got, |k| local[k].len());
        done += got;
    }
    Ok(done)
}

/// Copies `len` bytes at `src` in this process to `remote` in process `pid` with
/// `process_vm_writev`, the mirror of [`read_from`]; loops over partial transfers. The
/// shared-memory broadcast and gather at 2 ranks (`coll::shm::direct::pair_copy`) let the
/// source, otherwise idle while the reader copies, write part of the message straight into
/// the reader's buffer. The kernel applies the same ptrace access check to writes as to
/// reads (PTRACE_MODE_ATTACH_REALCREDS, mm/process_vm_access.c), so ranks that may read each
/// other's memory may write it too. Returns the bytes copied, or the error of a call that
/// copied nothing (EPERM when forbidden, EFAULT for a bad remote range, ESRCH ...).
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
        if let Some(got) = transferred(got, "process_vm_writev")? {
            done += got;
        }
    }
    Ok(done)
}

/// The bytes one `process_vm_readv`/`writev` call (`what`) moved: `None` when a signal
/// interrupted it before any byte (call again), an error when it failed or moved nothing
/// (a range past the end of the peer's mapping would otherwise loop for ever).
fn transferred(got: isize, what: &str) -> io::Result<Option<usize>> {
    if got < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(None);
        }
        return Err(e);
    }
    if got == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{what} copied nothing"),
        ));
    }
    Ok(Some(got as usize))
}

fn advance(c: &mut Cursor, mut n: usize, len_of: impl Fn(usize) -> usize) {
    while n > 0 {
        let room = len_of(c.i) - c.off;
        if n < room {
            c.off += n;
            return;
        }
        n -= room;
        c.i += 1;
        c.off = 0;
    }
}
