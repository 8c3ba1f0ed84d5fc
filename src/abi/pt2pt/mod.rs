//! Point-to-point: sends in the four modes, receives, sendrecv, persistent requests,
//! probe / matched probe, and the attached buffer for buffered sends. Each function has an
//! `int`-count form and an `MPI_Count` (`_c`) form sharing one implementation.

#![deny(unsafe_op_in_unsafe_fn)]

mod buffer;
mod persistent;
mod probe;
mod recv;
pub use buffer::*;
pub use persistent::*;
pub use probe::*;
pub use recv::*;

use super::arg;
use super::comm::{self, CommRef};
use super::consts::*;
use super::datatype;
use super::request::{handle_of, msg_handle, msg_id};
use super::status::{self, MPI_Status, StatusOut};
use super::Ctx;
use crate::error::{class, MpiError};
use crate::handle::predefined;
use crate::mpi_fn;
use crate::p2p::buffered::Scope;
use crate::p2p::{Data, Mode, RecvArgs, ReqId, SendArgs, Status, TypeKeep};
use crate::runtime::{self, Runtime};
use crate::transport::mem::UserPtr;
use std::os::raw::{c_int, c_void};

type Count = i64;

/// Checks buffer, count and datatype of a message argument and describes the data.
pub fn data(buf: *const c_void, count: Count, datatype: c_int) -> Result<Data, MpiError> {
    data_at(buf, 0, count, datatype)
}

/// [`data`] for the message of a point-to-point call: MPICH checks its datatype only when
/// count > 0, so an empty message may name MPI_DATATYPE_NULL (described as zero bytes).
/// (MPICH's one-sided and I/O calls, and reductions, still refuse it: they use [`data`].)
pub fn msg_data(buf: *const c_void, count: Count, datatype: c_int) -> Result<Data, MpiError> {
    if count == 0 && datatype == predefined::DATATYPE_NULL {
        // SAFETY: no byte at `buf` is ever accessed for zero bytes.
        let p = unsafe { UserPtr::new(buf as *const u8) };
        return Ok(Data::new(p, 0, byte_type()));
    }
    data(buf, count, datatype)
}

/// Like [`data`] for the block at byte displacement `displ` from `buf` (the `w` forms of
/// collectives): the null-buffer check applies to the block's own address, so
/// MPI_BOTTOM plus absolute displacements is accepted.
pub fn data_at(
    buf: *const c_void,
    displ: i64,
    count: Count,
    datatype: c_int,
) -> Result<Data, MpiError> {
    let buf = (buf as usize).wrapping_add(displ as usize) as *const c_void;
    if count < 0 {
        return Err(MpiError::arg(
            class::ERR_COUNT,
            "count",
            format!("negative count {count}"),
        ));
    }
    // SAFETY: MPI's contract: `buf` holds `count` elements of `datatype` for the life of the
    // operation.
    let p = unsafe { UserPtr::new(buf as *const u8) };
    let dt = datatype::get(datatype, "datatype")?;
    if buf.is_null() && count > 0 && dt.size() > 0 && dt.true_lb == 0 {
        return Err(MpiError::arg(
            class::ERR_BUFFER,
            "buf",
            format!("null buffer with count {count}"),
        ));
    }
    let keep = match dt {
        datatype::DtRef::Builtin(d) => TypeKeep::Static(d),
        datatype::DtRef::User(d) => TypeKeep::Shared(d),
    };
    Ok(Data::new(p, count as u64, keep))
}

/// Destination rank → endpoint; None for MPI_PROC_NULL.
pub(crate) fn dest(c: &CommRef, dest: c_int) -> Result<Option<u32>, MpiError> {
    if dest == PROC_NULL {
        return Ok(None);
    }
    if dest < 0 || dest as usize >= c.peer_size() {
        return Err(MpiError::arg(
            class::ERR_RANK,
            "dest",
            format!("invalid rank {dest} (communicator size {})", c.peer_size()),
        ));
    }
    Ok(Some(c.peer(dest as usize)))
}

pub(crate) fn source(c: &CommRef, src: c_int) -> Result<c_int, MpiError> {
    if src == PROC_NULL || src == ANY_SOURCE || (src >= 0 && (src as usize) < c.peer_size()) {
        Ok(src)
    } else {
        Err(MpiError::arg(
            class::ERR_RANK,
            "source",
            format!("invalid rank {src} (communicator size {})", c.peer_size()),
        ))
    }
}

pub(crate) fn send_tag(tag: c_int) -> Result<c_int, MpiError> {
    if (0..=TAG_UB).contains(&tag) {
        Ok(tag)
    } else {
        Err(MpiError::arg(
            class::ERR_TAG,
            "tag",
            format!("invalid tag {tag} (must be 0..={TAG_UB})"),
        ))
    }
}

fn recv_tag(tag: c_int) -> Result<c_int, MpiError> {
    if tag == ANY_TAG {
        Ok(tag)
    } else {
        send_tag(tag)
    }
}

/// The status of an operation with MPI_PROC_NULL.
fn proc_null_status() -> Status {
    Status {
        source: PROC_NULL,
        tag: ANY_TAG,
        error: 0,
        bytes: 0,
        cancelled: false,
    }
}

/// Everything a send needs, checked.
struct SendSpec {
    comm: c_int,
    ep: Option<u32>,
    args_ctx: u32,
    me: i32,
    tag: c_int,
    data: Data,
}

#[allow(clippy::too_many_arguments)]
fn send_spec(
    ctx: &mut Ctx,
    buf: *const c_void,
    count: Count,
    dt: c_int,
    dst: c_int,
    tag: c_int,
    comm_h: c_int,
) -> Result<SendSpec, MpiError> {
    let c = comm::get(ctx, comm_h)?;
    let data = msg_data(buf, count, dt)?;
    let tag = send_tag(tag)?;
    let ep = dest(&c, dst)?;
    Ok(SendSpec {
        comm: comm_h,
        ep,
        args_ctx: c.context_id,
        me: c.rank as i32,
        tag,
        data,
    })
}

impl SendSpec {
    fn args(self, ep: u32, mode: Mode) -> SendArgs {
        SendArgs {
            ep,
            ctx: self.args_ctx,
            src: self.me,
            tag: self.tag,
            mode,
            data: self.data,
            owner: self.comm,
        }
    }
}

fn rt() -> Result<&'static Runtime, MpiError> {
    runtime::rt()
}

/// Blocking send in `mode`.
#[allow(clippy::too_many_arguments)]
fn send(
    ctx: &mut Ctx,
    buf: *const c_void,
    count: Count,
    dt: c_int,
    dst: c_int,
    tag: c_int,
    comm_h: c_int,
    mode: Mode,
) -> Result<(), MpiError> {
    let s = send_spec(ctx, buf, count, dt, dst, tag, comm_h)?;
    let Some(ep) = s.ep else { return Ok(()) };
    rt()?.engine.send(s.args(ep, mode))
}

/// Nonblocking send in `mode`.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn isend(
    ctx: &mut Ctx,
    buf: *const c_void,
    count: Count,
    dt: c_int,
    dst: c_int,
    tag: c_int,
    comm_h: c_int,
    mode: Mode,
    req: *mut c_int,
) -> Result<(), MpiError> {
    if req.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "request", "null pointer"));
    }
    let s = send_spec(ctx, buf, count, dt, dst, tag, comm_h)?;
    let e = &rt()?.engine;
    let id = match s.ep {
        None => e.completed(proc_null_status()),
        Some(ep) => e.isend(s.args(ep, mode))?,
    };
    // SAFETY: `req` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(req, handle_of(id), "request") }
}

/// Buffered send: copies into the attached buffer, then sends from there.
fn bsend_start(
    ctx: &mut Ctx,
    buf: *const c_void,
    count: Count,
    dt: c_int,
    dst: c_int,
    tag: c_int,
    comm_h: c_int,
) -> Result<(), MpiError> {
    let s = send_spec(ctx, buf, count, dt, dst, tag, comm_h)?;
    let Some(ep) = s.ep else { return Ok(()) };
    rt()?.engine.bsend(s.args(ep, Mode::Standard), byte_type())
}

/// MPI_BYTE, the type of a message packed into the attached buffer.
fn byte_type() -> TypeKeep {
    TypeKeep::Static(crate::datatype::predefined(predefined_byte()).expect("MPI_BYTE"))
}

macro_rules! send_fns {
    ($mpi:ident, $pmpi:ident, $mpi_c:ident, $pmpi_c:ident, $mode:expr) => {
        mpi_fn!($mpi, $pmpi, (buf: *const c_void, count: c_int, datatype: c_int, dest: c_int, tag: c_int, comm: c_int), |ctx| {
            send(ctx, buf, count as Count, datatype, dest, tag, comm, $mode)
        });
        mpi_fn!($mpi_c, $pmpi_c, (buf: *const c_void, count: Count, datatype: c_int, dest: c_int, tag: c_int, comm: c_int), |ctx| {
            send(ctx, buf, count, datatype, dest, tag, comm, $mode)
        });
    };
}

macro_rules! isend_fns {
    ($mpi:ident, $pmpi:ident, $mpi_c:ident, $pmpi_c:ident, $mode:expr) => {
        mpi_fn!($mpi, $pmpi, (buf: *const c_void, count: c_int, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
            unsafe { isend(ctx, buf, count as Count, datatype, dest, tag, comm, $mode, request) }
        });
        mpi_fn!($mpi_c, $pmpi_c, (buf: *const c_void, count: Count, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
            unsafe { isend(ctx, buf, count, datatype, dest, tag, comm, $mode, request) }
        });
    };
}

send_fns!(MPI_Send, PMPI_Send, MPI_Send_c, PMPI_Send_c, Mode::Standard);
send_fns!(MPI_Ssend, PMPI_Ssend, MPI_Ssend_c, PMPI_Ssend_c, Mode::Sync);
send_fns!(
    MPI_Rsend,
    PMPI_Rsend,
    MPI_Rsend_c,
    PMPI_Rsend_c,
    Mode::Ready
);
isend_fns!(
    MPI_Isend,
    PMPI_Isend,
    MPI_Isend_c,
    PMPI_Isend_c,
    Mode::Standard
);
isend_fns!(
    MPI_Issend,
    PMPI_Issend,
    MPI_Issend_c,
    PMPI_Issend_c,
    Mode::Sync
);
isend_fns!(
    MPI_Irsend,
    PMPI_Irsend,
    MPI_Irsend_c,
    PMPI_Irsend_c,
    Mode::Ready
);

mpi_fn!(MPI_Bsend, PMPI_Bsend, (buf: *const c_void, count: c_int, datatype: c_int, dest: c_int, tag: c_int, comm: c_int), |ctx| {
    bsend_start(ctx, buf, count as Count, datatype, dest, tag, comm)
});
mpi_fn!(MPI_Bsend_c, PMPI_Bsend_c, (buf: *const c_void, count: Count, datatype: c_int, dest: c_int, tag: c_int, comm: c_int), |ctx| {
    bsend_start(ctx, buf, count, datatype, dest, tag, comm)
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn ibsend(
    ctx: &mut Ctx,
    buf: *const c_void,
    count: Count,
    dt: c_int,
    dst: c_int,
    tag: c_int,
    comm_h: c_int,
    req: *mut c_int,
) -> Result<(), MpiError> {
    if req.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "request", "null pointer"));
    }
    let s = send_spec(ctx, buf, count, dt, dst, tag, comm_h)?;
    // The data is in the attached buffer once this returns: the user's request is complete
    // (and stands for the internal send, which MPI_Cancel cancels).
    let status = Status {
        source: ANY_SOURCE,
        tag: ANY_TAG,
        ..Default::default()
    };
    let e = &rt()?.engine;
    let id = match s.ep {
        None => e.completed(status),
        Some(ep) => e.ibsend(s.args(ep, Mode::Standard), byte_type(), status)?,
    };
    // SAFETY: `req` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(req, handle_of(id), "request") }
}

mpi_fn!(MPI_Ibsend, PMPI_Ibsend, (buf: *const c_void, count: c_int, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { ibsend(ctx, buf, count as Count, datatype, dest, tag, comm, request) }
});
mpi_fn!(MPI_Ibsend_c, PMPI_Ibsend_c, (buf: *const c_void, count: Count, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { ibsend(ctx, buf, count, datatype, dest, tag, comm, request) }
});

/// A completed receive's error becomes the call's error (MPI_ERR_TRUNCATE).
fn check_status(s: &Status) -> Result<(), MpiError> {
    if s.error != 0 {
        return Err(MpiError::new(
            s.error,
            format!(
                "message of source {} tag {} truncated: {} bytes received, more were sent",
                s.source, s.tag, s.bytes
            ),
        ));
    }
    Ok(())
}

fn predefined_byte() -> c_int {
    0x4c00010d
}
