//! The one-sided communication calls: MPI_(R)put, MPI_(R)get, MPI_(R)accumulate,
//! MPI_(R)get_accumulate, MPI_Fetch_and_op, MPI_Compare_and_swap, with their `_c` forms.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

/// A target rank: None for MPI_PROC_NULL.
fn target_of(w: &Win, rank: c_int) -> Result<Option<usize>, MpiError> {
    if rank == PROC_NULL {
        return Ok(None);
    }
    if rank < 0 || rank as usize >= w.size_of_group() {
        return Err(MpiError::arg(
            class::ERR_RANK,
            "target_rank",
            format!(
                "invalid rank {rank} (window group size {})",
                w.size_of_group()
            ),
        ));
    }
    Ok(Some(rank as usize))
}

fn target_spec(rank: usize, disp: Aint, count: Count, dt: c_int) -> Result<TargetSpec, MpiError> {
    if count < 0 {
        return Err(MpiError::arg(
            class::ERR_COUNT,
            "target_count",
            format!("negative count {count}"),
        ));
    }
    Ok(TargetSpec {
        rank,
        disp: disp as i64,
        count: count as u64,
        dt: type_keep(dt, "target_datatype")?,
    })
}

/// Datatype argument `arg` (handle `dt`), held for the operation.
fn type_keep(dt: c_int, arg: &'static str) -> Result<TypeKeep, MpiError> {
    Ok(match crate::abi::datatype::get(dt, arg)? {
        crate::abi::datatype::DtRef::Builtin(d) => TypeKeep::Static(d),
        crate::abi::datatype::DtRef::User(d) => TypeKeep::Shared(d),
    })
}

/// Stores the request of an R-call (a completed one for MPI_PROC_NULL).
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn out_request(req: *mut c_int, id: Option<ReqId>) -> Result<(), MpiError> {
    let e = &runtime::rt()?.engine;
    let id = match id {
        Some(id) => id,
        None => e.completed(Status {
            source: PROC_NULL,
            tag: crate::abi::consts::ANY_TAG,
            ..Default::default()
        }),
    };
    // SAFETY: `req` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(req, handle_of(id), "request") }
}

/// Where an operation goes, as the C call gives it.
struct Target {
    rank: c_int,
    disp: Aint,
    count: Count,
    dt: c_int,
}

/// The shape every operation of the put/get/accumulate family shares: the window resolved
/// (its errhandler applies from here), the request cleared, the origin side checked by
/// `prepare`, nothing more for MPI_PROC_NULL, else `op` started on the target. `req` is
/// null for the non-request forms.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn start<P>(
    ctx: &mut Ctx,
    win: c_int,
    req: *mut c_int,
    t: Target,
    prepare: impl FnOnce() -> Result<P, MpiError>,
    op: impl FnOnce(&Win, P, TargetSpec, bool) -> Result<Option<ReqId>, MpiError>,
) -> Result<(), MpiError> {
    let w = get(ctx, win)?;
    if !req.is_null() {
        // SAFETY: `req` is the C caller's, null or valid for this use (MPI contract).
        unsafe { arg::write(req, predefined::REQUEST_NULL, "request") }?;
    }
    let p = prepare()?;
    let id = match target_of(&w, t.rank)? {
        None => None,
        Some(r) => op(
            &w,
            p,
            target_spec(r, t.disp, t.count, t.dt)?,
            !req.is_null(),
        )?,
    };
    if req.is_null() {
        Ok(())
    } else {
        // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
        unsafe { out_request(req, id) }
    }
}

/// What MPI_Put and MPI_Get start on the target.
type Transfer = fn(&Win, Data, TargetSpec, bool) -> Result<Option<ReqId>, MpiError>;

/// MPI_(R)Put and MPI_(R)Get: `op` is `ops::put` or `ops::get`.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn transfer(
    ctx: &mut Ctx,
    oaddr: *const c_void,
    ocount: Count,
    odt: c_int,
    rank: c_int,
    disp: Aint,
    count: Count,
    dt: c_int,
    win: c_int,
    req: *mut c_int,
    op: Transfer,
) -> Result<(), MpiError> {
    let t = Target {
        rank,
        disp,
        count,
        dt,
    };
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { start(ctx, win, req, t, || data(oaddr, ocount, odt), op) }
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn accumulate(
    ctx: &mut Ctx,
    oaddr: *const c_void,
    ocount: Count,
    odt: c_int,
    rank: c_int,
    disp: Aint,
    count: Count,
    dt: c_int,
    op: c_int,
    win: c_int,
    req: *mut c_int,
) -> Result<(), MpiError> {
    let t = Target {
        rank,
        disp,
        count,
        dt,
    };
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe {
        start(
            ctx,
            win,
            req,
            t,
            || data(oaddr, ocount, odt),
            |w, o, t, user| ops::accumulate(w, o, t, acc_op(op)?, user),
        )
    }
}

/// The operation of an accumulate: one-sided accumulates take only predefined ones.
fn acc_op(op: c_int) -> Result<PredefOp, MpiError> {
    crate::abi::op::predef_op(op).ok_or_else(|| {
        MpiError::arg(
            class::ERR_OP,
            "op",
            "one-sided accumulates take only predefined operations",
        )
    })
}

/// The origin data of a get-accumulate: with MPI_NO_OP it is ignored (any buffer, count
/// and type accepted, as MPI says).
fn gacc_origin(
    oaddr: *const c_void,
    ocount: Count,
    odt: c_int,
    op: c_int,
) -> Result<Data, MpiError> {
    if crate::abi::op::predef_op(op) == Some(PredefOp::NoOp) {
        let byte = crate::datatype::byte();
        return Ok(Data::new(UserPtr::empty(), 0, TypeKeep::Static(byte)));
    }
    data(oaddr, ocount, odt)
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn get_accumulate(
    ctx: &mut Ctx,
    oaddr: *const c_void,
    ocount: Count,
    odt: c_int,
    raddr: *mut c_void,
    rcount: Count,
    rdt: c_int,
    rank: c_int,
    disp: Aint,
    count: Count,
    dt: c_int,
    op: c_int,
    win: c_int,
    req: *mut c_int,
) -> Result<(), MpiError> {
    let t = Target {
        rank,
        disp,
        count,
        dt,
    };
    let prepare = || {
        Ok((
            gacc_origin(oaddr, ocount, odt, op)?,
            data(raddr, rcount, rdt)?,
        ))
    };
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe {
        start(ctx, win, req, t, prepare, |w, (o, r), t, user| {
            ops::get_accumulate(w, o, r, t, acc_op(op)?, user)
        })
    }
}

mpi_fn!(MPI_Put, PMPI_Put, (origin_addr: *const c_void, origin_count: c_int, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: c_int, target_datatype: c_int, win: c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { transfer(ctx, origin_addr, origin_count as Count, origin_datatype, target_rank, target_disp, target_count as Count, target_datatype, win, std::ptr::null_mut(), ops::put) }
});

mpi_fn!(MPI_Put_c, PMPI_Put_c, (origin_addr: *const c_void, origin_count: Count, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: Count, target_datatype: c_int, win: c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { transfer(ctx, origin_addr, origin_count, origin_datatype, target_rank, target_disp, target_count, target_datatype, win, std::ptr::null_mut(), ops::put) }
});

mpi_fn!(MPI_Rput, PMPI_Rput, (origin_addr: *const c_void, origin_count: c_int, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: c_int, target_datatype: c_int, win: c_int, request: *mut c_int), |ctx| {
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, predefined::REQUEST_NULL, "request") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { transfer(ctx, origin_addr, origin_count as Count, origin_datatype, target_rank, target_disp, target_count as Count, target_datatype, win, request, ops::put) }
});

mpi_fn!(MPI_Rput_c, PMPI_Rput_c, (origin_addr: *const c_void, origin_count: Count, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: Count, target_datatype: c_int, win: c_int, request: *mut c_int), |ctx| {
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, predefined::REQUEST_NULL, "request") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { transfer(ctx, origin_addr, origin_count, origin_datatype, target_rank, target_disp, target_count, target_datatype, win, request, ops::put) }
});

mpi_fn!(MPI_Get, PMPI_Get, (origin_addr: *mut c_void, origin_count: c_int, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: c_int, target_datatype: c_int, win: c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { transfer(ctx, origin_addr as *const c_void, origin_count as Count, origin_datatype, target_rank, target_disp, target_count as Count, target_datatype, win, std::ptr::null_mut(), ops::get) }
});

mpi_fn!(MPI_Get_c, PMPI_Get_c, (origin_addr: *mut c_void, origin_count: Count, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: Count, target_datatype: c_int, win: c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { transfer(ctx, origin_addr as *const c_void, origin_count, origin_datatype, target_rank, target_disp, target_count, target_datatype, win, std::ptr::null_mut(), ops::get) }
});

mpi_fn!(MPI_Rget, PMPI_Rget, (origin_addr: *mut c_void, origin_count: c_int, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: c_int, target_datatype: c_int, win: c_int, request: *mut c_int), |ctx| {
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, predefined::REQUEST_NULL, "request") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { transfer(ctx, origin_addr as *const c_void, origin_count as Count, origin_datatype, target_rank, target_disp, target_count as Count, target_datatype, win, request, ops::get) }
});

mpi_fn!(MPI_Rget_c, PMPI_Rget_c, (origin_addr: *mut c_void, origin_count: Count, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: Count, target_datatype: c_int, win: c_int, request: *mut c_int), |ctx| {
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, predefined::REQUEST_NULL, "request") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { transfer(ctx, origin_addr as *const c_void, origin_count, origin_datatype, target_rank, target_disp, target_count, target_datatype, win, request, ops::get) }
});

mpi_fn!(MPI_Accumulate, PMPI_Accumulate, (origin_addr: *const c_void, origin_count: c_int, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: c_int, target_datatype: c_int, op: c_int, win: c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { accumulate(ctx, origin_addr, origin_count as Count, origin_datatype, target_rank, target_disp, target_count as Count, target_datatype, op, win, std::ptr::null_mut()) }
});

mpi_fn!(MPI_Accumulate_c, PMPI_Accumulate_c, (origin_addr: *const c_void, origin_count: Count, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: Count, target_datatype: c_int, op: c_int, win: c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { accumulate(ctx, origin_addr, origin_count, origin_datatype, target_rank, target_disp, target_count, target_datatype, op, win, std::ptr::null_mut()) }
});

mpi_fn!(MPI_Raccumulate, PMPI_Raccumulate, (origin_addr: *const c_void, origin_count: c_int, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: c_int, target_datatype: c_int, op: c_int, win: c_int, request: *mut c_int), |ctx| {
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, predefined::REQUEST_NULL, "request") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { accumulate(ctx, origin_addr, origin_count as Count, origin_datatype, target_rank, target_disp, target_count as Count, target_datatype, op, win, request) }
});

mpi_fn!(MPI_Raccumulate_c, PMPI_Raccumulate_c, (origin_addr: *const c_void, origin_count: Count, origin_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: Count, target_datatype: c_int, op: c_int, win: c_int, request: *mut c_int), |ctx| {
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, predefined::REQUEST_NULL, "request") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { accumulate(ctx, origin_addr, origin_count, origin_datatype, target_rank, target_disp, target_count, target_datatype, op, win, request) }
});

mpi_fn!(MPI_Get_accumulate, PMPI_Get_accumulate, (origin_addr: *const c_void, origin_count: c_int, origin_datatype: c_int, result_addr: *mut c_void, result_count: c_int, result_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: c_int, target_datatype: c_int, op: c_int, win: c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { get_accumulate(ctx, origin_addr, origin_count as Count, origin_datatype, result_addr, result_count as Count, result_datatype, target_rank, target_disp, target_count as Count, target_datatype, op, win, std::ptr::null_mut()) }
});

mpi_fn!(MPI_Get_accumulate_c, PMPI_Get_accumulate_c, (origin_addr: *const c_void, origin_count: Count, origin_datatype: c_int, result_addr: *mut c_void, result_count: Count, result_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: Count, target_datatype: c_int, op: c_int, win: c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { get_accumulate(ctx, origin_addr, origin_count, origin_datatype, result_addr, result_count, result_datatype, target_rank, target_disp, target_count, target_datatype, op, win, std::ptr::null_mut()) }
});

mpi_fn!(MPI_Rget_accumulate, PMPI_Rget_accumulate, (origin_addr: *const c_void, origin_count: c_int, origin_datatype: c_int, result_addr: *mut c_void, result_count: c_int, result_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: c_int, target_datatype: c_int, op: c_int, win: c_int, request: *mut c_int), |ctx| {
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, predefined::REQUEST_NULL, "request") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { get_accumulate(ctx, origin_addr, origin_count as Count, origin_datatype, result_addr, result_count as Count, result_datatype, target_rank, target_disp, target_count as Count, target_datatype, op, win, request) }
});

mpi_fn!(MPI_Rget_accumulate_c, PMPI_Rget_accumulate_c, (origin_addr: *const c_void, origin_count: Count, origin_datatype: c_int, result_addr: *mut c_void, result_count: Count, result_datatype: c_int, target_rank: c_int, target_disp: Aint, target_count: Count, target_datatype: c_int, op: c_int, win: c_int, request: *mut c_int), |ctx| {
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, predefined::REQUEST_NULL, "request") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { get_accumulate(ctx, origin_addr, origin_count, origin_datatype, result_addr, result_count, result_datatype, target_rank, target_disp, target_count, target_datatype, op, win, request) }
});

mpi_fn!(MPI_Fetch_and_op, PMPI_Fetch_and_op, (origin_addr: *const c_void, result_addr: *mut c_void, datatype: c_int, target_rank: c_int, target_disp: Aint, op: c_int, win: c_int), |ctx| {
    let t = Target { rank: target_rank, disp: target_disp, count: 1, dt: datatype };
    let prepare = || {
        ops::check_fetch_and_op_type(&type_keep(datatype, "datatype")?)?;
        Ok((gacc_origin(origin_addr, 1, datatype, op)?, data(result_addr, 1, datatype)?))
    };
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { start(ctx, win, std::ptr::null_mut(), t, prepare, |w, (o, r), t, user| {
        ops::get_accumulate(w, o, r, t, acc_op(op)?, user)
    }) }
});

mpi_fn!(MPI_Compare_and_swap, PMPI_Compare_and_swap, (origin_addr: *const c_void, compare_addr: *const c_void, result_addr: *mut c_void, datatype: c_int, target_rank: c_int, target_disp: Aint, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    ops::check_cas_type(&type_keep(datatype, "datatype")?)?;
    let origin = data(origin_addr, 1, datatype)?;
    let compare = data(compare_addr, 1, datatype)?;
    let result = data(result_addr, 1, datatype)?;
    let Some(r) = target_of(&w, target_rank)? else { return Ok(()) };
    let t = target_spec(r, target_disp, 1, datatype)?;
    ops::compare_and_swap(&w, origin, compare, result, t)
});
