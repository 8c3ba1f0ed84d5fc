//! Ending operations that can no longer complete: a peer process failed (ULFM, with the
//! launcher's failure notices), or the communicator was revoked. The layer above decides
//! which operations are affected (it knows communicators' groups and the failed set); the
//! engine only walks its pending receives and unfinished sends, completes the chosen ones
//! with an error class in their status, and wakes sleeping waiters.
//!
//! A failed receive leaves the posted queue, so a message that arrives later (from a
//! process that was only slow) stays unexpected and matches a later receive. A send whose
//! peer is gone loses its rendezvous state: nothing will ever answer it.

use super::*;

/// A pending operation as the sweep's judge sees it.
#[derive(Clone, Copy, Debug)]
pub struct Pending {
    /// Whose errhandler reports it (the C surface stores the communicator handle).
    pub owner: i32,
    pub ctx: u32,
    /// Receives: the source rank in the communicator, or ANY_SOURCE.
    pub src: i32,
    /// Sends: the destination endpoint.
    pub ep: u32,
    pub tag: i32,
    pub is_recv: bool,
}

impl<F: Fabric> Engine<F> {
    /// The endpoints the transports lost since the last call (a TCP peer that hung up
    /// without a goodbye, or could not be reached), each with the reason; each is reported
    /// once. In a fault-tolerant run they join the failed set like the launcher's notices.
    pub fn lost_peers(&self) -> Vec<(u32, String)> {
        let lost = self.fab.lost_peers();
        if lost.is_empty() {
            return Vec::new();
        }
        lost.into_iter()
            .map(|l| (self.ep_of(l.index), l.reason))
            .collect()
    }

    /// Completes with error class `judge(op)` every pending receive and unfinished send for
    /// which it returns Some. Returns how many were ended.
    pub fn fail_pending(&self, judge: impl Fn(&Pending) -> Option<i32>) -> usize {
        let mut st = self.lock();
        // What a failed process sent before it died is in our inbox: take it in first, so
        // a receive it matches completes normally instead of failing (bounded: a live
        // sender could keep us busy for ever). One drain is enough: a transport delivers
        // every frame that arrived before the poll that finds nothing, once the caller has
        // asked it for lost peers (the fault-tolerance poller does before every sweep; see
        // `Fabric::lost_peers` and TCP's `lost_peers`).
        for _ in 0..1024 {
            if !self.progress(&mut st) {
                break;
            }
        }
        let mut ended = Vec::new();
        for p in st.q.posted.iter() {
            let Some(r) = st.reqs.get(p.req) else {
                continue;
            };
            let op = Pending {
                owner: r.owner,
                ctx: p.ctx,
                src: p.src,
                ep: u32::MAX,
                tag: p.tag,
                is_recv: true,
            };
            if let Some(cls) = judge(&op) {
                ended.push((p.req, cls, true));
            }
        }
        let sends = st
            .reqs
            .ids_where(|r| r.kind == Kind::Send && !r.done && (r.persist.is_none() || r.active));
        for id in sends {
            let r = st.reqs.get(id).expect("listed");
            if r.ep == self.me {
                continue;
            }
            let op = Pending {
                owner: r.owner,
                ctx: r.ctx,
                src: r.src,
                ep: r.ep,
                tag: r.tag,
                is_recv: false,
            };
            if let Some(cls) = judge(&op) {
                ended.push((id, cls, false));
            }
        }
        for &(id, cls, is_recv) in &ended {
            if is_recv {
                st.q.remove_posted(id);
            } else {
                st.streaming.retain(|s| *s != id);
            }
            if let Some(r) = st.reqs.get_mut(id) {
                r.status.error = cls;
                if is_recv {
                    r.status.source = r.src;
                    r.status.tag = r.tag;
                }
                r.cancel_pending = false;
            }
            self.complete(&mut st, id);
        }
        drop(st);
        if !ended.is_empty() && self.policy.anyone_asleep() {
            self.fab.ring(self.fab.me());
        }
        ended.len()
    }
}

impl<F: Fabric> Engine<F> {
    /// Takes out of the unexpected queue every message with tag `tag` (on any context);
    /// returns (context, source rank) of each. Control notices (ULFM's revoke) travel this
    /// way: nobody posts a receive for them.
    pub fn take_tagged(&self, tag: i32) -> Vec<(u32, i32)> {
        use std::sync::atomic::Ordering;
        if tag == super::super::matching::CONTROL_TAG
            && !super::super::matching::CONTROL_ARRIVED.swap(false, Ordering::AcqRel)
        {
            return Vec::new();
        }
        let mut st = self.lock();
        if !st.q.unexpected.iter().any(|m| m.tag == tag) {
            return Vec::new();
        }
        let mut out = Vec::new();
        st.q.unexpected.retain(|m| {
            if m.tag == tag {
                out.push((m.ctx, m.src));
                false
            } else {
                true
            }
        });
        out
    }
}
