//! Point-to-point: sends in the four modes, receives, sendrecv, persistent requests,
//! probe / matched probe, and the attached buffer for buffered sends. Each function has an
//! `int`-count form and an `MPI_Count` (`_c`) form sharing one implementation.

use super::comm::{self, CommRef};
use super::consts::*;
use super::datatype;
use super::ptr;
use super::request::{handle_of, msg_handle, msg_id};
use super::status::{self, MPI_Status};
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
#[allow(clippy::too_many_arguments)]
fn isend(
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
    ptr::write(req, handle_of(id), "request")
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
            isend(ctx, buf, count as Count, datatype, dest, tag, comm, $mode, request)
        });
        mpi_fn!($mpi_c, $pmpi_c, (buf: *const c_void, count: Count, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            isend(ctx, buf, count, datatype, dest, tag, comm, $mode, request)
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

fn ibsend(
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
    ptr::write(req, handle_of(id), "request")
}

mpi_fn!(MPI_Ibsend, PMPI_Ibsend, (buf: *const c_void, count: c_int, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    ibsend(ctx, buf, count as Count, datatype, dest, tag, comm, request)
});
mpi_fn!(MPI_Ibsend_c, PMPI_Ibsend_c, (buf: *const c_void, count: Count, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    ibsend(ctx, buf, count, datatype, dest, tag, comm, request)
});

/// MPI_BUFFER_AUTOMATIC (MPI 4.1): `(void *)-2`.
const BUFFER_AUTOMATIC: usize = usize::MAX - 1;

fn buffer_attach(scope: Scope, buffer: *mut c_void, size: Count) -> Result<(), MpiError> {
    let automatic = buffer as usize == BUFFER_AUTOMATIC;
    if size < 0 && !automatic {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "size",
            format!("negative size {size}"),
        ));
    }
    if buffer.is_null() && size > 0 {
        return Err(MpiError::arg(class::ERR_BUFFER, "buffer", "null buffer"));
    }
    // SAFETY: the user hands us `size` bytes at `buffer` until it detaches them (an
    // automatic buffer's address is never used).
    let p = unsafe { UserPtr::new(buffer as *const u8) };
    rt()?
        .engine
        .attach_buffer(scope, p, size.max(0) as usize, automatic)
}

/// Waits for every buffered send of `scope`, then detaches; writes the buffer address and
/// size (MPI_BUFFER_AUTOMATIC and 0 for an automatic buffer).
fn buffer_detach<S: Copy + TryFrom<usize>>(
    scope: Scope,
    buffer_addr: *mut c_void,
    size: *mut S,
) -> Result<(), MpiError> {
    let (addr, n) = match rt()?.engine.detach_buffer(scope) {
        // Nothing attached: NULL and 0, as MPICH gives.
        None => (0, 0),
        Some((_, _, true)) => (BUFFER_AUTOMATIC, 0),
        Some((p, n, false)) => (p.addr(), n),
    };
    let n = S::try_from(n).map_err(|_| {
        MpiError::arg(
            class::ERR_ARG,
            "size",
            "buffer size does not fit the argument type",
        )
    })?;
    ptr::write(buffer_addr as *mut usize, addr, "buffer_addr")?;
    ptr::write(size, n, "size")
}

/// The buffer scope of session argument `session`.
fn session_scope(ctx: &mut Ctx, session: c_int) -> Result<Scope, MpiError> {
    super::session::get(ctx, session)?;
    Ok(Scope::Session(session as u32))
}

/// The buffer scope of communicator argument `comm`.
fn comm_scope(ctx: &mut Ctx, comm_h: c_int) -> Result<Scope, MpiError> {
    Ok(Scope::Comm(comm::get(ctx, comm_h)?.context_id))
}

mpi_fn!(MPI_Buffer_attach, PMPI_Buffer_attach, (buffer: *mut c_void, size: c_int), |_ctx| {
    buffer_attach(Scope::Process, buffer, size as Count)
});
mpi_fn!(MPI_Buffer_attach_c, PMPI_Buffer_attach_c, (buffer: *mut c_void, size: Count), |_ctx| {
    buffer_attach(Scope::Process, buffer, size)
});
mpi_fn!(MPI_Buffer_detach, PMPI_Buffer_detach, (buffer_addr: *mut c_void, size: *mut c_int), |_ctx| {
    buffer_detach(Scope::Process, buffer_addr, size)
});
mpi_fn!(MPI_Buffer_detach_c, PMPI_Buffer_detach_c, (buffer_addr: *mut c_void, size: *mut Count), |_ctx| {
    buffer_detach(Scope::Process, buffer_addr, size)
});
mpi_fn!(MPI_Buffer_flush, PMPI_Buffer_flush, (), |_ctx| {
    rt()?.engine.flush_buffer(Scope::Process);
    Ok(())
});
mpi_fn!(MPI_Buffer_iflush, PMPI_Buffer_iflush, (request: *mut c_int), |_ctx| {
    let id = rt()?.engine.iflush_buffer(Scope::Process);
    ptr::write(request, handle_of(id), "request")
});

/// The six buffer calls of an object that owns a buffer (MPI 4.1): `$scope` turns the
/// object argument into its buffer scope.
macro_rules! object_buffer_fns {
    ($obj:ident, $scope:ident,
     $attach:ident, $pattach:ident, $attach_c:ident, $pattach_c:ident,
     $detach:ident, $pdetach:ident, $detach_c:ident, $pdetach_c:ident,
     $flush:ident, $pflush:ident, $iflush:ident, $piflush:ident) => {
        mpi_fn!($attach, $pattach, ($obj: c_int, buffer: *mut c_void, size: c_int), |ctx| {
            let s = $scope(ctx, $obj)?;
            buffer_attach(s, buffer, size as Count)
        });
        mpi_fn!($attach_c, $pattach_c, ($obj: c_int, buffer: *mut c_void, size: Count), |ctx| {
            let s = $scope(ctx, $obj)?;
            buffer_attach(s, buffer, size)
        });
        mpi_fn!($detach, $pdetach, ($obj: c_int, buffer_addr: *mut c_void, size: *mut c_int), |ctx| {
            let s = $scope(ctx, $obj)?;
            buffer_detach(s, buffer_addr, size)
        });
        mpi_fn!($detach_c, $pdetach_c, ($obj: c_int, buffer_addr: *mut c_void, size: *mut Count), |ctx| {
            let s = $scope(ctx, $obj)?;
            buffer_detach(s, buffer_addr, size)
        });
        mpi_fn!($flush, $pflush, ($obj: c_int), |ctx| {
            let s = $scope(ctx, $obj)?;
            rt()?.engine.flush_buffer(s);
            Ok(())
        });
        mpi_fn!($iflush, $piflush, ($obj: c_int, request: *mut c_int), |ctx| {
            let s = $scope(ctx, $obj)?;
            let id = rt()?.engine.iflush_buffer(s);
            ptr::write(request, handle_of(id), "request")
        });
    };
}

object_buffer_fns!(
    comm,
    comm_scope,
    MPI_Comm_attach_buffer,
    PMPI_Comm_attach_buffer,
    MPI_Comm_attach_buffer_c,
    PMPI_Comm_attach_buffer_c,
    MPI_Comm_detach_buffer,
    PMPI_Comm_detach_buffer,
    MPI_Comm_detach_buffer_c,
    PMPI_Comm_detach_buffer_c,
    MPI_Comm_flush_buffer,
    PMPI_Comm_flush_buffer,
    MPI_Comm_iflush_buffer,
    PMPI_Comm_iflush_buffer
);
object_buffer_fns!(
    session,
    session_scope,
    MPI_Session_attach_buffer,
    PMPI_Session_attach_buffer,
    MPI_Session_attach_buffer_c,
    PMPI_Session_attach_buffer_c,
    MPI_Session_detach_buffer,
    PMPI_Session_detach_buffer,
    MPI_Session_detach_buffer_c,
    PMPI_Session_detach_buffer_c,
    MPI_Session_flush_buffer,
    PMPI_Session_flush_buffer,
    MPI_Session_iflush_buffer,
    PMPI_Session_iflush_buffer
);

// ---------------------------------------------------------------------------------------
// Receives

fn recv_args(
    ctx: &mut Ctx,
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    src: c_int,
    tag: c_int,
    comm_h: c_int,
) -> Result<Option<RecvArgs>, MpiError> {
    let c = comm::get(ctx, comm_h)?;
    let data = msg_data(buf, count, dt)?;
    let tag = recv_tag(tag)?;
    let src = source(&c, src)?;
    if src == PROC_NULL {
        return Ok(None);
    }
    Ok(Some(RecvArgs {
        ctx: c.context_id,
        src,
        tag,
        data,
        owner: comm_h,
    }))
}

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

#[allow(clippy::too_many_arguments)]
fn recv(
    ctx: &mut Ctx,
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    src: c_int,
    tag: c_int,
    comm_h: c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let s = match recv_args(ctx, buf, count, dt, src, tag, comm_h)? {
        None => proc_null_status(),
        Some(a) => rt()?.engine.recv(a),
    };
    status::store(st, &s);
    check_status(&s)
}

#[allow(clippy::too_many_arguments)]
fn irecv(
    ctx: &mut Ctx,
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    src: c_int,
    tag: c_int,
    comm_h: c_int,
    req: *mut c_int,
) -> Result<(), MpiError> {
    if req.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "request", "null pointer"));
    }
    let e = &rt()?.engine;
    let id = match recv_args(ctx, buf, count, dt, src, tag, comm_h)? {
        None => e.completed(proc_null_status()),
        Some(a) => e.irecv(a),
    };
    ptr::write(req, handle_of(id), "request")
}

mpi_fn!(MPI_Recv, PMPI_Recv, (buf: *mut c_void, count: c_int, datatype: c_int, source: c_int, tag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    recv(ctx, buf, count as Count, datatype, source, tag, comm, status)
});
mpi_fn!(MPI_Recv_c, PMPI_Recv_c, (buf: *mut c_void, count: Count, datatype: c_int, source: c_int, tag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    recv(ctx, buf, count, datatype, source, tag, comm, status)
});
mpi_fn!(MPI_Irecv, PMPI_Irecv, (buf: *mut c_void, count: c_int, datatype: c_int, source: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    irecv(ctx, buf, count as Count, datatype, source, tag, comm, request)
});
mpi_fn!(MPI_Irecv_c, PMPI_Irecv_c, (buf: *mut c_void, count: Count, datatype: c_int, source: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    irecv(ctx, buf, count, datatype, source, tag, comm, request)
});

// ---------------------------------------------------------------------------------------
// Sendrecv

#[allow(clippy::too_many_arguments)]
fn sendrecv_start(
    ctx: &mut Ctx,
    sbuf: *const c_void,
    scount: Count,
    sdt: c_int,
    dst: c_int,
    stag: c_int,
    rbuf: *mut c_void,
    rcount: Count,
    rdt: c_int,
    src: c_int,
    rtag: c_int,
    comm_h: c_int,
) -> Result<(ReqId, ReqId), MpiError> {
    let ra = recv_args(ctx, rbuf, rcount, rdt, src, rtag, comm_h)?;
    let s = send_spec(ctx, sbuf, scount, sdt, dst, stag, comm_h)?;
    let e = &rt()?.engine;
    let r = match ra {
        None => e.completed(proc_null_status()),
        Some(a) => e.irecv(a),
    };
    let w = match s.ep {
        None => e.completed(proc_null_status()),
        Some(ep) => e.isend(s.args(ep, Mode::Standard))?,
    };
    Ok((w, r))
}

#[allow(clippy::too_many_arguments)]
fn sendrecv(
    ctx: &mut Ctx,
    sbuf: *const c_void,
    scount: Count,
    sdt: c_int,
    dst: c_int,
    stag: c_int,
    rbuf: *mut c_void,
    rcount: Count,
    rdt: c_int,
    src: c_int,
    rtag: c_int,
    comm_h: c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let (w, r) = sendrecv_start(
        ctx, sbuf, scount, sdt, dst, stag, rbuf, rcount, rdt, src, rtag, comm_h,
    )?;
    let e = &rt()?.engine;
    e.wait(w);
    let s = e.wait(r);
    status::store(st, &s);
    check_status(&s)
}

mpi_fn!(MPI_Sendrecv, PMPI_Sendrecv, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: c_int, source: c_int, recvtag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    sendrecv(ctx, sendbuf, sendcount as Count, sendtype, dest, sendtag, recvbuf, recvcount as Count, recvtype, source, recvtag, comm, status)
});
mpi_fn!(MPI_Sendrecv_c, PMPI_Sendrecv_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: Count, recvtype: c_int, source: c_int, recvtag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    sendrecv(ctx, sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag, comm, status)
});

#[allow(clippy::too_many_arguments)]
fn isendrecv(
    ctx: &mut Ctx,
    sbuf: *const c_void,
    scount: Count,
    sdt: c_int,
    dst: c_int,
    stag: c_int,
    rbuf: *mut c_void,
    rcount: Count,
    rdt: c_int,
    src: c_int,
    rtag: c_int,
    comm_h: c_int,
    req: *mut c_int,
) -> Result<(), MpiError> {
    if req.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "request", "null pointer"));
    }
    let (w, r) = sendrecv_start(
        ctx, sbuf, scount, sdt, dst, stag, rbuf, rcount, rdt, src, rtag, comm_h,
    )?;
    let id = super::request::pair(w, r, None, comm_h)?;
    ptr::write(req, handle_of(id), "request")
}

mpi_fn!(MPI_Isendrecv, PMPI_Isendrecv, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: c_int, source: c_int, recvtag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    isendrecv(ctx, sendbuf, sendcount as Count, sendtype, dest, sendtag, recvbuf, recvcount as Count, recvtype, source, recvtag, comm, request)
});
mpi_fn!(MPI_Isendrecv_c, PMPI_Isendrecv_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: Count, recvtype: c_int, source: c_int, recvtag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    isendrecv(ctx, sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag, comm, request)
});

/// Sendrecv_replace: the outgoing data is packed to a temporary first, so the receive can
/// land in the same buffer.
#[allow(clippy::too_many_arguments)]
fn replace_start(
    ctx: &mut Ctx,
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    dst: c_int,
    stag: c_int,
    src: c_int,
    rtag: c_int,
    comm_h: c_int,
) -> Result<(ReqId, ReqId, Box<[u8]>), MpiError> {
    let d = msg_data(buf, count, dt)?;
    let mut tmp = vec![0u8; d.bytes() as usize].into_boxed_slice();
    d.pack(0, &mut tmp);
    let byte = predefined_byte();
    let (w, r) = sendrecv_start(
        ctx,
        tmp.as_ptr() as *const c_void,
        tmp.len() as Count,
        byte,
        dst,
        stag,
        buf,
        count,
        dt,
        src,
        rtag,
        comm_h,
    )?;
    Ok((w, r, tmp))
}

fn predefined_byte() -> c_int {
    0x4c00010d
}

#[allow(clippy::too_many_arguments)]
fn sendrecv_replace(
    ctx: &mut Ctx,
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    dst: c_int,
    stag: c_int,
    src: c_int,
    rtag: c_int,
    comm_h: c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let (w, r, tmp) = replace_start(ctx, buf, count, dt, dst, stag, src, rtag, comm_h)?;
    let e = &rt()?.engine;
    e.wait(w);
    drop(tmp);
    let s = e.wait(r);
    status::store(st, &s);
    check_status(&s)
}

mpi_fn!(MPI_Sendrecv_replace, PMPI_Sendrecv_replace, (buf: *mut c_void, count: c_int, datatype: c_int, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    sendrecv_replace(ctx, buf, count as Count, datatype, dest, sendtag, source, recvtag, comm, status)
});
mpi_fn!(MPI_Sendrecv_replace_c, PMPI_Sendrecv_replace_c, (buf: *mut c_void, count: Count, datatype: c_int, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    sendrecv_replace(ctx, buf, count, datatype, dest, sendtag, source, recvtag, comm, status)
});

#[allow(clippy::too_many_arguments)]
fn isendrecv_replace(
    ctx: &mut Ctx,
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    dst: c_int,
    stag: c_int,
    src: c_int,
    rtag: c_int,
    comm_h: c_int,
    req: *mut c_int,
) -> Result<(), MpiError> {
    if req.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "request", "null pointer"));
    }
    let (w, r, tmp) = replace_start(ctx, buf, count, dt, dst, stag, src, rtag, comm_h)?;
    let id = super::request::pair(w, r, Some(tmp), comm_h)?;
    ptr::write(req, handle_of(id), "request")
}

mpi_fn!(MPI_Isendrecv_replace, PMPI_Isendrecv_replace, (buf: *mut c_void, count: c_int, datatype: c_int, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    isendrecv_replace(ctx, buf, count as Count, datatype, dest, sendtag, source, recvtag, comm, request)
});
mpi_fn!(MPI_Isendrecv_replace_c, PMPI_Isendrecv_replace_c, (buf: *mut c_void, count: Count, datatype: c_int, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    isendrecv_replace(ctx, buf, count, datatype, dest, sendtag, source, recvtag, comm, request)
});

// ---------------------------------------------------------------------------------------
// Persistent requests

#[allow(clippy::too_many_arguments)]
fn send_init(
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
    let ep = s.ep.unwrap_or(u32::MAX);
    let id = rt()?.engine.send_init(s.args(ep, mode));
    ptr::write(req, handle_of(id), "request")
}

macro_rules! send_init_fns {
    ($mpi:ident, $pmpi:ident, $mpi_c:ident, $pmpi_c:ident, $mode:expr) => {
        mpi_fn!($mpi, $pmpi, (buf: *const c_void, count: c_int, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            send_init(ctx, buf, count as Count, datatype, dest, tag, comm, $mode, request)
        });
        mpi_fn!($mpi_c, $pmpi_c, (buf: *const c_void, count: Count, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            send_init(ctx, buf, count, datatype, dest, tag, comm, $mode, request)
        });
    };
}

send_init_fns!(
    MPI_Send_init,
    PMPI_Send_init,
    MPI_Send_init_c,
    PMPI_Send_init_c,
    Mode::Standard
);
send_init_fns!(
    MPI_Ssend_init,
    PMPI_Ssend_init,
    MPI_Ssend_init_c,
    PMPI_Ssend_init_c,
    Mode::Sync
);
send_init_fns!(
    MPI_Rsend_init,
    PMPI_Rsend_init,
    MPI_Rsend_init_c,
    PMPI_Rsend_init_c,
    Mode::Ready
);
send_init_fns!(
    MPI_Bsend_init,
    PMPI_Bsend_init,
    MPI_Bsend_init_c,
    PMPI_Bsend_init_c,
    Mode::Buffered
);

#[allow(clippy::too_many_arguments)]
fn recv_init(
    ctx: &mut Ctx,
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    src: c_int,
    tag: c_int,
    comm_h: c_int,
    req: *mut c_int,
) -> Result<(), MpiError> {
    if req.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "request", "null pointer"));
    }
    let c = comm::get(ctx, comm_h)?;
    let data = msg_data(buf, count, dt)?;
    let tag = recv_tag(tag)?;
    let src = source(&c, src)?;
    let id = rt()?.engine.recv_init(RecvArgs {
        ctx: c.context_id,
        src,
        tag,
        data,
        owner: comm_h,
    });
    ptr::write(req, handle_of(id), "request")
}

mpi_fn!(MPI_Recv_init, PMPI_Recv_init, (buf: *mut c_void, count: c_int, datatype: c_int, source: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    recv_init(ctx, buf, count as Count, datatype, source, tag, comm, request)
});
mpi_fn!(MPI_Recv_init_c, PMPI_Recv_init_c, (buf: *mut c_void, count: Count, datatype: c_int, source: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    recv_init(ctx, buf, count, datatype, source, tag, comm, request)
});

// ---------------------------------------------------------------------------------------
// Probe and matched probe

fn probe_args(
    ctx: &mut Ctx,
    src: c_int,
    tag: c_int,
    comm_h: c_int,
) -> Result<Option<(u32, c_int, c_int)>, MpiError> {
    let c = comm::get(ctx, comm_h)?;
    let tag = recv_tag(tag)?;
    let src = source(&c, src)?;
    Ok((src != PROC_NULL).then_some((c.context_id, src, tag)))
}

mpi_fn!(MPI_Probe, PMPI_Probe, (source: c_int, tag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    let s = match probe_args(ctx, source, tag, comm)? {
        None => proc_null_status(),
        Some((c, src, tag)) => rt()?.engine.probe(c, src, tag),
    };
    status::store(status, &s);
    Ok(())
});

mpi_fn!(MPI_Iprobe, PMPI_Iprobe, (source: c_int, tag: c_int, comm: c_int, flag: *mut c_int, status: *mut MPI_Status), |ctx| {
    let s = match probe_args(ctx, source, tag, comm)? {
        None => Some(proc_null_status()),
        Some((c, src, tag)) => rt()?.engine.iprobe(c, src, tag),
    };
    if let Some(s) = &s {
        status::store(status, s);
    }
    ptr::write(flag, s.is_some() as c_int, "flag")
});

mpi_fn!(MPI_Mprobe, PMPI_Mprobe, (source: c_int, tag: c_int, comm: c_int, message: *mut c_int, status: *mut MPI_Status), |ctx| {
    match probe_args(ctx, source, tag, comm)? {
        None => {
            status::store(status, &proc_null_status());
            ptr::write(message, predefined::MESSAGE_NO_PROC, "message")
        }
        Some((c, src, tag)) => {
            let (m, s) = rt()?.engine.mprobe(c, src, tag);
            status::store(status, &s);
            ptr::write(message, msg_handle(m), "message")
        }
    }
});

mpi_fn!(MPI_Improbe, PMPI_Improbe, (source: c_int, tag: c_int, comm: c_int, flag: *mut c_int, message: *mut c_int, status: *mut MPI_Status), |ctx| {
    match probe_args(ctx, source, tag, comm)? {
        None => {
            status::store(status, &proc_null_status());
            ptr::write(message, predefined::MESSAGE_NO_PROC, "message")?;
            ptr::write(flag, 1, "flag")
        }
        Some((c, src, tag)) => match rt()?.engine.improbe(c, src, tag) {
            Some((m, s)) => {
                status::store(status, &s);
                ptr::write(message, msg_handle(m), "message")?;
                ptr::write(flag, 1, "flag")
            }
            None => ptr::write(flag, 0, "flag"),
        },
    }
});

/// Starts the receive of a matched message; None for MPI_MESSAGE_NO_PROC.
fn mrecv_start(
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    message: *mut c_int,
) -> Result<Option<ReqId>, MpiError> {
    let m = ptr::read(message, "message")?;
    let d = msg_data(buf, count, dt)?;
    if m == predefined::MESSAGE_NO_PROC {
        ptr::write(message, predefined::MESSAGE_NULL, "message")?;
        return Ok(None);
    }
    let id = msg_id(m).ok_or_else(|| {
        MpiError::arg(
            class::ERR_REQUEST,
            "message",
            format!("invalid message handle {m:#x}"),
        )
    })?;
    let r = rt()?.engine.imrecv(id, d)?;
    ptr::write(message, predefined::MESSAGE_NULL, "message")?;
    Ok(Some(r))
}

fn mrecv(
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    message: *mut c_int,
    st: *mut MPI_Status,
) -> Result<(), MpiError> {
    let s = match mrecv_start(buf, count, dt, message)? {
        None => proc_null_status(),
        Some(r) => rt()?.engine.wait(r),
    };
    status::store(st, &s);
    check_status(&s)
}

fn imrecv(
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    message: *mut c_int,
    req: *mut c_int,
) -> Result<(), MpiError> {
    if req.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "request", "null pointer"));
    }
    let e = &rt()?.engine;
    let id = match mrecv_start(buf, count, dt, message)? {
        None => e.completed(proc_null_status()),
        Some(r) => r,
    };
    ptr::write(req, handle_of(id), "request")
}

mpi_fn!(MPI_Mrecv, PMPI_Mrecv, (buf: *mut c_void, count: c_int, datatype: c_int, message: *mut c_int, status: *mut MPI_Status), |_ctx| {
    mrecv(buf, count as Count, datatype, message, status)
});
mpi_fn!(MPI_Mrecv_c, PMPI_Mrecv_c, (buf: *mut c_void, count: Count, datatype: c_int, message: *mut c_int, status: *mut MPI_Status), |_ctx| {
    mrecv(buf, count, datatype, message, status)
});
mpi_fn!(MPI_Imrecv, PMPI_Imrecv, (buf: *mut c_void, count: c_int, datatype: c_int, message: *mut c_int, request: *mut c_int), |_ctx| {
    imrecv(buf, count as Count, datatype, message, request)
});
mpi_fn!(MPI_Imrecv_c, PMPI_Imrecv_c, (buf: *mut c_void, count: Count, datatype: c_int, message: *mut c_int, request: *mut c_int), |_ctx| {
    imrecv(buf, count, datatype, message, request)
});
