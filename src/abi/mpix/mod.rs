//! MPICH's `MPIX_` extensions that Debian's libmpich.so.12 (MPICH 4.0.2) exports, each with
//! its `PMPIX_` twin: GPU-support queries, the pre-standard names of the error-class removal
//! calls, and ULFM (fault tolerance: revoke, shrink, agree, failure acknowledgement).
//! The extended generalized requests (MPIX_Grequest_*) live with the others in
//! `abi::grequest`.

pub mod errors;
pub mod gpu;
pub mod ulfm;
