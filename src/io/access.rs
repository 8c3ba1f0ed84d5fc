//! Data access (MPI 4.1 §14.4): a user buffer converted to the file's representation and
//! scattered over the view's runs with `pwrite`, or gathered with `pread` and converted
//! back. Positioning by explicit offset, individual pointer, shared pointer, or (collective)
//! in rank order after the shared pointer.
//!
//! Collective forms do each process's part at the call; blocking collective writes end
//! with a barrier so that data written collectively is in the file on every process's
//! return (what two-phase I/O gives ROMIO users). Nonblocking forms are done at the call.

use super::agree;
use super::file::File;
use super::mode;
use super::open::io_err;
use super::view::View;
use crate::error::{class, MpiError};
use crate::p2p::Data;
use std::os::unix::fs::FileExt;

/// What an access moved: bytes of the file, and bytes of the user's buffer (what the
/// status reports).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moved {
    pub file_bytes: u64,
    pub bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Read,
    Write,
}

/// Where an access starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// An explicit etype offset (the _at functions).
    Offset(u64),
    /// The individual file pointer.
    Individual,
    /// The shared file pointer.
    Shared,
}

/// Holds the file locks of atomic mode for the length of one access.
struct AtomicGuard<'a> {
    file: &'a File,
    _threads: parking_lot::MutexGuard<'a, ()>,
}

impl Drop for AtomicGuard<'_> {
    fn drop(&mut self) {
        let _ = self.file.fd.unlock();
    }
}

fn atomic_guard(file: &File, dir: Dir) -> Result<Option<AtomicGuard<'_>>, MpiError> {
    if !file.atomicity() {
        return Ok(None);
    }
    let threads = file.atomic_lock.lock();
    let r = match dir {
        Dir::Read => file.fd.lock_shared(),
        Dir::Write => file.fd.lock(),
    };
    r.map_err(|e| io_err(&e, "locking the file for atomic access"))?;
    Ok(Some(AtomicGuard {
        file,
        _threads: threads,
    }))
}

fn check_mode(file: &File, dir: Dir, at: At) -> Result<(), MpiError> {
    match dir {
        Dir::Read if file.amode & mode::WRONLY != 0 => {
            return Err(MpiError::new(
                class::ERR_ACCESS,
                "the file was opened with MPI_MODE_WRONLY",
            ))
        }
        Dir::Write if file.amode & mode::RDONLY != 0 => {
            return Err(MpiError::new(
                class::ERR_READ_ONLY,
                "the file was opened with MPI_MODE_RDONLY",
            ))
        }
        _ => {}
    }
    if at != At::Shared {
        file.check_sequential()?;
    }
    Ok(())
}

/// File bytes of `data` in `view`; they must be whole etypes.
fn file_len(view: &View, data: &Data) -> Result<u64, MpiError> {
    let n = view.rep.file_size(&data.dt, data.count)?;
    if n % view.esize != 0 {
        return Err(MpiError::arg(
            class::ERR_TYPE,
            "datatype",
            format!(
                "the data ({n} bytes) is not a whole number of etypes ({} bytes each)",
                view.esize
            ),
        ));
    }
    Ok(n)
}

/// Reads or writes `data` (datatype handle `h`) at data position `pos` of `view`.
fn at_pos(
    file: &File,
    view: &View,
    dir: Dir,
    pos: u64,
    data: &Data,
    h: i32,
) -> Result<Moved, MpiError> {
    let n = file_len(view, data)?;
    let _g = atomic_guard(file, dir)?;
    match dir {
        Dir::Write => {
            let bytes = view.rep.encode(data, h)?;
            view.pieces(pos, n, |off, len, d| {
                file.fd
                    .write_all_at(&bytes[d as usize..(d + len) as usize], off)
                    .map_err(|e| io_err(&e, "writing"))?;
                Ok(true)
            })?;
            Ok(Moved {
                file_bytes: n,
                bytes: data.bytes(),
            })
        }
        Dir::Read => {
            let mut buf = vec![0u8; n as usize];
            let mut got = 0u64;
            view.pieces(pos, n, |off, len, d| {
                let part = &mut buf[d as usize..(d + len) as usize];
                let r = read_full_at(file, part, off)?;
                got = d + r as u64;
                Ok(r as u64 == len)
            })?;
            let bytes = view.rep.decode(data, h, &buf[..got as usize])?;
            Ok(Moved {
                file_bytes: got,
                bytes,
            })
        }
    }
}

/// Reads into `buf` from `off` until it is full or the file ends; returns bytes read.
fn read_full_at(file: &File, buf: &mut [u8], off: u64) -> Result<usize, MpiError> {
    let mut done = 0;
    while done < buf.len() {
        match file.fd.read_at(&mut buf[done..], off + done as u64) {
            Ok(0) => break,
            Ok(k) => done += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(&e, "reading")),
        }
    }
    Ok(done)
}

/// An independent access (MPI_File_read/write, _at, _shared and their nonblocking forms).
pub fn access(file: &File, dir: Dir, at: At, data: &Data, h: i32) -> Result<Moved, MpiError> {
    check_mode(file, dir, at)?;
    let view = file.view();
    match at {
        At::Offset(o) => at_pos(file, &view, dir, o * view.esize, data, h),
        At::Individual => {
            let pos = file.state.lock().pos;
            let m = at_pos(file, &view, dir, pos * view.esize, data, h)?;
            file.state.lock().pos = pos + m.file_bytes / view.esize;
            Ok(m)
        }
        At::Shared => {
            let n = file_len(&view, data)?;
            let start = file.shared.fetch_add(n / view.esize)?;
            at_pos(file, &view, dir, start * view.esize, data, h)
        }
    }
}

/// A collective access with explicit offsets or individual pointers (the _all forms).
/// `blocking` forms of writes end with a barrier (see the module comment).
pub fn access_all(
    file: &File,
    dir: Dir,
    at: At,
    data: &Data,
    h: i32,
    blocking: bool,
) -> Result<Moved, MpiError> {
    let r = access(file, dir, at, data, h);
    if blocking && dir == Dir::Write {
        agree::barrier(file.engine, &file.comm)?;
    }
    r
}

/// MPI_File_read_ordered / write_ordered (collective): the processes access the file in
/// rank order from the shared pointer, which ends after all of them.
pub fn ordered(file: &File, dir: Dir, data: &Data, h: i32) -> Result<Moved, MpiError> {
    let view = file.view();
    let mine = check_mode(file, dir, At::Shared).and_then(|_| file_len(&view, data));
    let n = agree::all_ok(file.engine, &file.comm, mine)?;
    let sizes = agree::allgather_u64(file.engine, &file.comm, n / view.esize)?;
    let rank = file.comm.rank as usize;
    let before: u64 = sizes[..rank].iter().sum();
    let total: u64 = sizes.iter().sum();
    let base = if rank == 0 {
        file.shared.fetch_add(total)
    } else {
        Ok(0)
    };
    let base = agree::all_ok(file.engine, &file.comm, base)?;
    let base = agree::allgather_u64(file.engine, &file.comm, base)?[0];
    let r = at_pos(file, &view, dir, (base + before) * view.esize, data, h);
    if dir == Dir::Write {
        agree::barrier(file.engine, &file.comm)?;
    }
    r
}
