//! Port names (MPI_Open_port):
//! `oximpi-port:<gpid>:<secret>:<number>:<host>@<ip>:<tcp port>` (the first four in hex) —
//! which process listens, the port's own random secret, which of its ports, and where the
//! process is: its host id and TCP address, so a process on any host can connect (MPICH's
//! port names carry host and port too). As with MPICH, having the name is what authorizes a
//! connection; the secret is proved with a MAC, never sent (see `transport::sock::wire`).

use crate::error::{class, MpiError};
use crate::runtime::Runtime;
use crate::transport::links::Card;
use crate::transport::sock::place::{self, Place};
use std::net::SocketAddrV4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    /// The listening process, with the port's secret as its token.
    pub card: Card,
    pub number: u64,
    pub place: Place,
}

const PREFIX: &str = "oximpi-port:";

impl Port {
    pub fn name(&self) -> String {
        let tcp = self
            .place
            .tcp
            .unwrap_or_else(|| SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0));
        format!(
            "{PREFIX}{:x}:{:x}:{:x}:{:x}@{tcp}",
            self.card.gpid, self.card.token, self.number, self.place.host
        )
    }

    pub fn parse(s: &str) -> Option<Port> {
        let rest = s.trim_end_matches('\0').strip_prefix(PREFIX)?;
        let (ids, addr) = rest.split_once('@')?;
        let mut it = ids.split(':').map(|p| u64::from_str_radix(p, 16).ok());
        let (gpid, token, number, host) = (it.next()??, it.next()??, it.next()??, it.next()??);
        if it.next().is_some() {
            return None;
        }
        let tcp: SocketAddrV4 = addr.parse().ok()?;
        Some(Port {
            card: Card { gpid, token },
            number,
            place: Place {
                host,
                tcp: (tcp.port() != 0).then_some(tcp),
            },
        })
    }
}

fn bad_port(name: &str) -> MpiError {
    MpiError::arg(
        class::ERR_PORT,
        "port_name",
        format!("'{name}' is not a port name of this MPI"),
    )
}

/// MPI_Open_port: a new port of this process.
pub fn open(rt: &Runtime) -> Result<String, MpiError> {
    let (card, number) = rt
        .links()
        .open_port()
        .map_err(|e| MpiError::new(class::ERR_OTHER, format!("cannot open a port: {e}")))?;
    Ok(Port {
        card,
        number,
        place: place::lookup(card.gpid),
    }
    .name())
}

/// A port of this process named `name`, checked to be open.
pub fn mine(rt: &Runtime, name: &str) -> Result<u64, MpiError> {
    let p = Port::parse(name).ok_or_else(|| bad_port(name))?;
    let me = crate::dpm::endpoints::card_of(rt, rt.rank)?;
    if p.card.gpid != me.gpid || !rt.links().port_is_open(p.number) {
        return Err(MpiError::arg(
            class::ERR_PORT,
            "port_name",
            format!("'{name}' is not an open port of this process"),
        ));
    }
    Ok(p.number)
}

/// MPI_Close_port.
pub fn close(rt: &Runtime, name: &str) -> Result<(), MpiError> {
    let n = mine(rt, name)?;
    rt.links().close_port(n);
    Ok(())
}

/// The port named `name` (of any process).
pub fn parse(name: &str) -> Result<Port, MpiError> {
    Port::parse(name).ok_or_else(|| bad_port(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let mut p = Port {
            card: Card {
                gpid: 0xabcdef_000003,
                token: 0x1234,
            },
            number: 9,
            place: Place {
                host: u64::MAX,
                tcp: Some("255.255.255.255:65535".parse().unwrap()),
            },
        };
        assert_eq!(Port::parse(&p.name()), Some(p));
        assert!(
            p.name().contains("@255.255.255.255:65535"),
            "host:port visible"
        );
        p.place.tcp = None;
        assert_eq!(Port::parse(&p.name()), Some(p));
        assert_eq!(Port::parse("oximpi-port:1:2"), None);
        assert_eq!(Port::parse("oximpi-port:1:2:3:4"), None);
        assert_eq!(Port::parse("oximpi-port:1:2:3:4@1.2.3.4"), None);
        assert_eq!(Port::parse("oximpi-port:1:2:3:4:5@1.2.3.4:5"), None);
        assert_eq!(Port::parse("tcp://host:1"), None);
        assert!(p.name().len() < 256, "fits MPI_MAX_PORT_NAME");
    }
}
