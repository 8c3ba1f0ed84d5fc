//! Entry points that MPICH's own libmpifort (Debian: libmpichfort.so.12) calls in the C
//! library, for programs that load it over ours instead of our libmpifort shim. MPICH's
//! Fortran attribute bindings pass the Fortran keyval (odd for the predefined attributes)
//! and an attribute type saying whether the caller wants the pointer (C) or the value
//! (Fortran); the value comes back stored as a `void *`, as MPICH's core does.
//!
//! Also MPII_Keyval_set_proxy and MPII_Grequest_set_lang_f77, with which that library has
//! the core call Fortran attribute callbacks through its proxies and Fortran generalized
//! request callbacks with Fortran conventions (the hooks are in `abi::attr` and
//! `abi::request`).

use super::attr::get_attr_value;
use super::rt::Fint;
use std::os::raw::{c_int, c_void};

/// MPIR_Attr_type: MPIR_ATTR_PTR (0) asks for the C view; MPIR_ATTR_AINT (1) and
/// MPIR_ATTR_INT (3) for the Fortran one.
const MPIR_ATTR_PTR: c_int = 0;

type GetAttr = unsafe extern "C" fn(c_int, c_int, *mut c_void, *mut c_int) -> c_int;
type SetAttr = unsafe extern "C" fn(c_int, c_int, *mut c_void) -> c_int;

unsafe fn get(
    getter: GetAttr,
    obj: c_int,
    keyval: c_int,
    out: *mut c_void,
    flag: *mut c_int,
    kind: c_int,
) -> c_int {
    if kind == MPIR_ATTR_PTR {
        // SAFETY: the caller's arguments, as for the C function.
        return unsafe { getter(obj, keyval, out, flag) };
    }
    // SAFETY: flag is the caller's int; out is a `void *` slot (MPICH's binding passes the
    // address of a local `void *`).
    unsafe {
        let (r, v) = get_attr_value(getter, obj, keyval as Fint, flag);
        if r == 0 && *flag != 0 {
            *(out as *mut *mut c_void) = v as isize as *mut c_void;
        }
        r
    }
}

macro_rules! mpich_attr {
    ($get:ident, $set:ident, $cget:path, $cset:path) => {
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
            unsafe { get($cget as GetAttr, obj, keyval, out, flag, kind) }
        }
        /// MPICH's attribute store for its Fortran bindings: the value is the `void *`.
        ///
        /// # Safety
        /// As the C attribute functions.
        #[no_mangle]
        pub unsafe extern "C" fn $set(
            obj: c_int,
            keyval: c_int,
            value: *mut c_void,
            _kind: c_int,
        ) -> c_int {
            // SAFETY: forwarded contract.
            unsafe { ($cset as SetAttr)(obj, keyval, value) }
        }
    };
}
mpich_attr!(
    MPII_Comm_get_attr,
    MPII_Comm_set_attr,
    crate::abi::attr::PMPI_Comm_get_attr,
    crate::abi::attr::PMPI_Comm_set_attr
);
mpich_attr!(
    MPII_Type_get_attr,
    MPII_Type_set_attr,
    crate::abi::attr::PMPI_Type_get_attr,
    crate::abi::attr::PMPI_Type_set_attr
);
mpich_attr!(
    MPII_Win_get_attr,
    MPII_Win_set_attr,
    crate::abi::attr::PMPI_Win_get_attr,
    crate::abi::attr::PMPI_Win_set_attr
);

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
