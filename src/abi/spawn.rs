//! Dynamic processes (MPI 4.1 chapter 11): spawning, ports, accept/connect, join,
//! disconnect and the name service. The work happens in `dpm`; here the arguments are
//! checked and handles made.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::comm;
use crate::dpm;
use crate::error::{class, MpiError};
use crate::handle::predefined;
use crate::mpi_fn;
use crate::object::comm::Comm;
use std::os::raw::{c_char, c_int};

const MAX_PORT_NAME: usize = 256;

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

/// Registers `c` (inheriting `from`'s errhandler, as communicators made from another do;
/// an unset one stays unset, so the dynamic default applies) and writes its handle.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn out(newcomm: *mut c_int, c: Comm, from: &Comm) -> Result<(), MpiError> {
    *c.errhandler.lock() = from.own_errhandler();
    // SAFETY: `newcomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newcomm, comm::register(c), "newcomm") }
}

mpi_fn!(MPI_Open_port, PMPI_Open_port, (info: c_int, port_name: *mut c_char), |_ctx| {
    crate::runtime::rt()?;
    super::info::check(info)?;
    if port_name.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "port_name", "null buffer"));
    }
    let name = dpm::port::open(crate::runtime::rt()?)?;
    // SAFETY: `port_name` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write_str(port_name, MAX_PORT_NAME, &name, std::ptr::null_mut(), "port_name") }
});

mpi_fn!(MPI_Close_port, PMPI_Close_port, (port_name: *const c_char), |_ctx| {
    crate::runtime::rt()?;
    // SAFETY: `port_name` is the C caller's, null or valid for this use (MPI contract).
    dpm::port::close(crate::runtime::rt()?, unsafe { arg::cstr(port_name, "port_name") }?)
});

/// MPI_Comm_accept and MPI_Comm_connect share their checks; the port name and info matter
/// at the root only (elsewhere they may be anything, even null).
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn meet(
    ctx: &mut super::Ctx,
    port_name: *const c_char,
    info: c_int,
    root: c_int,
    comm_h: c_int,
    newcomm: *mut c_int,
    f: impl FnOnce(&str, &crate::object::info::Info, &Comm, usize) -> Result<Comm, MpiError>,
) -> Result<(), MpiError> {
    let c = comm::get(ctx, comm_h)?;
    let root = check_root(&c, root)?;
    // SAFETY: `newcomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newcomm, predefined::COMM_NULL, "newcomm") }?;
    let (name, info) = if c.rank as usize == root {
        let i = super::info::get_or_empty(info, "info")?;
        // SAFETY: `port_name` is the C caller's, null or valid for this use (MPI contract).
        (unsafe { arg::cstr(port_name, "port_name") }?, i)
    } else {
        ("", crate::object::info::Info::new())
    };
    let n = f(name, &info, &c, root)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newcomm, n, &c) }
}

mpi_fn!(MPI_Comm_accept, PMPI_Comm_accept, (port_name: *const c_char, info: c_int, root: c_int, comm: c_int, newcomm: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { meet(ctx, port_name, info, root, comm, newcomm, |p, _, c, r| dpm::connect::accept(crate::runtime::rt()?, p, c, r)) }
});

// The info key "timeout" (whole seconds) bounds the wait for an MPI_Comm_accept, as in
// MPICH; without it, dpm::connect::default_connect_timeout applies.
mpi_fn!(MPI_Comm_connect, PMPI_Comm_connect, (port_name: *const c_char, info: c_int, root: c_int, comm: c_int, newcomm: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { meet(ctx, port_name, info, root, comm, newcomm, |p, i, c, r| {
        let timeout = match i.get("timeout") {
            None => dpm::connect::default_connect_timeout(),
            Some(v) => dpm::connect::parse_seconds(v).ok_or_else(|| {
                MpiError::arg(
                    class::ERR_INFO_VALUE,
                    "info",
                    format!("timeout={v:?} is not a positive whole number of seconds"),
                )
            })?,
        };
        dpm::connect::connect(crate::runtime::rt()?, p, c, r, timeout)
    }) }
});

// The new intercommunicator has MPI_COMM_WORLD's errhandler if the program set one, else
// none of its own (MPICH makes it without one), so its errors follow the dynamic default.
// So do the errors of MPI_Comm_join itself, which has no communicator argument (MPICH).
mpi_fn!(MPI_Comm_join, PMPI_Comm_join, (fd: c_int, intercomm: *mut c_int), |ctx| {
    let rt = crate::runtime::rt()?;
    ctx.on_comm(predefined::COMM_WORLD);
    // SAFETY: `intercomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(intercomm, predefined::COMM_NULL, "intercomm") }?;
    let c = dpm::join::join(crate::runtime::rt()?, fd)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(intercomm, c, &rt.world) }
});

mpi_fn!(MPI_Comm_disconnect, PMPI_Comm_disconnect, (comm: *mut c_int), |ctx| {
    // SAFETY: `comm` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(comm, "comm") }?;
    let c = comm::get(ctx, h)?;
    if h == predefined::COMM_WORLD || h == predefined::COMM_SELF {
        return Err(MpiError::arg(
            class::ERR_COMM,
            "comm",
            "predefined communicators cannot be disconnected",
        ));
    }
    dpm::disconnect::disconnect(crate::runtime::rt()?, &c)?;
    drop(c);
    comm::free_handle(h)?;
    // SAFETY: `comm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(comm, predefined::COMM_NULL, "comm") }
});

// ---- spawning ----

/// A NULL-terminated `char *argv[]` (MPI_ARGV_NULL: no arguments).
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn argv_list(argv: *const *const c_char, arg: &str) -> Result<Vec<String>, MpiError> {
    let mut out = Vec::new();
    if argv.is_null() {
        return Ok(out);
    }
    loop {
        // SAFETY: argv is a non-null, NULL-terminated array of strings (the MPI contract);
        // we read one element at a time and stop at the terminator.
        let p = unsafe { *argv.add(out.len()) };
        if p.is_null() {
            return Ok(out);
        }
        // SAFETY: `p` is the C caller's, null or valid for this use (MPI contract).
        out.push(unsafe { arg::cstr(p, arg) }?.to_string());
    }
}

/// One command's arguments, as the root checks them.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn read_command(
    exe: *const c_char,
    argv: *const *const c_char,
    maxprocs: c_int,
    info: c_int,
) -> Result<dpm::spawn::Command, MpiError> {
    // SAFETY: `exe` is the C caller's, null or valid for this use (MPI contract).
    let exe = unsafe { arg::cstr(exe, "command") }?;
    if exe.is_empty() {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "command",
            "empty program name",
        ));
    }
    if maxprocs <= 0 {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "maxprocs",
            format!("{maxprocs}: at least one process must be asked for"),
        ));
    }
    let info = super::info::get_or_empty(info, "info")?;
    Ok(dpm::spawn::Command {
        exe: exe.to_string(),
        // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
        argv: unsafe { argv_list(argv, "argv") }?,
        maxprocs: maxprocs as u32,
        info: info
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
}

/// The common part of MPI_Comm_spawn and MPI_Comm_spawn_multiple: `cmds` is what the root
/// read from its arguments (other ranks pass anything).
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn spawn_common(
    c: &Comm,
    root: usize,
    cmds: Result<Vec<dpm::spawn::Command>, MpiError>,
    intercomm: *mut c_int,
    errcodes: *mut c_int,
) -> Result<(), MpiError> {
    let (sp, result) = dpm::spawn::spawn(
        crate::runtime::rt()?,
        c,
        root,
        cmds.as_deref().map_err(Clone::clone),
    );
    // Every rank learns how many were asked for, so each can fill its errcodes array.
    if !errcodes.is_null() {
        // SAFETY: `errcodes` is the C caller's, null or valid for this use (MPI contract).
        let codes = unsafe { arg::slice_mut(errcodes, sp.asked, "array_of_errcodes") }?;
        for (i, e) in codes.iter_mut().enumerate() {
            *e = if i < sp.started { 0 } else { class::ERR_SPAWN };
        }
    }
    result?;
    match sp.inter {
        // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
        Some(n) => unsafe { out(intercomm, n, c) },
        // SAFETY: `intercomm` is the C caller's, null or valid for this use (MPI contract).
        None => unsafe { arg::write(intercomm, predefined::COMM_NULL, "intercomm") },
    }
}

mpi_fn!(MPI_Comm_spawn, PMPI_Comm_spawn, (command: *const c_char, argv: *mut *mut c_char, maxprocs: c_int, info: c_int, root: c_int, comm: c_int, intercomm: *mut c_int, array_of_errcodes: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    let root = check_root(&c, root)?;
    // SAFETY: `intercomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(intercomm, predefined::COMM_NULL, "intercomm") }?;
    let cmds = if c.rank as usize == root {
        // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
        unsafe { read_command(command, argv as *const *const c_char, maxprocs, info) }.map(|c| vec![c])
    } else {
        Ok(Vec::new())
    };
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { spawn_common(&c, root, cmds, intercomm, array_of_errcodes) }
});

mpi_fn!(MPI_Comm_spawn_multiple, PMPI_Comm_spawn_multiple, (count: c_int, array_of_commands: *mut *mut c_char, array_of_argv: *mut *mut *mut c_char, array_of_maxprocs: *const c_int, array_of_info: *const c_int, root: c_int, comm: c_int, intercomm: *mut c_int, array_of_errcodes: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    let root = check_root(&c, root)?;
    // SAFETY: `intercomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(intercomm, predefined::COMM_NULL, "intercomm") }?;
    let cmds = if c.rank as usize == root {
        (|| {
            if count <= 0 {
                return Err(MpiError::arg(class::ERR_ARG, "count", format!("{count}: at least one command is needed")));
            }
            let n = count as usize;
            // SAFETY: `array_of_commands` is the C caller's, null or valid for this use (MPI contract).
            let exes = unsafe { arg::slice(array_of_commands as *const *const c_char, n, "array_of_commands") }?;
            // SAFETY: `array_of_maxprocs` is the C caller's, null or valid for this use (MPI contract).
            let maxprocs = unsafe { arg::slice(array_of_maxprocs, n, "array_of_maxprocs") }?;
            // SAFETY: `array_of_info` is the C caller's, null or valid for this use (MPI contract).
            let infos = unsafe { arg::slice(array_of_info, n, "array_of_info") }?;
            // MPI_ARGVS_NULL: no command has arguments.
            let argvs: Vec<*const *const c_char> = if array_of_argv.is_null() {
                vec![std::ptr::null(); n]
            } else {
                // SAFETY: `array_of_argv` is the C caller's, null or valid for this use (MPI contract).
                unsafe { arg::slice(array_of_argv as *const *const *const c_char, n, "array_of_argv") }?.to_vec()
            };
            // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
            (0..n).map(|i| unsafe { read_command(exes[i], argvs[i], maxprocs[i], infos[i]) }).collect()
        })()
    } else {
        Ok(Vec::new())
    };
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { spawn_common(&c, root, cmds, intercomm, array_of_errcodes) }
});

/// The handle of the parents' intercommunicator, made on first request; MPI_COMM_NULL after
/// it was freed or disconnected (MPI 4.1 §11.8.2).
static PARENT_HANDLE: parking_lot::Mutex<Option<c_int>> = parking_lot::Mutex::new(None);

mpi_fn!(MPI_Comm_get_parent, PMPI_Comm_get_parent, (parent: *mut c_int), |_ctx| {
    crate::runtime::rt()?;
    let mut h = PARENT_HANDLE.lock();
    let handle = match *h {
        Some(p) => p,
        None => {
            let p = match dpm::spawn::take_parent() {
                Some(c) => {
                    // MPI 4.1 section 11.8.2 names it. MPICH's has no errhandler of its
                    // own, so its errors go where MPI_COMM_WORLD's do: like join's, it
                    // takes MPI_COMM_WORLD's if the program set one by now, else it stays
                    // unset and follows the dynamic default.
                    *c.name.lock() = "MPI_COMM_PARENT".to_string();
                    *c.errhandler.lock() = crate::runtime::rt()?.world.own_errhandler();
                    comm::register(c)
                }
                None => predefined::COMM_NULL,
            };
            *h = Some(p);
            p
        }
    };
    // Freed since: the parent is gone for good.
    let handle = if handle != predefined::COMM_NULL && comm::lookup(handle).is_none() {
        predefined::COMM_NULL
    } else {
        handle
    };
    // SAFETY: `parent` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(parent, handle, "parent") }
});

// ---- names ----

mpi_fn!(MPI_Publish_name, PMPI_Publish_name, (service_name: *const c_char, info: c_int, port_name: *const c_char), |_ctx| {
    crate::runtime::rt()?;
    super::info::check(info)?;
    // SAFETY: `service_name`, `port_name` are the C caller's, null or valid for this use (MPI contract).
    dpm::names::publish(crate::runtime::rt()?, unsafe { arg::cstr(service_name, "service_name") }?, unsafe { arg::cstr(port_name, "port_name") }?)
});

mpi_fn!(MPI_Unpublish_name, PMPI_Unpublish_name, (service_name: *const c_char, info: c_int, port_name: *const c_char), |_ctx| {
    crate::runtime::rt()?;
    super::info::check(info)?;
    // SAFETY: `port_name` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::cstr(port_name, "port_name") }?;
    // SAFETY: `service_name` is the C caller's, null or valid for this use (MPI contract).
    dpm::names::unpublish(crate::runtime::rt()?, unsafe { arg::cstr(service_name, "service_name") }?)
});

mpi_fn!(MPI_Lookup_name, PMPI_Lookup_name, (service_name: *const c_char, info: c_int, port_name: *mut c_char), |_ctx| {
    crate::runtime::rt()?;
    super::info::check(info)?;
    if port_name.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "port_name", "null buffer"));
    }
    // SAFETY: `service_name` is the C caller's, null or valid for this use (MPI contract).
    let port = dpm::names::lookup(crate::runtime::rt()?, unsafe { arg::cstr(service_name, "service_name") }?)?;
    // SAFETY: `port_name` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write_str(port_name, MAX_PORT_NAME, &port, std::ptr::null_mut(), "port_name") }
});
