//! One-sided communication (MPI 4.1 chapter 12): window handles, creation in every flavor,
//! the communication calls, synchronization, window queries, MPI_Alloc_mem. Each call
//! checks its arguments and calls `crate::rma`. Errors go through the window's errhandler
//! once the window argument is known (the communicator's for the creation calls).

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::consts::PROC_NULL;
use super::pt2pt::data;
use super::request::handle_of;
use super::Ctx;
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::mpi_fn;
use crate::op::PredefOp;
use crate::p2p::{Data, ReqId, Status, TypeKeep};
use crate::rma::hints::Hints;
use crate::rma::ops::{self, TargetSpec};
use crate::rma::win::{Flavor, Memory};
use crate::rma::{sync, Win};
use crate::runtime;
use crate::transport::mem::UserPtr;
use crate::transport::shared_map::Mapping;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Arc;

type Count = i64;
type Aint = isize;

/// User windows.
pub static WINS: HandleTable<Win> = HandleTable::new(obj::WIN);

/// The window behind handle `h`, if live.
pub fn lookup(h: c_int) -> Option<Arc<Win>> {
    WINS.get(h)
}

/// Resolves argument `win`; errors raised after this go to its errhandler.
pub fn get(ctx: &mut Ctx, h: c_int) -> Result<Arc<Win>, MpiError> {
    runtime::rt()?;
    match WINS.get(h) {
        Some(w) => {
            ctx.on_win(h);
            Ok(w)
        }
        None if h == predefined::WIN_NULL => {
            Err(MpiError::arg(class::ERR_WIN, "win", "MPI_WIN_NULL"))
        }
        None => Err(MpiError::arg(
            class::ERR_WIN,
            "win",
            format!("invalid window handle {h:#x}"),
        )),
    }
}

fn size_arg(size: i64) -> Result<u64, MpiError> {
    if size < 0 {
        return Err(MpiError::arg(
            class::ERR_SIZE,
            "size",
            format!("negative window size {size}"),
        ));
    }
    Ok(size as u64)
}

fn disp_unit_arg(d: i64) -> Result<i64, MpiError> {
    if d <= 0 {
        return Err(MpiError::arg(
            class::ERR_DISP,
            "disp_unit",
            format!("displacement unit {d} must be positive"),
        ));
    }
    Ok(d)
}

/// The address-0 pointer: the base of a dynamic window (displacements are addresses) and
/// of memory of size 0.
fn null_ptr() -> UserPtr {
    // SAFETY: nothing is accessed through address 0 except at offsets the window checked:
    // inside regions the user attached (dynamic windows, Win::in_range), or none at all for
    // a window of size 0.
    unsafe { UserPtr::new(std::ptr::null()) }
}

/// Registers a new window and stores its handle.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn publish(w: Arc<Win>, out: *mut c_int) -> Result<(), MpiError> {
    let h = WINS.insert(w);
    // SAFETY: `out` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(out, h, "win") }
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn create(
    ctx: &mut Ctx,
    base: *mut c_void,
    size: i64,
    disp_unit: i64,
    info: c_int,
    comm: c_int,
    win: *mut c_int,
) -> Result<(), MpiError> {
    let c = super::comm::get(ctx, comm)?;
    let size = size_arg(size)?;
    let disp_unit = disp_unit_arg(disp_unit)?;
    let user = super::info::get_or_empty(info, "info")?;
    // SAFETY: `win` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(win, predefined::WIN_NULL, "win") }?;
    // SAFETY: MPI's contract: `base` holds `size` bytes that stay valid until the window is
    // freed; only offsets checked against `size` are accessed.
    let p = unsafe { UserPtr::new(base as *const u8) };
    let wc = Win::dup_comm(&c)?;
    let w = Win::build(
        wc,
        Flavor::Create,
        Memory::User(p),
        size,
        disp_unit,
        Hints::from_info(&user),
    )?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(w, win) }
}

mpi_fn!(MPI_Win_create, PMPI_Win_create, (base: *mut c_void, size: Aint, disp_unit: c_int, info: c_int, comm: c_int, win: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create(ctx, base, size as i64, disp_unit as i64, info, comm, win) }
});

mpi_fn!(MPI_Win_create_c, PMPI_Win_create_c, (base: *mut c_void, size: Aint, disp_unit: Aint, info: c_int, comm: c_int, win: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create(ctx, base, size as i64, disp_unit as i64, info, comm, win) }
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn allocate(
    ctx: &mut Ctx,
    size: i64,
    disp_unit: i64,
    info: c_int,
    comm: c_int,
    baseptr: *mut c_void,
    win: *mut c_int,
    shared: bool,
) -> Result<(), MpiError> {
    let c = super::comm::get(ctx, comm)?;
    let size = size_arg(size)?;
    let disp_unit = disp_unit_arg(disp_unit)?;
    let user = super::info::get_or_empty(info, "info")?;
    // SAFETY: `win` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(win, predefined::WIN_NULL, "win") }?;
    // SAFETY: `baseptr` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(baseptr as *mut usize, 0, "baseptr") }?;
    let i = Hints::from_info(&user);
    let w = if shared {
        crate::rma::shared::allocate(&c, size, disp_unit, i, null_ptr())?
    } else {
        // As MPICH: no memory, a null base.
        let mem = if size == 0 {
            Memory::User(null_ptr())
        } else {
            Memory::Owned(Mapping::anonymous(size as usize).map_err(|e| {
                MpiError::new(
                    class::ERR_NO_MEM,
                    format!("cannot allocate {size} bytes: {e}"),
                )
            })?)
        };
        let wc = Win::dup_comm(&c)?;
        Win::build(wc, Flavor::Allocate, mem, size, disp_unit, i)?
    };
    // SAFETY: `baseptr` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(baseptr as *mut usize, w.base.addr(), "baseptr") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(w, win) }
}

mpi_fn!(MPI_Win_allocate, PMPI_Win_allocate, (size: Aint, disp_unit: c_int, info: c_int, comm: c_int, baseptr: *mut c_void, win: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { allocate(ctx, size as i64, disp_unit as i64, info, comm, baseptr, win, false) }
});

mpi_fn!(MPI_Win_allocate_c, PMPI_Win_allocate_c, (size: Aint, disp_unit: Aint, info: c_int, comm: c_int, baseptr: *mut c_void, win: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { allocate(ctx, size as i64, disp_unit as i64, info, comm, baseptr, win, false) }
});

mpi_fn!(MPI_Win_allocate_shared, PMPI_Win_allocate_shared, (size: Aint, disp_unit: c_int, info: c_int, comm: c_int, baseptr: *mut c_void, win: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { allocate(ctx, size as i64, disp_unit as i64, info, comm, baseptr, win, true) }
});

mpi_fn!(MPI_Win_allocate_shared_c, PMPI_Win_allocate_shared_c, (size: Aint, disp_unit: Aint, info: c_int, comm: c_int, baseptr: *mut c_void, win: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { allocate(ctx, size as i64, disp_unit as i64, info, comm, baseptr, win, true) }
});

mpi_fn!(MPI_Win_create_dynamic, PMPI_Win_create_dynamic, (info: c_int, comm: c_int, win: *mut c_int), |ctx| {
    let c = super::comm::get(ctx, comm)?;
    let user = super::info::get_or_empty(info, "info")?;
    // SAFETY: `win` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(win, predefined::WIN_NULL, "win") }?;
    // Displacements of a dynamic window are absolute addresses: its base is address 0.
    let wc = Win::dup_comm(&c)?;
    let w = Win::build(wc, Flavor::Dynamic, Memory::Dynamic(null_ptr()), 0, 1, Hints::from_info(&user))?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(w, win) }
});

mpi_fn!(MPI_Win_attach, PMPI_Win_attach, (win: c_int, base: *mut c_void, size: Aint), |ctx| {
    let w = get(ctx, win)?;
    let size = size_arg(size as i64)?;
    if base.is_null() && size > 0 {
        return Err(MpiError::arg(class::ERR_BASE, "base", "null base address"));
    }
    w.attach(base as usize, size as usize)
});

mpi_fn!(MPI_Win_detach, PMPI_Win_detach, (win: c_int, base: *const c_void), |ctx| {
    let w = get(ctx, win)?;
    w.detach(base as usize)
});

mpi_fn!(MPI_Win_free, PMPI_Win_free, (win: *mut c_int), |ctx| {
    // SAFETY: `win` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(win, "win") }?;
    let w = get(ctx, h)?;
    w.free()?;
    super::attr::delete_all(h, &w.attrs)?;
    WINS.remove(h);
    // SAFETY: `win` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(win, predefined::WIN_NULL, "win") }
});

mpi_fn!(MPI_Win_get_group, PMPI_Win_get_group, (win: c_int, group: *mut c_int), |ctx| {
    let w = get(ctx, win)?;
    // SAFETY: `group` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(group, super::group::handle_of((*w.comm.group).clone()), "group") }
});

mpi_fn!(MPI_Win_set_name, PMPI_Win_set_name, (win: c_int, win_name: *const c_char), |ctx| {
    let w = get(ctx, win)?;
    // SAFETY: `win_name` is the C caller's, null or valid for this use (MPI contract).
    let s = unsafe { arg::cstr(win_name, "win_name") }?;
    let max = super::consts::MAX_OBJECT_NAME - 1;
    let mut n = s.len().min(max);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    *w.name.lock() = s[..n].to_string();
    Ok(())
});

mpi_fn!(MPI_Win_get_name, PMPI_Win_get_name, (win: c_int, win_name: *mut c_char, resultlen: *mut c_int), |ctx| {
    let cap = super::consts::MAX_OBJECT_NAME;
    if win == predefined::WIN_NULL {
        // As MPICH: the null handle has a name of its own.
        // SAFETY: `win_name` is the C caller's, null or valid for this use (MPI contract).
        return unsafe { arg::write_str(win_name, cap, "MPI_WIN_NULL", resultlen, "win_name") };
    }
    let w = get(ctx, win)?;
    let name = w.name.lock().clone();
    // SAFETY: `win_name` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write_str(win_name, cap, &name, resultlen, "win_name") }
});

mpi_fn!(MPI_Win_set_info, PMPI_Win_set_info, (win: c_int, info: c_int) , |ctx| {
    let w = get(ctx, win)?;
    let user = super::info::get_or_empty(info, "info")?;
    w.hints.lock().update(&user);
    Ok(())
});

mpi_fn!(MPI_Win_get_info, PMPI_Win_get_info, (win: c_int, info_used: *mut c_int), |ctx| {
    let w = get(ctx, win)?;
    let i = w.hints.lock().to_info();
    // SAFETY: `info_used` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info_used, super::info::new_handle(i), "info_used") }
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn shared_query(
    ctx: &mut Ctx,
    win: c_int,
    rank: c_int,
    size: *mut Aint,
    disp_unit: impl FnOnce(i64) -> Result<(), MpiError>,
    baseptr: *mut c_void,
) -> Result<(), MpiError> {
    let w = get(ctx, win)?;
    let n = w.size_of_group();
    // MPI_PROC_NULL: the lowest rank whose window has memory (rank 0 when none has).
    let r = if rank == PROC_NULL {
        (0..n).find(|&r| w.peers[r].size > 0).unwrap_or(0)
    } else if rank >= 0 && (rank as usize) < n {
        rank as usize
    } else {
        return Err(MpiError::arg(
            class::ERR_RANK,
            "rank",
            format!("invalid rank {rank} (window group size {n})"),
        ));
    };
    let (s, d, b) = w.shared_query(r)?;
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, s as Aint, "size") }?;
    disp_unit(d)?;
    // SAFETY: `baseptr` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(baseptr as *mut usize, b, "baseptr") }
}

mpi_fn!(MPI_Win_shared_query, PMPI_Win_shared_query, (win: c_int, rank: c_int, size: *mut Aint, disp_unit: *mut c_int, baseptr: *mut c_void), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { shared_query(ctx, win, rank, size, |d| arg::write(disp_unit, d as c_int, "disp_unit"), baseptr) }
});

mpi_fn!(MPI_Win_shared_query_c, PMPI_Win_shared_query_c, (win: c_int, rank: c_int, size: *mut Aint, disp_unit: *mut Aint, baseptr: *mut c_void), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { shared_query(ctx, win, rank, size, |d| arg::write(disp_unit, d as Aint, "disp_unit"), baseptr) }
});

// ---- communication ----

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
    Ok(match super::datatype::get(dt, arg)? {
        super::datatype::DtRef::Builtin(d) => TypeKeep::Static(d),
        super::datatype::DtRef::User(d) => TypeKeep::Shared(d),
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
            tag: super::consts::ANY_TAG,
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
    PredefOp::from_handle(op).ok_or_else(|| {
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
    if PredefOp::from_handle(op) == Some(PredefOp::NoOp) {
        let byte = crate::datatype::byte();
        return Ok(Data::new(UserPtr::of::<u8>(&[]), 0, TypeKeep::Static(byte)));
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

// ---- synchronization ----

/// The window ranks of the processes of group handle `group`.
fn group_ranks(w: &Win, group: c_int) -> Result<Vec<usize>, MpiError> {
    let g = super::group::get(group, "group")?;
    sync::ranks_of(w, &g.procs)
}

/// A rank argument of the lock/flush calls (MPI_PROC_NULL: nothing to do).
fn sync_rank(w: &Win, rank: c_int) -> Result<Option<usize>, MpiError> {
    if rank == PROC_NULL {
        return Ok(None);
    }
    if rank < 0 || rank as usize >= w.size_of_group() {
        return Err(MpiError::arg(
            class::ERR_RANK,
            "rank",
            format!(
                "invalid rank {rank} (window group size {})",
                w.size_of_group()
            ),
        ));
    }
    Ok(Some(rank as usize))
}

mpi_fn!(MPI_Win_fence, PMPI_Win_fence, (assert: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::fence(&w, assert)
});

mpi_fn!(MPI_Win_post, PMPI_Win_post, (group: c_int, assert: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    let ranks = group_ranks(&w, group)?;
    sync::post(&w, ranks, assert)
});

mpi_fn!(MPI_Win_start, PMPI_Win_start, (group: c_int, assert: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    let ranks = group_ranks(&w, group)?;
    sync::start(&w, ranks, assert)
});

mpi_fn!(MPI_Win_complete, PMPI_Win_complete, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::complete(&w)
});

mpi_fn!(MPI_Win_wait, PMPI_Win_wait, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::wait(&w)
});

mpi_fn!(MPI_Win_test, PMPI_Win_test, (win: c_int, flag: *mut c_int), |ctx| {
    let w = get(ctx, win)?;
    let done = sync::test(&w)?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, done as c_int, "flag") }
});

mpi_fn!(MPI_Win_lock, PMPI_Win_lock, (lock_type: c_int, rank: c_int, assert: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    if lock_type != sync::LOCK_EXCLUSIVE_C && lock_type != sync::LOCK_SHARED_C {
        return Err(MpiError::arg(class::ERR_LOCKTYPE, "lock_type", format!("invalid lock type {lock_type}")));
    }
    match sync_rank(&w, rank)? {
        Some(r) => sync::lock(&w, lock_type, r, assert),
        None => Ok(()),
    }
});

mpi_fn!(MPI_Win_unlock, PMPI_Win_unlock, (rank: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    match sync_rank(&w, rank)? {
        Some(r) => sync::unlock(&w, r),
        None => Ok(()),
    }
});

mpi_fn!(MPI_Win_lock_all, PMPI_Win_lock_all, (assert: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::lock_all(&w, assert)
});

mpi_fn!(MPI_Win_unlock_all, PMPI_Win_unlock_all, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::unlock_all(&w)
});

mpi_fn!(MPI_Win_flush, PMPI_Win_flush, (rank: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    match sync_rank(&w, rank)? {
        Some(r) => sync::flush(&w, Some(r)),
        None => Ok(()),
    }
});

mpi_fn!(MPI_Win_flush_all, PMPI_Win_flush_all, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::flush(&w, None)
});

mpi_fn!(MPI_Win_flush_local, PMPI_Win_flush_local, (rank: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    match sync_rank(&w, rank)? {
        Some(r) => sync::flush_local(&w, Some(r)),
        None => Ok(()),
    }
});

mpi_fn!(MPI_Win_flush_local_all, PMPI_Win_flush_local_all, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::flush_local(&w, None)
});

mpi_fn!(MPI_Win_sync, PMPI_Win_sync, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::sync(&w)
});

// ---- memory ----

mpi_fn!(MPI_Alloc_mem, PMPI_Alloc_mem, (size: Aint, info: c_int, baseptr: *mut c_void), |_ctx| {
    runtime::rt()?;
    let size = size_arg(size as i64)?;
    super::info::get_or_empty(info, "info")?;
    let addr = crate::rma::alloc::alloc(size as usize)?;
    // SAFETY: `baseptr` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(baseptr as *mut usize, addr, "baseptr") }
});

mpi_fn!(MPI_Free_mem, PMPI_Free_mem, (base: *mut c_void), |_ctx| {
    runtime::rt()?;
    if base.is_null() {
        return Ok(());
    }
    crate::rma::alloc::free(base as usize)
});
