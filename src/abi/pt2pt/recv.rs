//! Receives and the combined send-receives: MPI_Recv, MPI_Irecv, MPI_(I)Sendrecv and
//! MPI_(I)Sendrecv_replace, with their `_c` forms. Every status argument is checked before
//! anything is received.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

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

#[allow(clippy::too_many_arguments)]
fn recv(
    ctx: &mut Ctx,
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    src: c_int,
    tag: c_int,
    comm_h: c_int,
    mut st: StatusOut,
) -> Result<(), MpiError> {
    let s = match recv_args(ctx, buf, count, dt, src, tag, comm_h)? {
        None => proc_null_status(),
        Some(a) => rt()?.engine.recv(a),
    };
    st.store(&s);
    check_status(&s)
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn irecv(
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
    // SAFETY: `req` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(req, handle_of(id), "request") }
}

mpi_fn!(MPI_Recv, PMPI_Recv, (buf: *mut c_void, count: c_int, datatype: c_int, source: c_int, tag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    // Errors here go to the communicator's errhandler, as the call's others.
    ctx.on_comm(comm);
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let st = unsafe { status::out(status, "status") }?;
    recv(ctx, buf, count as Count, datatype, source, tag, comm, st)
});
mpi_fn!(MPI_Recv_c, PMPI_Recv_c, (buf: *mut c_void, count: Count, datatype: c_int, source: c_int, tag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    // Errors here go to the communicator's errhandler, as the call's others.
    ctx.on_comm(comm);
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let st = unsafe { status::out(status, "status") }?;
    recv(ctx, buf, count, datatype, source, tag, comm, st)
});
mpi_fn!(MPI_Irecv, PMPI_Irecv, (buf: *mut c_void, count: c_int, datatype: c_int, source: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { irecv(ctx, buf, count as Count, datatype, source, tag, comm, request) }
});
mpi_fn!(MPI_Irecv_c, PMPI_Irecv_c, (buf: *mut c_void, count: Count, datatype: c_int, source: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { irecv(ctx, buf, count, datatype, source, tag, comm, request) }
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
    mut st: StatusOut,
) -> Result<(), MpiError> {
    let (w, r) = sendrecv_start(
        ctx, sbuf, scount, sdt, dst, stag, rbuf, rcount, rdt, src, rtag, comm_h,
    )?;
    let e = &rt()?.engine;
    e.wait(w);
    let s = e.wait(r);
    st.store(&s);
    check_status(&s)
}

mpi_fn!(MPI_Sendrecv, PMPI_Sendrecv, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: c_int, source: c_int, recvtag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    // Errors here go to the communicator's errhandler, as the call's others.
    ctx.on_comm(comm);
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let st = unsafe { status::out(status, "status") }?;
    sendrecv(ctx, sendbuf, sendcount as Count, sendtype, dest, sendtag, recvbuf, recvcount as Count, recvtype, source, recvtag, comm, st)
});
mpi_fn!(MPI_Sendrecv_c, PMPI_Sendrecv_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: Count, recvtype: c_int, source: c_int, recvtag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    // Errors here go to the communicator's errhandler, as the call's others.
    ctx.on_comm(comm);
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let st = unsafe { status::out(status, "status") }?;
    sendrecv(ctx, sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag, comm, st)
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn isendrecv(
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
    let id = crate::abi::request::pair(w, r, None, comm_h)?;
    // SAFETY: `req` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(req, handle_of(id), "request") }
}

mpi_fn!(MPI_Isendrecv, PMPI_Isendrecv, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: c_int, source: c_int, recvtag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { isendrecv(ctx, sendbuf, sendcount as Count, sendtype, dest, sendtag, recvbuf, recvcount as Count, recvtype, source, recvtag, comm, request) }
});
mpi_fn!(MPI_Isendrecv_c, PMPI_Isendrecv_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: Count, recvtype: c_int, source: c_int, recvtag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { isendrecv(ctx, sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag, comm, request) }
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
    mut st: StatusOut,
) -> Result<(), MpiError> {
    let (w, r, tmp) = replace_start(ctx, buf, count, dt, dst, stag, src, rtag, comm_h)?;
    let e = &rt()?.engine;
    e.wait(w);
    drop(tmp);
    let s = e.wait(r);
    st.store(&s);
    check_status(&s)
}

mpi_fn!(MPI_Sendrecv_replace, PMPI_Sendrecv_replace, (buf: *mut c_void, count: c_int, datatype: c_int, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    // Errors here go to the communicator's errhandler, as the call's others.
    ctx.on_comm(comm);
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let st = unsafe { status::out(status, "status") }?;
    sendrecv_replace(ctx, buf, count as Count, datatype, dest, sendtag, source, recvtag, comm, st)
});
mpi_fn!(MPI_Sendrecv_replace_c, PMPI_Sendrecv_replace_c, (buf: *mut c_void, count: Count, datatype: c_int, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
    // Errors here go to the communicator's errhandler, as the call's others.
    ctx.on_comm(comm);
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let st = unsafe { status::out(status, "status") }?;
    sendrecv_replace(ctx, buf, count, datatype, dest, sendtag, source, recvtag, comm, st)
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn isendrecv_replace(
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
    let id = crate::abi::request::pair(w, r, Some(tmp), comm_h)?;
    // SAFETY: `req` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(req, handle_of(id), "request") }
}

mpi_fn!(MPI_Isendrecv_replace, PMPI_Isendrecv_replace, (buf: *mut c_void, count: c_int, datatype: c_int, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { isendrecv_replace(ctx, buf, count as Count, datatype, dest, sendtag, source, recvtag, comm, request) }
});
mpi_fn!(MPI_Isendrecv_replace_c, PMPI_Isendrecv_replace_c, (buf: *mut c_void, count: Count, datatype: c_int, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { isendrecv_replace(ctx, buf, count, datatype, dest, sendtag, source, recvtag, comm, request) }
});
