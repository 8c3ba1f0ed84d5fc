//! Collective operations. `internal` has small blocking helpers the library itself needs
//! (agreeing on context ids, exchanging split colours) before user collectives exist on a
//! communicator. User collectives are schedules (`sched`) built by the algorithms in
//! `algo` (intracommunicators) and `inter` (intercommunicators); `reduce` applies an
//! operation to typed buffers.

pub mod algo;
pub mod inter;
pub mod internal;
pub mod reduce;
pub mod sched;
pub mod scratch;
