//! Attributes and keyvals with Fortran copy/delete functions.

use super::fort;
use super::rt::*;
use crate::abi::attr::*;
use crate::object::attr::{AttrKind, KeyvalKind};
use std::mem::transmute;
use std::os::raw::{c_int, c_void};

// Attributes. Fortran attribute values are INTEGER(KIND=MPI_ADDRESS_KIND) (INTEGER for the
// MPI-1 MPI_ATTR_PUT/GET); the C layer stores them with their kind (object::attr::AttrKind),
// so a value set in Fortran reads back unchanged in Fortran and, as in MPICH, as the address
// of the integer in C; a pointer set in C reads as its address value in Fortran. The predefined
// attributes are read through their Fortran keyvals (C keyval + 1, MPICH's values), which
// give the value itself where C gives a pointer to it.

/// C keyvals of the predefined attributes (mpi.h) and how their C value is stored.
enum Predef {
    Int,
    Aint,
    Pointer,
}
fn predefined(fortran_keyval: Fint) -> Option<(c_int, Predef)> {
    let c = fortran_keyval.wrapping_sub(1);
    let kind = match c {
        // MPI_TAG_UB, MPI_HOST, MPI_IO, MPI_WTIME_IS_GLOBAL, MPI_UNIVERSE_SIZE,
        // MPI_LASTUSEDCODE, MPI_APPNUM.
        0x6440_0001 | 0x6440_0003 | 0x6440_0005 | 0x6440_0007 | 0x6440_0009 | 0x6440_000b
        | 0x6440_000d => Predef::Int,
        0x6600_0001 => Predef::Pointer, // MPI_WIN_BASE
        0x6600_0003 => Predef::Aint,    // MPI_WIN_SIZE
        // MPI_WIN_DISP_UNIT, MPI_WIN_CREATE_FLAVOR, MPI_WIN_MODEL.
        0x6600_0005 | 0x6600_0007 | 0x6600_0009 => Predef::Int,
        _ => return None,
    };
    Some((c, kind))
}

/// Reads an attribute of object `obj` (of kind `of`) for a Fortran reader of `reader`'s
/// kind: (error code, value if set). Also serves MPICH's libmpifort through
/// `MPII_*_get_attr` (mpich.rs).
pub(super) unsafe fn get_attr_value(
    of: KeyvalKind,
    obj: Fint,
    keyval: Fint,
    flag: *mut Fint,
    reader: AttrKind,
) -> (c_int, i64) {
    let mut v: *mut c_void = std::ptr::null_mut();
    let (kv, kind) = match predefined(keyval) {
        Some((c, k)) => (c, Some(k)),
        None => (keyval, None),
    };
    let r = get_attr_as(
        of,
        obj,
        kv,
        &mut v as *mut *mut c_void as *mut c_void,
        flag,
        reader,
    );
    if r != MPI_SUCCESS || rd(flag) == 0 {
        return (r, 0);
    }
    let value = match kind {
        None | Some(Predef::Pointer) => v as i64,
        Some(Predef::Int) if !v.is_null() => rd(v as *const c_int) as i64,
        Some(Predef::Aint) if !v.is_null() => rd(v as *const i64),
        Some(_) => 0,
    };
    (r, value)
}

macro_rules! attr_get_binding {
    ([$($alias:ident),*] $imp:ident, $c:ident) => {
        fort! { [$($alias),*] $imp (obj: *const Fint, keyval: *const Fint, value: *mut i64, flag: *mut Fint,
            ierror: *mut Fint) {
            let (r, v) = get_attr_value(KeyvalKind::$c, rd(obj), rd(keyval), flag, AttrKind::Aint);
            if r == MPI_SUCCESS {
                wr(value, v);
            }
            set_ierr(ierror, r);
        } }
    };
}
attr_get_binding!([pmpi_comm_get_attr, pmpi_comm_get_attr__, PMPI_COMM_GET_ATTR, mpi_comm_get_attr,
    mpi_comm_get_attr_, mpi_comm_get_attr__, MPI_COMM_GET_ATTR] pmpi_comm_get_attr_, Comm);
attr_get_binding!([pmpi_type_get_attr, pmpi_type_get_attr__, PMPI_TYPE_GET_ATTR, mpi_type_get_attr,
    mpi_type_get_attr_, mpi_type_get_attr__, MPI_TYPE_GET_ATTR] pmpi_type_get_attr_, Type);
attr_get_binding!([pmpi_win_get_attr, pmpi_win_get_attr__, PMPI_WIN_GET_ATTR, mpi_win_get_attr,
    mpi_win_get_attr_, mpi_win_get_attr__, MPI_WIN_GET_ATTR] pmpi_win_get_attr_, Win);

fort! { [pmpi_attr_get, pmpi_attr_get__, PMPI_ATTR_GET, mpi_attr_get, mpi_attr_get_, mpi_attr_get__, MPI_ATTR_GET]
pmpi_attr_get_ (comm: *const Fint, keyval: *const Fint, value: *mut Fint, flag: *mut Fint, ierror: *mut Fint) {
    let (r, v) = get_attr_value(KeyvalKind::Comm, rd(comm), rd(keyval), flag, AttrKind::Int);
    if r == MPI_SUCCESS {
        wr(value, v as Fint);
    }
    set_ierr(ierror, r);
} }

macro_rules! attr_set_binding {
    ([$($alias:ident),*] $imp:ident, $c:ident) => {
        fort! { [$($alias),*] $imp (obj: *const Fint, keyval: *const Fint, value: *const i64, ierror: *mut Fint) {
            let value = rd(value) as isize as *mut c_void;
            set_ierr(ierror, set_attr_as(KeyvalKind::$c, rd(obj), rd(keyval), value, AttrKind::Aint));
        } }
    };
}
attr_set_binding!([pmpi_comm_set_attr, pmpi_comm_set_attr__, PMPI_COMM_SET_ATTR, mpi_comm_set_attr,
    mpi_comm_set_attr_, mpi_comm_set_attr__, MPI_COMM_SET_ATTR] pmpi_comm_set_attr_, Comm);
attr_set_binding!([pmpi_type_set_attr, pmpi_type_set_attr__, PMPI_TYPE_SET_ATTR, mpi_type_set_attr,
    mpi_type_set_attr_, mpi_type_set_attr__, MPI_TYPE_SET_ATTR] pmpi_type_set_attr_, Type);
attr_set_binding!([pmpi_win_set_attr, pmpi_win_set_attr__, PMPI_WIN_SET_ATTR, mpi_win_set_attr,
    mpi_win_set_attr_, mpi_win_set_attr__, MPI_WIN_SET_ATTR] pmpi_win_set_attr_, Win);

fort! { [pmpi_attr_put, pmpi_attr_put__, PMPI_ATTR_PUT, mpi_attr_put, mpi_attr_put_, mpi_attr_put__, MPI_ATTR_PUT]
pmpi_attr_put_ (comm: *const Fint, keyval: *const Fint, value: *const Fint, ierror: *mut Fint) {
    let value = rd(value) as isize as *mut c_void;
    set_ierr(ierror, set_attr_as(KeyvalKind::Comm, rd(comm), rd(keyval), value, AttrKind::Int));
} }

// Keyvals with Fortran copy/delete functions: the C layer gets trampolines, and the extra
// state it hands them is a record of the Fortran functions and the user's extra state. The
// record lives as long as the program: attributes may outlive MPI_*_FREE_KEYVAL and still
// need their delete function.
type CopyF = unsafe extern "C" fn(
    *const Fint,
    *const Fint,
    *const i64,
    *const i64,
    *mut i64,
    *mut Fint,
    *mut Fint,
);
type DeleteF = unsafe extern "C" fn(*const Fint, *const Fint, *const i64, *const i64, *mut Fint);
type CopyF77 = unsafe extern "C" fn(
    *const Fint,
    *const Fint,
    *const Fint,
    *const Fint,
    *mut Fint,
    *mut Fint,
    *mut Fint,
);
type DeleteF77 =
    unsafe extern "C" fn(*const Fint, *const Fint, *const Fint, *const Fint, *mut Fint);

struct Keyval {
    copy: usize,
    delete: usize,
    extra: i64,
    /// MPI_KEYVAL_CREATE: INTEGER values and extra state instead of address-sized ones.
    f77: bool,
}

unsafe extern "C" fn copy_tramp(
    old: c_int,
    keyval: c_int,
    extra: *mut c_void,
    attr_in: *mut c_void,
    attr_out: *mut c_void,
    flag: *mut c_int,
) -> c_int {
    let k = &*(extra as *const Keyval);
    let mut ierr: Fint = MPI_SUCCESS;
    let mut fl: Fint = 0;
    let out: i64;
    if k.f77 {
        let f = transmute::<usize, CopyF77>(k.copy);
        let (e, vin) = (k.extra as Fint, attr_in as isize as Fint);
        let mut vout: Fint = 0;
        f(&old, &keyval, &e, &vin, &mut vout, &mut fl, &mut ierr);
        out = vout as i64;
    } else {
        let f = transmute::<usize, CopyF>(k.copy);
        let vin = attr_in as isize as i64;
        let mut vout: i64 = 0;
        f(&old, &keyval, &k.extra, &vin, &mut vout, &mut fl, &mut ierr);
        out = vout;
    }
    *flag = (fl != 0) as c_int;
    if fl != 0 {
        *(attr_out as *mut *mut c_void) = out as isize as *mut c_void;
    }
    ierr
}

unsafe extern "C" fn delete_tramp(
    obj: c_int,
    keyval: c_int,
    attr: *mut c_void,
    extra: *mut c_void,
) -> c_int {
    let k = &*(extra as *const Keyval);
    let mut ierr: Fint = MPI_SUCCESS;
    if k.f77 {
        let f = transmute::<usize, DeleteF77>(k.delete);
        f(
            &obj,
            &keyval,
            &(attr as isize as Fint),
            &(k.extra as Fint),
            &mut ierr,
        );
    } else {
        let f = transmute::<usize, DeleteF>(k.delete);
        f(&obj, &keyval, &(attr as isize as i64), &k.extra, &mut ierr);
    }
    ierr
}

// The C layer calls the trampolines through these proxies (MPICH's MPII_Keyval_set_proxy
// mechanism), which get the stored value itself whatever its kind: a C callback would be
// given the address of a Fortran-set value instead.
unsafe extern "C" fn copy_proxy(
    _tramp: usize,
    old: c_int,
    keyval: c_int,
    extra: *mut c_void,
    _kind: c_int,
    attr_in: *mut c_void,
    attr_out: *mut *mut c_void,
    flag: *mut c_int,
) -> c_int {
    copy_tramp(old, keyval, extra, attr_in, attr_out as *mut c_void, flag)
}
unsafe extern "C" fn delete_proxy(
    _tramp: usize,
    obj: c_int,
    keyval: c_int,
    _kind: c_int,
    attr: *mut c_void,
    extra: *mut c_void,
) -> c_int {
    delete_tramp(obj, keyval, attr, extra)
}

type CreateKeyval = unsafe extern "C" fn(usize, usize, *mut c_int, *mut c_void) -> c_int;

unsafe fn create_keyval(
    create: usize,
    copy: *const c_void,
    delete: *const c_void,
    keyval: *mut Fint,
    extra: i64,
    f77: bool,
) -> c_int {
    let rec = Box::into_raw(Box::new(Keyval {
        copy: copy as usize,
        delete: delete as usize,
        extra,
        f77,
    }));
    let create = transmute::<usize, CreateKeyval>(create);
    let r = create(
        copy_tramp as *const () as usize,
        delete_tramp as *const () as usize,
        keyval,
        rec as *mut c_void,
    );
    if r != MPI_SUCCESS {
        drop(Box::from_raw(rec));
    } else {
        set_proxies(rd(keyval), copy_proxy, delete_proxy);
    }
    r
}

macro_rules! keyval_binding {
    ([$($alias:ident),*] $imp:ident, $c:ident) => {
        fort! { [$($alias),*] $imp (copy: *const c_void, delete: *const c_void, keyval: *mut Fint,
            extra: *const i64, ierror: *mut Fint) {
            set_ierr(ierror, create_keyval($c as *const () as usize, copy, delete, keyval, rd(extra), false));
        } }
    };
}
keyval_binding!([pmpi_comm_create_keyval, pmpi_comm_create_keyval__, PMPI_COMM_CREATE_KEYVAL,
    mpi_comm_create_keyval, mpi_comm_create_keyval_, mpi_comm_create_keyval__, MPI_COMM_CREATE_KEYVAL]
    pmpi_comm_create_keyval_, PMPI_Comm_create_keyval);
keyval_binding!([pmpi_type_create_keyval, pmpi_type_create_keyval__, PMPI_TYPE_CREATE_KEYVAL,
    mpi_type_create_keyval, mpi_type_create_keyval_, mpi_type_create_keyval__, MPI_TYPE_CREATE_KEYVAL]
    pmpi_type_create_keyval_, PMPI_Type_create_keyval);
keyval_binding!([pmpi_win_create_keyval, pmpi_win_create_keyval__, PMPI_WIN_CREATE_KEYVAL,
    mpi_win_create_keyval, mpi_win_create_keyval_, mpi_win_create_keyval__, MPI_WIN_CREATE_KEYVAL]
    pmpi_win_create_keyval_, PMPI_Win_create_keyval);

fort! { [pmpi_keyval_create, pmpi_keyval_create__, PMPI_KEYVAL_CREATE, mpi_keyval_create,
    mpi_keyval_create_, mpi_keyval_create__, MPI_KEYVAL_CREATE]
pmpi_keyval_create_ (copy: *const c_void, delete: *const c_void, keyval: *mut Fint, extra: *const Fint,
    ierror: *mut Fint) {
    set_ierr(ierror, create_keyval(PMPI_Comm_create_keyval as *const () as usize, copy, delete, keyval, rd(extra) as i64, true));
} }

// The predefined copy and delete functions, callable from Fortran (mpif.h declares them
// EXTERNAL). Address-sized values for the MPI-2 names, INTEGER ones for the MPI-1 names.
macro_rules! null_copy {
    ([$($alias:ident),*] $imp:ident, $t:ty) => {
        fort! { [$($alias),*] $imp (_old: *const Fint, _keyval: *const Fint, _extra: *const $t,
            _vin: *const $t, _vout: *mut $t, flag: *mut Fint, ierror: *mut Fint) {
            wr(flag, 0);
            set_ierr(ierror, MPI_SUCCESS);
        } }
    };
}
macro_rules! dup_copy {
    ([$($alias:ident),*] $imp:ident, $t:ty) => {
        fort! { [$($alias),*] $imp (_old: *const Fint, _keyval: *const Fint, _extra: *const $t,
            vin: *const $t, vout: *mut $t, flag: *mut Fint, ierror: *mut Fint) {
            wr(vout, rd(vin));
            wr(flag, 1);
            set_ierr(ierror, MPI_SUCCESS);
        } }
    };
}
macro_rules! null_delete {
    ([$($alias:ident),*] $imp:ident, $t:ty) => {
        fort! { [$($alias),*] $imp (_obj: *const Fint, _keyval: *const Fint, _v: *const $t,
            _extra: *const $t, ierror: *mut Fint) {
            set_ierr(ierror, MPI_SUCCESS);
        } }
    };
}
null_copy!([pmpi_comm_null_copy_fn, pmpi_comm_null_copy_fn__, PMPI_COMM_NULL_COPY_FN, mpi_comm_null_copy_fn,
    mpi_comm_null_copy_fn_, mpi_comm_null_copy_fn__, MPI_COMM_NULL_COPY_FN] pmpi_comm_null_copy_fn_, i64);
null_copy!([pmpi_type_null_copy_fn, pmpi_type_null_copy_fn__, PMPI_TYPE_NULL_COPY_FN, mpi_type_null_copy_fn,
    mpi_type_null_copy_fn_, mpi_type_null_copy_fn__, MPI_TYPE_NULL_COPY_FN] pmpi_type_null_copy_fn_, i64);
null_copy!([pmpi_win_null_copy_fn, pmpi_win_null_copy_fn__, PMPI_WIN_NULL_COPY_FN, mpi_win_null_copy_fn,
    mpi_win_null_copy_fn_, mpi_win_null_copy_fn__, MPI_WIN_NULL_COPY_FN] pmpi_win_null_copy_fn_, i64);
null_copy!([pmpi_null_copy_fn, pmpi_null_copy_fn__, PMPI_NULL_COPY_FN, mpi_null_copy_fn,
    mpi_null_copy_fn_, mpi_null_copy_fn__, MPI_NULL_COPY_FN] pmpi_null_copy_fn_, Fint);
dup_copy!([pmpi_comm_dup_fn, pmpi_comm_dup_fn__, PMPI_COMM_DUP_FN, mpi_comm_dup_fn,
    mpi_comm_dup_fn_, mpi_comm_dup_fn__, MPI_COMM_DUP_FN] pmpi_comm_dup_fn_, i64);
dup_copy!([pmpi_type_dup_fn, pmpi_type_dup_fn__, PMPI_TYPE_DUP_FN, mpi_type_dup_fn,
    mpi_type_dup_fn_, mpi_type_dup_fn__, MPI_TYPE_DUP_FN] pmpi_type_dup_fn_, i64);
dup_copy!([pmpi_win_dup_fn, pmpi_win_dup_fn__, PMPI_WIN_DUP_FN, mpi_win_dup_fn,
    mpi_win_dup_fn_, mpi_win_dup_fn__, MPI_WIN_DUP_FN] pmpi_win_dup_fn_, i64);
dup_copy!([pmpi_dup_fn, pmpi_dup_fn__, PMPI_DUP_FN, mpi_dup_fn,
    mpi_dup_fn_, mpi_dup_fn__, MPI_DUP_FN] pmpi_dup_fn_, Fint);
null_delete!([pmpi_comm_null_delete_fn, pmpi_comm_null_delete_fn__, PMPI_COMM_NULL_DELETE_FN,
    mpi_comm_null_delete_fn, mpi_comm_null_delete_fn_, mpi_comm_null_delete_fn__, MPI_COMM_NULL_DELETE_FN]
    pmpi_comm_null_delete_fn_, i64);
null_delete!([pmpi_type_null_delete_fn, pmpi_type_null_delete_fn__, PMPI_TYPE_NULL_DELETE_FN,
    mpi_type_null_delete_fn, mpi_type_null_delete_fn_, mpi_type_null_delete_fn__, MPI_TYPE_NULL_DELETE_FN]
    pmpi_type_null_delete_fn_, i64);
null_delete!([pmpi_win_null_delete_fn, pmpi_win_null_delete_fn__, PMPI_WIN_NULL_DELETE_FN,
    mpi_win_null_delete_fn, mpi_win_null_delete_fn_, mpi_win_null_delete_fn__, MPI_WIN_NULL_DELETE_FN]
    pmpi_win_null_delete_fn_, i64);
null_delete!([pmpi_null_delete_fn, pmpi_null_delete_fn__, PMPI_NULL_DELETE_FN, mpi_null_delete_fn,
    mpi_null_delete_fn_, mpi_null_delete_fn__, MPI_NULL_DELETE_FN] pmpi_null_delete_fn_, Fint);
