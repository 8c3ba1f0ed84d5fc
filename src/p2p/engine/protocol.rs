//! The protocol loop: draining the fabric and dispatching each arrived cell (EAGER, RTS,
//! CTS, DATA, FIN/SACK, CANCEL) and the backlog of cells that found no free cell. A large
//! message's own steps (RTS, CTS, DATA) are `pipeline`'s and `rendezvous`'s.

use super::*;
use crate::p2p::fabric::HDR_BYTES;

impl<F: Fabric> Engine<F> {
    /// Drains the fabric and advances transfers; true when anything happened.
    pub fn progress(&self, st: &mut State) -> bool {
        let mut did = self.drain_backlog(st);
        // A run of small eager messages (a window's) first, straight from where they lie;
        // anything else the fabric holds goes through `poll`, one message at a time.
        let drained = self.fab.drain_small(64, |local, hdr, payload| {
            self.on_small(st, local, hdr, payload)
        });
        did |= drained > 0;
        for _ in drained..64 {
            let Some(rx) = self.fab.poll() else { break };
            let h = Header::decode(self.fab.header(&rx));
            let from = self.ep_of(self.fab.src(&rx));
            self.on_cell(st, from, &h, &rx);
            self.fab.release(rx);
            did = true;
        }
        did |= self.stream(st);
        did |= self.finish_reads(st);
        if did && st.completions > 0 {
            st.completions = 0;
            if self.policy.anyone_asleep() {
                self.fab.ring(self.fab.me());
            }
        }
        did
    }

    pub(in crate::p2p) fn on_cell(&self, st: &mut State, from: u32, h: &Header, rx: &F::Rx) {
        match h.kind {
            kind::EAGER | kind::RTS if h.flags & flag::PART != 0 => {
                self.on_part_piece(st, from, h, rx)
            }
            kind::EAGER => self.on_eager(st, from, h, self.fab.payload(rx)),
            kind::RTS => {
                self.count_recvd(from, h.len);
                let cma = h.flags & flag::CMA != 0;
                if let Some(p) = st.q.take_posted(h.context, h.src, h.tag) {
                    self.rendezvous(st, p.req, h.src, h.tag, from, h.sreq, h.addr, cma, h.len);
                } else {
                    let body = Body::Rts {
                        ep: from,
                        sreq: h.sreq,
                        addr: h.addr,
                        cma,
                    };
                    st.q.push_unexpected(Unexpected {
                        ctx: h.context,
                        src: h.src,
                        tag: h.tag,
                        len: h.len,
                        body,
                        sync: None,
                        part: None,
                        origin: Some((from, h.sreq)),
                    });
                }
            }
            kind::CTS => self.on_cts(st, h),
            kind::PUT => self.on_put(st, from, h),
            kind::PUT_DONE => self.on_put_done(st, h),
            kind::DATA => self.on_data(st, h, self.fab.payload(rx)),
            kind::FIN | kind::SACK => {
                if let Some(id) = ReqId::from_wire(h.sreq) {
                    self.complete(st, id);
                }
            }
            kind::CANCEL => {
                let dropped = st.q.take_sent((from, h.sreq), h.context, h.src, h.tag);
                self.ctrl(
                    st,
                    from,
                    Header {
                        kind: kind::CANCEL_ACK,
                        sreq: h.sreq,
                        len: dropped as u64,
                        ..Default::default()
                    },
                );
            }
            kind::CANCEL_ACK => {
                if let Some(id) = self.cancelled_req(st, h.sreq) {
                    self.cancel_answered(st, id, h.len == 1);
                }
            }
            _ => {}
        }
    }

    /// A message `Fabric::drain_small` hands over from fabric index `local`: taken (true)
    /// when it is a plain eager message (no synchronous-send acknowledgement to send, no
    /// partitioned piece), else left for `poll` (false) and the full dispatch of `on_cell`.
    /// Always inlined, with `on_eager` and `deliver`, so the expected case (the oldest
    /// posted receive matches: a window's) runs in line down to the status store, and the
    /// synchronous-send branch, whose flag was just checked clear, folds away: out of line
    /// they cost two calls, their register saves and the header through memory (issue 13:
    /// ~35 of the ~140 instructions a message took from the box to a complete receive).
    #[inline(always)]
    fn on_small(
        &self,
        st: &mut State,
        local: usize,
        hdr: &[u8; HDR_BYTES],
        payload: &[u8],
    ) -> bool {
        let h = Header::decode(hdr);
        if h.kind != kind::EAGER || h.flags & (flag::SYNC | flag::PART) != 0 {
            return false;
        }
        self.on_eager(st, self.ep_of(local), &h, payload);
        true
    }

    /// An eager message from endpoint `from`: delivered to the oldest posted receive that
    /// matches, else queued unexpected (a copy of `payload`). Always inlined (see
    /// `on_small`).
    #[inline(always)]
    fn on_eager(&self, st: &mut State, from: u32, h: &Header, payload: &[u8]) {
        self.count_recvd(from, h.len);
        let sync = (h.flags & flag::SYNC != 0).then_some((from, h.sreq));
        if let Some(p) = st.q.take_posted(h.context, h.src, h.tag) {
            if let Some((ep, sreq)) = sync {
                self.acknowledge(st, ep, sreq);
            }
            self.deliver(st, p.req, h.src, h.tag, payload, h.len);
        } else {
            self.queue_eager(st, from, h, payload, sync);
        }
    }

    /// An eager message from endpoint `from` that no posted receive matches: queued
    /// unexpected, a copy of `payload` (`sync`: the synchronous send to acknowledge when
    /// it is matched).
    #[inline(never)]
    fn queue_eager(
        &self,
        st: &mut State,
        from: u32,
        h: &Header,
        payload: &[u8],
        sync: Option<(u32, u64)>,
    ) {
        let buf = Bytes::copy_of(&payload[..h.len as usize]);
        st.q.push_unexpected(Unexpected {
            ctx: h.context,
            src: h.src,
            tag: h.tag,
            len: h.len,
            body: Body::Data(buf),
            sync,
            part: None,
            // A blocking send's eager cell names no request (sreq 0).
            origin: (h.sreq != 0).then_some((from, h.sreq)),
        });
    }

    pub(in crate::p2p) fn drain_backlog(&self, st: &mut State) -> bool {
        let mut did = false;
        while let Some(out) = st.backlog.front() {
            let (dst, start) = match *out {
                Out::Ctrl { dst, .. } => (dst, None),
                Out::Start { req } => match st.reqs.get(req).and_then(|r| self.local(r.ep).ok()) {
                    Some(dst) => (dst, Some(req)),
                    None => {
                        // The request is gone: nothing to send.
                        st.backlog.pop_front();
                        continue;
                    }
                },
            };
            let Some(mut c) = self.fab.alloc() else { break };
            match (st.backlog.pop_front(), start) {
                (Some(Out::Ctrl { h, .. }), _) => {
                    h.encode(self.fab.header_mut(&mut c));
                    self.fab.send(dst, c, 0);
                }
                (_, Some(req)) => self.emit_start(st, req, c, dst),
                _ => unreachable!("backlog entry checked above"),
            }
            did = true;
        }
        did
    }
}
