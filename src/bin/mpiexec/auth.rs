//! Proving the job secret on the proxy connection, without sending it: each side sends a
//! random 32-byte challenge and answers the other's with
//! `HMAC-SHA256(secret, label || challenge)`, where the label says which side answers (so an
//! answer cannot be reflected back). SHA-256 is FIPS 180-4, HMAC is RFC 2104.
//!
//! SHA-256 and HMAC are the library's (`mpi::transport::tcp::hmac`, which the TCP transport
//! uses for the same proof between ranks).

use mpi::transport::tcp::hmac::{hmac_sha256, same_mac};
use std::fs::File;
use std::io::{self, Read, Write};

/// Bytes of a challenge and of an answer.
pub const LEN: usize = 32;

/// `n` random bytes from the kernel.
pub fn random_bytes(n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf)
}

/// Which side of the connection answers a challenge.
#[derive(Clone, Copy)]
pub enum Side {
    Launcher,
    Proxy,
}

fn answer(secret: &[u8], side: Side, challenge: &[u8]) -> [u8; 32] {
    let label: &[u8] = match side {
        Side::Launcher => b"oximpi-launcher\0",
        Side::Proxy => b"oximpi-proxy\0",
    };
    hmac_sha256(secret, &[label, challenge])
}

/// Runs the mutual challenge on a fresh blocking stream as `me`; Ok when the peer proved
/// the secret. Both sides send their challenge first, so neither waits for the other.
pub fn handshake<S: Read + Write>(stream: &mut S, secret: &[u8], me: Side) -> io::Result<()> {
    let mine = random_bytes(LEN)?;
    stream.write_all(&mine)?;
    let mut theirs = [0u8; LEN];
    stream.read_exact(&mut theirs)?;
    stream.write_all(&answer(secret, me, &theirs))?;
    let peer = match me {
        Side::Launcher => Side::Proxy,
        Side::Proxy => Side::Launcher,
    };
    let mut got = [0u8; LEN];
    stream.read_exact(&mut got)?;
    // Constant time: an attacker learns nothing from how long a refusal takes.
    if same_mac(&got, &answer(secret, peer, &mine)) {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the peer does not know the job secret",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_accepts_the_secret_and_refuses_others() {
        use std::os::unix::net::UnixStream;
        for (a, b, ok) in [(b"s1", b"s1", true), (b"s1", b"s2", false)] {
            let (mut x, mut y) = UnixStream::pair().unwrap();
            let t = std::thread::spawn(move || handshake(&mut y, b, Side::Proxy).is_ok());
            let mine = handshake(&mut x, a, Side::Launcher).is_ok();
            let theirs = t.join().unwrap();
            assert_eq!((mine, theirs), (ok, ok));
        }
    }
}
