//! Fortran LOGICAL in reductions: which 4-byte words mean `.TRUE.` and `.FALSE.`.
//!
//! gfortran (and our own bindings) store `.TRUE.` as 1 and `.FALSE.` as 0, the defaults here.
//! Other compilers differ (Intel Fortran's `.TRUE.` is -1), and MPI 5.0 lets a Fortran binding
//! layered on the C library say which values its compiler uses (`MPI_Abi_set_fortran_booleans`,
//! §20.3). The reductions of MPI_LOGICAL read a word as false only when it equals the false
//! value (so any other pattern is true, as every compiler's `.TRUE.` test accepts) and write
//! the binding's own true and false words, so the result is a LOGICAL that compiler reads
//! back correctly.
//!
//! The values are process-wide and set at most a few times (before the first reduction, by a
//! binding's initialisation): two relaxed atomics, read once per reduction call.

use std::sync::atomic::{AtomicI32, Ordering};

static TRUE: AtomicI32 = AtomicI32::new(1);
static FALSE: AtomicI32 = AtomicI32::new(0);

/// The size in bytes of the LOGICAL the reductions know (MPI_LOGICAL).
pub const SIZE: usize = 4;

/// Sets the words of `.TRUE.` and `.FALSE.` for MPI_LOGICAL. The caller checks they differ.
pub fn set(true_word: i32, false_word: i32) {
    TRUE.store(true_word, Ordering::Relaxed);
    FALSE.store(false_word, Ordering::Relaxed);
}

/// The words of `.TRUE.` and `.FALSE.` the reductions use now.
pub fn get() -> (i32, i32) {
    (TRUE.load(Ordering::Relaxed), FALSE.load(Ordering::Relaxed))
}
