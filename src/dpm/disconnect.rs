//! MPI_Comm_disconnect: waits for every pending operation on the communicator, here and in
//! every other member, before the communicator goes away — so two jobs can part without a
//! message still in flight between them.

use crate::coll::internal::INTERNAL_TAG;
use crate::comm_build::group_net::{recv_from, send_to};
use crate::error::MpiError;
use crate::object::comm::Comm;
use crate::object::context::STRIDE;
use crate::runtime::Runtime;

/// Tag of the farewell messages (collective context, internal range).
const BYE_TAG: i32 = INTERNAL_TAG + (1 << 27) + 1;

/// Collective over `c` (both groups of an intercommunicator). The caller frees the handle.
pub fn disconnect(rt: &Runtime, c: &Comm) -> Result<(), MpiError> {
    rt.engine
        .drain_contexts(c.context_id..c.context_id + STRIDE);
    // Everybody says goodbye to everybody it could talk to, and hears it back: after that no
    // member has anything left in flight on this communicator.
    let ctx = c.coll_context();
    let me = c.rank as i32;
    let others = |r: usize| c.is_inter() || r != c.rank as usize;
    for r in (0..c.peer_size()).filter(|&r| others(r)) {
        send_to(&rt.engine, c.peer(r), ctx, me, BYE_TAG, &[])?;
    }
    for r in (0..c.peer_size()).filter(|&r| others(r)) {
        recv_from(&rt.engine, ctx, r as i32, BYE_TAG, &mut [])?;
    }
    Ok(())
}
