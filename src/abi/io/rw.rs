//! Every read and write (MPI 4.1 §14.4): explicit offsets, individual and shared pointers,
//! their collective, split-collective and nonblocking forms, each with its `_c` twin. One
//! body (`transfer`) serves them all; the macros only spell out the C signatures.
//!
//! Nonblocking and split forms do the I/O at the call: the request comes back complete and
//! the _end call reports the status kept by the _begin.

#![deny(unsafe_op_in_unsafe_fn)]

use super::get;
use crate::abi::pt2pt;
use crate::abi::request::handle_of;
use crate::abi::status::{self, MPI_Status};
use crate::abi::{arg, Ctx};
use crate::error::{class, MpiError};
use crate::io::access::{self, At, Dir};
use crate::io::file::Split;
use crate::io::Moved;
use crate::mpi_fn;
use crate::p2p::Status;
use crate::runtime;
use std::os::raw::{c_int, c_void};

type Offset = i64;
type Count = i64;

/// How an access is positioned and whether it is collective.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pos {
    Individual,
    Explicit,
    Shared,
    IndividualAll,
    ExplicitAll,
    Ordered,
}

fn status_of(m: Moved) -> Status {
    let mut s = status::empty();
    s.bytes = m.bytes;
    s
}

/// Checks the arguments of one access and does it. `blocking` is false for the
/// nonblocking and split forms (no closing barrier for collective writes).
#[allow(clippy::too_many_arguments)]
fn transfer(
    ctx: &mut Ctx,
    fh: usize,
    dir: Dir,
    pos: Pos,
    offset: Offset,
    buf: *const c_void,
    count: Count,
    datatype: c_int,
    blocking: bool,
) -> Result<Status, MpiError> {
    let f = get(ctx, fh)?;
    let data = pt2pt::data(buf, count, datatype)?;
    let explicit = || {
        u64::try_from(offset).map(At::Offset).map_err(|_| {
            MpiError::arg(
                class::ERR_ARG,
                "offset",
                format!("negative offset {offset}"),
            )
        })
    };
    let m = match pos {
        Pos::Individual => access::access(&f, dir, At::Individual, &data, datatype)?,
        Pos::Explicit => access::access(&f, dir, explicit()?, &data, datatype)?,
        Pos::Shared => access::access(&f, dir, At::Shared, &data, datatype)?,
        Pos::IndividualAll => {
            access::access_all(&f, dir, At::Individual, &data, datatype, blocking)?
        }
        Pos::ExplicitAll => access::access_all(&f, dir, explicit()?, &data, datatype, blocking)?,
        Pos::Ordered => access::ordered(&f, dir, &data, datatype)?,
    };
    Ok(status_of(m))
}

/// A nonblocking access: done now, returned as a completed request.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn start(
    ctx: &mut Ctx,
    fh: usize,
    dir: Dir,
    pos: Pos,
    offset: Offset,
    buf: *const c_void,
    count: Count,
    datatype: c_int,
    request: *mut c_int,
) -> Result<(), MpiError> {
    let rt = runtime::rt()?;
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, crate::handle::predefined::REQUEST_NULL, "request") }?;
    let s = transfer(ctx, fh, dir, pos, offset, buf, count, datatype, false)?;
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, handle_of(rt.engine.completed(s)), "request") }
}

/// The _begin of a split collective: does the access and keeps its status for the _end.
#[allow(clippy::too_many_arguments)]
fn begin(
    ctx: &mut Ctx,
    fh: usize,
    dir: Dir,
    pos: Pos,
    offset: Offset,
    buf: *const c_void,
    count: Count,
    datatype: c_int,
) -> Result<(), MpiError> {
    let f = get(ctx, fh)?;
    if let Some(s) = &f.state.lock().split {
        return Err(MpiError::new(
            class::ERR_IO,
            format!(
                "a split collective ({}) is already active on this file; only one is allowed",
                s.begun_by
            ),
        ));
    }
    let s = transfer(ctx, fh, dir, pos, offset, buf, count, datatype, false)?;
    f.state.lock().split = Some(Split {
        begun_by: ctx.func,
        status: s,
    });
    Ok(())
}

/// The _end of a split collective begun by `partner`.
fn end(ctx: &mut Ctx, fh: usize, mut st: status::StatusOut, partner: &str) -> Result<(), MpiError> {
    let f = get(ctx, fh)?;
    let mut state = f.state.lock();
    match &state.split {
        Some(s) if s.begun_by.trim_end_matches("_c") == partner => {}
        Some(s) => {
            return Err(MpiError::new(
                class::ERR_IO,
                format!(
                    "the active split collective was begun by {}, not {partner}",
                    s.begun_by
                ),
            ))
        }
        None => {
            return Err(MpiError::new(
                class::ERR_IO,
                format!("no split collective begun by {partner} is active on this file"),
            ))
        }
    }
    let s = state.split.take().expect("checked above").status;
    drop(state);
    st.store(&s);
    Ok(())
}

/// Blocking accesses: `MPI_X(fh, [offset,] buf, count, datatype, status)` and `_c`.
macro_rules! blocking {
    ($dir:expr, $pos:expr, $bt:ty, $($m:ident $p:ident $ct:ty;)*) => {$(
        mpi_fn!($m, $p, (fh: usize, buf: $bt, count: $ct, datatype: c_int, status: *mut MPI_Status), |ctx| {
            ctx.on_file(fh);
            // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI
            // contract); checked before the transfer.
            let mut st = unsafe { status::out(status, "status") }?;
            let s = transfer(ctx, fh, $dir, $pos, 0, buf as *const c_void, count as Count, datatype, true)?;
            st.store(&s);
            Ok(())
        });
    )*};
}

macro_rules! blocking_at {
    ($dir:expr, $pos:expr, $bt:ty, $($m:ident $p:ident $ct:ty;)*) => {$(
        mpi_fn!($m, $p, (fh: usize, offset: Offset, buf: $bt, count: $ct, datatype: c_int, status: *mut MPI_Status), |ctx| {
            ctx.on_file(fh);
            // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI
            // contract); checked before the transfer.
            let mut st = unsafe { status::out(status, "status") }?;
            let s = transfer(ctx, fh, $dir, $pos, offset, buf as *const c_void, count as Count, datatype, true)?;
            st.store(&s);
            Ok(())
        });
    )*};
}

macro_rules! nonblocking {
    ($dir:expr, $pos:expr, $bt:ty, $($m:ident $p:ident $ct:ty;)*) => {$(
        mpi_fn!($m, $p, (fh: usize, buf: $bt, count: $ct, datatype: c_int, request: *mut c_int), |ctx| {
            // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
            unsafe { start(ctx, fh, $dir, $pos, 0, buf as *const c_void, count as Count, datatype, request) }
        });
    )*};
}

macro_rules! nonblocking_at {
    ($dir:expr, $pos:expr, $bt:ty, $($m:ident $p:ident $ct:ty;)*) => {$(
        mpi_fn!($m, $p, (fh: usize, offset: Offset, buf: $bt, count: $ct, datatype: c_int, request: *mut c_int), |ctx| {
            // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
            unsafe { start(ctx, fh, $dir, $pos, offset, buf as *const c_void, count as Count, datatype, request) }
        });
    )*};
}

macro_rules! split_begin {
    ($dir:expr, $pos:expr, $bt:ty, $($m:ident $p:ident $ct:ty;)*) => {$(
        mpi_fn!($m, $p, (fh: usize, buf: $bt, count: $ct, datatype: c_int), |ctx| {
            begin(ctx, fh, $dir, $pos, 0, buf as *const c_void, count as Count, datatype)
        });
    )*};
}

macro_rules! split_begin_at {
    ($dir:expr, $pos:expr, $bt:ty, $($m:ident $p:ident $ct:ty;)*) => {$(
        mpi_fn!($m, $p, (fh: usize, offset: Offset, buf: $bt, count: $ct, datatype: c_int), |ctx| {
            begin(ctx, fh, $dir, $pos, offset, buf as *const c_void, count as Count, datatype)
        });
    )*};
}

macro_rules! split_end {
    ($bt:ty, $($m:ident $p:ident $partner:literal;)*) => {$(
        mpi_fn!($m, $p, (fh: usize, buf: $bt, status: *mut MPI_Status), |ctx| {
            ctx.on_file(fh);
            // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI
            // contract); checked before the transfer.
            let st = unsafe { status::out(status, "status") }?;
            let _ = buf;
            end(ctx, fh, st, $partner)
        });
    )*};
}

type RBuf = *mut c_void;
type WBuf = *const c_void;
const R: Dir = Dir::Read;
const W: Dir = Dir::Write;

blocking! { R, Pos::Individual, RBuf,
    MPI_File_read PMPI_File_read c_int;
    MPI_File_read_c PMPI_File_read_c Count;
}
blocking! { W, Pos::Individual, WBuf,
    MPI_File_write PMPI_File_write c_int;
    MPI_File_write_c PMPI_File_write_c Count;
}
blocking_at! { R, Pos::Explicit, RBuf,
    MPI_File_read_at PMPI_File_read_at c_int;
    MPI_File_read_at_c PMPI_File_read_at_c Count;
}
blocking_at! { W, Pos::Explicit, WBuf,
    MPI_File_write_at PMPI_File_write_at c_int;
    MPI_File_write_at_c PMPI_File_write_at_c Count;
}
blocking! { R, Pos::Shared, RBuf,
    MPI_File_read_shared PMPI_File_read_shared c_int;
    MPI_File_read_shared_c PMPI_File_read_shared_c Count;
}
blocking! { W, Pos::Shared, WBuf,
    MPI_File_write_shared PMPI_File_write_shared c_int;
    MPI_File_write_shared_c PMPI_File_write_shared_c Count;
}
blocking! { R, Pos::IndividualAll, RBuf,
    MPI_File_read_all PMPI_File_read_all c_int;
    MPI_File_read_all_c PMPI_File_read_all_c Count;
}
blocking! { W, Pos::IndividualAll, WBuf,
    MPI_File_write_all PMPI_File_write_all c_int;
    MPI_File_write_all_c PMPI_File_write_all_c Count;
}
blocking_at! { R, Pos::ExplicitAll, RBuf,
    MPI_File_read_at_all PMPI_File_read_at_all c_int;
    MPI_File_read_at_all_c PMPI_File_read_at_all_c Count;
}
blocking_at! { W, Pos::ExplicitAll, WBuf,
    MPI_File_write_at_all PMPI_File_write_at_all c_int;
    MPI_File_write_at_all_c PMPI_File_write_at_all_c Count;
}
blocking! { R, Pos::Ordered, RBuf,
    MPI_File_read_ordered PMPI_File_read_ordered c_int;
    MPI_File_read_ordered_c PMPI_File_read_ordered_c Count;
}
blocking! { W, Pos::Ordered, WBuf,
    MPI_File_write_ordered PMPI_File_write_ordered c_int;
    MPI_File_write_ordered_c PMPI_File_write_ordered_c Count;
}

nonblocking! { R, Pos::Individual, RBuf,
    MPI_File_iread PMPI_File_iread c_int;
    MPI_File_iread_c PMPI_File_iread_c Count;
}
nonblocking! { W, Pos::Individual, WBuf,
    MPI_File_iwrite PMPI_File_iwrite c_int;
    MPI_File_iwrite_c PMPI_File_iwrite_c Count;
}
nonblocking_at! { R, Pos::Explicit, RBuf,
    MPI_File_iread_at PMPI_File_iread_at c_int;
    MPI_File_iread_at_c PMPI_File_iread_at_c Count;
}
nonblocking_at! { W, Pos::Explicit, WBuf,
    MPI_File_iwrite_at PMPI_File_iwrite_at c_int;
    MPI_File_iwrite_at_c PMPI_File_iwrite_at_c Count;
}
nonblocking! { R, Pos::Shared, RBuf,
    MPI_File_iread_shared PMPI_File_iread_shared c_int;
    MPI_File_iread_shared_c PMPI_File_iread_shared_c Count;
}
nonblocking! { W, Pos::Shared, WBuf,
    MPI_File_iwrite_shared PMPI_File_iwrite_shared c_int;
    MPI_File_iwrite_shared_c PMPI_File_iwrite_shared_c Count;
}
nonblocking! { R, Pos::IndividualAll, RBuf,
    MPI_File_iread_all PMPI_File_iread_all c_int;
    MPI_File_iread_all_c PMPI_File_iread_all_c Count;
}
nonblocking! { W, Pos::IndividualAll, WBuf,
    MPI_File_iwrite_all PMPI_File_iwrite_all c_int;
    MPI_File_iwrite_all_c PMPI_File_iwrite_all_c Count;
}
nonblocking_at! { R, Pos::ExplicitAll, RBuf,
    MPI_File_iread_at_all PMPI_File_iread_at_all c_int;
    MPI_File_iread_at_all_c PMPI_File_iread_at_all_c Count;
}
nonblocking_at! { W, Pos::ExplicitAll, WBuf,
    MPI_File_iwrite_at_all PMPI_File_iwrite_at_all c_int;
    MPI_File_iwrite_at_all_c PMPI_File_iwrite_at_all_c Count;
}

split_begin! { R, Pos::IndividualAll, RBuf,
    MPI_File_read_all_begin PMPI_File_read_all_begin c_int;
    MPI_File_read_all_begin_c PMPI_File_read_all_begin_c Count;
}
split_begin! { W, Pos::IndividualAll, WBuf,
    MPI_File_write_all_begin PMPI_File_write_all_begin c_int;
    MPI_File_write_all_begin_c PMPI_File_write_all_begin_c Count;
}
split_begin_at! { R, Pos::ExplicitAll, RBuf,
    MPI_File_read_at_all_begin PMPI_File_read_at_all_begin c_int;
    MPI_File_read_at_all_begin_c PMPI_File_read_at_all_begin_c Count;
}
split_begin_at! { W, Pos::ExplicitAll, WBuf,
    MPI_File_write_at_all_begin PMPI_File_write_at_all_begin c_int;
    MPI_File_write_at_all_begin_c PMPI_File_write_at_all_begin_c Count;
}
split_begin! { R, Pos::Ordered, RBuf,
    MPI_File_read_ordered_begin PMPI_File_read_ordered_begin c_int;
    MPI_File_read_ordered_begin_c PMPI_File_read_ordered_begin_c Count;
}
split_begin! { W, Pos::Ordered, WBuf,
    MPI_File_write_ordered_begin PMPI_File_write_ordered_begin c_int;
    MPI_File_write_ordered_begin_c PMPI_File_write_ordered_begin_c Count;
}

split_end! { RBuf,
    MPI_File_read_all_end PMPI_File_read_all_end "MPI_File_read_all_begin";
    MPI_File_read_at_all_end PMPI_File_read_at_all_end "MPI_File_read_at_all_begin";
    MPI_File_read_ordered_end PMPI_File_read_ordered_end "MPI_File_read_ordered_begin";
}
split_end! { WBuf,
    MPI_File_write_all_end PMPI_File_write_all_end "MPI_File_write_all_begin";
    MPI_File_write_at_all_end PMPI_File_write_at_all_end "MPI_File_write_at_all_begin";
    MPI_File_write_ordered_end PMPI_File_write_ordered_end "MPI_File_write_ordered_begin";
}
