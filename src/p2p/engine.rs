//! The point-to-point engine: protocols over a `Fabric`, the matching queues and the
//! request slab, behind one lock that is held during progress and released while a
//! blocked caller sleeps on its doorbell.
//!
//! Protocols. A message that fits a cell goes EAGER (data in the cell; a synchronous send
//! asks for a SACK when matched). A larger one sends RTS with its address; the receiver,
//! once matched, reads the data straight from the sender's memory (single copy) and sends
//! FIN — or, where the kernel forbids that or the sender's data is not contiguous, answers
//! CTS and the sender streams DATA cells. Messages to oneself never touch the fabric.

use super::buffered::Buffers;
use super::data::Data;
use super::data::TypeKeep;
use super::fabric::Fabric;
use super::header::{flag, kind, Header};
use super::matching::{Body, Posted, Queues, Unexpected, ANY_SOURCE};
use super::request::{Kind, Mode, Persist, Phase, ReqId, Slab, Status};
use crate::error::{class, MpiError};
use crate::settings::{self, Value};
use crate::tool::{counters, event};
use parking_lot::{Mutex, MutexGuard};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A cell-sized message waiting for a free cell, in send order.
#[derive(Debug)]
enum Out {
    /// First cell of a send (EAGER or RTS) of request `req`.
    Start { req: ReqId },
    /// A control message.
    Ctrl { dst: usize, h: Header },
}

/// Everything the engine lock protects.
pub struct State {
    pub q: Queues,
    pub reqs: Slab,
    backlog: VecDeque<Out>,
    streaming: Vec<ReqId>,
    /// Messages taken by MPI_Mprobe, waiting for MPI_Mrecv.
    messages: Vec<Option<Unexpected>>,
    free_messages: Vec<usize>,
    /// Single-copy reads allowed (cleared on the first EPERM/ENOSYS).
    pub(super) cma: bool,
    /// Requests completed since the last wake-up check (to ring sleeping threads).
    completions: u64,
    /// Partitioned requests initialised so far per (context, peer, tag, is_send): the next
    /// one's place in the init order (see `Piece::pair`).
    pub(super) part_seq: std::collections::HashMap<(u32, u32, i32, bool), u16>,
    /// Started partitioned receives waiting for pieces, with their pair number.
    pub(super) part_posted: Vec<(Posted, u16)>,
}

pub struct Engine<F: Fabric> {
    pub fab: F,
    st: Mutex<State>,
    /// My endpoint id (world rank).
    pub me: u32,
    /// Local index in the fabric of every endpoint (None: not on this node).
    local_of: Vec<Option<usize>>,
    ep_of_local: Vec<u32>,
    /// Slots of the node segment (fabric indices below it are node-local ranks).
    nlocal: usize,
    eager_limit: usize,
    /// How long a blocked call polls before it yields and then sleeps (while every process
    /// we know on this host can have a core; see `waiting_policy`).
    spin: Duration,
    yields: u32,
    /// OXIMPI_SPIN was given: the spin time is the user's, whatever the load.
    spin_fixed: bool,
    cpus: usize,
    sleepers: AtomicU32,
    /// The buffers attached for buffered-mode sends (see `buffered`).
    pub(super) buffers: Mutex<Buffers>,
    /// Progress functions of higher layers (collective schedules), run outside the engine
    /// lock by every wait and test. Each must not block and returns true if it did work.
    pollers: parking_lot::RwLock<Vec<fn() -> bool>>,
    has_pollers: std::sync::atomic::AtomicBool,
}

/// Arguments of a send.
#[derive(Clone, Debug)]
pub struct SendArgs {
    pub ep: u32,
    pub ctx: u32,
    /// My rank in the communicator (what the receiver sees as MPI_SOURCE).
    pub src: i32,
    pub tag: i32,
    pub mode: Mode,
    pub data: Data,
    /// Opaque owner recorded in the request (see `Req::owner`).
    pub owner: i32,
}

/// Arguments of a receive.
#[derive(Clone, Debug)]
pub struct RecvArgs {
    pub ctx: u32,
    pub src: i32,
    pub tag: i32,
    pub data: Data,
    pub owner: i32,
}

/// A message taken by MPI_Mprobe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgId(pub u32);

impl<F: Fabric> Engine<F> {
    /// `local_of[ep]` maps endpoints to fabric indices.
    pub fn new(fab: F, me: u32, local_of: Vec<Option<usize>>) -> Self {
        let mut ep_of_local = vec![0; local_of.len()];
        for (ep, l) in local_of.iter().enumerate() {
            if let Some(l) = l {
                if *l >= ep_of_local.len() {
                    ep_of_local.resize(*l + 1, 0);
                }
                ep_of_local[*l] = ep as u32;
            }
        }
        let nlocal = local_of.iter().filter(|l| l.is_some()).count();
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        // Spin only while every local rank can have a core; oversubscribed ranks yield and
        // go to sleep quickly so the ones with work get the CPU.
        let (spin_us, yields) = if nlocal <= cpus { (1000, 20) } else { (0, 50) };
        // The knobs (environment, or MPI_T writes before MPI_Init), and what is in force.
        let spin_env = settings::SPIN.get_u64();
        let spin = Duration::from_micros(spin_env.unwrap_or(spin_us));
        settings::SPIN.set_effective(Value::Unsigned(spin.as_micros() as u64));
        let cap = fab.payload_capacity();
        let eager_limit = settings::EAGER_LIMIT
            .get_u64()
            .map(|v| (v as usize).min(cap))
            .unwrap_or(cap);
        settings::EAGER_LIMIT.set_effective(Value::Unsigned(eager_limit as u64));
        let cma = settings::CMA.get_switch().unwrap_or(true);
        settings::CMA.set_effective(Value::Switch(cma));
        Engine {
            fab,
            st: Mutex::new(State {
                q: Queues::default(),
                reqs: Slab::new(),
                backlog: VecDeque::new(),
                streaming: Vec::new(),
                messages: Vec::new(),
                free_messages: Vec::new(),
                cma,
                completions: 0,
                part_seq: Default::default(),
                part_posted: Vec::new(),
            }),
            me,
            local_of,
            ep_of_local,
            nlocal,
            eager_limit,
            spin,
            yields,
            spin_fixed: spin_env.is_some(),
            cpus,
            sleepers: AtomicU32::new(0),
            buffers: Mutex::new(Buffers::default()),
            pollers: parking_lot::RwLock::new(Vec::new()),
            has_pollers: std::sync::atomic::AtomicBool::new(false),
        }
    }

    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock()
    }

    /// The fabric index of endpoint `ep`. Endpoints are world ranks first; endpoints from
    /// `local_of.len()` on are processes of other jobs, numbered in the order the fabric
    /// learnt them (socket peer `i` is endpoint `nworld + i`, fabric index `nlocal + i`).
    #[inline]
    pub(super) fn local(&self, ep: u32) -> Result<usize, MpiError> {
        let ep = ep as usize;
        let nworld = self.local_of.len();
        let found = if ep < nworld {
            self.local_of[ep]
        } else {
            let i = ep - nworld;
            (i < self.fab.remote_peers()).then_some(self.nlocal + i)
        };
        found.ok_or_else(|| {
            MpiError::new(
                class::ERR_OTHER,
                format!("process {ep} is not reachable: only node-local transport is available"),
            )
        })
    }

    /// The endpoint of fabric index `local` (inverse of `local`).
    #[inline]
    fn ep_of(&self, local: usize) -> u32 {
        if local < self.nlocal {
            self.ep_of_local[local]
        } else {
            (self.local_of.len() + local - self.nlocal) as u32
        }
    }

    // ----------------------------------------------------------------------------------
    // Sending

    /// Blocking send. The eager case needs no request at all.
    pub fn send(&self, a: SendArgs) -> Result<(), MpiError> {
        {
            let st = self.lock();
            if a.ep != self.me
                && a.mode != Mode::Sync
                && st.backlog.is_empty()
                && a.data.bytes() as usize <= self.eager_limit
            {
                let dst = self.local(a.ep)?;
                if let Some(c) = self.fab.alloc() {
                    self.emit_eager(c, dst, &a, 0, 0);
                    return Ok(());
                }
            }
            drop(st);
        }
        let id = self.isend(a)?;
        self.wait(id);
        Ok(())
    }

    /// Starts a send and returns its request.
    pub fn isend(&self, a: SendArgs) -> Result<ReqId, MpiError> {
        let mut st = self.lock();
        let id = st.reqs.alloc(Kind::Send);
        self.start_send(&mut st, id, a)?;
        Ok(id)
    }

    pub(super) fn start_send(
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
    fn count_sent(&self, dst: usize, bytes: u64, eager: bool) {
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
    fn count_recvd(&self, ep: u32, bytes: u64) {
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
    fn emit_eager(&self, mut c: F::Cell, dst: usize, a: &SendArgs, flags: u8, sreq: u64) {
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
        self.fab.send(dst, c, n);
        self.count_sent(dst, n as u64, true);
    }

    /// Sends the first cell of request `id` (EAGER or RTS) in cell `c`.
    pub(super) fn emit_start(&self, st: &mut State, id: ReqId, mut c: F::Cell, dst: usize) {
        let r = st.reqs.get_mut(id).expect("send request");
        let data = r.data.as_ref().expect("send data");
        let sync = r.rreq == Mode::Sync as u64;
        r.rreq = 0;
        // A partition piece carries its offset; an eager one also its index and the
        // sender's partition count (in the otherwise unused sreq/addr).
        let (part_flag, part_off, piece) = match r.part {
            Some(p) => (flag::PART, p.off, Some(p)),
            None => (0, 0, None),
        };
        let total = r.total;
        if total as usize <= self.eager_limit {
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
            self.fab.send(dst, c, n);
            self.count_sent(dst, n as u64, true);
            if !sync {
                self.complete(st, id);
            } else {
                r.phase = Phase::WaitReply;
            }
        } else {
            let (flags, addr) = match data.contiguous() {
                Some(p) if st.cma => (flag::CMA | part_flag, p.addr() as u64),
                _ => (part_flag, 0),
            };
            let h = Header {
                kind: kind::RTS,
                flags,
                aux: piece.map(|p| p.pair).unwrap_or(0),
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
    }

    fn send_to_self(&self, st: &mut State, id: ReqId, a: SendArgs) {
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
            body: Body::Data(buf),
            sync,
            part: None,
            origin: Some((self.me, id.wire())),
        });
        if sync.is_none() {
            self.complete(st, id);
        }
    }

    pub(super) fn ctrl(&self, st: &mut State, ep: u32, h: Header) {
        let Ok(dst) = self.local(ep) else { return };
        if let Some(mut c) = self.fab.alloc() {
            h.encode(self.fab.header_mut(&mut c));
            self.fab.send(dst, c, 0);
        } else {
            st.backlog.push_front(Out::Ctrl { dst, h });
        }
    }

    // ----------------------------------------------------------------------------------
    // Receiving

    /// Posts a receive; matches an unexpected message at once if there is one.
    pub fn irecv(&self, a: RecvArgs) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(Kind::Recv);
        self.start_recv(&mut st, id, a);
        id
    }

    fn start_recv(&self, st: &mut State, id: ReqId, a: RecvArgs) {
        {
            let r = st.reqs.get_mut(id).expect("fresh request");
            r.ctx = a.ctx;
            r.src = a.src;
            r.tag = a.tag;
            r.done = false;
            r.status = Status::default();
            r.got = 0;
            r.owner = a.owner;
            r.data = Some(a.data);
        }
        if let Some(i) = st.q.find_unexpected(a.ctx, a.src, a.tag) {
            let m = st.q.unexpected.remove(i).expect("index from find");
            self.take_unexpected(st, id, m);
        } else {
            st.q.posted.push_back(Posted {
                ctx: a.ctx,
                src: a.src,
                tag: a.tag,
                req: id,
            });
        }
    }

    /// Blocking receive.
    pub fn recv(&self, a: RecvArgs) -> Status {
        let id = self.irecv(a);
        self.wait(id)
    }

    /// Matches receive `id` with message `m` taken from the unexpected queue.
    fn take_unexpected(&self, st: &mut State, id: ReqId, m: Unexpected) {
        if let Some((ep, sreq)) = m.sync {
            self.acknowledge(st, ep, sreq);
        }
        match m.body {
            Body::Data(buf) => self.deliver(st, id, m.src, m.tag, &buf, m.len),
            Body::Rts {
                ep,
                sreq,
                addr,
                cma,
            } => self.rendezvous(st, id, m.src, m.tag, ep, sreq, addr, cma, m.len),
        }
    }

    fn acknowledge(&self, st: &mut State, ep: u32, sreq: u64) {
        if ep == self.me {
            if let Some(id) = ReqId::from_wire(sreq) {
                self.complete(st, id);
            }
        } else {
            self.ctrl(
                st,
                ep,
                Header {
                    kind: kind::SACK,
                    sreq,
                    ..Default::default()
                },
            );
        }
    }

    /// Copies a whole message into receive `id` and completes it.
    fn deliver(&self, st: &mut State, id: ReqId, src: i32, tag: i32, bytes: &[u8], len: u64) {
        let r = st.reqs.get_mut(id).expect("matched receive");
        let data = r.data.as_ref().expect("receive data");
        let cap = data.bytes();
        let n = data.unpack(0, &bytes[..bytes.len().min(cap as usize)]) as u64;
        r.status = Status {
            source: src,
            tag,
            error: if len > cap { class::ERR_TRUNCATE } else { 0 },
            bytes: n,
            cancelled: false,
        };
        self.complete(st, id);
    }

    /// Receive `id` matched a rendezvous announcement: read the data in one copy when
    /// allowed, else ask the sender to stream it.
    #[allow(clippy::too_many_arguments)]
    fn rendezvous(
        &self,
        st: &mut State,
        id: ReqId,
        src: i32,
        tag: i32,
        ep: u32,
        sreq: u64,
        addr: u64,
        cma: bool,
        len: u64,
    ) {
        let (cap, data) = {
            let r = st.reqs.get_mut(id).expect("matched receive");
            let data = r.data.clone().expect("receive data");
            (data.bytes(), data)
        };
        let n = len.min(cap);
        let error = if len > cap { class::ERR_TRUNCATE } else { 0 };
        if cma && st.cma {
            if let Ok(local) = self.local(ep) {
                let mut pieces: Vec<&mut [u8]> = Vec::new();
                data.pieces(0, n, |p, l| pieces.push(p.slice_mut(0, l)));
                match self
                    .fab
                    .read_remote(local, &[(addr as usize, n as usize)], &mut pieces)
                {
                    Ok(got) if got as u64 == n => {
                        counters::SINGLE_COPY_READS.add(1);
                        let r = st.reqs.get_mut(id).expect("matched receive");
                        r.status = Status {
                            source: src,
                            tag,
                            error,
                            bytes: n,
                            cancelled: false,
                        };
                        self.complete(st, id);
                        self.ctrl(
                            st,
                            ep,
                            Header {
                                kind: kind::FIN,
                                sreq,
                                ..Default::default()
                            },
                        );
                        return;
                    }
                    _ => st.cma = false,
                }
            }
        }
        let r = st.reqs.get_mut(id).expect("matched receive");
        r.status = Status {
            source: src,
            tag,
            error,
            bytes: n,
            cancelled: false,
        };
        r.total = len;
        r.got = 0;
        self.ctrl(
            st,
            ep,
            Header {
                kind: kind::CTS,
                sreq,
                rreq: id.wire(),
                ..Default::default()
            },
        );
    }

    // ----------------------------------------------------------------------------------
    // Progress

    /// Drains the fabric and advances transfers; true when anything happened.
    pub fn progress(&self, st: &mut State) -> bool {
        let mut did = self.drain_backlog(st);
        for _ in 0..64 {
            let Some(rx) = self.fab.poll() else { break };
            let h = Header::decode(self.fab.header(&rx));
            let from = self.ep_of(self.fab.src(&rx));
            self.on_cell(st, from, &h, &rx);
            self.fab.release(rx);
            did = true;
        }
        did |= self.stream(st);
        if did && st.completions > 0 {
            st.completions = 0;
            if self.sleepers.load(Ordering::SeqCst) > 0 {
                self.fab.ring(self.fab.me());
            }
        }
        did
    }

    fn on_cell(&self, st: &mut State, from: u32, h: &Header, rx: &F::Rx) {
        match h.kind {
            kind::EAGER | kind::RTS if h.flags & flag::PART != 0 => {
                self.on_part_piece(st, from, h, rx)
            }
            kind::EAGER => {
                self.count_recvd(from, h.len);
                let sync = (h.flags & flag::SYNC != 0).then_some((from, h.sreq));
                if let Some(p) = st.q.take_posted(h.context, h.src, h.tag) {
                    if let Some((ep, sreq)) = sync {
                        self.acknowledge(st, ep, sreq);
                    }
                    self.deliver(st, p.req, h.src, h.tag, self.fab.payload(rx), h.len);
                } else {
                    let buf = self.fab.payload(rx)[..h.len as usize].to_vec();
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
            }
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
            kind::CTS => {
                if let Some(id) = ReqId::from_wire(h.sreq) {
                    if let Some(r) = st.reqs.get_mut(id) {
                        r.rreq = h.rreq;
                        r.phase = Phase::Streaming;
                        st.streaming.push(id);
                    }
                }
            }
            kind::DATA => {
                if let Some(id) = ReqId::from_wire(h.rreq) {
                    let payload = self.fab.payload(rx);
                    let done = match st.reqs.get_mut(id) {
                        Some(r) => {
                            if let Some(d) = r.data.as_ref() {
                                d.unpack(h.addr, &payload[..h.len as usize]);
                            }
                            if r.part.is_some() {
                                super::partitioned::add_range(&mut r.arrived, h.addr, h.len);
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
            }
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
                if let Some(id) = ReqId::from_wire(h.sreq) {
                    self.cancel_answered(st, id, h.len == 1);
                }
            }
            _ => {}
        }
    }

    fn drain_backlog(&self, st: &mut State) -> bool {
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

    /// Streams DATA cells of pipelined sends while cells are free.
    fn stream(&self, st: &mut State) -> bool {
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

    // ----------------------------------------------------------------------------------
    // Completion and waiting

    /// Marks request `id` complete (recycling it if the user already freed it).
    pub fn complete(&self, st: &mut State, id: ReqId) {
        let Some(r) = st.reqs.get_mut(id) else { return };
        if r.done {
            return;
        }
        if r.cancel_pending {
            // The receiver's answer to MPI_Cancel decides (see `cancel_answered`).
            r.proto_done = true;
            return;
        }
        r.done = true;
        r.active = false;
        r.phase = Phase::Idle;
        let (parent, gives, status) = (r.parent, r.gives_status, r.status);
        st.completions += 1;
        if r.freed {
            st.reqs.release(id);
        }
        if let Some(p) = parent {
            let finished = match st.reqs.get_mut(p) {
                Some(pr) => {
                    if gives {
                        pr.status = status;
                    } else if status.cancelled {
                        // The send a buffered-mode request stands for was cancelled.
                        pr.status.cancelled = true;
                    }
                    pr.pending -= 1;
                    pr.pending == 0
                }
                None => false,
            };
            if finished {
                self.complete(st, p);
            }
        }
    }

    /// One request standing for several (Isendrecv): it completes when all parts have,
    /// with the status of `status_from`. `keep` lives until then.
    pub fn join(&self, parts: &[ReqId], status_from: ReqId, keep: Option<Box<[u8]>>) -> ReqId {
        let mut st = self.lock();
        let parent = st.reqs.alloc(Kind::Schedule);
        st.reqs.get_mut(parent).expect("fresh").keep = keep;
        for &c in parts {
            let Some(r) = st.reqs.get_mut(c) else {
                continue;
            };
            if r.done {
                let s = r.status;
                st.reqs.release(c);
                if c == status_from {
                    st.reqs.get_mut(parent).expect("parent").status = s;
                }
            } else {
                r.parent = Some(parent);
                r.gives_status = c == status_from;
                r.freed = true;
                st.reqs.get_mut(parent).expect("parent").pending += 1;
            }
        }
        if st.reqs.get(parent).expect("parent").pending == 0 {
            self.complete(&mut st, parent);
        }
        parent
    }

    /// Completes a request from outside the engine (generalized requests, schedules) and
    /// wakes threads that sleep waiting for it.
    pub fn complete_external(&self, id: ReqId) {
        let mut st = self.lock();
        self.complete(&mut st, id);
        drop(st);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            self.fab.ring(self.fab.me());
        }
    }

    /// Registers a progress function of a higher layer (see `pollers`).
    pub fn add_poller(&self, f: fn() -> bool) {
        let mut p = self.pollers.write();
        if !p.iter().any(|g| *g as usize == f as usize) {
            p.push(f);
        }
        self.has_pollers.store(true, Ordering::Release);
    }

    /// Runs the registered pollers; true if any did work.
    #[inline]
    pub fn run_pollers(&self) -> bool {
        if !self.has_pollers.load(Ordering::Acquire) {
            return false;
        }
        // Pollers never register pollers, so iterating under the read lock is safe, and
        // it costs no allocation on the waiting path.
        let mut did = false;
        for f in self.pollers.read().iter() {
            did |= f();
        }
        did
    }

    /// Spin time and yields for a blocked call. Processes of other jobs we talk to (spawned
    /// children, parents) share this host's cores too: once the processes we know outnumber
    /// the cores, a blocked call stops spinning, as ranks of an oversubscribed job do.
    fn waiting_policy(&self) -> (Duration, u32) {
        let others = self.fab.remote_peers();
        if others == 0 || self.spin_fixed || self.nlocal + others <= self.cpus {
            (self.spin, self.yields)
        } else {
            (Duration::ZERO, self.yields.max(50))
        }
    }

    /// Runs progress until `f` returns Some: spinning for up to `spin` (a message from a
    /// running peer usually arrives within microseconds), then yielding a few times, then
    /// sleeping on the doorbell so a blocked rank does not burn a core. Any progress starts
    /// the spin phase again.
    pub fn wait_until<R>(&self, mut f: impl FnMut(&Self, &mut State) -> Option<R>) -> R {
        let mut spins = 0u32;
        let mut yields = 0u32;
        let (spin, max_yields) = self.waiting_policy();
        let mut spin_start: Option<Instant> = None;
        // The first clock reading the policy takes: time blocked is counted from there
        // (MPI_T's time_blocked), so a wait that ends within 64 polls reads no clock.
        let mut blocked_since: Option<Instant> = None;
        let mut asleep = false;
        loop {
            let mut ticket = 0;
            if asleep {
                self.sleepers.fetch_add(1, Ordering::SeqCst);
                ticket = self.fab.ticket();
            }
            let polled = self.run_pollers();
            {
                let mut st = self.lock();
                let did = self.progress(&mut st) | polled;
                if let Some(r) = f(self, &mut st) {
                    if asleep {
                        self.sleepers.fetch_sub(1, Ordering::SeqCst);
                    }
                    if let Some(t) = blocked_since {
                        counters::BLOCKED_NS.add(t.elapsed().as_nanos() as u64);
                    }
                    return r;
                }
                if did {
                    (spins, yields, spin_start) = (0, 0, None);
                }
            }
            if asleep {
                self.fab.wait_since(ticket, Duration::from_millis(100));
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                asleep = spin_start.is_some();
                continue;
            }
            // Read the clock only every 64 polls: it costs more than a poll.
            spins += 1;
            if !spin.is_zero()
                && (spins % 64 != 0 || {
                    let t = *spin_start.get_or_insert_with(Instant::now);
                    blocked_since.get_or_insert(t);
                    t.elapsed() < spin
                })
            {
                std::hint::spin_loop();
            } else if yields < max_yields {
                yields += 1;
                std::thread::yield_now();
            } else {
                asleep = true;
                let t = *spin_start.get_or_insert_with(Instant::now);
                blocked_since.get_or_insert(t);
            }
        }
    }

    /// Waits for request `id` and frees it (unless persistent); returns its status.
    pub fn wait(&self, id: ReqId) -> Status {
        self.wait_until(|e, st| e.reap(st, id))
    }

    /// If `id` is complete: its status, and the request freed (persistent ones become
    /// inactive). An inactive persistent request reports the empty status.
    pub fn reap(&self, st: &mut State, id: ReqId) -> Option<Status> {
        let r = st.reqs.get_mut(id)?;
        if r.persist.is_some() {
            if !r.active && !r.done {
                return Some(Status::empty());
            }
            if !r.done {
                return None;
            }
            r.done = false;
            r.active = false;
            let s = r.status;
            if let Some(i) = r.inner.take() {
                st.reqs.forget(i);
            }
            return Some(s);
        }
        if !r.done {
            return None;
        }
        let s = r.status;
        st.reqs.release(id);
        Some(s)
    }

    /// Test without waiting.
    pub fn test(&self, id: ReqId) -> Option<Status> {
        self.run_pollers();
        let mut st = self.lock();
        self.progress(&mut st);
        self.reap(&mut st, id)
    }

    /// Status of `id` if complete, without freeing it (MPI_Request_get_status).
    pub fn peek(&self, id: ReqId) -> Option<Status> {
        self.run_pollers();
        let mut st = self.lock();
        self.progress(&mut st);
        let r = st.reqs.get(id)?;
        if r.persist.is_some() && !r.active && !r.done {
            return Some(Status::empty());
        }
        r.done.then_some(r.status)
    }

    pub fn is_valid(&self, id: ReqId) -> bool {
        self.lock().reqs.get(id).is_some()
    }

    /// MPI_Request_free: forget the request; an active one completes in the background.
    pub fn free(&self, id: ReqId) {
        let mut st = self.lock();
        let Some(r) = st.reqs.get_mut(id) else { return };
        if r.done || (r.persist.is_some() && !r.active) || r.kind == Kind::Done {
            st.reqs.release(id);
        } else {
            r.freed = true;
            r.persist = None;
        }
    }

    /// A request that is already complete with `status` (e.g. MPI_PROC_NULL operations).
    pub fn completed(&self, status: Status) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(Kind::Done);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.status = status;
        r.done = true;
        id
    }

    /// A request completed later by `complete_external` (generalized requests, schedules).
    pub fn external(&self, kind: Kind, ext: [usize; 4]) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(kind);
        st.reqs.get_mut(id).expect("fresh").ext = ext;
        id
    }

    /// A persistent request started and completed by a higher layer (persistent
    /// collectives): inactive until `activate`, reusable after each completion.
    /// `starter` is what MPI_Start calls for it.
    pub fn external_persistent(
        &self,
        kind: Kind,
        ext: [usize; 4],
        starter: fn(ReqId) -> Result<(), MpiError>,
    ) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(kind);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.ext = ext;
        r.starter = Some(starter);
        r.persist = Some(Box::new(Persist::External));
        id
    }

    /// Marks an external persistent request active (its owner's MPI_Start).
    pub fn activate(&self, id: ReqId) -> Result<(), MpiError> {
        let mut st = self.lock();
        let r = st
            .reqs
            .get_mut(id)
            .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "not a valid request"))?;
        if r.active {
            return Err(MpiError::arg(
                class::ERR_REQUEST,
                "request",
                "persistent request is already active",
            ));
        }
        r.active = true;
        r.done = false;
        r.status = Status::default();
        Ok(())
    }

    /// Sets the status an external request reports.
    pub fn set_status(&self, id: ReqId, s: Status) {
        if let Some(r) = self.lock().reqs.get_mut(id) {
            r.status = s;
        }
    }

    pub fn kind_of(&self, id: ReqId) -> Option<(Kind, [usize; 4], bool)> {
        self.lock().reqs.get(id).map(|r| (r.kind, r.ext, r.done))
    }

    /// True for a persistent request that is not started (MPI treats it like a null
    /// request in the any/some completion calls).
    pub fn is_inactive(&self, id: ReqId) -> bool {
        self.lock()
            .reqs
            .get(id)
            .map(|r| r.persist.is_some() && !r.active && !r.done)
            .unwrap_or(false)
    }

    /// True when the user freed the request while it was still active.
    pub fn is_freed(&self, id: ReqId) -> bool {
        self.lock().reqs.get(id).map(|r| r.freed).unwrap_or(false)
    }

    /// The opaque owner of a request (see `Req::owner`).
    pub fn owner_of(&self, id: ReqId) -> Option<i32> {
        self.lock().reqs.get(id).map(|r| r.owner)
    }

    pub fn set_owner(&self, id: ReqId, owner: i32) {
        if let Some(r) = self.lock().reqs.get_mut(id) {
            r.owner = owner;
        }
    }

    // ----------------------------------------------------------------------------------
    // Persistent requests

    pub fn send_init(&self, a: SendArgs) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(Kind::Send);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.persist = Some(Box::new(Persist::Send {
            ep: a.ep,
            ctx: a.ctx,
            src: a.src,
            tag: a.tag,
            mode: a.mode,
            data: a.data,
            owner: a.owner,
        }));
        id
    }

    pub fn recv_init(&self, a: RecvArgs) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(Kind::Recv);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.persist = Some(Box::new(Persist::Recv {
            ctx: a.ctx,
            src: a.src,
            tag: a.tag,
            data: a.data,
            owner: a.owner,
        }));
        id
    }

    /// Completes a started persistent request whose peer is MPI_PROC_NULL, with the
    /// status the standard gives such operations (source MPI_PROC_NULL, tag MPI_ANY_TAG).
    fn complete_proc_null(&self, st: &mut State, id: ReqId) {
        if let Some(r) = st.reqs.get_mut(id) {
            r.status = Status {
                source: -1,
                tag: -1,
                ..Default::default()
            };
        }
        self.complete(st, id);
    }

    /// MPI_Start on a persistent point-to-point request.
    pub fn start(&self, id: ReqId) -> Result<(), MpiError> {
        let starter = self.lock().reqs.get(id).and_then(|r| r.starter);
        if let Some(f) = starter {
            // A persistent request of a higher layer: it activates and runs it.
            return f(id);
        }
        let mut st = self.lock();
        let r = st
            .reqs
            .get_mut(id)
            .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "not a valid request"))?;
        let p = r.persist.clone().ok_or_else(|| {
            MpiError::arg(class::ERR_REQUEST, "request", "not a persistent request")
        })?;
        if r.active {
            return Err(MpiError::arg(
                class::ERR_REQUEST,
                "request",
                "persistent request is already active",
            ));
        }
        r.active = true;
        r.done = false;
        r.status = Status::default();
        match *p {
            Persist::PSend { parts, .. } => {
                self.start_psend(&mut st, id, parts);
                Ok(())
            }
            Persist::PRecv {
                ctx,
                src,
                tag,
                data,
                parts,
                pair,
                ..
            } => {
                self.start_precv(&mut st, id, ctx, src, tag, data, parts, pair);
                Ok(())
            }
            Persist::External => unreachable!("external persistent requests have a starter"),
            Persist::Send {
                ep,
                ctx,
                src,
                tag,
                mode,
                data,
                owner,
            } => {
                if mode == Mode::Buffered && ep != u32::MAX {
                    drop(st);
                    let byte = TypeKeep::Static(crate::datatype::byte());
                    let inner = self.bsend_inner(
                        SendArgs {
                            ep,
                            ctx,
                            src,
                            tag,
                            mode,
                            data,
                            owner,
                        },
                        byte,
                    );
                    let mut st = self.lock();
                    let r = st.reqs.get_mut(id).expect("started request");
                    let res = match inner {
                        Ok(inner) => {
                            r.inner = Some(inner);
                            Ok(())
                        }
                        Err(e) => {
                            // As MPICH: the start fails, and the request completes with
                            // the error (its Wait reports it too).
                            r.status.error = e.class;
                            Err(e)
                        }
                    };
                    self.complete(&mut st, id);
                    return res;
                }
                if ep == u32::MAX {
                    self.complete_proc_null(&mut st, id);
                    return Ok(());
                }
                self.start_send(
                    &mut st,
                    id,
                    SendArgs {
                        ep,
                        ctx,
                        src,
                        tag,
                        mode,
                        data,
                        owner,
                    },
                )
            }
            Persist::Recv {
                ctx,
                src,
                tag,
                data,
                owner,
            } => {
                if src == -1 {
                    self.complete_proc_null(&mut st, id);
                    return Ok(());
                }
                self.start_recv(
                    &mut st,
                    id,
                    RecvArgs {
                        ctx,
                        src,
                        tag,
                        data,
                        owner,
                    },
                );
                Ok(())
            }
        }
    }

    // ----------------------------------------------------------------------------------
    // Probe, matched probe, cancel

    /// MPI_Iprobe: the envelope of the oldest matching message, if one has arrived.
    pub fn iprobe(&self, ctx: u32, src: i32, tag: i32) -> Option<Status> {
        let mut st = self.lock();
        self.progress(&mut st);
        Self::probe_in(&st, ctx, src, tag)
    }

    fn probe_in(st: &State, ctx: u32, src: i32, tag: i32) -> Option<Status> {
        let i = st.q.find_unexpected(ctx, src, tag)?;
        let m = &st.q.unexpected[i];
        Some(Status {
            source: m.src,
            tag: m.tag,
            error: 0,
            bytes: m.len,
            cancelled: false,
        })
    }

    pub fn probe(&self, ctx: u32, src: i32, tag: i32) -> Status {
        self.wait_until(|_, st| Self::probe_in(st, ctx, src, tag))
    }

    /// MPI_Improbe: takes the message out of matching.
    pub fn improbe(&self, ctx: u32, src: i32, tag: i32) -> Option<(MsgId, Status)> {
        let mut st = self.lock();
        self.progress(&mut st);
        Self::mprobe_in(&mut st, ctx, src, tag)
    }

    fn mprobe_in(st: &mut State, ctx: u32, src: i32, tag: i32) -> Option<(MsgId, Status)> {
        let i = st.q.find_unexpected(ctx, src, tag)?;
        let m = st.q.unexpected.remove(i).expect("index from find");
        let s = Status {
            source: m.src,
            tag: m.tag,
            error: 0,
            bytes: m.len,
            cancelled: false,
        };
        let slot = match st.free_messages.pop() {
            Some(k) => {
                st.messages[k] = Some(m);
                k
            }
            None => {
                st.messages.push(Some(m));
                st.messages.len() - 1
            }
        };
        Some((MsgId(slot as u32), s))
    }

    pub fn mprobe(&self, ctx: u32, src: i32, tag: i32) -> (MsgId, Status) {
        self.wait_until(|_, st| Self::mprobe_in(st, ctx, src, tag))
    }

    /// MPI_Imrecv: receives a message taken by mprobe into `data`.
    pub fn imrecv(&self, msg: MsgId, data: Data) -> Result<ReqId, MpiError> {
        let mut st = self.lock();
        let m = st
            .messages
            .get_mut(msg.0 as usize)
            .and_then(|m| m.take())
            .ok_or_else(|| {
                MpiError::arg(class::ERR_REQUEST, "message", "not a valid message handle")
            })?;
        st.free_messages.push(msg.0 as usize);
        let id = st.reqs.alloc(Kind::Recv);
        {
            let r = st.reqs.get_mut(id).expect("fresh");
            r.ctx = m.ctx;
            r.src = m.src;
            r.tag = m.tag;
            r.data = Some(data);
        }
        self.take_unexpected(&mut st, id, m);
        Ok(id)
    }

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
            Some(Persist::External) => return Err(intern("a persistent collective request")),
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
    fn cancel_send(&self, st: &mut State, id: ReqId) {
        let r = st.reqs.get(id).expect("request");
        if r.cancel_pending || r.status.cancelled || r.part.is_some() {
            return;
        }
        let (ep, ctx, src, tag) = (r.ep, r.ctx, r.src, r.tag);
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
                sreq: id.wire(),
                ..Default::default()
            },
        );
    }

    /// The receiver answered the cancellation of send `id`: `dropped` if the message was
    /// still unmatched (no reply of the protocol will come), else the send completes when
    /// its protocol has.
    fn cancel_answered(&self, st: &mut State, id: ReqId, dropped: bool) {
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
    fn cancel_inner(&self, st: &mut State, id: ReqId, inner: ReqId) {
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

    /// Progresses until nothing this process owes its peers is still queued (control
    /// messages, streamed data): called before leaving at MPI_Finalize.
    pub fn quiesce(&self) {
        self.wait_until(|_, st| (st.backlog.is_empty() && st.streaming.is_empty()).then_some(()))
    }

    /// Waits until no operation on a context in `ctxs` is still running (what
    /// MPI_Comm_disconnect waits for). Inactive persistent requests do not count.
    pub fn drain_contexts(&self, ctxs: std::ops::Range<u32>) {
        self.wait_until(|_, st| {
            let busy = st
                .reqs
                .any(|r| !r.done && ctxs.contains(&r.ctx) && (r.persist.is_none() || r.active));
            (!busy).then_some(())
        })
    }

    /// Number of live requests (leak checks).
    pub fn live_requests(&self) -> usize {
        self.lock().reqs.live()
    }

    /// True when `src` names a rank that can match (used for ANY_SOURCE checks).
    pub fn any_source() -> i32 {
        ANY_SOURCE
    }
}
