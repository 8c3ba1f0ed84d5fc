//! MPI_Type_create_subarray and MPI_Type_create_darray, built from the simpler
//! constructors as the standard defines them (MPI 4.0 §5.1.3 and §5.1.4).

use super::construct::{hvector, resized, structure};
use super::{combiner, Contents, Datatype, TypeRef};
use crate::error::{class, MpiError, MpiResult};
use std::sync::Arc;

pub const ORDER_C: i32 = 56;
pub const ORDER_FORTRAN: i32 = 57;
pub const DISTRIBUTE_BLOCK: i32 = 121;
pub const DISTRIBUTE_CYCLIC: i32 = 122;
pub const DISTRIBUTE_NONE: i32 = 123;
pub const DISTRIBUTE_DFLT_DARG: i32 = -49767;

fn bad(arg: &str, why: impl std::fmt::Display) -> MpiError {
    MpiError::arg(class::ERR_ARG, arg, why)
}

fn derived(t: Datatype) -> TypeRef {
    TypeRef::Derived(Arc::new(t))
}

/// Dimension indices from the fastest-varying to the slowest.
fn fastest_first(ndims: usize, order: i32) -> MpiResult<Vec<usize>> {
    match order {
        ORDER_C => Ok((0..ndims).rev().collect()),
        ORDER_FORTRAN => Ok((0..ndims).collect()),
        _ => Err(bad(
            "order",
            format!("{order} is neither MPI_ORDER_C nor MPI_ORDER_FORTRAN"),
        )),
    }
}

/// Places `t` at byte `disp` inside an element spanning [0, extent).
fn place(t: Datatype, disp: i64, extent: i64) -> MpiResult<Datatype> {
    let s = structure(&[1], &[disp], &[derived(t)], false)?;
    resized(&derived(s), 0, extent, false)
}

fn with_contents(t: Datatype, c: Contents) -> Datatype {
    Datatype::from_shape(t.shape(), c)
}

/// The large flag puts the array sizes (or global sizes) in `counts`, as the `_c`
/// constructors do.
fn push_nums(c: &mut Contents, v: &[i64], large: bool) {
    if large {
        c.counts.extend_from_slice(v);
    } else {
        c.ints.extend(v.iter().map(|&x| x as i32));
    }
}

#[allow(clippy::too_many_arguments)]
pub fn subarray(
    sizes: &[i64],
    subsizes: &[i64],
    starts: &[i64],
    order: i32,
    old: &TypeRef,
    large: bool,
) -> MpiResult<Datatype> {
    let nd = sizes.len();
    if nd == 0 {
        return Err(bad("ndims", "must be positive"));
    }
    for i in 0..nd {
        if sizes[i] < 1 {
            return Err(bad(
                "array_of_sizes",
                format!("sizes[{i}] = {} < 1", sizes[i]),
            ));
        }
        if subsizes[i] < 0 || subsizes[i] > sizes[i] {
            return Err(bad(
                "array_of_subsizes",
                format!("subsizes[{i}] = {} not in [0, {}]", subsizes[i], sizes[i]),
            ));
        }
        if starts[i] < 0 || starts[i] > sizes[i] - subsizes[i] {
            return Err(bad(
                "array_of_starts",
                format!(
                    "starts[{i}] = {} not in [0, {}]",
                    starts[i],
                    sizes[i] - subsizes[i]
                ),
            ));
        }
    }
    let dims = fastest_first(nd, order)?;
    let ext = old.dt().extent() as i128;
    // Build from the fastest dimension outwards: each level is an hvector of the previous.
    let mut cur: TypeRef = old.clone();
    let mut stride = ext;
    let mut disp = 0i128;
    for (k, &d) in dims.iter().enumerate() {
        let step = i64::try_from(stride).map_err(|_| bad("array_of_sizes", "array too large"))?;
        let bl = if k == 0 { subsizes[d] } else { 1 };
        let count = if k == 0 { 1 } else { subsizes[d] };
        cur = derived(hvector(count, bl, step, &cur, false)?);
        disp += starts[d] as i128 * stride;
        stride *= sizes[d] as i128;
    }
    let too_big = || bad("array_of_sizes", "array too large");
    let t = Datatype::from_shape(cur.dt().shape(), Contents::named());
    let t = place(
        t,
        i64::try_from(disp).map_err(|_| too_big())?,
        i64::try_from(stride).map_err(|_| too_big())?,
    )?;
    let mut c = Contents::new(combiner::SUBARRAY);
    c.ints.push(nd as i32);
    push_nums(&mut c, sizes, large);
    push_nums(&mut c, subsizes, large);
    push_nums(&mut c, starts, large);
    c.ints.push(order);
    c.types.push(old.clone());
    Ok(with_contents(t, c))
}

/// One dimension of a darray: the blocks of `gsize` elements of `cur` (extent `e`) that
/// process coordinate `r` of `p` owns with block size `blk`, cyclically.
fn cyclic_dim(cur: &TypeRef, gsize: i64, blk: i64, p: i64, r: i64) -> MpiResult<Datatype> {
    let e = cur.dt().extent();
    let st = r * blk;
    let local = if st >= gsize {
        0
    } else {
        let left = gsize - st;
        (left / (p * blk)) * blk + (left % (p * blk)).min(blk)
    };
    let (count, rem) = (local / blk, local % blk);
    let stride = p * blk * e;
    let body = hvector(count, blk, stride, cur, false)?;
    let t = if rem > 0 {
        structure(
            &[1, rem],
            &[0, count * stride],
            &[derived(body), cur.clone()],
            false,
        )?
    } else {
        body
    };
    place(t, st * e, gsize * e)
}

#[allow(clippy::too_many_arguments)]
pub fn darray(
    size: i32,
    rank: i32,
    gsizes: &[i64],
    distribs: &[i32],
    dargs: &[i32],
    psizes: &[i32],
    order: i32,
    old: &TypeRef,
    large: bool,
) -> MpiResult<Datatype> {
    let nd = gsizes.len();
    if size < 1 {
        return Err(bad("size", format!("{size} < 1")));
    }
    if rank < 0 || rank >= size {
        return Err(bad("rank", format!("{rank} not in [0, {size})")));
    }
    if nd == 0 {
        return Err(bad("ndims", "must be positive"));
    }
    let prod: i64 = psizes.iter().map(|&p| p as i64).product();
    if psizes.iter().any(|&p| p < 1) || prod != size as i64 {
        return Err(bad(
            "array_of_psizes",
            format!("product {prod} != size {size}"),
        ));
    }
    // The process grid is row-major whatever the array order.
    let mut coords = vec![0i64; nd];
    let mut rem = rank as i64;
    for i in (0..nd).rev() {
        coords[i] = rem % psizes[i] as i64;
        rem /= psizes[i] as i64;
    }
    let mut cur = old.clone();
    for d in fastest_first(nd, order)? {
        let (g, p, darg) = (gsizes[d], psizes[d] as i64, dargs[d]);
        if g < 1 {
            return Err(bad("array_of_gsizes", format!("gsizes[{d}] = {g} < 1")));
        }
        let blk = match distribs[d] {
            DISTRIBUTE_BLOCK => {
                let b = if darg == DISTRIBUTE_DFLT_DARG {
                    (g + p - 1) / p
                } else {
                    darg as i64
                };
                if b < 1 || b * p < g {
                    return Err(bad(
                        "array_of_dargs",
                        format!("block size {b} x {p} processes does not cover {g} elements"),
                    ));
                }
                b
            }
            DISTRIBUTE_CYCLIC => {
                let b = if darg == DISTRIBUTE_DFLT_DARG {
                    1
                } else {
                    darg as i64
                };
                if b < 1 {
                    return Err(bad("array_of_dargs", format!("cyclic block size {b} < 1")));
                }
                b
            }
            DISTRIBUTE_NONE => {
                if p != 1 {
                    return Err(bad("array_of_psizes", "MPI_DISTRIBUTE_NONE needs psizes 1"));
                }
                g
            }
            other => {
                return Err(bad(
                    "array_of_distribs",
                    format!("unknown distribution {other}"),
                ))
            }
        };
        cur = derived(cyclic_dim(&cur, g, blk, p, coords[d])?);
    }
    let mut c = Contents::new(combiner::DARRAY);
    c.ints.extend_from_slice(&[size, rank, nd as i32]);
    push_nums(&mut c, gsizes, large);
    c.ints.extend_from_slice(distribs);
    c.ints.extend_from_slice(dargs);
    c.ints.extend_from_slice(psizes);
    c.ints.push(order);
    c.types.push(old.clone());
    Ok(Datatype::from_shape(cur.dt().shape(), c))
}
