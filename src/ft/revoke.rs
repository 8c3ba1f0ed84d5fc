//! MPIX_Comm_revoke: every member learns that a communicator is revoked, even the ones
//! that are not calling MPI on it, and even if the revoker fails while announcing it.
//!
//! The revoker marks the communicator and sends a notice (an empty message with
//! `REVOKE_TAG` on the communicator's collective context) to every other member. Nobody
//! posts a receive for it: the fault-tolerance poller takes notices out of the unexpected
//! queue (`poll_notices`). In a fault-tolerant run, a member that learns of a revoke for the
//! first time forwards the notice to all members but its sender before anything else
//! (reliable broadcast: if any survivor got the notice, all do, even if the revoker died
//! while announcing it). Outside one no process can die mid-announce, so nothing is
//! forwarded.
//!
//! A notice names a communicator by its context block, which is reused once every local
//! communicator of the block is freed. A notice for a block no communicator holds here is
//! dropped (it is late: its communicator is gone). Forwarded copies can still arrive late,
//! after the block was freed and taken again by a new communicator, which they would revoke
//! wrongly: one more reason to forward only when a revoker may die. Marked communicators have their pending operations ended with
//! MPIX_ERR_REVOKED by the sweep (`members::judge`), agreement traffic excepted.

use super::members;
use crate::p2p::NodeEngine;

/// The tag of revoke notices (just below the agreements' range).
pub const REVOKE_TAG: i32 = crate::p2p::matching::CONTROL_TAG;

/// Marks the communicator of context block `ctx` revoked and tells `eps` (every member's
/// endpoint; `me` is my rank among them). Returns false if it was already revoked (then
/// nothing is sent: whoever revoked it first told everybody).
pub fn revoke(e: &NodeEngine, ctx: u32, eps: &[u32], me: usize) -> bool {
    if !super::revoke(ctx) {
        return false;
    }
    announce(e, ctx, eps, me, None);
    true
}

/// Sends the notice to every live member but me and `skip`.
fn announce(e: &NodeEngine, ctx: u32, eps: &[u32], me: usize, skip: Option<usize>) {
    for (r, &ep) in eps.iter().enumerate() {
        if r != me && Some(r) != skip && !super::is_failed(ep) {
            // A member that is gone cannot take it; nothing to report.
            let _ = e.send_bytes(ep, ctx + 1, me as i32, REVOKE_TAG, &[]);
        }
    }
}

/// Takes the revoke notices that arrived; marks and forwards the new ones. True if any.
pub fn poll_notices(e: &NodeEngine, my_ep: u32) -> bool {
    let got = e.take_tagged(REVOKE_TAG);
    let mut any = false;
    for (cctx, src) in got {
        let ctx = cctx - 1;
        let Some(eps) = members::members_of(ctx) else {
            continue;
        };
        if !super::revoke(ctx) {
            continue;
        }
        any = true;
        if members::fault_tolerant() {
            if let Some(me) = eps.iter().position(|&p| p == my_ep) {
                announce(e, ctx, &eps, me, usize::try_from(src).ok());
            }
        }
    }
    any
}
