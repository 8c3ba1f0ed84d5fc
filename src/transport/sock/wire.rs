//! What travels on a socket between two processes of different jobs: a challenge from the
//! listener, a hello that proves the connector knows the listener's secret and says what
//! the connection is for, then — for peer connections — frames of the engine's cells
//! (header + payload).
//!
//! Challenge: 16 random bytes (the nonce), listener → connector, as soon as it accepts.
//! Hello: `OXIMPI02`, kind (u32), the kind's fields, then HMAC-SHA256 under the secret over
//! a domain string, the nonce and everything before the MAC (RFC 2104, `tcp::hmac`). The
//! secret itself never crosses the wire (over TCP anybody on the network may listen), and a
//! recorded hello is worth nothing against the next nonce.
//! * `PEER` (secret: the listener's job token): the connector's process id (gpid, u64), OS
//!   pid (u32), its own job's token (u64) masked with a MAC-derived pad (so the listener can
//!   answer it without the token being readable on the wire) and its place (see `place`) —
//!   after it, frames flow one way, connector → listener;
//! * `PORT` (secret: the port's own, from the port name): the port number (u64) — after
//!   it, the two roots of MPI_Comm_accept / MPI_Comm_connect talk on the connection
//!   directly (see `dpm::connect`).
//!
//! Frame: payload length (u32), the 48-byte header, the payload. All integers little-endian.

use super::place::{Place, PLACE_BYTES};
use crate::transport::tcp::hmac::{hmac_sha256, same_mac};
use std::io::{self, Read, Write};

pub const MAGIC: &[u8; 8] = b"OXIMPI02";
pub const PEER: u32 = 1;
pub const PORT: u32 = 2;
/// Bytes of the listener's challenge.
pub const NONCE_BYTES: usize = 16;
const MAC_BYTES: usize = 32;
const DOMAIN: &[u8] = b"oximpi-sock hello";
const MASK_DOMAIN: &[u8] = b"oximpi-sock token pad";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hello {
    Peer {
        gpid: u64,
        pid: u32,
        token: u64,
        place: Place,
    },
    Port {
        port: u64,
    },
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn mac(key: u64, nonce: &[u8; NONCE_BYTES], body: &[u8]) -> [u8; 32] {
    hmac_sha256(&key.to_le_bytes(), &[DOMAIN, nonce, body])
}

fn token_pad(key: u64, nonce: &[u8; NONCE_BYTES]) -> u64 {
    let p = hmac_sha256(&key.to_le_bytes(), &[MASK_DOMAIN, nonce]);
    u64::from_le_bytes(p[..8].try_into().expect("8 bytes"))
}

/// The bytes of a hello answering challenge `nonce`, under `key` (the listener's token for
/// a peer hello, the port's secret for a port hello).
pub fn encode_hello(key: u64, nonce: &[u8; NONCE_BYTES], h: &Hello) -> Vec<u8> {
    let mut b = Vec::with_capacity(96);
    b.extend_from_slice(MAGIC);
    match h {
        Hello::Peer {
            gpid,
            pid,
            token,
            place,
        } => {
            b.extend_from_slice(&PEER.to_le_bytes());
            b.extend_from_slice(&gpid.to_le_bytes());
            b.extend_from_slice(&pid.to_le_bytes());
            b.extend_from_slice(&(token ^ token_pad(key, nonce)).to_le_bytes());
            b.extend_from_slice(&place.encode());
        }
        Hello::Port { port } => {
            b.extend_from_slice(&PORT.to_le_bytes());
            b.extend_from_slice(&port.to_le_bytes());
        }
    }
    let m = mac(key, nonce, &b);
    b.extend_from_slice(&m);
    b
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u64_of<R: Read + ?Sized>(r: &mut R) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// Bytes that tell a hello's length: the magic and the kind.
pub const HELLO_PREFIX: usize = 12;

/// The whole length of a hello that starts with `prefix` (its first [`HELLO_PREFIX`]
/// bytes), so a listener reading without blocking takes exactly the hello and not a byte
/// of what follows it. Fails when the prefix is not one of a hello.
pub fn hello_len(prefix: &[u8]) -> io::Result<usize> {
    if prefix.len() < HELLO_PREFIX || &prefix[..8] != MAGIC {
        return Err(bad("not an OxiMPI connection"));
    }
    match u32_at(prefix, 8) {
        PEER => Ok(HELLO_PREFIX + 8 + 4 + 8 + PLACE_BYTES + MAC_BYTES),
        PORT => Ok(HELLO_PREFIX + 8 + MAC_BYTES),
        _ => Err(bad("unknown connection kind")),
    }
}

/// Checks the hello in `b` (exactly [`hello_len`] bytes) against challenge `nonce`: a peer
/// hello must carry the MAC under `my_token`, a port hello the one under the secret of its
/// port (`port_secret`; None: no such port). Fails for a stranger, a replay or garbage.
pub fn read_hello(
    b: &[u8],
    nonce: &[u8; NONCE_BYTES],
    my_token: u64,
    port_secret: impl FnOnce(u64) -> Option<u64>,
) -> io::Result<Hello> {
    if b.len() < HELLO_PREFIX || hello_len(&b[..HELLO_PREFIX])? != b.len() {
        return Err(bad("truncated hello"));
    }
    let (body, m) = b.split_at(b.len() - MAC_BYTES);
    let m: &[u8; 32] = m.try_into().expect("32 bytes");
    let (key, hello) = match u32_at(b, 8) {
        PEER => {
            let f = HELLO_PREFIX;
            let place = Place::decode(&b[f + 20..]).ok_or_else(|| bad("bad place"))?;
            let h = Hello::Peer {
                gpid: u64_at(b, f),
                pid: u32_at(b, f + 8),
                token: u64_at(b, f + 12) ^ token_pad(my_token, nonce),
                place,
            };
            (my_token, h)
        }
        _ => {
            let port = u64_at(b, HELLO_PREFIX);
            let key = port_secret(port).ok_or_else(|| bad("no such port"))?;
            (key, Hello::Port { port })
        }
    };
    if !same_mac(&mac(key, nonce, body), m) {
        return Err(bad("wrong secret (the hello's MAC does not match)"));
    }
    Ok(hello)
}

/// Writes one frame: header and payload.
pub fn write_frame<W: Write + ?Sized>(w: &mut W, hdr: &[u8], payload: &[u8]) -> io::Result<()> {
    let mut head = [0u8; 4 + crate::transport::fabric::HDR_BYTES];
    head[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    head[4..].copy_from_slice(hdr);
    w.write_all(&head)?;
    w.write_all(payload)
}

/// Reads one frame into a fresh buffer (header then payload); `max` bounds the payload.
/// `Ok(None)` at a clean end of stream.
pub fn read_frame<R: Read + ?Sized>(r: &mut R, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let n = u32::from_le_bytes(len) as usize;
    if n > max {
        return Err(bad("frame larger than a cell"));
    }
    let mut buf = vec![0u8; crate::transport::fabric::HDR_BYTES + n];
    r.read_exact(&mut buf)?;
    Ok(Some(buf))
}

/// Length-prefixed byte strings, for the roots' exchange on a port connection.
pub fn write_blob<W: Write + ?Sized>(w: &mut W, b: &[u8]) -> io::Result<()> {
    w.write_all(&(b.len() as u64).to_le_bytes())?;
    w.write_all(b)
}

/// Reads a blob of at most `max` bytes.
pub fn read_blob<R: Read + ?Sized>(r: &mut R, max: usize) -> io::Result<Vec<u8>> {
    let n = u64_of(r)? as usize;
    if n > max {
        return Err(bad("message too long"));
    }
    let mut b = vec![0u8; n];
    r.read_exact(&mut b)?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_round_trip_and_secret_check() {
        let nonce = [7u8; NONCE_BYTES];
        let place = Place {
            host: 9,
            tcp: Some("10.0.0.1:99".parse().unwrap()),
        };
        for h in [
            Hello::Peer {
                gpid: 0x1234_5678_9abc,
                pid: 42,
                token: 0xabcd,
                place,
            },
            Hello::Port { port: 7 },
        ] {
            let b = encode_hello(99, &nonce, &h);
            let secret = |p| (p == 7).then_some(99);
            assert_eq!(read_hello(&b, &nonce, 99, secret).unwrap(), h);
            // The secrets themselves are not in the bytes.
            assert!(!b.windows(8).any(|w| w == 99u64.to_le_bytes()));
            assert!(!b.windows(8).any(|w| w == 0xabcdu64.to_le_bytes()));
            // Another secret, another challenge (a replay), a flipped bit: refused.
            assert!(read_hello(&b, &nonce, 98, |_| Some(98)).is_err());
            assert!(read_hello(&b, &[8u8; NONCE_BYTES], 99, secret).is_err());
            let mut c = b.clone();
            c[HELLO_PREFIX] ^= 1;
            assert!(read_hello(&c, &nonce, 99, secret).is_err());
            assert_eq!(hello_len(&b[..HELLO_PREFIX]).unwrap(), b.len());
            // Every truncation is an error, never a panic.
            for cut in 0..b.len() {
                assert!(read_hello(&b[..cut], &nonce, 99, secret).is_err());
            }
        }
        let port = encode_hello(5, &nonce, &Hello::Port { port: 3 });
        assert!(
            read_hello(&port, &nonce, 5, |_| None).is_err(),
            "closed port"
        );
        assert!(read_hello(b"garbage-garbage-garbage", &nonce, 0, |_| None).is_err());
    }

    #[test]
    fn frames_round_trip_and_bounds() {
        let mut out = Vec::new();
        let hdr = [7u8; crate::transport::fabric::HDR_BYTES];
        write_frame(&mut out, &hdr, b"hello").unwrap();
        write_frame(&mut out, &hdr, b"").unwrap();
        let mut r = &out[..];
        let f = read_frame(&mut r, 100).unwrap().unwrap();
        assert_eq!(&f[..48], &hdr[..]);
        assert_eq!(&f[48..], b"hello");
        assert_eq!(read_frame(&mut r, 100).unwrap().unwrap().len(), 48);
        assert!(read_frame(&mut r, 100).unwrap().is_none());
        assert!(read_frame(&mut &out[..], 2).is_err());
    }
}
