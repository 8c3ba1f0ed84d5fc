//! Checked access to the pointers C hands us. A null where the standard requires an
//! argument becomes an MPI error naming that argument, never a crash.

use crate::error::{class, MpiError};
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

/// Writes `v` through the output argument `p`.
#[inline]
pub fn write<T>(p: *mut T, v: T, arg: &str) -> Result<(), MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null pointer"));
    }
    // SAFETY: non-null; the MPI contract makes `p` a valid, aligned output location.
    unsafe { p.write(v) };
    Ok(())
}

/// Reads the input argument `p`.
#[inline]
pub fn read<T: Copy>(p: *const T, arg: &str) -> Result<T, MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null pointer"));
    }
    // SAFETY: non-null; the MPI contract makes `p` a valid input location.
    Ok(unsafe { p.read() })
}

/// A C array of `n` elements as a slice (empty for n == 0, whatever `p` is).
#[inline]
pub fn slice<'a, T>(p: *const T, n: usize, arg: &str) -> Result<&'a [T], MpiError> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null array"));
    }
    // SAFETY: non-null; the caller passes an array of at least n elements.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// A mutable C array of `n` elements.
#[inline]
pub fn slice_mut<'a, T>(p: *mut T, n: usize, arg: &str) -> Result<&'a mut [T], MpiError> {
    if n == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null array"));
    }
    // SAFETY: non-null; the caller passes a writable array of at least n elements.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, n) })
}

/// A NUL-terminated C string argument.
pub fn cstr<'a>(p: *const c_char, arg: &str) -> Result<&'a str, MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, arg, "null string"));
    }
    // SAFETY: non-null, NUL-terminated by the MPI contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map_err(|_| MpiError::arg(class::ERR_ARG, arg, "string is not valid UTF-8"))
}

/// Copies `s` into the caller's buffer of `cap` bytes (including the NUL), truncating at a
/// character boundary, and stores the length written (without NUL) in `len` if non-null.
pub fn write_str(
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
    // SAFETY: buf is non-null and the MPI contract gives it room for `cap` bytes; we write
    // n + 1 <= cap bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, n);
        *buf.add(n) = 0;
    }
    if !len.is_null() {
        // SAFETY: non-null output argument.
        unsafe { *len = n as c_int };
    }
    Ok(())
}
