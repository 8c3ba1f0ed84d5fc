//! The arguments C hands us by pointer, turned into values, references and slices at the
//! point where they are first touched. A null where the standard requires an argument
//! becomes an MPI error naming that argument (MPI_ERR_ARG, as MPICH's
//! `MPIR_ERRTEST_ARGNULL`), never a crash.
//!
//! Every function here is an `unsafe fn`: it dereferences a pointer whose validity only
//! the C caller can vouch for. The caller of an exported `PMPI_X` promises, by the MPI
//! contract, that each pointer argument is null or valid for what the function does with
//! it (one element, or the `n` elements the count arguments say); a body that passes such
//! an argument here states that in its `// SAFETY:` line, and anything else (a pointer
//! computed in Rust, an element of a user array) must argue its own case.
//!
//! Why `unsafe fn` and not typed pointer wrappers in the extern signatures (an `Out<T>`
//! whose only constructor is the C caller, as rustls-ffi does): the signatures of `PMPI_X`
//! are also called from Rust, by the Fortran face (which hands through the pointers
//! gfortran gave it) and by the standard-ABI face (which translates and forwards); with
//! wrappers in the signatures every one of those call sites would need an unsafe
//! constructor anyway, and nothing would stop a wrapper from being kept past the call. An
//! `unsafe fn` here puts the proof obligation exactly where the pointer is first used, and
//! `#![deny(unsafe_op_in_unsafe_fn)]` in every file of the C face (and on the functions
//! `mpi_fn!` generates) makes each such use an explicit, commented `unsafe` block. Once a
//! pointer is turned into a reference or a slice, the code below it is safe Rust; nothing
//! here returns a borrow that can outlive the call (`'a` is the caller's, chosen at the
//! boundary, and no function stores one).

#![deny(unsafe_op_in_unsafe_fn)]

use crate::error::{class, MpiError};
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

/// Writes `v` through the output argument `p`.
///
/// # Safety
/// `p` is null or valid for a write of one `T` (aligned).
#[inline]
pub unsafe fn write<T>(p: *mut T, v: T, arg: &str) -> Result<(), MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null pointer"));
    }
    // SAFETY: non-null, and valid for a write by this function's contract.
    unsafe { p.write(v) };
    Ok(())
}

/// Reads the input argument `p`.
///
/// # Safety
/// `p` is null or valid for a read of one `T` (aligned, initialized).
#[inline]
pub unsafe fn read<T: Copy>(p: *const T, arg: &str) -> Result<T, MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null pointer"));
    }
    // SAFETY: non-null, and valid for a read by this function's contract.
    Ok(unsafe { p.read() })
}

/// A C array of `n` elements as a slice (empty for n == 0, whatever `p` is).
///
/// # Safety
/// When `n > 0`, `p` is null or points to `n` initialized `T`s that nothing writes to
/// during `'a`.
#[inline]
pub unsafe fn slice<'a, T>(p: *const T, n: usize, arg: &str) -> Result<&'a [T], MpiError> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null array"));
    }
    // SAFETY: non-null, and an array of at least n elements by this function's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// A mutable C array of `n` elements.
///
/// # Safety
/// When `n > 0`, `p` is null or points to `n` initialized `T`s that nothing else reads
/// or writes during `'a`.
#[inline]
pub unsafe fn slice_mut<'a, T>(p: *mut T, n: usize, arg: &str) -> Result<&'a mut [T], MpiError> {
    if n == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null array"));
    }
    // SAFETY: non-null, and a writable array of at least n elements by this function's
    // contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, n) })
}

/// A NUL-terminated C string argument.
///
/// # Safety
/// `p` is null or a NUL-terminated string that stays unchanged during `'a`.
pub unsafe fn cstr<'a>(p: *const c_char, arg: &str) -> Result<&'a str, MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null string"));
    }
    // SAFETY: non-null and NUL-terminated by this function's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map_err(|_| MpiError::arg(class::ERR_ARG, arg, "string is not valid UTF-8"))
}

/// Copies `s` into the caller's buffer of `cap` bytes (including the NUL), truncating at a
/// character boundary, and stores the length written (without NUL) in `len` if non-null.
///
/// # Safety
/// `buf` is null or valid for writes of `cap` bytes; `len` is null or valid for a write.
pub unsafe fn write_str(
    buf: *mut c_char,
    cap: usize,
    s: &str,
    len: *mut c_int,
    arg: &str,
) -> Result<(), MpiError> {
    if buf.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null buffer"));
    }
    let mut n = s.len().min(cap.saturating_sub(1));
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: buf is non-null and has room for `cap` bytes by this function's contract; we
    // write n + 1 <= cap bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, n);
        *buf.add(n) = 0;
    }
    if !len.is_null() {
        // SAFETY: non-null, and valid for a write by this function's contract.
        unsafe { *len = n as c_int };
    }
    Ok(())
}

/// An output argument checked non-null at the start of a call, written later: calls that
/// complete something (a receive, a request) check every output first, so that a bad
/// argument fails before anything is consumed.
pub struct Out<'a, T> {
    p: *mut T,
    _caller: std::marker::PhantomData<&'a mut T>,
}

/// Checks the output argument `p` (MPI_ERR_ARG if null) for a later [`Out::set`].
///
/// # Safety
/// `p` is null or valid for writes of one `T` during `'a`.
#[inline]
pub unsafe fn out<'a, T>(p: *mut T, arg: &str) -> Result<Out<'a, T>, MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null pointer"));
    }
    Ok(Out {
        p,
        _caller: std::marker::PhantomData,
    })
}

impl<T> Out<'_, T> {
    /// Writes the output.
    #[inline]
    pub fn set(&mut self, v: T) {
        // SAFETY: checked non-null by `out`, whose caller vouched for it during 'a, which
        // `self` cannot outlive.
        unsafe { self.p.write(v) }
    }
}

/// An input/output argument (a request handle that becomes MPI_REQUEST_NULL), checked
/// non-null at the start of a call.
pub struct InOut<'a, T> {
    p: *mut T,
    _caller: std::marker::PhantomData<&'a mut T>,
}

/// Checks the in/out argument `p` (MPI_ERR_ARG if null).
///
/// # Safety
/// `p` is null or valid for reads and writes of one `T` during `'a`.
#[inline]
pub unsafe fn inout<'a, T: Copy>(p: *mut T, arg: &str) -> Result<InOut<'a, T>, MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null pointer"));
    }
    Ok(InOut {
        p,
        _caller: std::marker::PhantomData,
    })
}

impl<T: Copy> InOut<'_, T> {
    /// The value the caller passed (or the last one set).
    #[inline]
    pub fn get(&self) -> T {
        // SAFETY: checked non-null by `inout`, whose caller vouched for it during 'a,
        // which `self` cannot outlive.
        unsafe { self.p.read() }
    }

    /// Writes the output.
    #[inline]
    pub fn set(&mut self, v: T) {
        // SAFETY: as in `get`.
        unsafe { self.p.write(v) }
    }
}
