//! Where a process of another job listens: on which host (so that peers on the same host
//! use its Unix socket, and single-copy reads) and at which TCP address (for peers on other
//! hosts). A `Card` says *who* a process is and which secret it accepts; its `Place` says
//! where to knock. Places travel with process lists between jobs (`dpm::endpoints`) and in
//! port names, and this process keeps what it learnt in a directory by process id.
//!
//! "Same host" means what a Unix socket in the abstract namespace can reach: the same
//! kernel (boot id) *and* the same network namespace (abstract names are per network
//! namespace). So two containers, or the namespace test hosts of tests-hosts, are different
//! hosts, as two machines are.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::OnceLock;

/// Bytes of a place on the wire: host id (u64), IPv4 address, TCP port (0: none).
pub const PLACE_BYTES: usize = 8 + 4 + 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Place {
    /// [`this_host`] of the process; 0 when not known (then it is taken to be this host,
    /// the only case before processes could live elsewhere).
    pub host: u64,
    /// Its TCP listener, if it has one.
    pub tcp: Option<SocketAddrV4>,
}

impl Place {
    /// Whether a process at this place is reached through its Unix socket.
    pub fn is_local(&self) -> bool {
        self.host == 0 || self.host == this_host()
    }

    pub fn encode(&self) -> [u8; PLACE_BYTES] {
        let mut b = [0u8; PLACE_BYTES];
        b[..8].copy_from_slice(&self.host.to_le_bytes());
        if let Some(a) = self.tcp {
            b[8..12].copy_from_slice(&a.ip().octets());
            b[12..].copy_from_slice(&a.port().to_le_bytes());
        }
        b
    }

    /// The place in `b` (at least [`PLACE_BYTES`] long).
    pub fn decode(b: &[u8]) -> Option<Place> {
        let b: &[u8; PLACE_BYTES] = b.get(..PLACE_BYTES)?.try_into().ok()?;
        let host = u64::from_le_bytes(b[..8].try_into().ok()?);
        let ip = Ipv4Addr::new(b[8], b[9], b[10], b[11]);
        let port = u16::from_le_bytes([b[12], b[13]]);
        Some(Place {
            host,
            tcp: (port != 0).then_some(SocketAddrV4::new(ip, port)),
        })
    }
}

/// This host's id: a hash of the kernel's boot id and our network namespace.
pub fn this_host() -> u64 {
    static HOST: OnceLock<u64> = OnceLock::new();
    *HOST.get_or_init(|| {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
        let netns = std::fs::read_link("/proc/self/ns/net")
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let h = super::super::tcp::hmac::sha256(format!("{boot}|{netns}").as_bytes());
        // Never 0, which means "unknown".
        u64::from_le_bytes(h[..8].try_into().expect("8 bytes")).max(1)
    })
}

/// The address a process of this host was seen to listen on (see [`hint_from`]).
static ADDRESS_HINT: OnceLock<Ipv4Addr> = OnceLock::new();

/// Takes the TCP address of a process at `place` as ours when it is on this host: finding
/// the address (host name lookup, interface list) costs more than the rest of a spawned
/// child's start-up, and a process of the same host, asked the same way, got the answer.
/// Called with the parents' port before a spawned child listens.
pub fn hint_from(place: Place) {
    if let Some(a) = place.tcp.filter(|_| place.host == this_host()) {
        let _ = ADDRESS_HINT.set(*a.ip());
    }
}

/// The address [`hint_from`] learnt, if any.
pub fn address_hint() -> Option<Ipv4Addr> {
    ADDRESS_HINT.get().copied()
}

fn directory() -> &'static Mutex<HashMap<u64, Place>> {
    static DIR: OnceLock<Mutex<HashMap<u64, Place>>> = OnceLock::new();
    DIR.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Records where process `gpid` listens (what an authenticated peer or our own job said).
pub fn learn(gpid: u64, place: Place) {
    if place != Place::default() {
        directory().lock().insert(gpid, place);
    }
}

/// Records a place only if none is known yet (a port name: anybody may write one, so it
/// never overrides what the process itself told us).
pub fn learn_if_unknown(gpid: u64, place: Place) {
    if place != Place::default() {
        directory().lock().entry(gpid).or_insert(place);
    }
}

/// Where process `gpid` listens, as far as we know (unknown: this host, see [`Place`]).
pub fn lookup(gpid: u64) -> Place {
    directory().lock().get(&gpid).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_round_trip_and_this_host_is_local() {
        let p = Place {
            host: 0x1234_5678_9abc_def0,
            tcp: Some("10.77.0.1:4567".parse().unwrap()),
        };
        assert_eq!(Place::decode(&p.encode()), Some(p));
        assert_eq!(
            Place::decode(&Place::default().encode()),
            Some(Place::default())
        );
        assert_eq!(Place::decode(&[0u8; 3]), None);
        assert!(Place::default().is_local());
        assert!(Place {
            host: this_host(),
            tcp: None
        }
        .is_local());
        assert!(!p.is_local() || this_host() == p.host);
        assert_eq!(this_host(), this_host());
    }
}
