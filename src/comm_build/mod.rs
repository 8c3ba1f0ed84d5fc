//! The protocols that build communicators: every member of a new communicator must agree on
//! its context id and learn its group. Above coll (they use its internal gather/broadcast
//! helpers) and below abi, dpm, topo, rma and io, which build communicators through them.
//!
//! * `create` — the blocking context-id agreement (propose, take the largest, retry) and
//!   the constructors built on it (dup, split, create, create_group, intercomm_create ...).
//! * `idup` — the same agreement as a state machine advanced by the progress registry
//!   (MPI_Comm_idup and friends).
//! * `group_net` — blocking exchanges among a group's members by endpoint, before the
//!   communicator exists.
//! * `two_sided` — two groups meeting as the sides of an intercommunicator (within a job, and
//!   across jobs for dpm).

pub mod create;
pub mod group_net;
pub mod idup;
pub mod two_sided;
