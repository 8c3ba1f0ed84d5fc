//! MPI_Type_get_envelope and MPI_Type_get_contents: a type's constructor and its
//! arguments, as the int or large-count (`_c`) arrays.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

fn envelope(h: c_int, large_query: bool) -> Result<([i64; 4], i32), MpiError> {
    let d = get_any(h, "datatype")?;
    let c = &d.contents;
    if c.is_large() && !large_query {
        return Err(MpiError::arg(
            class::ERR_TYPE,
            "datatype",
            "built by a large-count constructor: use MPI_Type_get_envelope_c",
        ));
    }
    Ok((
        [
            c.ints.len() as i64,
            c.addrs.len() as i64,
            c.counts.len() as i64,
            c.types.len() as i64,
        ],
        c.combiner,
    ))
}

mpi_fn!(MPI_Type_get_envelope, PMPI_Type_get_envelope, (datatype: c_int, num_integers: *mut c_int, num_addresses: *mut c_int, num_datatypes: *mut c_int, combiner: *mut c_int), |_ctx| {
    let (n, comb) = envelope(datatype, false)?;
    // SAFETY: `num_integers` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(num_integers, n[0] as c_int, "num_integers") }?;
    // SAFETY: `num_addresses` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(num_addresses, n[1] as c_int, "num_addresses") }?;
    // SAFETY: `num_datatypes` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(num_datatypes, n[3] as c_int, "num_datatypes") }?;
    // SAFETY: `combiner` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(combiner, comb, "combiner") }
});
mpi_fn!(MPI_Type_get_envelope_c, PMPI_Type_get_envelope_c, (datatype: c_int, num_integers: *mut Count, num_addresses: *mut Count, num_large_counts: *mut Count, num_datatypes: *mut Count, combiner: *mut c_int), |_ctx| {
    let (n, comb) = envelope(datatype, true)?;
    // SAFETY: `num_integers` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(num_integers, n[0], "num_integers") }?;
    // SAFETY: `num_addresses` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(num_addresses, n[1], "num_addresses") }?;
    // SAFETY: `num_large_counts` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(num_large_counts, n[2], "num_large_counts") }?;
    // SAFETY: `num_datatypes` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(num_datatypes, n[3], "num_datatypes") }?;
    // SAFETY: `combiner` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(combiner, comb, "combiner") }
});

/// Copies the constructor arguments out; derived component types come back as new handles
/// (the caller frees them), predefined ones as themselves.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn contents(
    h: c_int,
    max: [i64; 4],
    ints_out: *mut c_int,
    addrs_out: *mut Aint,
    counts_out: *mut Count,
    types_out: *mut c_int,
    large_query: bool,
) -> Result<(), MpiError> {
    let d = get_any(h, "datatype")?;
    let c = &d.contents;
    if c.combiner == datatype::combiner::NAMED {
        return Err(MpiError::arg(
            class::ERR_TYPE,
            "datatype",
            "predefined datatypes have no contents",
        ));
    }
    if c.is_large() && !large_query {
        return Err(MpiError::arg(
            class::ERR_TYPE,
            "datatype",
            "built by a large-count constructor: use MPI_Type_get_contents_c",
        ));
    }
    let need = [c.ints.len(), c.addrs.len(), c.counts.len(), c.types.len()];
    let names = [
        "max_integers",
        "max_addresses",
        "max_large_counts",
        "max_datatypes",
    ];
    for k in 0..4 {
        if max[k] < need[k] as i64 {
            return Err(MpiError::arg(
                class::ERR_ARG,
                names[k],
                format!("{} < {} needed", max[k], need[k]),
            ));
        }
    }
    // SAFETY: `ints_out` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::slice_mut(ints_out, need[0], "array_of_integers") }?.copy_from_slice(&c.ints);
    // SAFETY: `addrs_out` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::slice_mut(addrs_out, need[1], "array_of_addresses") }?.copy_from_slice(&c.addrs);
    // SAFETY: `counts_out` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::slice_mut(counts_out, need[2], "array_of_large_counts") }?
        .copy_from_slice(&c.counts);
    // SAFETY: `types_out` is the C caller's, null or valid for this use (MPI contract).
    let out = unsafe { arg::slice_mut(types_out, need[3], "array_of_datatypes") }?;
    for (o, t) in out.iter_mut().zip(&c.types) {
        *o = match t {
            TypeRef::Predefined(id, _) => super::builtins::handle_of(*id),
            TypeRef::Derived(d) => TYPES.insert(d.clone()),
        };
    }
    Ok(())
}

mpi_fn!(MPI_Type_get_contents, PMPI_Type_get_contents, (datatype: c_int, max_integers: c_int, max_addresses: c_int, max_datatypes: c_int, array_of_integers: *mut c_int, array_of_addresses: *mut Aint, array_of_datatypes: *mut c_int), |_ctx| {
    let max = [max_integers as i64, max_addresses as i64, 0, max_datatypes as i64];
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { contents(datatype, max, array_of_integers, array_of_addresses, std::ptr::null_mut(), array_of_datatypes, false) }
});
mpi_fn!(MPI_Type_get_contents_c, PMPI_Type_get_contents_c, (datatype: c_int, max_integers: Count, max_addresses: Count, max_large_counts: Count, max_datatypes: Count, array_of_integers: *mut c_int, array_of_addresses: *mut Aint, array_of_large_counts: *mut Count, array_of_datatypes: *mut c_int), |_ctx| {
    let max = [max_integers, max_addresses, max_large_counts, max_datatypes];
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { contents(datatype, max, array_of_integers, array_of_addresses, array_of_large_counts, array_of_datatypes, true) }
});
