//! Probe and matched probe: envelopes of unexpected messages; MPI_Mprobe takes the message
//! out of the queue and MPI_Imrecv receives it.

use super::*;

impl<F: Fabric> Engine<F> {
    /// MPI_Iprobe: the envelope of the oldest matching message, if one has arrived.
    pub fn iprobe(&self, ctx: u32, src: i32, tag: i32) -> Option<Status> {
        // Pollers first, as `test` does: an MPI_Iprobe loop must also take in revoke
        // notices and step background operations.
        self.run_pollers();
        let mut st = self.lock();
        self.progress(&mut st);
        Self::probe_in(&st, ctx, src, tag)
    }

    pub(in crate::p2p) fn probe_in(st: &State, ctx: u32, src: i32, tag: i32) -> Option<Status> {
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

    pub(in crate::p2p) fn mprobe_in(
        st: &mut State,
        ctx: u32,
        src: i32,
        tag: i32,
    ) -> Option<(MsgId, Status)> {
        let i = st.q.find_unexpected(ctx, src, tag)?;
        let m = st.q.take_unexpected(i).expect("index from find");
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
}
