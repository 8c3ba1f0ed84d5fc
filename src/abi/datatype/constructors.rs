//! The type constructors (contiguous, vector, indexed, struct, subarray, darray, resized,
//! dup, the f90 parameterized types): arguments read from C arrays, the type built by
//! `crate::datatype::construct` and published as a new handle.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn contiguous(count: i64, old: c_int, new: *mut c_int, large: bool) -> Result<(), MpiError> {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe {
        publish(
            construct::contiguous(count, &tref(old, "oldtype")?, large)?,
            new,
        )
    }
}

mpi_fn!(MPI_Type_contiguous, PMPI_Type_contiguous, (count: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { contiguous(count as i64, oldtype, newtype, false) }
});
mpi_fn!(MPI_Type_contiguous_c, PMPI_Type_contiguous_c, (count: Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { contiguous(count, oldtype, newtype, true) }
});

mpi_fn!(MPI_Type_vector, PMPI_Type_vector, (count: c_int, blocklength: c_int, stride: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let t = construct::vector(count as i64, blocklength as i64, stride as i64, &tref(oldtype, "oldtype")?, false)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(t, newtype) }
});
mpi_fn!(MPI_Type_vector_c, PMPI_Type_vector_c, (count: Count, blocklength: Count, stride: Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let t = construct::vector(count, blocklength, stride, &tref(oldtype, "oldtype")?, true)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(t, newtype) }
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn hvector(
    count: i64,
    bl: i64,
    stride: i64,
    old: c_int,
    new: *mut c_int,
    large: bool,
) -> Result<(), MpiError> {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe {
        publish(
            construct::hvector(count, bl, stride, &tref(old, "oldtype")?, large)?,
            new,
        )
    }
}

mpi_fn!(MPI_Type_create_hvector, PMPI_Type_create_hvector, (count: c_int, blocklength: c_int, stride: Aint, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { hvector(count as i64, blocklength as i64, stride, oldtype, newtype, false) }
});
mpi_fn!(MPI_Type_create_hvector_c, PMPI_Type_create_hvector_c, (count: Count, blocklength: Count, stride: Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { hvector(count, blocklength, stride, oldtype, newtype, true) }
});
mpi_fn!(MPI_Type_hvector, PMPI_Type_hvector, (count: c_int, blocklength: c_int, stride: Aint, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { hvector(count as i64, blocklength as i64, stride, oldtype, newtype, false) }
});

mpi_fn!(MPI_Type_indexed, PMPI_Type_indexed, (count: c_int, array_of_blocklengths: *const c_int, array_of_displacements: *const c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let n = count_arg(count as i64, "count")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let bl = unsafe { ints(array_of_blocklengths, n, "array_of_blocklengths") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let d = unsafe { ints(array_of_displacements, n, "array_of_displacements") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(construct::indexed(&bl, &d, &tref(oldtype, "oldtype")?, false)?, newtype) }
});
mpi_fn!(MPI_Type_indexed_c, PMPI_Type_indexed_c, (count: Count, array_of_blocklengths: *const Count, array_of_displacements: *const Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let n = count_arg(count, "count")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let bl = unsafe { ints(array_of_blocklengths, n, "array_of_blocklengths") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let d = unsafe { ints(array_of_displacements, n, "array_of_displacements") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(construct::indexed(&bl, &d, &tref(oldtype, "oldtype")?, true)?, newtype) }
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn hindexed<B: Copy + Into<i64>>(
    count: i64,
    bls: *const B,
    disps: *const i64,
    old: c_int,
    new: *mut c_int,
    large: bool,
) -> Result<(), MpiError> {
    let n = count_arg(count, "count")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let bl = unsafe { ints(bls, n, "array_of_blocklengths") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let d = unsafe { ints(disps, n, "array_of_displacements") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe {
        publish(
            construct::hindexed(&bl, &d, &tref(old, "oldtype")?, large)?,
            new,
        )
    }
}

mpi_fn!(MPI_Type_create_hindexed, PMPI_Type_create_hindexed, (count: c_int, array_of_blocklengths: *const c_int, array_of_displacements: *const Aint, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { hindexed(count as i64, array_of_blocklengths, array_of_displacements, oldtype, newtype, false) }
});
mpi_fn!(MPI_Type_create_hindexed_c, PMPI_Type_create_hindexed_c, (count: Count, array_of_blocklengths: *const Count, array_of_displacements: *const Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { hindexed(count, array_of_blocklengths, array_of_displacements, oldtype, newtype, true) }
});
mpi_fn!(MPI_Type_hindexed, PMPI_Type_hindexed, (count: c_int, array_of_blocklengths: *const c_int, array_of_displacements: *const Aint, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { hindexed(count as i64, array_of_blocklengths, array_of_displacements, oldtype, newtype, false) }
});

mpi_fn!(MPI_Type_create_indexed_block, PMPI_Type_create_indexed_block, (count: c_int, blocklength: c_int, array_of_displacements: *const c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let d = unsafe { ints(array_of_displacements, count_arg(count as i64, "count")?, "array_of_displacements") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(construct::indexed_block(blocklength as i64, &d, &tref(oldtype, "oldtype")?, false)?, newtype) }
});
mpi_fn!(MPI_Type_create_indexed_block_c, PMPI_Type_create_indexed_block_c, (count: Count, blocklength: Count, array_of_displacements: *const Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let d = unsafe { ints(array_of_displacements, count_arg(count, "count")?, "array_of_displacements") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(construct::indexed_block(blocklength, &d, &tref(oldtype, "oldtype")?, true)?, newtype) }
});
mpi_fn!(MPI_Type_create_hindexed_block, PMPI_Type_create_hindexed_block, (count: c_int, blocklength: c_int, array_of_displacements: *const Aint, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let d = unsafe { ints(array_of_displacements, count_arg(count as i64, "count")?, "array_of_displacements") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(construct::hindexed_block(blocklength as i64, &d, &tref(oldtype, "oldtype")?, false)?, newtype) }
});
mpi_fn!(MPI_Type_create_hindexed_block_c, PMPI_Type_create_hindexed_block_c, (count: Count, blocklength: Count, array_of_displacements: *const Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let d = unsafe { ints(array_of_displacements, count_arg(count, "count")?, "array_of_displacements") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(construct::hindexed_block(blocklength, &d, &tref(oldtype, "oldtype")?, true)?, newtype) }
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn structure<B: Copy + Into<i64>>(
    count: i64,
    bls: *const B,
    disps: *const i64,
    types: *const c_int,
    new: *mut c_int,
    large: bool,
) -> Result<(), MpiError> {
    let n = count_arg(count, "count")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let bl = unsafe { ints(bls, n, "array_of_blocklengths") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let d = unsafe { ints(disps, n, "array_of_displacements") }?;
    // SAFETY: `types` is the C caller's, null or valid for this use (MPI contract).
    let t = unsafe { arg::slice(types, n, "array_of_types") }?
        .iter()
        .map(|&h| tref(h, "array_of_types"))
        .collect::<Result<Vec<_>, _>>()?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(construct::structure(&bl, &d, &t, large)?, new) }
}

mpi_fn!(MPI_Type_create_struct, PMPI_Type_create_struct, (count: c_int, array_of_blocklengths: *const c_int, array_of_displacements: *const Aint, array_of_types: *const c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { structure(count as i64, array_of_blocklengths, array_of_displacements, array_of_types, newtype, false) }
});
mpi_fn!(MPI_Type_create_struct_c, PMPI_Type_create_struct_c, (count: Count, array_of_blocklengths: *const Count, array_of_displacements: *const Count, array_of_types: *const c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { structure(count, array_of_blocklengths, array_of_displacements, array_of_types, newtype, true) }
});
mpi_fn!(MPI_Type_struct, PMPI_Type_struct, (count: c_int, array_of_blocklengths: *const c_int, array_of_displacements: *const Aint, array_of_types: *const c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { structure(count as i64, array_of_blocklengths, array_of_displacements, array_of_types, newtype, false) }
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn subarray_c<T: Copy + Into<i64>>(
    ndims: c_int,
    sizes: *const T,
    subsizes: *const T,
    starts: *const T,
    order: c_int,
    old: c_int,
    new: *mut c_int,
    large: bool,
) -> Result<(), MpiError> {
    // MPICH's order: the oldtype handle before the values of the other arguments.
    let old = tref(old, "oldtype")?;
    if ndims < 1 {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "ndims",
            format!("{ndims} < 1"),
        ));
    }
    let n = ndims as usize;
    let (s, ss, st) = (
        // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
        unsafe { ints(sizes, n, "array_of_sizes") }?,
        // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
        unsafe { ints(subsizes, n, "array_of_subsizes") }?,
        // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
        unsafe { ints(starts, n, "array_of_starts") }?,
    );
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(subarray::subarray(&s, &ss, &st, order, &old, large)?, new) }
}

mpi_fn!(MPI_Type_create_subarray, PMPI_Type_create_subarray, (ndims: c_int, array_of_sizes: *const c_int, array_of_subsizes: *const c_int, array_of_starts: *const c_int, order: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { subarray_c(ndims, array_of_sizes, array_of_subsizes, array_of_starts, order, oldtype, newtype, false) }
});
mpi_fn!(MPI_Type_create_subarray_c, PMPI_Type_create_subarray_c, (ndims: c_int, array_of_sizes: *const Count, array_of_subsizes: *const Count, array_of_starts: *const Count, order: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { subarray_c(ndims, array_of_sizes, array_of_subsizes, array_of_starts, order, oldtype, newtype, true) }
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn darray_c<T: Copy + Into<i64>>(
    size: c_int,
    rank: c_int,
    ndims: c_int,
    gsizes: *const T,
    distribs: *const c_int,
    dargs: *const c_int,
    psizes: *const c_int,
    order: c_int,
    old: c_int,
    new: *mut c_int,
    large: bool,
) -> Result<(), MpiError> {
    // MPICH's order: the oldtype handle, then the process's rank in the grid
    // (MPI_ERR_RANK), before the values of the other arguments.
    let old = tref(old, "oldtype")?;
    if size > 0 && (rank < 0 || rank >= size) {
        return Err(MpiError::arg(
            class::ERR_RANK,
            "rank",
            format!("rank {rank} is not in [0, {size})"),
        ));
    }
    if ndims < 1 {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "ndims",
            format!("{ndims} < 1"),
        ));
    }
    let n = ndims as usize;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let g = unsafe { ints(gsizes, n, "array_of_gsizes") }?;
    // SAFETY: `distribs` is the C caller's, null or valid for this use (MPI contract).
    let di = unsafe { arg::slice(distribs, n, "array_of_distribs") }?;
    // SAFETY: `dargs` is the C caller's, null or valid for this use (MPI contract).
    let da = unsafe { arg::slice(dargs, n, "array_of_dargs") }?;
    // SAFETY: `psizes` is the C caller's, null or valid for this use (MPI contract).
    let ps = unsafe { arg::slice(psizes, n, "array_of_psizes") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe {
        publish(
            subarray::darray(size, rank, &g, di, da, ps, order, &old, large)?,
            new,
        )
    }
}

mpi_fn!(MPI_Type_create_darray, PMPI_Type_create_darray, (size: c_int, rank: c_int, ndims: c_int, array_of_gsizes: *const c_int, array_of_distribs: *const c_int, array_of_dargs: *const c_int, array_of_psizes: *const c_int, order: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { darray_c(size, rank, ndims, array_of_gsizes, array_of_distribs, array_of_dargs, array_of_psizes, order, oldtype, newtype, false) }
});
mpi_fn!(MPI_Type_create_darray_c, PMPI_Type_create_darray_c, (size: c_int, rank: c_int, ndims: c_int, array_of_gsizes: *const Count, array_of_distribs: *const c_int, array_of_dargs: *const c_int, array_of_psizes: *const c_int, order: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { darray_c(size, rank, ndims, array_of_gsizes, array_of_distribs, array_of_dargs, array_of_psizes, order, oldtype, newtype, true) }
});

mpi_fn!(MPI_Type_create_resized, PMPI_Type_create_resized, (oldtype: c_int, lb: Aint, extent: Aint, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(construct::resized(&tref(oldtype, "oldtype")?, lb, extent, false)?, newtype) }
});
mpi_fn!(MPI_Type_create_resized_c, PMPI_Type_create_resized_c, (oldtype: c_int, lb: Count, extent: Count, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(construct::resized(&tref(oldtype, "oldtype")?, lb, extent, true)?, newtype) }
});

mpi_fn!(MPI_Type_dup, PMPI_Type_dup, (oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let old = tref(oldtype, "oldtype")?;
    let new = construct::dup(&old);
    // Attributes are copied through their keyvals' copy callbacks.
    let old_dt = get_any(oldtype, "oldtype")?;
    crate::abi::attr::type_dup_attrs(oldtype, &old_dt, &new)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { publish(new, newtype) }
});

/// The f90 types: one handle per (combiner, p, r), created on first use and never freed
/// (the standard makes them predefined).
static F90_CACHE: Mutex<Vec<((i32, i32, i32), c_int)>> = Mutex::new(Vec::new());

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn f90(
    comb: i32,
    base: datatype::Builtin,
    args: &[i32],
    out: *mut c_int,
) -> Result<(), MpiError> {
    let key = (comb, args[0], args.get(1).copied().unwrap_or(0));
    let mut cache = F90_CACHE.lock();
    let h = match cache.iter().find(|(k, _)| *k == key) {
        Some(&(_, h)) => h,
        None => {
            let dt = f90::f90_type(&datatype::construct::predef(base), comb, args);
            let h = TYPES.insert(Arc::new(dt));
            cache.push((key, h));
            h
        }
    };
    // SAFETY: `out` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(out, h, "newtype") }
}

/// An f90 argument: None for MPI_UNDEFINED (no requirement).
fn defined(v: c_int) -> Option<i32> {
    (v != crate::abi::consts::UNDEFINED).then_some(v)
}

/// MPI_TYPECLASS_* of mpi.h.
const TYPECLASS_REAL: c_int = 1;
const TYPECLASS_INTEGER: c_int = 2;
const TYPECLASS_COMPLEX: c_int = 3;

mpi_fn!(MPI_Type_create_f90_integer, PMPI_Type_create_f90_integer, (r: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { f90(datatype::combiner::F90_INTEGER, f90::f90_integer_base(defined(r))?, &[r], newtype) }
});
mpi_fn!(MPI_Type_create_f90_real, PMPI_Type_create_f90_real, (p: c_int, r: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { f90(datatype::combiner::F90_REAL, f90::f90_real_base(defined(p), defined(r))?, &[p, r], newtype) }
});
mpi_fn!(MPI_Type_create_f90_complex, PMPI_Type_create_f90_complex, (p: c_int, r: c_int, newtype: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { f90(datatype::combiner::F90_COMPLEX, f90::f90_complex_base(defined(p), defined(r))?, &[p, r], newtype) }
});

mpi_fn!(MPI_Type_match_size, PMPI_Type_match_size, (typeclass: c_int, size: c_int, datatype: *mut c_int), |_ctx| {
    let tc = match typeclass {
        TYPECLASS_REAL => f90::TypeClass::Real,
        TYPECLASS_INTEGER => f90::TypeClass::Integer,
        TYPECLASS_COMPLEX => f90::TypeClass::Complex,
        _ => return Err(MpiError::arg(class::ERR_ARG, "typeclass", format!("unknown type class {typeclass}"))),
    };
    // SAFETY: `datatype` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(datatype, super::builtins::handle_of(f90::match_size(tc, size)?), "datatype") }
});

mpi_fn!(MPI_Type_get_value_index, PMPI_Type_get_value_index, (value_type: c_int, index_type: c_int, pair_type: *mut c_int), |_ctx| {
    get_any(value_type, "value_type")?;
    get_any(index_type, "index_type")?;
    use super::builtins::{builtin_of, handle_of};
    let pair = builtin_of(value_type).zip(builtin_of(index_type)).and_then(|(v, i)| f90::value_index(v, i));
    let p = pair.map_or(predefined::DATATYPE_NULL, handle_of);
    // SAFETY: `pair_type` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(pair_type, p, "pair_type") }
});
