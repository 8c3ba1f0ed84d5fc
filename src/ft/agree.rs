//! Fault-tolerant agreement over a communicator whose members may fail while it runs
//! (MPIX_Comm_agree, and the two agreements inside MPIX_Comm_shrink).
//!
//! Each member contributes a flag (combined with bitwise AND), a value (combined with MAX)
//! and the set of members it knows failed (combined by union). The algorithm is a rotating
//! coordinator with uniform reliable broadcast of the decision (Chandra & Toueg, "Unreliable
//! failure detectors for reliable distributed systems", JACM 1996, with a perfect detector;
//! the ULFM design in Bland et al., "Post-failure recovery of MPI communication capability",
//! IJHPCA 2013, uses the same detector assumption):
//! * the coordinator is the lowest-ranked member not known to have failed;
//! * every other member sends its contribution to the coordinator (again to each new one);
//! * the coordinator decides once it holds the contribution of every member not known to
//!   have failed, and sends the decision to all; any member that receives a decision sends
//!   it on to all others before it returns it (the relay), then returns.
//!
//! Why it is correct with the launcher's notices, which are a perfect failure detector
//! (a rank is reported only after it exited, and every exit is reported):
//! * Termination: the coordinator waits only for members not reported failed; a member
//!   that exits is reported, so the wait ends. If the coordinator exits, it is reported to
//!   everyone, and the next live member becomes coordinator and gets every survivor's
//!   contribution (each sends to every new coordinator). Coordinators only move up, so at
//!   most `size` rounds run.
//! * Agreement: decisions are only made by a coordinator, and a coordinator decides only
//!   if no decision reached it first. If a decision reached any member that survives, that
//!   member relays it to all others before returning, so every survivor receives the same
//!   decision rather than waiting for a new coordinator's. Two coordinators cannot both
//!   decide: a later one exists only after the earlier one exited, and if the earlier one
//!   sent its decision to anyone alive, the relay reaches the later one, which adopts it
//!   (messages between two processes are delivered in order, and a relayed decision is
//!   received before the new coordinator can hold all contributions, since the relaying
//!   member sends its relay before any later contribution).
//! * Validity: the flag is the AND of the contributions the decider merged: every survivor's
//!   and those of members that failed after contributing.
//!
//! Messages go on the communicator's collective context with tags in `[AGREE_TAG,
//! AGREE_TAG + SEQ_SPACE)`, one tag per agreement (the communicator counts its agreements,
//! the same on every member); these are never ended by failures or revocation (ULFM exempts
//! agreement and shrink). Relays that nobody consumes stay unexpected under their own tag.
//! Cost: O(n) messages to decide, O(n^2) relays.

use crate::error::{class, MpiError};
use crate::p2p::{Data, NodeEngine, RecvArgs, ANY_SOURCE};
use crate::transport::mem::OwnedBytes;

/// First tag of the agreements (above the library's other internal tags, 2^30 + small).
pub const AGREE_TAG: i32 = (1 << 30) + (1 << 28);
/// Number of distinct agreement tags before they are reused.
pub const SEQ_SPACE: u32 = 1 << 20;

/// True for the tags agreements use (exempt from failure and revoke sweeps).
pub fn is_agree_tag(tag: i32) -> bool {
    (AGREE_TAG..AGREE_TAG + SEQ_SPACE as i32).contains(&tag)
}

const CONTRIB: u8 = 0;
const DECISION: u8 = 1;

/// What one member brings, and what the agreement decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote {
    pub flag: u32,
    pub value: u32,
    /// One entry per member: true if known failed.
    pub failed: Vec<bool>,
}

impl Vote {
    fn merge(&mut self, o: &Vote) {
        self.flag &= o.flag;
        self.value = self.value.max(o.value);
        for (a, b) in self.failed.iter_mut().zip(&o.failed) {
            *a |= *b;
        }
    }

    fn encode(&self, kind: u8) -> Vec<u8> {
        let mut b = Vec::with_capacity(9 + self.failed.len());
        b.push(kind);
        b.extend_from_slice(&self.flag.to_le_bytes());
        b.extend_from_slice(&self.value.to_le_bytes());
        b.extend(self.failed.iter().map(|&f| f as u8));
        b
    }

    fn decode(b: &[u8]) -> (u8, Vote) {
        let u = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        (
            b[0],
            Vote {
                flag: u(1),
                value: u(5),
                failed: b[9..].iter().map(|&x| x != 0).collect(),
            },
        )
    }
}

/// The members of the communicator an agreement runs over.
pub struct Members<'a> {
    /// Endpoint (world rank) of each member.
    pub eps: &'a [u32],
    pub me: usize,
    /// The collective context.
    pub ctx: u32,
}

/// Runs agreement number `seq` with contribution `mine` (its `failed` must have one entry
/// per member). `known_failed(ep)` is the detector. Returns the decision.
pub fn agree(
    e: &NodeEngine,
    m: &Members,
    seq: u32,
    mine: Vote,
    known_failed: impl Fn(u32) -> bool,
) -> Result<Vote, MpiError> {
    let n = m.eps.len();
    let tag = AGREE_TAG + (seq % SEQ_SPACE) as i32;
    let send = |to: usize, buf: &[u8]| {
        // A member that died meanwhile cannot take it; that is no error of ours.
        let _ = e.send_bytes(m.eps[to], m.ctx, m.me as i32, tag, buf);
    };
    let mut merged = mine.clone();
    let mut have = vec![false; n];
    have[m.me] = true;
    let mut sent_to: Option<usize> = None;
    // The receive writes into a block it owns (see transport::mem::OwnedBytes); the vote is
    // read out of it once the receive has completed and let it go.
    let mut block = OwnedBytes::zeroed(9 + n);
    let mut pending: Option<crate::p2p::ReqId> = None;
    loop {
        let failed_now: Vec<bool> = m.eps.iter().map(|&ep| known_failed(ep)).collect();
        for (a, b) in merged.failed.iter_mut().zip(&failed_now) {
            *a |= *b;
        }
        let coord = (0..n)
            .find(|&r| !failed_now[r])
            .ok_or_else(|| MpiError::intern("agreement: every member failed, me included"))?;
        if coord != m.me && sent_to != Some(coord) {
            send(coord, &mine.encode(CONTRIB));
            sent_to = Some(coord);
        }
        if coord == m.me && (0..n).all(|r| have[r] || failed_now[r]) {
            if let Some(id) = pending.take() {
                // Our own receive buffer must not be written after we return.
                let _ = e.cancel(id);
                e.wait(id);
            }
            let d = merged.encode(DECISION);
            for r in (0..n).filter(|&r| r != m.me && !failed_now[r]) {
                send(r, &d);
            }
            return Ok(merged);
        }
        let id = match pending {
            Some(id) => id,
            None => {
                let id = e.irecv(RecvArgs {
                    ctx: m.ctx,
                    src: ANY_SOURCE,
                    tag,
                    data: Data::owned_bytes(block.clone()),
                    owner: 0,
                });
                pending = Some(id);
                id
            }
        };
        let seen = crate::ft::epoch();
        // Until the receive completes or the failed set changes (a new coordinator, or a
        // member we need no more).
        let got = e.wait_until(|e, st| match st.reqs.get(id) {
            Some(r) if r.done => e.reap(st, id),
            _ if crate::ft::epoch() != seen => Some(crate::p2p::Status::empty()),
            _ => None,
        });
        if got.is_empty() && st_pending(e, id) {
            continue;
        }
        pending = None;
        if got.error != 0 || got.bytes as usize != block.len() {
            return Err(MpiError::new(
                class::ERR_INTERN,
                format!(
                    "agreement: a message of {} bytes (error {}) where {} were expected",
                    got.bytes,
                    got.error,
                    block.len()
                ),
            ));
        }
        let buf = block
            .to_vec()
            .ok_or_else(|| MpiError::intern("agreement: the receive still holds its block"))?;
        let (kind, v) = Vote::decode(&buf);
        if kind == DECISION {
            let d = v.encode(DECISION);
            for r in (0..n).filter(|&r| r != m.me && r != got.source as usize) {
                if !known_failed(m.eps[r]) {
                    send(r, &d);
                }
            }
            return Ok(v);
        }
        let from = got.source as usize;
        if from < n && !have[from] {
            have[from] = true;
            merged.merge(&v);
        }
    }
}

/// True while receive `id` is still pending (not completed).
fn st_pending(e: &NodeEngine, id: crate::p2p::ReqId) -> bool {
    e.lock().reqs.get(id).is_some_and(|r| !r.done)
}
