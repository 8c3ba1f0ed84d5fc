//! Sending: the blocking and nonblocking sends, the eager cell (the first cell of a send
//! that did not go out at once; larger ones are `pipeline`'s), control messages, and
//! messages to oneself (which never touch the fabric).

use super::*;
use crate::p2p::data::Small;

impl<F: Fabric> Engine<F> {
    /// Blocking send. The eager case needs no request at all.
    pub fn send(&self, a: SendArgs) -> Result<(), MpiError> {
        {
            let st = self.lock();
            if let Some(dst) = self.eager_dst(&st, &a)? {
                if self.send_now(dst, &a, 0) {
                    // The fabric may push the message on its way before we return (the
                    // node segment's store-buffer drain); the window of nonblocking sends,
                    // which would pay it per message, does not.
                    self.fab.after_blocking_send(dst);
                    return Ok(());
                }
            }
            drop(st);
        }
        let id = self.isend(a)?;
        self.wait(id);
        Ok(())
    }

    /// The fabric index for `a` if it may go out eagerly in one message right now (to a
    /// peer, not synchronous, nothing queued before it, small enough).
    #[inline]
    pub(super) fn eager_dst(&self, st: &State, a: &SendArgs) -> Result<Option<usize>, MpiError> {
        if a.ep == self.me
            || a.mode == Mode::Sync
            || !st.backlog.is_empty()
            || a.data.bytes() as usize > self.eager_limit
        {
            return Ok(None);
        }
        self.local(a.ep).map(Some)
    }

    /// MPI_Send's straight line for a small contiguous message (issue 13): the checks of
    /// `eager_dst` and `send_now`'s cell-less send or free cell (`put_now`), with no
    /// `SendArgs`, `Data` or datatype on the way. False: nothing sent (not eager now, an
    /// endpoint the fabric cannot reach, or neither the fast box nor a cell can take it);
    /// the caller then takes `send`, which decides again from the start and raises the
    /// error if there is one. A plain bool, not a `Result`: the `Result<bool, MpiError>`
    /// this returned went through memory and cost MPI_Send ~15 instructions to build and
    /// read back, for an error the general path raises anyway.
    #[inline]
    pub fn try_send_small(&self, s: &Small) -> bool {
        let st = self.lock();
        if s.ep == self.me || !st.backlog.is_empty() || s.bytes.len() > self.eager_limit {
            return false;
        }
        let Ok(dst) = self.local(s.ep) else {
            return false;
        };
        if !self.put_now(dst, s, 0) {
            return false;
        }
        // As in `send`.
        self.fab.after_blocking_send(dst);
        drop(st);
        true
    }

    /// Sends `a` as one EAGER message straight from its (contiguous) memory through the
    /// fabric's cell-less path (`put_small`); false when that path does not take it.
    #[inline]
    fn send_small(&self, dst: usize, a: &SendArgs, sreq: u64) -> bool {
        let n = a.data.bytes() as usize;
        if n > super::super::fabric::SMALL_SEND_MAX {
            return false;
        }
        let Some(p) = a.data.contiguous() else {
            return false;
        };
        p.with_slice(0, n, |bytes| {
            let s = Small {
                ep: a.ep,
                ctx: a.ctx,
                src: a.src,
                tag: a.tag,
                owner: a.owner,
                bytes,
            };
            self.put_small(dst, &s, sreq)
        })
    }

    /// Sends `s` to `dst` as one EAGER message naming send `sreq` through the fabric's
    /// cell-less path (`Fabric::send_small`: the node's fast box), skipping the cell's
    /// allocation and the staging copy; false when that path does not take it.
    #[inline(always)]
    pub(super) fn put_small(&self, dst: usize, s: &Small, sreq: u64) -> bool {
        let n = s.bytes.len();
        let sent = self
            .fab
            .send_small_short(dst, &short_header(s, sreq), s.bytes);
        if sent {
            self.count_sent(dst, n as u64, true);
        }
        sent
    }

    /// `put_small`, else `s` in a free cell of ours (`send_now`'s order): false when neither
    /// is available now. The straight line's own fallback, so that a message the ring
    /// cannot take now (it is full, or a cell of ours queued to `dst` is out: every message
    /// of a 1-2 KiB window after the ring's first few) does not run the general path's
    /// checks and its second `put_small` attempt before it takes a cell (issue 13).
    /// (`eager_limit`, which the callers checked, is at most a cell's payload.)
    #[inline(always)]
    pub(super) fn put_now(&self, dst: usize, s: &Small, sreq: u64) -> bool {
        self.put_small(dst, s, sreq) || self.put_cell(dst, s, sreq)
    }

    /// `put_now`'s cell: out of line, off the ring's path.
    #[inline(never)]
    fn put_cell(&self, dst: usize, s: &Small, sreq: u64) -> bool {
        let Some(mut c) = self.fab.alloc() else {
            return false;
        };
        let n = s.bytes.len();
        self.fab.payload_mut(&mut c)[..n].copy_from_slice(s.bytes);
        *self.fab.header_mut(&mut c) = small_header(s, sreq);
        self.fab.send_eager(dst, c, n);
        self.count_sent(dst, n as u64, true);
        true
    }

    /// Sends `a` to `dst` as one EAGER message naming send `sreq`, cell-less or in a free
    /// cell; false when neither is available now.
    #[inline]
    pub(super) fn send_now(&self, dst: usize, a: &SendArgs, sreq: u64) -> bool {
        self.send_small(dst, a, sreq)
            || match self.fab.alloc() {
                Some(c) => {
                    self.emit_eager(c, dst, a, 0, sreq);
                    true
                }
                None => false,
            }
    }

    /// Starts a send and returns its request. An eager message that goes out at once (cell
    /// less, or in a free cell) has its request born complete, keeping only the envelope
    /// MPI_Cancel needs (the general path below also records the data for later cells).
    pub fn isend(&self, a: SendArgs) -> Result<ReqId, MpiError> {
        let mut st = self.lock();
        let eager = self.eager_dst(&st, &a)?;
        let id = st.reqs.alloc(Kind::Send);
        if let Some(dst) = eager {
            if self.send_now(dst, &a, id.wire()) {
                let r = st.reqs.get_mut(id).expect("fresh request");
                r.ep = a.ep;
                r.ctx = a.ctx;
                r.src = a.src;
                r.tag = a.tag;
                r.total = a.data.bytes();
                r.owner = a.owner;
                // `complete` for a request born here: no parent, not freed, no cancel
                // pending, so only the flag and the completion count change.
                r.done = true;
                st.completions += 1;
                return Ok(id);
            }
        }
        self.start_send(&mut st, id, a)?;
        Ok(id)
    }

    pub(in crate::p2p) fn start_send(
        &self,
        st: &mut State,
        id: ReqId,
        a: SendArgs,
    ) -> Result<(), MpiError> {
        let dst = if a.ep == self.me {
            None
        } else {
            Some(self.local(a.ep)?)
        };
        let total = a.data.bytes();
        {
            let r = st.reqs.get_mut(id).expect("fresh request");
            r.ep = a.ep;
            r.ctx = a.ctx;
            r.src = a.src;
            r.tag = a.tag;
            r.total = total;
            r.sent = 0;
            r.phase = Phase::Idle;
            r.status = Status::default();
            r.done = false;
            r.data = dst.map(|_| a.data.clone());
            // Remember the mode in `rreq` until the first cell goes out.
            r.rreq = a.mode as u64;
            r.owner = a.owner;
        }
        let Some(dst) = dst else {
            // The envelope above also identifies a send to myself for MPI_Cancel.
            self.send_to_self(st, id, a);
            return Ok(());
        };
        if st.backlog.is_empty() {
            if self.emit_frame_start(st, id, dst) {
                return Ok(());
            }
            if let Some(c) = self.fab.alloc() {
                self.emit_start(st, id, c, dst);
                return Ok(());
            }
        }
        st.backlog.push_back(Out::Start { req: id });
        Ok(())
    }

    /// MPI_T counters of a message sent to fabric index `dst` (below `nlocal`: the node's
    /// shared memory; above: sockets).
    #[inline]
    pub(in crate::p2p) fn count_sent(&self, dst: usize, bytes: u64, eager: bool) {
        let t = if dst < self.nlocal {
            &counters::SHM
        } else {
            &counters::SOCK
        };
        t.msgs_sent.add(1);
        t.bytes_sent.add(bytes);
        if eager {
            counters::EAGER_SENDS.add(1);
        } else {
            counters::RNDV_SENDS.add(1);
        }
    }

    /// MPI_T counters of a message (eager cell or rendezvous request) from endpoint `ep`.
    #[inline]
    pub(in crate::p2p) fn count_recvd(&self, ep: u32, bytes: u64) {
        let local = matches!(self.local_of.get(ep as usize), Some(Some(_)));
        let t = if local {
            &counters::SHM
        } else {
            &counters::SOCK
        };
        t.msgs_recvd.add(1);
        t.bytes_recvd.add(bytes);
    }

    /// Writes an EAGER cell for `a` and sends it.
    #[inline]
    pub(in crate::p2p) fn emit_eager(
        &self,
        mut c: F::Cell,
        dst: usize,
        a: &SendArgs,
        flags: u8,
        sreq: u64,
    ) {
        let n = a.data.pack(0, self.fab.payload_mut(&mut c));
        let h = Header {
            kind: kind::EAGER,
            flags,
            aux: 0,
            context: a.ctx,
            src: a.src,
            tag: a.tag,
            len: n as u64,
            sreq,
            rreq: 0,
            addr: 0,
        };
        h.encode(self.fab.header_mut(&mut c));
        self.fab.send_eager(dst, c, n);
        self.count_sent(dst, n as u64, true);
    }

    /// Sends the first cell of request `id` (EAGER or RTS) in cell `c`.
    pub(in crate::p2p) fn emit_start(&self, st: &mut State, id: ReqId, mut c: F::Cell, dst: usize) {
        let r = st.reqs.get_mut(id).expect("send request");
        let sync = r.rreq == Mode::Sync as u64;
        r.rreq = 0;
        if r.total as usize > self.eager_limit {
            // A rendezvous answers a synchronous send only once matched anyway.
            self.emit_rts(st, id, c, dst);
            return;
        }
        let data = r.data.as_ref().expect("send data");
        // A partition piece carries its offset; an eager one also its index and the
        // sender's partition count (in the otherwise unused sreq/addr).
        let (part_flag, part_off, piece) = match r.part {
            Some(p) => (flag::PART, p.off, Some(p)),
            None => (0, 0, None),
        };
        let n = data.pack(0, self.fab.payload_mut(&mut c));
        let flags = if sync { flag::SYNC } else { 0 } | part_flag;
        let h = Header {
            kind: kind::EAGER,
            flags,
            aux: piece.map(|p| p.pair).unwrap_or(0),
            context: r.ctx,
            src: r.src,
            tag: r.tag,
            len: n as u64,
            sreq: piece.map(|p| p.index).unwrap_or(id.wire()),
            rreq: part_off,
            addr: piece.map(|p| p.parts).unwrap_or(0),
        };
        h.encode(self.fab.header_mut(&mut c));
        self.fab.send_eager(dst, c, n);
        self.count_sent(dst, n as u64, true);
        if !sync {
            self.complete(st, id);
        } else {
            r.phase = Phase::WaitReply;
        }
    }

    pub(in crate::p2p) fn send_to_self(&self, st: &mut State, id: ReqId, a: SendArgs) {
        let len = a.data.bytes();
        if let Some(p) = st.q.take_posted(a.ctx, a.src, a.tag) {
            let mut buf = vec![0u8; len as usize];
            a.data.pack(0, &mut buf);
            self.deliver(st, p.req, a.src, a.tag, &buf, len);
            self.complete(st, id);
            return;
        }
        let mut buf = vec![0u8; len as usize];
        a.data.pack(0, &mut buf);
        let sync = (a.mode == Mode::Sync).then(|| (self.me, id.wire()));
        st.q.push_unexpected(Unexpected {
            ctx: a.ctx,
            src: a.src,
            tag: a.tag,
            len,
            body: Body::Data(buf.into()),
            sync,
            part: None,
            origin: Some((self.me, id.wire())),
        });
        if sync.is_none() {
            self.complete(st, id);
        }
    }

    pub(in crate::p2p) fn ctrl(&self, st: &mut State, ep: u32, h: Header) {
        let Ok(dst) = self.local(ep) else { return };
        if let Some(mut c) = self.fab.alloc() {
            h.encode(self.fab.header_mut(&mut c));
            self.fab.send(dst, c, 0);
        } else {
            st.backlog.push_front(Out::Ctrl { dst, h });
        }
    }

    /// The library's own blocking send of `buf` (bytes) on (ctx, tag) to endpoint `ep`,
    /// carrying source id `src`.
    pub fn send_bytes(
        &self,
        ep: u32,
        ctx: u32,
        src: i32,
        tag: i32,
        buf: &[u8],
    ) -> Result<(), MpiError> {
        self.send(SendArgs {
            ep,
            ctx,
            src,
            tag,
            mode: Mode::Standard,
            data: Data::of_bytes(buf),
            owner: 0,
        })
    }
}

/// The header of `s` as one EAGER message naming send `sreq`, in its short form (see
/// `fabric::ShortHeader`: an EAGER header's length is its payload's and its `rreq` and
/// `addr` are zero). Built through `Header::encode`, the one place that knows the layout:
/// the bytes past 16 that encode writes and nobody reads are dropped by the compiler.
#[inline(always)]
fn short_header(s: &Small, sreq: u64) -> crate::transport::fabric::ShortHeader {
    let full = small_header(s, sreq);
    crate::transport::fabric::ShortHeader {
        head: full[..16].try_into().expect("16 bytes"),
        sreq,
    }
}

/// The header of `s` as one EAGER message naming send `sreq`.
#[inline(always)]
fn small_header(s: &Small, sreq: u64) -> [u8; super::super::fabric::HDR_BYTES] {
    let h = Header {
        kind: kind::EAGER,
        len: s.bytes.len() as u64,
        context: s.ctx,
        src: s.src,
        tag: s.tag,
        sreq,
        ..Default::default()
    };
    let mut hdr = [0u8; super::super::fabric::HDR_BYTES];
    h.encode(&mut hdr);
    hdr
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The short header of a small send stands for exactly the 48 bytes the general path
    /// encodes (`short_header(..).full(len) == small_header(..)`), for every length up to
    /// the largest small send and request ids of both kinds.
    #[test]
    fn short_header_expands_to_the_full_one() {
        let bytes = vec![7u8; super::super::super::fabric::SMALL_SEND_MAX];
        for len in [0usize, 1, 8, 32, 33, 512, 2048] {
            for sreq in [0u64, 5, super::super::quick::QUICK_WIRE | 77] {
                let s = Small {
                    ep: 3,
                    ctx: 0x1234_5678,
                    src: 9,
                    tag: 0x7fff_0001,
                    owner: 2,
                    bytes: &bytes[..len],
                };
                let h = short_header(&s, sreq);
                assert_eq!(h.full(len), small_header(&s, sreq), "len {len} sreq {sreq}");
                let d = Header::decode(&h.full(len));
                assert_eq!(
                    (d.kind, d.context, d.src, d.tag, d.len, d.sreq, d.rreq, d.addr),
                    (kind::EAGER, s.ctx, s.src, s.tag, len as u64, sreq, 0, 0)
                );
            }
        }
    }
}
