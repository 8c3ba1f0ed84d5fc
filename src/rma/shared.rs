//! MPI_Win_allocate_shared: one segment for the ranks of a node, each rank's part placed
//! after the previous one (contiguous, as MPI's default requires; page-aligned parts with
//! the `alloc_shared_noncontig` hint). Rank 0 creates a memfd; the others open it through
//! /proc while rank 0 keeps it open, then rank 0 closes it: the memory lives as long as a
//! mapping does and has no name anywhere.

use super::hints::Hints;
use super::win::{Flavor, Memory, Win};
use crate::coll::internal;
use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::runtime::Runtime;
use crate::transport::mem::UserPtr;
use crate::transport::shared_map::Mapping;
use std::os::fd::AsRawFd;
use std::sync::Arc;

const PAGE: u64 = 4096;

fn words(b: &[u8]) -> Vec<u64> {
    b.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// Collective over `parent`. `null` is the address-0 pointer: as in MPICH, a rank that
/// gives no memory gets a null base, and MPI_Win_shared_query answers size 0 and a null
/// base for it (a zero-size segment would share its address with the next rank's).
pub fn allocate(
    rt: &'static Runtime,
    parent: &Comm,
    size: u64,
    disp_unit: i64,
    hints: Hints,
    null: UserPtr,
) -> Result<Arc<Win>, MpiError> {
    let comm = Win::dup_comm(rt, parent)?;
    let node = |p: u32| rt.node_of.get(p as usize).copied();
    let first = node(comm.group.proc_of(0));
    if first.is_none() || comm.group.procs.iter().any(|&p| node(p) != first) {
        return Err(MpiError::arg(
            class::ERR_RMA_SHARED,
            "comm",
            "the processes of the communicator do not share memory (not all on one node)",
        ));
    }
    let sizes = words(&internal::allgather(
        &rt.engine,
        &comm,
        &size.to_le_bytes(),
    )?);
    let noncontig = hints.alloc_shared_noncontig;
    let mut offsets = Vec::with_capacity(sizes.len());
    let mut total = 0u64;
    for &s in &sizes {
        if noncontig {
            total = total.div_ceil(PAGE) * PAGE;
        }
        offsets.push(total);
        total += s;
    }
    // Rank 0 creates the segment and tells the others where to find it.
    let mut created = None;
    let mut mine = [0u64; 3];
    if comm.rank == 0 {
        match Mapping::shared(total as usize) {
            Ok((m, fd)) => {
                mine = [1, std::process::id() as u64, fd.as_raw_fd() as u64];
                created = Some((m, fd));
            }
            Err(_) => mine = [0, 0, 0],
        }
    }
    let bytes: Vec<u8> = mine.iter().flat_map(|w| w.to_le_bytes()).collect();
    let all = words(&internal::allgather(&rt.engine, &comm, &bytes)?);
    let (ok, pid, fd) = (all[0], all[1] as u32, all[2] as i32);
    if ok == 0 {
        return Err(MpiError::new(
            class::ERR_NO_MEM,
            "could not create the shared segment of the window",
        ));
    }
    let mapping = match created.take() {
        Some((m, fd)) => Ok((m, Some(fd))),
        None => Mapping::open_peer(pid, fd, total as usize).map(|m| (m, None)),
    };
    let opened = u64::from(mapping.is_ok());
    // Everyone has mapped it (or failed) before rank 0 closes the descriptor.
    let oks = words(&internal::allgather(
        &rt.engine,
        &comm,
        &opened.to_le_bytes(),
    )?);
    let (m, fd) = match mapping {
        Ok(x) if oks.iter().all(|&o| o == 1) => x,
        _ => {
            return Err(MpiError::new(
                class::ERR_RMA_SHARED,
                "a process could not map the window's shared segment",
            ))
        }
    };
    drop(fd);
    let bases = offsets
        .iter()
        .zip(&sizes)
        .map(|(&o, &s)| if s == 0 { 0 } else { m.addr() + o as usize })
        .collect();
    let base = if size == 0 {
        null
    } else {
        m.ptr().offset(offsets[comm.rank as usize] as i64)
    };
    Win::build(
        rt,
        comm,
        Flavor::Shared,
        Memory::Shared(m, base, bases),
        size,
        disp_unit,
        hints,
    )
}
