//! MPI objects as the core sees them, free of C handles.
//!
//! The protocols that build communicators live in `crate::comm_build`; the old paths stay
//! as re-exports for the C surface.

pub use crate::comm_build::create as comm_create;
pub use crate::comm_build::group_net;
pub use crate::comm_build::idup as comm_idup;
pub use crate::comm_build::two_sided;

pub mod attr;
pub mod comm;
pub mod context;
pub mod errhandler;
pub mod group;
pub mod info;
pub mod session;
