//! The C surface. One file per MPI chapter; each exported function checks its arguments,
//! turns handles into objects, calls the core, and turns results and errors back into C.
//! No algorithm lives here.
//!
//! Every function is written once with [`mpi_fn!`], which exports the implementation as
//! `PMPI_X` and a forwarding `MPI_X` (so profiling tools can interpose `MPI_X`), catches
//! panics (they become `MPI_ERR_INTERN`), and routes errors through the errhandler of the
//! object the body named with `ctx.on_comm(..)` and friends.

pub mod arg;
pub mod attr;
pub mod coll;
pub mod comm;
pub mod consts;
pub mod datatype;
pub mod errhandler;
pub mod errors;
#[cfg(not(feature = "std-abi"))]
pub mod fortran;
pub mod grequest;
pub mod group;
pub mod handle_conv;
pub mod info;
pub mod init;
pub mod io;
pub mod mpit;
pub mod mpix;
pub mod op;
pub mod part;
pub mod pt2pt;
pub mod request;
pub mod rma;
pub mod session;
pub mod spawn;
#[path = "std/mod.rs"]
pub mod standard;
pub mod status;
pub mod symbols;
pub mod topo;

use crate::error::MpiError;
use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The object whose errhandler handles an error raised by the current call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Not tied to an object (or the object handle was invalid): the default handler
    /// (`comm::default_errhandler`: MPI_COMM_SELF's if set, else MPI_COMM_WORLD's, as
    /// MPICH); before MPI_Init, MPI_ERRORS_ARE_FATAL.
    Default,
    Comm(c_int),
    Win(c_int),
    File(usize),
    Session(c_int),
}

/// Per-call context handed to every function body.
pub struct Ctx {
    pub func: &'static str,
    pub target: Target,
}

impl Ctx {
    /// Errors from here on go to the errhandler of communicator `h`.
    #[inline]
    pub fn on_comm(&mut self, h: c_int) {
        self.target = Target::Comm(h);
    }
    #[inline]
    pub fn on_win(&mut self, h: c_int) {
        self.target = Target::Win(h);
    }
    #[inline]
    pub fn on_file(&mut self, h: usize) {
        self.target = Target::File(h);
    }
    #[inline]
    pub fn on_session(&mut self, h: c_int) {
        self.target = Target::Session(h);
    }
}

/// Runs one MPI function body: panics become MPI_ERR_INTERN, errors go through the
/// errhandler. The success path costs a `catch_unwind` landing pad (no instruction) and one
/// atomic load (pending MPI_T events): the body's `Result` is turned into the call's code
/// inside the panic boundary (`failed` off the path), so only a `c_int` crosses it instead
/// of a `Result<(), MpiError>` written to and copied out of memory (issue 13).
#[inline(always)]
pub fn run(func: &'static str, body: impl FnOnce(&mut Ctx) -> Result<(), MpiError>) -> c_int {
    let mut ctx = Ctx {
        func,
        target: Target::Default,
    };
    let r = catch_unwind(AssertUnwindSafe(|| match body(&mut ctx) {
        Ok(()) => 0,
        Err(e) => failed(&ctx, e),
    }));
    finish(&ctx, r)
}

/// [`run`] for a function with a straight line (issue 13: the small sends): `line` is tried
/// first and returns true when it did the whole call, false when it did nothing the call
/// shows (it raises no error: it steps aside for anything unusual, bad arguments included);
/// `body` then does the call from the start, every check in its order. `body` is kept out
/// of line (`general`), so the export's frame is the straight line's alone: no spills of
/// the general path's registers, no `Result` in memory. One panic boundary covers both.
/// The arguments travel as `args` rather than in the closures: the panic boundary keeps
/// what its closure captures in memory, and this way they are stored once, not once per
/// closure.
#[inline(always)]
pub fn run_split<A: Copy>(
    func: &'static str,
    args: A,
    line: impl FnOnce(&mut Ctx, A) -> bool,
    body: impl FnOnce(&mut Ctx, A) -> Result<(), MpiError>,
) -> c_int {
    let mut ctx = Ctx {
        func,
        target: Target::Default,
    };
    let c = &mut ctx;
    let r = catch_unwind(AssertUnwindSafe(move || {
        if line(c, args) {
            0
        } else {
            // The body starts afresh: errors the line met are not the body's to route.
            c.target = Target::Default;
            general(c, args, body)
        }
    }));
    finish(&ctx, r)
}

/// `run_split`'s general path: the body, its error raised.
#[inline(never)]
fn general<A>(
    ctx: &mut Ctx,
    args: A,
    body: impl FnOnce(&mut Ctx, A) -> Result<(), MpiError>,
) -> c_int {
    match body(ctx, args) {
        Ok(()) => 0,
        Err(e) => failed(ctx, e),
    }
}

/// An error of the body: MPI_T events it raised are delivered first (as when the call
/// returns), then the error goes through the errhandler.
#[cold]
#[inline(never)]
fn failed(ctx: &Ctx, e: MpiError) -> c_int {
    deliver_events();
    errors::raise(ctx, e)
}

/// The end of every call: MPI_T events raised inside the engine are delivered here, in the
/// caller's thread with no lock held (one atomic load when there are none); a panic becomes
/// MPI_ERR_INTERN through the errhandler the body had named.
#[inline(always)]
fn finish(ctx: &Ctx, r: std::thread::Result<c_int>) -> c_int {
    deliver_events();
    match r {
        Ok(rc) => rc,
        Err(p) => panicked(ctx, p),
    }
}

#[inline(always)]
fn deliver_events() {
    if crate::tool::event::pending() {
        crate::tool::event::deliver();
    }
}

/// A panic caught at the C boundary: MPI_ERR_INTERN with the panic's message.
#[cold]
#[inline(never)]
fn panicked(ctx: &Ctx, p: Box<dyn std::any::Any + Send>) -> c_int {
    let why = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into());
    errors::raise(ctx, MpiError::intern(why))
}

/// Runs a body that returns a plain value and has no error path (MPI_Wtime, MPI_Aint_add,
/// handle conversions). A panic there is a bug; report it and return `fallback`.
#[inline(always)]
pub fn run_value<T>(func: &'static str, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(_) => {
            eprintln!("OxiMPI: internal error in {func}");
            fallback
        }
    }
}

/// Defines `PMPI_X` (the implementation) and `MPI_X` (forwards to it) for an MPI function
/// returning an error code:
///
/// ```ignore
/// mpi_fn!(MPI_Comm_size, PMPI_Comm_size, (comm: c_int, size: *mut c_int), |ctx| {
///     let c = comm::get(ctx, comm)?;
///     arg::write(size, c.size() as c_int, "size")
/// });
/// ```
#[macro_export]
macro_rules! mpi_fn {
    ($mpi:ident, $pmpi:ident, ($($a:ident : $t:ty),* $(,)?), |$ctx:ident| $body:block) => {
        #[cfg_attr(not(feature = "std-abi"), no_mangle)]
        #[cfg_attr(feature = "std-abi", export_name = concat!("OXIMPI_MPICH_", stringify!($pmpi)), allow(non_snake_case))]
        pub unsafe extern "C" fn $pmpi($($a: $t),*) -> ::std::os::raw::c_int {
            // Unsafe operations in the body need their own `unsafe` block and SAFETY line.
            #[deny(unsafe_op_in_unsafe_fn)]
            let rc = $crate::abi::run(stringify!($mpi), |$ctx: &mut $crate::abi::Ctx| $body);
            rc
        }
        #[cfg_attr(not(feature = "std-abi"), no_mangle)]
        #[cfg_attr(feature = "std-abi", allow(dead_code, non_snake_case))]
        pub unsafe extern "C" fn $mpi($($a: $t),*) -> ::std::os::raw::c_int {
            // SAFETY: same contract as the PMPI_ function it forwards to.
            unsafe { $pmpi($($a),*) }
        }
    };
}

/// [`mpi_fn!`] with a straight line tried first (see [`run_split`]): `line` returns true
/// when it did the whole call; otherwise `body` does it, with every check and error.
///
/// ```ignore
/// mpi_fn_split!(MPI_Send, PMPI_Send, (buf: *const c_void, ...), line |ctx| { ... },
///     |ctx| { ... });
/// ```
#[macro_export]
macro_rules! mpi_fn_split {
    ($mpi:ident, $pmpi:ident, ($($a:ident : $t:ty),* $(,)?), line |$lctx:ident| $line:block, |$ctx:ident| $body:block) => {
        #[cfg_attr(not(feature = "std-abi"), no_mangle)]
        #[cfg_attr(feature = "std-abi", export_name = concat!("OXIMPI_MPICH_", stringify!($pmpi)), allow(non_snake_case))]
        pub unsafe extern "C" fn $pmpi($($a: $t),*) -> ::std::os::raw::c_int {
            // As in `mpi_fn!`: the unsafe operations of both paths are explicit.
            #[deny(unsafe_op_in_unsafe_fn)]
            let rc = $crate::abi::run_split(
                stringify!($mpi),
                ($($a,)*),
                |$lctx: &mut $crate::abi::Ctx, ($($a,)*): ($($t,)*)| $line,
                |$ctx: &mut $crate::abi::Ctx, ($($a,)*): ($($t,)*)| $body,
            );
            rc
        }
        #[cfg_attr(not(feature = "std-abi"), no_mangle)]
        #[cfg_attr(feature = "std-abi", allow(dead_code, non_snake_case))]
        pub unsafe extern "C" fn $mpi($($a: $t),*) -> ::std::os::raw::c_int {
            // SAFETY: same contract as the PMPI_ function it forwards to.
            unsafe { $pmpi($($a),*) }
        }
    };
}

/// Like [`mpi_fn!`] for functions that return a value instead of an error code.
#[macro_export]
macro_rules! mpi_fn_value {
    ($mpi:ident, $pmpi:ident, ($($a:ident : $t:ty),* $(,)?) -> $ret:ty, fallback $fb:expr, $body:block) => {
        #[cfg_attr(not(feature = "std-abi"), no_mangle)]
        #[cfg_attr(feature = "std-abi", export_name = concat!("OXIMPI_MPICH_", stringify!($pmpi)), allow(non_snake_case))]
        pub unsafe extern "C" fn $pmpi($($a: $t),*) -> $ret {
            // As in `mpi_fn!`: the body's unsafe operations are explicit.
            #[deny(unsafe_op_in_unsafe_fn)]
            let v = $crate::abi::run_value(stringify!($mpi), $fb, || $body);
            v
        }
        #[cfg_attr(not(feature = "std-abi"), no_mangle)]
        #[cfg_attr(feature = "std-abi", allow(dead_code, non_snake_case))]
        pub unsafe extern "C" fn $mpi($($a: $t),*) -> $ret {
            // SAFETY: same contract as the PMPI_ function it forwards to.
            unsafe { $pmpi($($a),*) }
        }
    };
}
