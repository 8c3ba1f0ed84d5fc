//! Quick sends: a nonblocking send that left in one eager message at once needs no request.
//! Its handle only says "a completed send" and carries a sequence number; the envelope
//! MPI_Cancel needs is kept in a ring (`SentLog`) written under the engine lock the send
//! holds anyway. Waiting for, testing or freeing such a handle touches neither the request
//! slab nor the engine lock.
//!
//! Source: MPICH's lightweight pre-completed requests (`MPIR_Request_create_complete`, the
//! ch4 OFI netmod's `MPIDI_OFI_send_lightweight_request` for injected sends), which return a
//! shared, already complete request for a send that completed inside the call. Unlike
//! MPICH's ch4, a send stays cancellable (see `cancel::cancel_send`): MPI_Cancel of a quick
//! send turns its log entry into a real request (`cancel_quick`), which the handle then
//! names until it is freed. An entry that the ring has since overwritten (1024 quick sends
//! later) can no longer be cancelled: the send completes normally, which MPI allows.

use super::*;
use crate::p2p::data::Small;

/// Entries of the ring (a power of two).
const LOG_LEN: usize = 1024;

/// Wire ids of quick sends (`Header::sreq`) have this bit; a request's (`ReqId::wire`) fit
/// 33 bits, so the two never meet.
pub(super) const QUICK_WIRE: u64 = 1 << 40;

/// What a quick send's cancellation needs: its envelope and, once MPI_Cancel asked for it,
/// the request that stands for it.
#[derive(Clone, Copy, Default)]
struct Entry {
    seq: u32,
    ep: u32,
    ctx: u32,
    src: i32,
    tag: i32,
    owner: i32,
    total: u64,
    req: Option<ReqId>,
}

/// The ring of the last `LOG_LEN` quick sends.
pub(super) struct SentLog {
    entries: Box<[Entry]>,
    next: u32,
}

impl Default for SentLog {
    fn default() -> Self {
        SentLog {
            entries: vec![Entry::default(); LOG_LEN].into_boxed_slice(),
            next: 0,
        }
    }
}

/// How a nonblocking send started (`Engine::isend_quick`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Started {
    /// Complete already: quick send number `seq` (only its low bits reach the handle).
    Quick(u32),
    /// A request of the slab.
    Req(ReqId),
}

impl SentLog {
    /// Logs quick send `e.seq`, the next one.
    #[inline]
    fn record(&mut self, e: Entry) {
        self.entries[e.seq as usize & (LOG_LEN - 1)] = e;
        self.next = e.seq.wrapping_add(1);
    }

    /// The entry of quick send `seq` if the ring still holds it (`bits` of `seq` compared).
    fn find(&mut self, seq: u32, bits: u32) -> Option<&mut Entry> {
        let e = &mut self.entries[seq as usize & (LOG_LEN - 1)];
        (e.seq & bits == seq & bits).then_some(e)
    }
}

impl State {
    /// Is the log slot of quick send `seq` still needed? An entry whose cancellation still
    /// stands in the slab is not overwritten (the send then takes a request).
    #[inline]
    fn log_busy(&self, seq: u32) -> bool {
        self.sent.entries[seq as usize & (LOG_LEN - 1)]
            .req
            .is_some_and(|id| self.reqs.get(id).is_some())
    }
}

impl<F: Fabric> Engine<F> {
    /// MPI_Isend (and MPI_Irsend) for the C surface: like `isend`, but a send that leaves in
    /// one eager message at once takes no request (`Started::Quick`). Internal senders keep
    /// `isend`: they need a request id to join or wait on.
    pub fn isend_quick(&self, a: SendArgs) -> Result<Started, MpiError> {
        let mut st = self.lock();
        if let Some(dst) = self.eager_dst(&st, &a)? {
            let seq = st.sent.next;
            if !st.log_busy(seq) && self.send_now(dst, &a, QUICK_WIRE | seq as u64) {
                st.sent.record(Entry {
                    seq,
                    ep: a.ep,
                    ctx: a.ctx,
                    src: a.src,
                    tag: a.tag,
                    owner: a.owner,
                    total: a.data.bytes(),
                    req: None,
                });
                return Ok(Started::Quick(seq));
            }
        }
        let id = st.reqs.alloc(Kind::Send);
        self.start_send(&mut st, id, a)?;
        Ok(Started::Req(id))
    }

    /// MPI_Isend's straight line for a small contiguous message (issue 13): `isend_quick`'s
    /// eager case with no `SendArgs`, `Data` or datatype on the way. None: nothing sent
    /// (not eager now, an endpoint the fabric cannot reach, the log slot is held by a
    /// cancellation, or neither the fast box nor a cell can take it: `put_now`); the caller
    /// then takes `isend_quick`, which decides again from the start and raises the error if
    /// there is one (an `Option`, returned in registers, as `try_send_small`'s bool).
    #[inline]
    pub fn try_isend_small(&self, s: &Small) -> Option<u32> {
        let mut st = self.lock();
        if s.ep == self.me || !st.backlog.is_empty() || s.bytes.len() > self.eager_limit {
            return None;
        }
        let dst = self.local(s.ep).ok()?;
        let seq = st.sent.next;
        if st.log_busy(seq) || !self.put_now(dst, s, QUICK_WIRE | seq as u64) {
            return None;
        }
        st.sent.record(Entry {
            seq,
            ep: s.ep,
            ctx: s.ctx,
            src: s.src,
            tag: s.tag,
            owner: s.owner,
            total: s.bytes.len() as u64,
            req: None,
        });
        Some(seq)
    }

    /// The request that stands for quick send `seq` (its low `bits` known) since MPI_Cancel
    /// asked for it, if it is still live; None: the send is simply complete.
    #[inline]
    pub fn quick_req(&self, seq: u32, bits: u32) -> Option<ReqId> {
        if !self
            .quick_cancelled
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return None;
        }
        let mut st = self.lock();
        let id = st.sent.find(seq, bits)?.req?;
        st.reqs.get(id).is_some().then_some(id)
    }

    /// MPI_Cancel of quick send `seq` (low `bits` known): a request takes its envelope
    /// (complete, as the send is) and is cancelled as any send is; the handle names it from
    /// now on (`quick_req`). A send the ring no longer holds is not cancelled.
    pub fn cancel_quick(&self, seq: u32, bits: u32) -> Result<(), MpiError> {
        let id = {
            let mut st = self.lock();
            let Some(e) = st.sent.find(seq, bits).copied() else {
                return Ok(());
            };
            if let Some(id) = e.req.filter(|&id| st.reqs.get(id).is_some()) {
                id
            } else {
                let id = st.reqs.alloc(Kind::Send);
                let r = st.reqs.get_mut(id).expect("fresh request");
                r.ep = e.ep;
                r.ctx = e.ctx;
                r.src = e.src;
                r.tag = e.tag;
                r.total = e.total;
                r.owner = e.owner;
                r.done = true;
                r.wire = QUICK_WIRE | e.seq as u64;
                st.sent.find(seq, bits).expect("entry").req = Some(id);
                self.quick_cancelled
                    .store(true, std::sync::atomic::Ordering::Release);
                id
            }
        };
        self.cancel(id)
    }

    /// The request a CANCEL_ACK's `sreq` names: a request's wire id, or a quick send's
    /// whose cancellation made one.
    pub(super) fn cancelled_req(&self, st: &mut State, sreq: u64) -> Option<ReqId> {
        if sreq & QUICK_WIRE == 0 {
            return ReqId::from_wire(sreq);
        }
        st.sent.find(sreq as u32, u32::MAX)?.req
    }
}
