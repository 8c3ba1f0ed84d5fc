//! Receiving: posting receives, taking unexpected messages and delivering eager data (the
//! receiver's side of a rendezvous is `rendezvous`).

use super::*;
use crate::p2p::matching::matches;
use crate::transport::mem::{OwnedBytes, SMALL_COPY_MAX};

impl<F: Fabric> Engine<F> {
    /// Posts a receive; matches an unexpected message at once if there is one. The
    /// receive is built in its slot (`Slab::alloc_recv`) and, when no message waits (a
    /// window's receives, posted before their messages come), queued without a call:
    /// MPI_Irecv's straight line (issue 13). Always inlined: out of line, its arguments
    /// (56 bytes) were copied once more to the stack for the call.
    #[inline(always)]
    pub fn irecv(&self, a: RecvArgs) -> ReqId {
        let mut st = self.lock();
        self.post_recv(&mut st, a)
    }

    /// A receive built in its slot and matched or posted (`irecv`'s and `recv`'s body).
    #[inline(always)]
    fn post_recv(&self, st: &mut State, a: RecvArgs) -> ReqId {
        let RecvArgs {
            ctx,
            src,
            tag,
            data,
            owner,
        } = a;
        let id = st.reqs.alloc_recv(ctx, src, tag, owner, data);
        self.match_or_post(st, id, ctx, src, tag);
        id
    }

    /// Starts receive `id` (a fresh or restarted request) with `a`.
    pub(in crate::p2p) fn start_recv(&self, st: &mut State, id: ReqId, a: RecvArgs) {
        let (ctx, src, tag) = (a.ctx, a.src, a.tag);
        {
            let r = st.reqs.get_mut(id).expect("fresh request");
            r.ctx = ctx;
            r.src = src;
            r.tag = tag;
            r.done = false;
            r.status = Status::default();
            r.got = 0;
            r.owner = a.owner;
            r.data = Some(a.data);
        }
        self.match_or_post(st, id, ctx, src, tag);
    }

    /// Receive `id` (its fields set) takes the oldest unexpected message it matches, or
    /// joins the posted queue. An empty unexpected queue needs no search.
    #[inline]
    fn match_or_post(&self, st: &mut State, id: ReqId, ctx: u32, src: i32, tag: i32) {
        if st.q.unexpected.is_empty() {
            st.q.posted.push_back(Posted {
                ctx,
                src,
                tag,
                req: id,
            });
        } else {
            self.match_unexpected(st, id, ctx, src, tag);
        }
    }

    /// `match_or_post` when messages are queued.
    #[inline(never)]
    fn match_unexpected(&self, st: &mut State, id: ReqId, ctx: u32, src: i32, tag: i32) {
        if let Some(i) = st.q.find_unexpected(ctx, src, tag) {
            let State {
                q,
                reqs,
                completions,
                ..
            } = st;
            let m = &q.unexpected[i];
            if let (Body::Data(buf), None) = (&m.body, m.sync) {
                // Eager data nobody waits to hear about (a window's messages): copied from
                // the queue entry where it lies, which is then dropped. Moving the entry
                // (~150 bytes) out first cost more than copying a small message.
                let alone = fill(reqs, id, m.src, m.tag, buf, m.len);
                q.drop_unexpected(i);
                if alone {
                    *completions += 1;
                } else {
                    self.complete(st, id);
                }
                return;
            }
            let m = st.q.take_unexpected(i).expect("index from find");
            self.take_unexpected(st, id, m);
        } else {
            st.q.posted.push_back(Posted {
                ctx,
                src,
                tag,
                req: id,
            });
        }
    }

    /// Blocking receive. A message already queued (unexpected) as plain eager data is
    /// taken straight into the receive, with no request (`recv_queued`); otherwise a
    /// request is posted and waited for.
    pub fn recv(&self, a: RecvArgs) -> Status {
        let id = {
            let mut st = self.lock();
            if !st.q.unexpected.is_empty() {
                if let Queued::Taken(s) = recv_queued(&mut st, &a) {
                    return s;
                }
            }
            self.post_recv(&mut st, a)
        };
        self.wait(id)
    }

    /// `recv`'s general case: the receive posted (it matches whatever is queued by then)
    /// and waited for. Out of line: the straight lines that step aside to it
    /// (`recv_from`) do not carry its code.
    #[inline(never)]
    fn recv_posted(&self, a: RecvArgs) -> Status {
        let id = self.post_recv(&mut self.lock(), a);
        self.wait(id)
    }

    /// MPI_Recv from rank `a.src`, endpoint `ep`, for the C surface: the straight line
    /// (`recv_line`) when `ep` is a peer on this node and the receive holds at most
    /// `LINE_MAX` bytes, else `recv`. `quiet` is asked first and before each full progress
    /// round of the line: false (a failure or a revoke is known, which only a posted
    /// receive can be told about) ends the line, and the receive is posted. Always inlined
    /// into MPI_Recv: called, its 64-byte `RecvArgs` was copied once more for the call.
    ///
    /// A message already queued unexpected that the receive matches is looked for first,
    /// before the peer, size and failure checks of the line, which it does not need
    /// (`recv` takes such a message the same way at any failure state): a receiver that
    /// fell behind its sender takes each message in one search of the queue's head
    /// (issue 13: 547 instructions per 8 B receive of a queued message with the line's
    /// checks first and its call in between).
    #[inline(always)]
    pub fn recv_from(&self, a: RecvArgs, ep: u32, quiet: impl Fn() -> bool) -> Status {
        {
            let mut st = self.lock();
            if !st.q.unexpected.is_empty() {
                match take_queued(&mut st, &a) {
                    Queued::Taken(s) => return s,
                    Queued::General => {
                        drop(st);
                        return self.recv_posted(a);
                    }
                    Queued::NoMatch => {}
                }
            }
        }
        match self.local(ep) {
            Ok(peer)
                if ep != self.me && peer < self.nlocal && a.data.bytes() <= LINE_MAX && quiet() =>
            {
                match self.recv_line(&a, peer, quiet) {
                    Some(s) => s,
                    None => self.recv_posted(a),
                }
            }
            _ => self.recv(a),
        }
    }

    /// MPI_Recv's straight line (issue 13): a blocking receive from node peer `peer` polls
    /// that peer's next small message (`Fabric::take_small_from`) and, when it is plain
    /// eager data this receive matches, copies it into the receive's data and returns its
    /// status: no request slot, no posted-queue entry, no full progress pass per poll. A
    /// message already queued unexpected is taken as `recv` takes it. Anything else —
    /// a posted receive (it may match first), a queued match that needs the general path,
    /// a head message that is not for this receive or not plain eager (RTS, synchronous,
    /// partitioned), other layers' progress that did something, `quiet()` false — posts
    /// the receive as `recv` does (`post_recv`: it then matches whatever was queued by
    /// then) and waits for it: nothing is reordered, since a message is only taken while
    /// it is the oldest of its sender's and no receive is posted.
    ///
    /// The wait is the blocking loop's (`progress::block_on`: spin, yield, then sleep on
    /// the doorbell, which the fast boxes ring); every `FULL_EVERY`-th poll runs the full
    /// progress round (other peers' traffic, our own pending sends and rendezvous, other
    /// layers' pollers) and counts for the policy as every round of `wait` does.
    ///
    /// Sources: Open MPI's ob1 with btl/sm polls the fast boxes first in `opal_progress`
    /// and matches in the fragment callback; MPICH ch4's posix shm polls its fastbox
    /// (`MPIDI_POSIX_progress`) before the rest. Both still go through a posted request;
    /// taking the message in the blocking call itself is what this line adds.
    ///
    /// None: the general path (`recv_posted`), which the caller takes with the receive it
    /// owns; the line borrows it (given by value, its 64 bytes were copied once more for
    /// the call).
    fn recv_line(&self, a: &RecvArgs, peer: usize, quiet: impl Fn() -> bool) -> Option<Status> {
        // The message is often there already (the reply came while we were busy): one poll
        // before the blocking loop and its set-up.
        let first = self.line_step(&mut self.lock(), a, peer);
        match first {
            Line::Taken(s) => Some(s),
            Line::General => None,
            Line::Nothing => self.line_wait(a, peer, quiet),
        }
    }

    /// `recv_line`'s blocking loop: the received status, or None for the general path.
    #[inline(never)]
    fn line_wait(&self, a: &RecvArgs, peer: usize, quiet: impl Fn() -> bool) -> Option<Status> {
        let others = self.fab.remote_peers();
        let mut polls = 0u32;
        crate::progress::block_on(&self.policy, &self.fab, others, || {
            polls = polls.wrapping_add(1);
            let full = polls % FULL_EVERY == 0;
            if full && (self.run_pollers() || !quiet()) {
                return (true, Some(None));
            }
            let mut st = self.lock();
            let did = full && self.progress(&mut st);
            match self.line_step(&mut st, a, peer) {
                Line::Taken(s) => (did, Some(Some(s))),
                Line::General => (did, Some(None)),
                Line::Nothing => (did, None),
            }
        })
    }

    /// One poll of `recv_line` under the engine lock.
    #[inline]
    fn line_step(&self, st: &mut State, a: &RecvArgs, peer: usize) -> Line {
        if !st.q.posted.is_empty() {
            return Line::General;
        }
        if !st.q.unexpected.is_empty() {
            match take_queued(st, a) {
                Queued::Taken(s) => return Line::Taken(s),
                Queued::General => return Line::General,
                Queued::NoMatch => {}
            }
        }
        let mut status = None;
        let took = self.fab.take_small_from(peer, |hdr, payload| {
            let h = Header::decode(hdr);
            if h.kind != kind::EAGER
                || h.flags & (flag::SYNC | flag::PART) != 0
                || !matches(a.ctx, a.src, a.tag, h.context, h.src, h.tag)
            {
                return false;
            }
            status = Some((receive_whole(a, h.src, h.tag, h.len, payload), h.len));
            true
        });
        match (took, status) {
            (Some(true), Some((s, sent))) => {
                self.count_recvd(self.ep_of(peer), sent);
                Line::Taken(s)
            }
            (Some(_), _) => Line::General,
            (None, _) => Line::Nothing,
        }
    }

    /// Matches receive `id` with message `m` taken from the unexpected queue.
    pub(in crate::p2p) fn take_unexpected(&self, st: &mut State, id: ReqId, m: Unexpected) {
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

    pub(in crate::p2p) fn acknowledge(&self, st: &mut State, ep: u32, sreq: u64) {
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

    /// Copies a whole message into receive `id` and completes it. Always inlined: it is
    /// the end of the drained eager message's straight line (`Engine::on_small`).
    #[inline(always)]
    pub(in crate::p2p) fn deliver(
        &self,
        st: &mut State,
        id: ReqId,
        src: i32,
        tag: i32,
        bytes: &[u8],
        len: u64,
    ) {
        if fill(&mut st.reqs, id, src, tag, bytes, len) {
            st.completions += 1;
        } else {
            self.complete(st, id);
        }
    }

    /// The library's own blocking receive of exactly `buf.len()` bytes on (ctx, src, tag):
    /// anything else (an error, a shorter message) is an internal error naming the sizes,
    /// except that a failed peer or a revoked communicator (ULFM) keeps its own class.
    pub fn recv_exact(&self, ctx: u32, src: i32, tag: i32, buf: &mut [u8]) -> Result<(), MpiError> {
        let want = buf.len() as u64;
        // The receive writes into a block the operation owns (never into `buf` by address),
        // copied out once the receive has let it go.
        let mut block = OwnedBytes::zeroed(buf.len());
        let s = self.recv(RecvArgs {
            ctx,
            src,
            tag,
            data: Data::owned_bytes(block.clone()),
            owner: 0,
        });
        if [class::ERR_PROC_FAILED, class::ERR_REVOKED].contains(&s.error) {
            return Err(MpiError::new(
                s.error,
                format!("internal exchange with rank {src} (context {ctx}, tag {tag}) failed"),
            ));
        }
        if s.error != 0 || s.bytes != want {
            return Err(MpiError::intern(format!(
                "internal exchange: expected {want} bytes from {src} (context {ctx}, tag {tag}), \
                 got {} (error class {})",
                s.bytes, s.error
            )));
        }
        let got = block.to_vec().ok_or_else(|| {
            MpiError::intern("internal exchange: the receive still holds its block")
        })?;
        buf.copy_from_slice(&got);
        Ok(())
    }
}

/// Every this many polls `Engine::recv_line` runs a full progress round instead of only
/// looking at its peer's next message. A poll of one box costs ~20 instructions, an empty
/// full round ~220 (with the pollers): at 16 the line's spin stays a tight loop on the one
/// line the reply lands in, while other peers, our own sends' protocol and higher layers
/// still move every few hundred nanoseconds.
const FULL_EVERY: u32 = 16;

/// The largest receive (bytes) `Engine::recv_from` takes its straight line for. Larger
/// messages come in cells or a rendezvous, which the line does not read: it took them a
/// full round late, through the unexpected queue (4 KiB ping-pong 0.64 -> 1.13 us one-way
/// with the line for every fast-box size, bench/p2p.c, fast state, 7 rounds). And from
/// 1 KiB on, messages that do come in the box were no faster on the line: 1 KiB slow
/// state 0.706 us (general path) vs 0.789 (line up to 2 KiB) vs 0.701 (line up to 512 B),
/// 2 KiB 1.332 / 1.425 / 1.297, medians of 6-7 alternating rounds; at 512 the small sizes
/// keep their gain (8 B fast state 0.131 -> 0.125, slow 0.333 -> 0.306).
const LINE_MAX: u64 = 512;

/// What a poll of `Engine::recv_line` found.
enum Line {
    /// The message, received: its status.
    Taken(Status),
    /// Something the general path must handle: post the receive and wait.
    General,
    /// Nothing from the peer yet.
    Nothing,
}

/// MPI_Recv's straight line for a message that came first (issue 13: a receive of a
/// queued 8 B message cost ~670 instructions, a third of them the request slot's set-up,
/// reap and release): if the oldest unexpected message receive `a` matches is eager data
/// nobody waits to hear about (no synchronous-send acknowledgement), it is copied into
/// `a`'s data where the queue holds it, dropped from the queue, and its status returned.
/// None (nothing taken): no match, or a match that needs the general path (a rendezvous
/// announcement, a synchronous send: `Queued::General`), which the caller then takes from
/// the start (`NoMatch`: nothing matches, the caller may wait for the message). Nothing
/// else waits for such a receive, so no completion is counted.
#[inline(never)]
fn recv_queued(st: &mut State, a: &RecvArgs) -> Queued {
    take_queued(st, a)
}

/// What `take_queued` found in the unexpected queue.
enum Queued {
    /// The oldest match, plain eager data, taken: its status.
    Taken(Status),
    /// The oldest match needs the general path (rendezvous, synchronous send).
    General,
    /// No message matches.
    NoMatch,
}

/// `recv_queued`'s body, telling a match the general path must take from no match (one
/// search of the queue for `Engine::recv_line`, which goes on polling when nothing matches).
#[inline(always)]
fn take_queued(st: &mut State, a: &RecvArgs) -> Queued {
    let Some(i) = st.q.find_unexpected(a.ctx, a.src, a.tag) else {
        return Queued::NoMatch;
    };
    let m = &st.q.unexpected[i];
    let (Body::Data(buf), None) = (&m.body, m.sync) else {
        return Queued::General;
    };
    let status = receive_whole(a, m.src, m.tag, m.len, buf);
    st.q.drop_unexpected(i);
    Queued::Taken(status)
}

/// Receive `a` of a whole eager message (`len` bytes sent from `src` with `tag`, `payload`
/// the bytes at hand) without a request: the data unpacked and the status, truncated to
/// the receive's size with MPI_ERR_TRUNCATE as the general path reports it.
#[inline(always)]
fn receive_whole(a: &RecvArgs, src: i32, tag: i32, len: u64, payload: &[u8]) -> Status {
    let cap = a.data.bytes();
    Status {
        source: src,
        tag,
        error: if len > cap { class::ERR_TRUNCATE } else { 0 },
        bytes: unpack_whole(&a.data, cap, payload),
        cancelled: false,
    }
}

/// Copies a whole message (`len` bytes sent, `bytes` of them here) into receive `id` and
/// sets its status. The common receive (nobody freed, joined or cancels it) is marked done
/// here with the lookup just made and true returned, for the caller to count the
/// completion; false: the caller completes it with `Engine::complete`. Always inlined
/// (into `deliver` and `match_unexpected`).
#[inline(always)]
fn fill(reqs: &mut Slab, id: ReqId, src: i32, tag: i32, bytes: &[u8], len: u64) -> bool {
    let r = reqs.get_mut(id).expect("matched receive");
    let data = r.data.as_ref().expect("receive data");
    let cap = data.bytes();
    let n = unpack_whole(data, cap, bytes);
    r.status = Status {
        source: src,
        tag,
        error: if len > cap { class::ERR_TRUNCATE } else { 0 },
        bytes: n,
        cancelled: false,
    };
    if r.completes_alone() {
        r.mark_done();
        true
    } else {
        false
    }
}

/// Unpacks the message `bytes` (from stream offset 0) into receive data `data` of `cap`
/// bytes, truncated to `cap`; returns the bytes stored. A 0-byte message has nothing to
/// unpack (no walk of the receive's datatype); a small one into contiguous data is a
/// straight copy (issue 13: the 8 B unpack through `Data::unpack` and memcpy cost ~100
/// instructions).
#[inline(always)]
fn unpack_whole(data: &Data, cap: u64, bytes: &[u8]) -> u64 {
    if bytes.is_empty() {
        return 0;
    }
    let n = bytes.len().min(cap as usize);
    if n <= SMALL_COPY_MAX {
        if let Some(p) = data.contiguous() {
            p.write_small(&bytes[..n]);
            return n as u64;
        }
    }
    data.unpack(0, &bytes[..n]) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `unpack_whole` stores every length 0..=40 into contiguous data exactly (the
    /// `write_small` branches and the general unpack past them), truncates to the
    /// receive's capacity, and leaves the bytes past what it stored alone.
    #[test]
    fn unpack_whole_copies_every_small_length() {
        for cap in [0usize, 1, 3, 4, 7, 8, 15, 16, 31, 32, 33, 40] {
            for len in 0..=40usize {
                let src: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(7) ^ 0x5a).collect();
                let mut block = OwnedBytes::zeroed(cap + 8);
                let data = Data::owned(
                    block.clone(),
                    0,
                    cap as u64,
                    TypeKeep::Static(crate::datatype::byte()),
                );
                let n = unpack_whole(&data, data.bytes(), &src);
                assert_eq!(n as usize, len.min(cap), "cap {cap} len {len}");
                drop(data);
                let got = block.to_vec().expect("block let go");
                assert_eq!(
                    &got[..n as usize],
                    &src[..n as usize],
                    "cap {cap} len {len}"
                );
                assert!(
                    got[n as usize..].iter().all(|&b| b == 0),
                    "cap {cap} len {len}"
                );
            }
        }
    }
}
