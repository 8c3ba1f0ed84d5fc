//! Dynamic processes (MPI 4.1 chapter 11): spawning, ports, accept/connect, join,
//! disconnect and the name service. The work happens in `dpm`; here the arguments are
//! checked and handles made.

use super::comm;
use super::ptr;
use crate::dpm;
use crate::error::{class, MpiError};
use crate::handle::predefined;
use crate::mpi_fn;
use crate::object::comm::Comm;
use std::os::raw::{c_char, c_int};

const MAX_PORT_NAME: usize = 256;

/// Info arguments of this chapter are checked but carry no keys we act on (ports and
/// names have no options here); MPI_INFO_NULL is allowed.
fn check_info(info: c_int) -> Result<(), MpiError> {
    super::info::get_or_empty(info, "info").map(|_| ())
}

fn check_root(c: &Comm, root: c_int) -> Result<usize, MpiError> {
    if c.is_inter() {
        return Err(MpiError::arg(
            class::ERR_COMM,
            "comm",
            "must be an intracommunicator",
        ));
    }
    if root < 0 || root as usize >= c.size() {
        return Err(MpiError::arg(
            class::ERR_ROOT,
            "root",
            format!(
                "{root} is not a rank of a communicator of size {}",
                c.size()
            ),
        ));
    }
    Ok(root as usize)
}

/// Registers `c` (inheriting `from`'s errhandler, as communicators made from another do)
/// and writes its handle.
fn out(newcomm: *mut c_int, c: Comm, from: &Comm) -> Result<(), MpiError> {
    *c.errhandler.lock() = from.errhandler.lock().clone();
    ptr::write(newcomm, comm::register(c), "newcomm")
}

mpi_fn!(MPI_Open_port, PMPI_Open_port, (info: c_int, port_name: *mut c_char), |_ctx| {
    crate::runtime::rt()?;
    check_info(info)?;
    if port_name.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "port_name", "null buffer"));
    }
    let name = dpm::port::open()?;
    ptr::write_str(port_name, MAX_PORT_NAME, &name, std::ptr::null_mut(), "port_name")
});

mpi_fn!(MPI_Close_port, PMPI_Close_port, (port_name: *const c_char), |_ctx| {
    crate::runtime::rt()?;
    dpm::port::close(ptr::cstr(port_name, "port_name")?)
});

/// MPI_Comm_accept and MPI_Comm_connect share their checks; the port name matters at the
/// root only (elsewhere it may be anything, even null).
fn meet(
    ctx: &mut super::Ctx,
    port_name: *const c_char,
    info: c_int,
    root: c_int,
    comm_h: c_int,
    newcomm: *mut c_int,
    f: fn(&str, &Comm, usize) -> Result<Comm, MpiError>,
) -> Result<(), MpiError> {
    let c = comm::get(ctx, comm_h)?;
    let root = check_root(&c, root)?;
    ptr::write(newcomm, predefined::COMM_NULL, "newcomm")?;
    let name = if c.rank as usize == root {
        check_info(info)?;
        ptr::cstr(port_name, "port_name")?
    } else {
        ""
    };
    let n = f(name, &c, root)?;
    out(newcomm, n, &c)
}

mpi_fn!(MPI_Comm_accept, PMPI_Comm_accept, (port_name: *const c_char, info: c_int, root: c_int, comm: c_int, newcomm: *mut c_int), |ctx| {
    meet(ctx, port_name, info, root, comm, newcomm, dpm::connect::accept)
});

mpi_fn!(MPI_Comm_connect, PMPI_Comm_connect, (port_name: *const c_char, info: c_int, root: c_int, comm: c_int, newcomm: *mut c_int), |ctx| {
    meet(ctx, port_name, info, root, comm, newcomm, dpm::connect::connect)
});

mpi_fn!(MPI_Comm_join, PMPI_Comm_join, (fd: c_int, intercomm: *mut c_int), |ctx| {
    let rt = crate::runtime::rt()?;
    ctx.on_comm(predefined::COMM_SELF);
    ptr::write(intercomm, predefined::COMM_NULL, "intercomm")?;
    let c = dpm::join::join(fd)?;
    out(intercomm, c, &rt.self_comm)
});

mpi_fn!(MPI_Comm_disconnect, PMPI_Comm_disconnect, (comm: *mut c_int), |ctx| {
    let h = ptr::read(comm, "comm")?;
    let c = comm::get(ctx, h)?;
    if h == predefined::COMM_WORLD || h == predefined::COMM_SELF {
        return Err(MpiError::arg(
            class::ERR_COMM,
            "comm",
            "predefined communicators cannot be disconnected",
        ));
    }
    dpm::disconnect::disconnect(&c)?;
    drop(c);
    comm::free_handle(h)?;
    ptr::write(comm, predefined::COMM_NULL, "comm")
});
