//! The sender's side of a message larger than the eager limit, and the receiver's handling
//! of the cells such a message streams: the eager frame (a fabric that streams a large
//! message in one frame, TCP, needs no rendezvous), the RTS that starts a rendezvous, and,
//! when the receiver answers CTS instead of reading the data itself (`rendezvous`), the
//! DATA cells the sender streams while cells are free and the receiver unpacks where they
//! belong.

use super::*;

impl<F: Fabric> Engine<F> {
    /// Sends request `id` eagerly in a frame of its own when it is larger than a cell and
    /// the fabric streams such messages to `dst` (TCP: no rendezvous round trip); false
    /// when it does not apply (a cell, and perhaps a rendezvous, instead).
    pub(super) fn emit_frame_start(&self, st: &mut State, id: ReqId, dst: usize) -> bool {
        let r = st.reqs.get_mut(id).expect("send request");
        let total = r.total as usize;
        if r.part.is_some() || total <= self.eager_limit || total > self.frame_limit(dst) {
            return false;
        }
        let sync = r.rreq == Mode::Sync as u64;
        r.rreq = 0;
        let h = Header {
            kind: kind::EAGER,
            flags: if sync { flag::SYNC } else { 0 },
            context: r.ctx,
            src: r.src,
            tag: r.tag,
            len: r.total,
            sreq: id.wire(),
            ..Default::default()
        };
        let data = r.data.clone().expect("send data");
        self.send_eager_frame(dst, &h, &data);
        if sync {
            st.reqs.get_mut(id).expect("send request").phase = Phase::WaitReply;
        } else {
            self.complete(st, id);
        }
        true
    }

    /// The largest message sent to `dst` eagerly in a frame of its own: the fabric's
    /// figure, unless the eager limit was lowered below a cell (MPI_T or the environment),
    /// which then holds for every link.
    fn frame_limit(&self, dst: usize) -> usize {
        if self.eager_limit < self.fab.payload_capacity() {
            0
        } else {
            self.fab.frame_eager_limit(dst)
        }
    }

    /// Sends an EAGER header and all of `data` in one frame, gathered from the user's
    /// memory (see `Fabric::send_frame`).
    fn send_eager_frame(&self, dst: usize, h: &Header, data: &Data) {
        let mut hdr = [0u8; super::super::fabric::HDR_BYTES];
        h.encode(&mut hdr);
        let mut pieces = Vec::new();
        data.pieces(0, data.bytes(), |p, l| pieces.push((p, l)));
        // A failure loses the peer: the fabric reports it through `lost_peers`, as for a
        // cell.
        let _ = self.fab.send_frame(dst, &hdr, &pieces);
        self.count_sent(dst, h.len, true);
    }

    /// Sends the RTS of request `id` in cell `c`: the message's envelope and length, and,
    /// when the receiver should read it in one copy (`single_copy`), its address for that
    /// read (`rendezvous`); without the address the receiver answers CTS and the data
    /// streams through cells. The sender decides, so both sides agree without a round trip.
    pub(in crate::p2p) fn emit_rts(&self, st: &mut State, id: ReqId, mut c: F::Cell, dst: usize) {
        let cma = self.single_copy(st, id, dst);
        let r = st.reqs.get_mut(id).expect("send request");
        let data = r.data.as_ref().expect("send data");
        // A partition piece carries its offset in rreq and its pair in aux.
        let (part_flag, part_off, pair) = match r.part {
            Some(p) => (flag::PART, p.off, p.pair),
            None => (0, 0, 0),
        };
        let (flags, addr) = match data.contiguous() {
            Some(p) if cma => (flag::CMA | part_flag, p.addr() as u64),
            _ => (part_flag, 0),
        };
        let total = r.total;
        let h = Header {
            kind: kind::RTS,
            flags,
            aux: pair,
            context: r.ctx,
            src: r.src,
            tag: r.tag,
            len: total,
            sreq: id.wire(),
            rreq: part_off,
            addr,
        };
        h.encode(self.fab.header_mut(&mut c));
        self.fab.send(dst, c, 0);
        r.phase = Phase::WaitReply;
        self.count_sent(dst, total, false);
        event::emit(
            event::Kind::RendezvousStart,
            self.ep_of(dst) as i32,
            h.tag,
            total as i64,
        );
    }

    /// Whether send `id` to fabric index `dst` offers the receiver a single-copy read:
    /// reads are on (`OXIMPI_CMA`, and the kernel allowed them so far) and either the
    /// message is at least `OXIMPI_CMA_MIN` long, or the link carries large messages in frames of its own (TCP), or
    /// another send is already streaming through cells (a burst: see `default_cma_min` for
    /// the figures). A message that goes through cells is recorded in `State::pipelined`
    /// until its send is done. A partition piece counts its own length.
    fn single_copy(&self, st: &mut State, id: ReqId, dst: usize) -> bool {
        let Some(r) = st.reqs.get(id) else {
            return false;
        };
        if !st.cma {
            return false;
        }
        // A link with eager frames of its own (TCP) pulls every rendezvous message: its reads
        // do not copy through cells, so size changes nothing there.
        if r.total >= self.cma_min || self.fab.frame_eager_limit(dst) > 0 {
            return true;
        }
        // Forget the pipelined sends that are over (done, freed, cancelled or failed):
        // the list holds a handful at most.
        let reqs = &st.reqs;
        st.pipelined
            .retain(|&p| reqs.get(p).is_some_and(|r| !r.done));
        if !st.pipelined.is_empty() {
            return true;
        }
        st.pipelined.push(id);
        false
    }

    /// A CTS for send `h.sreq`: the receiver wants the data streamed, into its request
    /// `h.rreq`.
    pub(super) fn on_cts(&self, st: &mut State, h: &Header) {
        if let Some(id) = ReqId::from_wire(h.sreq) {
            if let Some(r) = st.reqs.get_mut(id) {
                r.rreq = h.rreq;
                r.phase = Phase::Streaming;
                st.streaming.push(id);
            }
        }
    }

    /// A DATA cell for receive `h.rreq`: `h.len` bytes at offset `h.addr` of the message.
    pub(super) fn on_data(&self, st: &mut State, h: &Header, payload: &[u8]) {
        let Some(id) = ReqId::from_wire(h.rreq) else {
            return;
        };
        let done = match st.reqs.get_mut(id) {
            Some(r) => {
                if let Some(d) = r.data.as_ref() {
                    d.unpack(h.addr, &payload[..h.len as usize]);
                }
                if r.part.is_some() {
                    crate::p2p::partitioned::add_range(&mut r.arrived, h.addr, h.len);
                }
                r.got += h.len;
                r.got >= r.total
            }
            None => false,
        };
        if done {
            self.complete(st, id);
        }
    }

    /// Streams DATA cells of pipelined sends while cells are free.
    pub(in crate::p2p) fn stream(&self, st: &mut State) -> bool {
        let mut did = false;
        let mut i = 0;
        while i < st.streaming.len() {
            let id = st.streaming[i];
            let finished;
            if let Some(r) = st.reqs.get_mut(id) {
                let dst = self.local(r.ep).unwrap_or(0);
                while r.sent < r.total {
                    let Some(mut c) = self.fab.alloc() else { break };
                    let data = r.data.as_ref().expect("send data");
                    let n = data.pack(r.sent, self.fab.payload_mut(&mut c));
                    let base = r.part.map(|p| p.off).unwrap_or(0);
                    let h = Header {
                        kind: kind::DATA,
                        len: n as u64,
                        rreq: r.rreq,
                        addr: base + r.sent,
                        ..Default::default()
                    };
                    h.encode(self.fab.header_mut(&mut c));
                    self.fab.send(dst, c, n);
                    r.sent += n as u64;
                    did = true;
                }
                finished = r.sent >= r.total;
            } else {
                finished = true;
            }
            if finished {
                st.streaming.swap_remove(i);
                self.complete(st, id);
            } else {
                i += 1;
            }
        }
        did
    }
}
