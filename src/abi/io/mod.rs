//! MPI-IO, the C surface (MPI 4.1 chapter 14). `MPI_File` is a pointer in MPICH's ABI
//! (`struct ADIOI_FileD *`): our handles are pointer-sized values, a tag in the high bits
//! and a table index + 1 in the low ones, never dereferenced. MPI_FILE_NULL is 0.
//!
//! * `manage`  — open/close/delete, size, info, group, atomicity, pointers, views.
//! * `rw`      — every read and write (blocking, nonblocking, split, collective, _c).
//! * `datarep` — MPI_Register_datarep and the user representation it defines.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod datarep;
pub mod manage;
pub mod rw;

use super::Ctx;
use crate::error::{class, MpiError};
use crate::io::File;
use crate::{mpi_fn_value, runtime};
use parking_lot::Mutex;
use std::os::raw::c_int;
use std::sync::Arc;

/// MPI_FILE_NULL.
pub const FILE_NULL: usize = 0;
/// High bits of every file handle, so a stray integer is unlikely to pass for one.
const TAG: usize = 0x0F11_E000_0000_0000;
const INDEX: usize = 0x0000_0000_FFFF_FFFF;

/// Open files, by index.
static FILES: Mutex<Vec<Option<Arc<File>>>> = Mutex::new(Vec::new());

/// Registers an open file; returns its handle.
pub fn register(f: File) -> usize {
    let mut t = FILES.lock();
    let f = Some(Arc::new(f));
    let i = match t.iter().position(Option::is_none) {
        Some(i) => {
            t[i] = f;
            i
        }
        None => {
            t.push(f);
            t.len() - 1
        }
    };
    TAG | (i + 1)
}

fn index_of(h: usize) -> Option<usize> {
    (h & !INDEX == TAG && h & INDEX != 0).then(|| (h & INDEX) - 1)
}

/// The open file behind handle `h`, if any (no error raised).
pub fn lookup(h: usize) -> Option<Arc<File>> {
    let i = index_of(h)?;
    FILES.lock().get(i).cloned().flatten()
}

/// Forgets handle `h` (MPI_File_close).
fn unregister(h: usize) {
    if let Some(i) = index_of(h) {
        if let Some(slot) = FILES.lock().get_mut(i) {
            *slot = None;
        }
    }
}

/// Resolves argument `fh`; errors raised after this go to the file's errhandler (before,
/// and for an invalid handle, to MPI_FILE_NULL's).
pub fn get(ctx: &mut Ctx, fh: usize) -> Result<Arc<File>, MpiError> {
    runtime::rt()?;
    ctx.on_file(FILE_NULL);
    match lookup(fh) {
        Some(f) => {
            ctx.on_file(fh);
            Ok(f)
        }
        None if fh == FILE_NULL => Err(MpiError::arg(class::ERR_FILE, "fh", "MPI_FILE_NULL")),
        None => Err(MpiError::arg(
            class::ERR_FILE,
            "fh",
            format!("invalid file handle {fh:#x}"),
        )),
    }
}

// Handle conversions: the Fortran / integer form of a file is its table index + 1.

fn to_int(fh: usize) -> c_int {
    index_of(fh).map(|i| (i + 1) as c_int).unwrap_or(0)
}

fn from_int(v: c_int) -> usize {
    if v <= 0 {
        FILE_NULL
    } else {
        TAG | v as usize
    }
}

mpi_fn_value!(MPI_File_c2f, PMPI_File_c2f, (file: usize) -> c_int, fallback 0, { to_int(file) });
mpi_fn_value!(MPI_File_f2c, PMPI_File_f2c, (file: c_int) -> usize, fallback FILE_NULL, { from_int(file) });
mpi_fn_value!(MPI_File_toint, PMPI_File_toint, (file: usize) -> c_int, fallback 0, { to_int(file) });
mpi_fn_value!(MPI_File_fromint, PMPI_File_fromint, (file: c_int) -> usize, fallback FILE_NULL, { from_int(file) });
