//! Persistent point-to-point requests: MPI_(B/S/R)send_init and MPI_Recv_init, with their
//! `_c` forms.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn send_init(
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
    // SAFETY: `req` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(req, handle_of(id), "request") }
}

macro_rules! send_init_fns {
    ($mpi:ident, $pmpi:ident, $mpi_c:ident, $pmpi_c:ident, $mode:expr) => {
        mpi_fn!($mpi, $pmpi, (buf: *const c_void, count: c_int, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
            unsafe { send_init(ctx, buf, count as Count, datatype, dest, tag, comm, $mode, request) }
        });
        mpi_fn!($mpi_c, $pmpi_c, (buf: *const c_void, count: Count, datatype: c_int, dest: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
            unsafe { send_init(ctx, buf, count, datatype, dest, tag, comm, $mode, request) }
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

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn recv_init(
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
    // SAFETY: `req` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(req, handle_of(id), "request") }
}

mpi_fn!(MPI_Recv_init, PMPI_Recv_init, (buf: *mut c_void, count: c_int, datatype: c_int, source: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { recv_init(ctx, buf, count as Count, datatype, source, tag, comm, request) }
});
mpi_fn!(MPI_Recv_init_c, PMPI_Recv_init_c, (buf: *mut c_void, count: Count, datatype: c_int, source: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { recv_init(ctx, buf, count, datatype, source, tag, comm, request) }
});
