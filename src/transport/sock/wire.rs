//! What travels on a socket between two processes of different jobs: a hello that proves
//! the connector knows the listener's secret and says what the connection is for, then —
//! for peer connections — frames of the engine's cells (header + payload).
//!
//! Hello: `OXIMPI01`, kind (u32), the listener's token (u64), then
//! * `PEER`: the connector's process id (gpid, u64), OS pid (u32) and its job's token
//!   (u64) — after it, frames flow one way, connector → listener;
//! * `PORT`: the port number (u64) — after it, the two roots of MPI_Comm_accept /
//!   MPI_Comm_connect talk on the connection directly (see `dpm::connect`).
//!
//! Frame: payload length (u32), the 48-byte header, the payload. All integers little-endian.

use std::io::{self, Read, Write};

pub const MAGIC: &[u8; 8] = b"OXIMPI01";
pub const PEER: u32 = 1;
pub const PORT: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hello {
    Peer { gpid: u64, pid: u32, token: u64 },
    Port { port: u64 },
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// The bytes of a hello to a listener whose token is `token`.
pub fn encode_hello(token: u64, h: &Hello) -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    b.extend_from_slice(MAGIC);
    match h {
        Hello::Peer {
            gpid,
            pid,
            token: theirs,
        } => {
            b.extend_from_slice(&PEER.to_le_bytes());
            b.extend_from_slice(&token.to_le_bytes());
            b.extend_from_slice(&gpid.to_le_bytes());
            b.extend_from_slice(&pid.to_le_bytes());
            b.extend_from_slice(&theirs.to_le_bytes());
        }
        Hello::Port { port } => {
            b.extend_from_slice(&PORT.to_le_bytes());
            b.extend_from_slice(&token.to_le_bytes());
            b.extend_from_slice(&port.to_le_bytes());
        }
    }
    b
}

fn u32_of<R: Read + ?Sized>(r: &mut R) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
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
    let kind = u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]);
    // magic, kind, token, then the kind's fields.
    match kind {
        PEER => Ok(HELLO_PREFIX + 8 + 8 + 4 + 8),
        PORT => Ok(HELLO_PREFIX + 8 + 8),
        _ => Err(bad("unknown connection kind")),
    }
}

/// Reads a hello; fails unless it carries `token` (a stranger, or garbage).
pub fn read_hello<R: Read + ?Sized>(r: &mut R, token: u64) -> io::Result<Hello> {
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(bad("not an OxiMPI connection"));
    }
    let kind = u32_of(r)?;
    if u64_of(r)? != token {
        return Err(bad("wrong token"));
    }
    match kind {
        PEER => {
            let gpid = u64_of(r)?;
            let pid = u32_of(r)?;
            let token = u64_of(r)?;
            Ok(Hello::Peer { gpid, pid, token })
        }
        PORT => Ok(Hello::Port { port: u64_of(r)? }),
        _ => Err(bad("unknown connection kind")),
    }
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
    fn hello_round_trip_and_token_check() {
        for h in [
            Hello::Peer {
                gpid: 0x1234_5678_9abc,
                pid: 42,
                token: 0xabcd,
            },
            Hello::Port { port: 7 },
        ] {
            let b = encode_hello(99, &h);
            assert_eq!(read_hello(&mut &b[..], 99).unwrap(), h);
            assert!(read_hello(&mut &b[..], 98).is_err());
            assert_eq!(hello_len(&b[..HELLO_PREFIX]).unwrap(), b.len());
            // Every truncation is an error, never a panic.
            for cut in 0..b.len() {
                assert!(read_hello(&mut &b[..cut], 99).is_err());
            }
        }
        assert!(read_hello(&mut &b"garbage-garbage-garbage"[..], 0).is_err());
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
