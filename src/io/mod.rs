//! MPI-IO (MPI 4.1 chapter 14) over POSIX files.
//!
//! A [`File`] is one open file of a group of processes: each process holds its own POSIX
//! descriptor and does its own part of every access with `pread`/`pwrite`; collective calls
//! agree through the file's private communicator (a dup of the one given to open).
//!
//! * `open`     — access modes, collective open/close/delete, POSIX errors → MPI classes.
//! * `file`     — the `File` object: size, sync, atomicity, info, pointers.
//! * `view`     — file views: displacement, etype, filetype tiled into (offset, len) runs.
//! * `datarep`  — data representations: native/internal, external32, user-registered.
//! * `access`   — reading and writing a user buffer at a position of the view.
//! * `shared`   — the shared file pointer (a locked sidecar file) and ordered access.
//! * `agree`    — the small collective agreements the layer needs.

pub mod access;
pub mod agree;
pub mod datarep;
pub mod file;
pub mod open;
pub mod shared;
pub mod view;

pub use access::Moved;
pub use datarep::{Rep, UserRep};
pub use file::File;
pub use view::View;

/// MPI_MODE_* access-mode bits (MPICH's values).
pub mod mode {
    pub const CREATE: i32 = 1;
    pub const RDONLY: i32 = 2;
    pub const WRONLY: i32 = 4;
    pub const RDWR: i32 = 8;
    pub const DELETE_ON_CLOSE: i32 = 16;
    pub const UNIQUE_OPEN: i32 = 32;
    pub const EXCL: i32 = 64;
    pub const APPEND: i32 = 128;
    pub const SEQUENTIAL: i32 = 256;
    pub const ALL: i32 = 511;
}

/// MPI_SEEK_* (MPICH's values).
pub mod whence {
    pub const SET: i32 = 600;
    pub const CUR: i32 = 602;
    pub const END: i32 = 604;
}
