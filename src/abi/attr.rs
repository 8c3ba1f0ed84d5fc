//! Attribute caching on communicators, datatypes and windows: keyvals, set/get/delete, the
//! copy callbacks run by MPI_Comm_dup (and MPI_Type_dup), the delete callbacks run by
//! free/delete/overwrite and by MPI_Finalize for MPI_COMM_SELF, and the predefined
//! attributes of the communicators (MPI_TAG_UB & co.).
//!
//! Callbacks are called with no lock held, so they may call MPI on the same object.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::consts::{ANY_SOURCE, PROC_NULL, TAG_UB};
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::mpi_fn;
use crate::object::attr::{AttrKind, AttrList, Keyval, KeyvalKind};
use crate::runtime;
use parking_lot::Mutex;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Once};

/// User keyvals (all kinds share the table, as in MPICH).
pub static KEYVALS: HandleTable<Keyval> = HandleTable::new(obj::KEYVAL);

/// The predefined communicator attributes (keyval handles from mpi.h).
pub mod keyval {
    pub const TAG_UB: i32 = 0x6440_0001;
    pub const HOST: i32 = 0x6440_0003;
    pub const IO: i32 = 0x6440_0005;
    pub const WTIME_IS_GLOBAL: i32 = 0x6440_0007;
    pub const UNIVERSE_SIZE: i32 = 0x6440_0009;
    pub const LASTUSEDCODE: i32 = 0x6440_000b;
    pub const APPNUM: i32 = 0x6440_000d;
}

// The ints the predefined attributes point to: they stay valid for the whole run.
static TAG_UB_VAL: AtomicI32 = AtomicI32::new(TAG_UB);
static HOST_VAL: AtomicI32 = AtomicI32::new(PROC_NULL);
static IO_VAL: AtomicI32 = AtomicI32::new(ANY_SOURCE);
static WTIME_IS_GLOBAL_VAL: AtomicI32 = AtomicI32::new(0);
static UNIVERSE_SIZE_VAL: AtomicI32 = AtomicI32::new(1);
static APPNUM_VAL: AtomicI32 = AtomicI32::new(0);

/// The address of a predefined attribute's int, or None if `k` is not predefined.
fn predefined_attr(k: c_int) -> Option<*mut c_int> {
    let cell = match k {
        keyval::TAG_UB => &TAG_UB_VAL,
        keyval::HOST => &HOST_VAL,
        keyval::IO => &IO_VAL,
        keyval::WTIME_IS_GLOBAL => &WTIME_IS_GLOBAL_VAL,
        keyval::UNIVERSE_SIZE => {
            if let Some(rt) = runtime::get() {
                UNIVERSE_SIZE_VAL.store(rt.universe_size, Ordering::Relaxed);
            }
            &UNIVERSE_SIZE_VAL
        }
        keyval::LASTUSEDCODE => &super::errors::LAST_USED_CODE,
        keyval::APPNUM => {
            if let Some(rt) = runtime::get() {
                APPNUM_VAL.store(rt.appnum, Ordering::Relaxed);
            }
            &APPNUM_VAL
        }
        _ => return None,
    };
    Some(cell.as_ptr())
}

type CopyFn =
    unsafe extern "C" fn(c_int, c_int, *mut c_void, *mut c_void, *mut c_void, *mut c_int) -> c_int;
type DeleteFn = unsafe extern "C" fn(c_int, c_int, *mut c_void, *mut c_void) -> c_int;

/// The error a callback's non-zero return becomes (its code is kept as the class when it
/// is a valid one, as MPICH returns the callback's code).
fn callback_error(what: &str, rc: c_int) -> MpiError {
    let cls = if super::errors::is_valid(rc) {
        super::errors::class_of(rc)
    } else {
        class::ERR_OTHER
    };
    MpiError::new(cls, format!("attribute {what} callback returned {rc}"))
}

/// MPICH's MPII_Attr_copy_proxy: (user copy function, object, keyval, extra_state,
/// MPIR_Attr_type, value, &new value, &flag).
pub type CopyProxy = unsafe extern "C" fn(
    usize,
    c_int,
    c_int,
    *mut c_void,
    c_int,
    *mut c_void,
    *mut *mut c_void,
    *mut c_int,
) -> c_int;
/// MPICH's MPII_Attr_delete_proxy: (user delete function, object, keyval, MPIR_Attr_type,
/// value, extra_state).
pub type DeleteProxy =
    unsafe extern "C" fn(usize, c_int, c_int, c_int, *mut c_void, *mut c_void) -> c_int;

/// The callers' proxies of a keyval (MPICH's MPII_Keyval_set_proxy): MPICH's own libmpifort
/// registers Fortran callbacks as if they were C ones and has the library call them
/// through its proxies, which pass the arguments by reference as Fortran wants.
#[derive(Clone, Copy)]
struct Proxies {
    copy: CopyProxy,
    delete: DeleteProxy,
}

/// The proxies by keyval, keyed by the keyval's address (an `Arc<Keyval>` lives as long as
/// any of its attributes, and the entry goes with it in [`release_if_unused`]).
static PROXIES: Mutex<Vec<(usize, Proxies)>> = Mutex::new(Vec::new());

fn proxies_of(k: &Keyval) -> Option<Proxies> {
    let key = k as *const Keyval as usize;
    PROXIES
        .lock()
        .iter()
        .find(|(a, _)| *a == key)
        .map(|(_, p)| *p)
}

/// Has the callbacks of keyval handle `h` called through `copy` and `delete` (MPICH's
/// MPII_Keyval_set_proxy, which ignores an invalid keyval: it returns nothing).
pub fn set_proxies(h: c_int, copy: CopyProxy, delete: DeleteProxy) {
    let Some(k) = KEYVALS.get(h) else { return };
    let key = Arc::as_ptr(&k) as usize;
    let mut t = PROXIES.lock();
    t.retain(|(a, _)| *a != key);
    t.push((key, Proxies { copy, delete }));
}

/// The value a C callback gets: the attribute itself, or for one Fortran set the address of
/// the integer (`local`, a copy), as MPICH's C proxies pass it.
fn for_c_callback(value: usize, kind: AttrKind, local: &usize) -> *mut c_void {
    if kind.is_integer() {
        local as *const usize as *mut c_void
    } else {
        value as *mut c_void
    }
}

fn call_delete(
    k: &Keyval,
    obj_handle: c_int,
    value: usize,
    kind: AttrKind,
) -> Result<(), MpiError> {
    if k.delete_fn == 0 {
        return Ok(());
    }
    let rc = if let Some(p) = proxies_of(k) {
        // SAFETY: the proxy and the function it calls were registered together by MPICH's
        // Fortran binding (MPII_Keyval_set_proxy), which defines this call.
        unsafe {
            (p.delete)(
                k.delete_fn,
                obj_handle,
                k.handle(),
                kind.mpich_code(),
                value as *mut c_void,
                k.extra_state as *mut c_void,
            )
        }
    } else {
        // SAFETY: delete_fn was registered by the user as an MPI_*_delete_attr_function.
        let f: DeleteFn = unsafe { std::mem::transmute(k.delete_fn) };
        // SAFETY: calling the user's callback with the arguments MPI defines.
        unsafe {
            f(
                obj_handle,
                k.handle(),
                for_c_callback(value, kind, &value),
                k.extra_state as *mut c_void,
            )
        }
    };
    if rc != 0 {
        return Err(callback_error("delete", rc));
    }
    Ok(())
}

/// Runs the copy callbacks of `old`'s attributes (object `old_handle`), giving the list for
/// the new object. On a callback failure, the attributes already copied are deleted again.
pub fn copy_list(old_handle: c_int, old: &Mutex<AttrList>) -> Result<AttrList, MpiError> {
    let entries = old.lock().snapshot();
    let mut out = AttrList::default();
    for (k, v, kind) in entries {
        if k.copy_fn == 0 {
            continue;
        }
        let mut newval: *mut c_void = std::ptr::null_mut();
        let mut flag: c_int = 0;
        let rc = if let Some(p) = proxies_of(&k) {
            // SAFETY: the proxy and the function it calls were registered together by
            // MPICH's Fortran binding; the out-arguments point to our locals.
            unsafe {
                (p.copy)(
                    k.copy_fn,
                    old_handle,
                    k.handle(),
                    k.extra_state as *mut c_void,
                    kind.mpich_code(),
                    v as *mut c_void,
                    &mut newval,
                    &mut flag,
                )
            }
        } else {
            // SAFETY: copy_fn was registered by the user as an MPI_*_copy_attr_function (or
            // is MPIR_Dup_fn).
            let f: CopyFn = unsafe { std::mem::transmute(k.copy_fn) };
            // SAFETY: the callback's out-arguments point to our locals.
            unsafe {
                f(
                    old_handle,
                    k.handle(),
                    k.extra_state as *mut c_void,
                    for_c_callback(v, kind, &v),
                    &mut newval as *mut *mut c_void as *mut c_void,
                    &mut flag,
                )
            }
        };
        if rc != 0 {
            return Err(callback_error("copy", rc));
        }
        // The copy keeps the kind of the original (MPICH's MPIR_Attr_dup_list).
        if flag != 0 {
            out.set(&k, newval as usize, kind);
        }
    }
    Ok(out)
}

/// Deletes every attribute of an object being freed, the last set first (MPICH's order).
pub fn delete_all(obj_handle: c_int, list: &Mutex<AttrList>) -> Result<(), MpiError> {
    loop {
        let last = list.lock().last();
        let Some((k, v, kind)) = last else {
            return Ok(());
        };
        call_delete(&k, obj_handle, v, kind)?;
        list.lock().remove(&k);
        release_if_unused(&k);
    }
}

/// A keyval handle of `kind`, for set/get/delete.
fn keyval_arg(h: c_int, kind: KeyvalKind) -> Result<Arc<Keyval>, MpiError> {
    let k = KEYVALS.get(h).ok_or_else(|| {
        MpiError::arg(
            class::ERR_KEYVAL,
            "keyval",
            format!("invalid keyval {h:#x}"),
        )
    })?;
    if k.kind != kind {
        return Err(MpiError::arg(
            class::ERR_KEYVAL,
            "keyval",
            format!("keyval {h:#x} is for another kind of object"),
        ));
    }
    Ok(k)
}

fn set(
    obj_handle: c_int,
    list: &Mutex<AttrList>,
    k: &Arc<Keyval>,
    v: usize,
    kind: AttrKind,
) -> Result<(), MpiError> {
    // Setting over an existing value deletes the old one first (its callback may fail).
    let old = list.lock().get(k);
    if let Some((old, old_kind)) = old {
        call_delete(k, obj_handle, old, old_kind)?;
    }
    list.lock().set(k, v, kind);
    Ok(())
}

fn delete(obj_handle: c_int, list: &Mutex<AttrList>, k: &Arc<Keyval>) -> Result<(), MpiError> {
    let old = list.lock().get(k).ok_or_else(|| {
        MpiError::arg(
            class::ERR_KEYVAL,
            "keyval",
            "no attribute is set for this keyval",
        )
    })?;
    call_delete(k, obj_handle, old.0, old.1)?;
    list.lock().remove(k);
    release_if_unused(k);
    Ok(())
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn create_keyval(
    kind: KeyvalKind,
    copy: usize,
    del: usize,
    extra: usize,
    out: *mut c_int,
) -> Result<(), MpiError> {
    // SAFETY: `out` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(out, predefined::KEYVAL_INVALID, "keyval") }?;
    let k = Arc::new(Keyval::new(kind, copy, del, extra));
    let h = KEYVALS.insert(k.clone());
    k.set_handle(h);
    // SAFETY: `out` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(out, h, "keyval") }
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn free_keyval(p: *mut c_int, kind: KeyvalKind) -> Result<(), MpiError> {
    // SAFETY: `p` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(p, "keyval") }?;
    if predefined_attr(h).is_some() {
        return Err(MpiError::arg(
            class::ERR_KEYVAL,
            "keyval",
            "predefined keyvals cannot be freed",
        ));
    }
    let k = keyval_arg(h, kind)?;
    // Reference-counted as in MPICH: while attributes use the keyval its handle stays valid
    // (another free through a copy of the handle is accepted) and its delete callback still
    // runs when they go; the keyval is gone with its last use.
    k.mark_freed();
    release_if_unused(&k);
    // SAFETY: `p` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(p, predefined::KEYVAL_INVALID, "keyval") }
}

/// Drops the handle of a freed keyval that no attribute uses any more. `k` is a reference
/// taken from the table or from an attribute list the attribute was just removed from: the
/// table's reference and `k` are then the only ones left.
fn release_if_unused(k: &Arc<Keyval>) {
    if k.is_freed() && Arc::strong_count(k) <= 2 {
        let h = k.handle();
        if KEYVALS.get(h).is_some_and(|t| Arc::ptr_eq(&t, k)) {
            KEYVALS.remove(h);
            let key = Arc::as_ptr(k) as usize;
            PROXIES.lock().retain(|(a, _)| *a != key);
        }
    }
}

/// Runs once, the first time an attribute is set on MPI_COMM_SELF.
fn register_finalize_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| runtime::at_finalize(finalize_self_attrs));
}

/// MPI_Finalize first frees MPI_COMM_SELF's attributes (MPI 4 §11.2.2).
fn finalize_self_attrs() -> Result<(), MpiError> {
    let rt = runtime::rt()?;
    delete_all(predefined::COMM_SELF, &rt.self_comm.attrs)
}

// ---- communicators ----

mpi_fn!(MPI_Comm_create_keyval, PMPI_Comm_create_keyval, (copy_fn: Option<CopyFn>, delete_fn: Option<DeleteFn>, keyval: *mut c_int, extra_state: *mut c_void), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create_keyval(KeyvalKind::Comm, copy_fn.map_or(0, |f| f as usize), delete_fn.map_or(0, |f| f as usize), extra_state as usize, keyval) }
});

mpi_fn!(MPI_Keyval_create, PMPI_Keyval_create, (copy_fn: Option<CopyFn>, delete_fn: Option<DeleteFn>, keyval: *mut c_int, extra_state: *mut c_void), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create_keyval(KeyvalKind::Comm, copy_fn.map_or(0, |f| f as usize), delete_fn.map_or(0, |f| f as usize), extra_state as usize, keyval) }
});

mpi_fn!(MPI_Comm_free_keyval, PMPI_Comm_free_keyval, (keyval: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { free_keyval(keyval, KeyvalKind::Comm) }
});

mpi_fn!(MPI_Keyval_free, PMPI_Keyval_free, (keyval: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { free_keyval(keyval, KeyvalKind::Comm) }
});

fn comm_set(
    ctx: &mut super::Ctx,
    comm: c_int,
    keyval: c_int,
    val: *mut c_void,
    kind: AttrKind,
) -> Result<(), MpiError> {
    let c = super::comm::get(ctx, comm)?;
    if predefined_attr(keyval).is_some() {
        return Err(MpiError::arg(
            class::ERR_KEYVAL,
            "keyval",
            "predefined attributes cannot be set",
        ));
    }
    let k = keyval_arg(keyval, KeyvalKind::Comm)?;
    if comm == predefined::COMM_SELF {
        register_finalize_hook();
    }
    set(comm, &c.attrs, &k, val as usize, kind)
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn comm_get(
    ctx: &mut super::Ctx,
    comm: c_int,
    keyval: c_int,
    val: *mut c_void,
    flag: *mut c_int,
    reader: AttrKind,
) -> Result<(), MpiError> {
    let c = super::comm::get(ctx, comm)?;
    let found = match predefined_attr(keyval) {
        Some(p) => {
            if c.is_inter() {
                None
            } else {
                Some(p as usize)
            }
        }
        None => c
            .attrs
            .lock()
            .get_as(&keyval_arg(keyval, KeyvalKind::Comm)?, reader),
    };
    // SAFETY: the C caller's pointers (contract).
    unsafe { write_found(found, val, flag) }
}

fn comm_delete(ctx: &mut super::Ctx, comm: c_int, keyval: c_int) -> Result<(), MpiError> {
    let c = super::comm::get(ctx, comm)?;
    if predefined_attr(keyval).is_some() {
        return Err(MpiError::arg(
            class::ERR_KEYVAL,
            "keyval",
            "predefined attributes cannot be deleted",
        ));
    }
    let k = keyval_arg(keyval, KeyvalKind::Comm)?;
    delete(comm, &c.attrs, &k)
}

mpi_fn!(MPI_Comm_set_attr, PMPI_Comm_set_attr, (comm: c_int, keyval: c_int, attribute_val: *mut c_void), |ctx| {
    comm_set(ctx, comm, keyval, attribute_val, AttrKind::Ptr)
});

mpi_fn!(MPI_Attr_put, PMPI_Attr_put, (comm: c_int, keyval: c_int, attribute_val: *mut c_void), |ctx| {
    comm_set(ctx, comm, keyval, attribute_val, AttrKind::Ptr)
});

mpi_fn!(MPI_Comm_get_attr, PMPI_Comm_get_attr, (comm: c_int, keyval: c_int, attribute_val: *mut c_void, flag: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { comm_get(ctx, comm, keyval, attribute_val, flag, AttrKind::Ptr) }
});

mpi_fn!(MPI_Attr_get, PMPI_Attr_get, (comm: c_int, keyval: c_int, attribute_val: *mut c_void, flag: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { comm_get(ctx, comm, keyval, attribute_val, flag, AttrKind::Ptr) }
});

mpi_fn!(MPI_Comm_delete_attr, PMPI_Comm_delete_attr, (comm: c_int, keyval: c_int), |ctx| {
    comm_delete(ctx, comm, keyval)
});

mpi_fn!(MPI_Attr_delete, PMPI_Attr_delete, (comm: c_int, keyval: c_int), |ctx| {
    comm_delete(ctx, comm, keyval)
});

// ---- datatypes ----
//
// A datatype's attribute list lives in its reserved `attributes` slot.

/// Runs `f` on the attribute list of `dt`, creating it on first use.
fn with_type_attrs<R>(dt: &crate::datatype::Datatype, f: impl FnOnce(&Mutex<AttrList>) -> R) -> R {
    let mut slot = dt.attributes.lock();
    if slot.is_none() {
        *slot = Some(Box::new(Arc::new(Mutex::new(AttrList::default()))));
    }
    let list = slot
        .as_ref()
        .and_then(|b| b.downcast_ref::<Arc<Mutex<AttrList>>>())
        .cloned()
        .expect("the attributes slot holds an attribute list");
    drop(slot);
    f(&list)
}

/// For MPI_Type_dup (datatype chapter): copies `old`'s attributes onto `new` through the
/// copy callbacks.
pub fn type_dup_attrs(
    old_handle: c_int,
    old: &crate::datatype::Datatype,
    new: &crate::datatype::Datatype,
) -> Result<(), MpiError> {
    let copied = with_type_attrs(old, |l| copy_list(old_handle, l))?;
    with_type_attrs(new, |l| *l.lock() = copied);
    Ok(())
}

/// For MPI_Type_free (datatype chapter): runs the delete callbacks of `dt`'s attributes.
pub fn type_free_attrs(handle: c_int, dt: &crate::datatype::Datatype) -> Result<(), MpiError> {
    if dt.attributes.lock().is_none() {
        return Ok(());
    }
    with_type_attrs(dt, |l| delete_all(handle, l))
}

mpi_fn!(MPI_Type_create_keyval, PMPI_Type_create_keyval, (copy_fn: Option<CopyFn>, delete_fn: Option<DeleteFn>, keyval: *mut c_int, extra_state: *mut c_void), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create_keyval(KeyvalKind::Type, copy_fn.map_or(0, |f| f as usize), delete_fn.map_or(0, |f| f as usize), extra_state as usize, keyval) }
});

mpi_fn!(MPI_Type_free_keyval, PMPI_Type_free_keyval, (keyval: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { free_keyval(keyval, KeyvalKind::Type) }
});

fn type_set(
    datatype: c_int,
    keyval: c_int,
    val: *mut c_void,
    kind: AttrKind,
) -> Result<(), MpiError> {
    let dt = super::datatype::get_any(datatype, "datatype")?;
    let k = keyval_arg(keyval, KeyvalKind::Type)?;
    with_type_attrs(&dt, |l| set(datatype, l, &k, val as usize, kind))
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn type_get(
    datatype: c_int,
    keyval: c_int,
    val: *mut c_void,
    flag: *mut c_int,
    reader: AttrKind,
) -> Result<(), MpiError> {
    let dt = super::datatype::get_any(datatype, "datatype")?;
    let k = keyval_arg(keyval, KeyvalKind::Type)?;
    // SAFETY: the caller's pointers (contract).
    unsafe {
        write_found(
            with_type_attrs(&dt, |l| l.lock().get_as(&k, reader)),
            val,
            flag,
        )
    }
}

/// Writes an attribute lookup's result: the value and flag 1, or flag 0.
///
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn write_found(
    found: Option<usize>,
    val: *mut c_void,
    flag: *mut c_int,
) -> Result<(), MpiError> {
    match found {
        Some(v) => {
            // SAFETY: `val` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(val as *mut usize, v, "attribute_val") }?;
            // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(flag, 1, "flag") }
        }
        // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
        None => unsafe { arg::write(flag, 0, "flag") },
    }
}

mpi_fn!(MPI_Type_set_attr, PMPI_Type_set_attr, (datatype: c_int, keyval: c_int, attribute_val: *mut c_void), |_ctx| {
    type_set(datatype, keyval, attribute_val, AttrKind::Ptr)
});

mpi_fn!(MPI_Type_get_attr, PMPI_Type_get_attr, (datatype: c_int, keyval: c_int, attribute_val: *mut c_void, flag: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { type_get(datatype, keyval, attribute_val, flag, AttrKind::Ptr) }
});

mpi_fn!(MPI_Type_delete_attr, PMPI_Type_delete_attr, (datatype: c_int, keyval: c_int), |_ctx| {
    let dt = super::datatype::get_any(datatype, "datatype")?;
    let k = keyval_arg(keyval, KeyvalKind::Type)?;
    with_type_attrs(&dt, |l| delete(datatype, l, &k))
});

// ---- windows ----

mpi_fn!(MPI_Win_create_keyval, PMPI_Win_create_keyval, (copy_fn: Option<CopyFn>, delete_fn: Option<DeleteFn>, keyval: *mut c_int, extra_state: *mut c_void), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create_keyval(KeyvalKind::Win, copy_fn.map_or(0, |f| f as usize), delete_fn.map_or(0, |f| f as usize), extra_state as usize, keyval) }
});

mpi_fn!(MPI_Win_free_keyval, PMPI_Win_free_keyval, (keyval: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { free_keyval(keyval, KeyvalKind::Win) }
});

/// For the one-sided chapter: the keyval behind a Win keyval handle.
pub fn win_keyval(h: c_int) -> Result<Arc<Keyval>, MpiError> {
    keyval_arg(h, KeyvalKind::Win)
}

/// For the one-sided chapter: set/get/delete on a window's list, with callbacks.
pub fn win_set(
    win: c_int,
    list: &Mutex<AttrList>,
    k: &Arc<Keyval>,
    v: usize,
) -> Result<(), MpiError> {
    set(win, list, k, v, AttrKind::Ptr)
}

pub fn win_delete(win: c_int, list: &Mutex<AttrList>, k: &Arc<Keyval>) -> Result<(), MpiError> {
    delete(win, list, k)
}

/// The predefined window attributes (keyval handles from mpi.h).
pub mod win_keyval {
    pub const BASE: i32 = 0x6600_0001;
    pub const SIZE: i32 = 0x6600_0003;
    pub const DISP_UNIT: i32 = 0x6600_0005;
    pub const CREATE_FLAVOR: i32 = 0x6600_0007;
    pub const MODEL: i32 = 0x6600_0009;
}

/// The value of a predefined window attribute, as MPICH gives it: the base address itself,
/// and for the others the address of the window's int (or MPI_Aint for the size).
fn win_predefined(w: &crate::rma::Win, k: c_int) -> Option<usize> {
    Some(match k {
        win_keyval::BASE => w.base.addr(),
        win_keyval::SIZE => &w.attr_size as *const i64 as usize,
        win_keyval::DISP_UNIT => &w.attr_disp_unit as *const i32 as usize,
        win_keyval::CREATE_FLAVOR => &w.attr_flavor as *const i32 as usize,
        win_keyval::MODEL => &w.attr_model as *const i32 as usize,
        _ => return None,
    })
}

fn is_win_predefined(k: c_int) -> bool {
    matches!(
        k,
        win_keyval::BASE
            | win_keyval::SIZE
            | win_keyval::DISP_UNIT
            | win_keyval::CREATE_FLAVOR
            | win_keyval::MODEL
    )
}

fn win_set_attr(
    ctx: &mut super::Ctx,
    win: c_int,
    keyval: c_int,
    val: *mut c_void,
    kind: AttrKind,
) -> Result<(), MpiError> {
    let w = super::rma::get(ctx, win)?;
    if is_win_predefined(keyval) {
        return Err(MpiError::arg(
            class::ERR_KEYVAL,
            "keyval",
            "predefined attributes cannot be set",
        ));
    }
    let k = keyval_arg(keyval, KeyvalKind::Win)?;
    set(win, &w.attrs, &k, val as usize, kind)
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn win_get_attr(
    ctx: &mut super::Ctx,
    win: c_int,
    keyval: c_int,
    val: *mut c_void,
    flag: *mut c_int,
    reader: AttrKind,
) -> Result<(), MpiError> {
    let w = super::rma::get(ctx, win)?;
    let found = match win_predefined(&w, keyval) {
        Some(v) => Some(v),
        None => w
            .attrs
            .lock()
            .get_as(&keyval_arg(keyval, KeyvalKind::Win)?, reader),
    };
    // SAFETY: the C caller's pointers (contract).
    unsafe { write_found(found, val, flag) }
}

mpi_fn!(MPI_Win_set_attr, PMPI_Win_set_attr, (win: c_int, keyval: c_int, attribute_val: *mut c_void), |ctx| {
    win_set_attr(ctx, win, keyval, attribute_val, AttrKind::Ptr)
});

mpi_fn!(MPI_Win_get_attr, PMPI_Win_get_attr, (win: c_int, keyval: c_int, attribute_val: *mut c_void, flag: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { win_get_attr(ctx, win, keyval, attribute_val, flag, AttrKind::Ptr) }
});

mpi_fn!(MPI_Win_delete_attr, PMPI_Win_delete_attr, (win: c_int, keyval: c_int), |ctx| {
    let w = super::rma::get(ctx, win)?;
    if is_win_predefined(keyval) {
        return Err(MpiError::arg(class::ERR_KEYVAL, "keyval", "predefined attributes cannot be deleted"));
    }
    let k = keyval_arg(keyval, KeyvalKind::Win)?;
    delete(win, &w.attrs, &k)
});

// ---- the attribute functions with the caller's language ----

/// MPI_{Comm,Type,Win}_set_attr for a caller of another language (the Fortran bindings,
/// and MPICH's libmpifort through MPII_*_set_attr): `kind` says how the value was given.
pub fn set_attr_as(
    obj: KeyvalKind,
    h: c_int,
    keyval: c_int,
    val: *mut c_void,
    kind: AttrKind,
) -> c_int {
    match obj {
        KeyvalKind::Comm => super::run("MPI_Comm_set_attr", |ctx| {
            comm_set(ctx, h, keyval, val, kind)
        }),
        KeyvalKind::Type => super::run("MPI_Type_set_attr", |_ctx| type_set(h, keyval, val, kind)),
        KeyvalKind::Win => super::run("MPI_Win_set_attr", |ctx| {
            win_set_attr(ctx, h, keyval, val, kind)
        }),
    }
}

/// MPI_{Comm,Type,Win}_get_attr for a reader of kind `reader` (MPICH's MPII_*_get_attr):
/// the value is written to `val` as that reader sees it (object::attr::Attr::seen_by).
///
/// # Safety
/// `val` and `flag` are null or valid for a `usize` and an `int` (MPI contract).
pub unsafe fn get_attr_as(
    obj: KeyvalKind,
    h: c_int,
    keyval: c_int,
    val: *mut c_void,
    flag: *mut c_int,
    reader: AttrKind,
) -> c_int {
    match obj {
        // SAFETY: (all three) the caller's pointers (contract).
        KeyvalKind::Comm => super::run("MPI_Comm_get_attr", |ctx| unsafe {
            comm_get(ctx, h, keyval, val, flag, reader)
        }),
        KeyvalKind::Type => super::run("MPI_Type_get_attr", |_ctx| unsafe {
            type_get(h, keyval, val, flag, reader)
        }),
        KeyvalKind::Win => super::run("MPI_Win_get_attr", |ctx| unsafe {
            win_get_attr(ctx, h, keyval, val, flag, reader)
        }),
    }
}
