//! Datatype chapter: handle resolution and every MPI_Type_*, MPI_Pack*, MPI_Unpack*,
//! MPI_Get_count / MPI_Get_elements, address and deprecated MPI-1 function.
//!
//! Each `int` function and its `_c` twin share one body; the core lives in
//! `crate::datatype`.

use crate::abi::consts::UNDEFINED;
use crate::abi::ptr;
use crate::datatype::{self, construct, f90, subarray, Datatype, TypeRef};
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::transport::mem::UserPtr;
use crate::{mpi_fn, mpi_fn_value};
use parking_lot::Mutex;
use std::ops::Deref;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Arc;

type Aint = i64;
type Count = i64;

/// User-defined datatypes.
pub static TYPES: HandleTable<Datatype> = HandleTable::new(obj::DATATYPE);

/// A resolved datatype handle: a predefined type or a user one kept alive by the Arc.
pub enum DtRef {
    Builtin(&'static Datatype),
    User(Arc<Datatype>),
}

impl Deref for DtRef {
    type Target = Datatype;
    #[inline]
    fn deref(&self) -> &Datatype {
        match self {
            DtRef::Builtin(d) => d,
            DtRef::User(d) => d,
        }
    }
}

/// Resolves a datatype handle for use in communication, packing, or anything that reads
/// or writes data (`arg` names the argument): the type must be committed.
#[inline]
pub fn get(h: c_int, arg: &str) -> Result<DtRef, MpiError> {
    let d = get_any(h, arg)?;
    if !d.is_committed() {
        return Err(MpiError::arg(
            class::ERR_TYPE,
            arg,
            "datatype has not been committed (MPI_Type_commit)",
        ));
    }
    Ok(d)
}

/// Resolves a datatype handle committed or not (constructors, queries, commit itself).
#[inline]
pub fn get_any(h: c_int, arg: &str) -> Result<DtRef, MpiError> {
    if let Some(d) = datatype::predefined(h) {
        return Ok(DtRef::Builtin(d));
    }
    if h == predefined::DATATYPE_NULL {
        return Err(MpiError::arg(class::ERR_TYPE, arg, "MPI_DATATYPE_NULL"));
    }
    TYPES.get(h).map(DtRef::User).ok_or_else(|| {
        MpiError::arg(
            class::ERR_TYPE,
            arg,
            format!("invalid datatype handle {h:#x}"),
        )
    })
}

/// A handle as a constructor component.
fn tref(h: c_int, arg: &str) -> Result<TypeRef, MpiError> {
    Ok(match get_any(h, arg)? {
        DtRef::Builtin(d) => TypeRef::Predefined(h, d),
        DtRef::User(d) => TypeRef::Derived(d),
    })
}

/// Registers a new type and stores its handle in `*out`.
fn publish(dt: Datatype, out: *mut c_int) -> Result<(), MpiError> {
    if out.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "newtype", "null pointer"));
    }
    ptr::write(out, TYPES.insert(Arc::new(dt)), "newtype")
}

/// A C array of `n` integers of either width, widened to i64.
fn ints<T: Copy + Into<i64>>(p: *const T, n: usize, arg: &str) -> Result<Vec<i64>, MpiError> {
    Ok(ptr::slice(p, n, arg)?.iter().map(|&x| x.into()).collect())
}

fn count_arg(n: i64, arg: &str) -> Result<usize, MpiError> {
    usize::try_from(n)
        .map_err(|_| MpiError::arg(class::ERR_COUNT, arg, format!("negative count {n}")))
}

/// Narrows a value for an `int` output; too large values are an error (MPI 4.0 §5.1).
fn to_int(v: i64, arg: &str) -> Result<c_int, MpiError> {
    c_int::try_from(v).map_err(|_| {
        MpiError::arg(
            class::ERR_VALUE_TOO_LARGE,
            arg,
            format!("{v} does not fit in an int; use the _c variant"),
        )
    })
}

// ---------------------------------------------------------------- constructors

fn contiguous(count: i64, old: c_int, new: *mut c_int, large: bool) -> Result<(), MpiError> {
    publish(
        construct::contiguous(count, &tref(old, "oldtype")?, large)?,
        new,
    )
}

mpi_fn!(MPI_Type_contiguous, PMPI_Type_contiguous, (count: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    contiguous(count as i64, oldtype, newtype, false)
});
mpi_fn!(MPI_Type_contiguous_c, PMPI_Type_contiguous_c, (count: Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    contiguous(count, oldtype, newtype, true)
});

mpi_fn!(MPI_Type_vector, PMPI_Type_vector, (count: c_int, blocklength: c_int, stride: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let t = construct::vector(count as i64, blocklength as i64, stride as i64, &tref(oldtype, "oldtype")?, false)?;
    publish(t, newtype)
});
mpi_fn!(MPI_Type_vector_c, PMPI_Type_vector_c, (count: Count, blocklength: Count, stride: Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let t = construct::vector(count, blocklength, stride, &tref(oldtype, "oldtype")?, true)?;
    publish(t, newtype)
});

fn hvector(
    count: i64,
    bl: i64,
    stride: i64,
    old: c_int,
    new: *mut c_int,
    large: bool,
) -> Result<(), MpiError> {
    publish(
        construct::hvector(count, bl, stride, &tref(old, "oldtype")?, large)?,
        new,
    )
}

mpi_fn!(MPI_Type_create_hvector, PMPI_Type_create_hvector, (count: c_int, blocklength: c_int, stride: Aint, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    hvector(count as i64, blocklength as i64, stride, oldtype, newtype, false)
});
mpi_fn!(MPI_Type_create_hvector_c, PMPI_Type_create_hvector_c, (count: Count, blocklength: Count, stride: Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    hvector(count, blocklength, stride, oldtype, newtype, true)
});
mpi_fn!(MPI_Type_hvector, PMPI_Type_hvector, (count: c_int, blocklength: c_int, stride: Aint, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    hvector(count as i64, blocklength as i64, stride, oldtype, newtype, false)
});

mpi_fn!(MPI_Type_indexed, PMPI_Type_indexed, (count: c_int, array_of_blocklengths: *const c_int, array_of_displacements: *const c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let n = count_arg(count as i64, "count")?;
    let bl = ints(array_of_blocklengths, n, "array_of_blocklengths")?;
    let d = ints(array_of_displacements, n, "array_of_displacements")?;
    publish(construct::indexed(&bl, &d, &tref(oldtype, "oldtype")?, false)?, newtype)
});
mpi_fn!(MPI_Type_indexed_c, PMPI_Type_indexed_c, (count: Count, array_of_blocklengths: *const Count, array_of_displacements: *const Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let n = count_arg(count, "count")?;
    let bl = ints(array_of_blocklengths, n, "array_of_blocklengths")?;
    let d = ints(array_of_displacements, n, "array_of_displacements")?;
    publish(construct::indexed(&bl, &d, &tref(oldtype, "oldtype")?, true)?, newtype)
});

fn hindexed<B: Copy + Into<i64>>(
    count: i64,
    bls: *const B,
    disps: *const i64,
    old: c_int,
    new: *mut c_int,
    large: bool,
) -> Result<(), MpiError> {
    let n = count_arg(count, "count")?;
    let bl = ints(bls, n, "array_of_blocklengths")?;
    let d = ints(disps, n, "array_of_displacements")?;
    publish(
        construct::hindexed(&bl, &d, &tref(old, "oldtype")?, large)?,
        new,
    )
}

mpi_fn!(MPI_Type_create_hindexed, PMPI_Type_create_hindexed, (count: c_int, array_of_blocklengths: *const c_int, array_of_displacements: *const Aint, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    hindexed(count as i64, array_of_blocklengths, array_of_displacements, oldtype, newtype, false)
});
mpi_fn!(MPI_Type_create_hindexed_c, PMPI_Type_create_hindexed_c, (count: Count, array_of_blocklengths: *const Count, array_of_displacements: *const Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    hindexed(count, array_of_blocklengths, array_of_displacements, oldtype, newtype, true)
});
mpi_fn!(MPI_Type_hindexed, PMPI_Type_hindexed, (count: c_int, array_of_blocklengths: *const c_int, array_of_displacements: *const Aint, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    hindexed(count as i64, array_of_blocklengths, array_of_displacements, oldtype, newtype, false)
});

mpi_fn!(MPI_Type_create_indexed_block, PMPI_Type_create_indexed_block, (count: c_int, blocklength: c_int, array_of_displacements: *const c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let d = ints(array_of_displacements, count_arg(count as i64, "count")?, "array_of_displacements")?;
    publish(construct::indexed_block(blocklength as i64, &d, &tref(oldtype, "oldtype")?, false)?, newtype)
});
mpi_fn!(MPI_Type_create_indexed_block_c, PMPI_Type_create_indexed_block_c, (count: Count, blocklength: Count, array_of_displacements: *const Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let d = ints(array_of_displacements, count_arg(count, "count")?, "array_of_displacements")?;
    publish(construct::indexed_block(blocklength, &d, &tref(oldtype, "oldtype")?, true)?, newtype)
});
mpi_fn!(MPI_Type_create_hindexed_block, PMPI_Type_create_hindexed_block, (count: c_int, blocklength: c_int, array_of_displacements: *const Aint, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let d = ints(array_of_displacements, count_arg(count as i64, "count")?, "array_of_displacements")?;
    publish(construct::hindexed_block(blocklength as i64, &d, &tref(oldtype, "oldtype")?, false)?, newtype)
});
mpi_fn!(MPI_Type_create_hindexed_block_c, PMPI_Type_create_hindexed_block_c, (count: Count, blocklength: Count, array_of_displacements: *const Count, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let d = ints(array_of_displacements, count_arg(count, "count")?, "array_of_displacements")?;
    publish(construct::hindexed_block(blocklength, &d, &tref(oldtype, "oldtype")?, true)?, newtype)
});

fn structure<B: Copy + Into<i64>>(
    count: i64,
    bls: *const B,
    disps: *const i64,
    types: *const c_int,
    new: *mut c_int,
    large: bool,
) -> Result<(), MpiError> {
    let n = count_arg(count, "count")?;
    let bl = ints(bls, n, "array_of_blocklengths")?;
    let d = ints(disps, n, "array_of_displacements")?;
    let t = ptr::slice(types, n, "array_of_types")?
        .iter()
        .map(|&h| tref(h, "array_of_types"))
        .collect::<Result<Vec<_>, _>>()?;
    publish(construct::structure(&bl, &d, &t, large)?, new)
}

mpi_fn!(MPI_Type_create_struct, PMPI_Type_create_struct, (count: c_int, array_of_blocklengths: *const c_int, array_of_displacements: *const Aint, array_of_types: *const c_int, newtype: *mut c_int), |_ctx| {
    structure(count as i64, array_of_blocklengths, array_of_displacements, array_of_types, newtype, false)
});
mpi_fn!(MPI_Type_create_struct_c, PMPI_Type_create_struct_c, (count: Count, array_of_blocklengths: *const Count, array_of_displacements: *const Count, array_of_types: *const c_int, newtype: *mut c_int), |_ctx| {
    structure(count, array_of_blocklengths, array_of_displacements, array_of_types, newtype, true)
});
mpi_fn!(MPI_Type_struct, PMPI_Type_struct, (count: c_int, array_of_blocklengths: *const c_int, array_of_displacements: *const Aint, array_of_types: *const c_int, newtype: *mut c_int), |_ctx| {
    structure(count as i64, array_of_blocklengths, array_of_displacements, array_of_types, newtype, false)
});

#[allow(clippy::too_many_arguments)]
fn subarray_c<T: Copy + Into<i64>>(
    ndims: c_int,
    sizes: *const T,
    subsizes: *const T,
    starts: *const T,
    order: c_int,
    old: c_int,
    new: *mut c_int,
    large: bool,
) -> Result<(), MpiError> {
    if ndims < 1 {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "ndims",
            format!("{ndims} < 1"),
        ));
    }
    let n = ndims as usize;
    let (s, ss, st) = (
        ints(sizes, n, "array_of_sizes")?,
        ints(subsizes, n, "array_of_subsizes")?,
        ints(starts, n, "array_of_starts")?,
    );
    publish(
        subarray::subarray(&s, &ss, &st, order, &tref(old, "oldtype")?, large)?,
        new,
    )
}

mpi_fn!(MPI_Type_create_subarray, PMPI_Type_create_subarray, (ndims: c_int, array_of_sizes: *const c_int, array_of_subsizes: *const c_int, array_of_starts: *const c_int, order: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    subarray_c(ndims, array_of_sizes, array_of_subsizes, array_of_starts, order, oldtype, newtype, false)
});
mpi_fn!(MPI_Type_create_subarray_c, PMPI_Type_create_subarray_c, (ndims: c_int, array_of_sizes: *const Count, array_of_subsizes: *const Count, array_of_starts: *const Count, order: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    subarray_c(ndims, array_of_sizes, array_of_subsizes, array_of_starts, order, oldtype, newtype, true)
});

#[allow(clippy::too_many_arguments)]
fn darray_c<T: Copy + Into<i64>>(
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
    if ndims < 1 {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "ndims",
            format!("{ndims} < 1"),
        ));
    }
    let n = ndims as usize;
    let g = ints(gsizes, n, "array_of_gsizes")?;
    let di = ptr::slice(distribs, n, "array_of_distribs")?;
    let da = ptr::slice(dargs, n, "array_of_dargs")?;
    let ps = ptr::slice(psizes, n, "array_of_psizes")?;
    publish(
        subarray::darray(
            size,
            rank,
            &g,
            di,
            da,
            ps,
            order,
            &tref(old, "oldtype")?,
            large,
        )?,
        new,
    )
}

mpi_fn!(MPI_Type_create_darray, PMPI_Type_create_darray, (size: c_int, rank: c_int, ndims: c_int, array_of_gsizes: *const c_int, array_of_distribs: *const c_int, array_of_dargs: *const c_int, array_of_psizes: *const c_int, order: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    darray_c(size, rank, ndims, array_of_gsizes, array_of_distribs, array_of_dargs, array_of_psizes, order, oldtype, newtype, false)
});
mpi_fn!(MPI_Type_create_darray_c, PMPI_Type_create_darray_c, (size: c_int, rank: c_int, ndims: c_int, array_of_gsizes: *const Count, array_of_distribs: *const c_int, array_of_dargs: *const c_int, array_of_psizes: *const c_int, order: c_int, oldtype: c_int, newtype: *mut c_int), |_ctx| {
    darray_c(size, rank, ndims, array_of_gsizes, array_of_distribs, array_of_dargs, array_of_psizes, order, oldtype, newtype, true)
});

mpi_fn!(MPI_Type_create_resized, PMPI_Type_create_resized, (oldtype: c_int, lb: Aint, extent: Aint, newtype: *mut c_int), |_ctx| {
    publish(construct::resized(&tref(oldtype, "oldtype")?, lb, extent, false)?, newtype)
});
mpi_fn!(MPI_Type_create_resized_c, PMPI_Type_create_resized_c, (oldtype: c_int, lb: Count, extent: Count, newtype: *mut c_int), |_ctx| {
    publish(construct::resized(&tref(oldtype, "oldtype")?, lb, extent, true)?, newtype)
});

mpi_fn!(MPI_Type_dup, PMPI_Type_dup, (oldtype: c_int, newtype: *mut c_int), |_ctx| {
    let old = tref(oldtype, "oldtype")?;
    let new = construct::dup(&old);
    // Attributes are copied through their keyvals' copy callbacks.
    let old_dt = get_any(oldtype, "oldtype")?;
    super::attr::type_dup_attrs(oldtype, &old_dt, &new)?;
    publish(new, newtype)
});

/// The f90 types: one handle per (combiner, p, r), created on first use and never freed
/// (the standard makes them predefined).
static F90_CACHE: Mutex<Vec<((i32, i32, i32), c_int)>> = Mutex::new(Vec::new());

fn f90(comb: i32, base: c_int, args: &[i32], out: *mut c_int) -> Result<(), MpiError> {
    let key = (comb, args[0], args.get(1).copied().unwrap_or(0));
    let mut cache = F90_CACHE.lock();
    let h = match cache.iter().find(|(k, _)| *k == key) {
        Some(&(_, h)) => h,
        None => {
            let dt = f90::f90_type(&tref(base, "base")?, comb, args);
            let h = TYPES.insert(Arc::new(dt));
            cache.push((key, h));
            h
        }
    };
    ptr::write(out, h, "newtype")
}

mpi_fn!(MPI_Type_create_f90_integer, PMPI_Type_create_f90_integer, (r: c_int, newtype: *mut c_int), |_ctx| {
    f90(datatype::combiner::F90_INTEGER, f90::f90_integer_base(r)?, &[r], newtype)
});
mpi_fn!(MPI_Type_create_f90_real, PMPI_Type_create_f90_real, (p: c_int, r: c_int, newtype: *mut c_int), |_ctx| {
    f90(datatype::combiner::F90_REAL, f90::f90_real_base(p, r)?, &[p, r], newtype)
});
mpi_fn!(MPI_Type_create_f90_complex, PMPI_Type_create_f90_complex, (p: c_int, r: c_int, newtype: *mut c_int), |_ctx| {
    f90(datatype::combiner::F90_COMPLEX, f90::f90_complex_base(p, r)?, &[p, r], newtype)
});

mpi_fn!(MPI_Type_match_size, PMPI_Type_match_size, (typeclass: c_int, size: c_int, datatype: *mut c_int), |_ctx| {
    ptr::write(datatype, f90::match_size(typeclass, size)?, "datatype")
});

mpi_fn!(MPI_Type_get_value_index, PMPI_Type_get_value_index, (value_type: c_int, index_type: c_int, pair_type: *mut c_int), |_ctx| {
    get_any(value_type, "value_type")?;
    get_any(index_type, "index_type")?;
    let p = f90::value_index(value_type, index_type).unwrap_or(predefined::DATATYPE_NULL);
    ptr::write(pair_type, p, "pair_type")
});

// ---------------------------------------------------------------- commit / free

mpi_fn!(MPI_Type_commit, PMPI_Type_commit, (datatype: *mut c_int), |_ctx| {
    let h = ptr::read(datatype, "datatype")?;
    get_any(h, "datatype")?.commit();
    Ok(())
});

mpi_fn!(MPI_Type_free, PMPI_Type_free, (datatype: *mut c_int), |_ctx| {
    let h = ptr::read(datatype, "datatype")?;
    let d = get_any(h, "datatype")?;
    match &*d {
        d if d.contents.combiner == datatype::combiner::NAMED => {
            return Err(MpiError::arg(class::ERR_TYPE, "datatype", "predefined datatypes cannot be freed"));
        }
        // The f90 types are predefined by the standard: the handle stays valid for the
        // next MPI_Type_create_f90_* (MPICH also accepts this call).
        d if d.is_predefined() => {}
        d => {
            // Attributes go first, through their delete callbacks; users of the type
            // (pending requests, types built from it) hold their Arc.
            super::attr::type_free_attrs(h, d)?;
            TYPES.remove(h);
        }
    }
    ptr::write(datatype, predefined::DATATYPE_NULL, "datatype")
});

// ---------------------------------------------------------------- extents and sizes

fn size_of(h: c_int) -> Result<u64, MpiError> {
    Ok(get_any(h, "datatype")?.size())
}

mpi_fn!(MPI_Type_size, PMPI_Type_size, (datatype: c_int, size: *mut c_int), |_ctx| {
    let s = size_of(datatype)?;
    ptr::write(size, if s > c_int::MAX as u64 { UNDEFINED } else { s as c_int }, "size")
});
mpi_fn!(MPI_Type_size_x, PMPI_Type_size_x, (datatype: c_int, size: *mut Count), |_ctx| {
    ptr::write(size, size_of(datatype)? as i64, "size")
});
mpi_fn!(MPI_Type_size_c, PMPI_Type_size_c, (datatype: c_int, size: *mut Count), |_ctx| {
    ptr::write(size, size_of(datatype)? as i64, "size")
});

fn extent(h: c_int, lb: *mut i64, ext: *mut i64, true_bounds: bool) -> Result<(), MpiError> {
    let d = get_any(h, "datatype")?;
    let (l, e) = if true_bounds {
        (d.true_lb, d.true_ub - d.true_lb)
    } else {
        (d.lb, d.extent())
    };
    ptr::write(lb, l, "lb")?;
    ptr::write(ext, e, "extent")
}

mpi_fn!(MPI_Type_get_extent, PMPI_Type_get_extent, (datatype: c_int, lb: *mut Aint, extent_: *mut Aint), |_ctx| {
    extent(datatype, lb, extent_, false)
});
mpi_fn!(MPI_Type_get_extent_c, PMPI_Type_get_extent_c, (datatype: c_int, lb: *mut Count, extent_: *mut Count), |_ctx| {
    extent(datatype, lb, extent_, false)
});
mpi_fn!(MPI_Type_get_extent_x, PMPI_Type_get_extent_x, (datatype: c_int, lb: *mut Count, extent_: *mut Count), |_ctx| {
    extent(datatype, lb, extent_, false)
});
mpi_fn!(MPI_Type_get_true_extent, PMPI_Type_get_true_extent, (datatype: c_int, true_lb: *mut Aint, true_extent: *mut Aint), |_ctx| {
    extent(datatype, true_lb, true_extent, true)
});
mpi_fn!(MPI_Type_get_true_extent_c, PMPI_Type_get_true_extent_c, (datatype: c_int, true_lb: *mut Count, true_extent: *mut Count), |_ctx| {
    extent(datatype, true_lb, true_extent, true)
});
mpi_fn!(MPI_Type_get_true_extent_x, PMPI_Type_get_true_extent_x, (datatype: c_int, true_lb: *mut Count, true_extent: *mut Count), |_ctx| {
    extent(datatype, true_lb, true_extent, true)
});

mpi_fn!(MPI_Type_extent, PMPI_Type_extent, (datatype: c_int, extent_: *mut Aint), |_ctx| {
    ptr::write(extent_, get_any(datatype, "datatype")?.extent(), "extent")
});
mpi_fn!(MPI_Type_lb, PMPI_Type_lb, (datatype: c_int, displacement: *mut Aint), |_ctx| {
    ptr::write(displacement, get_any(datatype, "datatype")?.lb, "displacement")
});
mpi_fn!(MPI_Type_ub, PMPI_Type_ub, (datatype: c_int, displacement: *mut Aint), |_ctx| {
    ptr::write(displacement, get_any(datatype, "datatype")?.ub, "displacement")
});

// ---------------------------------------------------------------- envelope / contents

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
    ptr::write(num_integers, n[0] as c_int, "num_integers")?;
    ptr::write(num_addresses, n[1] as c_int, "num_addresses")?;
    ptr::write(num_datatypes, n[3] as c_int, "num_datatypes")?;
    ptr::write(combiner, comb, "combiner")
});
mpi_fn!(MPI_Type_get_envelope_c, PMPI_Type_get_envelope_c, (datatype: c_int, num_integers: *mut Count, num_addresses: *mut Count, num_large_counts: *mut Count, num_datatypes: *mut Count, combiner: *mut c_int), |_ctx| {
    let (n, comb) = envelope(datatype, true)?;
    ptr::write(num_integers, n[0], "num_integers")?;
    ptr::write(num_addresses, n[1], "num_addresses")?;
    ptr::write(num_large_counts, n[2], "num_large_counts")?;
    ptr::write(num_datatypes, n[3], "num_datatypes")?;
    ptr::write(combiner, comb, "combiner")
});

/// Copies the constructor arguments out; derived component types come back as new handles
/// (the caller frees them), predefined ones as themselves.
#[allow(clippy::too_many_arguments)]
fn contents(
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
    ptr::slice_mut(ints_out, need[0], "array_of_integers")?.copy_from_slice(&c.ints);
    ptr::slice_mut(addrs_out, need[1], "array_of_addresses")?.copy_from_slice(&c.addrs);
    ptr::slice_mut(counts_out, need[2], "array_of_large_counts")?.copy_from_slice(&c.counts);
    let out = ptr::slice_mut(types_out, need[3], "array_of_datatypes")?;
    for (o, t) in out.iter_mut().zip(&c.types) {
        *o = match t {
            TypeRef::Predefined(h, _) => *h,
            TypeRef::Derived(d) => TYPES.insert(d.clone()),
        };
    }
    Ok(())
}

mpi_fn!(MPI_Type_get_contents, PMPI_Type_get_contents, (datatype: c_int, max_integers: c_int, max_addresses: c_int, max_datatypes: c_int, array_of_integers: *mut c_int, array_of_addresses: *mut Aint, array_of_datatypes: *mut c_int), |_ctx| {
    let max = [max_integers as i64, max_addresses as i64, 0, max_datatypes as i64];
    contents(datatype, max, array_of_integers, array_of_addresses, std::ptr::null_mut(), array_of_datatypes, false)
});
mpi_fn!(MPI_Type_get_contents_c, PMPI_Type_get_contents_c, (datatype: c_int, max_integers: Count, max_addresses: Count, max_large_counts: Count, max_datatypes: Count, array_of_integers: *mut c_int, array_of_addresses: *mut Aint, array_of_large_counts: *mut Count, array_of_datatypes: *mut c_int), |_ctx| {
    let max = [max_integers, max_addresses, max_large_counts, max_datatypes];
    contents(datatype, max, array_of_integers, array_of_addresses, array_of_large_counts, array_of_datatypes, true)
});

// ---------------------------------------------------------------- names

mpi_fn!(MPI_Type_set_name, PMPI_Type_set_name, (datatype: c_int, type_name: *const c_char), |_ctx| {
    let d = get_any(datatype, "datatype")?;
    let s = ptr::cstr(type_name, "type_name")?;
    let mut n = s.len().min(crate::abi::consts::MAX_OBJECT_NAME - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    *d.name.lock() = s[..n].to_string();
    Ok(())
});

mpi_fn!(MPI_Type_get_name, PMPI_Type_get_name, (datatype: c_int, type_name: *mut c_char, resultlen: *mut c_int), |_ctx| {
    if datatype == predefined::DATATYPE_NULL {
        // MPICH names the null handle too (mpi4py relies on it).
        return ptr::write_str(type_name, crate::abi::consts::MAX_OBJECT_NAME, "MPI_DATATYPE_NULL", resultlen, "type_name");
    }
    let d = get_any(datatype, "datatype")?;
    if resultlen.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "resultlen", "null pointer"));
    }
    let name = d.name.lock().clone();
    ptr::write_str(type_name, crate::abi::consts::MAX_OBJECT_NAME, &name, resultlen, "type_name")
});

// ---------------------------------------------------------------- addresses

mpi_fn!(MPI_Get_address, PMPI_Get_address, (location: *const c_void, address: *mut Aint), |_ctx| {
    ptr::write(address, location as usize as i64, "address")
});
mpi_fn!(MPI_Address, PMPI_Address, (location: *const c_void, address: *mut Aint), |_ctx| {
    ptr::write(address, location as usize as i64, "address")
});
mpi_fn_value!(MPI_Aint_add, PMPI_Aint_add, (base: Aint, disp: Aint) -> Aint, fallback 0, {
    base.wrapping_add(disp)
});
mpi_fn_value!(MPI_Aint_diff, PMPI_Aint_diff, (addr1: Aint, addr2: Aint) -> Aint, fallback 0, {
    addr1.wrapping_sub(addr2)
});

// ---------------------------------------------------------------- status counts

/// MPI_Status as MPICH lays it out. The lead's `abi/status.rs` will own the shared
/// definition; this private copy only decodes and encodes the byte count.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Status {
    count_lo: c_int,
    count_hi_and_cancelled: c_int,
    source: c_int,
    tag: c_int,
    error: c_int,
}

const STATUS_IGNORE: usize = crate::abi::consts::STATUS_IGNORE;

fn status_bytes(st: *const Status) -> Result<u64, MpiError> {
    if st as usize == STATUS_IGNORE {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "status",
            "MPI_STATUS_IGNORE has no count",
        ));
    }
    let s = ptr::read(st, "status")?;
    Ok((s.count_lo as u32 as u64) | (((s.count_hi_and_cancelled as u32 >> 1) as u64) << 32))
}

fn set_status_bytes(st: *mut Status, bytes: u64) -> Result<(), MpiError> {
    if st as usize == STATUS_IGNORE {
        return Err(MpiError::arg(class::ERR_ARG, "status", "MPI_STATUS_IGNORE"));
    }
    let mut s = ptr::read(st as *const Status, "status")?;
    s.count_lo = bytes as u32 as c_int;
    s.count_hi_and_cancelled =
        (((bytes >> 32) as u32) << 1) as c_int | (s.count_hi_and_cancelled & 1);
    ptr::write(st, s, "status")
}

fn count(st: *const Status, h: c_int) -> Result<Option<u64>, MpiError> {
    let bytes = status_bytes(st)?;
    Ok(get_any(h, "datatype")?.count_of(bytes))
}

fn elements(st: *const Status, h: c_int) -> Result<Option<u64>, MpiError> {
    let bytes = status_bytes(st)?;
    let dt = get_any(h, "datatype")?;
    // Of a predefined type, a byte count that ends inside an element gives MPI_UNDEFINED;
    // of a derived type, whole basic elements are counted and a cut one is not (MPICH).
    if dt.is_predefined() && dt.size() > 0 && bytes % dt.size() != 0 {
        return Ok(None);
    }
    Ok(Some(dt.elements_of(bytes)))
}

/// MPI_UNDEFINED for a partial result or one an int cannot hold.
fn int_or_undefined(v: Option<u64>) -> c_int {
    v.and_then(|v| c_int::try_from(v).ok()).unwrap_or(UNDEFINED)
}

fn count_or_undefined(v: Option<u64>) -> Count {
    v.map_or(UNDEFINED as Count, |v| v as Count)
}

mpi_fn!(MPI_Get_count, PMPI_Get_count, (status: *const Status, datatype: c_int, count_: *mut c_int), |_ctx| {
    ptr::write(count_, int_or_undefined(count(status, datatype)?), "count")
});
mpi_fn!(MPI_Get_count_c, PMPI_Get_count_c, (status: *const Status, datatype: c_int, count_: *mut Count), |_ctx| {
    ptr::write(count_, count_or_undefined(count(status, datatype)?), "count")
});
mpi_fn!(MPI_Get_elements, PMPI_Get_elements, (status: *const Status, datatype: c_int, count_: *mut c_int), |_ctx| {
    ptr::write(count_, int_or_undefined(elements(status, datatype)?), "count")
});
mpi_fn!(MPI_Get_elements_x, PMPI_Get_elements_x, (status: *const Status, datatype: c_int, count_: *mut Count), |_ctx| {
    ptr::write(count_, count_or_undefined(elements(status, datatype)?), "count")
});
mpi_fn!(MPI_Get_elements_c, PMPI_Get_elements_c, (status: *const Status, datatype: c_int, count_: *mut Count), |_ctx| {
    ptr::write(count_, count_or_undefined(elements(status, datatype)?), "count")
});

fn set_elements(st: *mut Status, h: c_int, n: i64) -> Result<(), MpiError> {
    let n = count_arg(n, "count")? as u64;
    let bytes = get_any(h, "datatype")?.bytes_of_elements(n);
    set_status_bytes(st, bytes)
}

mpi_fn!(MPI_Status_set_elements, PMPI_Status_set_elements, (status: *mut Status, datatype: c_int, count_: c_int), |_ctx| {
    set_elements(status, datatype, count_ as i64)
});
mpi_fn!(MPI_Status_set_elements_x, PMPI_Status_set_elements_x, (status: *mut Status, datatype: c_int, count_: Count), |_ctx| {
    set_elements(status, datatype, count_)
});
mpi_fn!(MPI_Status_set_elements_c, PMPI_Status_set_elements_c, (status: *mut Status, datatype: c_int, count_: Count), |_ctx| {
    set_elements(status, datatype, count_)
});

// ---------------------------------------------------------------- pack / unpack

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

/// MPI_Pack: appends `count` elements at `inbuf` to `outbuf` at `*position`.
fn pack(
    inbuf: *const c_void,
    count: i64,
    h: c_int,
    outbuf: *mut c_void,
    outsize: i64,
    position: i64,
) -> Result<i64, MpiError> {
    let n = count_arg(count, "incount")? as u64;
    let d = get(h, "datatype")?;
    let need = total(&d, n)?;
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
    // SAFETY: outbuf holds outsize bytes (MPI contract) and position + need <= outsize.
    let dst = unsafe { (outbuf as *mut u8).add(position as usize) };
    let out = ptr::slice_mut(dst, need as usize, "outbuf")?;
    // SAFETY: inbuf addresses `count` elements of the type (MPI contract; with MPI_BOTTOM
    // the type holds absolute addresses).
    d.pack(unsafe { UserPtr::new(inbuf as *const u8) }, n, 0, out);
    Ok(position + need as i64)
}

/// MPI_Unpack: reads `count` elements into `outbuf` from `inbuf` at `*position`.
fn unpack(
    inbuf: *const c_void,
    insize: i64,
    position: i64,
    outbuf: *mut c_void,
    count: i64,
    h: c_int,
) -> Result<i64, MpiError> {
    let n = count_arg(count, "outcount")? as u64;
    let d = get(h, "datatype")?;
    let need = total(&d, n)?;
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
    // SAFETY: inbuf holds insize bytes (MPI contract) and position + need <= insize.
    let src = unsafe { (inbuf as *const u8).add(position as usize) };
    let inp = ptr::slice(src, need as usize, "inbuf")?;
    // SAFETY: outbuf addresses `count` writable elements of the type (MPI contract).
    d.unpack(unsafe { UserPtr::new(outbuf as *const u8) }, n, 0, inp);
    Ok(position + need as i64)
}

mpi_fn!(MPI_Pack, PMPI_Pack, (inbuf: *const c_void, incount: c_int, datatype: c_int, outbuf: *mut c_void, outsize: c_int, position: *mut c_int, comm: c_int), |ctx| {
    ctx.on_comm(comm);
    let p = ptr::read(position, "position")?;
    let np = pack(inbuf, incount as i64, datatype, outbuf, outsize as i64, p as i64)?;
    ptr::write(position, np as c_int, "position")
});
mpi_fn!(MPI_Pack_c, PMPI_Pack_c, (inbuf: *const c_void, incount: Count, datatype: c_int, outbuf: *mut c_void, outsize: Count, position: *mut Count, comm: c_int), |ctx| {
    ctx.on_comm(comm);
    let p = ptr::read(position, "position")?;
    let np = pack(inbuf, incount, datatype, outbuf, outsize, p)?;
    ptr::write(position, np, "position")
});
mpi_fn!(MPI_Unpack, PMPI_Unpack, (inbuf: *const c_void, insize: c_int, position: *mut c_int, outbuf: *mut c_void, outcount: c_int, datatype: c_int, comm: c_int), |ctx| {
    ctx.on_comm(comm);
    let p = ptr::read(position, "position")?;
    let np = unpack(inbuf, insize as i64, p as i64, outbuf, outcount as i64, datatype)?;
    ptr::write(position, np as c_int, "position")
});
mpi_fn!(MPI_Unpack_c, PMPI_Unpack_c, (inbuf: *const c_void, insize: Count, position: *mut Count, outbuf: *mut c_void, outcount: Count, datatype: c_int, comm: c_int), |ctx| {
    ctx.on_comm(comm);
    let p = ptr::read(position, "position")?;
    let np = unpack(inbuf, insize, p, outbuf, outcount, datatype)?;
    ptr::write(position, np, "position")
});

fn pack_size(count: i64, h: c_int) -> Result<i64, MpiError> {
    let n = count_arg(count, "incount")? as u64;
    Ok(total(&*get(h, "datatype")?, n)? as i64)
}

mpi_fn!(MPI_Pack_size, PMPI_Pack_size, (incount: c_int, datatype: c_int, comm: c_int, size: *mut c_int), |ctx| {
    ctx.on_comm(comm);
    ptr::write(size, to_int(pack_size(incount as i64, datatype)?, "size")?, "size")
});
mpi_fn!(MPI_Pack_size_c, PMPI_Pack_size_c, (incount: Count, datatype: c_int, comm: c_int, size: *mut Count), |ctx| {
    ctx.on_comm(comm);
    ptr::write(size, pack_size(incount, datatype)?, "size")
});

fn external_size(datarep: *const c_char, count: i64, h: c_int) -> Result<i64, MpiError> {
    datatype::external32::check_datarep(ptr::cstr(datarep, "datarep")?)?;
    let n = count_arg(count, "incount")? as u64;
    let d = get(h, "datatype")?;
    total(&d, n)?;
    Ok(d.external32_size(n) as i64)
}

mpi_fn!(MPI_Pack_external_size, PMPI_Pack_external_size, (datarep: *const c_char, incount: c_int, datatype: c_int, size: *mut Aint), |_ctx| {
    ptr::write(size, external_size(datarep, incount as i64, datatype)?, "size")
});
mpi_fn!(MPI_Pack_external_size_c, PMPI_Pack_external_size_c, (datarep: *const c_char, incount: Count, datatype: c_int, size: *mut Count), |_ctx| {
    ptr::write(size, external_size(datarep, incount, datatype)?, "size")
});

fn pack_external(
    datarep: *const c_char,
    inbuf: *const c_void,
    count: i64,
    h: c_int,
    outbuf: *mut c_void,
    outsize: i64,
    position: *mut i64,
) -> Result<(), MpiError> {
    let need = external_size(datarep, count, h)? as u64;
    let pos = ptr::read(position, "position")?;
    if need > room(pos, outsize, "outsize")? {
        return Err(MpiError::arg(
            class::ERR_TRUNCATE,
            "outsize",
            format!("{need} bytes do not fit after position {pos} of {outsize}"),
        ));
    }
    if need > 0 {
        let d = get(h, "datatype")?;
        // SAFETY: outbuf holds outsize bytes (MPI contract) and pos + need <= outsize.
        let dst = unsafe { (outbuf as *mut u8).add(pos as usize) };
        let out = ptr::slice_mut(dst, need as usize, "outbuf")?;
        // SAFETY: inbuf addresses `count` readable elements of the type (MPI contract).
        d.pack_external32(
            unsafe { UserPtr::new(inbuf as *const u8) },
            count as u64,
            out,
        );
    }
    ptr::write(position, pos + need as i64, "position")
}

fn unpack_external(
    datarep: *const c_char,
    inbuf: *const c_void,
    insize: i64,
    position: *mut i64,
    outbuf: *mut c_void,
    count: i64,
    h: c_int,
) -> Result<(), MpiError> {
    let need = external_size(datarep, count, h)? as u64;
    let pos = ptr::read(position, "position")?;
    if need > room(pos, insize, "insize")? {
        return Err(MpiError::arg(
            class::ERR_TRUNCATE,
            "insize",
            format!("{need} bytes needed after position {pos} of {insize}"),
        ));
    }
    if need > 0 {
        let d = get(h, "datatype")?;
        // SAFETY: inbuf holds insize bytes (MPI contract) and pos + need <= insize.
        let src = unsafe { (inbuf as *const u8).add(pos as usize) };
        let inp = ptr::slice(src, need as usize, "inbuf")?;
        // SAFETY: outbuf addresses `count` writable elements of the type (MPI contract).
        d.unpack_external32(
            unsafe { UserPtr::new(outbuf as *const u8) },
            count as u64,
            inp,
        );
    }
    ptr::write(position, pos + need as i64, "position")
}

mpi_fn!(MPI_Pack_external, PMPI_Pack_external, (datarep: *const c_char, inbuf: *const c_void, incount: c_int, datatype: c_int, outbuf: *mut c_void, outsize: Aint, position: *mut Aint), |_ctx| {
    pack_external(datarep, inbuf, incount as i64, datatype, outbuf, outsize, position)
});
mpi_fn!(MPI_Pack_external_c, PMPI_Pack_external_c, (datarep: *const c_char, inbuf: *const c_void, incount: Count, datatype: c_int, outbuf: *mut c_void, outsize: Count, position: *mut Count), |_ctx| {
    pack_external(datarep, inbuf, incount, datatype, outbuf, outsize, position)
});
mpi_fn!(MPI_Unpack_external, PMPI_Unpack_external, (datarep: *const c_char, inbuf: *const c_void, insize: Aint, position: *mut Aint, outbuf: *mut c_void, outcount: c_int, datatype: c_int), |_ctx| {
    unpack_external(datarep, inbuf, insize, position, outbuf, outcount as i64, datatype)
});
mpi_fn!(MPI_Unpack_external_c, PMPI_Unpack_external_c, (datarep: *const c_char, inbuf: *const c_void, insize: Count, position: *mut Count, outbuf: *mut c_void, outcount: Count, datatype: c_int), |_ctx| {
    unpack_external(datarep, inbuf, insize, position, outbuf, outcount, datatype)
});
