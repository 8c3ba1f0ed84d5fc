//! Raising errors: error codes, and dispatch through the errhandler of the object involved.
//!
//! A raised error gets its own code: the class in the low 7 bits and a slot of a ring of
//! recent messages above, so MPI_Error_string can give back the full message (which
//! argument, why) for a code returned under MPI_ERRORS_RETURN, as MPICH does.

use super::{Ctx, Target};
use crate::error::{class, class_string, MpiError};
use crate::object::errhandler::Errhandler;
use crate::runtime;
use parking_lot::Mutex;
use std::os::raw::c_int;

const RING: usize = 1024;
const CLASS_BITS: u32 = 7;

struct Recent {
    next: usize,
    msgs: Vec<(c_int, String)>,
}

static RECENT: Mutex<Recent> = Mutex::new(Recent {
    next: 0,
    msgs: Vec::new(),
});

/// A fresh error code for `e`, remembering its message.
fn new_code(e: &MpiError, func: &str) -> c_int {
    let mut r = RECENT.lock();
    if r.msgs.is_empty() {
        r.msgs = vec![(0, String::new()); RING];
    }
    let slot = r.next;
    r.next = (r.next + 1) % RING;
    let code = e.class | (((slot + 1) as c_int) << CLASS_BITS);
    r.msgs[slot] = (code, format!("{func}: {}", e.message));
    code
}

/// The error class of a code returned by this library (user-defined codes are handled by
/// the errhandler chapter before calling this).
pub fn class_of(code: c_int) -> c_int {
    if (0..=class::LAST_CLASS).contains(&code) {
        code
    } else {
        code & ((1 << CLASS_BITS) - 1)
    }
}

/// The message of a code: the class text, plus the specific message if we still have it.
pub fn string_of(code: c_int) -> Option<String> {
    let c = class_of(code);
    if code < 0 || c > class::LAST_CLASS {
        return None;
    }
    let base = class_string(c);
    if code == c {
        return Some(base.to_string());
    }
    let slot = ((code >> CLASS_BITS) - 1) as usize;
    let r = RECENT.lock();
    match r.msgs.get(slot) {
        Some((k, m)) if *k == code => Some(format!("{base}, error stack:\n{m}")),
        _ => Some(base.to_string()),
    }
}

fn handler_of(t: Target) -> Errhandler {
    let Some(rt) = runtime::get() else {
        return Errhandler::Fatal;
    };
    match t {
        Target::Comm(h) => match super::comm::lookup(h) {
            Some(c) => c.errhandler.lock().clone(),
            None => rt.self_comm.errhandler.lock().clone(),
        },
        _ => rt.self_comm.errhandler.lock().clone(),
    }
}

/// Turns `e` into an error code and applies the errhandler of `ctx.target`. Returns the
/// code for MPI_ERRORS_RETURN and user handlers; ends the job for the fatal ones.
#[cold]
pub fn raise(ctx: &Ctx, e: MpiError) -> c_int {
    let code = new_code(&e, ctx.func);
    match handler_of(ctx.target) {
        Errhandler::Return => code,
        Errhandler::Fatal | Errhandler::Abort => {
            let rank = runtime::get()
                .map(|r| format!(" (rank {})", r.rank))
                .unwrap_or_default();
            let msg = format!(
                "Fatal error in {}{rank}: {}: {}",
                ctx.func,
                e.message,
                class_string(e.class)
            );
            eprintln!("{msg}");
            runtime::abort(1, "")
        }
        Errhandler::User { func, .. } => {
            let mut handle: c_int = match ctx.target {
                Target::Comm(h) | Target::Win(h) | Target::Session(h) => h,
                Target::File(h) => h as c_int,
                Target::Default => crate::handle::predefined::COMM_SELF,
            };
            let mut c = code;
            // SAFETY: `func` was registered by the user as an errhandler function of this
            // object kind: void f(Handle *, int *, ...).
            let f: unsafe extern "C" fn(*mut c_int, *mut c_int, ...) =
                unsafe { std::mem::transmute(func) };
            unsafe { f(&mut handle, &mut c) };
            code
        }
    }
}
