//! Port names (MPI_Open_port): `oximpi-port:<gpid>:<token>:<number>` in hex — which
//! process listens, the token it accepts, and which of its ports.

use crate::error::{class, MpiError};
use crate::runtime::Runtime;
use crate::transport::links::Card;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub card: Card,
    pub number: u64,
}

const PREFIX: &str = "oximpi-port:";

impl Port {
    pub fn name(&self) -> String {
        format!(
            "{PREFIX}{:x}:{:x}:{:x}",
            self.card.gpid, self.card.token, self.number
        )
    }

    pub fn parse(s: &str) -> Option<Port> {
        let rest = s.trim_end_matches('\0').strip_prefix(PREFIX)?;
        let mut it = rest.split(':').map(|p| u64::from_str_radix(p, 16).ok());
        let (gpid, token, number) = (it.next()??, it.next()??, it.next()??);
        if it.next().is_some() {
            return None;
        }
        Some(Port {
            card: Card { gpid, token },
            number,
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
    Ok(Port { card, number }.name())
}

/// A port of this process named `name`, checked to be open.
pub fn mine(rt: &Runtime, name: &str) -> Result<u64, MpiError> {
    let p = Port::parse(name).ok_or_else(|| bad_port(name))?;
    let me = crate::dpm::endpoints::card_of(rt, rt.rank)?;
    if p.card != me || !rt.links().port_is_open(p.number) {
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
        let p = Port {
            card: Card {
                gpid: 0xabcdef_000003,
                token: 0x1234,
            },
            number: 9,
        };
        assert_eq!(Port::parse(&p.name()), Some(p));
        assert_eq!(Port::parse("oximpi-port:1:2"), None);
        assert_eq!(Port::parse("oximpi-port:1:2:3:4"), None);
        assert_eq!(Port::parse("tcp://host:1"), None);
        assert!(p.name().len() < 256, "fits MPI_MAX_PORT_NAME");
    }
}
