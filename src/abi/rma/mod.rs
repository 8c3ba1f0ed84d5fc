//! One-sided communication (MPI 4.1 chapter 12): window handles, creation in every flavor,
//! the communication calls, synchronization, window queries, MPI_Alloc_mem. Each call
//! checks its arguments and calls `crate::rma`. Errors go through the window's errhandler
//! once the window argument is known (the communicator's for the creation calls).
//!
//! Here: window handles, creation, queries and MPI_Alloc_mem; the communication calls are
//! in `access`, synchronization in `sync`.

#![deny(unsafe_op_in_unsafe_fn)]

mod access;
mod synchronization;
pub use access::*;
pub use synchronization::*;

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
    // MPICH's order: the handles (comm, info) before the values (size, disp_unit).
    let c = super::comm::get(ctx, comm)?;
    let user = super::info::get_or_empty(info, "info")?;
    let size = size_arg(size)?;
    let disp_unit = disp_unit_arg(disp_unit)?;
    // SAFETY: `win` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(win, predefined::WIN_NULL, "win") }?;
    // SAFETY: MPI's contract: `base` holds `size` bytes that stay valid until the window is
    // freed; only offsets checked against `size` are accessed.
    let p = unsafe { UserPtr::new(base as *const u8) };
    let wc = Win::dup_comm(crate::runtime::rt()?, &c)?;
    let w = Win::build(
        crate::runtime::rt()?,
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
    // MPICH's order: the handles (comm, info) before the values (size, disp_unit).
    let c = super::comm::get(ctx, comm)?;
    let user = super::info::get_or_empty(info, "info")?;
    let size = size_arg(size)?;
    let disp_unit = disp_unit_arg(disp_unit)?;
    // SAFETY: `win` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(win, predefined::WIN_NULL, "win") }?;
    // SAFETY: `baseptr` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(baseptr as *mut usize, 0, "baseptr") }?;
    let i = Hints::from_info(&user);
    let w = if shared {
        crate::rma::shared::allocate(crate::runtime::rt()?, &c, size, disp_unit, i, null_ptr())?
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
        let wc = Win::dup_comm(crate::runtime::rt()?, &c)?;
        Win::build(
            crate::runtime::rt()?,
            wc,
            Flavor::Allocate,
            mem,
            size,
            disp_unit,
            i,
        )?
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
    let wc = Win::dup_comm(crate::runtime::rt()?, &c)?;
    let w = Win::build(crate::runtime::rt()?, wc, Flavor::Dynamic, Memory::Dynamic(null_ptr()), 0, 1, Hints::from_info(&user))?;
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
