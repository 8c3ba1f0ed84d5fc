//! What every Fortran binding shares: reading and writing by-reference arguments, the
//! special addresses of mpif.h / `use mpi`, CHARACTER arguments, statuses.

use std::cell::UnsafeCell;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::OnceLock;

/// Fortran INTEGER (MPI_Fint).
pub type Fint = c_int;

/// The codes the bindings return themselves (mpi.h values).
pub const MPI_SUCCESS: c_int = 0;
pub const MPI_UNDEFINED: c_int = -32766;
pub const MPI_ERR_OTHER: c_int = 15;

/// Reads a by-reference input argument.
///
/// # Safety
/// `p` points to a live value (Fortran passes every argument by reference).
#[inline(always)]
pub unsafe fn rd<T: Copy>(p: *const T) -> T {
    // SAFETY: see the function's contract.
    unsafe { *p }
}

/// Writes a by-reference output argument.
///
/// # Safety
/// `p` points to live, writable storage.
#[inline(always)]
pub unsafe fn wr<T>(p: *mut T, v: T) {
    // SAFETY: see the function's contract.
    unsafe { *p = v }
}

/// Stores the error code in `ierror`. MPICH's mpif.h requires the argument; a compiler
/// that passes an absent optional argument passes null, which is skipped.
#[inline(always)]
pub fn set_ierr(ierror: *mut Fint, code: c_int) {
    if !ierror.is_null() {
        // SAFETY: a non-null ierror is the caller's INTEGER.
        unsafe { *ierror = code }
    }
}

// ---------------------------------------------------------------------------------------
// The special addresses. mpif.h puts MPI_BOTTOM, MPI_IN_PLACE, MPI_STATUS(ES)_IGNORE, ... in
// COMMON blocks named as MPICH names them (MPIPRIV1, MPIPRIV2, MPIPRIVC, MPIFCMB5, MPIFCMB9),
// so a program passes the address of a block member and the binding compares with it. The
// program usually allocates the blocks itself (gfortran exports them from the executable),
// so the addresses are looked up with the loader's global order, which is the one the
// program's own references follow; the blocks exported here serve programs that do not.

/// A COMMON block exported by the library (`mpipriv1_` etc.).
#[repr(C, align(16))]
pub struct Common<T>(UnsafeCell<T>);
// SAFETY: the library never writes to the blocks; only their addresses are used.
unsafe impl<T> Sync for Common<T> {}

/// MPI_BOTTOM, MPI_IN_PLACE, MPI_STATUS_IGNORE(5).
#[no_mangle]
pub static mpipriv1_: Common<[Fint; 7]> = Common(UnsafeCell::new([0; 7]));
/// MPI_STATUSES_IGNORE(5,1), MPI_ERRCODES_IGNORE(1).
#[no_mangle]
pub static mpipriv2_: Common<[Fint; 6]> = Common(UnsafeCell::new([0; 6]));
/// MPI_ARGVS_NULL(1,1), MPI_ARGV_NULL(1) (CHARACTER*1).
#[no_mangle]
pub static mpiprivc_: Common<[u8; 4]> = Common(UnsafeCell::new([0; 4]));
/// MPI_UNWEIGHTED.
#[no_mangle]
pub static mpifcmb5_: Common<Fint> = Common(UnsafeCell::new(0));
/// MPI_WEIGHTS_EMPTY.
#[no_mangle]
pub static mpifcmb9_: Common<Fint> = Common(UnsafeCell::new(0));

/// Addresses of the Fortran special values: each has two, its mpif.h / `use mpi` one (a
/// COMMON block member) and its `use mpi_f08` one (a variable of the modules compiled into
/// libmpifort.so.12, under the names MPICH's modules give them; absent in C-only programs).
pub struct Specials {
    pub bottom: [usize; 2],
    pub in_place: [usize; 2],
    pub status_ignore: [usize; 2],
    pub statuses_ignore: [usize; 2],
    pub errcodes_ignore: [usize; 2],
    pub argvs_null: [usize; 2],
    pub argv_null: [usize; 2],
    pub unweighted: [usize; 2],
    pub weights_empty: [usize; 2],
}

/// Whether `p` is one of the two addresses of a special value.
#[inline]
pub fn is(p: *const c_void, special: &[usize; 2]) -> bool {
    special.contains(&(p as usize))
}

/// Address of COMMON block `name` as the program sees it.
fn common(name: &CStr, ours: *const c_void) -> usize {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only reads.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if p.is_null() {
        ours as usize
    } else {
        p as usize
    }
}

/// Address of a `use mpi_f08` special value, or 1 (no Fortran variable lives there) when the
/// program has no mpi_f08 modules.
pub fn f08(name: &CStr) -> usize {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only reads.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if p.is_null() {
        1
    } else {
        p as usize
    }
}

/// The special addresses, looked up once.
pub fn specials() -> &'static Specials {
    static S: OnceLock<Specials> = OnceLock::new();
    S.get_or_init(|| {
        let p1 = common(c"mpipriv1_", mpipriv1_.0.get() as *const c_void);
        let p2 = common(c"mpipriv2_", mpipriv2_.0.get() as *const c_void);
        let pc = common(c"mpiprivc_", mpiprivc_.0.get() as *const c_void);
        let link = |n: &str| {
            f08(&std::ffi::CString::new(format!("__mpi_f08_link_constants_MOD_{n}")).unwrap())
        };
        Specials {
            bottom: [p1, f08(c"MPIR_F08_MPI_BOTTOM")],
            in_place: [p1 + 4, f08(c"MPIR_F08_MPI_IN_PLACE")],
            status_ignore: [p1 + 8, f08(c"MPIR_F08_MPI_STATUS_IGNORE_OBJ")],
            statuses_ignore: [p2, f08(c"MPIR_F08_MPI_STATUSES_IGNORE_OBJ")],
            errcodes_ignore: [p2 + 20, link("mpi_errcodes_ignore")],
            argvs_null: [pc, link("mpi_argvs_null")],
            argv_null: [pc + 1, link("mpi_argv_null")],
            unweighted: [
                common(c"mpifcmb5_", mpifcmb5_.0.get() as *const c_void),
                link("mpi_unweighted"),
            ],
            weights_empty: [
                common(c"mpifcmb9_", mpifcmb9_.0.get() as *const c_void),
                link("mpi_weights_empty"),
            ],
        }
    })
}

/// C's MPI_STATUS_IGNORE / MPI_STATUSES_IGNORE (mpi.h: `(MPI_Status *)1`).
const C_STATUS_IGNORE: usize = 1;
/// C's MPI_IN_PLACE (mpi.h: `(void *)-1`).
const C_IN_PLACE: usize = usize::MAX;

/// A choice buffer: the Fortran MPI_BOTTOM becomes the C one.
#[inline]
pub fn buf(p: *mut c_void) -> *mut c_void {
    if is(p, &specials().bottom) {
        std::ptr::null_mut()
    } else {
        p
    }
}

/// A choice buffer that may be MPI_IN_PLACE (the send buffer of collectives, the receive
/// buffer of scatters): MPI_BOTTOM and MPI_IN_PLACE become the C ones. Elsewhere, as in
/// MPICH, MPI_IN_PLACE stays the address of its COMMON block member.
#[inline]
pub fn buf_in_place(p: *mut c_void) -> *mut c_void {
    if is(p, &specials().in_place) {
        C_IN_PLACE as *mut c_void
    } else {
        buf(p)
    }
}

/// A status argument: the Fortran MPI_STATUS_IGNORE becomes the C one. Otherwise the
/// INTEGER(MPI_STATUS_SIZE) array has the C struct's layout.
#[inline]
pub fn status(p: *mut Fint) -> *mut c_void {
    if is(p as _, &specials().status_ignore) {
        C_STATUS_IGNORE as *mut c_void
    } else {
        p as *mut c_void
    }
}

/// An array of statuses: MPI_STATUSES_IGNORE becomes the C one.
#[inline]
pub fn statuses(p: *mut Fint) -> *mut c_void {
    let s = specials();
    // MPI_STATUS_IGNORE passed where an array is expected is accepted as MPICH does.
    if is(p as _, &s.statuses_ignore) || is(p as _, &s.status_ignore) {
        C_STATUS_IGNORE as *mut c_void
    } else {
        p as *mut c_void
    }
}

/// A weights array of the distributed graph functions: MPI_UNWEIGHTED and
/// MPI_WEIGHTS_EMPTY become the C sentinels.
#[inline]
pub fn weights(p: *mut Fint) -> *mut Fint {
    let s = specials();
    if is(p as _, &s.unweighted) {
        super::super::symbols::MPI_UNWEIGHTED.0 as *mut Fint
    } else if is(p as _, &s.weights_empty) {
        super::super::symbols::MPI_WEIGHTS_EMPTY.0 as *mut Fint
    } else {
        p
    }
}

/// An array of error codes: MPI_ERRCODES_IGNORE becomes C's (null).
#[inline]
pub fn errcodes(p: *mut Fint) -> *mut Fint {
    if is(p as _, &specials().errcodes_ignore) {
        std::ptr::null_mut()
    } else {
        p
    }
}

// ---------------------------------------------------------------------------------------
// CHARACTER arguments: a pointer and a hidden length (size_t, gfortran >= 8), no NUL.

/// Blank-trimmed copy of a Fortran string (leading and trailing blanks are not part of
/// names and keys, as in MPICH), NUL-terminated. A NUL inside ends the string.
pub fn str_in(p: *const c_char, len: usize) -> Vec<u8> {
    let bytes: &[u8] = if p.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: Fortran passes `len` readable characters at `p`.
        unsafe { std::slice::from_raw_parts(p as *const u8, len) }
    };
    let bytes = match bytes.iter().position(|&b| b == 0) {
        Some(n) => &bytes[..n],
        None => bytes,
    };
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    let mut v = Vec::with_capacity(end - start + 1);
    v.extend_from_slice(&bytes[start..end]);
    v.push(0);
    v
}

/// Space for a C output string. The C functions write at most their MPI_MAX_* length
/// (the largest is MPI_MAX_LIBRARY_VERSION_STRING, 8192) or the length they are given.
pub struct StrOut(Vec<u8>);

impl StrOut {
    pub fn new(len: usize) -> StrOut {
        StrOut(vec![0; len.max(8192) + 1])
    }
    pub fn ptr(&mut self) -> *mut c_char {
        self.0.as_mut_ptr() as *mut c_char
    }
    /// Copies the C string into the Fortran one, truncated to `len` and padded with blanks.
    pub fn copy_to(&self, dst: *mut c_char, len: usize) {
        if dst.is_null() {
            return;
        }
        let n = self
            .0
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.0.len())
            .min(len);
        // SAFETY: Fortran passes `len` writable characters at `dst`.
        let out = unsafe { std::slice::from_raw_parts_mut(dst as *mut u8, len) };
        out[..n].copy_from_slice(&self.0[..n]);
        out[n..].fill(b' ');
    }
}

/// Reads an array of Fortran strings (`CHARACTER*(len) a(*)`): `count` of them, or up to the
/// first blank one when `count` is None. Returns the C strings (NUL-terminated).
pub fn str_array(
    p: *const c_char,
    len: usize,
    stride: usize,
    count: Option<usize>,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        if count == Some(i) {
            break;
        }
        // SAFETY: element i of the caller's array starts i*stride characters in.
        let s = str_in(unsafe { p.add(i * stride) }, len);
        if count.is_none() && s.len() == 1 {
            break;
        }
        out.push(s);
        i += 1;
    }
    out
}

/// A C `char **` over `strs`, terminated by a null pointer.
pub fn c_argv(strs: &mut [Vec<u8>]) -> Vec<*mut c_char> {
    let mut v: Vec<*mut c_char> = strs
        .iter_mut()
        .map(|s| s.as_mut_ptr() as *mut c_char)
        .collect();
    v.push(std::ptr::null_mut());
    v
}
