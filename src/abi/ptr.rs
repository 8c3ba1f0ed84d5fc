//! Legacy: safe-looking wrappers over [`super::arg`], kept only for `mpit.rs` (not part of
//! this restructuring). They dereference raw pointers inside safe functions, which is the
//! unsoundness issue 12 names: a safe caller could pass any pointer. The C face uses
//! `arg`'s `unsafe fn`s; once `mpit.rs` does too (its helpers that take C pointers become
//! `unsafe fn`, and `use super::ptr` becomes `use super::arg as ptr`), delete this file.

#![deny(unsafe_op_in_unsafe_fn)]

use crate::error::MpiError;
use std::os::raw::{c_char, c_int};

/// See [`super::arg::write`].
#[inline]
pub fn write<T>(p: *mut T, v: T, arg: &str) -> Result<(), MpiError> {
    // SAFETY: NOT checked by the type system (see the module doc): mpit.rs passes only
    // pointers its own C caller handed it.
    unsafe { super::arg::write(p, v, arg) }
}

/// See [`super::arg::read`].
#[inline]
pub fn read<T: Copy>(p: *const T, arg: &str) -> Result<T, MpiError> {
    // SAFETY: as in `write`.
    unsafe { super::arg::read(p, arg) }
}

/// See [`super::arg::slice_mut`].
#[inline]
pub fn slice_mut<'a, T>(p: *mut T, n: usize, arg: &str) -> Result<&'a mut [T], MpiError> {
    // SAFETY: as in `write`.
    unsafe { super::arg::slice_mut(p, n, arg) }
}

/// See [`super::arg::cstr`].
pub fn cstr<'a>(p: *const c_char, arg: &str) -> Result<&'a str, MpiError> {
    // SAFETY: as in `write`.
    unsafe { super::arg::cstr(p, arg) }
}

/// See [`super::arg::write_str`].
pub fn write_str(
    buf: *mut c_char,
    cap: usize,
    s: &str,
    len: *mut c_int,
    arg: &str,
) -> Result<(), MpiError> {
    // SAFETY: as in `write`.
    unsafe { super::arg::write_str(buf, cap, s, len, arg) }
}
