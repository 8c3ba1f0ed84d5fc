//! Group handles and the group calls.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::consts::{PROC_NULL, UNDEFINED};
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::mpi_fn;
use crate::object::group::{expand_ranges, Group};
use std::os::raw::c_int;
use std::sync::{Arc, OnceLock};

/// User groups.
pub static GROUPS: HandleTable<Group> = HandleTable::new(obj::GROUP);

fn empty() -> Arc<Group> {
    static E: OnceLock<Arc<Group>> = OnceLock::new();
    E.get_or_init(|| Arc::new(Group::new(Vec::new()))).clone()
}

/// The group behind handle `h` (MPI_GROUP_EMPTY included).
pub fn get(h: c_int, arg: &str) -> Result<Arc<Group>, MpiError> {
    if h == predefined::GROUP_EMPTY {
        return Ok(empty());
    }
    GROUPS.get(h).ok_or_else(|| {
        if h == predefined::GROUP_NULL {
            MpiError::arg(class::ERR_GROUP, arg, "MPI_GROUP_NULL")
        } else {
            MpiError::arg(
                class::ERR_GROUP,
                arg,
                format!("invalid group handle {h:#x}"),
            )
        }
    })
}

/// A handle for a new reference to `g` (an empty group is MPI_GROUP_EMPTY, as in MPICH).
pub fn handle_of(g: Group) -> c_int {
    if g.size() == 0 {
        predefined::GROUP_EMPTY
    } else {
        GROUPS.insert(Arc::new(g))
    }
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn out(newgroup: *mut c_int, g: Group) -> Result<(), MpiError> {
    // Check the pointer before registering, so a bad pointer leaks nothing.
    // SAFETY: `newgroup` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newgroup, predefined::GROUP_NULL, "newgroup") }?;
    // SAFETY: `newgroup` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newgroup, handle_of(g), "newgroup") }
}

/// Ranks given by the user, checked against `size` (and for duplicates if `distinct`).
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn ranks_arg(n: c_int, ranks: *const c_int, size: usize) -> Result<Vec<usize>, MpiError> {
    if n < 0 {
        return Err(MpiError::arg(
            class::ERR_COUNT,
            "n",
            format!("negative count {n}"),
        ));
    }
    let rs = if n == 0 {
        &[][..]
    } else {
        // SAFETY: `ranks` is the C caller's, null or valid for this use (MPI contract).
        unsafe { arg::slice(ranks, n as usize, "ranks") }?
    };
    let mut seen = vec![false; size];
    let mut v = Vec::with_capacity(rs.len());
    for (i, &r) in rs.iter().enumerate() {
        if r < 0 || r as usize >= size {
            return Err(MpiError::arg(
                class::ERR_RANK,
                "ranks",
                format!("ranks[{i}] = {r} is not a rank of the group (size {size})"),
            ));
        }
        if seen[r as usize] {
            return Err(MpiError::arg(
                class::ERR_RANK,
                "ranks",
                format!("rank {r} appears twice"),
            ));
        }
        seen[r as usize] = true;
        v.push(r as usize);
    }
    Ok(v)
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn ranges_arg(
    n: c_int,
    ranges: *const [c_int; 3],
    size: usize,
) -> Result<Vec<usize>, MpiError> {
    if n < 0 {
        return Err(MpiError::arg(
            class::ERR_COUNT,
            "n",
            format!("negative count {n}"),
        ));
    }
    let rs = if n == 0 {
        &[][..]
    } else {
        // SAFETY: `ranges` is the C caller's, null or valid for this use (MPI contract).
        unsafe { arg::slice(ranges, n as usize, "ranges") }?
    };
    expand_ranges(rs, size).map_err(|why| MpiError::arg(class::ERR_RANK, "ranges", why))
}

mpi_fn!(MPI_Group_size, PMPI_Group_size, (group: c_int, size: *mut c_int), |_ctx| {
    let g = get(group, "group")?;
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, g.size() as c_int, "size") }
});

mpi_fn!(MPI_Group_rank, PMPI_Group_rank, (group: c_int, rank: *mut c_int), |_ctx| {
    let g = get(group, "group")?;
    let me = crate::runtime::rt()?.rank;
    // SAFETY: `rank` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(rank, g.rank_of(me).map(|r| r as c_int).unwrap_or(UNDEFINED), "rank") }
});

mpi_fn!(MPI_Group_translate_ranks, PMPI_Group_translate_ranks, (group1: c_int, n: c_int, ranks1: *const c_int, group2: c_int, ranks2: *mut c_int), |_ctx| {
    let g1 = get(group1, "group1")?;
    let g2 = get(group2, "group2")?;
    if n < 0 {
        return Err(MpiError::arg(class::ERR_COUNT, "n", format!("negative count {n}")));
    }
    if n == 0 {
        return Ok(());
    }
    // SAFETY: `ranks1` is the C caller's, null or valid for this use (MPI contract).
    let rs = unsafe { arg::slice(ranks1, n as usize, "ranks1") }?;
    let mut res = Vec::with_capacity(rs.len());
    for (i, &r) in rs.iter().enumerate() {
        if r == PROC_NULL {
            res.push(PROC_NULL);
        } else if r < 0 || r as usize >= g1.size() {
            return Err(MpiError::arg(class::ERR_RANK, "ranks1", format!("ranks1[{i}] = {r} is not a rank of group1 (size {})", g1.size())));
        } else {
            res.push(g2.rank_of(g1.proc_of(r as usize)).map(|x| x as c_int).unwrap_or(UNDEFINED));
        }
    }
    // SAFETY: `ranks2` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::slice_mut(ranks2, n as usize, "ranks2") }?.copy_from_slice(&res);
    Ok(())
});

mpi_fn!(MPI_Group_compare, PMPI_Group_compare, (group1: c_int, group2: c_int, result: *mut c_int), |_ctx| {
    let g1 = get(group1, "group1")?;
    let g2 = get(group2, "group2")?;
    // SAFETY: `result` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(result, g1.compare(&g2), "result") }
});

mpi_fn!(MPI_Group_union, PMPI_Group_union, (group1: c_int, group2: c_int, newgroup: *mut c_int), |_ctx| {
    let g = get(group1, "group1")?.union(&*get(group2, "group2")?);
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newgroup, g) }
});

mpi_fn!(MPI_Group_intersection, PMPI_Group_intersection, (group1: c_int, group2: c_int, newgroup: *mut c_int), |_ctx| {
    let g = get(group1, "group1")?.intersection(&*get(group2, "group2")?);
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newgroup, g) }
});

mpi_fn!(MPI_Group_difference, PMPI_Group_difference, (group1: c_int, group2: c_int, newgroup: *mut c_int), |_ctx| {
    let g = get(group1, "group1")?.difference(&*get(group2, "group2")?);
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newgroup, g) }
});

mpi_fn!(MPI_Group_incl, PMPI_Group_incl, (group: c_int, n: c_int, ranks: *const c_int, newgroup: *mut c_int), |_ctx| {
    let g = get(group, "group")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let rs = unsafe { ranks_arg(n, ranks, g.size()) }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newgroup, g.incl(&rs)) }
});

mpi_fn!(MPI_Group_excl, PMPI_Group_excl, (group: c_int, n: c_int, ranks: *const c_int, newgroup: *mut c_int), |_ctx| {
    let g = get(group, "group")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let rs = unsafe { ranks_arg(n, ranks, g.size()) }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newgroup, g.excl(&rs)) }
});

mpi_fn!(MPI_Group_range_incl, PMPI_Group_range_incl, (group: c_int, n: c_int, ranges: *const [c_int; 3], newgroup: *mut c_int), |_ctx| {
    let g = get(group, "group")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let rs = unsafe { ranges_arg(n, ranges, g.size()) }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newgroup, g.incl(&rs)) }
});

mpi_fn!(MPI_Group_range_excl, PMPI_Group_range_excl, (group: c_int, n: c_int, ranges: *const [c_int; 3], newgroup: *mut c_int), |_ctx| {
    let g = get(group, "group")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let rs = unsafe { ranges_arg(n, ranges, g.size()) }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newgroup, g.excl(&rs)) }
});

mpi_fn!(MPI_Group_free, PMPI_Group_free, (group: *mut c_int), |_ctx| {
    // SAFETY: `group` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(group, "group") }?;
    // MPI_GROUP_EMPTY may be freed (it is what empty results return); it stays valid.
    if h != predefined::GROUP_EMPTY && GROUPS.remove(h).is_none() {
        return Err(MpiError::arg(class::ERR_GROUP, "group", format!("invalid group handle {h:#x}")));
    }
    // SAFETY: `group` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(group, predefined::GROUP_NULL, "group") }
});
