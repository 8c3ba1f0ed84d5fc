//! The type constructors: each computes the new type's bounds and layout from its
//! components and records its arguments for MPI_Type_get_contents.
//!
//! Every constructor reduces to "blocks": `bl` consecutive copies of a component (one
//! extent apart) placed at a byte displacement. Bounds follow MPI 4.0 §5.1: lb/ub are the
//! min/max over the copies' lb/ub, the true bounds the min/max over the data. Like MPICH,
//! a resized component's bounds are not "sticky" markers: only the deprecated MPI_LB /
//! MPI_UB given directly to a struct set the bounds explicitly. A struct's extent is
//! padded to the largest alignment of its basic types unless MPI_UB fixes it.

use super::layout::Node;
use super::{combiner, Basic, Builtin, Contents, Datatype, Shape, TypeRef};
use crate::error::{class, MpiError, MpiResult};

/// Running bounds, size and element counts of a type being built. Arithmetic is in i128 so
/// that overflow is caught once, when the shape is finished.
struct Acc {
    lb: Option<i128>,
    ub: Option<i128>,
    tlb: Option<i128>,
    tub: Option<i128>,
    size: u128,
    elements: u128,
    align: u64,
    /// None: no data yet; Some(None): mixed basic types.
    basic: Option<Option<Basic>>,
}

fn min_opt(a: Option<i128>, b: i128) -> Option<i128> {
    Some(a.map_or(b, |a| a.min(b)))
}
fn max_opt(a: Option<i128>, b: i128) -> Option<i128> {
    Some(a.map_or(b, |a| a.max(b)))
}

impl Acc {
    fn new() -> Self {
        Acc {
            lb: None,
            ub: None,
            tlb: None,
            tub: None,
            size: 0,
            elements: 0,
            align: 1,
            basic: None,
        }
    }

    /// Widens the bounds to cover `bl` copies of `t` starting at byte `disp`.
    fn bounds(&mut self, t: &Datatype, disp: i128, bl: u64) {
        if bl == 0 {
            return;
        }
        let last = (bl as i128 - 1) * t.extent() as i128;
        let (lo, hi) = (disp + last.min(0), disp + last.max(0));
        self.lb = min_opt(self.lb, lo + t.lb as i128);
        self.ub = max_opt(self.ub, hi + t.ub as i128);
        if t.size > 0 {
            self.tlb = min_opt(self.tlb, lo + t.true_lb as i128);
            self.tub = max_opt(self.tub, hi + t.true_ub as i128);
        }
    }

    /// Adds the data of `n` copies of `t`.
    fn data(&mut self, t: &Datatype, n: u128) {
        self.align = self.align.max(t.align);
        if n == 0 || t.size == 0 {
            return;
        }
        self.size += n * t.size as u128;
        self.elements += n * t.elements as u128;
        self.basic = Some(match self.basic {
            None => t.basic,
            Some(b) if b == t.basic => b,
            Some(_) => None,
        });
    }

    fn finish(self, layout: Node) -> MpiResult<Shape> {
        let too_big = || MpiError::arg(class::ERR_ARG, "datatype", "type map too large");
        let i = |v: Option<i128>| i64::try_from(v.unwrap_or(0)).map_err(|_| too_big());
        let (lb, ub, true_lb, true_ub) = (i(self.lb)?, i(self.ub)?, i(self.tlb)?, i(self.tub)?);
        let size = u64::try_from(self.size).map_err(|_| too_big())?;
        let elements = u64::try_from(self.elements).map_err(|_| too_big())?;
        // Checked here so that later size * count products in walks stay meaningful.
        ub.checked_sub(lb).ok_or_else(too_big)?;
        Ok(Shape {
            size,
            lb,
            ub,
            true_lb,
            true_ub,
            basic: self.basic.flatten(),
            elements,
            align: self.align,
            layout,
        })
    }
}

/// Records constructor arguments in the order MPI_Type_get_contents returns them. Counts,
/// block lengths and displacements go to `counts` for a large-count constructor.
struct Args {
    c: Contents,
    large: bool,
}

impl Args {
    fn new(combiner: i32, large: bool) -> Self {
        Args {
            c: Contents::new(combiner),
            large,
        }
    }
    /// A count, block length, or integer displacement/stride.
    fn num(&mut self, v: i64) -> &mut Self {
        if self.large {
            self.c.counts.push(v);
        } else {
            self.c.ints.push(v as i32);
        }
        self
    }
    fn nums(&mut self, v: &[i64]) -> &mut Self {
        for &x in v {
            self.num(x);
        }
        self
    }
    /// An MPI_Aint argument (an MPI_Count in the large variant).
    fn addr(&mut self, v: i64) -> &mut Self {
        if self.large {
            self.c.counts.push(v);
        } else {
            self.c.addrs.push(v);
        }
        self
    }
    fn ty(&mut self, t: &TypeRef) -> &mut Self {
        self.c.types.push(t.clone());
        self
    }
    fn build(&mut self, shape: Shape) -> Datatype {
        let c = std::mem::replace(&mut self.c, Contents::named());
        Datatype::from_shape(shape, c)
    }
}

fn check_count(v: i64, arg: &str) -> MpiResult<u64> {
    if v < 0 {
        Err(MpiError::arg(
            class::ERR_COUNT,
            arg,
            format!("negative count {v}"),
        ))
    } else {
        Ok(v as u64)
    }
}

fn check_blocklen(v: i64, arg: &str) -> MpiResult<u64> {
    if v < 0 {
        Err(MpiError::arg(
            class::ERR_ARG,
            arg,
            format!("negative block length {v}"),
        ))
    } else {
        Ok(v as u64)
    }
}

/// The layout of `bl` copies of `t` at byte `disp`.
fn block_layout(t: &Datatype, disp: i64, bl: u64) -> Node {
    Node::repeat(bl, t.extent(), &t.layout).shifted(disp)
}

/// `count` blocks of `bl` copies of `t`, block `i` at byte `i * stride`: the shape shared
/// by contiguous, vector and hvector. Only the first and last blocks matter for bounds.
fn strided(t: &Datatype, count: u64, bl: u64, stride: i128) -> MpiResult<Shape> {
    let mut acc = Acc::new();
    if count > 0 {
        acc.bounds(t, 0, bl);
        acc.bounds(t, (count as i128 - 1) * stride, bl);
    }
    acc.data(t, count as u128 * bl as u128);
    let inner = Node::repeat(bl, t.extent(), &t.layout);
    let stride = i64::try_from(stride)
        .map_err(|_| MpiError::arg(class::ERR_ARG, "stride", "stride too large"))?;
    let layout = Node::repeat(count, stride, &inner);
    acc.finish(layout)
}

/// Blocks at explicit byte displacements: indexed, hindexed and their _block forms.
fn blocks(t: &Datatype, bls: &[u64], disps: &[i128]) -> MpiResult<Shape> {
    let mut acc = Acc::new();
    let mut parts = Vec::with_capacity(bls.len());
    let mut n = 0u128;
    for (&bl, &d) in bls.iter().zip(disps) {
        acc.bounds(t, d, bl);
        n += bl as u128;
        if bl > 0 {
            let d = i64::try_from(d).map_err(|_| {
                MpiError::arg(
                    class::ERR_ARG,
                    "array_of_displacements",
                    "displacement too large",
                )
            })?;
            parts.push(block_layout(t, d, bl));
        }
    }
    acc.data(t, n);
    acc.finish(Node::seq(parts))
}

pub fn contiguous(count: i64, old: &TypeRef, large: bool) -> MpiResult<Datatype> {
    let n = check_count(count, "count")?;
    let t = old.dt();
    let shape = strided(t, 1, n, 0)?;
    Ok(Args::new(combiner::CONTIGUOUS, large)
        .num(count)
        .ty(old)
        .build(shape))
}

/// MPI_Type_vector: the stride counts extents of `old`.
pub fn vector(count: i64, bl: i64, stride: i64, old: &TypeRef, large: bool) -> MpiResult<Datatype> {
    let (n, b) = (
        check_count(count, "count")?,
        check_blocklen(bl, "blocklength")?,
    );
    let t = old.dt();
    let shape = strided(t, n, b, stride as i128 * t.extent() as i128)?;
    Ok(Args::new(combiner::VECTOR, large)
        .num(count)
        .num(bl)
        .num(stride)
        .ty(old)
        .build(shape))
}

/// MPI_Type_create_hvector (and the MPI-1 MPI_Type_hvector): the stride is in bytes.
pub fn hvector(
    count: i64,
    bl: i64,
    stride: i64,
    old: &TypeRef,
    large: bool,
) -> MpiResult<Datatype> {
    let (n, b) = (
        check_count(count, "count")?,
        check_blocklen(bl, "blocklength")?,
    );
    let shape = strided(old.dt(), n, b, stride as i128)?;
    Ok(Args::new(combiner::HVECTOR, large)
        .num(count)
        .num(bl)
        .addr(stride)
        .ty(old)
        .build(shape))
}

fn blocklens(bls: &[i64]) -> MpiResult<Vec<u64>> {
    bls.iter()
        .map(|&b| check_blocklen(b, "array_of_blocklengths"))
        .collect()
}

/// MPI_Type_indexed: displacements count extents of `old`.
pub fn indexed(bls: &[i64], disps: &[i64], old: &TypeRef, large: bool) -> MpiResult<Datatype> {
    let b = blocklens(bls)?;
    let ext = old.dt().extent() as i128;
    let d: Vec<i128> = disps.iter().map(|&x| x as i128 * ext).collect();
    let shape = blocks(old.dt(), &b, &d)?;
    Ok(Args::new(combiner::INDEXED, large)
        .num(bls.len() as i64)
        .nums(bls)
        .nums(disps)
        .ty(old)
        .build(shape))
}

/// MPI_Type_create_hindexed (and MPI_Type_hindexed): displacements in bytes.
pub fn hindexed(bls: &[i64], disps: &[i64], old: &TypeRef, large: bool) -> MpiResult<Datatype> {
    let b = blocklens(bls)?;
    let d: Vec<i128> = disps.iter().map(|&x| x as i128).collect();
    let shape = blocks(old.dt(), &b, &d)?;
    let mut a = Args::new(combiner::HINDEXED, large);
    a.num(bls.len() as i64).nums(bls);
    for &x in disps {
        a.addr(x);
    }
    Ok(a.ty(old).build(shape))
}

pub fn indexed_block(bl: i64, disps: &[i64], old: &TypeRef, large: bool) -> MpiResult<Datatype> {
    let b = check_blocklen(bl, "blocklength")?;
    let ext = old.dt().extent() as i128;
    let d: Vec<i128> = disps.iter().map(|&x| x as i128 * ext).collect();
    let shape = blocks(old.dt(), &vec![b; disps.len()], &d)?;
    Ok(Args::new(combiner::INDEXED_BLOCK, large)
        .num(disps.len() as i64)
        .num(bl)
        .nums(disps)
        .ty(old)
        .build(shape))
}

pub fn hindexed_block(bl: i64, disps: &[i64], old: &TypeRef, large: bool) -> MpiResult<Datatype> {
    let b = check_blocklen(bl, "blocklength")?;
    let d: Vec<i128> = disps.iter().map(|&x| x as i128).collect();
    let shape = blocks(old.dt(), &vec![b; disps.len()], &d)?;
    let mut a = Args::new(combiner::HINDEXED_BLOCK, large);
    a.num(disps.len() as i64).num(bl);
    for &x in disps {
        a.addr(x);
    }
    Ok(a.ty(old).build(shape))
}

/// MPI_Type_create_struct (and MPI_Type_struct, whose MPI_LB / MPI_UB entries set the
/// bounds explicitly).
pub fn structure(
    bls: &[i64],
    disps: &[i64],
    types: &[TypeRef],
    large: bool,
) -> MpiResult<Datatype> {
    let b = blocklens(bls)?;
    let mut acc = Acc::new();
    let mut parts = Vec::with_capacity(b.len());
    let (mut lb_mark, mut ub_mark): (Option<i128>, Option<i128>) = (None, None);
    for ((&bl, &d), t) in b.iter().zip(disps).zip(types) {
        if bl == 0 {
            continue;
        }
        match t {
            TypeRef::Predefined(Builtin::Lb, _) => lb_mark = min_opt(lb_mark, d as i128),
            TypeRef::Predefined(Builtin::Ub, _) => ub_mark = max_opt(ub_mark, d as i128),
            _ => {
                acc.bounds(t.dt(), d as i128, bl);
                acc.data(t.dt(), bl as u128);
                parts.push(block_layout(t.dt(), d, bl));
            }
        }
    }
    if ub_mark.is_none() {
        if let (Some(lb), Some(ub)) = (acc.lb, acc.ub) {
            let a = acc.align as i128;
            let ext = ub - lb;
            if ext > 0 && ext % a != 0 {
                acc.ub = Some(ub + a - ext % a);
            }
        }
    }
    acc.lb = lb_mark.or(acc.lb);
    acc.ub = ub_mark.or(acc.ub);
    let shape = acc.finish(Node::seq(parts))?;
    let mut a = Args::new(combiner::STRUCT, large);
    a.num(bls.len() as i64).nums(bls);
    for &x in disps {
        a.addr(x);
    }
    for t in types {
        a.ty(t);
    }
    Ok(a.build(shape))
}

/// MPI_Type_create_resized: same data, bounds set to [lb, lb + extent).
pub fn resized(old: &TypeRef, lb: i64, extent: i64, large: bool) -> MpiResult<Datatype> {
    let mut shape = old.dt().shape();
    shape.lb = lb;
    shape.ub = lb
        .checked_add(extent)
        .ok_or_else(|| MpiError::arg(class::ERR_ARG, "extent", "lb + extent overflows"))?;
    Ok(Args::new(combiner::RESIZED, large)
        .addr(lb)
        .addr(extent)
        .ty(old)
        .build(shape))
}

/// MPI_Type_dup: same type map, committed if the original is; no name.
pub fn dup(old: &TypeRef) -> Datatype {
    let dt = Args::new(combiner::DUP, false)
        .ty(old)
        .build(old.dt().shape());
    if old.dt().is_committed() {
        dt.commit();
    }
    dt
}

/// A predefined type as a `TypeRef` (for internal constructions and tests).
pub fn predef(id: Builtin) -> TypeRef {
    TypeRef::Predefined(id, super::builtin(id))
}
