//! Point-to-point: matching, eager and rendezvous protocols, requests, probe/mprobe,
//! cancel. Works on endpoints and context ids; knows nothing of groups or C handles.

pub mod bsend;
pub mod buffered;
pub mod data;
pub mod engine;
pub mod fabric;
pub mod header;
pub mod matching;
pub mod partitioned;
pub mod request;

pub use data::{Data, TypeKeep};
pub use engine::{Engine, MsgId, Reaped, RecvArgs, SendArgs, Started};
pub use matching::ANY_SOURCE;

/// The engine of a real process: over the node segment and the sockets to other jobs.
/// Layers above name this alias, never the fabric type.
pub type NodeEngine = Engine<crate::transport::net::Net>;
pub use request::{Kind, Mode, ReqId, Starter, Status};
#[cfg(test)]
mod tests;
