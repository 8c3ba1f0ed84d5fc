//! The tool information interface's core (MPI 4.1 chapter 15, MPI_T): control variables
//! (the library's settings, `settings`), performance variables (the engine's counters,
//! `counters` and `pvar`), categories, and events with callbacks.
//!
//! `abi::mpit` is its C face. This layer knows no C type: handles are ids, callbacks are
//! closures, values are Rust enums. The layers below only bump `counters` and call
//! `event::emit`, which costs one atomic load when no tool listens.
//!
//! MPI_T may be initialized before MPI_Init and after MPI_Finalize, any number of times;
//! each MPI_T_init_thread needs its MPI_T_finalize, and the last one frees every session,
//! handle and registration (as MPI 4.1 §15.3.4 requires).

pub mod category;
pub mod counters;
pub mod cvar;
pub mod event;
pub mod pvar;

use std::sync::atomic::{AtomicU32, Ordering};

/// Why an MPI_T call failed (abi turns these into MPI_T_ERR_* codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolError {
    NotInitialized,
    InvalidIndex,
    InvalidName,
    InvalidHandle,
    InvalidSession,
    CvarSetNotNow,
    PvarNoStartStop,
    PvarNoWrite,
    /// A value or argument MPI_T rejects (MPI_T_ERR_INVALID).
    Invalid,
}

static INITS: AtomicU32 = AtomicU32::new(0);

/// MPI_T_init_thread: one more initialization.
pub fn init() {
    INITS.fetch_add(1, Ordering::AcqRel);
}

/// MPI_T_finalize: the last one frees every session, handle and registration.
pub fn finalize() -> Result<(), ToolError> {
    let prev = INITS
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .map_err(|_| ToolError::NotInitialized)?;
    if prev == 1 {
        cvar::clear();
        pvar::clear();
        event::clear();
    }
    Ok(())
}

/// Every MPI_T call but init checks this first.
pub fn check_init() -> Result<(), ToolError> {
    if INITS.load(Ordering::Acquire) == 0 {
        Err(ToolError::NotInitialized)
    } else {
        Ok(())
    }
}
