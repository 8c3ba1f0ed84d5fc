//! File manipulation (MPI 4.1 §14.2), views (§14.3) and file pointers (§14.4.3–4).

#![deny(unsafe_op_in_unsafe_fn)]

use super::{get, register, unregister, FILE_NULL};
use crate::abi::datatype::{self as dtabi, TYPES};
use crate::abi::{arg, comm, group, info};
use crate::datatype::{construct, TypeRef};
use crate::error::{class, MpiError};
use crate::handle::predefined;
use crate::io::{self, Rep};
use crate::mpi_fn;
use std::os::raw::{c_char, c_int};
use std::sync::Arc;

type Offset = i64;

/// MPI_DISPLACEMENT_CURRENT.
const DISPLACEMENT_CURRENT: Offset = -54278278;
/// MPI_MAX_DATAREP_STRING.
pub const MAX_DATAREP_STRING: usize = 128;

fn non_negative(v: Offset, arg: &str) -> Result<u64, MpiError> {
    u64::try_from(v).map_err(|_| MpiError::arg(class::ERR_ARG, arg, format!("negative value {v}")))
}

mpi_fn!(MPI_File_open, PMPI_File_open, (comm: c_int, filename: *const c_char, amode: c_int, info: c_int, fh: *mut usize), |ctx| {
    // Errors of open go to the default file errhandler (MPI_FILE_NULL's).
    ctx.on_file(FILE_NULL);
    let c = comm::get(ctx, comm)?;
    ctx.on_file(FILE_NULL);
    // SAFETY: `fh` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(fh, FILE_NULL, "fh") }?;
    if c.is_inter() {
        return Err(MpiError::arg(class::ERR_COMM, "comm", "MPI_File_open needs an intracommunicator"));
    }
    // SAFETY: `filename` is the C caller's, null or valid for this use (MPI contract).
    let name = unsafe { arg::cstr(filename, "filename") }?;
    let hints = info::get_or_empty(info, "info")?;
    let f = io::open::open(crate::runtime::rt()?, &c, name, amode, hints)?;
    *f.errhandler.lock() = crate::abi::errhandler::file_default();
    // SAFETY: `fh` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(fh, register(f), "fh") }
});

mpi_fn!(MPI_File_close, PMPI_File_close, (fh: *mut usize), |ctx| {
    ctx.on_file(FILE_NULL);
    // SAFETY: `fh` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(fh, "fh") }?;
    let f = get(ctx, h)?;
    let r = crate::runtime::rt().and_then(|rt| io::open::close(rt, &f));
    unregister(h);
    ctx.on_file(FILE_NULL);
    r?;
    // SAFETY: `fh` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(fh, FILE_NULL, "fh") }
});

mpi_fn!(MPI_File_delete, PMPI_File_delete, (filename: *const c_char, info: c_int), |ctx| {
    crate::runtime::rt()?;
    ctx.on_file(FILE_NULL);
    // SAFETY: `filename` is the C caller's, null or valid for this use (MPI contract).
    let name = unsafe { arg::cstr(filename, "filename") }?;
    info::get_or_empty(info, "info")?;
    io::open::delete(name)
});

mpi_fn!(MPI_File_set_size, PMPI_File_set_size, (fh: usize, size: Offset), |ctx| {
    let f = get(ctx, fh)?;
    f.set_size(non_negative(size, "size")?)
});

mpi_fn!(MPI_File_preallocate, PMPI_File_preallocate, (fh: usize, size: Offset), |ctx| {
    let f = get(ctx, fh)?;
    f.preallocate(non_negative(size, "size")?)
});

mpi_fn!(MPI_File_get_size, PMPI_File_get_size, (fh: usize, size: *mut Offset), |ctx| {
    let f = get(ctx, fh)?;
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, f.size()? as Offset, "size") }
});

mpi_fn!(MPI_File_get_group, PMPI_File_get_group, (fh: usize, group: *mut c_int), |ctx| {
    let f = get(ctx, fh)?;
    // SAFETY: `group` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(group, predefined::GROUP_NULL, "group") }?;
    // SAFETY: `group` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(group, group::handle_of((*f.comm.group).clone()), "group") }
});

mpi_fn!(MPI_File_get_amode, PMPI_File_get_amode, (fh: usize, amode: *mut c_int), |ctx| {
    let f = get(ctx, fh)?;
    // SAFETY: `amode` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(amode, f.amode, "amode") }
});

mpi_fn!(MPI_File_get_info, PMPI_File_get_info, (fh: usize, info_used: *mut c_int), |ctx| {
    let f = get(ctx, fh)?;
    // SAFETY: `info_used` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info_used, predefined::INFO_NULL, "info_used") }?;
    let i = f.state.lock().info.clone();
    // SAFETY: `info_used` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info_used, info::new_handle(i), "info_used") }
});

mpi_fn!(MPI_File_set_info, PMPI_File_set_info, (fh: usize, info: c_int), |ctx| {
    get(ctx, fh)?;
    // Checked, then ignored: the one hint we act on (file_perm) only matters when a file is
    // created, so nothing joins the hints in use after MPI_File_open.
    info::get_or_empty(info, "info")?;
    Ok(())
});

mpi_fn!(MPI_File_set_atomicity, PMPI_File_set_atomicity, (fh: usize, flag: c_int), |ctx| {
    let f = get(ctx, fh)?;
    f.set_atomicity(flag != 0)
});

mpi_fn!(MPI_File_get_atomicity, PMPI_File_get_atomicity, (fh: usize, flag: *mut c_int), |ctx| {
    let f = get(ctx, fh)?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, f.atomicity() as c_int, "flag") }
});

mpi_fn!(MPI_File_sync, PMPI_File_sync, (fh: usize), |ctx| {
    let f = get(ctx, fh)?;
    f.sync()
});

mpi_fn!(MPI_File_seek, PMPI_File_seek, (fh: usize, offset: Offset, whence: c_int), |ctx| {
    let f = get(ctx, fh)?;
    f.seek(offset, whence)
});

mpi_fn!(MPI_File_get_position, PMPI_File_get_position, (fh: usize, offset: *mut Offset), |ctx| {
    let f = get(ctx, fh)?;
    // SAFETY: `offset` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(offset, f.position()? as Offset, "offset") }
});

mpi_fn!(MPI_File_seek_shared, PMPI_File_seek_shared, (fh: usize, offset: Offset, whence: c_int), |ctx| {
    let f = get(ctx, fh)?;
    f.seek_shared(offset, whence)
});

mpi_fn!(MPI_File_get_position_shared, PMPI_File_get_position_shared, (fh: usize, offset: *mut Offset), |ctx| {
    let f = get(ctx, fh)?;
    // SAFETY: `offset` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(offset, f.position_shared()? as Offset, "offset") }
});

mpi_fn!(MPI_File_get_byte_offset, PMPI_File_get_byte_offset, (fh: usize, offset: Offset, disp: *mut Offset), |ctx| {
    let f = get(ctx, fh)?;
    let o = non_negative(offset, "offset")?;
    // SAFETY: `disp` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(disp, f.byte_offset(o)? as Offset, "disp") }
});

fn type_extent(ctx: &mut crate::abi::Ctx, fh: usize, datatype: c_int) -> Result<i64, MpiError> {
    let f = get(ctx, fh)?;
    let dt = dtabi::get_any(datatype, "datatype")?;
    f.view().type_extent(&dt)
}

mpi_fn!(MPI_File_get_type_extent, PMPI_File_get_type_extent, (fh: usize, datatype: c_int, extent: *mut i64), |ctx| {
    let e = type_extent(ctx, fh, datatype)?;
    // SAFETY: `extent` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(extent, e, "extent") }
});

mpi_fn!(MPI_File_get_type_extent_c, PMPI_File_get_type_extent_c, (fh: usize, datatype: c_int, extent: *mut i64), |ctx| {
    let e = type_extent(ctx, fh, datatype)?;
    // SAFETY: `extent` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(extent, e, "extent") }
});

/// A committed datatype argument as a constructor-style reference.
fn type_ref(h: c_int, arg: &str) -> Result<TypeRef, MpiError> {
    dtabi::component(h, dtabi::get(h, arg)?)
}

mpi_fn!(MPI_File_set_view, PMPI_File_set_view, (fh: usize, disp: Offset, etype: c_int, filetype: c_int, datarep: *const c_char, info: c_int), |ctx| {
    let f = get(ctx, fh)?;
    let disp = if disp == DISPLACEMENT_CURRENT { None } else { Some(non_negative(disp, "disp")?) };
    let e = type_ref(etype, "etype")?;
    let ft = type_ref(filetype, "filetype")?;
    // Checked (a handle, before the datarep's value, as MPICH), then ignored: we act on no
    // view hint.
    info::get_or_empty(info, "info")?;
    // SAFETY: `datarep` is the C caller's, null or valid for this use (MPI contract).
    let name = unsafe { arg::cstr(datarep, "datarep") }?;
    let rep = Rep::by_name(name, super::datarep::lookup)?;
    f.set_view(disp, e, ft, rep)
});

/// The handle get_view returns for a view's type: a predefined type's own handle, or a
/// new handle to a duplicate of a derived type (the caller frees it).
fn view_type_handle(t: &TypeRef) -> c_int {
    match t {
        TypeRef::Predefined(id, _) => dtabi::builtins::handle_of(*id),
        TypeRef::Derived(_) => TYPES.insert(Arc::new(construct::dup(t))),
    }
}

mpi_fn!(MPI_File_get_view, PMPI_File_get_view, (fh: usize, disp: *mut Offset, etype: *mut c_int, filetype: *mut c_int, datarep: *mut c_char), |ctx| {
    let f = get(ctx, fh)?;
    let v = f.view();
    // SAFETY: `disp` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(disp, v.disp as Offset, "disp") }?;
    // Check every output pointer before making handles the caller would have to free.
    // SAFETY: `etype` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(etype, predefined::DATATYPE_NULL, "etype") }?;
    // SAFETY: `filetype` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(filetype, predefined::DATATYPE_NULL, "filetype") }?;
    // SAFETY: `datarep` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write_str(datarep, MAX_DATAREP_STRING, &v.rep.name(), std::ptr::null_mut(), "datarep") }?;
    // SAFETY: `etype` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(etype, view_type_handle(&v.etype), "etype") }?;
    // SAFETY: `filetype` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(filetype, view_type_handle(&v.filetype), "filetype") }
});
