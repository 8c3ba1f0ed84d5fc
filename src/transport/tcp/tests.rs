//! Two TCP endpoints in one process: order, doorbells, in-place pulls, refused keys.

use super::*;
use crate::transport::mem::OwnedBytes;
use std::sync::atomic::AtomicUsize;

/// Two TCP endpoints in one process (ranks 0 and 1) on loopback, with `keys`; the
/// counter counts rank 1's doorbell rings.
fn pair(keys: [[u8; 32]; 2]) -> (Arc<Tcp>, Arc<Tcp>, Arc<AtomicUsize>) {
    let l0 = Listener::bind(Some("lo")).unwrap();
    let l1 = Listener::bind(Some("lo")).unwrap();
    let (c0, c1) = (l0.card, l1.card);
    let rings = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&rings);
    let cfg = |me: u32, peer: (u32, SocketAddr)| Config {
        me,
        key: keys[me as usize],
        peers: vec![peer],
        max_payload: 1024,
    };
    let t0 = Tcp::start(l0, cfg(0, (1, c1)), Box::new(|| {})).unwrap();
    let t1 = Tcp::start(
        l1,
        cfg(1, (0, c0)),
        Box::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
        }),
    )
    .unwrap();
    (t0, t1, rings)
}

fn next_frame(t: &Tcp) -> Frame {
    let t0 = Instant::now();
    loop {
        if let Some(f) = t.poll() {
            return f;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "frame lost");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn cells_in_order_both_ways_and_pulls_land_in_place() {
    let (a, b, rings) = pair([[3u8; 32]; 2]);
    let hdr = [9u8; crate::transport::fabric::HDR_BYTES];
    for k in 0..200u32 {
        a.send(0, &hdr, &k.to_le_bytes()).unwrap();
    }
    b.send(0, &hdr, b"back").unwrap();
    for k in 0..200u32 {
        let f = next_frame(&b);
        assert_eq!(f.src, 0);
        assert_eq!(&f.buf[..48], &hdr[..]);
        assert_eq!(&f.buf[48..], &k.to_le_bytes());
    }
    assert!(rings.load(Ordering::SeqCst) >= 1);
    assert_eq!(&next_frame(&a).buf[48..], b"back");
    // b reads 3 MiB of a's memory into two destination pieces, then both pull at once.
    let src: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
    let (mut d1, mut d2) = (OwnedBytes::zeroed(1 << 20), OwnedBytes::zeroed(2 << 20));
    let got = b
        .pull(
            0,
            &[(src.as_ptr() as usize, src.len())],
            &[(d1.ptr(), d1.len()), (d2.ptr(), d2.len())],
        )
        .unwrap();
    assert_eq!(got, src.len());
    assert!(
        d1.to_vec().unwrap()[..] == src[..1 << 20] && d2.to_vec().unwrap()[..] == src[1 << 20..]
    );
    let (mut e1, mut e2) = (OwnedBytes::zeroed(src.len()), OwnedBytes::zeroed(src.len()));
    let (pa, pb) = (src.as_ptr() as usize, src.len());
    std::thread::scope(|s| {
        let (a, b) = (&a, &b);
        let (p1, p2) = (e1.ptr(), e2.ptr());
        s.spawn(move || a.pull(0, &[(pa, pb)], &[(p1, pb)]).unwrap());
        s.spawn(move || b.pull(0, &[(pa, pb)], &[(p2, pb)]).unwrap());
    });
    assert!(e1.to_vec().unwrap() == src && e2.to_vec().unwrap() == src);
}

/// Waits until `t` has reported `n` ended pulls of `start_pull` (polling as the engine
/// does); returns them sorted by id.
fn ended(t: &Tcp, n: usize) -> Vec<(u64, io::Result<usize>)> {
    let t0 = Instant::now();
    let mut got = Vec::new();
    while got.len() < n {
        let _ = t.poll();
        t.ended_pulls(|id, r| got.push((id, r)));
        assert!(t0.elapsed() < Duration::from_secs(20), "pulls never ended");
        std::thread::yield_now();
    }
    got.sort_by_key(|g| g.0);
    got
}

#[test]
fn pulls_started_together_all_land_in_place_and_each_ends_once() {
    let (a, b, rings) = pair([[4u8; 32]; 2]);
    // Four reads of a's memory in flight at once, of different sizes, before any answer.
    let src: Vec<u8> = (0..5 << 20).map(|i: u32| (i % 253) as u8).collect();
    let parts = [
        (0usize, 3 << 20),
        (3 << 20, 1),
        (3 << 20 | 1, 700_001),
        (4 << 20, 1 << 20),
    ];
    let mut dst: Vec<OwnedBytes> = parts.iter().map(|p| OwnedBytes::zeroed(p.1)).collect();
    let before = rings.load(Ordering::SeqCst);
    let ids: Vec<u64> = parts
        .iter()
        .zip(dst.iter_mut())
        .map(|(&(off, len), d)| {
            b.start_pull(0, &[(src.as_ptr() as usize + off, len)], &[(d.ptr(), len)])
                .unwrap()
        })
        .collect();
    let got = ended(&b, parts.len());
    for (k, (id, r)) in got.iter().enumerate() {
        assert_eq!(*id, ids[k]);
        assert_eq!(*r.as_ref().unwrap(), parts[k].1);
        let (off, len) = parts[k];
        assert!(
            dst[k].to_vec().unwrap()[..] == src[off..off + len],
            "pull {k} misplaced"
        );
    }
    // Nothing more is reported, and each end rang the doorbell.
    assert_eq!(
        b.ended_pulls(|_, _| panic!("an ended pull reported twice")),
        0
    );
    assert!(rings.load(Ordering::SeqCst) > before);
    // A peer lost while a pull waits for its answer (one whose PULL went nowhere): the pull
    // ends once, with the error the engine takes for a lost peer; a pull started after the
    // loss fails at once. `a` stays alive: a loss is this side's judgement.
    let d = OwnedBytes::zeroed(8);
    let orphan = b.next_pull.fetch_add(1, Ordering::Relaxed);
    let p = Pull {
        peer: 0,
        dst: vec![(d.ptr().addr(), 8)],
        to: Ends::Engine,
    };
    b.pulls.lock().insert(orphan, Arc::new(p));
    b.lose(0, "the test hangs up".into());
    let got = ended(&b, 1);
    assert_eq!(got[0].0, orphan);
    let e = got[0].1.as_ref().unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted, "{e}");
    let e = b
        .start_pull(0, &[(d.ptr().addr(), 8)], &[(d.ptr(), 8)])
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted, "{e}");
    assert_eq!(
        b.ended_pulls(|_, _| panic!("a failed start reported again")),
        0
    );
    drop(a);
}

#[test]
fn a_connector_without_the_key_is_refused_and_the_listener_goes_on() {
    let (a, b, _) = pair([[1u8; 32], [2u8; 32]]);
    let hdr = [0u8; crate::transport::fabric::HDR_BYTES];
    let e = a.send(0, &hdr, b"x").unwrap_err();
    assert!(
        e.kind() == io::ErrorKind::InvalidData
            || e.kind() == io::ErrorKind::UnexpectedEof
            || e.kind() == io::ErrorKind::ConnectionReset,
        "{e}"
    );
    // The other direction is refused too (b cannot prove the key to a either).
    assert!(b.send(0, &hdr, b"y").is_err());
    assert!(!a.has_inbound() && !b.has_inbound());
}

/// Waits until `t` reports lost peers.
fn next_losses(t: &Tcp) -> Vec<(usize, String)> {
    let t0 = Instant::now();
    loop {
        let l = t.lost_peers();
        if !l.is_empty() {
            return l;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "loss never reported"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_goodbye_is_not_a_loss_but_a_hang_up_is_and_fails_what_follows_at_once() {
    let (a, b, rings) = pair([[5u8; 32]; 2]);
    let hdr = [1u8; crate::transport::fabric::HDR_BYTES];
    a.send(0, &hdr, b"one").unwrap();
    assert_eq!(&next_frame(&b).buf[48..], b"one");
    // A normal exit: BYE, then the end of stream.
    a.say_goodbye();
    let t0 = Instant::now();
    while !b.has_departed(0) {
        assert!(t0.elapsed() < Duration::from_secs(20), "goodbye lost");
        std::thread::sleep(Duration::from_millis(1));
    }
    // A second connection from a, closed without a goodbye (as when its process dies).
    a.send(0, &hdr, b"two").unwrap();
    assert_eq!(&next_frame(&b).buf[48..], b"two");
    let before = rings.load(Ordering::SeqCst);
    drop(take_connection(&a));
    closed_by_reader(&a);
    let lost = next_losses(&b);
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(lost[0].0, 0);
    assert!(lost[0].1.contains("without a goodbye"), "{}", lost[0].1);
    assert!(
        rings.load(Ordering::SeqCst) > before,
        "the waiter was not woken"
    );
    // Everything towards the lost peer fails at once, and it is reported only once.
    let e = b.send(0, &hdr, b"x").unwrap_err();
    assert!(e.to_string().contains("rank 0 was lost"), "{e}");
    let d = OwnedBytes::zeroed(8);
    assert!(b.pull(0, &[(d.ptr().addr(), 8)], &[(d.ptr(), 8)]).is_err());
    assert!(b.lost_peers().is_empty());
}

#[test]
fn a_peer_that_cannot_be_reached_is_lost_promptly() {
    // A card whose listener is gone: the connect is refused.
    let gone = TcpListener::bind("127.0.0.1:0").unwrap();
    let card = gone.local_addr().unwrap();
    drop(gone);
    let l = Listener::bind(Some("lo")).unwrap();
    let cfg = Config {
        me: 0,
        key: [7u8; 32],
        peers: vec![(1, card)],
        max_payload: 64,
    };
    let t = Tcp::start(l, cfg, Box::new(|| {})).unwrap();
    let hdr = [0u8; crate::transport::fabric::HDR_BYTES];
    let t0 = Instant::now();
    let e = t.send(0, &hdr, b"x").unwrap_err();
    assert!(e.to_string().contains(&card.to_string()), "{e}");
    let lost = t.lost_peers();
    assert_eq!(lost.len(), 1);
    assert!(lost[0].1.contains("cannot connect"), "{}", lost[0].1);
    assert!(t.send(0, &hdr, b"y").is_err());
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(t.lost_peers().is_empty());
}

/// A poll right after a read that emptied the socket may skip that connection (it would
/// find nothing on the latency path, see `Tcp::pump`), but only once: a frame that came
/// meanwhile is delivered by the next poll at the latest, whichever thread read it.
#[test]
fn a_frame_after_a_drained_read_comes_by_the_second_poll() {
    let (a, b, _) = pair([[5u8; 32]; 2]);
    let hdr = [1u8; crate::transport::fabric::HDR_BYTES];
    for k in 0..20u32 {
        a.send(0, &hdr, &k.to_le_bytes()).unwrap();
        let f = next_frame(&b);
        assert_eq!(&f.buf[48..], &k.to_le_bytes());
        b.release(f);
        // The next one is in b's socket (or its inbox) before b polls again.
        a.send(0, &hdr, &(k + 1000).to_le_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let f = b
            .poll()
            .or_else(|| b.poll())
            .expect("skipped more than once");
        assert_eq!(&f.buf[48..], &(k + 1000).to_le_bytes());
        b.release(f);
    }
}

/// Keeps `t`'s reader thread off its connections for `d` (the rank "reads them itself").
fn present_for(t: &Tcp, d: Duration) {
    let t0 = Instant::now();
    while t0.elapsed() < d {
        t.presence.beat();
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// Once the layer above has asked for lost peers (it is about to fail the operations that
/// wait on them), the next poll reads every connection: a frame that came after a read
/// that emptied the socket is not passed over (`just_drained`), so a dead peer's last
/// message is taken in before a receive it matches could be failed.
#[test]
fn after_a_lost_peers_query_the_next_poll_passes_over_nothing() {
    let (a, b, _) = pair([[6u8; 32]; 2]);
    let hdr = [2u8; crate::transport::fabric::HDR_BYTES];
    // b reads its sockets itself (its reader thread keeps off them).
    present_for(&b, Duration::from_millis(10));
    a.send(0, &hdr, b"first").unwrap();
    let t0 = Instant::now();
    let f = loop {
        if let Some(f) = b.poll() {
            break f;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "frame lost");
        std::thread::sleep(Duration::from_micros(100));
    };
    assert_eq!(&f.buf[48..], b"first");
    b.release(f);
    a.send(0, &hdr, b"last").unwrap();
    present_for(&b, Duration::from_millis(20));
    assert!(b.lost_peers().is_empty());
    let f = b.poll().expect("the frame in the socket was passed over");
    assert_eq!(&f.buf[48..], b"last");
}

/// Ends our connection to peer 0 of `t` as a dying process does: with a FIN, or with a
/// reset (`SO_LINGER` 0, as when unread data is left behind). A reset discards what the
/// kernel has not sent yet, so it waits until everything written has been acknowledged.
fn hang_up(t: &Tcp, reset: bool) {
    let s = take_connection(t);
    if reset {
        let t0 = Instant::now();
        loop {
            let mut unsent: libc::c_int = 0;
            // SAFETY: TIOCOUTQ writes one int, into `unsent`, a local.
            let rc = unsafe { libc::ioctl(s.as_raw_fd(), libc::TIOCOUTQ, &mut unsent) };
            assert_eq!(rc, 0);
            if unsent == 0 {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(20), "data never sent");
            std::thread::sleep(Duration::from_micros(200));
        }
        let lin = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: sets an option of a socket we own from `lin`, a local of the right size.
        let rc = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&lin as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0);
    }
    drop(s);
    closed_by_reader(t);
}

/// Takes `t`'s connection to peer 0 out of use, as a dying process does: its handle for
/// writing, and the way back in its inbound set (marked closed, for the reader thread to
/// drop: only that thread removes connections).
fn take_connection(t: &Tcp) -> TcpStream {
    let s = t.peers[0].out.lock().take().expect("connected");
    for c in t.inbound.lock().list.iter_mut().filter(|c| c.ours) {
        c.closed = true;
    }
    s
}

/// Waits until `t`'s reader thread has dropped the connections marked closed: the socket
/// is closed (FIN or reset sent) once its last handle is.
fn closed_by_reader(t: &Tcp) {
    let t0 = Instant::now();
    while t.inbound.lock().list.iter().any(|c| c.closed) {
        assert!(t0.elapsed() < Duration::from_secs(20), "never dropped");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Every frame a peer sent before its connection ended without a goodbye (closed or reset)
/// is delivered, in order, before the poll that finds nothing after the loss is reported:
/// read by the rank itself (polling) or by its reader thread (the rank away).
#[test]
fn frames_before_a_hang_up_come_before_the_loss() {
    for (reset, rank_reads) in [(false, true), (true, true), (false, false), (true, false)] {
        let (a, b, _) = pair([[8u8; 32]; 2]);
        let hdr = [3u8; crate::transport::fabric::HDR_BYTES];
        let mut got = Vec::new();
        let mut take = |f: Frame| {
            got.push(u32::from_le_bytes(f.buf[48..52].try_into().unwrap()));
            b.release(f);
        };
        // The connection is made (and admitted) by the first frame.
        a.send(0, &hdr, &0u32.to_le_bytes()).unwrap();
        take(next_frame(&b));
        for k in 1..300u32 {
            a.send(0, &hdr, &k.to_le_bytes()).unwrap();
        }
        hang_up(&a, reset);
        let t0 = Instant::now();
        let lost = loop {
            if rank_reads {
                while let Some(f) = b.poll() {
                    take(f);
                }
            }
            let l = b.lost_peers();
            if !l.is_empty() {
                break l;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "loss never reported"
            );
            std::thread::sleep(Duration::from_micros(200));
        };
        assert_eq!(lost[0].0, 0);
        while let Some(f) = b.poll() {
            take(f);
        }
        assert_eq!(
            got,
            (0..300).collect::<Vec<u32>>(),
            "reset {reset}, read by the rank {rank_reads}: {}",
            lost[0].1
        );
    }
}

/// A rank answering a peer that connected to it writes on that connection (its way back,
/// `Tcp::way_back`): a ping-pong runs on one connection, which each side reads.
#[test]
fn a_ping_pong_shares_the_first_connection() {
    let (a, b, _) = pair([[9u8; 32]; 2]);
    let hdr = [4u8; crate::transport::fabric::HDR_BYTES];
    for k in 0..50u32 {
        a.send(0, &hdr, &k.to_le_bytes()).unwrap();
        let f = next_frame(&b);
        assert_eq!(&f.buf[48..], &k.to_le_bytes());
        b.release(f);
        b.send(0, &hdr, &(k + 1000).to_le_bytes()).unwrap();
        let f = next_frame(&a);
        assert_eq!(&f.buf[48..], &(k + 1000).to_le_bytes());
        a.release(f);
    }
    let port = |t: &Tcp| {
        let out = t.peers[0].out.lock();
        let s = out.as_ref().expect("connected");
        (s.local_addr().unwrap(), s.peer_addr().unwrap())
    };
    let (a_local, a_remote) = port(&a);
    assert_eq!(port(&b), (a_remote, a_local), "two connections");
    let set = a.inbound.lock();
    assert_eq!(set.list.len(), 1);
    assert!(set.list[0].ours && set.list[0].heard);
    let set = b.inbound.lock();
    assert_eq!(set.list.len(), 1);
    assert!(!set.list[0].ours);
}

/// Two ranks that connected to each other at once write each on its own connection. One
/// exits (BYE on the connection it writes on, then both connections end): whichever end
/// the other reads first, that is no loss.
#[test]
fn after_connecting_at_once_an_exit_is_no_loss() {
    for _ in 0..5 {
        let (a, b, _) = pair([[10u8; 32]; 2]);
        let hdr = [5u8; crate::transport::fabric::HDR_BYTES];
        // b connects first (a admits it before b's connect returns); a then opens its own
        // as if it had not seen b's yet.
        b.send(0, &hdr, b"b").unwrap();
        let own = a.connect(&a.peers[0]).unwrap();
        *a.peers[0].out.lock() = Some(a.read_way_back(own, 0).unwrap());
        a.send(0, &hdr, b"a").unwrap();
        assert_eq!(&next_frame(&a).buf[48..], b"b");
        assert_eq!(&next_frame(&b).buf[48..], b"a");
        // a's exit: its goodbye, then every socket of its closes.
        a.say_goodbye();
        for c in a.inbound.lock().list.iter_mut() {
            c.closed = true;
        }
        closed_by_reader(&a);
        let t0 = Instant::now();
        while !b.inbound.lock().list.is_empty() {
            assert!(t0.elapsed() < Duration::from_secs(20), "ends never read");
            std::thread::sleep(Duration::from_micros(200));
        }
        assert!(b.has_departed(0));
        assert!(b.lost_peers().is_empty());
    }
}

/// Small messages sent in one pass are held behind the first (see `coalesce`) and keep
/// their place in the stream: a cell written at once after them comes after them, and a
/// sender that never polls again has them written by its reader thread.
#[test]
fn held_small_messages_keep_their_order_and_leave_without_a_poll() {
    let (a, b, _) = pair([[6u8; 32]; 2]);
    let hdr = [4u8; crate::transport::fabric::HDR_BYTES];
    for k in 0..50u32 {
        a.send_eager(0, &hdr, &k.to_le_bytes()).unwrap();
    }
    assert!(
        a.peers[0].held.lock().len() > 0,
        "the second and later messages of the pass are held"
    );
    a.send(0, &hdr, b"cell").unwrap();
    assert!(
        a.peers[0].held.lock().is_empty(),
        "a cell writes them first"
    );
    for k in 0..50u32 {
        assert_eq!(&next_frame(&b).buf[48..], &k.to_le_bytes());
    }
    assert_eq!(&next_frame(&b).buf[48..], b"cell");
    // a never polls from here: its reader thread finds it away and writes what is held.
    a.send_eager(0, &hdr, b"one").unwrap();
    a.send_eager(0, &hdr, b"two").unwrap();
    assert_eq!(&next_frame(&b).buf[48..], b"one");
    assert_eq!(&next_frame(&b).buf[48..], b"two");
    assert!(a.peers[0].held.lock().is_empty());
}

/// Eager cells are held as small messages are (see `coalesce`): a pass's cells and small
/// messages, mixed, keep their send order; a protocol frame (`send`, as an RTS or a FIN
/// goes) writes them first and is itself never held; a message larger than `HOLD_ONE_MAX`
/// is not held either; and the next pass writes what is held.
#[test]
fn held_cells_keep_their_order_with_small_messages_and_protocol_frames() {
    let (a, b, _) = pair([[7u8; 32]; 2]);
    let hdr = [5u8; crate::transport::fabric::HDR_BYTES];
    // A message of `k`: a 4-byte index, padded to a cell of 1-4 KiB every third one.
    let body = |k: u32| {
        let mut v = k.to_le_bytes().to_vec();
        if k % 3 == 0 {
            v.resize(1024 * (1 + k as usize % 4), k as u8);
        }
        v
    };
    for k in 0..30u32 {
        a.send_eager(0, &hdr, &body(k)).unwrap();
    }
    assert!(
        !a.peers[0].held.lock().is_empty(),
        "cells held behind the first"
    );
    a.send(0, &hdr, b"fin").unwrap();
    assert!(
        a.peers[0].held.lock().is_empty(),
        "a protocol frame writes them first"
    );
    // A message over the limit goes at once, after what is held.
    a.send_eager(0, &hdr, b"held again").unwrap();
    a.send_eager(0, &hdr, &body(30)).unwrap();
    let big = vec![8u8; coalesce::HOLD_ONE_MAX + 1];
    a.send_eager(0, &hdr, &big).unwrap();
    assert!(
        a.peers[0].held.lock().is_empty(),
        "a large message is not held"
    );
    a.send_eager(0, &hdr, &body(31)).unwrap();
    assert!(!a.peers[0].held.lock().is_empty());
    // The sender's next pass (a poll finds nothing) writes it.
    assert!(a.poll().is_none());
    assert!(
        a.peers[0].held.lock().is_empty(),
        "a pass writes what is held"
    );
    for k in 0..30u32 {
        assert_eq!(&next_frame(&b).buf[48..], &body(k)[..]);
    }
    assert_eq!(&next_frame(&b).buf[48..], b"fin");
    assert_eq!(&next_frame(&b).buf[48..], b"held again");
    assert_eq!(&next_frame(&b).buf[48..], &body(30)[..]);
    assert_eq!(&next_frame(&b).buf[48..], &big[..]);
    assert_eq!(&next_frame(&b).buf[48..], &body(31)[..]);
}
