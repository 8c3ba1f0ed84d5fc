//! MPI_Pack / MPI_Unpack and their external32 forms (one body each, the layout a
//! parameter), the size queries, and their `_c` forms.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

/// Checks a (position, buffer size) pair and returns the room left after position.
fn room(position: i64, size: i64, what: &str) -> Result<u64, MpiError> {
    if size < 0 {
        return Err(MpiError::arg(
            class::ERR_ARG,
            what,
            format!("negative size {size}"),
        ));
    }
    if position < 0 || position > size {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "position",
            format!("{position} outside [0, {size}]"),
        ));
    }
    Ok((size - position) as u64)
}

fn total(d: &Datatype, count: u64) -> Result<u64, MpiError> {
    d.size
        .checked_mul(count)
        .ok_or_else(|| MpiError::arg(class::ERR_COUNT, "count", "data size overflows"))
}

/// The layout of packed data: this library's own (MPI_Pack), or the portable external32
/// (MPI_Pack_external).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Native,
    External32,
}

/// Bytes `count` elements of `d` take packed in `fmt` (MPI_ERR_COUNT if they overflow).
fn packed_size(d: &Datatype, count: u64, fmt: Format) -> Result<u64, MpiError> {
    let native = total(d, count)?;
    Ok(match fmt {
        Format::Native => native,
        Format::External32 => d.external32_size(count),
    })
}

/// MPI_Pack and MPI_Pack_external: packs `count` elements of `h` from `inbuf` into
/// `outbuf` (of `outsize` bytes) at byte `position`; returns the position after them.
///
/// # Safety
/// `inbuf` addresses `count` elements of the type (with MPI_BOTTOM, the type holds
/// absolute addresses) and `outbuf` holds `outsize` writable bytes: the C caller's, by the
/// MPI contract.
#[allow(clippy::too_many_arguments)]
unsafe fn pack(
    fmt: Format,
    inbuf: *const c_void,
    count: i64,
    h: c_int,
    outbuf: *mut c_void,
    outsize: i64,
    position: i64,
) -> Result<i64, MpiError> {
    let n = count_arg(count, "incount")? as u64;
    let d = get(h, "datatype")?;
    let need = packed_size(&d, n, fmt)?;
    if need > room(position, outsize, "outsize")? {
        return Err(MpiError::arg(
            class::ERR_TRUNCATE,
            "outsize",
            format!("{need} bytes do not fit after position {position} of {outsize}"),
        ));
    }
    if need == 0 {
        return Ok(position);
    }
    // SAFETY: outbuf holds outsize bytes and position + need <= outsize.
    let dst = unsafe { (outbuf as *mut u8).add(position as usize) };
    // SAFETY: as above: `need` bytes from `dst` are the caller's output.
    let out = unsafe { arg::slice_mut(dst, need as usize, "outbuf") }?;
    // SAFETY: inbuf addresses `count` elements of the type (this function's contract).
    let src = unsafe { UserPtr::new(inbuf as *const u8) };
    match fmt {
        Format::Native => {
            d.pack(src, n, 0, out);
        }
        Format::External32 => {
            d.pack_external32(src, n, out);
        }
    }
    Ok(position + need as i64)
}

/// MPI_Unpack and MPI_Unpack_external: reads `count` elements of `h` into `outbuf` from
/// `inbuf` (of `insize` bytes) at byte `position`; returns the position after them.
///
/// # Safety
/// `inbuf` holds `insize` readable bytes and `outbuf` addresses `count` writable elements
/// of the type: the C caller's, by the MPI contract.
#[allow(clippy::too_many_arguments)]
unsafe fn unpack(
    fmt: Format,
    inbuf: *const c_void,
    insize: i64,
    position: i64,
    outbuf: *mut c_void,
    count: i64,
    h: c_int,
) -> Result<i64, MpiError> {
    let n = count_arg(count, "outcount")? as u64;
    let d = get(h, "datatype")?;
    let need = packed_size(&d, n, fmt)?;
    if need > room(position, insize, "insize")? {
        return Err(MpiError::arg(
            class::ERR_TRUNCATE,
            "insize",
            format!("{need} bytes needed after position {position} of {insize}"),
        ));
    }
    if need == 0 {
        return Ok(position);
    }
    // SAFETY: inbuf holds insize bytes and position + need <= insize.
    let src = unsafe { (inbuf as *const u8).add(position as usize) };
    // SAFETY: as above: `need` bytes from `src` are the caller's input.
    let inp = unsafe { arg::slice(src, need as usize, "inbuf") }?;
    // SAFETY: outbuf addresses `count` writable elements of the type (this function's
    // contract).
    let dst = unsafe { UserPtr::new(outbuf as *const u8) };
    match fmt {
        Format::Native => {
            d.unpack(dst, n, 0, inp);
        }
        Format::External32 => {
            d.unpack_external32(dst, n, inp);
        }
    }
    Ok(position + need as i64)
}

/// MPI_Pack / MPI_Pack_c and MPI_Unpack / MPI_Unpack_c: `$pos` is the type of sizes and
/// positions (int, or MPI_Count).
macro_rules! pack_fns {
    ($pk:ident, $ppk:ident, $un:ident, $pun:ident, $cnt:ty, $pos:ty) => {
        mpi_fn!($pk, $ppk, (inbuf: *const c_void, incount: $cnt, datatype: c_int, outbuf: *mut c_void, outsize: $pos, position: *mut $pos, comm: c_int), |ctx| {
            // The communicator is checked first (as MPICH), though packing does not use it.
            crate::abi::comm::get(ctx, comm)?;
            // SAFETY: `position` is the C caller's, null or valid for this use (MPI contract).
            let mut at = unsafe { arg::inout(position, "position") }?;
            // SAFETY: `inbuf` and `outbuf` are the C caller's buffers (MPI contract).
            let end = unsafe { pack(Format::Native, inbuf, incount as i64, datatype, outbuf, outsize as i64, at.get() as i64) }?;
            at.set(end as $pos);
            Ok(())
        });
        mpi_fn!($un, $pun, (inbuf: *const c_void, insize: $pos, position: *mut $pos, outbuf: *mut c_void, outcount: $cnt, datatype: c_int, comm: c_int), |ctx| {
            // The communicator is checked first (as MPICH), though packing does not use it.
            crate::abi::comm::get(ctx, comm)?;
            // SAFETY: `position` is the C caller's, null or valid for this use (MPI contract).
            let mut at = unsafe { arg::inout(position, "position") }?;
            // SAFETY: `inbuf` and `outbuf` are the C caller's buffers (MPI contract).
            let end = unsafe { unpack(Format::Native, inbuf, insize as i64, at.get() as i64, outbuf, outcount as i64, datatype) }?;
            at.set(end as $pos);
            Ok(())
        });
    };
}
pack_fns!(MPI_Pack, PMPI_Pack, MPI_Unpack, PMPI_Unpack, c_int, c_int);
pack_fns!(
    MPI_Pack_c,
    PMPI_Pack_c,
    MPI_Unpack_c,
    PMPI_Unpack_c,
    Count,
    Count
);

fn pack_size(count: i64, h: c_int) -> Result<i64, MpiError> {
    let n = count_arg(count, "incount")? as u64;
    Ok(total(&*get(h, "datatype")?, n)? as i64)
}

mpi_fn!(MPI_Pack_size, PMPI_Pack_size, (incount: c_int, datatype: c_int, comm: c_int, size: *mut c_int), |ctx| {
    // The communicator is checked first (as MPICH), though the size does not depend on it.
    crate::abi::comm::get(ctx, comm)?;
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, to_int(pack_size(incount as i64, datatype)?, "size")?, "size") }
});
mpi_fn!(MPI_Pack_size_c, PMPI_Pack_size_c, (incount: Count, datatype: c_int, comm: c_int, size: *mut Count), |ctx| {
    // The communicator is checked first (as MPICH), though the size does not depend on it.
    crate::abi::comm::get(ctx, comm)?;
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, pack_size(incount, datatype)?, "size") }
});

/// The argument checks of the external32 calls in MPICH's order: the count and the datatype
/// (its generated argument checks) before the datarep's value (checked by the call itself),
/// so a bad count or type is MPI_ERR_COUNT / MPI_ERR_TYPE whatever the datarep.
fn check_external(rep: &str, count: i64, count_name: &str, h: c_int) -> Result<(), MpiError> {
    count_arg(count, count_name)?;
    get(h, "datatype")?;
    datatype::external32::check_datarep(rep)
}

/// # Safety
/// `datarep` is null or the C caller's NUL-terminated string.
unsafe fn external_size(datarep: *const c_char, count: i64, h: c_int) -> Result<i64, MpiError> {
    // SAFETY: by this function's contract.
    check_external(
        unsafe { arg::cstr(datarep, "datarep") }?,
        count,
        "incount",
        h,
    )?;
    let n = count_arg(count, "incount")? as u64;
    Ok(packed_size(&*get(h, "datatype")?, n, Format::External32)? as i64)
}

mpi_fn!(MPI_Pack_external_size, PMPI_Pack_external_size, (datarep: *const c_char, incount: c_int, datatype: c_int, size: *mut Aint), |_ctx| {
    // SAFETY: `datarep` and `size` are the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, external_size(datarep, incount as i64, datatype)?, "size") }
});
mpi_fn!(MPI_Pack_external_size_c, PMPI_Pack_external_size_c, (datarep: *const c_char, incount: Count, datatype: c_int, size: *mut Count), |_ctx| {
    // SAFETY: `datarep` and `size` are the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, external_size(datarep, incount, datatype)?, "size") }
});

/// MPI_Pack_external(_c) and MPI_Unpack_external(_c): `$pos` is the type of sizes and
/// positions (MPI_Aint, or MPI_Count).
macro_rules! pack_external_fns {
    ($pk:ident, $ppk:ident, $un:ident, $pun:ident, $cnt:ty, $pos:ty) => {
        mpi_fn!($pk, $ppk, (datarep: *const c_char, inbuf: *const c_void, incount: $cnt, datatype: c_int, outbuf: *mut c_void, outsize: $pos, position: *mut $pos), |_ctx| {
            // SAFETY: `datarep` and `position` are the C caller's, null or valid for this
            // use (MPI contract).
            let (rep, mut at) = unsafe { (arg::cstr(datarep, "datarep")?, arg::inout(position, "position")?) };
            check_external(rep, incount as i64, "incount", datatype)?;
            // SAFETY: `inbuf` and `outbuf` are the C caller's buffers (MPI contract).
            let end = unsafe { pack(Format::External32, inbuf, incount as i64, datatype, outbuf, outsize as i64, at.get() as i64) }?;
            at.set(end as $pos);
            Ok(())
        });
        mpi_fn!($un, $pun, (datarep: *const c_char, inbuf: *const c_void, insize: $pos, position: *mut $pos, outbuf: *mut c_void, outcount: $cnt, datatype: c_int), |_ctx| {
            // SAFETY: `datarep` and `position` are the C caller's, null or valid for this
            // use (MPI contract).
            let (rep, mut at) = unsafe { (arg::cstr(datarep, "datarep")?, arg::inout(position, "position")?) };
            check_external(rep, outcount as i64, "outcount", datatype)?;
            // SAFETY: `inbuf` and `outbuf` are the C caller's buffers (MPI contract).
            let end = unsafe { unpack(Format::External32, inbuf, insize as i64, at.get() as i64, outbuf, outcount as i64, datatype) }?;
            at.set(end as $pos);
            Ok(())
        });
    };
}
pack_external_fns!(
    MPI_Pack_external,
    PMPI_Pack_external,
    MPI_Unpack_external,
    PMPI_Unpack_external,
    c_int,
    Aint
);
pack_external_fns!(
    MPI_Pack_external_c,
    PMPI_Pack_external_c,
    MPI_Unpack_external_c,
    PMPI_Unpack_external_c,
    Count,
    Count
);
