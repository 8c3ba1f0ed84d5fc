//! MINLOC / MAXLOC on the (value, index) pair types, and REPLACE on them.
//!
//! The standard's rule (§6.9.4): the result value is the min (max) of the two; its index
//! is that value's index, or the smaller index when the values are equal. Like MPICH, a
//! NaN value never compares, so it neither replaces nor is replaced.

use std::cmp::Ordering;

use super::kernels::Scalar;
#[cfg(target_arch = "x86_64")]
use super::x87::{self, X87};
use super::{Layout, PredefOp};
use crate::datatype::Basic;

/// Where the index sits in one pair element, and the element stride.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Geometry {
    pub stride: usize,
    pub ioff: usize,
}

/// The geometry of pair type `t` in `layout`; None for non-pair types. Packed is what
/// `Datatype::pack` produces (value then index, no gap); Memory is the C struct.
pub(super) fn geometry(t: Basic, layout: Layout) -> Option<Geometry> {
    use Basic::*;
    let g = |stride, ioff| Some(Geometry { stride, ioff });
    match (t, layout) {
        (PairF32I32 | PairI32I32 | PairF32F32, _) => g(8, 4),
        (PairF64F64, _) => g(16, 8),
        (PairF64I32 | PairI64I32, Layout::Packed) => g(12, 8),
        (PairF64I32 | PairI64I32, Layout::Memory) => g(16, 8),
        (PairI16I32, Layout::Packed) => g(6, 2),
        (PairI16I32, Layout::Memory) => g(8, 4),
        // The long double slot is 16 bytes (6 of them padding) in both layouts.
        (PairF80I32, Layout::Packed) => g(20, 16),
        (PairF80I32, Layout::Memory) => g(32, 16),
        _ => None,
    }
}

/// A value or index kind of a pair, compared as C compares it.
trait Compare: Scalar {
    fn compare(self, o: Self) -> Option<Ordering>;
}

macro_rules! compare_prim {
    ($($t:ty),*) => {$(
        impl Compare for $t {
            #[inline(always)]
            fn compare(self, o: Self) -> Option<Ordering> { self.partial_cmp(&o) }
        }
    )*};
}
compare_prim!(i16, i32, i64, f32, f64);

#[cfg(target_arch = "x86_64")]
impl Compare for X87 {
    fn compare(self, o: Self) -> Option<Ordering> {
        x87::compare(&self, &o)
    }
}

/// MINLOC (`max == false`) or MAXLOC over pairs of value `V` and index `I`.
fn loc<V: Compare, I: Compare>(inp: &[u8], inout: &mut [u8], g: Geometry, max: bool) {
    let want = if max {
        Ordering::Less
    } else {
        Ordering::Greater
    };
    for (a, c) in inp
        .chunks_exact(g.stride)
        .zip(inout.chunks_exact_mut(g.stride))
    {
        let (av, cv) = (V::load(a), V::load(c));
        let (ai, ci) = (I::load(&a[g.ioff..]), I::load(&c[g.ioff..]));
        match cv.compare(av) {
            Some(Ordering::Equal) => {
                if ai.compare(ci) == Some(Ordering::Less) {
                    ai.store(&mut c[g.ioff..]);
                }
            }
            // inout is worse than in: take in's value and index.
            Some(o) if o == want => {
                av.store(c);
                ai.store(&mut c[g.ioff..]);
            }
            _ => {}
        }
    }
}

/// REPLACE on pairs: copy the value and index, not the padding between them.
fn replace<V: Scalar, I: Scalar>(inp: &[u8], inout: &mut [u8], g: Geometry) {
    for (a, c) in inp
        .chunks_exact(g.stride)
        .zip(inout.chunks_exact_mut(g.stride))
    {
        c[..V::SIZE].copy_from_slice(&a[..V::SIZE]);
        c[g.ioff..g.ioff + I::SIZE].copy_from_slice(&a[g.ioff..g.ioff + I::SIZE]);
    }
}

fn run<V: Compare, I: Compare>(op: PredefOp, inp: &[u8], inout: &mut [u8], g: Geometry) -> bool {
    match op {
        PredefOp::Minloc => loc::<V, I>(inp, inout, g, false),
        PredefOp::Maxloc => loc::<V, I>(inp, inout, g, true),
        PredefOp::Replace => replace::<V, I>(inp, inout, g),
        PredefOp::NoOp => {}
        _ => return false,
    }
    true
}

/// MINLOC, MAXLOC, REPLACE, NO_OP on pair type `t`; false if `t` is not a pair type or
/// `op` is not one of those.
pub(super) fn apply(op: PredefOp, t: Basic, inp: &[u8], inout: &mut [u8], layout: Layout) -> bool {
    use Basic::*;
    let Some(g) = geometry(t, layout) else {
        return false;
    };
    match t {
        PairF32I32 => run::<f32, i32>(op, inp, inout, g),
        PairF64I32 => run::<f64, i32>(op, inp, inout, g),
        PairI64I32 => run::<i64, i32>(op, inp, inout, g),
        PairI16I32 => run::<i16, i32>(op, inp, inout, g),
        PairI32I32 => run::<i32, i32>(op, inp, inout, g),
        PairF32F32 => run::<f32, f32>(op, inp, inout, g),
        PairF64F64 => run::<f64, f64>(op, inp, inout, g),
        #[cfg(target_arch = "x86_64")]
        PairF80I32 => run::<X87, i32>(op, inp, inout, g),
        _ => false,
    }
}
