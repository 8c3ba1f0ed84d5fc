//! MPI objects as the core sees them, free of C handles.

pub mod comm;
pub mod comm_create;
pub mod context;
pub mod errhandler;
pub mod group;
