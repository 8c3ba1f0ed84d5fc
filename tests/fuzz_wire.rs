//! Property-based fuzzing (proptest) of the decoders that read bytes from other processes:
//! the socket transport's hello and frame decoder (`transport::sock::wire`, what a stranger
//! on the host can send to a listener) and the PMI-1 parser (`pmi::wire`, what a launcher,
//! or a rank talking to mpiexec, can send). Properties: no input panics or allocates beyond
//! the bounds; what the encoders write decodes to the same value; a hello under another
//! secret, or answering another challenge, or altered in any byte, is refused. Bounded in time by the case counts (PROPTEST_CASES overrides).

use mpi::p2p::fabric::HDR_BYTES;
use mpi::pmi::wire::{LineBuffer, Message, MAX_LINE};
use mpi::transport::sock::place::Place;
use mpi::transport::sock::wire::{self, Hello, NONCE_BYTES};
use proptest::prelude::*;
use std::net::SocketAddrV4;

fn place() -> impl Strategy<Value = Place> {
    (any::<u64>(), any::<[u8; 4]>(), any::<u16>()).prop_map(|(host, ip, port)| Place {
        host,
        tcp: (port != 0).then(|| SocketAddrV4::new(ip.into(), port)),
    })
}

fn hello() -> impl Strategy<Value = Hello> {
    prop_oneof![
        (any::<u64>(), any::<u32>(), any::<u64>(), place()).prop_map(
            |(gpid, pid, token, place)| Hello::Peer {
                gpid,
                pid,
                token,
                place
            }
        ),
        any::<u64>().prop_map(|port| Hello::Port { port }),
    ]
}

/// Keys the PMI encoder accepts (it refuses space, '=', '\\' and newline).
fn pmi_key() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.:-]{1,16}"
}

/// Values as ranks send them: any printable text, spaces, backslashes, '=' and newlines.
fn pmi_value() -> impl Strategy<Value = String> {
    "[ -~\n]{0,40}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn hello_decoder_survives_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..120), nonce: [u8; NONCE_BYTES], token: u64) {
        let _ = wire::read_hello(&bytes, &nonce, token, |_| Some(token));
        let _ = wire::hello_len(&bytes);
    }

    #[test]
    fn hello_decoder_survives_mutated_hellos(h in hello(), nonce: [u8; NONCE_BYTES], token: u64, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4)) {
        let orig = wire::encode_hello(token, &nonce, &h);
        let mut b = orig.clone();
        for (i, x) in flips {
            let n = b.len();
            b[i % n] ^= x;
        }
        if let Ok(got) = wire::read_hello(&b, &nonce, token, |_| Some(token)) {
            // The MAC lets through only the hello as it was sent.
            prop_assert_eq!(&b, &orig);
            prop_assert_eq!(got, h);
        }
    }

    #[test]
    fn hellos_round_trip_and_only_with_their_secret(h in hello(), nonce: [u8; NONCE_BYTES], other_nonce: [u8; NONCE_BYTES], token: u64, other: u64) {
        let b = wire::encode_hello(token, &nonce, &h);
        prop_assert_eq!(wire::hello_len(&b[..wire::HELLO_PREFIX]).unwrap(), b.len());
        prop_assert_eq!(wire::read_hello(&b, &nonce, token, |_| Some(token)).unwrap(), h);
        if other != token {
            prop_assert!(wire::read_hello(&b, &nonce, other, |_| Some(other)).is_err());
        }
        if other_nonce != nonce {
            prop_assert!(wire::read_hello(&b, &other_nonce, token, |_| Some(token)).is_err());
        }
        for cut in 0..b.len() {
            prop_assert!(wire::read_hello(&b[..cut], &nonce, token, |_| Some(token)).is_err());
        }
    }

    #[test]
    fn frame_decoder_survives_any_bytes_within_its_bound(bytes in proptest::collection::vec(any::<u8>(), 0..200), max in 0usize..100) {
        let mut r = &bytes[..];
        // Reads frames until the input ends or fails; each is at most header + max.
        for _ in 0..bytes.len() + 1 {
            match wire::read_frame(&mut r, max) {
                Ok(Some(f)) => prop_assert!(f.len() <= HDR_BYTES + max),
                Ok(None) | Err(_) => break,
            }
        }
        let _ = wire::read_blob(&mut &bytes[..], max);
    }

    #[test]
    fn frames_round_trip(frames in proptest::collection::vec((any::<[u8; 16]>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..8)) {
        let mut out = Vec::new();
        for (h, p) in &frames {
            let mut hdr = [0u8; HDR_BYTES];
            hdr[..16].copy_from_slice(h);
            wire::write_frame(&mut out, &hdr, p).unwrap();
        }
        let mut r = &out[..];
        for (h, p) in &frames {
            let f = wire::read_frame(&mut r, 300).unwrap().unwrap();
            prop_assert_eq!(&f[..16], &h[..]);
            prop_assert_eq!(&f[HDR_BYTES..], &p[..]);
        }
        prop_assert!(wire::read_frame(&mut r, 300).unwrap().is_none());
    }

    #[test]
    fn pmi_parser_survives_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(m) = Message::parse_bytes(&bytes) {
            prop_assert!(m.kind == "cmd" || m.kind == "mcmd");
            let _ = m.get_int("rc");
        }
    }

    #[test]
    fn pmi_parser_survives_pmi_like_text(line in "(cmd|mcmd|x)=[a-z_]{0,8}( [a-z=\\\\ ]{0,12}){0,6}\r?\n?") {
        let _ = Message::parse(&line);
    }

    #[test]
    fn pmi_messages_round_trip(cmd in "[a-z_]{1,12}", args in proptest::collection::vec((pmi_key(), pmi_value()), 0..6)) {
        let mut m = Message::new(&cmd);
        for (k, v) in &args {
            m = m.arg(k, v);
        }
        let line = m.encode().unwrap();
        prop_assert!(line.ends_with('\n'));
        prop_assert_eq!(line.matches('\n').count(), 1, "a newline in a value must be escaped");
        let back = Message::parse(&line).unwrap();
        prop_assert_eq!(back.cmd, cmd);
        // Empty values may merge with nothing but must keep their keys and order.
        prop_assert_eq!(back.args, args);
    }

    #[test]
    fn line_buffer_bounds_lines_under_any_chunking(chunks in proptest::collection::vec((any::<u8>(), 0usize..3000, any::<bool>()), 0..40)) {
        let mut lb = LineBuffer::new();
        for (byte, len, newline) in chunks {
            let mut c = vec![if byte == b'\n' { b'a' } else { byte }; len * 30];
            if newline {
                c.push(b'\n');
            }
            lb.push(&c);
            while let Some(l) = lb.next_line() {
                if let Ok(l) = l {
                    prop_assert!(l.len() <= MAX_LINE && !l.contains(&b'\n'));
                }
            }
            prop_assert!(lb.pending() <= MAX_LINE + 90_001);
        }
    }
}
