//! Raising errors: error codes, and dispatch through the errhandler of the object involved.
//!
//! A raised error gets its own code: the class in the low 7 bits and a slot of a ring of
//! recent messages above, so MPI_Error_string can give back the full message (which
//! argument, why) for a code returned under MPI_ERRORS_RETURN, as MPICH does.

#![deny(unsafe_op_in_unsafe_fn)]

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

/// User-defined classes and codes (MPI_Add_error_class/code) have this bit set, as in
/// MPICH; below it lie the predefined classes and the codes `new_code` makes.
pub const DYN_BIT: c_int = 0x4000_0000;

/// A user-defined class or code.
struct UserCode {
    /// The class of a code (a class is its own class).
    class: c_int,
    string: String,
}

struct UserErrors {
    next: c_int,
    codes: std::collections::BTreeMap<c_int, UserCode>,
}

static USER: Mutex<UserErrors> = Mutex::new(UserErrors {
    next: 1,
    codes: std::collections::BTreeMap::new(),
});

/// Largest code in use (the MPI_LASTUSEDCODE attribute), kept in an int whose address the
/// attribute hands out.
pub static LAST_USED_CODE: std::sync::atomic::AtomicI32 =
    std::sync::atomic::AtomicI32::new(class::ERR_LASTCODE);

/// MPI_Add_error_class: a new class.
pub fn add_class() -> c_int {
    let mut u = USER.lock();
    let c = DYN_BIT | u.next;
    u.next += 1;
    u.codes.insert(
        c,
        UserCode {
            class: c,
            string: String::new(),
        },
    );
    LAST_USED_CODE.fetch_max(c, std::sync::atomic::Ordering::Relaxed);
    c
}

/// MPI_Add_error_code: a new code of class `cls` (predefined or user-defined).
pub fn add_code(cls: c_int) -> Result<c_int, MpiError> {
    let mut u = USER.lock();
    let valid =
        (0..=class::LAST_CLASS).contains(&cls) || u.codes.get(&cls).is_some_and(|e| e.class == cls);
    if !valid {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "errorclass",
            format!("{cls} is not an error class"),
        ));
    }
    let c = DYN_BIT | u.next;
    u.next += 1;
    u.codes.insert(
        c,
        UserCode {
            class: cls,
            string: String::new(),
        },
    );
    LAST_USED_CODE.fetch_max(c, std::sync::atomic::Ordering::Relaxed);
    Ok(c)
}

/// MPI_Add_error_string: only user-defined classes and codes take a string.
pub fn set_string(code: c_int, s: &str) -> Result<(), MpiError> {
    match USER.lock().codes.get_mut(&code) {
        Some(e) => {
            e.string = s.to_string();
            Ok(())
        }
        None => Err(MpiError::arg(
            class::ERR_ARG,
            "errorcode",
            format!("{code} is not a user-defined error code or class"),
        )),
    }
}

/// MPI_Remove_error_class (MPI 5.0 §9.5): only a user class with no codes and no string
/// left — removing one that still has either is erroneous, and we report it (MPI_ERR_ARG).
pub fn remove_class(cls: c_int) -> Result<(), MpiError> {
    let mut u = USER.lock();
    if u.codes.get(&cls).is_none_or(|e| e.class != cls) {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "errorclass",
            format!("{cls} is not a user-defined error class"),
        ));
    }
    if u.codes.iter().any(|(&k, e)| k != cls && e.class == cls) {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "errorclass",
            format!("class {cls} still has error codes (remove them first)"),
        ));
    }
    if !u.codes[&cls].string.is_empty() {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "errorclass",
            format!("class {cls} still has an error string (MPI_Remove_error_string first)"),
        ));
    }
    u.codes.remove(&cls);
    Ok(())
}

/// MPI_Remove_error_code: a user-defined code (not a class) whose string was removed.
pub fn remove_code(code: c_int) -> Result<(), MpiError> {
    let mut u = USER.lock();
    if u.codes.get(&code).is_none_or(|e| e.class == code) {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "errorcode",
            format!("{code} is not a user-defined error code"),
        ));
    }
    if !u.codes[&code].string.is_empty() {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "errorcode",
            format!("code {code} still has an error string (MPI_Remove_error_string first)"),
        ));
    }
    u.codes.remove(&code);
    Ok(())
}

/// MPI_Remove_error_string: forgets the string of a user class or code (predefined ones
/// keep theirs: an error). Removing an absent string is accepted, as setting "" is.
pub fn remove_string(code: c_int) -> Result<(), MpiError> {
    set_string(code, "")
}

/// True if `code` is a valid error code or class (predefined, raised, or user-defined).
pub fn is_valid(code: c_int) -> bool {
    if code & DYN_BIT != 0 {
        return USER.lock().codes.contains_key(&code);
    }
    code >= 0 && known_class(class_of(code))
}

/// A predefined class: the standard's, or one of MPICH's MPIX_ (ULFM) classes.
fn known_class(c: c_int) -> bool {
    (0..=class::LAST_CLASS).contains(&c) || class::MPIX_CLASSES.contains(&c)
}

/// The error class of a code returned by this library or defined by the user.
pub fn class_of(code: c_int) -> c_int {
    if code & DYN_BIT != 0 && code > 0 {
        return USER
            .lock()
            .codes
            .get(&code)
            .map(|e| e.class)
            .unwrap_or(code);
    }
    if known_class(code) {
        code
    } else {
        code & ((1 << CLASS_BITS) - 1)
    }
}

/// The message of a code: the class text, plus the specific message if we still have it.
pub fn string_of(code: c_int) -> Option<String> {
    if code & DYN_BIT != 0 && code > 0 {
        return USER.lock().codes.get(&code).map(|e| e.string.clone());
    }
    let c = class_of(code);
    if code < 0 || !known_class(c) {
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

/// The handler of the object `t` names: its own, or `Unset` (resolved in `dispatch`) when it
/// has none or the handle is invalid — MPICH sends errors on invalid handles, and errors that
/// belong to no object, to the default handler too.
fn handler_of(t: Target) -> Errhandler {
    if runtime::get().is_none() {
        return Errhandler::Fatal;
    }
    match t {
        Target::Comm(h) => super::comm::lookup(h).map(|c| c.own_errhandler()),
        Target::Session(h) => super::session::SESSIONS
            .get(h)
            .map(|s| s.errhandler.lock().clone()),
        Target::Win(h) => super::rma::lookup(h).map(|w| w.errhandler.lock().clone()),
        // An open file's own errhandler; MPI_FILE_NULL's (the default for files, which
        // MPI_File_open errors reach) otherwise.
        Target::File(h) => Some(
            super::io::lookup(h)
                .map(|f| f.errhandler.lock().clone())
                .unwrap_or_else(super::errhandler::file_default),
        ),
        Target::Default => None,
    }
    .unwrap_or(Errhandler::Unset)
}

/// Turns `e` into an error code and applies the errhandler of `ctx.target`. Returns the
/// code for MPI_ERRORS_RETURN and user handlers; ends the job for the fatal ones.
#[cold]
pub fn raise(ctx: &Ctx, e: MpiError) -> c_int {
    let code = new_code(&e, ctx.func);
    dispatch(ctx.func, ctx.target, handler_of(ctx.target), code, &e)
}

/// MPI_*_call_errhandler: applies `handler` (the errhandler of `target`) to an existing
/// `code`, as if the error had happened in `func`.
pub fn call_handler(func: &str, target: Target, handler: Errhandler, code: c_int) -> c_int {
    let msg = string_of(code).unwrap_or_default();
    let e = MpiError::new(class_of(code), msg);
    dispatch(func, target, handler, code, &e)
}

fn dispatch(func: &str, target: Target, handler: Errhandler, code: c_int, e: &MpiError) -> c_int {
    // An unset handler is chosen now (MPICH's dynamic default); a user handler found that way
    // is called with the communicator it belongs to.
    let (handler, target) = match handler {
        Errhandler::Unset => match super::comm::default_errhandler() {
            Some((h, comm)) => (h, Target::Comm(comm)),
            None => (Errhandler::Fatal, target),
        },
        h => (h, target),
    };
    match handler {
        Errhandler::Return => code,
        // (`Unset` was resolved above: `default_errhandler` never gives it.)
        Errhandler::Fatal | Errhandler::Abort | Errhandler::Unset => {
            let rank = runtime::get()
                .map(|r| format!(" (rank {})", r.rank))
                .unwrap_or_default();
            let msg = format!(
                "Fatal error in {}{rank}: {}: {}",
                func,
                e.message,
                class_string_any(e.class)
            );
            eprintln!("{msg}");
            runtime::abort(1, "")
        }
        Errhandler::User { func, .. } => {
            let mut c = code;
            if let Target::File(h) = target {
                // MPI_File is a pointer in MPICH's ABI: the handler gets an MPI_File *.
                let mut handle: usize = h;
                // SAFETY: `func` was registered by the user as a file errhandler function:
                // void f(MPI_File *, int *, ...).
                let f: unsafe extern "C" fn(*mut usize, *mut c_int, ...) =
                    unsafe { std::mem::transmute(func) };
                // SAFETY: the user's callback, called with the arguments its MPI signature takes.
                unsafe { f(&mut handle, &mut c) };
                return code;
            }
            let mut handle: c_int = match target {
                Target::Comm(h) | Target::Win(h) | Target::Session(h) => h,
                // (Files returned above.)
                Target::File(_) | Target::Default => crate::handle::predefined::COMM_SELF,
            };
            // SAFETY: `func` was registered by the user as an errhandler function of this
            // object kind: void f(Handle *, int *, ...).
            let f: unsafe extern "C" fn(*mut c_int, *mut c_int, ...) =
                unsafe { std::mem::transmute(func) };
            // SAFETY: the user's callback, called with the arguments its MPI signature takes.
            unsafe { f(&mut handle, &mut c) };
            code
        }
    }
}

/// The text of a class, predefined or user-defined.
fn class_string_any(c: c_int) -> String {
    if c & DYN_BIT != 0 {
        return string_of(c).unwrap_or_default();
    }
    class_string(c).to_string()
}
