//! Receiving: posting receives, taking unexpected messages, delivering eager data, and the
//! receiver's side of a rendezvous (a single-copy read and FIN, or CTS to have the sender
//! stream).

use super::*;
use crate::transport::mem::OwnedBytes;

impl<F: Fabric> Engine<F> {
    /// Posts a receive; matches an unexpected message at once if there is one.
    pub fn irecv(&self, a: RecvArgs) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(Kind::Recv);
        self.start_recv(&mut st, id, a);
        id
    }

    pub(in crate::p2p) fn start_recv(&self, st: &mut State, id: ReqId, a: RecvArgs) {
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
                drop(q.take_unexpected(i));
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

    /// Copies a whole message into receive `id` and completes it.
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

    /// Receive `id` matched a rendezvous announcement: read the data in one copy when
    /// allowed, else ask the sender to stream it.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::p2p) fn rendezvous(
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
                let mut pieces: Vec<(UserPtr, usize)> = Vec::new();
                data.pieces(0, n, |p, l| pieces.push((p, l)));
                match self
                    .fab
                    .read_remote(local, &[(addr as usize, n as usize)], &pieces)
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

/// Copies a whole message (`len` bytes sent, `bytes` of them here) into receive `id` and
/// sets its status. The common receive (nobody freed, joined or cancels it) is marked done
/// here with the lookup just made and true returned, for the caller to count the
/// completion; false: the caller completes it with `Engine::complete`.
fn fill(reqs: &mut Slab, id: ReqId, src: i32, tag: i32, bytes: &[u8], len: u64) -> bool {
    let r = reqs.get_mut(id).expect("matched receive");
    let data = r.data.as_ref().expect("receive data");
    let cap = data.bytes();
    // A 0-byte message has nothing to unpack (no walk of the receive's datatype).
    let n = if bytes.is_empty() {
        0
    } else {
        data.unpack(0, &bytes[..bytes.len().min(cap as usize)]) as u64
    };
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
