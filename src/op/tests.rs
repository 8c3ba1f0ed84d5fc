//! Every allowed (op, type) pair against a plain serial computation, on unaligned buffers.

use super::half::{from_f32, to_f32};
use super::*;
use crate::datatype::Basic::{self, *};
use PredefOp::*;

/// Every `Basic` kind (the match in `group` makes a new kind a compile error there).
const ALL_BASIC: [Basic; 30] = [
    Char, WChar, Byte, Packed, Marker, Bool, Logical, I8, I16, I32, I64, U8, U16, U32, U64, F16,
    F32, F64, F80, C32, C64, C80, PairF32I32, PairF64I32, PairI64I32, PairI16I32, PairI32I32,
    PairF80I32, PairF32F32, PairF64F64,
];

/// Runs `op` with both buffers copied to odd addresses (never aligned for any type) and
/// returns the resulting inout bytes. Checks that the bytes after the data are untouched.
pub(super) fn run_layout(
    op: PredefOp,
    t: Basic,
    inp: &[u8],
    inout: &[u8],
    layout: Layout,
) -> Vec<u8> {
    let size = elem_size(t, layout);
    assert!(size > 0 && inp.len() == inout.len() && inp.len() % size == 0);
    let count = inp.len() / size;
    let mut a = vec![0x5au8; inp.len() + 3];
    a[3..].copy_from_slice(inp);
    let mut c = vec![0xa5u8; inout.len() + 9];
    c[1..1 + inout.len()].copy_from_slice(inout);
    apply_layout(op, t, &a[3..], &mut c[1..], count, layout)
        .unwrap_or_else(|e| panic!("{} on {t:?}: {e}", op.name()));
    assert!(
        c[1 + inout.len()..].iter().all(|&b| b == 0xa5),
        "wrote past the end"
    );
    assert_eq!(c[0], 0xa5, "wrote before the start");
    c[1..1 + inout.len()].to_vec()
}

pub(super) fn run(op: PredefOp, t: Basic, inp: &[u8], inout: &[u8]) -> Vec<u8> {
    run_layout(op, t, inp, inout, Layout::Packed)
}

#[test]
fn allowed_follows_the_standard_table() {
    // Byte: bitwise only.
    for op in [Max, Min, Sum, Prod, Land, Lor, Lxor, Minloc, Maxloc] {
        assert!(!allowed(op, Byte), "{} on MPI_BYTE", op.name());
    }
    for op in [Band, Bor, Bxor] {
        assert!(allowed(op, Byte));
    }
    // Floats: no bitwise ops; the logical ones as MPICH allows them.
    for t in [F16, F32, F64, F80] {
        for op in [Band, Bor, Bxor, Minloc, Maxloc] {
            assert!(!allowed(op, t), "{} on {t:?}", op.name());
        }
        for op in [Max, Min, Sum, Prod, Land, Lor, Lxor] {
            assert!(allowed(op, t), "{} on {t:?}", op.name());
        }
    }
    // Complex: SUM and PROD only.
    for t in [C32, C64, C80] {
        assert!(allowed(Sum, t) && allowed(Prod, t));
        assert!(!allowed(Max, t) && !allowed(Min, t) && !allowed(Land, t));
    }
    // Logical (LOGICAL, C _Bool): logical ops only.
    for t in [Logical, Bool] {
        assert!(allowed(Land, t) && allowed(Lor, t) && allowed(Lxor, t));
        assert!(!allowed(Sum, t) && !allowed(Max, t) && !allowed(Band, t));
    }
    // Integers (and MPI_CHAR, as MPICH): everything element-wise.
    for t in [Char, I8, I16, I32, I64, U8, U16, U32, U64] {
        for op in [Max, Min, Sum, Prod, Land, Lor, Lxor, Band, Bor, Bxor] {
            assert!(allowed(op, t));
        }
        assert!(!allowed(Minloc, t) && !allowed(Maxloc, t));
    }
    // MPI_WCHAR, MPI_PACKED, MPI_LB/UB: nothing.
    for t in [WChar, Packed, Marker] {
        for op in [
            Max, Min, Sum, Prod, Land, Lor, Lxor, Band, Bor, Bxor, Minloc, Maxloc,
        ] {
            assert!(!allowed(op, t));
        }
    }
    // Pairs: MINLOC/MAXLOC only.
    for t in [
        PairF32I32, PairF64I32, PairI64I32, PairI16I32, PairI32I32, PairF80I32,
    ] {
        assert!(allowed(Minloc, t) && allowed(Maxloc, t));
        assert!(!allowed(Sum, t) && !allowed(Max, t) && !allowed(Band, t));
    }
    // Accumulate-only ops: every type.
    for t in ALL_BASIC {
        assert!(allowed(Replace, t) && allowed(NoOp, t));
    }
    assert!(Replace.is_accumulate_only() && NoOp.is_accumulate_only());
    assert!(!Sum.is_accumulate_only());
}

#[test]
fn apply_runs_exactly_the_allowed_pairs() {
    for layout in [Layout::Packed, Layout::Memory] {
        for t in ALL_BASIC {
            let n = 3 * elem_size(t, layout);
            for op in PredefOp::ALL {
                let inp = vec![0u8; n];
                let mut inout = vec![0u8; n];
                let r = apply_layout(op, t, &inp, &mut inout, 3, layout);
                if allowed(op, t) {
                    assert_eq!(r, Ok(()), "{} on {t:?}", op.name());
                } else {
                    assert_eq!(r, Err(OpError::NotAllowed { op, t }));
                    let e: crate::error::MpiError = r.unwrap_err().into();
                    assert_eq!(e.class, crate::error::class::ERR_OP);
                }
            }
        }
    }
}

#[test]
fn short_buffers_and_empty_counts() {
    let mut out = [0u8; 8];
    let r = apply(Sum, I32, &[0u8; 4], &mut out, 2);
    assert_eq!(
        r,
        Err(OpError::ShortBuffer {
            need: 8,
            inp: 4,
            inout: 8
        })
    );
    let r = apply(Sum, I64, &[0u8; 8], &mut out, usize::MAX);
    assert!(matches!(r, Err(OpError::ShortBuffer { .. })));
    assert_eq!(apply(Sum, F64, &[], &mut [], 0), Ok(()));
    // Only `count` elements are touched even when the buffers are longer.
    let mut out = [1u8, 1, 1, 1];
    apply(Sum, U8, &[1, 1, 1, 1], &mut out, 2).unwrap();
    assert_eq!(out, [2, 2, 1, 1]);
}

// ---------------------------------------------------------------------------------------
// Integers: every op over every pair of interesting values, reference in i128/u128.

macro_rules! int_case {
    ($name:ident, $t:ty, $basic:expr) => {
        #[test]
        fn $name() {
            let vals: Vec<$t> = [
                <$t>::MIN as i128,
                <$t>::MAX as i128,
                <$t>::MIN as i128 + 1,
                <$t>::MAX as i128 - 1,
                0,
                1,
                2,
                3,
                7,
                -1,
                -2,
                -100,
                100,
                0x55,
            ]
            .iter()
            .map(|&v| v as $t)
            .collect();
            let mut inp = Vec::new();
            let mut inout = Vec::new();
            for &a in &vals {
                for &c in &vals {
                    inp.extend_from_slice(&a.to_ne_bytes());
                    inout.extend_from_slice(&c.to_ne_bytes());
                }
            }
            let size = std::mem::size_of::<$t>();
            let b = |x: bool| x as $t;
            for op in [Max, Min, Sum, Prod, Land, Lor, Lxor, Band, Bor, Bxor] {
                let got = run(op, $basic, &inp, &inout);
                for (k, chunk) in got.chunks_exact(size).enumerate() {
                    let g = <$t>::from_ne_bytes(chunk.try_into().unwrap());
                    let (a, c) = (vals[k / vals.len()], vals[k % vals.len()]);
                    // Wrapping via the low bits of a wide computation.
                    let (wa, wc) = (a as i128 as u128, c as i128 as u128);
                    let want: $t = match op {
                        Max => std::cmp::max(a, c),
                        Min => std::cmp::min(a, c),
                        Sum => wa.wrapping_add(wc) as $t,
                        Prod => wa.wrapping_mul(wc) as $t,
                        Land => b(a != 0 && c != 0),
                        Lor => b(a != 0 || c != 0),
                        Lxor => b((a != 0) ^ (c != 0)),
                        Band => (wa & wc) as $t,
                        Bor => (wa | wc) as $t,
                        Bxor => (wa ^ wc) as $t,
                        _ => unreachable!(),
                    };
                    assert_eq!(g, want, "{} on {} {a} {c}", op.name(), stringify!($t));
                }
            }
        }
    };
}

int_case!(ints_i8, i8, I8);
int_case!(ints_char, i8, Char);
int_case!(ints_i16, i16, I16);
int_case!(ints_i32, i32, I32);
int_case!(ints_i64, i64, I64);
int_case!(ints_u8, u8, U8);
int_case!(ints_u16, u16, U16);
int_case!(ints_u32, u32, U32);
int_case!(ints_u64, u64, U64);

#[test]
fn integer_overflow_wraps() {
    let got = run(Sum, I32, &i32::MAX.to_ne_bytes(), &1i32.to_ne_bytes());
    assert_eq!(i32::from_ne_bytes(got[..].try_into().unwrap()), i32::MIN);
    let got = run(Prod, U8, &[16], &[16]);
    assert_eq!(got, [0]);
    let got = run(Sum, U64, &u64::MAX.to_ne_bytes(), &2u64.to_ne_bytes());
    assert_eq!(u64::from_ne_bytes(got[..].try_into().unwrap()), 1);
}

#[test]
fn logical_types_give_zero_or_one() {
    // C _Bool: one byte; Fortran LOGICAL: four bytes, any nonzero is true.
    let vals = [0u8, 1, 2, 0xff];
    let (mut a, mut c) = (Vec::new(), Vec::new());
    for &x in &vals {
        for &y in &vals {
            a.push(x);
            c.push(y);
        }
    }
    for (op, f) in [
        (Land, (|x, y| x && y) as fn(bool, bool) -> bool),
        (Lor, |x, y| x || y),
        (Lxor, |x, y| x != y),
    ] {
        let got = run(op, Bool, &a, &c);
        for k in 0..a.len() {
            assert_eq!(got[k], f(a[k] != 0, c[k] != 0) as u8, "{}", op.name());
        }
        let wide = |v: &[u8]| -> Vec<u8> {
            v.iter()
                // Nonzero patterns whose low byte may be zero: truth is the whole word.
                .flat_map(|&x| {
                    match x {
                        0 => 0i32,
                        1 => 1,
                        2 => -1,
                        _ => 0x100,
                    }
                    .to_ne_bytes()
                })
                .collect()
        };
        let got = run(op, Logical, &wide(&a), &wide(&c));
        for k in 0..a.len() {
            let g = i32::from_ne_bytes(got[4 * k..4 * k + 4].try_into().unwrap());
            assert_eq!(g, f(a[k] != 0, c[k] != 0) as i32, "{} LOGICAL", op.name());
        }
    }
}

#[test]
fn logical_words_of_another_compiler() {
    // Intel Fortran's .TRUE. is -1: a word is false only when it equals .FALSE., and the
    // results are the compiler's own words.
    let (t, f) = (-1i32, 0i32);
    let words = |v: &[i32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_ne_bytes()).collect() };
    let a = words(&[0, 0, -1, -1, 1]);
    let c = words(&[0, -1, 0, -1, 0]);
    for (op, want) in [
        (Land, [f, f, f, t, f]),
        (Lor, [f, t, t, t, t]),
        (Lxor, [f, t, t, f, t]),
    ] {
        let mut io = c.clone();
        assert!(super::kernels::logical_with(op, (t, f), &a, &mut io));
        assert_eq!(io, words(&want), "{}", op.name());
    }
    assert!(!super::kernels::logical_with(
        Sum,
        (t, f),
        &a,
        &mut c.clone()
    ));
}

#[test]
fn byte_bit_ops() {
    let a = [0b1100_1010u8, 0xff, 0x00, 0x0f];
    let c = [0b1010_0110u8, 0x00, 0x00, 0xf0];
    assert_eq!(run(Band, Byte, &a, &c), [0b1000_0010, 0, 0, 0]);
    assert_eq!(run(Bor, Byte, &a, &c), [0b1110_1110, 0xff, 0, 0xff]);
    assert_eq!(run(Bxor, Byte, &a, &c), [0b0110_1100, 0xff, 0, 0xff]);
}

#[test]
fn replace_and_no_op_on_every_kind() {
    for t in [Char, WChar, Byte, Packed, Bool, I16, F64, F80, C80, Logical] {
        let n = 3 * elem_size(t, Layout::Packed);
        let a: Vec<u8> = (0..n).map(|i| i as u8).collect();
        let c: Vec<u8> = (0..n).map(|i| 200 - i as u8).collect();
        assert_eq!(run(Replace, t, &a, &c), a, "{t:?}");
        assert_eq!(run(NoOp, t, &a, &c), c, "{t:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Floating point.

macro_rules! float_case {
    ($name:ident, $t:ty, $basic:expr) => {
        #[test]
        fn $name() {
            let vals: [$t; 14] = [
                0.0,
                -0.0,
                1.0,
                -1.5,
                3.25,
                1e-30,
                -7e20,
                <$t>::MAX,
                <$t>::MIN,
                <$t>::MIN_POSITIVE / 4.0, // subnormal
                <$t>::INFINITY,
                <$t>::NEG_INFINITY,
                <$t>::NAN,
                0.1,
            ];
            let mut inp = Vec::new();
            let mut inout = Vec::new();
            for &a in &vals {
                for &c in &vals {
                    inp.extend_from_slice(&a.to_ne_bytes());
                    inout.extend_from_slice(&c.to_ne_bytes());
                }
            }
            let size = std::mem::size_of::<$t>();
            for op in [Max, Min, Sum, Prod] {
                let got = run(op, $basic, &inp, &inout);
                for (k, chunk) in got.chunks_exact(size).enumerate() {
                    let g = <$t>::from_ne_bytes(chunk.try_into().unwrap());
                    let (a, c) = (vals[k / vals.len()], vals[k % vals.len()]);
                    // MPICH: inout = inout > in ? inout : in (a NaN in `in` wins).
                    let want = match op {
                        Max => {
                            if c > a {
                                c
                            } else {
                                a
                            }
                        }
                        Min => {
                            if c < a {
                                c
                            } else {
                                a
                            }
                        }
                        Sum => a + c,
                        Prod => a * c,
                        _ => unreachable!(),
                    };
                    if want.is_nan() {
                        assert!(g.is_nan(), "{} {a} {c}: {g}", op.name());
                    } else {
                        assert_eq!(g.to_bits(), want.to_bits(), "{} {a} {c}", op.name());
                    }
                }
            }
            // The NaN rule spelled out.
            let one = (1.0 as $t).to_ne_bytes();
            let nan = <$t>::NAN.to_ne_bytes();
            let g = |v: Vec<u8>| <$t>::from_ne_bytes(v[..].try_into().unwrap());
            assert!(g(run(Max, $basic, &nan, &one)).is_nan());
            assert_eq!(g(run(Max, $basic, &one, &nan)), 1.0);
            assert_eq!(
                g(run(
                    Sum,
                    $basic,
                    &<$t>::MAX.to_ne_bytes(),
                    &<$t>::MAX.to_ne_bytes()
                )),
                <$t>::INFINITY
            );
        }
    };
}

float_case!(floats_f32, f32, F32);
float_case!(floats_f64, f64, F64);

#[test]
fn half_conversion_round_trips_every_value() {
    for h in 0..=u16::MAX {
        let f = to_f32(h);
        if (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0 {
            assert!(f.is_nan(), "{h:#x}");
            assert!(to_f32(from_f32(f)).is_nan());
        } else {
            assert_eq!(from_f32(f), h, "{h:#x} -> {f}");
        }
    }
}

/// The f16 nearest to `x` (ties to even) by brute force over all finite f16 values.
fn nearest_f16(x: f32) -> u16 {
    let x = x as f64;
    let mut best: Option<(f64, u16)> = None;
    for h in 0..=u16::MAX {
        let v = to_f32(h) as f64;
        if !v.is_finite() || (h == 0x8000 && x >= 0.0) || (h == 0 && x < 0.0) {
            continue;
        }
        let d = (v - x).abs();
        best = match best {
            Some((bd, bh)) if bd < d || (bd == d && bh & 1 == 0) => Some((bd, bh)),
            _ => Some((d, h)),
        };
    }
    let (d, h) = best.unwrap();
    // Past the largest finite value by half an ulp (2^4 at 65504) rounds to infinity.
    if d >= 16.0 {
        return if x > 0.0 { 0x7c00 } else { 0xfc00 };
    }
    h
}

#[test]
fn half_rounding_is_nearest_even() {
    let mut bits = 0x3300_0000u32; // ~3e-8, below the smallest f16 subnormal
    let mut n = 0;
    while bits < 0x4790_0000 {
        // ~73728, past the largest f16
        for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
            assert_eq!(from_f32(x), nearest_f16(x), "{x:e}");
        }
        bits += 0x3_fff1; // an odd stride visits varied low bits
        n += 1;
    }
    assert!(n > 100);
    // Exact ties.
    assert_eq!(from_f32(1.0 + 1.0 / 2048.0), 0x3c00); // tie, even down
    assert_eq!(from_f32(1.0 + 3.0 / 2048.0), 0x3c02); // tie, odd up
    assert_eq!(from_f32(65520.0), 0x7c00); // tie at MAX + half ulp: to infinity
}

#[test]
fn half_float_ops() {
    let h = |v: &[u16]| -> Vec<u8> { v.iter().flat_map(|x| x.to_ne_bytes()).collect() };
    let back = |b: Vec<u8>| -> Vec<u16> {
        b.chunks_exact(2)
            .map(|c| u16::from_ne_bytes([c[0], c[1]]))
            .collect()
    };
    // 1+2, max+max, sub+sub, 1 + 2^-11 (tie, even), 1.0009765625 + 2^-11 (tie, odd up)
    let a = h(&[0x3c00, 0x7bff, 0x0001, 0x1000, 0x1000, 0xc000]);
    let c = h(&[0x4000, 0x7bff, 0x0001, 0x3c00, 0x3c01, 0x3c00]);
    assert_eq!(
        back(run(Sum, F16, &a, &c)),
        [0x4200, 0x7c00, 0x0002, 0x3c00, 0x3c02, 0xbc00]
    );
    // 3 * -0.5 = -1.5
    assert_eq!(back(run(Prod, F16, &h(&[0x4200]), &h(&[0xb800]))), [0xbe00]);
    // max(-2, 1) = 1; min(-2, 1) = -2; NaN in `in` wins.
    let a = h(&[0xc000, 0x7e00, 0x3c00]);
    let c = h(&[0x3c00, 0x3c00, 0x7e00]);
    assert_eq!(back(run(Max, F16, &a, &c)), [0x3c00, 0x7e00, 0x3c00]);
    assert_eq!(back(run(Min, F16, &a, &c)), [0xc000, 0x7e00, 0x3c00]);
}

#[test]
fn complex_sum_and_prod() {
    let c32 = |v: &[(f32, f32)]| -> Vec<u8> {
        v.iter()
            .flat_map(|&(r, i)| [r.to_ne_bytes(), i.to_ne_bytes()].concat())
            .collect()
    };
    let a = [(1.0f32, 2.0), (-1.5, 0.5), (0.0, -1.0), (1e30, 1e30)];
    let c = [(3.0f32, 4.0), (2.0, -4.0), (0.0, -1.0), (1e30, -1e30)];
    let got = run(Prod, C32, &c32(&a), &c32(&c));
    let mut want = Vec::new();
    for k in 0..a.len() {
        let ((ar, ai), (cr, ci)) = (a[k], c[k]);
        want.push((ar * cr - ai * ci, ar * ci + ai * cr));
    }
    // The last product overflows: inf - inf is a NaN whose sign bit depends on the order
    // of operations the compiler picks, so compare it as "a NaN".
    assert_eq!(&got[..28], &c32(&want)[..28]);
    assert!(f32::from_ne_bytes(got[24..28].try_into().unwrap()).is_infinite());
    assert!(f32::from_ne_bytes(got[28..32].try_into().unwrap()).is_nan());
    assert_eq!(&got[..16], &c32(&[(-5.0, 10.0), (-1.0, 7.0)])[..]);
    let got = run(Sum, C32, &c32(&a), &c32(&c));
    assert_eq!(&got[..16], &c32(&[(4.0, 6.0), (0.5, -3.5)])[..]);

    let c64 = |v: &[(f64, f64)]| -> Vec<u8> {
        v.iter()
            .flat_map(|&(r, i)| [r.to_ne_bytes(), i.to_ne_bytes()].concat())
            .collect()
    };
    let a = [(1.0f64, 2.0), (0.1, -0.7)];
    let c = [(3.0f64, 4.0), (-2.5, 1e-300)];
    let got = run(Prod, C64, &c64(&a), &c64(&c));
    let (ar, ai, cr, ci) = (0.1f64, -0.7f64, -2.5f64, 1e-300f64);
    assert_eq!(
        got,
        c64(&[(-5.0, 10.0), (ar * cr - ai * ci, ar * ci + ai * cr)])
    );
    let got = run(Sum, C64, &c64(&a), &c64(&c));
    assert_eq!(got, c64(&[(4.0, 6.0), (0.1 + -2.5, -0.7 + 1e-300)]));
}

// ---------------------------------------------------------------------------------------
// x87 long double.

/// The 16-byte long double slot holding `sign · mant · 2^(exp - 16383 - 63)`, padding 0.
fn ld_raw(sign: bool, exp: u16, mant: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&mant.to_le_bytes());
    b[8..10].copy_from_slice(&((exp & 0x7fff) | if sign { 0x8000 } else { 0 }).to_le_bytes());
    b
}

/// The long double equal to `v` (exact: every f64 is an x87 value).
pub(super) fn ld(v: f64) -> [u8; 16] {
    let bits = v.to_bits();
    let sign = bits >> 63 == 1;
    let e = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    match (e, frac) {
        (0, 0) => ld_raw(sign, 0, 0),
        (0x7ff, 0) => ld_raw(sign, 0x7fff, 1 << 63),
        (0x7ff, _) => ld_raw(sign, 0x7fff, 0xc000_0000_0000_0000),
        (0, f) => {
            let p = 63 - f.leading_zeros() as i32; // top set bit
            ld_raw(sign, (p - 1074 + 16383) as u16, f << (63 - p))
        }
        (e, f) => ld_raw(sign, (e - 1023 + 16383) as u16, (1 << 63) | (f << 11)),
    }
}

fn is_ld_nan(b: &[u8]) -> bool {
    let exp = u16::from_le_bytes([b[8], b[9]]) & 0x7fff;
    let mant = u64::from_le_bytes(b[..8].try_into().unwrap());
    exp == 0x7fff && mant << 1 != 0
}

#[cfg(target_arch = "x86_64")]
#[test]
fn long_double_arithmetic_is_exact_x87() {
    let cat = |v: &[[u8; 16]]| v.concat();
    let one = ld(1.0);
    let e63 = ld_raw(false, 16383 - 63, 1 << 63); // 2^-63
    let e64 = ld_raw(false, 16383 - 64, 1 << 63); // 2^-64
    let one_p63 = ld_raw(false, 16383, (1 << 63) | 1); // 1 + 2^-63 (not an f64)
    let a = cat(&[
        ld(1.5),
        ld(-0.25),
        e63,
        e64,
        e64,
        ld(f64::MAX),
        ld(f64::INFINITY),
    ]);
    let c = cat(&[
        ld(2.25),
        ld(0.25),
        one,
        one,
        one_p63,
        ld(f64::MAX),
        ld(f64::NEG_INFINITY),
    ]);
    let got = run(Sum, F80, &a, &c);
    let want = [
        ld(3.75),
        ld(0.0),
        one_p63,
        one,                                                // 1 + 2^-64: tie, even down
        ld_raw(false, 16383, (1 << 63) | 2),                // 1 + 2^-63 + 2^-64: tie, odd up
        ld_raw(false, 1023 + 16384, 0xffff_ffff_ffff_f800), // 2·MAX, fine in x87 range
    ];
    assert_eq!(&got[..96], &cat(&want)[..]);
    assert!(is_ld_nan(&got[96..]), "inf + -inf");

    // (1 + 2^-32)^2 = 1 + 2^-31 + 2^-64: the 2^-64 is half an ulp, ties to even (down).
    let x = ld(1.0 + 2f64.powi(-32));
    let got = run(
        Prod,
        F80,
        &cat(&[x, ld(-3.0), ld(0.0)]),
        &cat(&[x, ld(0.5), ld(f64::INFINITY)]),
    );
    assert_eq!(&got[..16], &ld(1.0 + 2f64.powi(-31)));
    assert_eq!(&got[16..32], &ld(-1.5));
    assert!(is_ld_nan(&got[32..]), "0 * inf");

    // MAX/MIN with the MPICH NaN rule; equal values with different signs of zero.
    let nan = ld(f64::NAN);
    let a = cat(&[ld(-2.0), one_p63, nan, one, ld(-0.0)]);
    let c = cat(&[ld(1.0), one, one, nan, ld(0.0)]);
    let got = run(Max, F80, &a, &c);
    assert_eq!(&got[..32], &cat(&[ld(1.0), one_p63])[..]);
    assert!(is_ld_nan(&got[32..48]));
    assert_eq!(&got[48..64], &one);
    assert_eq!(&got[64..], &ld(-0.0)); // not greater: in wins
    let got = run(Min, F80, &a, &c);
    assert_eq!(&got[..32], &cat(&[ld(-2.0), one])[..]);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn long_double_padding_is_left_alone() {
    let mut a = ld(1.0);
    let mut c = ld(2.0);
    a[10..].fill(0x11);
    c[10..].fill(0x77);
    let got = run(Sum, F80, &a, &c);
    assert_eq!(&got[..10], &ld(3.0)[..10]);
    assert_eq!(&got[10..], &[0x77; 6]);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn long_double_complex() {
    let z = |r: f64, i: f64| [ld(r), ld(i)].concat();
    let a = [z(1.0, 2.0), z(-0.5, 0.25)].concat();
    let c = [z(3.0, 4.0), z(2.0, 8.0)].concat();
    assert_eq!(
        run(Prod, C80, &a, &c),
        [z(-5.0, 10.0), z(-3.0, -3.5)].concat()
    );
    assert_eq!(run(Sum, C80, &a, &c), [z(4.0, 6.0), z(1.5, 8.25)].concat());
}

// ---------------------------------------------------------------------------------------
// Performance of the common case.

#[test]
fn f64_sum_bandwidth() {
    const N: usize = 1 << 20; // bytes
    let inp: Vec<u8> = (0..N / 8).flat_map(|i| (i as f64).to_ne_bytes()).collect();
    let mut inout = vec![0u8; N];
    let reps = 200;
    let t0 = std::time::Instant::now();
    for _ in 0..reps {
        apply(Sum, F64, std::hint::black_box(&inp), &mut inout, N / 8).unwrap();
    }
    let dt = t0.elapsed().as_secs_f64();
    // Bytes moved per element: read in, read inout, write inout.
    let gbs = (3 * N * reps) as f64 / dt / 1e9;
    eprintln!(
        "f64 SUM of 1 MiB: {:.2} GB/s ({:.1} us/call)",
        gbs,
        dt / reps as f64 * 1e6
    );
    let last = f64::from_ne_bytes(inout[N - 8..].try_into().unwrap());
    assert_eq!(last, ((N / 8 - 1) * reps) as f64);
    // A loose floor: only a debug build or a badly broken loop is this slow.
    assert!(gbs > 0.3, "f64 SUM runs at {gbs:.2} GB/s");
}

/// Prints the throughput of the common numeric cases (run with --nocapture); a scalar
/// loop shows up as a type several times slower than its neighbours.
#[test]
fn common_cases_bandwidth_report() {
    const N: usize = 1 << 20;
    let inp = vec![1u8; N];
    let mut inout = vec![1u8; N];
    for t in [I32, I64, U32, U64, F32, F64] {
        let size = elem_size(t, Layout::Packed);
        let mut line = format!("{t:?}:");
        for op in [Sum, Max, Min, Prod] {
            let reps = 100;
            let t0 = std::time::Instant::now();
            for _ in 0..reps {
                apply(op, t, std::hint::black_box(&inp), &mut inout, N / size).unwrap();
            }
            let gbs = (3 * N * reps) as f64 / t0.elapsed().as_secs_f64() / 1e9;
            line += &format!(" {} {gbs:.1} GB/s", op.name());
        }
        eprintln!("{line}");
    }
}

/// The logical ops on floating-point kinds (an MPICH extension): nonzero (NaN included)
/// is true, either zero is false, the result is 1.0 or 0.0 of the same kind.
#[test]
fn logical_ops_on_floats() {
    // 1e-30 is a nonzero f32 and x87 value; it flushes to zero in f16, so use 1e-6 there.
    let vals = [0.0f64, -0.0, 1.0, -2.5, f64::NAN, 1e-30];
    let truth = |x: bool| if x { 1.0 } else { 0.0 };
    for op in [Land, Lor, Lxor] {
        let mut want = Vec::new();
        // (in, inout) bytes for F64, F32, F16, F80.
        let mut b: [(Vec<u8>, Vec<u8>); 4] = Default::default();
        for &a in &vals {
            for &c in &vals {
                let (ta, tc) = (a != 0.0 || a.is_nan(), c != 0.0 || c.is_nan());
                want.push(truth(match op {
                    Land => ta && tc,
                    Lor => ta || tc,
                    _ => ta != tc,
                }));
                let h = |x: f64| from_f32(if x == 1e-30 { 1e-6 } else { x as f32 });
                let bytes = |v: f64| -> [Vec<u8>; 4] {
                    [
                        v.to_ne_bytes().to_vec(),
                        (v as f32).to_ne_bytes().to_vec(),
                        h(v).to_ne_bytes().to_vec(),
                        ld(v).to_vec(),
                    ]
                };
                for (p, (x, y)) in b.iter_mut().zip(bytes(a).into_iter().zip(bytes(c))) {
                    p.0.extend_from_slice(&x);
                    p.1.extend_from_slice(&y);
                }
            }
        }
        let g64 = run(op, F64, &b[0].0, &b[0].1);
        let g32 = run(op, F32, &b[1].0, &b[1].1);
        let g16 = run(op, F16, &b[2].0, &b[2].1);
        let g80 = run(op, F80, &b[3].0, &b[3].1);
        for (k, &w) in want.iter().enumerate() {
            let v64 = f64::from_ne_bytes(g64[8 * k..8 * k + 8].try_into().unwrap());
            let v32 = f32::from_ne_bytes(g32[4 * k..4 * k + 4].try_into().unwrap());
            let v16 = to_f32(u16::from_ne_bytes(
                g16[2 * k..2 * k + 2].try_into().unwrap(),
            ));
            assert_eq!(v64.to_bits(), f64::to_bits(w), "{} f64 #{k}", op.name());
            assert_eq!(
                v32.to_bits(),
                (w as f32).to_bits(),
                "{} f32 #{k}",
                op.name()
            );
            assert_eq!(
                v16.to_bits(),
                (w as f32).to_bits(),
                "{} f16 #{k}",
                op.name()
            );
            assert_eq!(
                &g80[16 * k..16 * k + 10],
                &ld(w)[..10],
                "{} f80 #{k}",
                op.name()
            );
        }
    }
}
