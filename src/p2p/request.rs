//! Requests: a slab of slots addressed by `ReqId` (index + generation, so a stale id is
//! recognised), each holding the state of one operation.

use super::data::{Data, TypeKeep};
use std::sync::Arc;

/// Index (20 bits) and generation (6 bits): fits the 26 index bits of a handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReqId(pub u32);

const IDX_BITS: u32 = 20;
const GEN_MASK: u32 = 0x3f;

impl ReqId {
    #[inline]
    pub fn index(self) -> usize {
        (self.0 & ((1 << IDX_BITS) - 1)) as usize
    }
    #[inline]
    fn gen(self) -> u32 {
        self.0 >> IDX_BITS
    }
    #[inline]
    fn make(index: usize, gen: u32) -> ReqId {
        ReqId((gen & GEN_MASK) << IDX_BITS | index as u32)
    }
    /// Wire form carried in headers.
    #[inline]
    pub fn wire(self) -> u64 {
        self.0 as u64 + 1
    }
    #[inline]
    pub fn from_wire(w: u64) -> Option<ReqId> {
        (w != 0 && w <= u32::MAX as u64 + 1).then(|| ReqId((w - 1) as u32))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub source: i32,
    pub tag: i32,
    /// Error class of this operation (0 = success).
    pub error: i32,
    pub bytes: u64,
    pub cancelled: bool,
}

impl Status {
    /// The standard's empty status: what a null or inactive request completes with (any
    /// source, any tag, no error, count 0, not cancelled).
    pub fn empty() -> Status {
        Status {
            source: super::matching::ANY_SOURCE,
            tag: super::matching::ANY_TAG,
            ..Default::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Status::empty()
    }
}

/// Where the engine's array reaps (`Engine::wait_all`, `wait_all_checked`, `test_all`) hand
/// each entry of the array, under the engine lock (the sink may write user memory only).
pub trait ReapSink {
    /// Entry `i` was a plain request (complete, not persistent, not generalized, owning
    /// nothing but its data: a window's receives and sends), released now; `s` is read
    /// where the slot holds it. Issue 13: building a `Reaped` for it and moving that to the
    /// sink cost ~40 instructions a request in a 64-request MPI_Waitall.
    fn plain(&mut self, i: usize, s: &Status, kind: Kind);
    /// Any other entry: its result, None for a null entry or a request no longer live.
    fn reaped(&mut self, i: usize, r: Option<super::engine::Reaped>);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Standard,
    Sync,
    Ready,
    /// Through the attached buffer (persistent MPI_Bsend_init only; MPI_Bsend calls
    /// `Engine::bsend` directly).
    Buffered,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Send,
    Recv,
    /// Generalized request: completed by the user.
    Grequest,
    /// Completed at creation (e.g. a receive from MPI_PROC_NULL).
    Done,
    /// A collective or other schedule driven by a higher layer.
    Schedule,
}

/// Parameters to restart a persistent request.
#[derive(Clone, Debug)]
pub enum Persist {
    Send {
        ep: u32,
        ctx: u32,
        src: i32,
        tag: i32,
        mode: Mode,
        data: Data,
        owner: i32,
    },
    Recv {
        ctx: u32,
        src: i32,
        tag: i32,
        data: Data,
        owner: i32,
    },
    /// Partitioned send of `parts` partitions of `data.count / parts` elements each.
    PSend {
        ep: u32,
        ctx: u32,
        src: i32,
        tag: i32,
        data: Data,
        parts: u64,
        owner: i32,
        /// Its place in the init order (see `Piece::pair`).
        pair: u16,
    },
    /// Partitioned receive.
    PRecv {
        ctx: u32,
        src: i32,
        tag: i32,
        data: Data,
        parts: u64,
        owner: i32,
        pair: u16,
    },
    /// Started and completed by a higher layer (persistent collectives): what MPI_Start
    /// calls for it.
    External(Starter),
}

/// How a higher layer starts one of its persistent requests (it activates the request and
/// runs what the request stands for). The request carries it: the request slab is the one
/// registry of persistent requests.
#[derive(Clone)]
pub struct Starter(pub Arc<dyn Fn(ReqId) -> Result<(), crate::error::MpiError> + Send + Sync>);

impl std::fmt::Debug for Starter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Starter")
    }
}

/// Where a rendezvous send stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Idle,
    /// RTS sent, waiting for FIN (single copy) or CTS (pipelined).
    WaitReply,
    /// Streaming DATA cells to `rreq`.
    Streaming,
}

#[derive(Debug)]
pub struct Req {
    gen: u32,
    pub live: bool,
    pub kind: Kind,
    pub done: bool,
    /// Freed by the user while active: recycle at completion.
    pub freed: bool,
    pub status: Status,
    pub data: Option<Data>,
    // matching (receives)
    pub ctx: u32,
    pub src: i32,
    pub tag: i32,
    // rendezvous sends
    pub ep: u32,
    pub phase: Phase,
    pub total: u64,
    pub sent: u64,
    pub rreq: u64,
    // pipelined receives: bytes that arrived so far
    pub got: u64,
    /// Persistent request: how to restart; `active` while started and not completed.
    pub persist: Option<Box<Persist>>,
    pub active: bool,
    /// Opaque to the engine: whose errhandler reports this request's errors (the C surface
    /// stores the communicator handle).
    pub owner: i32,
    /// Opaque words for the C surface (grequest callbacks, bsend segment...).
    pub ext: [usize; 4],
    /// A joined request this one completes a part of, and whether it gives it its status.
    pub parent: Option<ReqId>,
    pub gives_status: bool,
    /// The part gives the joined request its status only if it carries an error.
    pub gives_error: bool,
    /// Parts of a joined request still running.
    pub pending: u32,
    /// Partitioned transfers: a send piece's place, or Some(default) on a partitioned
    /// receive.
    pub part: Option<super::matching::Piece>,
    /// Partitioned receive: byte ranges arrived so far (sorted, merged).
    pub arrived: Vec<(u64, u64)>,
    /// Partitioned send: partitions marked ready in this round. Partitioned receive: the
    /// sender's partitions that arrived (sized when the first arrives).
    pub ready: Vec<bool>,
    /// Memory that must live until completion (e.g. the packed copy of Sendrecv_replace).
    pub keep: Option<Box<[u8]>>,
    /// Send: MPI_Cancel asked the receiver to drop the message and its answer has not come
    /// yet; the request completes only with that answer.
    pub cancel_pending: bool,
    /// Send with a cancel pending: the protocol itself has finished (what completes the
    /// request if the cancellation fails).
    pub proto_done: bool,
    /// The internal send a buffered-mode request (MPI_Ibsend, a started MPI_Bsend_init)
    /// stands for: MPI_Cancel acts on it; it is forgotten with this request.
    pub inner: Option<ReqId>,
    /// The id the send's message went out under when it is not this request's own
    /// (`wire()`): a quick send's, whose cancellation made this request (see
    /// `engine::quick`). 0: its own.
    pub wire: u64,
}

impl Req {
    /// MPI_Start's share for a persistent request: active again, not done, a fresh status;
    /// an error if it is already active.
    pub fn restart(&mut self) -> Result<(), crate::error::MpiError> {
        if self.active {
            return Err(crate::error::MpiError::arg(
                crate::error::class::ERR_REQUEST,
                "request",
                "persistent request is already active",
            ));
        }
        self.active = true;
        self.done = false;
        self.status = Status::default();
        Ok(())
    }

    /// Marks the request complete (`Engine::complete` decides when).
    #[inline]
    pub fn mark_done(&mut self) {
        self.done = true;
        self.active = false;
        self.phase = Phase::Idle;
    }

    /// True when completing the request is `mark_done` and nothing else: it is not
    /// complete yet, the user has not freed it, it is no part of a joined request and no
    /// cancellation waits for an answer (see `Engine::complete`).
    #[inline]
    pub fn completes_alone(&self) -> bool {
        !self.done && !self.freed && !self.cancel_pending && self.parent.is_none()
    }

    /// Makes a released slot a fresh live request of `kind`, field by field: the same
    /// state as `blank`, without dropping the old request whole and copying a new one
    /// over it (a request is ~300 bytes; a window of small receives allocates one per
    /// message). What the slot owned, `release` has dropped already (the tests of `None`
    /// below find `None`: no drop glue runs); the vectors of a partitioned request are cleared, keeping
    /// their (small) capacity.
    #[inline(always)]
    fn reset(&mut self, kind: Kind) {
        self.live = true;
        self.kind = kind;
        self.done = false;
        self.freed = false;
        self.status = Status::default();
        if self.data.is_some() {
            self.data = None;
        }
        self.ctx = 0;
        self.src = 0;
        self.tag = 0;
        self.ep = 0;
        self.phase = Phase::Idle;
        self.total = 0;
        self.sent = 0;
        self.rreq = 0;
        self.got = 0;
        if self.persist.is_some() {
            self.persist = None;
        }
        self.active = false;
        self.owner = 0;
        self.ext = [0; 4];
        self.parent = None;
        self.gives_status = false;
        self.gives_error = false;
        self.pending = 0;
        if self.keep.is_some() {
            self.keep = None;
        }
        self.part = None;
        self.arrived.clear();
        self.ready.clear();
        self.cancel_pending = false;
        self.proto_done = false;
        if self.inner.is_some() {
            self.inner = None;
        }
        self.wire = 0;
    }

    fn blank(gen: u32) -> Req {
        Req {
            gen,
            live: false,
            kind: Kind::Done,
            done: false,
            freed: false,
            status: Status::default(),
            data: None,
            ctx: 0,
            src: 0,
            tag: 0,
            ep: 0,
            phase: Phase::Idle,
            total: 0,
            sent: 0,
            rreq: 0,
            got: 0,
            persist: None,
            active: false,
            owner: 0,
            ext: [0; 4],
            parent: None,
            gives_status: false,
            gives_error: false,
            pending: 0,
            keep: None,
            part: None,
            arrived: Vec::new(),
            ready: Vec::new(),
            cancel_pending: false,
            proto_done: false,
            inner: None,
            wire: 0,
        }
    }
}

/// Lets go of a request's data. Data over a predefined type in user memory owns nothing
/// (no reference count, no library block): it is forgotten, which is exactly its drop,
/// without the call to the drop glue (16 instructions a request, issue 13: a window's reap
/// releases 64).
/// Every field of `Data` is named in the pattern, so a field added to it fails to compile
/// here until it is judged (forgetting a field that owns something would leak it).
#[inline(always)]
fn clear_data(data: &mut Option<Data>) {
    const _: () = assert!(!std::mem::needs_drop::<crate::transport::mem::UserPtr>());
    match data {
        Some(Data {
            dt: TypeKeep::Static(_),
            keep: None,
            ptr: _,
            count: _,
        }) => std::mem::forget(data.take()),
        _ => *data = None,
    }
}

pub struct Slab {
    slots: Vec<Req>,
    free: Vec<usize>,
}

impl Default for Slab {
    fn default() -> Self {
        Self::new()
    }
}

impl Slab {
    pub fn new() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    /// A fresh live slot of `kind`.
    pub fn alloc(&mut self, kind: Kind) -> ReqId {
        let i = match self.free.pop() {
            Some(i) => i,
            None => self.grow(),
        };
        let r = &mut self.slots[i];
        r.reset(kind);
        ReqId::make(i, r.gen)
    }

    /// A fresh live receive with its envelope and data, built in the slot (MPI_Irecv's
    /// straight line, issue 13): `alloc`'s reset and the receive's fields in one inlined
    /// pass, so the stores `reset` makes and these overwrite are merged by the compiler,
    /// and the slot is looked up once instead of once more by the caller. Always inlined
    /// (with `reset`): out of line, the call and its reset cost ~90 instructions.
    #[inline(always)]
    pub fn alloc_recv(&mut self, ctx: u32, src: i32, tag: i32, owner: i32, data: Data) -> ReqId {
        let i = match self.free.pop() {
            Some(i) => i,
            None => self.grow(),
        };
        let r = &mut self.slots[i];
        r.reset(Kind::Recv);
        r.ctx = ctx;
        r.src = src;
        r.tag = tag;
        r.owner = owner;
        r.data = Some(data);
        ReqId::make(i, r.gen)
    }

    /// A new blank slot at the end (the free list was empty): its index.
    #[inline(never)]
    fn grow(&mut self) -> usize {
        self.slots.push(Req::blank(0));
        self.slots.len() - 1
    }

    #[inline]
    pub fn get(&self, id: ReqId) -> Option<&Req> {
        self.slots
            .get(id.index())
            .filter(|r| r.live && (r.gen & GEN_MASK) == id.gen())
    }

    #[inline]
    pub fn get_mut(&mut self, id: ReqId) -> Option<&mut Req> {
        self.slots
            .get_mut(id.index())
            .filter(|r| r.live && (r.gen & GEN_MASK) == id.gen())
    }

    /// Releases the slot; its id becomes stale. An inner request it stood for is forgotten.
    /// Inlined for the common request (a send or receive that owns nothing but its data: a
    /// window's reap releases 64); the others take `release_owning`.
    #[inline]
    pub fn release(&mut self, id: ReqId) {
        let Some(r) = self.get_mut(id) else { return };
        if r.persist.is_some() || r.keep.is_some() || r.inner.is_some() {
            return self.release_owning(id);
        }
        r.live = false;
        clear_data(&mut r.data);
        r.gen = r.gen.wrapping_add(1);
        self.free.push(id.index());
    }

    /// MPI_Wait's end for the common request (issue 13: a window's Waitall reaps 64): if
    /// `id` is a complete request that is not persistent and owns nothing but its data, its
    /// slot is released and its status and kind handed to `f` where the slot holds them
    /// (no copy out), all with one lookup: true. False: not live, not complete, a
    /// generalized request (its callbacks still need its words) or another kind of request
    /// (the caller then takes the general path, which decides again from the start).
    #[inline(always)]
    pub fn reap_plain_into(&mut self, id: ReqId, f: impl FnOnce(&Status, Kind)) -> bool {
        let Some(r) = self
            .slots
            .get_mut(id.index())
            .filter(|r| r.live && (r.gen & GEN_MASK) == id.gen())
        else {
            return false;
        };
        if !r.done
            || r.persist.is_some()
            || r.keep.is_some()
            || r.inner.is_some()
            || r.kind == Kind::Grequest
        {
            return false;
        }
        r.live = false;
        clear_data(&mut r.data);
        r.gen = r.gen.wrapping_add(1);
        // Releasing leaves the status where it is: read it there.
        f(&r.status, r.kind);
        self.free.push(id.index());
        true
    }

    /// `release` of a request that owns more than its data.
    #[inline(never)]
    fn release_owning(&mut self, id: ReqId) {
        let mut inner = None;
        if let Some(r) = self.get_mut(id) {
            r.live = false;
            r.data = None;
            // Most requests have neither: a test is cheaper than the drop glue's call.
            if r.persist.is_some() {
                r.persist = None;
            }
            if r.keep.is_some() {
                r.keep = None;
            }
            inner = r.inner.take();
            r.gen = r.gen.wrapping_add(1);
            self.free.push(id.index());
        }
        if let Some(i) = inner {
            self.forget(i);
        }
    }

    /// Nobody will wait for `id` any more: release it now if it is complete, else when it
    /// completes.
    pub fn forget(&mut self, id: ReqId) {
        let Some(r) = self.get_mut(id) else { return };
        if r.done {
            self.release(id);
        } else {
            r.freed = true;
        }
    }

    pub fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The live requests that satisfy `f`.
    pub fn ids_where(&self, f: impl Fn(&Req) -> bool) -> Vec<ReqId> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, r)| r.live && f(r))
            .map(|(i, r)| ReqId::make(i, r.gen))
            .collect()
    }

    /// True if a live request satisfies `f`.
    pub fn any(&self, f: impl Fn(&Req) -> bool) -> bool {
        self.slots.iter().any(|r| r.live && f(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_ids_are_rejected() {
        let mut s = Slab::new();
        let a = s.alloc(Kind::Send);
        s.release(a);
        let b = s.alloc(Kind::Recv);
        assert_eq!(a.index(), b.index());
        assert!(s.get(a).is_none());
        assert!(s.get(b).is_some());
        assert_eq!(ReqId::from_wire(b.wire()), Some(b));
    }

    /// What a persistent receive's slot holds (for the tests that need one).
    fn persistent_recv() -> Box<Persist> {
        Box::new(Persist::Recv {
            ctx: 1,
            src: 2,
            tag: 3,
            data: Data::of_bytes(&[4]),
            owner: 5,
        })
    }

    /// `alloc_recv` on a recycled slot: a blank receive but for its envelope and data.
    #[test]
    fn alloc_recv_is_a_blank_receive_with_its_envelope() {
        let mut s = Slab::new();
        let a = s.alloc(Kind::Send);
        let r = s.get_mut(a).unwrap();
        (r.done, r.total, r.wire, r.ext, r.pending) = (true, 5, 9, [1, 2, 3, 4], 2);
        r.status.bytes = 7;
        s.release(a);
        let d = Data::of_bytes(&[1, 2, 3]);
        let b = s.alloc_recv(4, 5, 6, 7, d.clone());
        assert_eq!(b.index(), a.index());
        let mut want = Req::blank(s.slots[b.index()].gen);
        (want.live, want.kind) = (true, Kind::Recv);
        (want.ctx, want.src, want.tag, want.owner) = (4, 5, 6, 7);
        want.data = Some(d);
        assert_eq!(format!("{:?}", s.get(b).unwrap()), format!("{want:?}"));
    }

    /// What `reap_plain_into` hands over: Some((status, kind)) when it reaped.
    fn reap_plain(s: &mut Slab, id: ReqId) -> Option<(Status, Kind)> {
        let mut got = None;
        let reaped = s.reap_plain_into(id, |st, kind| got = Some((*st, kind)));
        assert_eq!(reaped, got.is_some());
        got
    }

    /// `reap_plain_into` reaps a complete request that owns only its data (dropping the data:
    /// a library block it held is let go), and leaves alone one that is not complete,
    /// persistent, or a generalized request.
    #[test]
    fn reap_plain_takes_only_plain_complete_requests() {
        use crate::transport::mem::OwnedBytes;
        let mut s = Slab::new();
        let mut block = OwnedBytes::zeroed(4);
        let a = s.alloc_recv(1, 2, 3, 0, Data::owned_bytes(block.clone()));
        assert_eq!(reap_plain(&mut s, a), None, "not complete");
        let r = s.get_mut(a).unwrap();
        r.done = true;
        r.status.bytes = 4;
        assert!(block.to_vec().is_none(), "the receive holds the block");
        let (st, kind) = reap_plain(&mut s, a).expect("complete");
        assert_eq!((st.bytes, kind), (4, Kind::Recv));
        assert!(s.get(a).is_none(), "released");
        assert!(block.to_vec().is_some(), "the block was let go");
        let g = s.alloc(Kind::Grequest);
        s.get_mut(g).unwrap().done = true;
        assert_eq!(reap_plain(&mut s, g), None, "generalized request");
        let p = s.alloc(Kind::Recv);
        let r = s.get_mut(p).unwrap();
        r.done = true;
        r.persist = Some(persistent_recv());
        assert_eq!(reap_plain(&mut s, p), None, "persistent");
        assert!(s.get(g).is_some() && s.get(p).is_some());
    }

    /// `reset` (what `alloc` does to a recycled slot) leaves every field as `blank` does:
    /// a field added to one and not the other fails here.
    #[test]
    fn a_recycled_slot_is_blank() {
        let mut s = Slab::new();
        let a = s.alloc(Kind::Send);
        let r = s.get_mut(a).unwrap();
        r.done = true;
        r.freed = true;
        r.status.bytes = 5;
        r.data = Some(Data::of_bytes(&[1, 2, 3]));
        r.ctx = 1;
        r.src = 2;
        r.tag = 3;
        r.ep = 4;
        r.phase = Phase::Streaming;
        r.total = 5;
        r.sent = 6;
        r.rreq = 7;
        r.got = 8;
        r.persist = Some(persistent_recv());
        r.active = true;
        r.owner = 9;
        r.ext = [1, 2, 3, 4];
        r.parent = Some(ReqId(3));
        r.gives_status = true;
        r.gives_error = true;
        r.pending = 2;
        r.keep = Some(vec![1u8].into_boxed_slice());
        r.part = Some(Default::default());
        r.arrived.push((0, 1));
        r.ready.push(true);
        r.cancel_pending = true;
        r.proto_done = true;
        r.wire = 11;
        let inner = s.alloc(Kind::Send);
        s.get_mut(a).unwrap().inner = Some(inner);
        s.release(a);
        let b = s.alloc(Kind::Recv);
        assert_eq!(b.index(), a.index());
        let mut want = Req::blank(s.slots[b.index()].gen);
        want.live = true;
        want.kind = Kind::Recv;
        assert_eq!(format!("{:?}", s.get(b).unwrap()), format!("{want:?}"));
    }
}
