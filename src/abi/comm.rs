//! Communicator handles, and the communicator calls the foundation needs.

use super::ptr;
use super::Ctx;
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::mpi_fn;
use crate::object::comm::Comm;
use crate::object::errhandler::Errhandler;
use crate::runtime;
use std::ops::Deref;
use std::os::raw::c_int;
use std::sync::Arc;

/// User communicators.
pub static COMMS: HandleTable<Comm> = HandleTable::new(obj::COMM);

pub enum CommRef {
    Static(&'static Comm),
    Shared(Arc<Comm>),
}

impl Deref for CommRef {
    type Target = Comm;
    #[inline]
    fn deref(&self) -> &Comm {
        match self {
            CommRef::Static(c) => c,
            CommRef::Shared(c) => c,
        }
    }
}

/// The communicator behind `h`, if it is valid (no error raised).
#[inline]
pub fn lookup(h: c_int) -> Option<CommRef> {
    let rt = runtime::get()?;
    match h {
        predefined::COMM_WORLD => Some(CommRef::Static(&rt.world)),
        predefined::COMM_SELF => Some(CommRef::Static(&rt.self_comm)),
        _ => COMMS.get(h).map(CommRef::Shared),
    }
}

/// Resolves argument `comm`; errors raised after this go to its errhandler.
#[inline]
pub fn get(ctx: &mut Ctx, h: c_int) -> Result<CommRef, MpiError> {
    runtime::rt()?;
    match lookup(h) {
        Some(c) => {
            ctx.on_comm(h);
            Ok(c)
        }
        None if h == predefined::COMM_NULL => {
            Err(MpiError::arg(class::ERR_COMM, "comm", "MPI_COMM_NULL"))
        }
        None => Err(MpiError::arg(
            class::ERR_COMM,
            "comm",
            format!("invalid communicator handle {h:#x}"),
        )),
    }
}

mpi_fn!(MPI_Comm_rank, PMPI_Comm_rank, (comm: c_int, rank: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    ptr::write(rank, c.rank as c_int, "rank")
});

mpi_fn!(MPI_Comm_size, PMPI_Comm_size, (comm: c_int, size: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    ptr::write(size, c.size() as c_int, "size")
});

/// The errhandler behind a handle: a predefined one, or a user one (errhandler chapter).
pub fn errhandler_of(h: c_int) -> Result<Errhandler, MpiError> {
    match h {
        predefined::ERRORS_ARE_FATAL => Ok(Errhandler::Fatal),
        predefined::ERRORS_RETURN | predefined::ERRORS_THROW_EXCEPTIONS => Ok(Errhandler::Return),
        predefined::ERRORS_ABORT => Ok(Errhandler::Abort),
        _ => super::errhandler::ERRHANDLERS
            .get(h)
            .map(|e| (*e).clone())
            .ok_or_else(|| {
                MpiError::arg(
                    class::ERR_ARG,
                    "errhandler",
                    format!("invalid errhandler handle {h:#x}"),
                )
            }),
    }
}

/// The handle of an errhandler value (predefined ones have fixed handles; a user one is
/// registered anew, as MPI_Comm_get_errhandler returns a new reference).
pub fn errhandler_handle(e: &Errhandler) -> c_int {
    match e {
        Errhandler::Fatal => predefined::ERRORS_ARE_FATAL,
        Errhandler::Return => predefined::ERRORS_RETURN,
        Errhandler::Abort => predefined::ERRORS_ABORT,
        Errhandler::User { .. } => super::errhandler::ERRHANDLERS.insert(Arc::new(e.clone())),
    }
}

mpi_fn!(MPI_Comm_set_errhandler, PMPI_Comm_set_errhandler, (comm: c_int, errhandler: c_int), |ctx| {
    let c = get(ctx, comm)?;
    let e = errhandler_of(errhandler)?;
    if let Errhandler::User { kind, .. } = e {
        if kind != crate::object::errhandler::ErrhandlerKind::Comm {
            return Err(MpiError::arg(class::ERR_ARG, "errhandler", "not a communicator errhandler"));
        }
    }
    *c.errhandler.lock() = e;
    Ok(())
});

mpi_fn!(MPI_Comm_get_errhandler, PMPI_Comm_get_errhandler, (comm: c_int, errhandler: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    let e = c.errhandler.lock().clone();
    ptr::write(errhandler, errhandler_handle(&e), "errhandler")
});
