//! The buffers of buffered sends: MPI_Buffer_attach / detach / flush / iflush for the
//! process, and their per-communicator and per-session forms (MPI 4.1).

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

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
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn buffer_detach<S: Copy + TryFrom<usize>>(
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
    // SAFETY: `buffer_addr` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(buffer_addr as *mut usize, addr, "buffer_addr") }?;
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, n, "size") }
}

/// The buffer scope of session argument `session`.
fn session_scope(ctx: &mut Ctx, session: c_int) -> Result<Scope, MpiError> {
    crate::abi::session::get(ctx, session)?;
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
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { buffer_detach(Scope::Process, buffer_addr, size) }
});
mpi_fn!(MPI_Buffer_detach_c, PMPI_Buffer_detach_c, (buffer_addr: *mut c_void, size: *mut Count), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { buffer_detach(Scope::Process, buffer_addr, size) }
});
mpi_fn!(MPI_Buffer_flush, PMPI_Buffer_flush, (), |_ctx| {
    rt()?.engine.flush_buffer(Scope::Process);
    Ok(())
});
mpi_fn!(MPI_Buffer_iflush, PMPI_Buffer_iflush, (request: *mut c_int), |_ctx| {
    let id = rt()?.engine.iflush_buffer(Scope::Process);
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, handle_of(id), "request") }
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
            // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
            unsafe { buffer_detach(s, buffer_addr, size) }
        });
        mpi_fn!($detach_c, $pdetach_c, ($obj: c_int, buffer_addr: *mut c_void, size: *mut Count), |ctx| {
            let s = $scope(ctx, $obj)?;
            // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
            unsafe { buffer_detach(s, buffer_addr, size) }
        });
        mpi_fn!($flush, $pflush, ($obj: c_int), |ctx| {
            let s = $scope(ctx, $obj)?;
            rt()?.engine.flush_buffer(s);
            Ok(())
        });
        mpi_fn!($iflush, $piflush, ($obj: c_int, request: *mut c_int), |ctx| {
            let s = $scope(ctx, $obj)?;
            let id = rt()?.engine.iflush_buffer(s);
            // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(request, handle_of(id), "request") }
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
