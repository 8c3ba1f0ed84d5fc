//! [`PmiError`]: what can go wrong talking to a launcher, whichever protocol it speaks.

use std::fmt;
use std::io;

use super::mapping::MappingError;
use super::wire::WireError;

/// Everything that can go wrong talking to the launcher.
#[derive(Debug)]
pub enum PmiError {
    /// A launcher variable is present but unusable.
    Env {
        var: &'static str,
        value: String,
        why: String,
    },
    Io(io::Error),
    /// The launcher closed the connection.
    Closed,
    /// The launcher sent something we cannot parse or did not expect.
    Protocol(String),
    /// The launcher answered a request with a failure.
    Refused {
        cmd: String,
        rc: i64,
        msg: String,
    },
    KeyNotFound(String),
    /// A key or value we cannot send (too long, or containing space/newline/backslash).
    InvalidArgument(String),
    /// `connect` was called a second time, or a call came after `finalize`.
    WrongState(&'static str),
    /// The launcher for a singleton could not be started or did not answer.
    Launcher(String),
    /// The launcher's protocol (named) has no such service, or OxiMPI does not use it there.
    Unsupported {
        protocol: &'static str,
        what: &'static str,
    },
    /// A launcher library (PMIx) could not be loaded or failed a call.
    Library(String),
}

impl fmt::Display for PmiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PmiError::Env { var, value, why } => write!(f, "PMI: bad {var}={value:?}: {why}"),
            PmiError::Io(e) => write!(f, "PMI: I/O error talking to the launcher: {e}"),
            PmiError::Closed => write!(f, "PMI: the launcher closed the connection"),
            PmiError::Protocol(m) => write!(f, "PMI: protocol error: {m}"),
            PmiError::Refused { cmd, rc, msg } => {
                write!(f, "PMI: launcher refused {cmd} (rc={rc}): {msg}")
            }
            PmiError::KeyNotFound(k) => write!(f, "PMI: key {k:?} not found"),
            PmiError::InvalidArgument(m) => write!(f, "PMI: invalid argument: {m}"),
            PmiError::WrongState(m) => write!(f, "PMI: {m}"),
            PmiError::Launcher(m) => write!(f, "PMI: cannot start a launcher: {m}"),
            PmiError::Unsupported { protocol, what } => {
                write!(f, "PMI: {what} is not available under {protocol}")
            }
            PmiError::Library(m) => write!(f, "PMIx: {m}"),
        }
    }
}

impl std::error::Error for PmiError {}

impl From<io::Error> for PmiError {
    fn from(e: io::Error) -> PmiError {
        PmiError::Io(e)
    }
}

impl From<WireError> for PmiError {
    fn from(e: WireError) -> PmiError {
        PmiError::Protocol(e.to_string())
    }
}

impl From<MappingError> for PmiError {
    fn from(e: MappingError) -> PmiError {
        PmiError::Protocol(e.to_string())
    }
}

/// A launcher's answer with status `rc` (absent means success) to `cmd`, and its message:
/// `Ok` for 0, `Refused` for another number, `Protocol` for something else.
pub(super) fn check_status(cmd: &str, rc: Option<&str>, msg: Option<&str>) -> Result<(), PmiError> {
    match rc {
        None => Ok(()),
        Some(rc) => match rc.trim().parse::<i64>() {
            Ok(0) => Ok(()),
            Ok(rc) => Err(PmiError::Refused {
                cmd: cmd.to_string(),
                rc,
                msg: msg.unwrap_or("").to_string(),
            }),
            Err(_) => Err(PmiError::Protocol(format!(
                "{cmd}: rc={rc:?} is not a number"
            ))),
        },
    }
}
