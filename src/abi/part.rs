//! Partitioned communication: Psend_init, Precv_init, Pready(_range, _list), Parrived.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::comm;
use super::consts::{ANY_SOURCE, ANY_TAG, PROC_NULL};
use super::pt2pt::{dest, msg_data, send_tag, source};
use super::request::{handle_of, id_of};
use crate::error::{class, MpiError};
use crate::mpi_fn;
use crate::p2p::{Data, Mode, RecvArgs, ReqId, SendArgs};
use crate::runtime::{self, NodeEngine};
use std::os::raw::{c_int, c_void};

/// Partitioned traffic has its own context so it never matches ordinary receives.
const PART_CONTEXT_OFFSET: u32 = 2;

fn parts_arg(partitions: c_int, count: i64) -> Result<u64, MpiError> {
    if partitions < 0 {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "partitions",
            format!("negative partition count {partitions}"),
        ));
    }
    if count < 0 {
        return Err(MpiError::arg(
            class::ERR_COUNT,
            "count",
            format!("negative count {count}"),
        ));
    }
    Ok(partitions as u64)
}

/// The message of a partitioned call: `parts` partitions of `count` elements. As MPICH,
/// the datatype is checked whenever the per-partition count is positive (so zero
/// partitions of a positive count still need a valid type), and MPI_DATATYPE_NULL is
/// allowed only with a zero count.
fn part_data(
    buf: *const c_void,
    count: i64,
    parts: u64,
    datatype: c_int,
) -> Result<Data, MpiError> {
    if count > 0 {
        super::datatype::get(datatype, "datatype")?;
    }
    msg_data(buf, count * parts as i64, datatype)
}

mpi_fn!(MPI_Psend_init, PMPI_Psend_init, (buf: *const c_void, partitions: c_int, count: i64, datatype: c_int, dest_: c_int, tag: c_int, comm_: c_int, info: c_int, request: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm_)?;
    let parts = parts_arg(partitions, count)?;
    let d = part_data(buf, count, parts, datatype)?;
    super::info::check(info)?;
    let tag = send_tag(tag)?;
    if dest_ == PROC_NULL {
        return Err(MpiError::arg(class::ERR_RANK, "dest", "MPI_PROC_NULL is not allowed in partitioned communication"));
    }
    let ep = dest(&c, dest_)?.expect("not PROC_NULL");
    let a = SendArgs { ep, ctx: c.context_id + PART_CONTEXT_OFFSET, src: c.rank as i32, tag, mode: Mode::Standard, data: d, owner: comm_ };
    let id = runtime::rt()?.engine.psend_init(a, parts);
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, handle_of(id), "request") }
});

mpi_fn!(MPI_Precv_init, PMPI_Precv_init, (buf: *mut c_void, partitions: c_int, count: i64, datatype: c_int, source_: c_int, tag: c_int, comm_: c_int, info: c_int, request: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm_)?;
    let parts = parts_arg(partitions, count)?;
    let d = part_data(buf, count, parts, datatype)?;
    super::info::check(info)?;
    if source_ == ANY_SOURCE || source_ == PROC_NULL {
        return Err(MpiError::arg(class::ERR_RANK, "source", "MPI_ANY_SOURCE and MPI_PROC_NULL are not allowed in partitioned communication"));
    }
    if tag == ANY_TAG {
        return Err(MpiError::arg(class::ERR_TAG, "tag", "MPI_ANY_TAG is not allowed in partitioned communication"));
    }
    let src = source(&c, source_)?;
    let tag = send_tag(tag)?;
    let a = RecvArgs { ctx: c.context_id + PART_CONTEXT_OFFSET, src, tag, data: d, owner: comm_ };
    let id = runtime::rt()?.engine.precv_init(a, parts);
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, handle_of(id), "request") }
});

fn request(e: &NodeEngine, h: c_int) -> Result<ReqId, MpiError> {
    id_of(e, h)?.ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "MPI_REQUEST_NULL"))
}

fn ready(
    ctx: &mut super::Ctx,
    h: c_int,
    parts: impl Iterator<Item = c_int>,
) -> Result<(), MpiError> {
    let e = &runtime::rt()?.engine;
    let id = request(e, h)?;
    if let Some(o) = e.owner_of(id) {
        ctx.on_comm(o);
    }
    for p in parts {
        if p < 0 {
            return Err(MpiError::arg(
                class::ERR_ARG,
                "partition",
                format!("negative partition {p}"),
            ));
        }
        e.pready(id, p as u64)?;
    }
    Ok(())
}

mpi_fn!(MPI_Pready, PMPI_Pready, (partition: c_int, request: c_int), |ctx| { ready(ctx, request, std::iter::once(partition)) });

mpi_fn!(MPI_Pready_range, PMPI_Pready_range, (partition_low: c_int, partition_high: c_int, request: c_int), |ctx| {
    if partition_low > partition_high {
        return Err(MpiError::arg(class::ERR_ARG, "partition_low", format!("{partition_low} > partition_high {partition_high}")));
    }
    ready(ctx, request, partition_low..=partition_high)
});

mpi_fn!(MPI_Pready_list, PMPI_Pready_list, (length: c_int, array_of_partitions: *const c_int, request: c_int), |ctx| {
    if length < 0 {
        return Err(MpiError::arg(class::ERR_ARG, "length", format!("negative length {length}")));
    }
    // SAFETY: `array_of_partitions` is the C caller's, null or valid for this use (MPI contract).
    let list = unsafe { arg::slice(array_of_partitions, length as usize, "array_of_partitions") }?;
    ready(ctx, request, list.iter().copied())
});

mpi_fn!(MPI_Parrived, PMPI_Parrived, (request: c_int, partition: c_int, flag: *mut c_int), |ctx| {
    let e = &runtime::rt()?.engine;
    let id = self::request(e, request)?;
    if let Some(o) = e.owner_of(id) {
        ctx.on_comm(o);
    }
    if partition < 0 {
        return Err(MpiError::arg(class::ERR_ARG, "partition", format!("negative partition {partition}")));
    }
    let arrived = e.parrived(id, partition as u64)?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, arrived as c_int, "flag") }
});
