//! MINLOC / MAXLOC on every pair type and layout (split from `tests` to keep files short).

use super::tests::{ld, run, run_layout};
use super::*;
use crate::datatype::Basic::{self, *};
use PredefOp::*;

/// Builds pair elements of `t` in `layout` from (value, index) given as f64 / i64, with
/// `pad` in every padding byte.
fn pairs_pad(t: Basic, layout: Layout, v: &[(f64, i64)], pad: u8) -> Vec<u8> {
    let g = pairs::geometry(t, layout).unwrap();
    let mut out = vec![pad; g.stride * v.len()];
    for (k, &(val, idx)) in v.iter().enumerate() {
        let e = &mut out[k * g.stride..(k + 1) * g.stride];
        let (vb, ib): (Vec<u8>, Vec<u8>) = match t {
            PairF32I32 => (
                (val as f32).to_ne_bytes().into(),
                (idx as i32).to_ne_bytes().into(),
            ),
            PairF64I32 => (val.to_ne_bytes().into(), (idx as i32).to_ne_bytes().into()),
            PairI64I32 => (
                (val as i64).to_ne_bytes().into(),
                (idx as i32).to_ne_bytes().into(),
            ),
            PairI16I32 => (
                (val as i16).to_ne_bytes().into(),
                (idx as i32).to_ne_bytes().into(),
            ),
            PairI32I32 => (
                (val as i32).to_ne_bytes().into(),
                (idx as i32).to_ne_bytes().into(),
            ),
            PairF80I32 => (ld(val)[..10].into(), (idx as i32).to_ne_bytes().into()),
            PairF32F32 => (
                (val as f32).to_ne_bytes().into(),
                (idx as f32).to_ne_bytes().into(),
            ),
            PairF64F64 => (val.to_ne_bytes().into(), (idx as f64).to_ne_bytes().into()),
            _ => unreachable!(),
        };
        e[..vb.len()].copy_from_slice(&vb);
        e[g.ioff..g.ioff + ib.len()].copy_from_slice(&ib);
    }
    out
}

fn pairs(t: Basic, layout: Layout, v: &[(f64, i64)]) -> Vec<u8> {
    pairs_pad(t, layout, v, 0xee)
}

#[test]
fn minloc_maxloc_every_pair_type_and_layout() {
    let vals = [-3.0, 0.0, 2.0, 2.0, 7.0, -100.0];
    let mut a = Vec::new();
    let mut c = Vec::new();
    for (i, &x) in vals.iter().enumerate() {
        for (j, &y) in vals.iter().enumerate() {
            // Index order varies so that ties check "smaller index" both ways.
            a.push((x, (i * 7 % 5) as i64));
            c.push((y, (j * 3 % 4) as i64 - 1));
        }
    }
    let types = [
        PairF32I32, PairF64I32, PairI64I32, PairI16I32, PairI32I32, PairF32F32, PairF64F64,
    ];
    #[cfg(target_arch = "x86_64")]
    let types = [&types[..], &[PairF80I32]].concat();
    for &t in &types {
        for layout in [Layout::Packed, Layout::Memory] {
            for op in [Minloc, Maxloc] {
                // Different padding in the two buffers: the result must keep inout's.
                let got = run_layout(
                    op,
                    t,
                    &pairs_pad(t, layout, &a, 0x11),
                    &pairs_pad(t, layout, &c, 0x77),
                    layout,
                );
                let want: Vec<(f64, i64)> = a
                    .iter()
                    .zip(&c)
                    .map(|(&(u, i), &(v, j))| {
                        if u == v {
                            (u, i.min(j))
                        } else if (u < v) == (op == Minloc) {
                            (u, i)
                        } else {
                            (v, j)
                        }
                    })
                    .collect();
                let want = pairs_pad(t, layout, &want, 0x77);
                assert_eq!(got, want, "{} {t:?} {layout:?}", op.name());
            }
        }
    }
}

#[test]
fn minloc_ties_take_the_smaller_index() {
    let two = |v: &[(i32, i32)]| -> Vec<u8> {
        v.iter()
            .flat_map(|&(x, i)| [x.to_ne_bytes(), i.to_ne_bytes()].concat())
            .collect()
    };
    let a = two(&[(5, 9), (5, 1), (4, 9), (6, 0)]);
    let c = two(&[(5, 3), (5, 2), (5, 0), (5, 7)]);
    assert_eq!(
        run(Minloc, PairI32I32, &a, &c),
        two(&[(5, 3), (5, 1), (4, 9), (5, 7)])
    );
    assert_eq!(
        run(Maxloc, PairI32I32, &a, &c),
        two(&[(5, 3), (5, 1), (5, 0), (6, 0)])
    );
    // NaN never compares: it is neither taken nor replaced.
    let fi = |v: &[(f64, i32)]| {
        pairs(
            PairF64I32,
            Layout::Packed,
            &v.iter().map(|&(x, i)| (x, i as i64)).collect::<Vec<_>>(),
        )
    };
    let a = fi(&[(f64::NAN, 0), (1.0, 5)]);
    let c = fi(&[(1.0, 4), (f64::NAN, 6)]);
    let got = run(Minloc, PairF64I32, &a, &c);
    assert_eq!(&got[..12], &fi(&[(1.0, 4)])[..]);
    assert!(f64::from_ne_bytes(got[12..20].try_into().unwrap()).is_nan());
    assert_eq!(i32::from_ne_bytes(got[20..24].try_into().unwrap()), 6);
}

#[test]
fn replace_on_pairs_keeps_memory_padding() {
    let a = pairs(PairI16I32, Layout::Memory, &[(1.0, 2), (3.0, 4)]);
    let mut c = pairs(PairI16I32, Layout::Memory, &[(9.0, 9), (9.0, 9)]);
    c[2] = 0x42; // padding between the short and the int
    let got = run_layout(Replace, PairI16I32, &a, &c, Layout::Memory);
    assert_eq!(got[2], 0x42);
    assert_eq!(&got[..2], &1i16.to_ne_bytes());
    assert_eq!(&got[12..16], &4i32.to_ne_bytes());
}
