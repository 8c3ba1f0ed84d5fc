//! Receives and the combined send-receives: MPI_Recv, MPI_Irecv, MPI_(I)Sendrecv and
//! MPI_(I)Sendrecv_replace, with their `_c` forms. Every status and request argument is
//! checked before anything is received.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

/// The receive `m` describes (its peer the source); None for MPI_PROC_NULL. Always
/// inlined: called out of line, its 80-byte result went through memory and was copied
/// again into the engine's call (issue 13, MPI_Irecv's straight line).
#[inline(always)]
fn recv_args(ctx: &mut Ctx, m: Msg) -> Result<Option<RecvArgs>, MpiError> {
    Ok(recv_args_in(ctx, m)?.1)
}

/// `recv_args` with the communicator it looked up (MPI_Recv maps the source to its
/// endpoint with it).
#[inline(always)]
fn recv_args_in(ctx: &mut Ctx, m: Msg) -> Result<(CommRef, Option<RecvArgs>), MpiError> {
    let c = comm::get(ctx, m.comm)?;
    let data = msg_data(m.buf, m.count, m.dt)?;
    let tag = recv_tag(m.tag)?;
    let src = source(&c, m.peer)?;
    if src == PROC_NULL {
        return Ok((c, None));
    }
    let a = RecvArgs {
        ctx: c.context_id,
        src,
        tag,
        data,
        owner: m.comm,
    };
    Ok((c, Some(a)))
}

/// MPI_Recv: from a specific rank, the engine's straight line (`Engine::recv_from`: it
/// polls that peer's next message when the peer is on this node); from MPI_ANY_SOURCE,
/// the general receive.
#[inline]
fn recv(ctx: &mut Ctx, m: Msg, mut st: StatusOut) -> Result<(), MpiError> {
    let s = match recv_args_in(ctx, m)? {
        (_, None) => proc_null_status(),
        (c, Some(a)) => {
            let e = &rt()?.engine;
            match peer_ep(&c, a.src) {
                Some(ep) => e.recv_from(a, ep, no_failure_known),
                None => e.recv(a),
            }
        }
    };
    st.store(&s);
    check_status(&s)
}

/// No process failure and no revoked communicator is known (ULFM): until then a blocking
/// receive may wait without a posted request (`Engine::recv_from`); afterwards only a
/// posted receive can be ended by the fault-tolerance sweep.
#[inline]
fn no_failure_known() -> bool {
    crate::ft::epoch() == 0 && !crate::ft::any_revoked()
}

#[inline]
fn irecv(ctx: &mut Ctx, m: Msg, req: ReqOut) -> Result<(), MpiError> {
    let e = &rt()?.engine;
    let id = match recv_args(ctx, m)? {
        None => e.completed(proc_null_status()),
        Some(a) => e.irecv(a),
    };
    set_req(req, id)
}

/// Starts the send `s` and the receive `r` of a combined call.
fn sendrecv_start(ctx: &mut Ctx, s: Msg, r: Msg) -> Result<(ReqId, ReqId), MpiError> {
    let ra = recv_args(ctx, r)?;
    let s = send_spec(ctx, s)?;
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

/// Sendrecv_replace: the outgoing data is packed to a temporary first, so the receive can
/// land in the same buffer (`s` and `r` describe the same one).
fn replace_start(ctx: &mut Ctx, s: Msg, r: Msg) -> Result<(ReqId, ReqId, Box<[u8]>), MpiError> {
    let d = msg_data(s.buf, s.count, s.dt)?;
    let mut tmp = vec![0u8; d.bytes() as usize].into_boxed_slice();
    d.pack(0, &mut tmp);
    let packed = Msg {
        buf: tmp.as_ptr() as *const c_void,
        count: tmp.len() as Count,
        dt: predefined_byte(),
        ..s
    };
    let (w, r) = sendrecv_start(ctx, packed, r)?;
    Ok((w, r, tmp))
}

/// Waits for both halves of a combined call; the receive's status is the call's.
fn finish(w: ReqId, r: ReqId, mut st: StatusOut) -> Result<(), MpiError> {
    let e = &rt()?.engine;
    e.wait(w);
    let s = e.wait(r);
    st.store(&s);
    check_status(&s)
}

/// MPI_Recv, MPI_Irecv and their `_c` forms.
macro_rules! recv_fns {
    ($($m:ident $p:ident $im:ident $ip:ident $cnt:ty;)*) => {$(
        mpi_fn!($m, $p, (buf: *mut c_void, count: $cnt, datatype: c_int, source: c_int, tag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
            // Errors here go to the communicator's errhandler, as the call's others.
            ctx.on_comm(comm);
            // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
            let st = unsafe { status::out(status, "status") }?;
            recv(ctx, Msg::new(buf, count as Count, datatype, source, tag, comm), st)
        });
        mpi_fn!($im, $ip, (buf: *mut c_void, count: $cnt, datatype: c_int, source: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            // SAFETY: `request` is the C caller's output argument (MPI contract).
            let req = unsafe { req_out(request) }?;
            irecv(ctx, Msg::new(buf, count as Count, datatype, source, tag, comm), req)
        });
    )*};
}
recv_fns! {
    MPI_Recv PMPI_Recv MPI_Irecv PMPI_Irecv c_int;
    MPI_Recv_c PMPI_Recv_c MPI_Irecv_c PMPI_Irecv_c Count;
}

/// MPI_Sendrecv, MPI_Isendrecv and their `_c` forms.
macro_rules! sendrecv_fns {
    ($($m:ident $p:ident $im:ident $ip:ident $cnt:ty;)*) => {$(
        mpi_fn!($m, $p, (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: $cnt, recvtype: c_int, source: c_int, recvtag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
            ctx.on_comm(comm);
            // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
            let st = unsafe { status::out(status, "status") }?;
            let s = Msg::new(sendbuf, sendcount as Count, sendtype, dest, sendtag, comm);
            let r = Msg::new(recvbuf, recvcount as Count, recvtype, source, recvtag, comm);
            let (w, r) = sendrecv_start(ctx, s, r)?;
            finish(w, r, st)
        });
        mpi_fn!($im, $ip, (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: $cnt, recvtype: c_int, source: c_int, recvtag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            // SAFETY: `request` is the C caller's output argument (MPI contract).
            let req = unsafe { req_out(request) }?;
            let s = Msg::new(sendbuf, sendcount as Count, sendtype, dest, sendtag, comm);
            let r = Msg::new(recvbuf, recvcount as Count, recvtype, source, recvtag, comm);
            let (w, r) = sendrecv_start(ctx, s, r)?;
            set_req(req, crate::abi::request::pair(w, r, None, comm)?)
        });
    )*};
}
sendrecv_fns! {
    MPI_Sendrecv PMPI_Sendrecv MPI_Isendrecv PMPI_Isendrecv c_int;
    MPI_Sendrecv_c PMPI_Sendrecv_c MPI_Isendrecv_c PMPI_Isendrecv_c Count;
}

/// MPI_Sendrecv_replace, MPI_Isendrecv_replace and their `_c` forms.
macro_rules! sendrecv_replace_fns {
    ($($m:ident $p:ident $im:ident $ip:ident $cnt:ty;)*) => {$(
        mpi_fn!($m, $p, (buf: *mut c_void, count: $cnt, datatype: c_int, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: c_int, status: *mut MPI_Status), |ctx| {
            ctx.on_comm(comm);
            // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
            let st = unsafe { status::out(status, "status") }?;
            let s = Msg::new(buf, count as Count, datatype, dest, sendtag, comm);
            let (w, r, tmp) = replace_start(ctx, s, Msg { peer: source, tag: recvtag, ..s })?;
            let done = finish(w, r, st);
            drop(tmp);
            done
        });
        mpi_fn!($im, $ip, (buf: *mut c_void, count: $cnt, datatype: c_int, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            // SAFETY: `request` is the C caller's output argument (MPI contract).
            let req = unsafe { req_out(request) }?;
            let s = Msg::new(buf, count as Count, datatype, dest, sendtag, comm);
            let (w, r, tmp) = replace_start(ctx, s, Msg { peer: source, tag: recvtag, ..s })?;
            set_req(req, crate::abi::request::pair(w, r, Some(tmp), comm)?)
        });
    )*};
}
sendrecv_replace_fns! {
    MPI_Sendrecv_replace PMPI_Sendrecv_replace MPI_Isendrecv_replace PMPI_Isendrecv_replace c_int;
    MPI_Sendrecv_replace_c PMPI_Sendrecv_replace_c MPI_Isendrecv_replace_c PMPI_Isendrecv_replace_c Count;
}
