//! Progress: how the library moves forward while a caller waits.
//!
//! * `wait` — the one blocking loop and its waiting policy: spin a little, then yield, then
//!   sleep on the process's doorbell (MPICH's ch4 progress engine waits the same way in
//!   spirit; the policy is ours: with more ranks than cores a blocked rank must not burn one).
//! * `registry` — the one list of things that advance outside the point-to-point engine
//!   (collective schedules, communicator agreements, RMA target service): each registers a
//!   `Poller`, and every wait and test of the engine runs them.
//! * `nap` — how long a blocked thread sleeps before it runs progress again (a safety net
//!   that grows while nothing happens).
//! * `active` — the active list such pollers keep (operations in flight, advanced in
//!   start order until they finish), written once for all of them.
//!
//! The point-to-point protocols are the loop's first stage: the engine drains its fabric
//! under its own lock inside the step it hands to `wait::block_on`.
//! Arrows: p2p → progress → transport (the doorbell is the fabric's).

pub mod active;
pub mod nap;
pub mod registry;
pub mod wait;

pub use active::{Active, Advance};
pub use registry::{FnPoller, Poller, Registry};
pub use wait::{block_on, Doorbell, WaitPolicy};
