//! Cancel: a receive is dropped if unmatched; a send asks its receiver to drop the message
//! (CANCEL / CANCEL_ACK) and completes with the answer.

use super::*;

impl<F: Fabric> Engine<F> {
    /// MPI_Cancel, as MPICH treats each kind of request: a receive not yet matched is
    /// cancelled at once; a send asks its receiver to drop the message if still unmatched
    /// (see `cancel_send`); a buffered-mode request cancels the send it stands for; an
    /// inactive persistent request is an error (MPI_ERR_REQUEST); partitioned, collective
    /// and other composite requests cannot be cancelled (MPI_ERR_INTERN, MPICH's
    /// "Attempt to cancel an unknown type of request").
    pub fn cancel(&self, id: ReqId) -> Result<(), MpiError> {
        let mut st = self.lock();
        let r = st
            .reqs
            .get(id)
            .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "not a valid request"))?;
        let intern = |what: &str| {
            MpiError::arg(
                class::ERR_INTERN,
                "request",
                format!("{what} cannot be cancelled"),
            )
        };
        let inactive = !r.active && !r.done;
        match r.persist.as_deref() {
            Some(Persist::PSend { .. } | Persist::PRecv { .. }) => {
                return Err(intern("a partitioned request"))
            }
            Some(_) if inactive => {
                return Err(MpiError::arg(
                    class::ERR_REQUEST,
                    "request",
                    "persistent request is not active (MPI_Start it first)",
                ))
            }
            Some(Persist::External(_)) => return Err(intern("a persistent collective request")),
            // Started towards MPI_PROC_NULL: complete, nothing to cancel.
            Some(Persist::Send { ep: u32::MAX, .. }) | Some(Persist::Recv { src: -1, .. }) => {
                return Ok(())
            }
            // A buffered send whose start failed (no room): nothing was sent.
            Some(Persist::Send {
                mode: Mode::Buffered,
                ..
            }) if r.inner.is_none() => return Ok(()),
            _ => {}
        }
        if let Some(inner) = r.inner {
            self.cancel_inner(&mut st, id, inner);
            return Ok(());
        }
        match r.kind {
            Kind::Recv => {
                if !r.done && st.q.remove_posted(id) {
                    let r = st.reqs.get_mut(id).expect("request");
                    r.status = Status {
                        source: r.src,
                        tag: r.tag,
                        error: 0,
                        bytes: 0,
                        cancelled: true,
                    };
                    self.complete(&mut st, id);
                }
                Ok(())
            }
            Kind::Send => {
                self.cancel_send(&mut st, id);
                Ok(())
            }
            // Completed at creation (operations with MPI_PROC_NULL, ...): nothing to cancel.
            Kind::Done => Ok(()),
            Kind::Schedule => Err(intern("a collective or composite request")),
            // Generalized requests run their cancel callback at the C surface.
            Kind::Grequest => Ok(()),
        }
    }

    /// Cancels send `id`. A send still in the backlog or to myself is settled here; any
    /// other asks its receiver (CANCEL), which drops the message if it is still in its
    /// unexpected queue and answers (CANCEL_ACK). Until the answer the request is not
    /// complete, even an eager send that had completed locally (MPICH's ch3 device does the
    /// same; its ch4 device cannot cancel sends). The receiver never sees a dropped message;
    /// a message already matched is not cancelled and the send completes normally.
    pub(in crate::p2p) fn cancel_send(&self, st: &mut State, id: ReqId) {
        let r = st.reqs.get(id).expect("request");
        if r.cancel_pending || r.status.cancelled || r.part.is_some() {
            return;
        }
        let (ep, ctx, src, tag) = (r.ep, r.ctx, r.src, r.tag);
        let sreq = if r.wire != 0 { r.wire } else { id.wire() };
        if ep == self.me {
            // Matched at once or sitting in my own unexpected queue.
            if st.q.take_sent((self.me, id.wire()), ctx, src, tag) {
                st.reqs.get_mut(id).expect("request").status.cancelled = true;
                // A synchronous send was waiting for its match.
                self.complete(st, id);
            }
            return;
        }
        let queued = st
            .backlog
            .iter()
            .position(|o| matches!(o, Out::Start { req } if *req == id));
        if let Some(i) = queued {
            // Nothing has left yet.
            st.backlog.remove(i);
            st.reqs.get_mut(id).expect("request").status.cancelled = true;
            self.complete(st, id);
            return;
        }
        let r = st.reqs.get_mut(id).expect("request");
        r.cancel_pending = true;
        r.proto_done = r.done;
        if r.done {
            // Reopened until the answer: a persistent request is active again.
            r.done = false;
            if r.persist.is_some() {
                r.active = true;
            }
        }
        self.ctrl(
            st,
            ep,
            Header {
                kind: kind::CANCEL,
                context: ctx,
                src,
                tag,
                sreq,
                ..Default::default()
            },
        );
    }

    /// The receiver answered the cancellation of send `id`: `dropped` if the message was
    /// still unmatched (no reply of the protocol will come), else the send completes when
    /// its protocol has.
    pub(in crate::p2p) fn cancel_answered(&self, st: &mut State, id: ReqId, dropped: bool) {
        let Some(r) = st.reqs.get_mut(id) else { return };
        if !r.cancel_pending {
            return;
        }
        r.cancel_pending = false;
        if dropped {
            r.status.cancelled = true;
            self.complete(st, id);
        } else if r.proto_done {
            self.complete(st, id);
        }
    }

    /// MPI_Cancel of buffered-mode request `id` (complete since its data was buffered):
    /// cancels the internal send `inner`; `id` reports the outcome, and is complete again
    /// once the outcome is known.
    pub(in crate::p2p) fn cancel_inner(&self, st: &mut State, id: ReqId, inner: ReqId) {
        if st.reqs.get(inner).is_none() {
            // Already gone: delivered, nothing left to cancel.
            return;
        }
        self.cancel_send(st, inner);
        let s = st.reqs.get_mut(inner).expect("inner send");
        if s.done {
            let cancelled = s.status.cancelled;
            st.reqs.get_mut(id).expect("request").status.cancelled |= cancelled;
            return;
        }
        // Wait for the answer: the inner send completes this request.
        s.parent = Some(id);
        s.gives_status = false;
        s.freed = true;
        let r = st.reqs.get_mut(id).expect("request");
        r.inner = None;
        r.pending += 1;
        if r.done {
            r.done = false;
            if r.persist.is_some() {
                r.active = true;
            }
        }
    }
}
