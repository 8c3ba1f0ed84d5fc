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
//! AGREE_TAG + SEQ_SPACE)`, one tag per agreement: the communicator counts its ULFM calls
//! (agree, iagree, shrink, ishrink: the same count on every member, as they are collective)
//! and call `c` runs its agreements under numbers `c * PER_CALL + k` (`seq`), so a
//! nonblocking shrink that needs another round never takes a number a later call took.
//! These are never ended by failures or revocation (ULFM exempts agreement and shrink).
//! Relays are sent only in a fault-tolerant run (elsewhere no coordinator can die before its
//! decision is out, and every message of an agreement is consumed). There, relays that
//! nobody consumes stay unexpected under their own tag; if the communicator is freed and a
//! new one gets its context block, the new one's agreement of the same number could take a
//! stale relay (a known limit: the engine has no way yet to discard a freed block's
//! unexpected messages). Cost: O(n) messages to decide, O(n^2) relays in a fault-tolerant
//! run.

use crate::error::{class, MpiError};
use crate::p2p::{Data, Mode, NodeEngine, RecvArgs, ReqId, SendArgs, ANY_SOURCE};
use crate::transport::mem::OwnedBytes;

/// First tag of the agreements. The internal tags of a collective context (see
/// `coll::internal`, `comm_build::create`): 2^30 + 0/1 internal exchanges, 2^30 + 2^27 + seq
/// MPI_Comm_idup, 2^30 + 2^28 - 1 control notices (revoke), 2^30 + 2^28 Intercomm_create's
/// local exchange, 2^30 + 2^29 + hash group-only creations; the agreements take
/// [2^30 + 2^28 + 2^20, 2^30 + 2^28 + 2^21), which nothing else uses.
pub const AGREE_TAG: i32 = (1 << 30) + (1 << 28) + (1 << 20);
/// Number of distinct agreement tags before they are reused.
pub const SEQ_SPACE: u32 = 1 << 20;

/// Agreements one ULFM call may run (a shrink runs two per round).
pub const PER_CALL: u32 = 64;

/// The number of agreement `k` of ULFM call `call` on a communicator.
pub fn seq(call: u32, k: u32) -> u32 {
    call.wrapping_mul(PER_CALL).wrapping_add(k % PER_CALL)
}

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

/// The members of the communicator an agreement runs over (for an intercommunicator, both
/// groups, in an order every member sees alike: see `abi::mpix::ulfm`).
#[derive(Clone, Debug)]
pub struct Members {
    /// Endpoint (world rank) of each member.
    pub eps: Vec<u32>,
    pub me: usize,
    /// The collective context.
    pub ctx: u32,
}

/// One agreement, as a state machine: `step` goes as far as it can without blocking. The
/// blocking form (`agree`) loops on it between waits; the nonblocking one
/// (MPIX_Comm_iagree, `ft::steps`) is stepped by the progress engine's pollers.
pub struct Agreement {
    e: &'static NodeEngine,
    m: Members,
    tag: i32,
    mine: Vote,
    merged: Vote,
    have: Vec<bool>,
    /// The coordinator our contribution went to last.
    sent_to: Option<usize>,
    /// The receive writes into a block it owns (see transport::mem::OwnedBytes); the vote
    /// is read out of it once the receive has completed and let it go.
    block: OwnedBytes,
    pending: Option<ReqId>,
}

impl Agreement {
    /// Agreement number `seq` on `m` with contribution `mine` (its `failed` must have one
    /// entry per member). Nothing is sent before the first `step`.
    pub fn new(e: &'static NodeEngine, m: Members, seq: u32, mine: Vote) -> Agreement {
        let n = m.eps.len();
        let mut have = vec![false; n];
        have[m.me] = true;
        Agreement {
            e,
            tag: AGREE_TAG + (seq % SEQ_SPACE) as i32,
            merged: mine.clone(),
            mine,
            have,
            sent_to: None,
            block: OwnedBytes::zeroed(9 + n),
            pending: None,
            m,
        }
    }

    /// Sends without waiting (a poller must not block); a member that died meanwhile
    /// cannot take it, which is no error of ours.
    fn send(&self, to: usize, buf: Vec<u8>) {
        let sent = self.e.isend(SendArgs {
            ep: self.m.eps[to],
            ctx: self.m.ctx,
            src: self.m.me as i32,
            tag: self.tag,
            mode: Mode::Standard,
            data: Data::owned_bytes(OwnedBytes::new(buf)),
            owner: 0,
        });
        if let Ok(id) = sent {
            self.e.free(id);
        }
    }

    /// Something that tells the progress loop whether a step moved.
    pub fn mark(&self) -> (usize, usize, usize) {
        (
            self.have.iter().filter(|h| **h).count(),
            self.sent_to.map_or(0, |c| c + 1),
            self.pending.map_or(0, |_| 1),
        )
    }

    /// Goes as far as it can; the decision once there is one.
    pub fn step(&mut self) -> Result<Option<Vote>, MpiError> {
        let n = self.m.eps.len();
        let me = self.m.me;
        loop {
            let failed_now: Vec<bool> = self.m.eps.iter().map(|&ep| super::is_failed(ep)).collect();
            for (a, b) in self.merged.failed.iter_mut().zip(&failed_now) {
                *a |= *b;
            }
            let coord = (0..n)
                .find(|&r| !failed_now[r])
                .ok_or_else(|| MpiError::intern("agreement: every member failed, me included"))?;
            if coord != me && self.sent_to != Some(coord) {
                self.send(coord, self.mine.encode(CONTRIB));
                self.sent_to = Some(coord);
            }
            if coord == me && (0..n).all(|r| self.have[r] || failed_now[r]) {
                self.drop_receive();
                let d = self.merged.encode(DECISION);
                for r in (0..n).filter(|&r| r != me && !failed_now[r]) {
                    self.send(r, d.clone());
                }
                return Ok(Some(self.merged.clone()));
            }
            let id = match self.pending {
                Some(id) => id,
                None => {
                    let id = self.e.irecv(RecvArgs {
                        ctx: self.m.ctx,
                        src: ANY_SOURCE,
                        tag: self.tag,
                        data: Data::owned_bytes(self.block.clone()),
                        owner: 0,
                    });
                    self.pending = Some(id);
                    id
                }
            };
            let Some(got) = self.e.reap(&mut self.e.lock(), id) else {
                return Ok(None);
            };
            self.pending = None;
            if got.error != 0 || got.bytes as usize != self.block.len() {
                return Err(MpiError::new(
                    class::ERR_INTERN,
                    format!(
                        "agreement: a message of {} bytes (error {}) where {} were expected",
                        got.bytes,
                        got.error,
                        self.block.len()
                    ),
                ));
            }
            let buf = self
                .block
                .to_vec()
                .ok_or_else(|| MpiError::intern("agreement: the receive still holds its block"))?;
            let (kind, v) = Vote::decode(&buf);
            if kind == DECISION {
                // The relay: every survivor gets this decision even if its sender dies now.
                // Only where a process can die and the job go on: the copies nobody consumes
                // stay unexpected under the agreement's tag (see the module docs).
                if super::members::fault_tolerant() {
                    let d = v.encode(DECISION);
                    for r in (0..n).filter(|&r| r != me && r != got.source as usize) {
                        if !super::is_failed(self.m.eps[r]) {
                            self.send(r, d.clone());
                        }
                    }
                }
                return Ok(Some(v));
            }
            let from = got.source as usize;
            if from < n && !self.have[from] {
                self.have[from] = true;
                self.merged.merge(&v);
            }
        }
    }

    /// Lets the posted receive go: cancelled if unmatched, else freed once complete (it
    /// holds its own block, so nothing of ours is written after this).
    fn drop_receive(&mut self) {
        if let Some(id) = self.pending.take() {
            let _ = self.e.cancel(id);
            self.e.free(id);
        }
    }
}

impl super::steps::Steps for Agreement {
    type Out = Vote;

    fn step(&mut self) -> Result<Option<Vote>, MpiError> {
        Agreement::step(self)
    }

    fn mark(&self) -> (usize, usize, usize) {
        Agreement::mark(self)
    }

    fn waiting_on(&self) -> Option<ReqId> {
        self.pending
    }

    fn abandon(&mut self) {
        self.drop_receive();
    }
}
