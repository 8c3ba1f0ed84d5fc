//! Collective operations. `internal` has small blocking helpers the library itself needs
//! (agreeing on context ids, exchanging split colours) before user collectives exist on a
//! communicator. User collectives are schedules (`sched`) built by the algorithms in
//! `algo` (intracommunicators) and `inter` (intercommunicators); `reduce` applies an
//! operation to typed buffers; `scratch` recycles schedules' large scratch buffers. `shm` is
//! the shared-memory route of the small blocking collectives on a node.

pub mod algo;
pub mod inter;
pub mod internal;
pub mod reduce;
pub mod sched;
pub mod scratch;
pub mod shm;
