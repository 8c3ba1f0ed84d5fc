//! Element-wise kernels for the non-pair types.
//!
//! Every kernel is one `zip_map` over `chunks_exact` of the two byte slices with
//! `from_ne_bytes`/`to_ne_bytes`: the chunk size is a constant after monomorphisation, so
//! for the primitive types LLVM turns the loop into unaligned vector loads, a vector op
//! and vector stores (see the benchmark test), with no alignment requirement and no UB.

use std::ops::{BitAnd, BitOr, BitXor};

use super::half::H16;
#[cfg(target_arch = "x86_64")]
use super::x87::X87;
use super::PredefOp;
use crate::datatype::Basic;

/// A value stored in `SIZE` bytes of a buffer, in native byte order.
pub(super) trait Scalar: Copy {
    /// Bytes one value occupies in a buffer (its stride, padding included).
    const SIZE: usize;
    /// Reads the value from the first `SIZE` bytes of `b`.
    fn load(b: &[u8]) -> Self;
    /// Writes the value into the first `SIZE` bytes of `b`.
    fn store(self, b: &mut [u8]);
}

macro_rules! scalar_prim {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline(always)]
            fn load(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(&b[..Self::SIZE]);
                <$t>::from_ne_bytes(a)
            }
            #[inline(always)]
            fn store(self, b: &mut [u8]) {
                b[..Self::SIZE].copy_from_slice(&self.to_ne_bytes());
            }
        }
    )*};
}
scalar_prim!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

/// `inout[k] = f(inp[k], inout[k])` for every element of the (equal-length) slices.
///
/// Never inlined: each (type, op) instance stays a small function of its own, so LLVM
/// inlines the iterator plumbing and vectorises the loop. Inlined into the big dispatch
/// function it hit the inliner's budget and stayed a scalar loop with calls.
#[inline(never)]
pub(super) fn zip_map<T: Scalar>(inp: &[u8], inout: &mut [u8], f: impl Fn(T, T) -> T) {
    for (i, o) in inp
        .chunks_exact(T::SIZE)
        .zip(inout.chunks_exact_mut(T::SIZE))
    {
        f(T::load(i), T::load(o)).store(o);
    }
}

/// Fixed-width integers: wrapping arithmetic, 0/1 logic, bit ops.
pub(super) trait Int:
    Scalar + Ord + BitAnd<Output = Self> + BitOr<Output = Self> + BitXor<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    fn wadd(self, o: Self) -> Self;
    fn wmul(self, o: Self) -> Self;
}

macro_rules! int_prim {
    ($($t:ty),*) => {$(
        impl Int for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            #[inline(always)]
            fn wadd(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)]
            fn wmul(self, o: Self) -> Self { self.wrapping_mul(o) }
        }
    )*};
}
int_prim!(i8, i16, i32, i64, u8, u16, u32, u64);

/// Floating-point kinds: the native ones, half precision and x87 long double.
pub(super) trait Arith: Scalar {
    /// 0.0 and 1.0, the results of a logical op.
    const ZERO: Self;
    const ONE: Self;
    /// `x == 0` as C compares (either signed zero; a NaN is nonzero, hence true).
    fn is_zero(self) -> bool;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// Ordered `>` / `<` (false when either is NaN), as C's operators.
    fn gt(self, o: Self) -> bool;
    fn lt(self, o: Self) -> bool;
}

macro_rules! arith_prim {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn is_zero(self) -> bool { self == 0.0 }
            #[inline(always)]
            fn add(self, o: Self) -> Self { self + o }
            #[inline(always)]
            fn sub(self, o: Self) -> Self { self - o }
            #[inline(always)]
            fn mul(self, o: Self) -> Self { self * o }
            #[inline(always)]
            fn gt(self, o: Self) -> bool { self > o }
            #[inline(always)]
            fn lt(self, o: Self) -> bool { self < o }
        }
    )*};
}
arith_prim!(f32, f64);

/// A complex number stored as (re, im) of `T`.
#[derive(Clone, Copy)]
struct Complex<T>(T, T);

impl<T: Scalar> Scalar for Complex<T> {
    const SIZE: usize = 2 * T::SIZE;
    #[inline(always)]
    fn load(b: &[u8]) -> Self {
        Complex(T::load(b), T::load(&b[T::SIZE..]))
    }
    #[inline(always)]
    fn store(self, b: &mut [u8]) {
        self.0.store(b);
        self.1.store(&mut b[T::SIZE..]);
    }
}

/// MAX, MIN, SUM, PROD, logical and bit ops on an integer kind. Returns false for ops
/// that are not element-wise integer ops (caller reports it).
fn int_op<T: Int>(op: PredefOp, inp: &[u8], inout: &mut [u8]) -> bool {
    use PredefOp::*;
    let truth = |x: bool| if x { T::ONE } else { T::ZERO };
    match op {
        // MPICH: inout = inout > in ? inout : in.
        Max => zip_map::<T>(inp, inout, |a, c| if c > a { c } else { a }),
        Min => zip_map::<T>(inp, inout, |a, c| if c < a { c } else { a }),
        Sum => zip_map::<T>(inp, inout, |a, c| a.wadd(c)),
        Prod => zip_map::<T>(inp, inout, |a, c| a.wmul(c)),
        Land => zip_map::<T>(inp, inout, |a, c| truth(a != T::ZERO && c != T::ZERO)),
        Lor => zip_map::<T>(inp, inout, |a, c| truth(a != T::ZERO || c != T::ZERO)),
        Lxor => zip_map::<T>(inp, inout, |a, c| truth((a != T::ZERO) != (c != T::ZERO))),
        Band => zip_map::<T>(inp, inout, |a, c| a & c),
        Bor => zip_map::<T>(inp, inout, |a, c| a | c),
        Bxor => zip_map::<T>(inp, inout, |a, c| a ^ c),
        Minloc | Maxloc | Replace | NoOp => return false,
    }
    true
}

/// LAND, LOR, LXOR on Fortran LOGICAL: a word is false when it equals the false word, and
/// the results are the true and false words (`super::logical`).
fn logical_op(op: PredefOp, inp: &[u8], inout: &mut [u8]) -> bool {
    let (t, f) = super::logical::get();
    logical_with(op, (t, f), inp, inout)
}

/// `logical_op` with the true and false words given.
pub(super) fn logical_with(op: PredefOp, (t, f): (i32, i32), inp: &[u8], inout: &mut [u8]) -> bool {
    use PredefOp::*;
    let word = |x: bool| if x { t } else { f };
    match op {
        Land => zip_map::<i32>(inp, inout, |a, c| word(a != f && c != f)),
        Lor => zip_map::<i32>(inp, inout, |a, c| word(a != f || c != f)),
        Lxor => zip_map::<i32>(inp, inout, |a, c| word((a != f) != (c != f))),
        _ => return false,
    }
    true
}

/// MAX, MIN, SUM, PROD and the logical ops on a floating kind.
fn float_op<T: Arith>(op: PredefOp, inp: &[u8], inout: &mut [u8]) -> bool {
    let truth = |x: bool| if x { T::ONE } else { T::ZERO };
    match op {
        PredefOp::Land => zip_map::<T>(inp, inout, |a, c| truth(!a.is_zero() && !c.is_zero())),
        PredefOp::Lor => zip_map::<T>(inp, inout, |a, c| truth(!a.is_zero() || !c.is_zero())),
        PredefOp::Lxor => zip_map::<T>(inp, inout, |a, c| truth(a.is_zero() != c.is_zero())),
        PredefOp::Max => zip_map::<T>(inp, inout, |a, c| if c.gt(a) { c } else { a }),
        PredefOp::Min => zip_map::<T>(inp, inout, |a, c| if c.lt(a) { c } else { a }),
        PredefOp::Sum => zip_map::<T>(inp, inout, |a, c| a.add(c)),
        PredefOp::Prod => zip_map::<T>(inp, inout, |a, c| a.mul(c)),
        _ => return false,
    }
    true
}

/// SUM, PROD on a complex kind: the textbook product, as C code without FMA computes it.
fn complex_op<T: Arith>(op: PredefOp, inp: &[u8], inout: &mut [u8]) -> bool {
    match op {
        PredefOp::Sum => {
            zip_map::<Complex<T>>(inp, inout, |a, c| Complex(a.0.add(c.0), a.1.add(c.1)))
        }
        PredefOp::Prod => zip_map::<Complex<T>>(inp, inout, |a, c| {
            Complex(
                a.0.mul(c.0).sub(a.1.mul(c.1)),
                a.0.mul(c.1).add(a.1.mul(c.0)),
            )
        }),
        _ => return false,
    }
    true
}

/// Element-wise ops on every non-pair kind; REPLACE and NO_OP are handled by the caller.
/// Returns false when no kernel covers (op, t).
pub(super) fn apply(op: PredefOp, t: Basic, inp: &[u8], inout: &mut [u8]) -> bool {
    use Basic::*;
    match t {
        Char | I8 => int_op::<i8>(op, inp, inout),
        I16 => int_op::<i16>(op, inp, inout),
        I32 => int_op::<i32>(op, inp, inout),
        I64 => int_op::<i64>(op, inp, inout),
        U8 => int_op::<u8>(op, inp, inout),
        U16 => int_op::<u16>(op, inp, inout),
        U32 => int_op::<u32>(op, inp, inout),
        U64 => int_op::<u64>(op, inp, inout),
        // C _Bool: nonzero is true, results are 0/1. Fortran LOGICAL: the words of the
        // binding's compiler (`logical`). Only the logical ops reach here (`allowed`).
        Bool => int_op::<u8>(op, inp, inout),
        Logical => logical_op(op, inp, inout),
        Byte => int_op::<u8>(op, inp, inout),
        F16 => float_op::<H16>(op, inp, inout),
        F32 => float_op::<f32>(op, inp, inout),
        F64 => float_op::<f64>(op, inp, inout),
        #[cfg(target_arch = "x86_64")]
        F80 => float_op::<X87>(op, inp, inout),
        C32 => complex_op::<f32>(op, inp, inout),
        C64 => complex_op::<f64>(op, inp, inout),
        #[cfg(target_arch = "x86_64")]
        C80 => complex_op::<X87>(op, inp, inout),
        _ => false,
    }
}
