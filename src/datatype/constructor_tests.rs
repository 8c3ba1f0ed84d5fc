//! Constructors, layouts and walks checked against hand-computed type maps.

use super::construct::{self, predef};
use super::subarray::{self, *};
use super::{combiner, Builtin, Datatype, TypeRef};
use crate::transport::mem::OwnedBytes;
use std::sync::Arc;

fn d(t: Datatype) -> TypeRef {
    TypeRef::Derived(Arc::new(t))
}

/// The merged pieces (offset, len) of `count` elements.
fn pieces(t: &Datatype, count: u64) -> Vec<(i64, u64)> {
    let mut v = Vec::new();
    t.walk(count, 0, u64::MAX, |o, l, _| v.push((o, l)));
    v
}

/// Byte offsets of every `unit`-sized item of `count` elements, in stream order.
fn items(t: &Datatype, count: u64, unit: u64) -> Vec<i64> {
    let mut v = Vec::new();
    for (o, l) in pieces(t, count) {
        assert_eq!(l % unit, 0);
        for k in 0..l / unit {
            v.push(o + (k * unit) as i64);
        }
    }
    v
}

fn bounds(t: &Datatype) -> (u64, i64, i64, i64, i64) {
    (t.size, t.lb, t.ub, t.true_lb, t.true_ub)
}

/// Pack of any sub-range equals the same slice of the full pack, and unpacking the
/// stream in odd-sized pieces rebuilds exactly the data bytes.
fn check_seek(t: &Datatype, count: u64) {
    let span = (t.true_ub.max(t.ub) + t.extent().abs() * count as i64) as usize + 64;
    let lo = t.true_lb.min(t.lb).min(0);
    let base = (-lo) as usize + 8;
    let src: Vec<u8> = (0..span + base).map(|i| (i * 7 + 3) as u8).collect();
    let total = (t.size * count) as usize;
    let mut full = vec![0u8; total];
    let src = OwnedBytes::new(src);
    let at = src.ptr().offset(base as i64);
    let n = t.pack(at, count, 0, &mut full);
    assert_eq!(n, total);
    for off in 0..total {
        for len in [1usize, 3, 7, 16] {
            let mut part = vec![0u8; len];
            let n = t.pack(at, count, off as u64, &mut part);
            let want = &full[off..(off + len).min(total)];
            assert_eq!(&part[..n], want, "offset {off} len {len}");
        }
    }
    let dst = OwnedBytes::zeroed(src.len());
    let mut off = 0;
    let mut step = 1;
    while off < total {
        let end = (off + step).min(total);
        let n = t.unpack(
            dst.ptr().offset(base as i64),
            count,
            off as u64,
            &full[off..end],
        );
        assert_eq!(n, end - off);
        off = end;
        step = step % 5 + 1;
    }
    let mut again = vec![0u8; total];
    t.pack(dst.ptr().offset(base as i64), count, 0, &mut again);
    assert_eq!(again, full);
}

#[test]
fn contiguous_of_int_is_contiguous() {
    let t = construct::contiguous(5, &predef(Builtin::Int), false).unwrap();
    assert_eq!(bounds(&t), (20, 0, 20, 0, 20));
    assert!(t.is_contiguous());
    assert_eq!(pieces(&t, 3), vec![(0, 60)]);
    assert_eq!(t.contents.ints, vec![5]);
    assert_eq!(t.contents.combiner, combiner::CONTIGUOUS);
}

#[test]
fn vector_layout_bounds_and_seek() {
    let t = construct::vector(3, 2, 4, &predef(Builtin::Int), false).unwrap();
    assert_eq!(bounds(&t), (24, 0, 40, 0, 40));
    assert!(!t.is_contiguous());
    assert_eq!(pieces(&t, 1), vec![(0, 8), (16, 8), (32, 8)]);
    // Element 1 starts one extent (40) later; (32,8)+(40,8) touch and merge.
    assert_eq!(
        pieces(&t, 2),
        vec![(0, 8), (16, 8), (32, 16), (56, 8), (72, 8)]
    );
    assert_eq!(t.contents.ints, vec![3, 2, 4]);
    check_seek(&t, 3);
}

#[test]
fn million_element_vector_is_compact_and_seekable() {
    let t = construct::vector(1_000_000, 1, 2, &predef(Builtin::Double), false).unwrap();
    assert!(
        t.layout.node_count() <= 3,
        "{} nodes",
        t.layout.node_count()
    );
    assert_eq!(t.size, 8_000_000);
    assert_eq!(t.extent(), 16 * 999_999 + 8);
    let mut v = Vec::new();
    t.walk(1, 8 * 500_000 + 3, 10, |o, l, p| v.push((o, l, p)));
    assert_eq!(v, vec![(16 * 500_000 + 3, 5, 0), (16 * 500_001, 5, 5)]);
    let mut n = 0u64;
    t.walk(1, 0, u64::MAX, |_, l, _| {
        assert_eq!(l, 8);
        n += 1
    });
    assert_eq!(n, 1_000_000);
}

#[test]
fn hvector_with_negative_stride() {
    let t = construct::hvector(3, 1, -8, &predef(Builtin::Int), false).unwrap();
    assert_eq!(bounds(&t), (12, -16, 4, -16, 4));
    assert_eq!(pieces(&t, 1), vec![(0, 4), (-8, 4), (-16, 4)]);
    assert_eq!(t.contents.ints, vec![3, 1]);
    assert_eq!(t.contents.addrs, vec![-8]);
    check_seek(&t, 2);
}

#[test]
fn indexed_keeps_type_map_order() {
    let t = construct::indexed(&[2, 1, 0], &[3, 0, 9], &predef(Builtin::Int), false).unwrap();
    assert_eq!(bounds(&t), (12, 0, 20, 0, 20));
    assert_eq!(pieces(&t, 1), vec![(12, 8), (0, 4)]);
    assert_eq!(t.contents.ints, vec![3, 2, 1, 0, 3, 0, 9]);
    check_seek(&t, 2);
}

#[test]
fn regular_hindexed_folds_into_a_loop() {
    let disps: Vec<i64> = (0..1000).map(|i| i * 12 + 4).collect();
    let t = construct::hindexed(&vec![1; 1000], &disps, &predef(Builtin::Int), false).unwrap();
    assert!(
        t.layout.node_count() <= 3,
        "{} nodes",
        t.layout.node_count()
    );
    assert_eq!(items(&t, 1, 4), disps);
    assert_eq!(t.contents.addrs, disps);
    let b = construct::hindexed_block(2, &[0, 100], &predef(Builtin::Short), false).unwrap();
    assert_eq!(pieces(&b, 1), vec![(0, 4), (100, 4)]);
    let ib = construct::indexed_block(2, &[5, 1], &predef(Builtin::Short), false).unwrap();
    assert_eq!(pieces(&ib, 1), vec![(10, 4), (2, 4)]);
    assert_eq!(ib.contents.ints, vec![2, 2, 5, 1]);
}

#[test]
fn struct_pads_to_alignment_like_mpich() {
    let s = |ty: &[TypeRef], disp: &[i64]| {
        construct::structure(&vec![1; ty.len()], disp, ty, false).unwrap()
    };
    let t = s(&[predef(Builtin::Double), predef(Builtin::Char)], &[0, 8]);
    assert_eq!(bounds(&t), (9, 0, 16, 0, 9));
    assert_eq!(t.elements, 2);
    assert_eq!(t.basic, None);
    let t = s(&[predef(Builtin::Int), predef(Builtin::Char)], &[0, 4]);
    assert_eq!(t.extent(), 8);
    let t = s(&[predef(Builtin::FloatInt), predef(Builtin::Char)], &[0, 8]);
    assert_eq!((t.extent(), t.elements), (12, 3));
    let lb = predef(Builtin::Lb);
    let t = s(
        &[lb, predef(Builtin::Double), predef(Builtin::Char)],
        &[-4, 0, 8],
    );
    assert_eq!((t.lb, t.extent()), (-4, 20));
    let t = s(&[predef(Builtin::Int), predef(Builtin::Ub)], &[0, 10]);
    assert_eq!((t.lb, t.ub, t.size), (0, 10, 4));
    let t = s(&[predef(Builtin::Int), predef(Builtin::Int)], &[4, 0]);
    assert_eq!(pieces(&t, 1), vec![(4, 4), (0, 4)]);
    assert_eq!(t.basic, predef(Builtin::Int).dt().basic);
    check_seek(&t, 3);
}

#[test]
fn resized_and_nested_types_seek_into_the_middle() {
    let r = construct::resized(&predef(Builtin::Int), -4, 12, false).unwrap();
    assert_eq!(bounds(&r), (4, -4, 8, 0, 4));
    let c = construct::contiguous(3, &d(r), false).unwrap();
    assert_eq!(items(&c, 1, 4), vec![0, 12, 24]);
    assert_eq!((c.lb, c.ub), (-4, 32));
    // A struct of (short, double) inside a vector inside a contiguous.
    let st = construct::structure(
        &[1, 1],
        &[0, 8],
        &[predef(Builtin::Short), predef(Builtin::Double)],
        false,
    )
    .unwrap();
    assert_eq!((st.size, st.extent()), (10, 16));
    let v = construct::vector(2, 2, 3, &d(st), false).unwrap();
    assert_eq!(items(&v, 1, 2)[..2], [0, 8]);
    let cc = construct::contiguous(2, &d(v), false).unwrap();
    check_seek(&cc, 2);
    let dup = construct::dup(&d(cc));
    assert_eq!(dup.contents.combiner, combiner::DUP);
    assert_eq!(dup.contents.types.len(), 1);
    check_seek(&dup, 1);
}

#[test]
fn large_count_constructors_record_counts() {
    let t = construct::hvector(3, 1, 16, &predef(Builtin::Int), true).unwrap();
    assert!(t.contents.ints.is_empty() && t.contents.addrs.is_empty());
    assert_eq!(t.contents.counts, vec![3, 1, 16]);
    let s = construct::structure(
        &[1, 2],
        &[0, 8],
        &[predef(Builtin::Int), predef(Builtin::Int)],
        true,
    )
    .unwrap();
    assert_eq!(s.contents.counts, vec![2, 1, 2, 0, 8]);
}

#[test]
fn bad_arguments_have_the_right_class() {
    use crate::error::class;
    let e = construct::contiguous(-1, &predef(Builtin::Int), false)
        .err()
        .unwrap();
    assert_eq!(e.class, class::ERR_COUNT);
    let e = construct::vector(2, -1, 1, &predef(Builtin::Int), false)
        .err()
        .unwrap();
    assert_eq!(e.class, class::ERR_ARG);
    let e = subarray::subarray(&[4], &[3], &[2], ORDER_C, &predef(Builtin::Int), false)
        .err()
        .unwrap();
    assert_eq!(e.class, class::ERR_ARG);
    let e = subarray::darray(
        4,
        0,
        &[8],
        &[DISTRIBUTE_BLOCK],
        &[1],
        &[4],
        ORDER_C,
        &predef(Builtin::Int),
        false,
    )
    .err()
    .unwrap();
    assert_eq!(e.class, class::ERR_ARG, "{}", e.message);
}

#[test]
fn subarray_matches_explicit_indices() {
    let (sizes, sub, starts) = ([4i64, 5, 6], [2i64, 3, 2], [1i64, 1, 3]);
    let c =
        subarray::subarray(&sizes, &sub, &starts, ORDER_C, &predef(Builtin::Int), false).unwrap();
    let mut want = Vec::new();
    for i in 1..3 {
        for j in 1..4 {
            for k in 3..5 {
                want.push(4 * (i * 30 + j * 6 + k));
            }
        }
    }
    assert_eq!(items(&c, 1, 4), want);
    assert_eq!((c.lb, c.ub, c.size), (0, 480, 48));
    assert_eq!(c.contents.ints, vec![3, 4, 5, 6, 2, 3, 2, 1, 1, 3, ORDER_C]);
    let f = subarray::subarray(
        &sizes,
        &sub,
        &starts,
        ORDER_FORTRAN,
        &predef(Builtin::Int),
        false,
    )
    .unwrap();
    let mut want = Vec::new();
    for k in 3..5 {
        for j in 1..4 {
            for i in 1..3 {
                want.push(4 * (i + j * 4 + k * 20));
            }
        }
    }
    assert_eq!(items(&f, 1, 4), want);
    // Two subarrays in a row: the second starts one full array (480 bytes) later.
    assert_eq!(items(&c, 2, 4)[12], 480 + 4 * (30 + 6 + 3));
    check_seek(&c, 2);
}

/// The owner coordinate of global index `g` along one dimension.
fn owner(g: i64, gsize: i64, p: i64, distrib: i32, darg: i32) -> i64 {
    match distrib {
        DISTRIBUTE_BLOCK => {
            let b = if darg == DISTRIBUTE_DFLT_DARG {
                (gsize + p - 1) / p
            } else {
                darg as i64
            };
            g / b
        }
        DISTRIBUTE_CYCLIC => {
            let b = if darg == DISTRIBUTE_DFLT_DARG {
                1
            } else {
                darg as i64
            };
            (g / b) % p
        }
        _ => 0,
    }
}

#[test]
fn darray_matches_explicit_ownership() {
    let g = [7i64, 5, 3];
    let distribs = [DISTRIBUTE_CYCLIC, DISTRIBUTE_BLOCK, DISTRIBUTE_NONE];
    let dargs = [2, DISTRIBUTE_DFLT_DARG, DISTRIBUTE_DFLT_DARG];
    let ps = [2, 3, 1];
    for order in [ORDER_C, ORDER_FORTRAN] {
        let mut seen = vec![0; 105];
        for rank in 0..6 {
            let t = subarray::darray(
                6,
                rank,
                &g,
                &distribs,
                &dargs,
                &ps,
                order,
                &predef(Builtin::Int),
                false,
            )
            .unwrap();
            let coords = [(rank / 3) as i64, (rank % 3) as i64, 0];
            let mut want = Vec::new();
            let idx = |i: i64, j: i64, k: i64| {
                if order == ORDER_C {
                    i * 15 + j * 3 + k
                } else {
                    i + j * 7 + k * 35
                }
            };
            let mut all = Vec::new();
            for i in 0..7 {
                for j in 0..5 {
                    for k in 0..3 {
                        all.push((i, j, k));
                    }
                }
            }
            if order == ORDER_FORTRAN {
                all.sort_by_key(|&(i, j, k)| (k, j, i));
            }
            for (i, j, k) in all {
                let o = [(i, 0), (j, 1), (k, 2)].iter().all(|&(x, dim)| {
                    owner(x, g[dim], ps[dim] as i64, distribs[dim], dargs[dim]) == coords[dim]
                });
                if o {
                    want.push(4 * idx(i, j, k));
                }
            }
            let got = items(&t, 1, 4);
            assert_eq!(got, want, "rank {rank} order {order}");
            for x in got {
                seen[(x / 4) as usize] += 1;
            }
            assert_eq!((t.lb, t.ub), (0, 4 * 105));
        }
        assert!(seen.iter().all(|&n| n == 1));
    }
}

#[test]
fn elements_count_basic_items() {
    let t = construct::structure(
        &[1, 1],
        &[0, 8],
        &[predef(Builtin::Char), predef(Builtin::Double)],
        false,
    )
    .unwrap();
    assert_eq!(t.elements, 2);
    assert_eq!(t.elements_of(9), 2);
    assert_eq!(t.elements_of(1), 1);
    assert_eq!(t.elements_of(5), 1);
    assert_eq!(t.elements_of(9 * 3 + 1), 7);
    assert_eq!(t.count_of(18), Some(2));
    assert_eq!(t.count_of(10), None);
    assert_eq!(t.bytes_of_elements(3), 10);
    let fi = predef(Builtin::FloatInt);
    assert_eq!(fi.dt().elements_of(12), 3);
    assert_eq!(fi.dt().bytes_of_elements(3), 12);
}

#[test]
fn external32_of_a_struct() {
    let long = Builtin::Long;
    let t = construct::structure(
        &[1, 1],
        &[0, 8],
        &[predef(Builtin::Int), predef(long)],
        false,
    )
    .unwrap();
    assert_eq!(t.external32_size(2), 16);
    // Two {int a; long b;} in this machine's layout (4 bytes of padding after a).
    let elem = |a: i32, b: i64| [&a.to_ne_bytes()[..], &[0; 4], &b.to_ne_bytes()].concat();
    let v = OwnedBytes::new([elem(1, -2), elem(0x01020304, 5)].concat());
    let mut out = [0u8; 16];
    let n = t.pack_external32(v.ptr(), 2, &mut out);
    assert_eq!(n, 16);
    assert_eq!(
        out,
        [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 0, 0, 0, 5]
    );
    let mut back = OwnedBytes::new([elem(9, 9), elem(9, 9)].concat());
    t.unpack_external32(back.ptr(), 2, &out);
    assert_eq!(
        back.to_vec().unwrap(),
        [elem(1, -2), elem(0x01020304, 5)].concat()
    );
}

#[test]
fn contiguous_run_needs_increasing_memory_order() {
    let int = predef(Builtin::Int);
    // No gaps but reversed: indexed {2,1,0} and a struct with descending displacements.
    let rev = construct::indexed(&[1, 1, 1], &[2, 1, 0], &int, false).unwrap();
    assert_eq!(rev.true_ub - rev.true_lb, rev.size as i64);
    assert_eq!(rev.contiguous_run(1), None);
    assert!(!rev.is_contiguous());
    assert_eq!(items(&rev, 1, 4), vec![8, 4, 0]);
    let st = construct::structure(&[1, 1], &[4, 0], &[int.clone(), int.clone()], false).unwrap();
    assert_eq!(st.contiguous_run(1), None);
    assert_eq!(st.contiguous_run(3), None);
    // In order: one run, starting at the data's first byte.
    let fwd = construct::indexed(&[1, 1, 1], &[1, 2, 3], &int, false).unwrap();
    assert_eq!(fwd.contiguous_run(1), Some(4));
    assert_eq!(fwd.contiguous_run(2), Some(4));
    // Resized to a larger extent: one element is a run, several are not.
    let rs = construct::resized(&int, 0, 8, false).unwrap();
    assert_eq!(rs.contiguous_run(1), Some(0));
    assert_eq!(rs.contiguous_run(2), None);
    // A negative lower bound with extent == size: still one run from true_lb.
    let neg = construct::resized(&int, -4, 4, false).unwrap();
    let neg = construct::contiguous(1, &d(neg), false).unwrap();
    assert_eq!(neg.contiguous_run(5), Some(0));
    let sh = construct::structure(&[1], &[-8], &[int.clone()], false).unwrap();
    assert_eq!(sh.contiguous_run(3), Some(-8));
    assert_eq!(
        construct::contiguous(0, &int, false)
            .unwrap()
            .contiguous_run(4),
        Some(0)
    );
}
