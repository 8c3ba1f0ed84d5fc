//! The Fortran face (`use mpi` and mpif.h) with the ABI of MPICH's libmpifort built by
//! gfortran, so that programs compiled by our mpifort and by MPICH's `mpif90` both run on
//! this library (build/lib/libmpifort.so.12 is a shim that only needs libmpi.so.12).
//!
//! * `generated` — written by tools/gen-fortran.py from include/mpi.h: every binding whose
//!   arguments follow the regular rules (see the script's header).
//! * the special cases, written by hand: `startup` (argc/argv, functions that return a
//!   value), `indices` (1-based indices), `strings` (info values, spawn argv arrays),
//!   `handlers` (user ops, errhandlers), `attr` (attributes, keyvals with copy/delete
//!   functions), `callbacks` (generalized requests, datarep conversions), `legacy` (MPI-1
//!   INTEGER addresses, MPI_SIZEOF).
//! * `f08`       — what the `use mpi_f08` wrappers (fortran/, compiled into libmpifort.so.12)
//!   need beside these bindings: choice buffers given as TS 29113 descriptors.
//! * `rt`        — what all share: the special addresses, strings, statuses.
//! * `mpich`     — the MPICH-internal entry points (`MPII_*`) that MPICH's own libmpifort
//!   calls, for programs that load it over this library.
//!
//! A binding turns Fortran arguments into C ones and calls the C implementation (`PMPI_X`),
//! so argument checks and errhandlers are the C ones. The `use mpi_f08` procedures
//! (MPI_X_f08, MPI_X_f08ts) are Fortran wrappers that call these bindings.

#![allow(non_snake_case)]
#![allow(clippy::missing_safety_doc)]

#[rustfmt::skip]
pub mod generated;
pub mod attr;
pub mod callbacks;
pub mod f08;
pub mod handlers;
pub mod indices;
pub mod legacy;
pub mod mpich;
pub mod rt;
pub mod startup;
pub mod strings;

/// Defines one binding under the eight names MPICH's libmpifort exports for it: the body is
/// `pmpi_x_` (gfortran's spelling of PMPI_X) and the seven others (`pmpi_x`, `pmpi_x__`,
/// `PMPI_X`, `mpi_x`, `mpi_x_`, `mpi_x__`, `MPI_X`) forward to it, so a profiler that
/// interposes `mpi_x_` still reaches the implementation through `pmpi_x_`.
#[macro_export]
#[doc(hidden)]
macro_rules! fort {
    ([$($alias:ident),* $(,)?] $imp:ident $params:tt $(-> $ret:ty)? $body:block) => {
        $crate::fort!(@go [$($alias),*] $imp $params [$(-> $ret)?] $body);
    };
    (@go [$($alias:ident),*] $imp:ident $params:tt $ret:tt $body:block) => {
        $crate::fort!(@imp $imp $params $ret $body);
        $( $crate::fort!(@alias $alias $imp $params $ret); )*
    };
    (@imp $imp:ident ($($a:ident : $t:ty),* $(,)?) [$($ret:tt)*] $body:block) => {
        #[no_mangle]
        pub unsafe extern "C" fn $imp($($a: $t),*) $($ret)* {
            #[allow(unused_unsafe)]
            // SAFETY: Fortran passes every argument by reference to live storage of the
            // declared kind, and CHARACTER lengths that match their buffers.
            unsafe { $body }
        }
    };
    (@alias $alias:ident $imp:ident ($($a:ident : $t:ty),* $(,)?) [$($ret:tt)*]) => {
        #[no_mangle]
        pub unsafe extern "C" fn $alias($($a: $t),*) $($ret)* {
            // SAFETY: same contract as the implementation it forwards to.
            unsafe { $imp($($a),*) }
        }
    };
}
pub use fort;
