//! MPI_T, the tool information interface (MPI 4.1 chapter 15): the C face of `crate::tool`.
//!
//! MPI_T calls do not go through error handlers: they return MPI_T_ERR_* (or MPI_ERR_ARG
//! for a null output argument, as MPICH does) to the caller. [`mpit_fn!`] gives every
//! export its PMPI twin and the panic boundary. MPI_T handles are C pointers; here they are
//! the ids `tool` hands out, never dereferenced. Strings follow MPICH's convention: with a
//! null buffer or a zero length, the length needed (NUL included) is returned; otherwise
//! the string is truncated to fit and the length written (NUL included) returned.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg as ptr;
use crate::error::class;
use crate::object::info::Info;
use crate::settings::{Kind, Value};
use crate::tool::{self, category, cvar, event, pvar, ToolError};
use std::ffi::c_void;
use std::os::raw::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Datatype handles MPI_T describes values with (MPICH's values).
mod dt {
    pub const CHAR: i32 = 0x4c000101;
    pub const INT: i32 = 0x4c000405;
    pub const DOUBLE: i32 = 0x4c00080b;
    pub const UNSIGNED_LONG_LONG: i32 = 0x4c000819;
    pub const COUNT: i32 = 0x4c000845;
}

// Values of the MPI_T enumerations in mpi.h.
const VERBOSITY_USER_BASIC: c_int = 221;
const VERBOSITY_TUNER_BASIC: c_int = 224;
const VERBOSITY_TUNER_DETAIL: c_int = 225;
const BIND_NO_OBJECT: c_int = 9700;
const SCOPE_CONSTANT: c_int = 60438;
const SCOPE_LOCAL: c_int = 60440;
const PVAR_CLASS_LEVEL: c_int = 241;
const PVAR_CLASS_HIGHWATERMARK: c_int = 244;
const PVAR_CLASS_COUNTER: c_int = 246;
const PVAR_CLASS_TIMER: c_int = 248;
const SOURCE_ORDERED: c_int = 0;

/// Why a call failed: an MPI_T_ERR_* or MPI_ERR_* code.
struct Fail(c_int);

impl From<ToolError> for Fail {
    fn from(e: ToolError) -> Fail {
        Fail(match e {
            ToolError::NotInitialized => class::T_ERR_NOT_INITIALIZED,
            ToolError::InvalidIndex => class::T_ERR_INVALID_INDEX,
            ToolError::InvalidName => class::T_ERR_INVALID_NAME,
            ToolError::InvalidHandle => class::T_ERR_INVALID_HANDLE,
            ToolError::InvalidSession => class::T_ERR_INVALID_SESSION,
            ToolError::CvarSetNotNow => class::T_ERR_CVAR_SET_NOT_NOW,
            ToolError::PvarNoStartStop => class::T_ERR_PVAR_NO_STARTSTOP,
            ToolError::PvarNoWrite => class::T_ERR_PVAR_NO_WRITE,
            ToolError::Invalid => class::T_ERR_INVALID,
        })
    }
}

impl From<crate::error::MpiError> for Fail {
    fn from(e: crate::error::MpiError) -> Fail {
        Fail(e.class)
    }
}

type R = Result<(), Fail>;

/// Runs an MPI_T body: its error code, or MPI_ERR_INTERN for a panic.
#[inline(always)]
fn run(body: impl FnOnce() -> R) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => 0,
        Ok(Err(Fail(code))) => code,
        Err(_) => class::ERR_INTERN,
    }
}

/// Like `mpi_fn!` for MPI_T: `PMPI_T_x` runs the body (after checking MPI_T is initialized
/// unless marked `uninit`), `MPI_T_x` forwards to it.
macro_rules! mpit_fn {
    ($mpi:ident, $pmpi:ident, ($($a:ident : $t:ty),* $(,)?), $body:block) => {
        mpit_fn!(@emit $mpi, $pmpi, ($($a: $t),*), {
            tool::check_init()?;
            $body
        });
    };
    (uninit $mpi:ident, $pmpi:ident, ($($a:ident : $t:ty),* $(,)?), $body:block) => {
        mpit_fn!(@emit $mpi, $pmpi, ($($a: $t),*), $body);
    };
    (@emit $mpi:ident, $pmpi:ident, ($($a:ident : $t:ty),*), $body:block) => {
        #[cfg_attr(not(feature = "std-abi"), no_mangle)]
        #[cfg_attr(feature = "std-abi", export_name = concat!("OXIMPI_MPICH_", stringify!($pmpi)), allow(non_snake_case))]
        pub unsafe extern "C" fn $pmpi($($a: $t),*) -> c_int {
            run(|| $body)
        }
        #[cfg_attr(not(feature = "std-abi"), no_mangle)]
        #[cfg_attr(feature = "std-abi", allow(dead_code, non_snake_case))]
        pub unsafe extern "C" fn $mpi($($a: $t),*) -> c_int {
            // SAFETY: same contract as the PMPI_ function it forwards to.
            unsafe { $pmpi($($a),*) }
        }
    };
}

/// MPICH's string convention (see the module doc) for an IN/OUT length.
///
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn put_str(buf: *mut c_char, len: *mut c_int, s: &str) -> R {
    if len.is_null() {
        // Without a length nothing can be returned (the standard allows NULL for both).
        return Ok(());
    }
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    let cap = unsafe { ptr::read(len as *const c_int, "len") }?;
    if buf.is_null() || cap <= 0 {
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        return Ok(unsafe { ptr::write(len, s.len() as c_int + 1, "len") }?);
    }
    let mut n = 0;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { ptr::write_str(buf, cap as usize, s, &mut n, "name") }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(len, n + 1, "len") }?)
}

/// Writes `v` through `p` unless `p` is null (MPI_T lets callers skip any output).
///
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn put<T>(p: *mut T, v: T) -> R {
    if !p.is_null() {
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        unsafe { ptr::write(p, v, "output") }?;
    }
    Ok(())
}

/// Copies a list of indices into the caller's array of `len` entries.
///
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn put_indices(v: &[usize], len: c_int, out: *mut c_int) -> R {
    if len < 0 {
        return Err(Fail(class::ERR_ARG));
    }
    let n = v.len().min(len as usize);
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    let dst = unsafe { ptr::slice_mut(out, n, "indices") }?;
    for (d, s) in dst.iter_mut().zip(v) {
        *d = *s as c_int;
    }
    Ok(())
}

fn index(i: c_int) -> Result<usize, Fail> {
    usize::try_from(i).map_err(|_| Fail(class::T_ERR_INVALID_INDEX))
}

fn id_of<T>(p: *const T) -> Result<u64, Fail> {
    if p.is_null() {
        return Err(Fail(class::T_ERR_INVALID_HANDLE));
    }
    Ok(p as usize as u64)
}

fn ptr_of<T>(id: u64) -> *mut T {
    id as usize as *mut T
}

fn info_of(h: c_int) -> Result<Info, Fail> {
    Ok(super::info::get_or_empty(h, "info")?)
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn new_info(out: *mut c_int, i: Info) -> R {
    if !out.is_null() {
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        unsafe { ptr::write(out, super::info::new_handle(i), "info_used") }?;
    }
    Ok(())
}

/// The one MPI_T enumeration (the values of a switch); its handle is this static's address.
static SWITCH_ENUM: u8 = 0;

fn switch_enum() -> *mut c_void {
    &SWITCH_ENUM as *const u8 as *mut c_void
}

// ---- initialization ---------------------------------------------------------------------

mpit_fn!(uninit MPI_T_init_thread, PMPI_T_init_thread, (required: c_int, provided: *mut c_int), {
    if !(0..=3).contains(&required) {
        return Err(Fail(class::ERR_ARG));
    }
    tool::init();
    // Every level can be given (the library is thread safe); return the one asked for.
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(provided, required, "provided") }?)
});

mpit_fn!(uninit MPI_T_finalize, PMPI_T_finalize, (), { Ok(tool::finalize()?) });

// ---- control variables ------------------------------------------------------------------

mpit_fn!(MPI_T_cvar_get_num, PMPI_T_cvar_get_num, (num: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(num, cvar::count() as c_int, "num_cvar") }?)
});

mpit_fn!(MPI_T_cvar_get_info, PMPI_T_cvar_get_info, (cvar_index: c_int, name: *mut c_char, name_len: *mut c_int, verbosity: *mut c_int, datatype: *mut c_int, enumtype: *mut *mut c_void, desc: *mut c_char, desc_len: *mut c_int, bind: *mut c_int, scope: *mut c_int), {
    let k = cvar::get(index(cvar_index)?)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(name, name_len, k.name) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(desc, desc_len, k.desc) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(verbosity, VERBOSITY_TUNER_BASIC) }?;
    let (ty, en) = match k.kind {
        Kind::Unsigned => (dt::UNSIGNED_LONG_LONG, std::ptr::null_mut()),
        Kind::Switch => (dt::INT, switch_enum()),
        Kind::Text => (dt::CHAR, std::ptr::null_mut()),
    };
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(datatype, ty) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(enumtype, en) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(bind, BIND_NO_OBJECT) }?;
    // Writable until the layer that uses it has started; then the value is fixed.
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(scope, if k.writable() { SCOPE_LOCAL } else { SCOPE_CONSTANT }) }
});

mpit_fn!(MPI_T_cvar_get_index, PMPI_T_cvar_get_index, (name: *const c_char, cvar_index: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    let n = unsafe { ptr::cstr(name, "name") }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(cvar_index, cvar::index(n)? as c_int, "cvar_index") }?)
});

mpit_fn!(MPI_T_cvar_handle_alloc, PMPI_T_cvar_handle_alloc, (cvar_index: c_int, _obj_handle: *mut c_void, handle: *mut *mut c_void, count: *mut c_int), {
    if handle.is_null() || count.is_null() {
        return Err(Fail(class::ERR_ARG));
    }
    // Every variable is bound to no object: obj_handle is ignored, as the standard says.
    let (id, n) = cvar::handle_alloc(index(cvar_index)?)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { ptr::write(count, n as c_int, "count") }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(handle, ptr_of(id), "handle") }?)
});

mpit_fn!(MPI_T_cvar_handle_free, PMPI_T_cvar_handle_free, (handle: *mut *mut c_void), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { ptr::read(handle as *const *mut c_void, "handle") }?;
    cvar::handle_free(id_of(h)?)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(handle, std::ptr::null_mut(), "handle") }?)
});

mpit_fn!(MPI_T_cvar_read, PMPI_T_cvar_read, (handle: *mut c_void, buf: *mut c_void), {
    let k = cvar::handle_knob(id_of(handle)?)?;
    match cvar::read(k) {
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        Value::Unsigned(n) => Ok(unsafe { ptr::write(buf as *mut u64, n, "buf") }?),
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        Value::Switch(b) => Ok(unsafe { ptr::write(buf as *mut c_int, b as c_int, "buf") }?),
        Value::Text(s) => {
            // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
            Ok(unsafe { ptr::write_str(buf as *mut c_char, cvar::element_count(k), &s, std::ptr::null_mut(), "buf") }?)
        }
    }
});

mpit_fn!(MPI_T_cvar_write, PMPI_T_cvar_write, (handle: *mut c_void, buf: *const c_void), {
    let k = cvar::handle_knob(id_of(handle)?)?;
    let v = match k.kind {
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        Kind::Unsigned => Value::Unsigned(unsafe { ptr::read(buf as *const u64, "buf") }?),
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        Kind::Switch => Value::Switch(unsafe { ptr::read(buf as *const c_int, "buf") }? != 0),
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        Kind::Text => Value::Text(unsafe { ptr::cstr(buf as *const c_char, "buf") }?.to_string()),
    };
    Ok(cvar::write(k, v)?)
});

// ---- enumerations -----------------------------------------------------------------------

fn check_enum(e: *mut c_void) -> R {
    if e != switch_enum() {
        return Err(Fail(class::T_ERR_INVALID_HANDLE));
    }
    Ok(())
}

mpit_fn!(MPI_T_enum_get_info, PMPI_T_enum_get_info, (enumtype: *mut c_void, num: *mut c_int, name: *mut c_char, name_len: *mut c_int), {
    check_enum(enumtype)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(num, cvar::SWITCH_ITEMS.len() as c_int) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(name, name_len, cvar::SWITCH_ENUM_NAME) }
});

mpit_fn!(MPI_T_enum_get_item, PMPI_T_enum_get_item, (enumtype: *mut c_void, indx: c_int, value: *mut c_int, name: *mut c_char, name_len: *mut c_int), {
    check_enum(enumtype)?;
    let (n, v) = *cvar::SWITCH_ITEMS.get(index(indx)?).ok_or(Fail(class::T_ERR_INVALID_INDEX))?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(value, v) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(name, name_len, n) }
});

// ---- performance variables --------------------------------------------------------------

fn class_code(c: pvar::Class) -> c_int {
    match c {
        pvar::Class::Level => PVAR_CLASS_LEVEL,
        pvar::Class::HighWaterMark => PVAR_CLASS_HIGHWATERMARK,
        pvar::Class::Counter => PVAR_CLASS_COUNTER,
        pvar::Class::Timer => PVAR_CLASS_TIMER,
    }
}

fn class_of_code(c: c_int) -> Option<pvar::Class> {
    Some(match c {
        PVAR_CLASS_LEVEL => pvar::Class::Level,
        PVAR_CLASS_HIGHWATERMARK => pvar::Class::HighWaterMark,
        PVAR_CLASS_COUNTER => pvar::Class::Counter,
        PVAR_CLASS_TIMER => pvar::Class::Timer,
        _ => return None,
    })
}

mpit_fn!(MPI_T_pvar_get_num, PMPI_T_pvar_get_num, (num: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(num, pvar::ALL.len() as c_int, "num_pvar") }?)
});

mpit_fn!(MPI_T_pvar_get_info, PMPI_T_pvar_get_info, (pvar_index: c_int, name: *mut c_char, name_len: *mut c_int, verbosity: *mut c_int, var_class: *mut c_int, datatype: *mut c_int, enumtype: *mut *mut c_void, desc: *mut c_char, desc_len: *mut c_int, bind: *mut c_int, readonly: *mut c_int, continuous: *mut c_int, atomic: *mut c_int), {
    let v = pvar::get(index(pvar_index)?)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(name, name_len, v.name) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(desc, desc_len, v.desc) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(verbosity, VERBOSITY_USER_BASIC) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(var_class, class_code(v.class)) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(datatype, match v.ty() {
        pvar::Type::U64 => dt::UNSIGNED_LONG_LONG,
        pvar::Type::F64 => dt::DOUBLE,
    }) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(enumtype, std::ptr::null_mut()) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(bind, BIND_NO_OBJECT) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(readonly, v.readonly() as c_int) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(continuous, 1) }?;
    // A read-and-reset is not atomic with respect to the engine's concurrent updates.
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(atomic, 0) }
});

mpit_fn!(MPI_T_pvar_get_index, PMPI_T_pvar_get_index, (name: *const c_char, var_class: c_int, pvar_index: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    let n = unsafe { ptr::cstr(name, "name") }?;
    // A class that no variable has (or no class at all) names nothing.
    let c = class_of_code(var_class).ok_or(Fail(class::T_ERR_INVALID_NAME))?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(pvar_index, pvar::index(n, c)? as c_int, "pvar_index") }?)
});

mpit_fn!(MPI_T_pvar_session_create, PMPI_T_pvar_session_create, (session: *mut *mut c_void), {
    if session.is_null() {
        return Err(Fail(class::ERR_ARG));
    }
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(session, ptr_of(pvar::session_create()), "session") }?)
});

mpit_fn!(MPI_T_pvar_session_free, PMPI_T_pvar_session_free, (session: *mut *mut c_void), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    let s = unsafe { ptr::read(session as *const *mut c_void, "session") }?;
    if s.is_null() {
        return Err(Fail(class::T_ERR_INVALID_SESSION));
    }
    pvar::session_free(id_of(s)?)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(session, std::ptr::null_mut(), "session") }?)
});

fn session_id(s: *mut c_void) -> Result<u64, Fail> {
    if s.is_null() {
        return Err(Fail(class::T_ERR_INVALID_SESSION));
    }
    Ok(s as usize as u64)
}

/// A handle argument: None for MPI_T_PVAR_ALL_HANDLES.
fn pvar_handle(h: *mut c_void) -> Result<Option<u64>, Fail> {
    if h as *const c_void == super::symbols::MPI_T_PVAR_ALL_HANDLES.0 {
        return Ok(None);
    }
    id_of(h).map(Some)
}

/// A handle argument where MPI_T_PVAR_ALL_HANDLES is not allowed (read, write).
fn one_pvar_handle(h: *mut c_void) -> Result<u64, Fail> {
    pvar_handle(h)?.ok_or(Fail(class::T_ERR_INVALID_HANDLE))
}

mpit_fn!(MPI_T_pvar_handle_alloc, PMPI_T_pvar_handle_alloc, (session: *mut c_void, pvar_index: c_int, _obj_handle: *mut c_void, handle: *mut *mut c_void, count: *mut c_int), {
    if handle.is_null() || count.is_null() {
        return Err(Fail(class::ERR_ARG));
    }
    let (id, n) = pvar::handle_alloc(session_id(session)?, index(pvar_index)?)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { ptr::write(count, n as c_int, "count") }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(handle, ptr_of(id), "handle") }?)
});

mpit_fn!(MPI_T_pvar_handle_free, PMPI_T_pvar_handle_free, (session: *mut c_void, handle: *mut *mut c_void), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { ptr::read(handle as *const *mut c_void, "handle") }?;
    pvar::handle_free(session_id(session)?, one_pvar_handle(h)?)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(handle, std::ptr::null_mut(), "handle") }?)
});

mpit_fn!(MPI_T_pvar_start, PMPI_T_pvar_start, (session: *mut c_void, handle: *mut c_void), {
    Ok(pvar::start_stop(session_id(session)?, pvar_handle(handle)?)?)
});

mpit_fn!(MPI_T_pvar_stop, PMPI_T_pvar_stop, (session: *mut c_void, handle: *mut c_void), {
    Ok(pvar::start_stop(session_id(session)?, pvar_handle(handle)?)?)
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn write_pvar(buf: *mut c_void, v: pvar::Value) -> R {
    match v {
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        pvar::Value::U64(n) => Ok(unsafe { ptr::write(buf as *mut u64, n, "buf") }?),
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        pvar::Value::F64(x) => Ok(unsafe { ptr::write(buf as *mut f64, x, "buf") }?),
    }
}

mpit_fn!(MPI_T_pvar_read, PMPI_T_pvar_read, (session: *mut c_void, handle: *mut c_void, buf: *mut c_void), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { write_pvar(buf, pvar::read(session_id(session)?, one_pvar_handle(handle)?, false)?) }
});

mpit_fn!(MPI_T_pvar_readreset, PMPI_T_pvar_readreset, (session: *mut c_void, handle: *mut c_void, buf: *mut c_void), {
    if buf.is_null() {
        return Err(Fail(class::ERR_ARG));
    }
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { write_pvar(buf, pvar::read(session_id(session)?, one_pvar_handle(handle)?, true)?) }
});

mpit_fn!(MPI_T_pvar_write, PMPI_T_pvar_write, (session: *mut c_void, handle: *mut c_void, buf: *const c_void), {
    let s = session_id(session)?;
    let h = one_pvar_handle(handle)?;
    let v = match pvar::handle_pvar(s, h)?.ty() {
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        pvar::Type::U64 => pvar::Value::U64(unsafe { ptr::read(buf as *const u64, "buf") }?),
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        pvar::Type::F64 => pvar::Value::F64(unsafe { ptr::read(buf as *const f64, "buf") }?),
    };
    Ok(pvar::write(s, h, v)?)
});

mpit_fn!(MPI_T_pvar_reset, PMPI_T_pvar_reset, (session: *mut c_void, handle: *mut c_void), {
    Ok(pvar::reset(session_id(session)?, pvar_handle(handle)?)?)
});

// ---- categories -------------------------------------------------------------------------

mpit_fn!(MPI_T_category_get_num, PMPI_T_category_get_num, (num: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(num, category::ALL.len() as c_int, "num_cat") }?)
});

mpit_fn!(MPI_T_category_get_info, PMPI_T_category_get_info, (cat_index: c_int, name: *mut c_char, name_len: *mut c_int, desc: *mut c_char, desc_len: *mut c_int, num_cvars: *mut c_int, num_pvars: *mut c_int, num_categories: *mut c_int), {
    let i = index(cat_index)?;
    let c = category::get(i)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(name, name_len, c.name) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(desc, desc_len, c.desc) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(num_cvars, category::cvars(i)?.len() as c_int) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(num_pvars, category::pvars(i)?.len() as c_int) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(num_categories, category::subcategories(i)?.len() as c_int) }
});

mpit_fn!(MPI_T_category_get_index, PMPI_T_category_get_index, (name: *const c_char, cat_index: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    let n = unsafe { ptr::cstr(name, "name") }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(cat_index, category::index(n)? as c_int, "cat_index") }?)
});

mpit_fn!(MPI_T_category_get_cvars, PMPI_T_category_get_cvars, (cat_index: c_int, len: c_int, indices: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_indices(&category::cvars(index(cat_index)?)?, len, indices) }
});

mpit_fn!(MPI_T_category_get_pvars, PMPI_T_category_get_pvars, (cat_index: c_int, len: c_int, indices: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_indices(&category::pvars(index(cat_index)?)?, len, indices) }
});

mpit_fn!(MPI_T_category_get_categories, PMPI_T_category_get_categories, (cat_index: c_int, len: c_int, indices: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_indices(&category::subcategories(index(cat_index)?)?, len, indices) }
});

mpit_fn!(MPI_T_category_get_events, PMPI_T_category_get_events, (cat_index: c_int, len: c_int, indices: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_indices(&category::events(index(cat_index)?)?, len, indices) }
});

mpit_fn!(MPI_T_category_get_num_events, PMPI_T_category_get_num_events, (cat_index: c_int, num_events: *mut c_int), {
    let n = category::events(index(cat_index)?)?.len();
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(num_events, n as c_int, "num_events") }?)
});

mpit_fn!(MPI_T_category_changed, PMPI_T_category_changed, (update_number: *mut c_int), {
    // Variables and categories are fixed for the life of the process.
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(update_number, 0, "update_number") }?)
});

// ---- events -----------------------------------------------------------------------------

mpit_fn!(MPI_T_event_get_num, PMPI_T_event_get_num, (num: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(num, event::ALL.len() as c_int, "num_events") }?)
});

mpit_fn!(MPI_T_event_get_info, PMPI_T_event_get_info, (event_index: c_int, name: *mut c_char, name_len: *mut c_int, verbosity: *mut c_int, array_of_datatypes: *mut c_int, array_of_displacements: *mut isize, num_elements: *mut c_int, enumtype: *mut *mut c_void, info: *mut c_int, desc: *mut c_char, desc_len: *mut c_int, bind: *mut c_int), {
    let e = event::get(index(event_index)?)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(name, name_len, e.name) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(desc, desc_len, e.desc) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(verbosity, VERBOSITY_TUNER_DETAIL) }?;
    if !num_elements.is_null() {
        // IN: the arrays' length; OUT: the number of elements.
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        let cap = unsafe { ptr::read(num_elements as *const c_int, "num_elements") }?.max(0) as usize;
        let n = e.elems.len().min(cap);
        if !array_of_datatypes.is_null() {
            // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
            let d = unsafe { ptr::slice_mut(array_of_datatypes, n, "array_of_datatypes") }?;
            for (d, el) in d.iter_mut().zip(e.elems) {
                *d = match el {
                    event::Elem::I32 => dt::INT,
                    event::Elem::Count => dt::COUNT,
                };
            }
        }
        if !array_of_displacements.is_null() {
            // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
            let d = unsafe { ptr::slice_mut(array_of_displacements, n, "array_of_displacements") }?;
            for (d, o) in d.iter_mut().zip(e.offsets) {
                *d = *o as isize;
            }
        }
        // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
        unsafe { ptr::write(num_elements, e.elems.len() as c_int, "num_elements") }?;
    }
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(enumtype, std::ptr::null_mut()) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { new_info(info, Info::new()) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(bind, BIND_NO_OBJECT) }
});

mpit_fn!(MPI_T_event_get_index, PMPI_T_event_get_index, (name: *const c_char, event_index: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    let n = unsafe { ptr::cstr(name, "name") }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(event_index, event::index(n)? as c_int, "event_index") }?)
});

mpit_fn!(MPI_T_event_handle_alloc, PMPI_T_event_handle_alloc, (event_index: c_int, _obj_handle: *mut c_void, info: c_int, event_registration: *mut *mut c_void), {
    if event_registration.is_null() {
        return Err(Fail(class::ERR_ARG));
    }
    let id = event::handle_alloc(index(event_index)?, info_of(info)?)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(event_registration, ptr_of(id), "event_registration") }?)
});

type FreeCb = unsafe extern "C" fn(*mut c_void, c_int, *mut c_void);
type EventCb = unsafe extern "C" fn(*mut c_void, *mut c_void, c_int, *mut c_void);
type DroppedCb = unsafe extern "C" fn(i64, *mut c_void, c_int, c_int, *mut c_void);

mpit_fn!(MPI_T_event_handle_free, PMPI_T_event_handle_free, (event_registration: *mut c_void, user_data: *mut c_void, free_cb_function: Option<FreeCb>), {
    let id = id_of(event_registration)?;
    event::handle_free(id)?;
    // No instance can reach it any more, and we hold no lock: free it now, with the least
    // restrictive requirement (MPI_T_CB_REQUIRE_NONE).
    if let Some(f) = free_cb_function {
        // SAFETY: a user function of type MPI_T_event_free_cb_function.
        unsafe { f(event_registration, 0, user_data) };
    }
    Ok(())
});

mpit_fn!(MPI_T_event_handle_get_info, PMPI_T_event_handle_get_info, (event_registration: *mut c_void, info_used: *mut c_int), {
    if info_used.is_null() {
        return Err(Fail(class::ERR_ARG));
    }
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { new_info(info_used, event::handle_info(id_of(event_registration)?)?) }
});

mpit_fn!(MPI_T_event_handle_set_info, PMPI_T_event_handle_set_info, (event_registration: *mut c_void, info: c_int), {
    Ok(event::set_handle_info(id_of(event_registration)?, &info_of(info)?)?)
});

fn safety(s: c_int) -> Result<usize, Fail> {
    usize::try_from(s)
        .ok()
        .filter(|&s| s < event::SAFETY_LEVELS)
        .ok_or(Fail(class::T_ERR_INVALID))
}

mpit_fn!(MPI_T_event_register_callback, PMPI_T_event_register_callback, (event_registration: *mut c_void, cb_safety: c_int, info: c_int, user_data: *mut c_void, event_cb_function: Option<EventCb>), {
    let reg = id_of(event_registration)?;
    let user = user_data as usize;
    let cb: Option<event::Callback> = event_cb_function.map(|f| {
        let cb: event::Callback = Arc::new(move |inst, reg, safety| {
            // SAFETY: a user function of type MPI_T_event_cb_function, called from
            // event::deliver outside every lock; the instance id is live until it returns.
            // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
            unsafe { f(ptr_of(inst), ptr_of(reg), safety as c_int, user as *mut c_void) }
        });
        cb
    });
    Ok(event::register_callback(reg, safety(cb_safety)?, cb, info_of(info)?, user)?)
});

mpit_fn!(MPI_T_event_callback_get_info, PMPI_T_event_callback_get_info, (event_registration: *mut c_void, cb_safety: c_int, info_used: *mut c_int), {
    if info_used.is_null() {
        return Err(Fail(class::ERR_ARG));
    }
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { new_info(info_used, event::callback_info(id_of(event_registration)?, safety(cb_safety)?)?) }
});

mpit_fn!(MPI_T_event_callback_set_info, PMPI_T_event_callback_set_info, (event_registration: *mut c_void, cb_safety: c_int, info: c_int), {
    Ok(event::set_callback_info(id_of(event_registration)?, safety(cb_safety)?, &info_of(info)?)?)
});

mpit_fn!(MPI_T_event_set_dropped_handler, PMPI_T_event_set_dropped_handler, (event_registration: *mut c_void, dropped_cb_function: Option<DroppedCb>), {
    let h: Option<event::DroppedHandler> = dropped_cb_function.map(|f| {
        let h: event::DroppedHandler = Arc::new(move |count, reg, source, safety, user| {
            // SAFETY: a user function of type MPI_T_event_dropped_cb_function, called from
            // event::deliver outside every lock.
            unsafe {
                f(count as i64, ptr_of(reg), source as c_int, safety as c_int, user as *mut c_void)
            }
        });
        h
    });
    Ok(event::set_dropped_handler(id_of(event_registration)?, h)?)
});

/// Copies `bytes` to the caller's buffer.
///
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn copy_out(buffer: *mut c_void, bytes: &[u8]) -> R {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    let dst = unsafe { ptr::slice_mut(buffer as *mut u8, bytes.len(), "buffer") }?;
    dst.copy_from_slice(bytes);
    Ok(())
}

mpit_fn!(MPI_T_event_read, PMPI_T_event_read, (event_instance: *mut c_void, element_index: c_int, buffer: *mut c_void), {
    let i = index(element_index)?;
    let bytes = event::with_instance(id_of(event_instance)?, |inst| inst.element(i).map(<[u8]>::to_vec))??;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { copy_out(buffer, &bytes) }
});

mpit_fn!(MPI_T_event_copy, PMPI_T_event_copy, (event_instance: *mut c_void, buffer: *mut c_void), {
    let bytes = event::with_instance(id_of(event_instance)?, |inst| inst.bytes().to_vec())?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { copy_out(buffer, &bytes) }
});

mpit_fn!(MPI_T_event_get_timestamp, PMPI_T_event_get_timestamp, (event_instance: *mut c_void, event_timestamp: *mut i64), {
    let t = event::with_instance(id_of(event_instance)?, |inst| inst.timestamp)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(event_timestamp, t, "event_timestamp") }?)
});

mpit_fn!(MPI_T_event_get_source, PMPI_T_event_get_source, (event_instance: *mut c_void, source_index: *mut c_int), {
    let s = event::with_instance(id_of(event_instance)?, |inst| inst.source)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(source_index, s as c_int, "source_index") }?)
});

// ---- event sources ----------------------------------------------------------------------

mpit_fn!(MPI_T_source_get_num, PMPI_T_source_get_num, (num_sources: *mut c_int), {
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(num_sources, 1, "num_sources") }?)
});

fn check_source(i: c_int) -> R {
    if i != 0 {
        return Err(Fail(class::T_ERR_INVALID_INDEX));
    }
    Ok(())
}

mpit_fn!(MPI_T_source_get_info, PMPI_T_source_get_info, (source_index: c_int, name: *mut c_char, name_len: *mut c_int, desc: *mut c_char, desc_len: *mut c_int, ordering: *mut c_int, ticks_per_second: *mut i64, max_ticks: *mut i64, info: *mut c_int), {
    check_source(source_index)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(name, name_len, event::SOURCE_NAME) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put_str(desc, desc_len, event::SOURCE_DESC) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(ordering, SOURCE_ORDERED) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(ticks_per_second, event::TICKS_PER_SECOND) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { put(max_ticks, i64::MAX) }?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    unsafe { new_info(info, Info::new()) }
});

mpit_fn!(MPI_T_source_get_timestamp, PMPI_T_source_get_timestamp, (source_index: c_int, timestamp: *mut i64), {
    check_source(source_index)?;
    // SAFETY: the pointers are the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { ptr::write(timestamp, event::now(), "timestamp") }?)
});
