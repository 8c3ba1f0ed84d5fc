//! Point-to-point: sends in the four modes, receives, sendrecv, persistent requests,
//! probe / matched probe, and the attached buffer for buffered sends. Each function has an
//! `int`-count form and an `MPI_Count` (`_c`) form sharing one implementation: the form
//! builds a [`Msg`] from its arguments and everything after it is shared.
//!
//! Here: the argument checks every call shares and the sends; `recv` (receives and
//! send-receives), `persistent`, `probe` (probe and matched probe) and `buffer` (the
//! buffers of buffered sends) hold the rest.

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
use super::request::{handle_of, msg_handle, msg_id, started_handle};
use super::status::{self, MPI_Status, StatusOut};
use super::Ctx;
use crate::error::{class, MpiError};
use crate::handle::predefined;
use crate::mpi_fn;
use crate::p2p::buffered::Scope;
use crate::p2p::data::Small;
use crate::p2p::fabric::SMALL_SEND_MAX;
use crate::p2p::{Data, Mode, RecvArgs, ReqId, SendArgs, Started, Status, TypeKeep};
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
///
/// Inlined into every send and receive: a predefined type with a buffer and a count that is
/// not negative (every small message's case) is described here without a call; anything
/// else takes [`msg_data_general`], which does every check.
#[inline(always)]
pub fn msg_data(buf: *const c_void, count: Count, datatype: c_int) -> Result<Data, MpiError> {
    if count >= 0 && !buf.is_null() {
        if let Some(id) = datatype::builtins::builtin_of(datatype) {
            // SAFETY: MPI's contract: `buf` holds `count` elements of `datatype` for the
            // life of the operation.
            let p = unsafe { UserPtr::new(buf as *const u8) };
            return Ok(Data::new(
                p,
                count as u64,
                TypeKeep::Static(crate::datatype::builtin(id)),
            ));
        }
    }
    msg_data_general(buf, count, datatype)
}

/// [`msg_data`] off its fast path.
#[inline(never)]
fn msg_data_general(buf: *const c_void, count: Count, datatype: c_int) -> Result<Data, MpiError> {
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
#[inline]
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
    // A predefined type's handle names it by its bits: no table of user types, no
    // reference count (the common case of every small message).
    let keep = match datatype::builtins::builtin_of(datatype) {
        Some(id) => TypeKeep::Static(crate::datatype::builtin(id)),
        None => match datatype::get(datatype, "datatype")? {
            datatype::DtRef::Builtin(d) => TypeKeep::Static(d),
            datatype::DtRef::User(d) => TypeKeep::Shared(d),
        },
    };
    if buf.is_null() && count > 0 && keep.size() > 0 && keep.true_lb == 0 {
        return Err(MpiError::arg(
            class::ERR_BUFFER,
            "buf",
            format!("null buffer with count {count}"),
        ));
    }
    Ok(Data::new(p, count as u64, keep))
}

/// Destination rank → endpoint; None for MPI_PROC_NULL. (Always inlined: called out of
/// line it cost every send a call and a 40-byte Result in memory.)
#[inline(always)]
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

#[inline]
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

#[inline]
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

#[inline]
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

/// The message arguments of a point-to-point call (`buf, count, datatype, peer, tag,
/// comm`), the count widened to MPI_Count: the int and `_c` forms of a call build one and
/// share everything after it.
#[derive(Clone, Copy)]
struct Msg {
    buf: *const c_void,
    count: Count,
    dt: c_int,
    peer: c_int,
    tag: c_int,
    comm: c_int,
}

impl Msg {
    fn new(
        buf: *const c_void,
        count: Count,
        dt: c_int,
        peer: c_int,
        tag: c_int,
        comm: c_int,
    ) -> Msg {
        Msg {
            buf,
            count,
            dt,
            peer,
            tag,
            comm,
        }
    }
}

/// The request argument of a nonblocking or persistent call, checked before it starts.
type ReqOut<'a> = arg::Out<'a, c_int>;

/// # Safety
/// `p` is the C caller's request argument: null or valid for a write (MPI contract).
unsafe fn req_out<'a>(p: *mut c_int) -> Result<ReqOut<'a>, MpiError> {
    // SAFETY: by this function's contract.
    unsafe { arg::out(p, "request") }
}

/// Stores a new request's handle.
fn set_req(mut req: ReqOut, id: ReqId) -> Result<(), MpiError> {
    req.set(handle_of(id));
    Ok(())
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

#[inline(always)]
fn send_spec(ctx: &mut Ctx, m: Msg) -> Result<SendSpec, MpiError> {
    let c = comm::get(ctx, m.comm)?;
    let data = msg_data(m.buf, m.count, m.dt)?;
    let tag = send_tag(m.tag)?;
    let ep = dest(&c, m.peer)?;
    Ok(SendSpec {
        comm: m.comm,
        ep,
        args_ctx: c.context_id,
        me: c.rank as i32,
        tag,
        data,
    })
}

impl SendSpec {
    #[inline]
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

#[inline(always)]
fn rt() -> Result<&'static Runtime, MpiError> {
    runtime::rt()
}

/// The bytes of `m` when a send may take the engine's straight line (issue 13): a
/// predefined type of the builtin kind (`builtins::run_size`), `SMALL_SEND_MAX` bytes at most,
/// and a buffer that is not null unless the message is empty. None: the general path, which
/// also raises every error the message arguments have (this raises none).
#[inline(always)]
fn small_bytes<'a>(m: &Msg) -> Option<&'a [u8]> {
    let size = datatype::builtins::run_size(m.dt)?;
    if !(0..=SMALL_SEND_MAX as Count).contains(&m.count) {
        return None;
    }
    let n = m.count as usize * size;
    if n > SMALL_SEND_MAX || (n > 0 && m.buf.is_null()) {
        return None;
    }
    // SAFETY: MPI's contract: `buf` holds `count` elements of `datatype`, which lie in the
    // `n` bytes from `buf` on, for the life of the operation; the slice is only read by the
    // send that copies it out before the call returns.
    unsafe { Some(UserPtr::new(m.buf as *const u8).slice(0, n)) }
}

/// The endpoint of rank `dest` of `c`'s peers, None for anything else (MPI_PROC_NULL
/// included: the general path has its answer): the range check and the look-up of
/// `dest` in one bounds check.
#[inline(always)]
fn peer_ep(c: &CommRef, dest: c_int) -> Option<u32> {
    let peers = c.remote.as_deref().unwrap_or(&c.group);
    peers.procs.get(usize::try_from(dest).ok()?).copied()
}

/// The straight line of a small send in a mode that is not synchronous (issue 13): the
/// checks of `send_spec` (communicator, message, tag, rank), after which the engine gets the
/// bytes and the envelope alone. None: not such a send, or an argument is wrong; the caller
/// then steps aside for the general path, which checks again and raises the error.
#[inline(always)]
fn small_line<'a>(ctx: &mut Ctx, m: &Msg) -> Option<(&'static Runtime, Small<'a>)> {
    let c = comm::get(ctx, m.comm).ok()?;
    let bytes = small_bytes(m)?;
    if !(0..=TAG_UB).contains(&m.tag) {
        return None;
    }
    let ep = peer_ep(&c, m.peer)?;
    let s = Small {
        ep,
        ctx: c.context_id,
        src: c.rank as i32,
        tag: m.tag,
        owner: m.comm,
        bytes,
    };
    Some((runtime::get()?, s))
}

/// MPI_Send's (and MPI_Rsend's) straight line: true when the message went out in one eager
/// message at once (`Engine::try_send_small`); false: nothing was done.
#[inline(always)]
fn send_line(ctx: &mut Ctx, m: &Msg) -> bool {
    let Some((rt, s)) = small_line(ctx, m) else {
        return false;
    };
    rt.engine.try_send_small(&s)
}

/// MPI_Isend's (and MPI_Irsend's) straight line: true when the message went out at once
/// and `*request` holds its quick handle (`Engine::try_isend_small`); false: nothing was
/// done (a null `request` included: the general path raises it, first as MPICH does).
#[inline(always)]
fn isend_line(ctx: &mut Ctx, m: &Msg, request: *mut c_int) -> bool {
    if request.is_null() {
        return false;
    }
    let Some((rt, s)) = small_line(ctx, m) else {
        return false;
    };
    let Some(seq) = rt.engine.try_isend_small(&s) else {
        return false;
    };
    // SAFETY: `request` is the C caller's output argument, not null (checked above) and
    // valid for a write of one int (MPI contract).
    unsafe { request.write(started_handle(Started::Quick(seq))) };
    true
}

/// Blocking send in `mode` (the general path: the small ones took `send_line` first).
#[inline]
fn send(ctx: &mut Ctx, m: Msg, mode: Mode) -> Result<(), MpiError> {
    let s = send_spec(ctx, m)?;
    let Some(ep) = s.ep else { return Ok(()) };
    rt()?.engine.send(s.args(ep, mode))
}

/// Nonblocking send in `mode` (the general path: the small ones took `isend_line` first).
#[inline]
fn isend(ctx: &mut Ctx, m: Msg, mode: Mode, req: ReqOut) -> Result<(), MpiError> {
    let s = send_spec(ctx, m)?;
    let e = &rt()?.engine;
    let h = match s.ep {
        None => handle_of(e.completed(proc_null_status())),
        // A send that leaves at once needs no request (see `engine::quick`).
        Some(ep) => started_handle(e.isend_quick(s.args(ep, mode))?),
    };
    let mut req = req;
    req.set(h);
    Ok(())
}

/// Buffered send: copies into the attached buffer, then sends from there.
fn bsend(ctx: &mut Ctx, m: Msg) -> Result<(), MpiError> {
    let s = send_spec(ctx, m)?;
    let Some(ep) = s.ep else { return Ok(()) };
    rt()?.engine.bsend(s.args(ep, Mode::Standard), byte_type())
}

/// Nonblocking buffered send.
fn ibsend(ctx: &mut Ctx, m: Msg, req: ReqOut) -> Result<(), MpiError> {
    let s = send_spec(ctx, m)?;
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
    set_req(req, id)
}

/// MPI_BYTE, the type of a message packed into the attached buffer.
fn byte_type() -> TypeKeep {
    TypeKeep::Static(crate::datatype::byte())
}

/// The blocking sends in standard and ready mode and their `_c` forms: the straight line
/// (`send_line`), else the general path.
macro_rules! send_fns {
    ($($m:ident $p:ident $cnt:ty, $mode:expr;)*) => {$(
        crate::mpi_fn_split!($m, $p, (buf: *const c_void, count: $cnt, datatype: c_int, dest: c_int, tag: c_int, comm: c_int),
        line |ctx| {
            send_line(ctx, &Msg::new(buf, count as Count, datatype, dest, tag, comm))
        }, |ctx| {
            send(ctx, Msg::new(buf, count as Count, datatype, dest, tag, comm), $mode)
        });
    )*};
}

/// The synchronous and buffered blocking sends (no straight line) and their `_c` forms.
macro_rules! send_fns_general {
    ($($m:ident $p:ident $cnt:ty, $mode:expr;)*) => {$(
        mpi_fn!($m, $p, (buf: *const c_void, count: $cnt, datatype: c_int, dest: c_int, tag: c_int, comm: c_int), |ctx| {
            let m = Msg::new(buf, count as Count, datatype, dest, tag, comm);
            match $mode {
                Some(mode) => send(ctx, m, mode),
                None => bsend(ctx, m),
            }
        });
    )*};
}

/// The nonblocking sends in standard and ready mode and their `_c` forms: the straight line
/// (`isend_line`), else the general path.
macro_rules! isend_fns {
    ($($m:ident $p:ident $cnt:ty, $mode:expr;)*) => {$(
        crate::mpi_fn_split!($m, $p, (buf: *const c_void, count: $cnt, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int),
        line |ctx| {
            isend_line(ctx, &Msg::new(buf, count as Count, datatype, dest, tag, comm), request)
        }, |ctx| {
            // SAFETY: `request` is the C caller's output argument (MPI contract).
            let req = unsafe { req_out(request) }?;
            isend(ctx, Msg::new(buf, count as Count, datatype, dest, tag, comm), $mode, req)
        });
    )*};
}

/// The synchronous and buffered nonblocking sends (no straight line) and their `_c` forms.
macro_rules! isend_fns_general {
    ($($m:ident $p:ident $cnt:ty, $mode:expr;)*) => {$(
        mpi_fn!($m, $p, (buf: *const c_void, count: $cnt, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            // SAFETY: `request` is the C caller's output argument (MPI contract).
            let req = unsafe { req_out(request) }?;
            let m = Msg::new(buf, count as Count, datatype, dest, tag, comm);
            match $mode {
                Some(mode) => isend(ctx, m, mode, req),
                None => ibsend(ctx, m, req),
            }
        });
    )*};
}

send_fns! {
    MPI_Send PMPI_Send c_int, Mode::Standard;
    MPI_Send_c PMPI_Send_c Count, Mode::Standard;
    MPI_Rsend PMPI_Rsend c_int, Mode::Ready;
    MPI_Rsend_c PMPI_Rsend_c Count, Mode::Ready;
}
// (`None`: buffered.)
send_fns_general! {
    MPI_Ssend PMPI_Ssend c_int, Some(Mode::Sync);
    MPI_Ssend_c PMPI_Ssend_c Count, Some(Mode::Sync);
    MPI_Bsend PMPI_Bsend c_int, None;
    MPI_Bsend_c PMPI_Bsend_c Count, None;
}
isend_fns! {
    MPI_Isend PMPI_Isend c_int, Mode::Standard;
    MPI_Isend_c PMPI_Isend_c Count, Mode::Standard;
    MPI_Irsend PMPI_Irsend c_int, Mode::Ready;
    MPI_Irsend_c PMPI_Irsend_c Count, Mode::Ready;
}
isend_fns_general! {
    MPI_Issend PMPI_Issend c_int, Some(Mode::Sync);
    MPI_Issend_c PMPI_Issend_c Count, Some(Mode::Sync);
    MPI_Ibsend PMPI_Ibsend c_int, None;
    MPI_Ibsend_c PMPI_Ibsend_c Count, None;
}

/// A completed receive's error becomes the call's error: MPI_ERR_TRUNCATE, or the class a
/// failure ended it with (MPIX_ERR_PROC_FAILED, MPIX_ERR_REVOKED, ...), each named as it is.
fn check_status(s: &Status) -> Result<(), MpiError> {
    if s.error == 0 {
        return Ok(());
    }
    let what = if s.error == crate::error::class::ERR_TRUNCATE {
        format!(
            "message of source {} tag {} truncated: {} bytes received, more were sent",
            s.source, s.tag, s.bytes
        )
    } else {
        format!(
            "receive from source {} tag {} ended: {}",
            s.source,
            s.tag,
            crate::error::class_string(s.error)
        )
    };
    Err(MpiError::new(s.error, what))
}

/// MPICH's handle of MPI_BYTE (what a packed staging buffer is described with).
fn predefined_byte() -> c_int {
    crate::abi::datatype::builtins::handle_of(crate::datatype::Builtin::Byte)
}
