//! Engine tests over the in-process loopback fabric: one thread per rank.

use super::*;
use crate::datatype::{builtin, Builtin};
use crate::transport::loopback::{Hub, Loopback};
use crate::transport::mem::OwnedBytes;
use std::sync::Arc;

/// A copy of `buf` as elements of `dt` (held by the operation, as library memory is).
fn data(buf: &[u8], dt: Builtin) -> Data {
    let t = builtin(dt);
    let n = buf.len() as u64 / t.size();
    Data::owned(OwnedBytes::new(buf.to_vec()), 0, n, TypeKeep::Static(t))
}

/// The bytes a finished operation left in `b`.
fn bytes(mut b: OwnedBytes) -> Vec<u8> {
    b.to_vec().expect("the operation has let go of its block")
}

fn engines(n: usize, cells: usize, cap: usize, cma: bool) -> Vec<Arc<Engine<Loopback>>> {
    let hub = Hub::new(n, cells, cap, cma);
    (0..n)
        .map(|r| {
            Arc::new(Engine::new(
                Loopback {
                    hub: hub.clone(),
                    me: r,
                },
                r as u32,
                (0..n).map(Some).collect(),
            ))
        })
        .collect()
}

fn send(e: &Engine<Loopback>, to: u32, tag: i32, buf: &[u8], mode: Mode) {
    e.send(SendArgs {
        ep: to,
        ctx: 0,
        src: e.me as i32,
        tag,
        mode,
        data: data(buf, Builtin::Byte),
        owner: 0,
    })
    .unwrap();
}

/// A blocking receive into `buf` (through a block of the same size).
fn recv(e: &Engine<Loopback>, from: i32, tag: i32, buf: &mut [u8]) -> Status {
    let b = OwnedBytes::zeroed(buf.len());
    let s = e.recv(RecvArgs {
        ctx: 0,
        src: from,
        tag,
        data: Data::owned_bytes(b.clone()),
        owner: 0,
    });
    buf.copy_from_slice(&bytes(b));
    s
}

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn exchange(cma: bool, cap: usize, cells: usize) {
    let es = engines(2, cells, cap, cma);
    let sizes = [0usize, 1, 7, cap - 1, cap, cap + 1, 3 * cap + 5, 1 << 20];
    let e0 = es[0].clone();
    let t = std::thread::spawn(move || {
        for (i, &n) in sizes.iter().enumerate() {
            let b = pattern(n, i as u8);
            send(
                &e0,
                1,
                i as i32,
                &b,
                if i % 2 == 0 {
                    Mode::Standard
                } else {
                    Mode::Sync
                },
            );
        }
    });
    for (i, &n) in sizes.iter().enumerate() {
        let mut b = vec![0u8; n];
        let s = recv(&es[1], 0, i as i32, &mut b);
        assert_eq!(s.bytes, n as u64);
        assert_eq!((s.source, s.tag, s.error), (0, i as i32, 0));
        assert_eq!(b, pattern(n, i as u8), "size {n}");
    }
    t.join().unwrap();
}

#[test]
fn eager_and_single_copy() {
    exchange(true, 256, 8);
}

#[test]
fn pipelined_fallback_with_few_cells() {
    exchange(false, 256, 2);
}

#[test]
fn non_overtaking_with_wildcards() {
    let es = engines(3, 4, 64, true);
    let mut ts = Vec::new();
    for s in 1..3 {
        let e = es[s].clone();
        ts.push(std::thread::spawn(move || {
            for k in 0..200u32 {
                let b = k.to_ne_bytes();
                send(&e, 0, (k % 3) as i32, &b, Mode::Standard);
            }
        }));
    }
    let mut next = [0u32; 3];
    for _ in 0..400 {
        let mut b = [0u8; 4];
        let s = recv(&es[0], matching::ANY_SOURCE, matching::ANY_TAG, &mut b);
        let k = u32::from_ne_bytes(b);
        assert_eq!(k, next[s.source as usize], "order from {}", s.source);
        assert_eq!(s.tag, (k % 3) as i32);
        next[s.source as usize] += 1;
    }
    for t in ts {
        t.join().unwrap();
    }
}

#[test]
fn truncation_and_self_messages() {
    let es = engines(1, 4, 64, true);
    let b = pattern(100, 1);
    let id = es[0]
        .isend(SendArgs {
            ep: 0,
            ctx: 0,
            src: 0,
            tag: 5,
            mode: Mode::Standard,
            data: data(&b, Builtin::Byte),
            owner: 0,
        })
        .unwrap();
    let mut small = vec![0u8; 40];
    let s = recv(&es[0], 0, 5, &mut small);
    assert_eq!((s.error, s.bytes), (crate::error::class::ERR_TRUNCATE, 40));
    assert_eq!(&small[..], &b[..40]);
    es[0].wait(id);
    // Synchronous send to self completes only once matched.
    let ints = [1i32, 2, 3];
    let bytes: &[u8] = int_bytes(&ints);
    let id = es[0]
        .isend(SendArgs {
            ep: 0,
            ctx: 0,
            src: 0,
            tag: 9,
            mode: Mode::Sync,
            data: data(bytes, Builtin::Int),
            owner: 0,
        })
        .unwrap();
    assert!(es[0].test(id).is_none());
    let mut out = [0u8; 12];
    recv(&es[0], 0, 9, &mut out);
    assert!(es[0].test(id).is_some());
    assert_eq!(out, bytes);
    assert_eq!(es[0].live_requests(), 0);
}

fn int_bytes(v: &[i32]) -> &[u8] {
    let mut out = Vec::new();
    for x in v {
        out.extend_from_slice(&x.to_ne_bytes());
    }
    Box::leak(out.into_boxed_slice())
}

#[test]
fn cancel_probe_and_mprobe() {
    let es = engines(1, 4, 64, true);
    let b = OwnedBytes::zeroed(4);
    let id = es[0].irecv(RecvArgs {
        ctx: 0,
        src: 0,
        tag: 1,
        data: Data::owned_bytes(b.clone()),
        owner: 0,
    });
    es[0].cancel(id).unwrap();
    assert!(es[0].wait(id).cancelled);
    let m = [7u8, 8, 9];
    send(&es[0], 0, 3, &m, Mode::Standard);
    assert_eq!(es[0].iprobe(0, matching::ANY_SOURCE, 3).unwrap().bytes, 3);
    let (msg, s) = es[0].improbe(0, 0, matching::ANY_TAG).unwrap();
    assert_eq!(s.tag, 3);
    assert!(es[0].iprobe(0, 0, 3).is_none());
    let three = Data::owned(b.clone(), 0, 3, TypeKeep::Static(builtin(Builtin::Byte)));
    let id = es[0].imrecv(msg, three).unwrap();
    es[0].wait(id);
    assert_eq!(bytes(b), [7, 8, 9, 0]);
}

#[test]
fn cancelled_sends_never_arrive() {
    // Rank 1 answers the cancel requests while it waits for tag 99; only then does it
    // receive tag 1, which must be the sentinel (a cancelled message would come first).
    let es = engines(2, 8, 256, true);
    let e1 = es[1].clone();
    let t = std::thread::spawn(move || {
        let mut go = [0u8; 1];
        recv(&e1, 0, 99, &mut go);
        let mut b = vec![0u8; 1 << 12];
        let s = recv(&e1, 0, 1, &mut b);
        assert_eq!(
            (s.bytes, b[0]),
            (1, 42),
            "a cancelled message was delivered"
        );
        let mut matched = [0u8; 1];
        recv(&e1, 0, 2, &mut matched);
        send(&e1, 0, 3, &matched, Mode::Standard);
        // Keep progressing (to answer the last cancellation) until rank 0 is done.
        recv(&e1, 0, 4, &mut matched);
    });
    let e0 = &es[0];
    let small = pattern(10, 1);
    let big = pattern(1 << 12, 2);
    for (buf, mode) in [
        (&small, Mode::Standard),
        (&small, Mode::Sync),
        (&big, Mode::Standard),
        (&big, Mode::Sync),
    ] {
        let id = e0
            .isend(SendArgs {
                ep: 1,
                ctx: 0,
                src: 0,
                tag: 1,
                mode,
                data: data(buf, Builtin::Byte),
                owner: 0,
            })
            .unwrap();
        e0.cancel(id).unwrap();
        assert!(
            e0.wait(id).cancelled,
            "{mode:?} send of {} bytes",
            buf.len()
        );
    }
    send(e0, 1, 99, &[1], Mode::Standard);
    send(e0, 1, 1, &[42], Mode::Standard);
    // Already received: the cancellation fails and the send completes normally.
    let id = e0
        .isend(SendArgs {
            ep: 1,
            ctx: 0,
            src: 0,
            tag: 2,
            mode: Mode::Sync,
            data: data(&[5], Builtin::Byte),
            owner: 0,
        })
        .unwrap();
    let mut echo = [0u8; 1];
    recv(e0, 1, 3, &mut echo);
    e0.cancel(id).unwrap();
    assert!(!e0.wait(id).cancelled);
    assert_eq!(echo, [5]);
    send(e0, 1, 4, &[0], Mode::Standard);
    t.join().unwrap();
    assert_eq!(e0.live_requests(), 0);
}
