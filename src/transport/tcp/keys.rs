//! The job's TCP key: from the launcher's secret (`OXIMPI_JOB_SECRET`), or random bytes
//! rank 0 publishes in the KVS as hex (see `runtime`).

use super::hmac;
use std::io;

/// The job's 32-byte key from `OXIMPI_JOB_SECRET`, if the launcher set it.
pub fn key_from_env() -> Option<[u8; 32]> {
    let s = std::env::var("OXIMPI_JOB_SECRET").ok()?;
    Some(hmac::hmac_sha256(s.as_bytes(), &[b"oximpi-tcp key"]))
}

/// A 64-bit secret every rank of the job derives from the job's TCP key (random, from rank
/// 0 through the KVS, when the launcher gave no secret): the token of the socket
/// transport's cards, which must not be guessable from what travels in clear.
pub fn sock_token(key: &[u8; 32]) -> u64 {
    let m = hmac::hmac_sha256(key, &[b"oximpi-sock token"]);
    u64::from_le_bytes(m[..8].try_into().expect("8 bytes"))
}

/// `n` random bytes from the kernel (getrandom(2)).
pub fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    let mut got = 0;
    while got < N {
        // SAFETY: writes at most N - got bytes into b[got..], which is ours.
        let n = unsafe { libc::getrandom(b[got..].as_mut_ptr().cast(), N - got, 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        got += n as usize;
    }
    Ok(b)
}

/// Lower-case hex (keys in the KVS).
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A 32-byte key from 64 hex digits.
pub fn key_from_hex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut k = [0u8; 32];
    for (i, o) in k.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_hex_and_env_secret() {
        let k = random_bytes::<32>().unwrap();
        assert_eq!(key_from_hex(&to_hex(&k)), Some(k));
        assert_eq!(key_from_hex("zz"), None);
        assert_eq!(key_from_hex(&"g".repeat(64)), None);
    }
}
