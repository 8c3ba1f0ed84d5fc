//! Partitioned communication (MPI 4): a persistent send whose partitions the user marks
//! ready one by one, and a persistent receive that reports each partition's arrival.
//!
//! Each ready partition travels at once as its own message on the communicator's
//! partitioned context, flagged PART, carrying its offset in the receive buffer; the
//! receive request stays posted until every byte has arrived, so the partitioning of the
//! two sides may differ. Large partitions use the same single-copy / pipelined protocols as
//! any message.

use super::data::Data;
use super::engine::{Engine, RecvArgs, SendArgs, State};
use super::fabric::Fabric;
use super::header::{flag, kind, Header};
use super::matching::{Body, Piece, Posted, Unexpected};
use super::request::{Kind, Mode, Persist, ReqId, Status};
use crate::error::{class, MpiError};
use crate::transport::mem::UserPtr;

/// Adds `[off, off + len)` to a sorted list of disjoint ranges, merging neighbours.
pub fn add_range(r: &mut Vec<(u64, u64)>, off: u64, len: u64) {
    if len == 0 {
        return;
    }
    let (mut lo, mut hi) = (off, off + len);
    let mut i = 0;
    while i < r.len() {
        let (a, b) = r[i];
        if b < lo {
            i += 1;
        } else if a > hi {
            break;
        } else {
            lo = lo.min(a);
            hi = hi.max(b);
            r.remove(i);
        }
    }
    r.insert(i, (lo, hi));
}

/// True when `[lo, hi)` is covered.
pub fn covered(r: &[(u64, u64)], lo: u64, hi: u64) -> bool {
    lo >= hi || r.iter().any(|&(a, b)| a <= lo && hi <= b)
}

fn part_data(data: &Data, parts: u64, i: u64) -> Data {
    let per = data.count / parts;
    Data::new(
        data.ptr.offset(i as i64 * per as i64 * data.dt.extent()),
        per,
        data.dt.clone(),
    )
}

fn err(msg: &str) -> MpiError {
    MpiError::arg(class::ERR_REQUEST, "request", msg)
}

impl<F: Fabric> Engine<F> {
    /// The place of a new partitioned request in the init order of (ctx, peer, tag).
    fn next_pair(st: &mut State, key: (u32, u32, i32, bool)) -> u16 {
        let n = st.part_seq.entry(key).or_insert(0);
        let k = *n;
        *n = n.wrapping_add(1);
        k
    }

    /// Takes the started partitioned receive of pair `pair` with envelope (ctx, src, tag).
    fn take_part_posted(st: &mut State, ctx: u32, src: i32, tag: i32, pair: u16) -> Option<Posted> {
        let i = st
            .part_posted
            .iter()
            .position(|(p, k)| p.ctx == ctx && p.src == src && p.tag == tag && *k == pair)?;
        Some(st.part_posted.swap_remove(i).0)
    }

    /// MPI_Psend_init: `a.data` spans all partitions.
    pub fn psend_init(&self, a: SendArgs, parts: u64) -> ReqId {
        let mut st = self.lock();
        let pair = Self::next_pair(&mut st, (a.ctx, a.ep, a.tag, true));
        let id = st.reqs.alloc(Kind::Send);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.owner = a.owner;
        r.persist = Some(Box::new(Persist::PSend {
            ep: a.ep,
            ctx: a.ctx,
            src: a.src,
            tag: a.tag,
            data: a.data,
            parts,
            owner: a.owner,
            pair,
        }));
        id
    }

    /// MPI_Precv_init.
    pub fn precv_init(&self, a: RecvArgs, parts: u64) -> ReqId {
        let mut st = self.lock();
        let pair = Self::next_pair(&mut st, (a.ctx, a.src as u32, a.tag, false));
        let id = st.reqs.alloc(Kind::Recv);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.owner = a.owner;
        r.persist = Some(Box::new(Persist::PRecv {
            ctx: a.ctx,
            src: a.src,
            tag: a.tag,
            data: a.data,
            parts,
            owner: a.owner,
            pair,
        }));
        id
    }

    /// MPI_Start of a partitioned send: no partition is ready yet.
    pub(super) fn start_psend(&self, st: &mut State, id: ReqId, parts: u64) {
        let r = st.reqs.get_mut(id).expect("request");
        r.ready = vec![false; parts as usize];
        r.pending = parts as u32;
        r.status = Status::default();
        if parts == 0 {
            self.complete(st, id);
        }
    }

    /// MPI_Start of a partitioned receive: post it, and take pieces that came early.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_precv(
        &self,
        st: &mut State,
        id: ReqId,
        ctx: u32,
        src: i32,
        tag: i32,
        data: Data,
        parts: u64,
        pair: u16,
    ) {
        let total = data.bytes();
        {
            let r = st.reqs.get_mut(id).expect("request");
            r.ctx = ctx;
            r.src = src;
            r.tag = tag;
            r.total = total;
            r.got = 0;
            r.part = Some(Piece::default());
            r.arrived.clear();
            r.ready.clear();
            r.status = Status {
                source: src,
                tag,
                error: 0,
                bytes: total,
                cancelled: false,
            };
            r.data = Some(data);
        }
        if parts == 0 {
            // No partition to wait for (the sender has none either).
            self.complete(st, id);
            return;
        }
        // Pieces that came early, of this pair only (in arrival order: a later round's
        // pieces arrive after all of this round's).
        while let Some(i) = st.q.unexpected.iter().position(|m| {
            m.ctx == ctx && m.src == src && m.tag == tag && m.part.map(|p| p.pair) == Some(pair)
        }) {
            let m = st.q.unexpected.remove(i).expect("index from find");
            let piece = m.part.unwrap_or_default();
            match m.body {
                Body::Data(buf) => self.part_bytes(st, id, piece, &buf),
                Body::Rts {
                    ep,
                    sreq,
                    addr,
                    cma,
                } => self.part_rts(st, id, ep, sreq, addr, cma, m.len, piece.off),
            }
            if st.reqs.get(id).map(|r| r.done).unwrap_or(true) {
                return;
            }
        }
        st.part_posted.push((
            Posted {
                ctx,
                src,
                tag,
                req: id,
            },
            pair,
        ));
    }

    /// MPI_Pready: sends partition `i` now.
    pub fn pready(&self, id: ReqId, i: u64) -> Result<(), MpiError> {
        let mut st = self.lock();
        let r = st
            .reqs
            .get_mut(id)
            .ok_or_else(|| err("not a valid request"))?;
        let Some(Persist::PSend {
            ep,
            ctx,
            src,
            tag,
            data,
            parts,
            owner,
            pair,
        }) = r.persist.as_deref().cloned()
        else {
            return Err(err("not a partitioned send request"));
        };
        if !r.active {
            return Err(err("partitioned send is not active (MPI_Start it first)"));
        }
        if i >= parts {
            return Err(MpiError::arg(
                class::ERR_ARG,
                "partition",
                format!("partition {i} out of range (0..{parts})"),
            ));
        }
        if r.ready[i as usize] {
            return Err(MpiError::arg(
                class::ERR_ARG,
                "partition",
                format!("partition {i} is already ready"),
            ));
        }
        r.ready[i as usize] = true;
        let piece = part_data(&data, parts, i);
        let place = Piece {
            off: i * piece.bytes(),
            index: i,
            parts,
            pair,
        };
        if ep == self.me {
            let mut buf = vec![0u8; piece.bytes() as usize];
            piece.pack(0, &mut buf);
            match Self::take_part_posted(&mut st, ctx, src, tag, pair) {
                Some(p) => {
                    self.part_bytes(&mut st, p.req, place, &buf);
                    if !st.reqs.get(p.req).map(|r| r.done).unwrap_or(true) {
                        st.part_posted.push((p, pair));
                    }
                }
                None => {
                    let len = buf.len() as u64;
                    st.q.push_unexpected(Unexpected {
                        ctx,
                        src,
                        tag,
                        len,
                        body: Body::Data(buf.into()),
                        sync: None,
                        part: Some(place),
                        origin: None,
                    });
                }
            }
            let r = st.reqs.get_mut(id).expect("request");
            r.pending -= 1;
            if r.pending == 0 {
                self.complete(&mut st, id);
            }
            return Ok(());
        }
        let pid = st.reqs.alloc(Kind::Send);
        {
            let pr = st.reqs.get_mut(pid).expect("fresh");
            pr.part = Some(place);
            pr.parent = Some(id);
            pr.freed = true;
        }
        self.start_send(
            &mut st,
            pid,
            SendArgs {
                ep,
                ctx,
                src,
                tag,
                mode: Mode::Standard,
                data: piece,
                owner,
            },
        )
    }

    /// MPI_Parrived: has receive partition `i` fully arrived?
    pub fn parrived(&self, id: ReqId, i: u64) -> Result<bool, MpiError> {
        let mut st = self.lock();
        self.progress(&mut st);
        let r = st.reqs.get(id).ok_or_else(|| err("not a valid request"))?;
        let Some(Persist::PRecv { data, parts, .. }) = r.persist.as_deref() else {
            return Err(err("not a partitioned receive request"));
        };
        if i >= *parts {
            return Err(MpiError::arg(
                class::ERR_ARG,
                "partition",
                format!("partition {i} out of range (0..{parts})"),
            ));
        }
        if !r.active && !r.done {
            return Err(err("partitioned receive is not active"));
        }
        if r.done {
            return Ok(true);
        }
        let size = data.bytes() / parts;
        if size == 0 {
            // Nothing to count in bytes: partition i has arrived with the sender's partition
            // at the same relative position.
            let sp = r.ready.len() as u64;
            return Ok(sp > 0 && r.ready[(i * sp / parts) as usize]);
        }
        Ok(covered(&r.arrived, i * size, (i + 1) * size))
    }

    /// A PART cell arrived: deliver it to the posted partitioned receive, or keep it.
    pub(super) fn on_part_piece(&self, st: &mut State, from: u32, h: &Header, rx: &F::Rx) {
        let off = h.rreq;
        // Eager pieces carry their index and the sender's partition count (see emit_start).
        let place = if h.kind == kind::EAGER {
            Piece {
                off,
                index: h.sreq,
                parts: h.addr,
                pair: h.aux,
            }
        } else {
            Piece {
                off,
                pair: h.aux,
                ..Default::default()
            }
        };
        match Self::take_part_posted(st, h.context, h.src, h.tag, h.aux) {
            Some(p) => {
                if h.kind == kind::EAGER {
                    let payload = &self.fab.payload(rx)[..h.len as usize];
                    self.part_bytes(st, p.req, place, payload);
                } else {
                    self.part_rts(
                        st,
                        p.req,
                        from,
                        h.sreq,
                        h.addr,
                        h.flags & flag::CMA != 0,
                        h.len,
                        off,
                    );
                }
                if !st.reqs.get(p.req).map(|r| r.done).unwrap_or(true) {
                    st.part_posted.push((p, h.aux));
                }
            }
            None => {
                let body = if h.kind == kind::EAGER {
                    Body::Data(self.fab.payload(rx)[..h.len as usize].to_vec().into())
                } else {
                    Body::Rts {
                        ep: from,
                        sreq: h.sreq,
                        addr: h.addr,
                        cma: h.flags & flag::CMA != 0,
                    }
                };
                st.q.push_unexpected(Unexpected {
                    ctx: h.context,
                    src: h.src,
                    tag: h.tag,
                    len: h.len,
                    body,
                    sync: None,
                    part: Some(place),
                    origin: None,
                });
            }
        }
    }

    /// The bytes of piece `place` of receive `id`. A receive of zero bytes completes when
    /// every sender partition has arrived; any other when all its bytes have.
    fn part_bytes(&self, st: &mut State, id: ReqId, place: Piece, bytes: &[u8]) {
        let Some(r) = st.reqs.get_mut(id) else { return };
        if let Some(d) = r.data.as_ref() {
            d.unpack(place.off, bytes);
        }
        add_range(&mut r.arrived, place.off, bytes.len() as u64);
        r.got += bytes.len() as u64;
        if place.parts > 0 {
            if r.ready.len() as u64 != place.parts {
                r.ready = vec![false; place.parts as usize];
            }
            if let Some(x) = r.ready.get_mut(place.index as usize) {
                *x = true;
            }
        }
        let done = if r.total > 0 {
            r.got >= r.total
        } else {
            !r.ready.is_empty() && r.ready.iter().all(|&x| x)
        };
        if done {
            self.complete(st, id);
        }
    }

    /// A large piece: read it in one copy, or have the sender stream it (DATA cells carry
    /// absolute offsets).
    #[allow(clippy::too_many_arguments)]
    fn part_rts(
        &self,
        st: &mut State,
        id: ReqId,
        ep: u32,
        sreq: u64,
        addr: u64,
        cma: bool,
        len: u64,
        off: u64,
    ) {
        let Some(data) = st.reqs.get(id).and_then(|r| r.data.clone()) else {
            return;
        };
        if cma && st.cma {
            if let Ok(local) = self.local(ep) {
                let mut pieces: Vec<(UserPtr, usize)> = Vec::new();
                data.pieces(off, len, |p, l| pieces.push((p, l)));
                if let Ok(n) =
                    self.fab
                        .read_remote(local, &[(addr as usize, len as usize)], &pieces)
                {
                    if n as u64 == len {
                        self.send_fin(st, ep, sreq);
                        let r = st.reqs.get_mut(id).expect("request");
                        add_range(&mut r.arrived, off, len);
                        r.got += len;
                        if r.got >= r.total {
                            self.complete(st, id);
                        }
                        return;
                    }
                }
                st.cma = false;
            }
        }
        self.send_cts(st, ep, sreq, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge() {
        let mut r = Vec::new();
        add_range(&mut r, 10, 5);
        add_range(&mut r, 0, 5);
        assert!(!covered(&r, 0, 15));
        add_range(&mut r, 5, 5);
        assert_eq!(r, vec![(0, 15)]);
        assert!(covered(&r, 3, 12));
        add_range(&mut r, 20, 1);
        assert_eq!(r, vec![(0, 15), (20, 21)]);
    }
}
