//! Local reduction of typed buffers: `inout = in op inout` for `count` elements of a
//! datatype, both buffers in the datatype's memory layout. Used by every reducing schedule
//! step and by MPI_Reduce_local. A few elements of the commonest predefined pairs take
//! [`small`], a direct loop, instead of `op::apply`'s general dispatch, whose checks and
//! table walk cost more than the arithmetic in the small collectives (issue 13).

use crate::datatype::Basic;
use crate::error::{class, MpiError};
use crate::op::user::Op;
use crate::op::{self, PredefOp};
use crate::p2p::{Data, TypeKeep};
use crate::transport::mem::UserPtr;

/// Checks locally, before any communication, that `op` may reduce `dt` (collectives and
/// MPI_Reduce_local). As MPICH, the pair is checked whatever the count, and MPI_REPLACE /
/// MPI_NO_OP, which only the accumulate functions take, are refused.
pub fn check(op: &Op, dt: &TypeKeep) -> Result<(), MpiError> {
    let Op::Predef(p) = op else { return Ok(()) };
    if p.is_accumulate_only() {
        return Err(MpiError::arg(
            class::ERR_OP,
            "op",
            format!("{} is only valid in accumulate operations", p.name()),
        ));
    }
    check_predef(*p, dt)
}

fn check_predef(p: PredefOp, dt: &TypeKeep) -> Result<(), MpiError> {
    match dt.basic {
        Some(b) if op::allowed(p, b) => Ok(()),
        Some(b) => Err(MpiError::arg(
            class::ERR_OP,
            "op",
            format!("{} is not defined for datatype kind {b:?}", p.name()),
        )),
        // A derived type holding no data has no basic type: nothing to reduce.
        None if dt.size() == 0 => Ok(()),
        None => Err(MpiError::arg(
            class::ERR_OP,
            "op",
            format!(
                "{} needs a datatype built from a single predefined type",
                p.name()
            ),
        )),
    }
}

/// `inout = inp op inout` over `count` elements of `dt` (`dt_handle` is what a user
/// function receives). Both pointers are buffer addresses as the user would pass them.
pub fn reduce(
    op: &Op,
    dt: &TypeKeep,
    dt_handle: i32,
    inp: UserPtr,
    inout: UserPtr,
    count: u64,
) -> Result<(), MpiError> {
    if count == 0 || dt.size() == 0 {
        return Ok(());
    }
    let p = match op {
        Op::User(u) => {
            (u.call)(inp.addr(), inout.addr(), count, dt_handle, dt.extent());
            return Ok(());
        }
        Op::Predef(p) => *p,
    };
    let basic = dt
        .basic
        .ok_or_else(|| MpiError::new(class::ERR_OP, "reduction on a mixed datatype"))?;
    let bytes = (count * dt.size()) as usize;
    let elems = bytes / op::elem_size(basic, op::Layout::Packed).max(1);
    if dt.is_contiguous() {
        let (a, b) = (inp.offset(dt.true_lb), inout.offset(dt.true_lb));
        if bytes <= SMALL_MAX {
            // `small` reads the inout operand from a copy: it writes while it reads.
            let mut was = [0u8; SMALL_MAX];
            b.read(0, &mut was[..bytes]);
            let done = a.with_slice(0, bytes, |a| {
                b.with_slice_mut(0, bytes, |o| small(p, basic, a, &was[..bytes], o))
            });
            if done {
                return Ok(());
            }
        }
        a.with_slice(0, bytes, |a| {
            b.with_slice_mut(0, bytes, |b| op::apply(p, basic, a, b, elems))
        })?;
        return Ok(());
    }
    // Scattered or padded elements: reduce packed copies, then scatter the result back.
    let din = Data::new(inp, count, dt.clone());
    let dio = Data::new(inout, count, dt.clone());
    let mut a = vec![0u8; bytes];
    let mut b = vec![0u8; bytes];
    din.pack(0, &mut a);
    dio.pack(0, &mut b);
    op::apply(p, basic, &a, &mut b, elems)?;
    dio.unpack(0, &b);
    Ok(())
}

/// Largest reduction, in bytes, that [`small`] takes: a few elements, the size of the
/// small collectives whose time is mostly the CPU path (issue 13: an 8 B MPI_Allreduce at 2
/// ranks spent about 190 of its instructions in the general dispatch, `op::apply`, to add
/// two ints). Above it the general kernels, which vectorise, run.
pub const SMALL_MAX: usize = 64;

/// `a op b` (`a` the input, `b` the inout operand, as in [`reduce`]) for the commonest
/// predefined pairs, SUM, PROD, MAX and MIN on 32- and 64-bit integers and floats, when
/// the buffers hold at most [`SMALL_MAX`] bytes of whole packed elements: writes the
/// result to `out` (as long as `b`; a copy of `b`, not `b` itself) and returns true; or
/// returns false, having written nothing, for any other pair or size, which `op::apply`
/// handles. The element functions are those of `op::kernels` (wrapping integer
/// arithmetic, `a + b` with the input first, MPICH's `b > a ? b : a`), so results are bit
/// for bit the same whichever path a reduction takes: ranks that reduce alike must agree.
pub fn small(p: PredefOp, t: Basic, a: &[u8], b: &[u8], out: &mut [u8]) -> bool {
    let len = b.len();
    if a.len() != len || out.len() != len || len > SMALL_MAX {
        return false;
    }
    // Element by element over indices: the iterator adapters (zip of chunks) were not
    // inlined here and cost more than the arithmetic (callgrind: 146 instructions for
    // two ints).
    macro_rules! lanes {
        ($ty:ty, $f:expr) => {{
            const W: usize = std::mem::size_of::<$ty>();
            if len % W != 0 {
                return false;
            }
            let f = $f;
            let mut i = 0;
            while i < len {
                let x = <$ty>::from_ne_bytes(a[i..i + W].try_into().expect("an element"));
                let y = <$ty>::from_ne_bytes(b[i..i + W].try_into().expect("an element"));
                let v: $ty = f(x, y);
                out[i..i + W].copy_from_slice(&v.to_ne_bytes());
                i += W;
            }
            true
        }};
    }
    macro_rules! int_ops {
        ($ty:ty) => {
            match p {
                PredefOp::Sum => lanes!($ty, |x: $ty, y: $ty| x.wrapping_add(y)),
                PredefOp::Prod => lanes!($ty, |x: $ty, y: $ty| x.wrapping_mul(y)),
                PredefOp::Max => lanes!($ty, |x: $ty, y: $ty| if y > x { y } else { x }),
                PredefOp::Min => lanes!($ty, |x: $ty, y: $ty| if y < x { y } else { x }),
                _ => false,
            }
        };
    }
    macro_rules! float_ops {
        ($ty:ty) => {
            match p {
                PredefOp::Sum => lanes!($ty, |x: $ty, y: $ty| x + y),
                PredefOp::Prod => lanes!($ty, |x: $ty, y: $ty| x * y),
                PredefOp::Max => lanes!($ty, |x: $ty, y: $ty| if y > x { y } else { x }),
                PredefOp::Min => lanes!($ty, |x: $ty, y: $ty| if y < x { y } else { x }),
                _ => false,
            }
        };
    }
    match t {
        Basic::I32 => int_ops!(i32),
        Basic::I64 => int_ops!(i64),
        Basic::U32 => int_ops!(u32),
        Basic::U64 => int_ops!(u64),
        Basic::F32 => float_ops!(f32),
        Basic::F64 => float_ops!(f64),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Operands with the cases where kernels can differ: wrap-around, signs, NaNs with
    /// distinct payloads, signed zeros, infinities.
    fn operands(t: Basic) -> (Vec<u8>, Vec<u8>) {
        let mut a = Vec::new();
        let mut b = Vec::new();
        match t {
            Basic::I32 | Basic::U32 => {
                for (x, y) in [(i32::MAX, 1i32), (-5, 7), (i32::MIN, -1), (3, 3), (0, -9)] {
                    a.extend(x.to_ne_bytes());
                    b.extend(y.to_ne_bytes());
                }
            }
            Basic::I64 | Basic::U64 => {
                for (x, y) in [(i64::MAX, 2i64), (-5, 7), (i64::MIN, -1), (1 << 40, 3)] {
                    a.extend(x.to_ne_bytes());
                    b.extend(y.to_ne_bytes());
                }
            }
            Basic::F32 => {
                let nan1 = f32::from_bits(0x7fc0_0001);
                let nan2 = f32::from_bits(0xffc0_0002);
                for (x, y) in [
                    (nan1, nan2),
                    (nan1, 1.5),
                    (2.0, nan2),
                    (-0.0, 0.0),
                    (f32::INFINITY, -3.25),
                ] {
                    a.extend(x.to_ne_bytes());
                    b.extend(y.to_ne_bytes());
                }
            }
            _ => {
                let nan1 = f64::from_bits(0x7ff8_0000_0000_0001);
                let nan2 = f64::from_bits(0xfff8_0000_0000_0002);
                for (x, y) in [(nan1, nan2), (nan1, 1.5), (2.0, nan2), (-0.0, 0.0)] {
                    a.extend(x.to_ne_bytes());
                    b.extend(y.to_ne_bytes());
                }
            }
        }
        (a, b)
    }

    fn is_nan(t: Basic, b: &[u8]) -> bool {
        match t {
            Basic::F32 => f32::from_ne_bytes(b.try_into().unwrap()).is_nan(),
            Basic::F64 => f64::from_ne_bytes(b.try_into().unwrap()).is_nan(),
            _ => false,
        }
    }

    #[test]
    fn small_kernels_match_the_general_ones_bit_for_bit() {
        let types = [
            Basic::I32,
            Basic::I64,
            Basic::U32,
            Basic::U64,
            Basic::F32,
            Basic::F64,
        ];
        let ops = [PredefOp::Sum, PredefOp::Prod, PredefOp::Max, PredefOp::Min];
        for t in types {
            let (a, b) = operands(t);
            let n = a.len() / op::elem_size(t, op::Layout::Packed);
            for p in ops {
                let mut r = vec![0u8; b.len()];
                assert!(small(p, t, &a, &b, &mut r), "{p:?} {t:?} not taken");
                let mut want = b.clone();
                op::apply(p, t, &a, &mut want, n).unwrap();
                let w = op::elem_size(t, op::Layout::Packed);
                for (got, want) in r[..b.len()].chunks(w).zip(want.chunks(w)) {
                    // Which payload a NaN operation keeps is the compiler's choice (it may
                    // swap the operands of a commutative float op): NaN for NaN is all
                    // that is defined there.
                    if !(is_nan(t, got) && is_nan(t, want)) {
                        assert_eq!(got, want, "{p:?} {t:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn small_kernels_leave_other_pairs_and_sizes_to_the_general_ones() {
        let a = [1u8; 8];
        let mut o = [7u8; 8];
        assert!(!small(PredefOp::Band, Basic::I32, &a, &a, &mut o));
        assert!(!small(PredefOp::Sum, Basic::I16, &a, &a, &mut o));
        assert!(!small(PredefOp::Sum, Basic::PairF64I32, &a, &a, &mut o));
        assert!(!small(
            PredefOp::Sum,
            Basic::I64,
            &a[..6],
            &a[..6],
            &mut o[..6]
        ));
        assert!(!small(PredefOp::Sum, Basic::I32, &a, &a[..4], &mut o));
        assert_eq!(o, [7u8; 8], "nothing written when refused");
        let big = [1u8; SMALL_MAX + 8];
        let mut ob = [0u8; SMALL_MAX + 8];
        assert!(!small(PredefOp::Sum, Basic::I32, &big, &big, &mut ob));
    }
}
