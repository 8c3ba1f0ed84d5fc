//! The receiver's side of a rendezvous: once a receive matches an RTS, read the data in one
//! copy from the sender's memory (CMA on this host, a pull over TCP to another) and send FIN,
//! or, where that is not allowed, answer CTS so that the sender streams DATA cells.

use super::*;

impl<F: Fabric> Engine<F> {
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
}
