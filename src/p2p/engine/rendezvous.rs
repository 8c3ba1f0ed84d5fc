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

/// How a single-copy read failed, as the engine acts on it.
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
