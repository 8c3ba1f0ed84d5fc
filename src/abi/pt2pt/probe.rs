//! Probe and matched probe: MPI_(I)probe, MPI_(I)mprobe, MPI_(I)mrecv, with their `_c`
//! forms.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

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
    // Errors here go to the communicator's errhandler, as the call's others.
    ctx.on_comm(comm);
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let mut st = unsafe { status::out(status, "status") }?;
    let s = match probe_args(ctx, source, tag, comm)? {
        None => proc_null_status(),
        Some((c, src, tag)) => rt()?.engine.probe(c, src, tag),
    };
    st.store(&s);
    Ok(())
});

mpi_fn!(MPI_Iprobe, PMPI_Iprobe, (source: c_int, tag: c_int, comm: c_int, flag: *mut c_int, status: *mut MPI_Status), |ctx| {
    // Errors here go to the communicator's errhandler, as the call's others.
    ctx.on_comm(comm);
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let mut st = unsafe { status::out(status, "status") }?;
    let s = match probe_args(ctx, source, tag, comm)? {
        None => Some(proc_null_status()),
        Some((c, src, tag)) => rt()?.engine.iprobe(c, src, tag),
    };
    if let Some(s) = &s {
        st.store(s);
    }
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, s.is_some() as c_int, "flag") }
});

mpi_fn!(MPI_Mprobe, PMPI_Mprobe, (source: c_int, tag: c_int, comm: c_int, message: *mut c_int, status: *mut MPI_Status), |ctx| {
    // Errors here go to the communicator's errhandler, as the call's others.
    ctx.on_comm(comm);
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let mut st = unsafe { status::out(status, "status") }?;
    match probe_args(ctx, source, tag, comm)? {
        None => {
            st.store(&proc_null_status());
            // SAFETY: `message` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(message, predefined::MESSAGE_NO_PROC, "message") }
        }
        Some((c, src, tag)) => {
            let (m, s) = rt()?.engine.mprobe(c, src, tag);
            st.store(&s);
            // SAFETY: `message` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(message, msg_handle(m), "message") }
        }
    }
});

mpi_fn!(MPI_Improbe, PMPI_Improbe, (source: c_int, tag: c_int, comm: c_int, flag: *mut c_int, message: *mut c_int, status: *mut MPI_Status), |ctx| {
    // Errors here go to the communicator's errhandler, as the call's others.
    ctx.on_comm(comm);
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let mut st = unsafe { status::out(status, "status") }?;
    match probe_args(ctx, source, tag, comm)? {
        None => {
            st.store(&proc_null_status());
            // SAFETY: `message` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(message, predefined::MESSAGE_NO_PROC, "message") }?;
            // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(flag, 1, "flag") }
        }
        Some((c, src, tag)) => match rt()?.engine.improbe(c, src, tag) {
            Some((m, s)) => {
                st.store(&s);
                // SAFETY: `message` is the C caller's, null or valid for this use (MPI contract).
                unsafe { arg::write(message, msg_handle(m), "message") }?;
                // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
                unsafe { arg::write(flag, 1, "flag") }
            }
            // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
            None => unsafe { arg::write(flag, 0, "flag") },
        },
    }
});

/// Starts the receive of a matched message; None for MPI_MESSAGE_NO_PROC.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn mrecv_start(
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    message: *mut c_int,
) -> Result<Option<ReqId>, MpiError> {
    // SAFETY: `message` is the C caller's, null or valid for this use (MPI contract).
    let m = unsafe { arg::read(message, "message") }?;
    let d = msg_data(buf, count, dt)?;
    if m == predefined::MESSAGE_NO_PROC {
        // SAFETY: `message` is the C caller's, null or valid for this use (MPI contract).
        unsafe { arg::write(message, predefined::MESSAGE_NULL, "message") }?;
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
    // SAFETY: `message` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(message, predefined::MESSAGE_NULL, "message") }?;
    Ok(Some(r))
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn mrecv(
    buf: *mut c_void,
    count: Count,
    dt: c_int,
    message: *mut c_int,
    mut st: StatusOut,
) -> Result<(), MpiError> {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let s = match unsafe { mrecv_start(buf, count, dt, message) }? {
        None => proc_null_status(),
        Some(r) => rt()?.engine.wait(r),
    };
    st.store(&s);
    check_status(&s)
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn imrecv(
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
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let id = match unsafe { mrecv_start(buf, count, dt, message) }? {
        None => e.completed(proc_null_status()),
        Some(r) => r,
    };
    // SAFETY: `req` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(req, handle_of(id), "request") }
}

mpi_fn!(MPI_Mrecv, PMPI_Mrecv, (buf: *mut c_void, count: c_int, datatype: c_int, message: *mut c_int, status: *mut MPI_Status), |_ctx| {
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let st = unsafe { status::out(status, "status") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { mrecv(buf, count as Count, datatype, message, st) }
});
mpi_fn!(MPI_Mrecv_c, PMPI_Mrecv_c, (buf: *mut c_void, count: Count, datatype: c_int, message: *mut c_int, status: *mut MPI_Status), |_ctx| {
    // SAFETY: `status` is the C caller's, null, MPI_STATUS_IGNORE or valid (MPI contract).
    let st = unsafe { status::out(status, "status") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { mrecv(buf, count, datatype, message, st) }
});
mpi_fn!(MPI_Imrecv, PMPI_Imrecv, (buf: *mut c_void, count: c_int, datatype: c_int, message: *mut c_int, request: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { imrecv(buf, count as Count, datatype, message, request) }
});
mpi_fn!(MPI_Imrecv_c, PMPI_Imrecv_c, (buf: *mut c_void, count: Count, datatype: c_int, message: *mut c_int, request: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { imrecv(buf, count, datatype, message, request) }
});
