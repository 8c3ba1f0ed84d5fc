//! Entry points that MPICH's own libmpifort (Debian: libmpichfort.so.12) calls in the C
//! library, for programs that load it over ours instead of our libmpifort shim. MPICH's
//! Fortran attribute bindings pass the Fortran keyval (odd for the predefined attributes)
//! and an attribute type saying whether the caller wants the pointer (C) or the value
//! (Fortran); the value comes back stored as a `void *`, as MPICH's core does.
//!
//! Also MPII_Keyval_set_proxy and MPII_Grequest_set_lang_f77, with which that library has
//! the core call Fortran attribute callbacks through its proxies and Fortran generalized
//! request callbacks with Fortran conventions (the hooks are in `abi::attr` and
//! `abi::request`), and the recognition of its MPI_Register_datarep calls, whose Fortran
//! conversion functions get trampolines (the hook is in `abi::io::datarep`).

use super::attr::get_attr_value;
use super::rt::Fint;
use crate::abi::attr::{get_attr_as, set_attr_as};
use crate::object::attr::{AttrKind, KeyvalKind};
use std::os::raw::{c_int, c_void};

/// MPII_{Comm,Type,Win}_get_attr: `kind` is MPICH's MPIR_Attr_type of the reader;
/// MPIR_ATTR_PTR asks for the C view, MPIR_ATTR_AINT and MPIR_ATTR_INT for the Fortran one.
unsafe fn get(
    of: KeyvalKind,
    obj: c_int,
    keyval: c_int,
    out: *mut c_void,
    flag: *mut c_int,
    kind: c_int,
) -> c_int {
    let reader = AttrKind::from_mpich_code(kind);
    if !reader.is_integer() {
        // SAFETY: the caller's arguments, as for the C function.
        return unsafe { get_attr_as(of, obj, keyval, out, flag, reader) };
    }
    // SAFETY: flag is the caller's int; out is a `void *` slot (MPICH's binding passes the
    // address of a local `void *`).
    unsafe {
        let (r, v) = get_attr_value(of, obj, keyval as Fint, flag, reader);
        if r == 0 && *flag != 0 {
            *(out as *mut *mut c_void) = v as isize as *mut c_void;
        }
        r
    }
}

macro_rules! mpich_attr {
    ($get:ident, $set:ident, $of:ident) => {
        /// MPICH's attribute read for its Fortran bindings.
        ///
        /// # Safety
        /// As the C attribute functions.
        #[no_mangle]
        pub unsafe extern "C" fn $get(
            obj: c_int,
            keyval: c_int,
            out: *mut c_void,
            flag: *mut c_int,
            kind: c_int,
        ) -> c_int {
            // SAFETY: forwarded contract.
            unsafe { get(KeyvalKind::$of, obj, keyval, out, flag, kind) }
        }
        /// MPICH's attribute store for its Fortran bindings: the value is the `void *`, of
        /// MPICH's MPIR_Attr_type `kind`.
        #[no_mangle]
        pub extern "C" fn $set(
            obj: c_int,
            keyval: c_int,
            value: *mut c_void,
            kind: c_int,
        ) -> c_int {
            set_attr_as(
                KeyvalKind::$of,
                obj,
                keyval,
                value,
                AttrKind::from_mpich_code(kind),
            )
        }
    };
}
mpich_attr!(MPII_Comm_get_attr, MPII_Comm_set_attr, Comm);
mpich_attr!(MPII_Type_get_attr, MPII_Type_set_attr, Type);
mpich_attr!(MPII_Win_get_attr, MPII_Win_set_attr, Win);

/// MPICH's MPII_Keyval_set_proxy: the attribute callbacks of `keyval` are Fortran ones,
/// called through `copy_proxy` and `delete_proxy` (MPICH's libmpifort calls this right
/// after creating a keyval from Fortran). Returns nothing, as MPICH's.
#[no_mangle]
pub extern "C" fn MPII_Keyval_set_proxy(
    keyval: c_int,
    copy_proxy: Option<crate::abi::attr::CopyProxy>,
    delete_proxy: Option<crate::abi::attr::DeleteProxy>,
) {
    if let (Some(c), Some(d)) = (copy_proxy, delete_proxy) {
        crate::abi::attr::set_proxies(keyval, c, d);
    }
}

/// MPICH's MPII_Grequest_set_lang_f77: the callbacks of generalized request `greq` are
/// Fortran ones (arguments by reference, error in an out-argument).
#[no_mangle]
pub extern "C" fn MPII_Grequest_set_lang_f77(greq: c_int) {
    crate::abi::request::set_grequest_f77(greq);
}

// ---------------------------------------------------------------------------------------
// MPI_Register_datarep from MPICH's libmpifort. Its `use mpi`/mpif.h and mpi_f08 bindings
// (MPICH 4.0.2: pmpi_register_datarep_, pmpir_register_datarep_f08_) call the C
// MPI_Register_datarep with the user's Fortran procedures unwrapped, NULL for
// MPI_CONVERSION_FN_NULL and the *address* of the INTEGER(MPI_ADDRESS_KIND) extra state;
// they set no hook, because MPICH's ROMIO refuses user conversion functions anyway. So
// MPI_Register_datarep asks, through `called_from_mpich_fortran`, whether its caller is that
// library, and then registers Fortran trampolines instead (`mpich_datarep`).

/// `_Unwind_Reason_Code` values of the Itanium C++ ABI unwinder (libgcc_s, which the Rust
/// standard library links on Linux).
const URC_NO_REASON: c_int = 0;
const URC_NORMAL_STOP: c_int = 4;

extern "C" {
    fn _Unwind_Backtrace(
        trace: unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int,
        arg: *mut c_void,
    ) -> c_int;
    fn _Unwind_GetIP(ctx: *mut c_void) -> usize;
}

/// The base address of the loaded object holding `addr` (0 if none).
fn object_base(addr: usize) -> usize {
    // SAFETY: Dl_info is plain pointers, for which all zeroes is valid (null).
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables and fills `info`.
    if unsafe { libc::dladdr(addr as *const c_void, &mut info) } == 0 {
        return 0;
    }
    info.dli_fbase as usize
}

/// The walk's state: our object's base, the frames seen, and the first return address
/// outside our object.
struct Walk {
    ours: usize,
    frames: u32,
    caller: usize,
}

unsafe extern "C" fn walk_frame(ctx: *mut c_void, arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the Walk that `caller_outside` passes, alive for the walk.
    let w = unsafe { &mut *(arg as *mut Walk) };
    // SAFETY: `ctx` is the unwinder's context for this frame.
    let ip = unsafe { _Unwind_GetIP(ctx) };
    w.frames += 1;
    if ip != 0 && object_base(ip) != w.ours {
        w.caller = ip;
        return URC_NORMAL_STOP;
    }
    // A call from outside is a few frames up; give up past any plausible depth.
    if w.frames > 64 {
        return URC_NORMAL_STOP;
    }
    URC_NO_REASON
}

/// The return address of the nearest frame outside this library (0 if none is found).
fn caller_outside() -> usize {
    let mut w = Walk {
        ours: object_base(caller_outside as *const () as usize),
        frames: 0,
        caller: 0,
    };
    // SAFETY: the callback only touches `w`, which outlives the walk.
    unsafe { _Unwind_Backtrace(walk_frame, &mut w as *mut Walk as *mut c_void) };
    w.caller
}

/// Whether the nearest caller outside this library is MPICH's own libmpifort (Debian:
/// libmpichfort.so.12), known by `mpirinitf_`, which MPICH's has and ours does not.
pub fn called_from_mpich_fortran() -> bool {
    let ip = caller_outside();
    if ip == 0 {
        return false;
    }
    // SAFETY: Dl_info is plain pointers, for which all zeroes is valid (null).
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables and fills `info`.
    if unsafe { libc::dladdr(ip as *const c_void, &mut info) } == 0 || info.dli_fname.is_null() {
        return false;
    }
    // SAFETY: RTLD_NOLOAD only returns a handle to an object already loaded (the caller's),
    // taking a reference that dlclose gives back; dlsym only reads.
    unsafe {
        let h = libc::dlopen(info.dli_fname, libc::RTLD_LAZY | libc::RTLD_NOLOAD);
        if h.is_null() {
            return false;
        }
        let found = !libc::dlsym(h, c"mpirinitf_".as_ptr()).is_null();
        libc::dlclose(h);
        found
    }
}

/// For MPI_Register_datarep called by MPICH's libmpifort: the trampolines to register in
/// place of its caller's Fortran procedures (see above). None if `extent` is null (the C
/// checks report it).
///
/// # Safety
/// The arguments are those MPICH's binding passes: Fortran procedures of the datarep
/// interfaces (INTEGER count) or null, and the address of an INTEGER(MPI_ADDRESS_KIND).
pub unsafe fn mpich_datarep(
    read: *const c_void,
    write: *const c_void,
    extent: *const c_void,
    extra: *const i64,
) -> Option<super::callbacks::Wrapped<c_int>> {
    if extent.is_null() {
        return None;
    }
    // SAFETY: `extra` is null or the address of the caller's extra state (contract).
    let extra = if extra.is_null() {
        0
    } else {
        unsafe { *extra }
    };
    // SAFETY: Fortran procedures with an INTEGER count (contract).
    Some(unsafe { super::callbacks::Wrapped::new(read, write, extent, extra) })
}
