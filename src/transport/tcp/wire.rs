//! What travels on a TCP connection between two ranks of one job.
//!
//! Handshake (the listener speaks first; every read is bounded in size and time):
//! 1. listener → connector: `OXTCP001`, the listener's world rank (u32), a fresh 32-byte
//!    nonce `ns`;
//! 2. connector → listener: `OXTCP001`, its world rank (u32), its nonce `nc`, and
//!    `HMAC(key, "oximpi-tcp connector" | ns | nc | connector rank | listener rank)`;
//! 3. listener → connector: `HMAC(key, "oximpi-tcp listener" | nc | ns | listener rank |
//!    connector rank)`: the connector also knows it reached a process of its job.
//!
//! Fresh nonces on both sides make a recorded handshake useless for a replay; the ranks
//! in the MAC stop a proof made for one pair from being used for another. The key itself
//! never crosses the wire.
//!
//! After it, frames flow one way (connector → listener), each a type byte then:
//! * `CELL`: payload length (u32), the engine's 48-byte header, the payload;
//! * `PULL`: request id (u64), range count (u32), then (address, length) u64 pairs: "write
//!   me these bytes of your memory" (the rendezvous read, see the module above);
//! * `DATA`: request id (u64), length (u64) then that many raw bytes, the answer to a
//!   `PULL` (length [`REFUSED`]: no bytes follow, the pull failed);
//! * `BYE`: nothing more: the sender's process is exiting normally, so the end of the
//!   stream that follows is not a lost peer (see `liveness`).
//!
//! Integers are little-endian; the engine's header is copied as it is (native order: the
//! hosts of one job are assumed to share a byte order, as MPICH's ch4 assumes).

use super::hmac::{hmac_sha256, same_mac};
use std::io::{self, Read};

pub const MAGIC: &[u8; 8] = b"OXTCP001";
pub const NONCE: usize = 32;
pub const MAC: usize = 32;
/// Listener's hello: magic, rank, nonce.
pub const SERVER_HELLO: usize = 8 + 4 + NONCE;
/// Connector's answer: magic, rank, nonce, MAC.
pub const CLIENT_HELLO: usize = 8 + 4 + NONCE + MAC;

pub const CELL: u8 = 1;
pub const PULL: u8 = 2;
pub const DATA: u8 = 3;
pub const BYE: u8 = 4;
/// A `DATA` length that says the pull was refused.
pub const REFUSED: u64 = u64::MAX;
/// Most ranges one `PULL` may name (the engine asks for one).
pub const MAX_RANGES: usize = 64;

fn bad(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

pub fn server_hello(rank: u32, nonce: &[u8; NONCE]) -> [u8; SERVER_HELLO] {
    let mut b = [0u8; SERVER_HELLO];
    b[..8].copy_from_slice(MAGIC);
    b[8..12].copy_from_slice(&rank.to_le_bytes());
    b[12..].copy_from_slice(nonce);
    b
}

/// The listener's rank and nonce from its hello; fails on anything else.
pub fn parse_server_hello(b: &[u8; SERVER_HELLO]) -> io::Result<(u32, [u8; NONCE])> {
    if &b[..8] != MAGIC {
        return Err(bad("the listener is not an OxiMPI TCP endpoint".into()));
    }
    let rank = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
    Ok((rank, b[12..].try_into().expect("nonce")))
}

fn connector_mac(key: &[u8; 32], ns: &[u8], nc: &[u8], from: u32, to: u32) -> [u8; MAC] {
    hmac_sha256(
        key,
        &[
            b"oximpi-tcp connector",
            ns,
            nc,
            &from.to_le_bytes(),
            &to.to_le_bytes(),
        ],
    )
}

fn listener_mac(key: &[u8; 32], nc: &[u8], ns: &[u8], from: u32, to: u32) -> [u8; MAC] {
    hmac_sha256(
        key,
        &[
            b"oximpi-tcp listener",
            nc,
            ns,
            &from.to_le_bytes(),
            &to.to_le_bytes(),
        ],
    )
}

/// The connector's answer to a listener (rank `to`) whose nonce is `ns`.
pub fn client_hello(
    key: &[u8; 32],
    me: u32,
    to: u32,
    ns: &[u8; NONCE],
    nc: &[u8; NONCE],
) -> [u8; CLIENT_HELLO] {
    let mut b = [0u8; CLIENT_HELLO];
    b[..8].copy_from_slice(MAGIC);
    b[8..12].copy_from_slice(&me.to_le_bytes());
    b[12..44].copy_from_slice(nc);
    b[44..].copy_from_slice(&connector_mac(key, ns, nc, me, to));
    b
}

/// Checks a connector's answer to our (`me`, nonce `ns`) hello: its rank and nonce, or why
/// it is refused.
pub fn check_client_hello(
    key: &[u8; 32],
    me: u32,
    ns: &[u8; NONCE],
    b: &[u8; CLIENT_HELLO],
) -> io::Result<(u32, [u8; NONCE])> {
    if &b[..8] != MAGIC {
        return Err(bad("not an OxiMPI TCP connection".into()));
    }
    let from = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
    let nc: [u8; NONCE] = b[12..44].try_into().expect("nonce");
    let mac: [u8; MAC] = b[44..].try_into().expect("mac");
    if !same_mac(&mac, &connector_mac(key, ns, &nc, from, me)) {
        return Err(bad(format!(
            "it does not know the job's secret (claimed rank {from})"
        )));
    }
    Ok((from, nc))
}

/// The listener's proof, sent once the connector is accepted.
pub fn listener_proof(key: &[u8; 32], me: u32, to: u32, nc: &[u8], ns: &[u8]) -> [u8; MAC] {
    listener_mac(key, nc, ns, me, to)
}

/// Checks the listener's proof on the connector's side.
pub fn check_listener_proof(
    key: &[u8; 32],
    me: u32,
    listener: u32,
    nc: &[u8],
    ns: &[u8],
    proof: &[u8; MAC],
) -> io::Result<()> {
    if same_mac(proof, &listener_mac(key, nc, ns, listener, me)) {
        Ok(())
    } else {
        Err(bad(format!(
            "rank {listener}'s address answered without the job's secret"
        )))
    }
}

pub fn u32_of<R: Read + ?Sized>(r: &mut R) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

pub fn u64_of<R: Read + ?Sized>(r: &mut R) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// The head of a `CELL` frame (type, length, header); the payload follows.
pub fn cell_head(hdr: &[u8], len: usize) -> [u8; 5 + crate::transport::fabric::HDR_BYTES] {
    let mut b = [0u8; 5 + crate::transport::fabric::HDR_BYTES];
    b[0] = CELL;
    b[1..5].copy_from_slice(&(len as u32).to_le_bytes());
    b[5..].copy_from_slice(hdr);
    b
}

/// A whole `PULL` frame.
pub fn pull(id: u64, ranges: &[(usize, usize)]) -> Vec<u8> {
    let mut b = Vec::with_capacity(13 + 16 * ranges.len());
    b.push(PULL);
    b.extend_from_slice(&id.to_le_bytes());
    b.extend_from_slice(&(ranges.len() as u32).to_le_bytes());
    for &(a, l) in ranges {
        b.extend_from_slice(&(a as u64).to_le_bytes());
        b.extend_from_slice(&(l as u64).to_le_bytes());
    }
    b
}

/// Reads the body of a `PULL` frame (after its type byte).
pub fn read_pull<R: Read + ?Sized>(r: &mut R) -> io::Result<(u64, Vec<(usize, usize)>)> {
    let id = u64_of(r)?;
    let n = u32_of(r)? as usize;
    if n > MAX_RANGES {
        return Err(bad(format!("a pull of {n} ranges (at most {MAX_RANGES})")));
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let a = u64_of(r)? as usize;
        let l = u64_of(r)? as usize;
        v.push((a, l));
    }
    Ok((id, v))
}

/// The head of a `DATA` frame; `len` raw bytes follow (none if [`REFUSED`]).
pub fn data_head(id: u64, len: u64) -> [u8; 17] {
    let mut b = [0u8; 17];
    b[0] = DATA;
    b[1..9].copy_from_slice(&id.to_le_bytes());
    b[9..].copy_from_slice(&len.to_le_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_proofs_bind_key_nonces_and_ranks() {
        let key = [7u8; 32];
        let ns = [1u8; NONCE];
        let nc = [2u8; NONCE];
        let (r, n) = parse_server_hello(&server_hello(3, &ns)).unwrap();
        assert_eq!((r, n), (3, ns));
        let ch = client_hello(&key, 1, 3, &ns, &nc);
        assert_eq!(check_client_hello(&key, 3, &ns, &ch).unwrap(), (1, nc));
        // Another key, another listener or another nonce: refused.
        assert!(check_client_hello(&[8u8; 32], 3, &ns, &ch).is_err());
        assert!(check_client_hello(&key, 2, &ns, &ch).is_err());
        assert!(check_client_hello(&key, 3, &[9u8; NONCE], &ch).is_err());
        let mut garbage = ch;
        garbage[0] = b'G';
        assert!(check_client_hello(&key, 3, &ns, &garbage).is_err());
        let p = listener_proof(&key, 3, 1, &nc, &ns);
        assert!(check_listener_proof(&key, 1, 3, &nc, &ns, &p).is_ok());
        assert!(check_listener_proof(&key, 1, 2, &nc, &ns, &p).is_err());
        assert!(check_listener_proof(&[0u8; 32], 1, 3, &nc, &ns, &p).is_err());
        // A connector's MAC is not a listener's proof (no reflection).
        let mac: [u8; MAC] = ch[44..].try_into().unwrap();
        assert!(check_listener_proof(&key, 1, 3, &nc, &ns, &mac).is_err());
    }

    #[test]
    fn pull_round_trip_and_bounds() {
        let f = pull(9, &[(0x1000, 5), (0x2000, 7)]);
        assert_eq!(f[0], PULL);
        let (id, r) = read_pull(&mut &f[1..]).unwrap();
        assert_eq!((id, r), (9, vec![(0x1000, 5), (0x2000, 7)]));
        let many = pull(1, &vec![(0, 0); MAX_RANGES + 1]);
        assert!(read_pull(&mut &many[1..]).is_err());
        for cut in 1..f.len() {
            assert!(read_pull(&mut &f[1..cut]).is_err());
        }
    }
}
