//! The receiver's side of a rendezvous: once a receive matches an RTS, read the data in one
//! copy from the sender's memory (CMA on this host, a pull over TCP to another) and send FIN,
//! or, where that is not allowed, answer CTS so that the sender streams DATA cells.
//!
//! Reads that do not finish at once (TCP pulls, `ReadStart::Pending`) overlap: the receive
//! stays pending with its read recorded in `State::reads`, the engine goes on (the next
//! matched RTS starts its own pull at once), and `finish_reads`, run by every progress
//! pass, completes the receives whose data is in place and sends their FINs. Why: a read
//! that blocked until its answer came left the link idle for a round trip per message, so a
//! window of large messages streamed at a fraction of the link (issue 14). Open MPI's ob1
//! likewise acknowledges every rendezvous it matches at once and its btl/tcp sends the
//! fragments back to back; MPICH's ch3 sock sends after each CTS without waiting for the
//! previous message to land.
//!
//! What a pending read means for the receive: it was matched, so it left the posted queue
//! (MPI_Cancel finds it matched and leaves it, as MPI says); MPI_Request_free marks it and
//! it is released when the read ends; it completes only when the fabric reports the read's
//! end, after which the fabric never writes its memory again. Receives may complete in
//! another order than they matched (allowed: non-overtaking is about matching). A peer lost
//! meanwhile ends the read with an error, which completes the receive with
//! MPI_ERR_PROC_FAILED instead of a hang.
//!
//! Split copy. On this host a read is one core's copy while the sender, whose message it
//! is, only waits for FIN; Open MPI (ob1 + smsc/cma) and MPICH 5 (ch4 IPC) leave it so too
//! (strace: one process_vm_readv of the whole message by the receiver). From
//! `OXIMPI_CMA_SPLIT` up (`default_cma_split`) the receiver of a contiguous, untruncated
//! message first sends PUT (its buffer's address and the offset of the second half), then
//! reads the first half; the sender, on PUT, writes the second half straight into the
//! receiver's buffer (`process_vm_writev`) and answers PUT_DONE with the bytes written. The
//! receive completes, and FIN goes out, once both halves are in: both cores copy at once,
//! and in a window the sender writes one message's half while the receiver reads the
//! next's. The idea is the one `coll::shm::direct::pair_copy` uses for the 2-rank
//! broadcast. A write the kernel refused or cut short, the receiver makes good by reading
//! the rest itself once PUT_DONE says how far the sender got (the sender has stopped
//! writing by then, so no byte is written after the receive completes). A read of the
//! receiver's own half that the kernel forbids falls back to CTS streaming, but only after
//! PUT_DONE, for the same reason. The receive's completion then waits for the sender to
//! make progress, as a CTS-streamed message's always did.

use super::*;
use crate::transport::fabric::ReadStart;

/// A read of a sender's memory in flight for a matched receive.
#[derive(Debug)]
pub(super) struct Read {
    /// The fabric's token (`ReadStart::Pending`).
    token: u64,
    /// The receive, whose status is already set.
    req: ReqId,
    /// The sender: endpoint and its request, for FIN (or CTS if the read fails softly).
    ep: u32,
    sreq: u64,
    /// The bytes the read must bring, and the sender's (more when the receive truncates).
    n: u64,
    len: u64,
}

/// A single-copy receive whose copy the sender shares (split copy, see the module doc):
/// its own half read (or failed), the sender's half awaited.
#[derive(Debug)]
pub(super) struct Put {
    /// The receive, whose status is already set.
    req: ReqId,
    /// The sender: endpoint, fabric index and its request, for FIN (or CTS).
    ep: u32,
    local: usize,
    sreq: u64,
    /// The sender's buffer and the receive's (both contiguous), the message's length and
    /// where the sender's half starts.
    src: u64,
    dst: UserPtr,
    n: u64,
    split: u64,
    /// How the receiver's own half went: None read, else how it failed.
    failed: Option<ReadFailure>,
}

/// How a single-copy read failed, as the engine acts on it.
#[derive(Debug, Clone, Copy)]
enum ReadFailure {
    /// The kernel or the peer will not allow it (CMA: EPERM, ENOSYS...): the sender streams
    /// the data instead (CTS), and single-copy reads stay off.
    Forbidden,
    /// The peer cannot be reached any more: the receive ends with an error.
    PeerLost,
}

impl ReadFailure {
    fn of(e: &std::io::Error) -> ReadFailure {
        use std::io::ErrorKind::*;
        match e.kind() {
            ConnectionAborted | ConnectionReset | BrokenPipe | NotConnected | UnexpectedEof => {
                ReadFailure::PeerLost
            }
            _ => ReadFailure::Forbidden,
        }
    }
}

impl<F: Fabric> Engine<F> {
    /// Receive `id` matched a rendezvous announcement: read the data in one copy when
    /// allowed (finishing now, or later in `finish_reads`), else ask the sender to stream it.
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
        let r = st.reqs.get_mut(id).expect("matched receive");
        let data = r.data.clone().expect("receive data");
        let n = len.min(data.bytes());
        let error = if n < len { class::ERR_TRUNCATE } else { 0 };
        r.status = Status {
            source: src,
            tag,
            error,
            bytes: n,
            cancelled: false,
        };
        if cma && st.cma {
            if let Ok(local) = self.local(ep) {
                if let Some((dst, split)) = self.split_point(local, &data, n, len) {
                    return self.read_shared(st, id, (ep, local, sreq), addr, dst, n, split);
                }
                let mut pieces: Vec<(UserPtr, usize)> = Vec::new();
                data.pieces(0, n, |p, l| pieces.push((p, l)));
                let read = Read {
                    token: 0,
                    req: id,
                    ep,
                    sreq,
                    n,
                    len,
                };
                match self
                    .fab
                    .start_read_remote(local, &[(addr as usize, n as usize)], &pieces)
                {
                    Ok(ReadStart::Done(got)) => return self.read_ended(st, read, Ok(got)),
                    Ok(ReadStart::Pending(token)) => {
                        st.reads.push(Read { token, ..read });
                        return;
                    }
                    Err(e) => match ReadFailure::of(&e) {
                        ReadFailure::PeerLost => return self.read_ended(st, read, Err(e)),
                        ReadFailure::Forbidden => st.cma = false,
                    },
                }
            }
        }
        self.ask_to_stream(st, id, ep, sreq, len);
    }

    /// Where a single-copy receive of `n` bytes into `data` from fabric index `local`
    /// (the sender offered `len`) splits between the receiver's read and the sender's
    /// write: the receive's address and the stream offset of the sender's half, from a page
    /// boundary of the stream. None when the copy is not shared: split copies off or the
    /// message below `OXIMPI_CMA_SPLIT`, a truncated receive (the sender's half would have
    /// to know where the receive ends), a non-contiguous receive buffer (it is written from
    /// one range), or a link whose reads are not Cross Memory Attach (TCP pulls).
    fn split_point(&self, local: usize, data: &Data, n: u64, len: u64) -> Option<(UserPtr, u64)> {
        if self.cma_split == 0 || n < self.cma_split || n != len {
            return None;
        }
        let dst = data.contiguous()?;
        if self.fab.frame_eager_limit(local) > 0 || self.fab.pid_of(local) <= 0 {
            return None;
        }
        let split = (n / 2) & !4095;
        (split > 0).then_some((dst, split))
    }

    /// The split copy's receiver (module doc): PUT to the sender first, so that its write
    /// runs while this process reads the first `split` bytes of the `n` at `src`; the
    /// receive then waits in `State::puts` for PUT_DONE (`on_put_done`).
    #[allow(clippy::too_many_arguments)]
    fn read_shared(
        &self,
        st: &mut State,
        id: ReqId,
        (ep, local, sreq): (u32, usize, u64),
        src: u64,
        dst: UserPtr,
        n: u64,
        split: u64,
    ) {
        self.ctrl(
            st,
            ep,
            Header {
                kind: kind::PUT,
                sreq,
                rreq: id.wire(),
                len: split,
                addr: dst.addr() as u64,
                ..Default::default()
            },
        );
        let failed = match self.fab.read_remote(
            local,
            &[(src as usize, split as usize)],
            &[(dst, split as usize)],
        ) {
            Ok(got) if got as u64 == split => None,
            Ok(_) => Some(ReadFailure::Forbidden),
            Err(e) => Some(ReadFailure::of(&e)),
        };
        if let Some(ReadFailure::PeerLost) = failed {
            // The sender is gone: it writes nothing more and no PUT_DONE will come.
            return self.read_ended(
                st,
                Read {
                    token: 0,
                    req: id,
                    ep,
                    sreq,
                    n,
                    len: n,
                },
                Err(std::io::ErrorKind::ConnectionAborted.into()),
            );
        }
        st.puts.push(Put {
            req: id,
            ep,
            local,
            sreq,
            src,
            dst,
            n,
            split,
            failed,
        });
    }

    /// PUT from endpoint `from` (we sent it `h.sreq`): write our bytes from offset `h.len`
    /// into its buffer at `h.addr` (same offset) and answer PUT_DONE with how many went.
    /// Nothing written (0: the receiver reads them) if the send is not a single-copy one
    /// waiting for FIN with contiguous data, or the kernel refuses the write.
    pub(super) fn on_put(&self, st: &mut State, from: u32, h: &Header) {
        let off = h.len;
        let pid = self.local(from).map_or(0, |l| self.fab.pid_of(l));
        let wrote = match ReqId::from_wire(h.sreq).and_then(|id| st.reqs.get(id)) {
            Some(r) if r.phase == Phase::WaitReply && off < r.total && pid > 0 => {
                match r.data.as_ref().and_then(Data::contiguous) {
                    Some(p) => crate::transport::shm::cma::write_to(
                        pid,
                        p.offset(off as i64),
                        (r.total - off) as usize,
                        h.addr as usize + off as usize,
                    )
                    .unwrap_or(0),
                    None => 0,
                }
            }
            _ => 0,
        };
        self.ctrl(
            st,
            from,
            Header {
                kind: kind::PUT_DONE,
                rreq: h.rreq,
                len: wrote as u64,
                ..Default::default()
            },
        );
    }

    /// PUT_DONE for our receive `h.rreq`: the sender wrote `h.len` bytes of its half and
    /// writes no more. The receive completes (FIN) once the rest of its half, if any, is
    /// read; if this process's own read failed, the sender streams everything (CTS).
    pub(super) fn on_put_done(&self, st: &mut State, h: &Header) {
        let Some(at) = st.puts.iter().position(|p| p.req.wire() == h.rreq) else {
            return;
        };
        let p = st.puts.swap_remove(at);
        let read = Read {
            token: 0,
            req: p.req,
            ep: p.ep,
            sreq: p.sreq,
            n: p.n,
            len: p.n,
        };
        if p.failed.is_some() {
            return self.read_ended(st, read, Err(std::io::ErrorKind::PermissionDenied.into()));
        }
        let from = p.split + h.len.min(p.n - p.split);
        let rest = (p.n - from) as usize;
        let r = if rest == 0 {
            Ok(p.n as usize)
        } else {
            self.fab
                .read_remote(
                    p.local,
                    &[((p.src + from) as usize, rest)],
                    &[(p.dst.offset(from as i64), rest)],
                )
                .map(|got| if got == rest { p.n as usize } else { 0 })
        };
        self.read_ended(st, read, r);
    }

    /// Answers CTS for receive `id` (status already set): the sender streams its `len`
    /// bytes in DATA cells.
    fn ask_to_stream(&self, st: &mut State, id: ReqId, ep: u32, sreq: u64, len: u64) {
        let Some(r) = st.reqs.get_mut(id) else { return };
        r.total = len;
        r.got = 0;
        self.send_cts(st, ep, sreq, id);
    }

    /// Tells endpoint `ep` to stream its send `sreq` in DATA cells to our receive `id`.
    pub(in crate::p2p) fn send_cts(&self, st: &mut State, ep: u32, sreq: u64, id: ReqId) {
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

    /// Tells endpoint `ep` that its send `sreq`'s data has been read: the send completes.
    pub(in crate::p2p) fn send_fin(&self, st: &mut State, ep: u32, sreq: u64) {
        self.ctrl(
            st,
            ep,
            Header {
                kind: kind::FIN,
                sreq,
                ..Default::default()
            },
        );
    }

    /// Completes the receives whose reads the fabric reports ended since the last pass;
    /// true when any did, or when the fabric answered a peer's read meanwhile
    /// (`Fabric::served_reads`: progress of a sender that delivers no message, which must
    /// keep its waiting policy spinning). Only that check while no read of ours is in flight.
    pub(in crate::p2p) fn finish_reads(&self, st: &mut State) -> bool {
        let served = self.fab.served_reads();
        if st.reads.is_empty() {
            return served;
        }
        let mut ended = Vec::new();
        let n = self.fab.poll_reads(|token, r| ended.push((token, r)));
        for (token, r) in ended {
            let Some(at) = st.reads.iter().position(|x| x.token == token) else {
                continue;
            };
            // Completion order may differ from the start order: a window's receives complete
            // as their answers land.
            let read = st.reads.swap_remove(at);
            self.read_ended(st, read, r);
        }
        n > 0 || served
    }

    /// The read of `read` ended with `r`: the receive completes and the sender gets FIN; a
    /// lost peer completes it with MPI_ERR_PROC_FAILED; a read the kernel forbade (CMA) or
    /// one that came up short falls back to CTS streaming.
    fn read_ended(&self, st: &mut State, read: Read, r: std::io::Result<usize>) {
        let Read {
            req,
            ep,
            sreq,
            n,
            len,
            ..
        } = read;
        match r {
            Ok(got) if got as u64 == n => {
                counters::SINGLE_COPY_READS.add(1);
                self.complete(st, req);
                self.send_fin(st, ep, sreq);
            }
            Err(e) if matches!(ReadFailure::of(&e), ReadFailure::PeerLost) => {
                // Nothing more will come: the receive ends with the peer's failure.
                if let Some(r) = st.reqs.get_mut(req) {
                    r.status.error = class::ERR_PROC_FAILED;
                }
                self.complete(st, req);
            }
            _ => {
                // The kernel forbade the read, or it came up short (the data may be partly
                // written): the sender streams all of it instead, as before single-copy.
                st.cma = false;
                self.ask_to_stream(st, req, ep, sreq, len);
            }
        }
    }
}
