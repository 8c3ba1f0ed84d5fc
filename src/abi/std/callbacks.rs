//! User callbacks of the standard face. The MPICH-ABI implementation calls a callback with
//! MPICH handles and codes; the user's function expects the standard's. Each callback is
//! therefore registered as a trampoline that translates and calls the user's function:
//!
//! * callbacks that carry an `extra_state` (attribute copy/delete, generalized requests,
//!   data representations) get a boxed record of the user's functions and extra state as
//!   their extra state, and one trampoline per signature;
//! * reduction functions are not callbacks of the MPICH face at all: the op's closure calls
//!   the user's function directly (`op_create`), so there is no limit on them;
//! * callbacks without an extra state (errhandler functions) get a trampoline from
//!   a fixed pool, one slot per distinct user function (`Pool`): the slot index is a const
//!   generic parameter, so slot N's trampoline finds its user function in `fns[N]`. A
//!   function registered twice reuses its slot, so the pool bounds the number of distinct
//!   functions, not of objects (POOL_SIZE of each kind).
//!
//! The boxed records of keyvals and datareps live as long as the process (MPI gives no
//! point after which no callback of a freed keyval can run); a generalized request's record
//! is freed by its free callback.

use super::handles as h;
use super::mpich as imp;
use super::status as st;
use super::values as v;
use crate::error::{class, MpiError};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Slots per kind of pooled callback.
pub const POOL_SIZE: usize = 64;

/// A pool of trampolines: `fns[i]` is the user function trampoline `i` calls (0: free).
pub struct Pool {
    fns: [AtomicUsize; POOL_SIZE],
    lock: parking_lot::Mutex<()>,
}

impl Pool {
    pub const fn new() -> Pool {
        #[allow(clippy::declare_interior_mutable_const)]
        const FREE: AtomicUsize = AtomicUsize::new(0);
        Pool {
            fns: [FREE; POOL_SIZE],
            lock: parking_lot::Mutex::new(()),
        }
    }
    /// The slot of user function `f` (a new one if it has none); None when the pool is full.
    fn slot(&self, f: usize) -> Option<usize> {
        let _g = self.lock.lock();
        if let Some(i) = self.fns.iter().position(|s| s.load(Ordering::Acquire) == f) {
            return Some(i);
        }
        let i = self
            .fns
            .iter()
            .position(|s| s.load(Ordering::Acquire) == 0)?;
        self.fns[i].store(f, Ordering::Release);
        Some(i)
    }
    pub fn get(&self, i: usize) -> usize {
        self.fns[i].load(Ordering::Acquire)
    }
}

/// `[f::<0>, f::<1>, ..., f::<63>]`.
macro_rules! trampolines {
    ($f:ident as $ty:ty) => {
        trampolines!(@ $f $ty; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26
            27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54
            55 56 57 58 59 60 61 62 63)
    };
    (@ $f:ident $ty:ty; $($n:literal)*) => { [$($f::<$n> as $ty),*] };
}
#[allow(unused_imports)]
pub(crate) use trampolines;

/// The trampoline address for user function `user_fn` (`tramp(slot)`), 0 for a null
/// function (which the implementation reports), or the error code of a full pool.
pub fn pooled(
    func: &'static str,
    pool: &Pool,
    user_fn: usize,
    tramp: impl Fn(usize) -> usize,
) -> Result<usize, c_int> {
    if user_fn == 0 {
        return Ok(0);
    }
    pool.slot(user_fn).map(tramp).ok_or_else(|| pool_full(func))
}

/// Reports a full pool through the errhandler, as the MPICH face reports its errors.
fn pool_full(func: &'static str) -> c_int {
    v::err_out(crate::abi::run(func, |_| {
        Err(MpiError::new(
            class::ERR_OTHER,
            format!(
                "{func}: more than {POOL_SIZE} distinct callback functions registered \
                 (the standard-ABI face's trampoline pool is full)"
            ),
        ))
    }))
}

// ---------------------------------------------------------------------------------------
// Reduction functions
// ---------------------------------------------------------------------------------------

type StdUserFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_int, *mut usize);
type StdUserFnC = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut i64, *mut usize);

/// Runs `call` with a pointer to a local MPICH handle (or NULL if `out` is NULL) and stores
/// the result into `out` as a standard handle.
///
/// # Safety
/// `out` is NULL or writable.
pub unsafe fn out_handle(
    out: *mut usize,
    conv: fn(c_int) -> usize,
    call: impl FnOnce(*mut c_int) -> c_int,
) -> c_int {
    let mut m: c_int = 0;
    let p = if out.is_null() {
        std::ptr::null_mut()
    } else {
        &mut m as *mut c_int
    };
    let rc = call(p);
    if rc == 0 && !out.is_null() {
        // SAFETY: non-null and writable by the caller's contract.
        unsafe { *out = conv(m) };
    }
    v::err_out(rc)
}

/// Defines PMPI_X / MPI_X of the standard face with the body given.
macro_rules! face {
    ($mpi:ident, $pmpi:ident, ($($a:ident : $t:ty),* $(,)?) $body:block) => {
        #[no_mangle]
        pub unsafe extern "C" fn $pmpi($($a: $t),*) -> c_int {
            #[allow(unused_unsafe)]
            // SAFETY: the arguments are what the standard-ABI prototype asks for; the body
            // hands them on unchanged or translated.
            unsafe { $body }
        }
        #[no_mangle]
        pub unsafe extern "C" fn $mpi($($a: $t),*) -> c_int {
            // SAFETY: same contract as the PMPI_ function it forwards to.
            unsafe { $pmpi($($a),*) }
        }
    };
}
pub(crate) use face;

/// MPI_Op_create(_c) of the standard face: the op's closure calls the user's function with
/// the datatype translated to a standard handle. No trampoline, so any number of distinct
/// functions. `call(f)` makes the closure; errors go through the errhandler as in the MPICH
/// face.
///
/// # Safety
/// `op` is NULL or writable (MPI contract).
unsafe fn op_create(
    func: &'static str,
    user_fn: usize,
    commute: c_int,
    op: *mut usize,
    call: impl FnOnce(usize) -> Box<crate::op::user::UserCall>,
) -> c_int {
    v::err_out(crate::abi::run(func, |_ctx| {
        if user_fn == 0 {
            return Err(MpiError::arg(class::ERR_ARG, "user_fn", "null function"));
        }
        if op.is_null() {
            return Err(MpiError::arg(class::ERR_ARG, "op", "null pointer"));
        }
        let m = crate::abi::op::insert(call(user_fn), commute != 0);
        // SAFETY: `op` is non-null and writable by the caller's contract.
        unsafe { *op = h::op_out(m) };
        Ok(())
    }))
}

face!(MPI_Op_create, PMPI_Op_create, (user_fn: usize, commute: c_int, op: *mut usize) {
    op_create("MPI_Op_create", user_fn, commute, op, |user_fn| {
        // SAFETY: the user registered `user_fn` as an MPI_User_function (non-null, checked).
        let f: StdUserFn = unsafe { std::mem::transmute(user_fn) };
        Box::new(move |a: usize, b: usize, count: u64, dt: i32, extent: i64| {
            crate::abi::op::in_int_pieces(count, extent, |off, n| {
                let mut d = h::dtype_out(dt);
                // SAFETY: the buffers hold `count` elements of `dt` in its memory layout for
                // the duration of the call; `off` stays inside them.
                unsafe {
                    f(
                        (a as *mut u8).wrapping_offset(off) as *mut c_void,
                        (b as *mut u8).wrapping_offset(off) as *mut c_void,
                        n,
                        &mut d,
                    )
                }
            })
        })
    })
});

face!(MPI_Op_create_c, PMPI_Op_create_c, (user_fn: usize, commute: c_int, op: *mut usize) {
    op_create("MPI_Op_create_c", user_fn, commute, op, |user_fn| {
        // SAFETY: the user registered `user_fn` as an MPI_User_function_c (non-null, checked).
        let f: StdUserFnC = unsafe { std::mem::transmute(user_fn) };
        Box::new(move |a: usize, b: usize, count: u64, dt: i32, _extent: i64| {
            let mut n = count as i64;
            let mut d = h::dtype_out(dt);
            // SAFETY: the buffers hold `count` elements of `dt` for the duration of the call.
            unsafe { f(a as *mut c_void, b as *mut c_void, &mut n, &mut d) }
        })
    })
});

face!(MPI_Op_free, PMPI_Op_free, (op: *mut usize) {
    let mut m = if op.is_null() { 0 } else { h::op_in(*op) };
    let rc = imp::PMPI_Op_free(if op.is_null() { std::ptr::null_mut() } else { &mut m });
    if !op.is_null() {
        *op = h::op_out(m);
    }
    v::err_out(rc)
});

// ---------------------------------------------------------------------------------------
// Errhandler functions
// ---------------------------------------------------------------------------------------

type StdErrFn = unsafe extern "C" fn(*mut usize, *mut c_int, ...);

static COMM_EH: Pool = Pool::new();
static WIN_EH: Pool = Pool::new();
static SESSION_EH: Pool = Pool::new();
static FILE_EH: Pool = Pool::new();

/// One errhandler trampoline family: the object's MPICH handle (int, or MPI_File pointer)
/// and code become the standard's, and back after the call (a handler may change them).
macro_rules! eh_tramp {
    ($name:ident, $pool:ident, $hty:ty, $out:path, $inp:path) => {
        unsafe extern "C" fn $name<const N: usize>(obj: *mut $hty, code: *mut c_int) {
            // SAFETY: slot N holds the user's errhandler function; the implementation
            // passes valid pointers to the object handle and the code.
            unsafe {
                let f: StdErrFn = std::mem::transmute($pool.get(N));
                let mut s = $out(*obj);
                let mut c = v::err_out(*code);
                f(&mut s, &mut c);
                *obj = $inp(s);
                *code = v::err_in(c);
            }
        }
    };
}
eh_tramp!(comm_eh, COMM_EH, c_int, h::comm_out, h::comm_in);
eh_tramp!(win_eh, WIN_EH, c_int, h::win_out, h::win_in);
eh_tramp!(session_eh, SESSION_EH, c_int, h::session_out, h::session_in);
eh_tramp!(file_eh, FILE_EH, usize, h::file_out, h::file_in);

type EhTramp = unsafe extern "C" fn(*mut c_int, *mut c_int);
type FileEhTramp = unsafe extern "C" fn(*mut usize, *mut c_int);
const COMM_EH_TRAMPS: [EhTramp; POOL_SIZE] = trampolines!(comm_eh as EhTramp);
const WIN_EH_TRAMPS: [EhTramp; POOL_SIZE] = trampolines!(win_eh as EhTramp);
const SESSION_EH_TRAMPS: [EhTramp; POOL_SIZE] = trampolines!(session_eh as EhTramp);
const FILE_EH_TRAMPS: [FileEhTramp; POOL_SIZE] = trampolines!(file_eh as FileEhTramp);

macro_rules! create_errhandler {
    ($mpi:ident, $pmpi:ident, $pool:ident, $tramps:ident) => {
        face!($mpi, $pmpi, (function: usize, errhandler: *mut usize) {
            let t = match pooled(stringify!($mpi), &$pool, function, |i| $tramps[i] as usize) {
                Ok(t) => t,
                Err(rc) => return rc,
            };
            out_handle(errhandler, h::errh_out, |p| {
                imp::$pmpi(t, p)
            })
        });
    };
}
create_errhandler!(
    MPI_Comm_create_errhandler,
    PMPI_Comm_create_errhandler,
    COMM_EH,
    COMM_EH_TRAMPS
);
create_errhandler!(
    MPI_Win_create_errhandler,
    PMPI_Win_create_errhandler,
    WIN_EH,
    WIN_EH_TRAMPS
);
create_errhandler!(
    MPI_Session_create_errhandler,
    PMPI_Session_create_errhandler,
    SESSION_EH,
    SESSION_EH_TRAMPS
);
create_errhandler!(
    MPI_File_create_errhandler,
    PMPI_File_create_errhandler,
    FILE_EH,
    FILE_EH_TRAMPS
);

// ---------------------------------------------------------------------------------------
// Attribute copy and delete functions
// ---------------------------------------------------------------------------------------

type StdCopyFn =
    unsafe extern "C" fn(usize, c_int, *mut c_void, *mut c_void, *mut c_void, *mut c_int) -> c_int;
type StdDeleteFn = unsafe extern "C" fn(usize, c_int, *mut c_void, *mut c_void) -> c_int;

/// The standard's MPI_*_NULL_COPY_FN / MPI_*_DUP_FN / MPI_*_NULL_DELETE_FN.
const NULL_FN: usize = 0;
const DUP_FN: usize = 1;

/// What a keyval's trampolines call.
struct KeyvalCb {
    copy: usize,
    delete: usize,
    extra: *mut c_void,
    handle_out: fn(c_int) -> usize,
}

unsafe extern "C" fn copy_tramp(
    old: c_int,
    keyval: c_int,
    extra: *mut c_void,
    val_in: *mut c_void,
    val_out: *mut c_void,
    flag: *mut c_int,
) -> c_int {
    // SAFETY: extra is the KeyvalCb leaked at keyval creation; the attribute machinery
    // passes a valid out slot and flag.
    unsafe {
        let cb = &*(extra as *const KeyvalCb);
        match cb.copy {
            NULL_FN => {
                *flag = 0;
                0
            }
            DUP_FN => {
                *(val_out as *mut *mut c_void) = val_in;
                *flag = 1;
                0
            }
            f => {
                let f: StdCopyFn = std::mem::transmute(f);
                let rc = f(
                    (cb.handle_out)(old),
                    v::keyval_out(keyval),
                    cb.extra,
                    val_in,
                    val_out,
                    flag,
                );
                v::err_in(rc)
            }
        }
    }
}

unsafe extern "C" fn delete_tramp(
    obj: c_int,
    keyval: c_int,
    val: *mut c_void,
    extra: *mut c_void,
) -> c_int {
    // SAFETY: extra is the KeyvalCb leaked at keyval creation.
    unsafe {
        let cb = &*(extra as *const KeyvalCb);
        match cb.delete {
            NULL_FN => 0,
            f => {
                let f: StdDeleteFn = std::mem::transmute(f);
                v::err_in(f(
                    (cb.handle_out)(obj),
                    v::keyval_out(keyval),
                    val,
                    cb.extra,
                ))
            }
        }
    }
}

type CopyTramp =
    unsafe extern "C" fn(c_int, c_int, *mut c_void, *mut c_void, *mut c_void, *mut c_int) -> c_int;
type DeleteTramp = unsafe extern "C" fn(c_int, c_int, *mut c_void, *mut c_void) -> c_int;

macro_rules! create_keyval {
    ($mpi:ident, $pmpi:ident, $out:path) => {
        face!($mpi, $pmpi, (copy_fn: usize, delete_fn: usize, keyval: *mut c_int, extra_state: *mut c_void) {
            let cb = Box::into_raw(Box::new(KeyvalCb {
                copy: copy_fn,
                delete: delete_fn,
                extra: extra_state,
                handle_out: $out,
            }));
            let rc = imp::$pmpi(
                copy_tramp as CopyTramp as usize,
                delete_tramp as DeleteTramp as usize,
                keyval,
                cb as *mut c_void,
            );
            if rc != 0 {
                // SAFETY: not registered: nothing else holds the record.
                drop(Box::from_raw(cb));
            } else if !keyval.is_null() {
                *keyval = v::keyval_out(*keyval);
            }
            v::err_out(rc)
        });
    };
}
create_keyval!(MPI_Comm_create_keyval, PMPI_Comm_create_keyval, h::comm_out);
create_keyval!(MPI_Keyval_create, PMPI_Keyval_create, h::comm_out);
create_keyval!(
    MPI_Type_create_keyval,
    PMPI_Type_create_keyval,
    h::dtype_out
);
create_keyval!(MPI_Win_create_keyval, PMPI_Win_create_keyval, h::win_out);

// ---------------------------------------------------------------------------------------
// Generalized requests
// ---------------------------------------------------------------------------------------

type StdQueryFn = unsafe extern "C" fn(*mut c_void, *mut st::Status) -> c_int;
type StdFreeFn = unsafe extern "C" fn(*mut c_void) -> c_int;
type StdCancelFn = unsafe extern "C" fn(*mut c_void, c_int) -> c_int;

struct GrequestCb {
    query: StdQueryFn,
    free: StdFreeFn,
    cancel: StdCancelFn,
    extra: *mut c_void,
}

unsafe extern "C" fn grequest_query(extra: *mut c_void, status: *mut st::Mpich) -> c_int {
    // SAFETY: extra is the live GrequestCb of this request; status points to the
    // implementation's status.
    unsafe {
        let cb = &*(extra as *const GrequestCb);
        let mut s = st::to_std(&*status);
        let rc = (cb.query)(cb.extra, &mut s);
        *status = st::to_mpich(&s);
        v::err_in(rc)
    }
}

unsafe extern "C" fn grequest_free(extra: *mut c_void) -> c_int {
    // SAFETY: extra is the GrequestCb of this request; the free callback is its last use.
    unsafe {
        let cb = Box::from_raw(extra as *mut GrequestCb);
        v::err_in((cb.free)(cb.extra))
    }
}

unsafe extern "C" fn grequest_cancel(extra: *mut c_void, complete: c_int) -> c_int {
    // SAFETY: extra is the live GrequestCb of this request.
    unsafe {
        let cb = &*(extra as *const GrequestCb);
        v::err_in((cb.cancel)(cb.extra, complete))
    }
}

type QueryTramp = unsafe extern "C" fn(*mut c_void, *mut st::Mpich) -> c_int;
type FreeTramp = unsafe extern "C" fn(*mut c_void) -> c_int;
type CancelTramp = unsafe extern "C" fn(*mut c_void, c_int) -> c_int;

face!(MPI_Grequest_start, PMPI_Grequest_start, (query_fn: usize, free_fn: usize, cancel_fn: usize, extra_state: *mut c_void, request: *mut usize) {
    if query_fn == 0 || free_fn == 0 || cancel_fn == 0 {
        // The implementation reports the null function.
        return out_handle(request, h::req_out, |p| {
            imp::PMPI_Grequest_start(query_fn, free_fn, cancel_fn, extra_state, p)
        });
    }
    let cb = Box::into_raw(Box::new(GrequestCb {
        query: std::mem::transmute::<usize, StdQueryFn>(query_fn),
        free: std::mem::transmute::<usize, StdFreeFn>(free_fn),
        cancel: std::mem::transmute::<usize, StdCancelFn>(cancel_fn),
        extra: extra_state,
    }));
    let rc = out_handle(request, h::req_out, |p| {
        imp::PMPI_Grequest_start(
            grequest_query as QueryTramp as usize,
            grequest_free as FreeTramp as usize,
            grequest_cancel as CancelTramp as usize,
            cb as *mut c_void,
            p,
        )
    });
    if rc != 0 {
        // SAFETY: not registered: nothing else holds the record.
        drop(Box::from_raw(cb));
    }
    rc
});

// ---------------------------------------------------------------------------------------
// Data representations
// ---------------------------------------------------------------------------------------

struct DatarepCb {
    read: usize,
    write: usize,
    extent: usize,
    extra: *mut c_void,
}

type StdConvFn =
    unsafe extern "C" fn(*mut c_void, usize, c_int, *mut c_void, i64, *mut c_void) -> c_int;
type StdConvFnC =
    unsafe extern "C" fn(*mut c_void, usize, i64, *mut c_void, i64, *mut c_void) -> c_int;
type StdExtentFn = unsafe extern "C" fn(usize, *mut isize, *mut c_void) -> c_int;

macro_rules! conv_tramp {
    ($name:ident, $field:ident, $count:ty, $fty:ty) => {
        unsafe extern "C" fn $name(
            userbuf: *mut c_void,
            dt: c_int,
            count: $count,
            filebuf: *mut c_void,
            position: i64,
            extra: *mut c_void,
        ) -> c_int {
            // SAFETY: extra is the DatarepCb leaked at registration; $field is non-null
            // (a null one is registered as null).
            unsafe {
                let cb = &*(extra as *const DatarepCb);
                let f: $fty = std::mem::transmute(cb.$field);
                v::err_in(f(
                    userbuf,
                    h::dtype_out(dt),
                    count,
                    filebuf,
                    position,
                    cb.extra,
                ))
            }
        }
    };
}
conv_tramp!(read_tramp, read, c_int, StdConvFn);
conv_tramp!(write_tramp, write, c_int, StdConvFn);
conv_tramp!(read_tramp_c, read, i64, StdConvFnC);
conv_tramp!(write_tramp_c, write, i64, StdConvFnC);

unsafe extern "C" fn extent_tramp(dt: c_int, extent: *mut i64, extra: *mut c_void) -> c_int {
    // SAFETY: extra is the DatarepCb leaked at registration; extent is non-null.
    unsafe {
        let cb = &*(extra as *const DatarepCb);
        let f: StdExtentFn = std::mem::transmute(cb.extent);
        v::err_in(f(h::dtype_out(dt), extent as *mut isize, cb.extra))
    }
}

macro_rules! register_datarep {
    ($mpi:ident, $pmpi:ident, $read:ident, $write:ident, $cty:ty) => {
        face!($mpi, $pmpi, (datarep: *const c_char, read_conversion_fn: usize, write_conversion_fn: usize, dtype_file_extent_fn: usize, extra_state: *mut c_void) {
            let cb = Box::into_raw(Box::new(DatarepCb {
                read: read_conversion_fn,
                write: write_conversion_fn,
                extent: dtype_file_extent_fn,
                extra: extra_state,
            }));
            let pick = |user: usize, t: usize| if user == 0 { 0 } else { t };
            let rc = imp::$pmpi(
                datarep,
                pick(read_conversion_fn, $read as $cty as usize),
                pick(write_conversion_fn, $write as $cty as usize),
                pick(dtype_file_extent_fn, extent_tramp as ExtentTramp as usize),
                cb as *mut c_void,
            );
            if rc != 0 {
                // SAFETY: not registered: nothing else holds the record.
                drop(Box::from_raw(cb));
            }
            v::err_out(rc)
        });
    };
}
type ConvTramp =
    unsafe extern "C" fn(*mut c_void, c_int, c_int, *mut c_void, i64, *mut c_void) -> c_int;
type ConvTrampC =
    unsafe extern "C" fn(*mut c_void, c_int, i64, *mut c_void, i64, *mut c_void) -> c_int;
type ExtentTramp = unsafe extern "C" fn(c_int, *mut i64, *mut c_void) -> c_int;
register_datarep!(
    MPI_Register_datarep,
    PMPI_Register_datarep,
    read_tramp,
    write_tramp,
    ConvTramp
);
register_datarep!(
    MPI_Register_datarep_c,
    PMPI_Register_datarep_c,
    read_tramp_c,
    write_tramp_c,
    ConvTrampC
);
