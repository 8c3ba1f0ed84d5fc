//! Collective operations. `internal` has small blocking helpers the library itself needs
//! (agreeing on context ids, exchanging split colours) before user collectives exist on a
//! communicator.

pub mod internal;
