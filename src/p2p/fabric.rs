//! The transport interface the engine runs over lives in `transport::fabric`; this path
//! stays for the layers (and the C surface) that name it from p2p.

pub use crate::transport::fabric::{Fabric, HDR_BYTES, SMALL_SEND_MAX};
