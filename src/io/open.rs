//! Opening, closing and deleting files (MPI 4.1 §14.2). Open is collective: rank 0 creates
//! the file (so MPI_MODE_EXCL has one winner) and the shared-pointer sidecar, then the
//! others open it; every step ends with an agreement, so all ranks fail the same way.

use super::agree;
use super::file::File;
use super::mode;
use super::shared::SharedPtr;
use crate::comm_build::create as comm_create;
use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::object::info::Info;
use crate::p2p::NodeEngine;
use crate::runtime::Runtime;
use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The MPI error for a failed POSIX call (`what` says what we were doing).
pub fn io_err(e: &io::Error, what: &str) -> MpiError {
    let c = match e.raw_os_error() {
        Some(libc::ENOENT) => class::ERR_NO_SUCH_FILE,
        Some(libc::EEXIST) => class::ERR_FILE_EXISTS,
        Some(libc::EACCES) | Some(libc::EPERM) => class::ERR_ACCESS,
        Some(libc::EROFS) => class::ERR_READ_ONLY,
        Some(libc::ENOSPC) | Some(libc::EFBIG) => class::ERR_NO_SPACE,
        Some(libc::EDQUOT) => class::ERR_QUOTA,
        Some(libc::EISDIR) | Some(libc::ENAMETOOLONG) | Some(libc::ENOTDIR) | Some(libc::ELOOP) => {
            class::ERR_BAD_FILE
        }
        Some(libc::ETXTBSY) | Some(libc::EBUSY) => class::ERR_FILE_IN_USE,
        _ => class::ERR_IO,
    };
    MpiError::new(c, format!("{what}: {e}"))
}

/// Checks an access mode alone (MPI 4.1 §14.2.1).
pub fn check_amode(amode: i32) -> Result<(), MpiError> {
    let bad = |why: &str| Err(MpiError::arg(class::ERR_AMODE, "amode", why));
    if amode & !mode::ALL != 0 {
        return bad("unknown mode bits");
    }
    let rw = [mode::RDONLY, mode::WRONLY, mode::RDWR]
        .iter()
        .filter(|&&m| amode & m != 0)
        .count();
    if rw != 1 {
        return bad("exactly one of MPI_MODE_RDONLY, MPI_MODE_WRONLY, MPI_MODE_RDWR is required");
    }
    if amode & mode::RDONLY != 0 && amode & (mode::CREATE | mode::EXCL) != 0 {
        return bad("MPI_MODE_CREATE and MPI_MODE_EXCL need write access");
    }
    if amode & mode::RDWR != 0 && amode & mode::SEQUENTIAL != 0 {
        return bad("MPI_MODE_SEQUENTIAL cannot be combined with MPI_MODE_RDWR");
    }
    Ok(())
}

/// The path of a file name, without a file-system prefix ("ufs:", "nfs:", ... as ROMIO
/// accepts them).
pub fn path_of(name: &str) -> Result<PathBuf, MpiError> {
    const PREFIXES: &[&str] = &[
        "ufs:", "nfs:", "testfs:", "lustre:", "gpfs:", "pvfs2:", "xfs:", "panfs:", "daos:",
    ];
    let p = PREFIXES
        .iter()
        .find_map(|pre| name.strip_prefix(pre))
        .unwrap_or(name);
    if p.is_empty() {
        return Err(MpiError::arg(
            class::ERR_BAD_FILE,
            "filename",
            "empty file name",
        ));
    }
    Ok(PathBuf::from(p))
}

/// The one file hint we act on: the permissions of a file MPI_File_open creates (MPI 4.1
/// §14.2.8, reserved key "file_perm"), in octal. MPI_File_get_info reports the hints in use
/// only — this one when it was given and valid — so unknown keys are never echoed back.
pub const FILE_PERM: &str = "file_perm";

/// The permission bits `info` asks for, if it gives valid ones (octal, at most 0o7777).
fn file_perm(info: &Info) -> Option<u32> {
    let v = info.get(FILE_PERM)?.trim();
    u32::from_str_radix(v, 8).ok().filter(|&p| p <= 0o7777)
}

/// The hints of `info` that are in use: what MPI_File_get_info reports.
fn hints_in_use(info: &Info) -> Info {
    let mut used = Info::new();
    if let Some(p) = file_perm(info) {
        used.set(FILE_PERM, &format!("{p:04o}"));
    }
    used
}

fn options(amode: i32, create: bool, perm: Option<u32>) -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.read(amode & mode::WRONLY == 0)
        .write(amode & mode::RDONLY == 0);
    if create && amode & mode::CREATE != 0 {
        if amode & mode::EXCL != 0 {
            o.create_new(true);
        } else {
            o.create(true);
        }
        if let Some(p) = perm {
            o.mode(p);
        }
    }
    o
}

/// MPI_File_open: collective over `parent` (an intracommunicator).
pub fn open(
    rt: &'static Runtime,
    parent: &Comm,
    name: &str,
    amode: i32,
    info: Info,
) -> Result<File, MpiError> {
    let checked = path_of(name).and_then(|p| check_amode(amode).map(|_| p));
    let path = agree::all_ok(&rt.engine, parent, checked)?;
    let modes = agree::allgather_u64(&rt.engine, parent, amode as u32 as u64)?;
    if modes.iter().any(|&m| m != modes[0]) {
        return Err(MpiError::arg(
            class::ERR_NOT_SAME,
            "amode",
            "the processes passed different access modes",
        ));
    }
    let comm = comm_create::dup(rt, parent)?;
    match open_on(&rt.engine, &comm, &path, amode, file_perm(&info)) {
        Ok((fd, shared)) => File::new(
            &rt.engine,
            comm,
            path,
            fd,
            amode,
            hints_in_use(&info),
            shared,
        ),
        Err(e) => {
            forget(rt, &comm);
            Err(e)
        }
    }
}

/// Frees the file's private communicator.
fn forget(rt: &Runtime, comm: &Comm) {
    rt.engine.forget_context(comm.context_id);
    comm_create::release_context(rt, comm.context_id);
}

fn open_on(
    e: &NodeEngine,
    comm: &Comm,
    path: &Path,
    amode: i32,
    perm: Option<u32>,
) -> Result<(std::fs::File, SharedPtr), MpiError> {
    // Rank 0 first: it creates the file and the sidecar.
    let first = if comm.rank == 0 {
        options(amode, true, perm)
            .open(path)
            .map_err(|e| io_err(&e, &format!("opening {}", path.display())))
            .and_then(|fd| {
                let size = fd
                    .metadata()
                    .map_err(|e| io_err(&e, "reading the file size"))?
                    .len();
                let init = if amode & mode::APPEND != 0 { size } else { 0 };
                Ok((Some(fd), SharedPtr::create(path, init)))
            })
    } else {
        Ok((None, None))
    };
    let (fd0, side) = agree::all_ok(e, comm, first)?;
    let side_name = side
        .as_ref()
        .map(|p| p.as_os_str().as_bytes().to_vec())
        .unwrap_or_default();
    let side_name = agree::bcast0(e, comm, &side_name)?;
    let side = (!side_name.is_empty()).then(|| PathBuf::from(OsStr::from_bytes(&side_name)));
    let shared = SharedPtr::new(side);
    let rest = match fd0 {
        Some(fd) => Ok(fd),
        None => options(amode, false, None)
            .open(path)
            .map_err(|e| io_err(&e, &format!("opening {}", path.display()))),
    };
    match agree::all_ok(e, comm, rest) {
        Ok(fd) => Ok((fd, shared)),
        Err(e) => {
            if comm.rank == 0 {
                shared.remove();
            }
            Err(e)
        }
    }
}

/// MPI_File_close: collective. Everyone finishes its accesses, then rank 0 removes the
/// sidecar (and the file with MPI_MODE_DELETE_ON_CLOSE).
pub fn close(rt: &Runtime, f: &File) -> Result<(), MpiError> {
    agree::barrier(f.engine, &f.comm)?;
    let r = if f.comm.rank == 0 {
        f.shared.remove();
        if f.amode & mode::DELETE_ON_CLOSE != 0 {
            std::fs::remove_file(&f.path)
                .map_err(|e| io_err(&e, &format!("deleting {}", f.path.display())))
        } else {
            Ok(())
        }
    } else {
        Ok(())
    };
    let r = agree::all_ok(f.engine, &f.comm, r);
    forget(rt, &f.comm);
    r
}

/// MPI_File_delete.
pub fn delete(name: &str) -> Result<(), MpiError> {
    let p = path_of(name)?;
    std::fs::remove_file(&p).map_err(|e| io_err(&e, &format!("deleting {}", p.display())))
}
