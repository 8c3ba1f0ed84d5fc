//! Data objects and helper functions that MPICH's mpi.h macros refer to: binaries built
//! against that header link to them by name (reference/mpich-abi-data-symbols.txt).

#![deny(unsafe_op_in_unsafe_fn)]

use std::cell::UnsafeCell;
use std::os::raw::{c_int, c_void};

/// A pointer exported as a C global.
#[repr(transparent)]
pub struct CPtr(pub *const c_void);
// SAFETY: the pointers are constant addresses of sentinels; nothing writes through them.
unsafe impl Sync for CPtr {}

static SENTINELS: [c_int; 8] = [0; 8];

macro_rules! sentinel {
    ($name:ident, $i:expr) => {
        #[no_mangle]
        pub static $name: CPtr = CPtr(&SENTINELS[$i] as *const c_int as *const c_void);
    };
}

/// A pointer exported as a writable C global (`MPI_Fint *MPI_F_STATUS_IGNORE` of mpi.h):
/// MPICH's libmpifort, loaded over this library, stores the addresses of its COMMON block
/// members there at its first call (setbot.c's mpirinitc_), so the symbol must live in
/// writable memory; the UnsafeCell keeps the static out of the read-only sections. Rust
/// code never writes it; readers use `get` (a volatile read, as the store is foreign).
#[repr(transparent)]
pub struct CVar(UnsafeCell<*const c_void>);
// SAFETY: only foreign code stores to it, once, at Fortran initialisation; Rust only reads.
unsafe impl Sync for CVar {}

impl CVar {
    const fn new(p: *const c_void) -> CVar {
        CVar(UnsafeCell::new(p))
    }
    /// The current value.
    pub fn get(&self) -> *const c_void {
        // SAFETY: the cell holds a valid, aligned pointer-sized value; the only writer is
        // foreign code at Fortran initialisation, and a volatile read sees its store.
        unsafe { std::ptr::read_volatile(self.0.get()) }
    }
}

macro_rules! variable {
    ($name:ident, $i:expr) => {
        #[no_mangle]
        pub static $name: CVar = CVar::new(&SENTINELS[$i] as *const c_int as *const c_void);
    };
}

variable!(MPI_F_STATUS_IGNORE, 0);
variable!(MPI_F_STATUSES_IGNORE, 1);
variable!(MPI_F08_STATUS_IGNORE, 2);
variable!(MPI_F08_STATUSES_IGNORE, 3);
sentinel!(MPI_UNWEIGHTED, 4);
sentinel!(MPI_WEIGHTS_EMPTY, 5);
sentinel!(MPI_T_PVAR_ALL_HANDLES, 6);

/// True if `p` is MPI_UNWEIGHTED.
pub fn is_unweighted(p: *const c_int) -> bool {
    p as *const c_void == MPI_UNWEIGHTED.0
}

/// True if `p` is MPI_WEIGHTS_EMPTY.
pub fn is_weights_empty(p: *const c_int) -> bool {
    p as *const c_void == MPI_WEIGHTS_EMPTY.0
}

/// MPI_DUP_FN / MPI_COMM_DUP_FN / MPI_TYPE_DUP_FN / MPI_WIN_DUP_FN: copy the attribute
/// value and set flag.
///
/// # Safety
/// Called by the attribute machinery with valid output pointers.
#[no_mangle]
pub unsafe extern "C" fn MPIR_Dup_fn(
    _old: c_int,
    _keyval: c_int,
    _extra: *mut c_void,
    attr_in: *mut c_void,
    attr_out: *mut c_void,
    flag: *mut c_int,
) -> c_int {
    // SAFETY: attr_out points to a void* slot and flag to an int (attribute copy protocol).
    unsafe {
        *(attr_out as *mut *mut c_void) = attr_in;
        *flag = 1;
    }
    0
}
