//! MPI objects as the core sees them, free of C handles.

pub mod attr;
pub mod comm;
pub mod comm_create;
pub mod comm_idup;
pub mod context;
pub mod errhandler;
pub mod group;
pub mod group_net;
pub mod info;
pub mod session;
pub mod two_sided;
