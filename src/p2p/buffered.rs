//! Buffered-mode sends and the buffers they use: one attached to the process
//! (MPI_Buffer_attach) and, MPI 4.1, one per session (MPI_Session_attach_buffer, for the
//! communicators derived from it) and one per communicator (MPI_Comm_attach_buffer); the
//! most specific attached buffer is used. A buffer may be MPI_BUFFER_AUTOMATIC: then each message gets its own
//! heap copy, freed when its send completes.

use super::bsend::{BsendBuffer, OVERHEAD};
use super::data::{Data, TypeKeep};
use super::engine::{Engine, SendArgs};
use super::fabric::Fabric;
use super::request::{Kind, Mode, ReqId, Status};
use crate::error::{class, MpiError};
use crate::transport::mem::{OwnedBytes, UserPtr};
use std::collections::HashMap;

/// Which buffer: the process's, or a communicator's (by its context id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Process,
    /// A session, by an id the C surface chooses.
    Session(u32),
    /// A communicator, by its context id.
    Comm(u32),
}

#[derive(Default)]
pub struct Buffers {
    process: BsendBuffer,
    sessions: HashMap<u32, BsendBuffer>,
    comms: HashMap<u32, BsendBuffer>,
    /// The session each session-derived communicator (by context id) belongs to.
    session_of: HashMap<u32, u32>,
}

impl Buffers {
    fn get(&mut self, s: Scope) -> Option<&mut BsendBuffer> {
        match s {
            Scope::Process => Some(&mut self.process),
            Scope::Session(x) => self.sessions.get_mut(&x),
            Scope::Comm(c) => self.comms.get_mut(&c),
        }
    }

    fn attached(&self, s: Scope) -> bool {
        let b = match s {
            Scope::Process => Some(&self.process),
            Scope::Session(x) => self.sessions.get(&x),
            Scope::Comm(c) => self.comms.get(&c),
        };
        b.map(|b| b.attached().is_some()).unwrap_or(false)
    }

    /// The buffer a buffered send on context `ctx` uses.
    fn scope_for(&self, ctx: u32) -> Scope {
        if self.attached(Scope::Comm(ctx)) {
            return Scope::Comm(ctx);
        }
        match self.session_of.get(&ctx) {
            Some(&x) if self.attached(Scope::Session(x)) => Scope::Session(x),
            _ => Scope::Process,
        }
    }
}

impl<F: Fabric> Engine<F> {
    /// Attaches a buffer (`automatic`: MPI_BUFFER_AUTOMATIC, `base`/`size` unused).
    pub fn attach_buffer(
        &self,
        s: Scope,
        base: UserPtr,
        size: usize,
        automatic: bool,
    ) -> Result<(), MpiError> {
        let mut b = self.buffers.lock();
        let buf = match s {
            Scope::Process => &mut b.process,
            Scope::Session(x) => b.sessions.entry(x).or_default(),
            Scope::Comm(c) => b.comms.entry(c).or_default(),
        };
        if !automatic && size < OVERHEAD {
            // As MPICH: smaller than the bookkeeping of a single message.
            return Err(MpiError::arg(
                class::ERR_BUFFER,
                "size",
                format!("buffer of {size} bytes is smaller than MPI_BSEND_OVERHEAD ({OVERHEAD})"),
            ));
        }
        if !buf.attach(base, size, automatic) {
            return Err(MpiError::new(
                class::ERR_BUFFER,
                "a buffer is already attached",
            ));
        }
        Ok(())
    }

    /// Waits for the buffered sends of `s`, then detaches its buffer: (base, size,
    /// automatic), or None when none was attached (not an error: MPICH's detach then gives
    /// back NULL and 0).
    pub fn detach_buffer(&self, s: Scope) -> Option<(UserPtr, usize, bool)> {
        self.flush_buffer(s);
        let mut b = self.buffers.lock();
        let r = b.get(s).and_then(|buf| buf.detach());
        match s {
            Scope::Comm(c) => drop(b.comms.remove(&c)),
            Scope::Session(x) => drop(b.sessions.remove(&x)),
            Scope::Process => {}
        }
        r
    }

    /// Records that the communicator with context `ctx` derives from session `session`.
    pub fn bind_session(&self, ctx: u32, session: u32) {
        self.buffers.lock().session_of.insert(ctx, session);
    }

    /// The session the communicator with context `ctx` derives from, if any.
    pub fn session_of(&self, ctx: u32) -> Option<u32> {
        self.buffers.lock().session_of.get(&ctx).copied()
    }

    /// Forgets a freed communicator's buffer associations (its context id may be reused).
    pub fn forget_context(&self, ctx: u32) {
        let mut b = self.buffers.lock();
        b.session_of.remove(&ctx);
        b.comms.remove(&ctx);
        drop(b);
        // The pairing order of partitioned requests starts afresh on a reused context
        // block (a communicator owns 4 context ids).
        let block = ctx..ctx.saturating_add(4);
        self.lock().part_seq.retain(|k, _| !block.contains(&k.0));
    }

    /// Waits until every message buffered in `s` so far has been sent.
    pub fn flush_buffer(&self, s: Scope) {
        let pending: Vec<ReqId> = self
            .buffers
            .lock()
            .get(s)
            .map(|b| b.in_use().collect())
            .unwrap_or_default();
        for id in pending {
            self.wait_until(|_, st| {
                st.reqs
                    .get(id)
                    .map(|r| r.done)
                    .unwrap_or(true)
                    .then_some(())
            });
        }
        let st = self.lock();
        if let Some(b) = self.buffers.lock().get(s) {
            b.reclaim(|id| st.reqs.get(id).map(|r| r.done).unwrap_or(true));
        }
    }

    /// MPI_Buffer_iflush / MPI_Comm_iflush_buffer: a request completing when the messages
    /// buffered in `s` so far have been sent.
    pub fn iflush_buffer(&self, s: Scope) -> ReqId {
        let pending: Vec<ReqId> = self
            .buffers
            .lock()
            .get(s)
            .map(|b| b.in_use().collect())
            .unwrap_or_default();
        let none = self.completed(Default::default());
        let mut parts = pending;
        parts.push(none);
        self.join(&parts, none, None)
    }

    /// Buffered-mode send on the communicator with context `ctx`: copies the message into
    /// the communicator's buffer (or the process's) and sends it from there; the caller's
    /// buffer is free on return.
    pub fn bsend(&self, a: SendArgs, byte_type: TypeKeep) -> Result<(), MpiError> {
        let id = self.bsend_inner(a, byte_type)?;
        // Nobody waits on the internal send: it is released when it completes.
        self.free(id);
        Ok(())
    }

    /// MPI_Ibsend: the message is buffered and sent as for `bsend`; the request returned is
    /// complete at once and stands for the internal send (MPI_Cancel cancels that send).
    pub fn ibsend(
        &self,
        a: SendArgs,
        byte_type: TypeKeep,
        status: Status,
    ) -> Result<ReqId, MpiError> {
        let inner = self.bsend_inner(a, byte_type)?;
        let mut st = self.lock();
        let id = st.reqs.alloc(Kind::Send);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.status = status;
        r.done = true;
        r.inner = Some(inner);
        Ok(id)
    }

    /// Buffers the message of a buffered-mode send and starts the internal send of the
    /// buffered copy; returns that send's request, which the caller frees or keeps (to
    /// cancel it). Fails with MPI_ERR_BUFFER when the attached buffer has no room for the
    /// packed message plus MPI_BSEND_OVERHEAD, as MPICH's bsend does.
    pub(super) fn bsend_inner(&self, a: SendArgs, byte_type: TypeKeep) -> Result<ReqId, MpiError> {
        let mut bufs = self.buffers.lock();
        let scope = bufs.scope_for(a.ctx);
        let b = bufs.get(scope).expect("scope exists");
        {
            let mut st = self.lock();
            self.progress(&mut st);
            b.reclaim(|id| st.reqs.get(id).map(|r| r.done).unwrap_or(true));
        }
        let bytes = a.data.bytes() as usize;
        if b.is_automatic() {
            // A heap copy owned by the internal send, freed when it completes.
            let mut copy = vec![0u8; bytes];
            a.data.pack(0, &mut copy);
            let staged = Data::owned(OwnedBytes::new(copy), 0, bytes as u64, byte_type);
            let mut st = self.lock();
            let id = st.reqs.alloc(Kind::Send);
            self.start_send(
                &mut st,
                id,
                SendArgs {
                    mode: Mode::Standard,
                    data: staged,
                    ..a
                },
            )?;
            drop(st);
            b.track(id);
            return Ok(id);
        }
        let off = b.reserve(bytes).ok_or_else(|| {
            let why = match b.attached() {
                None => "no buffer is attached (MPI_Buffer_attach)".to_string(),
                Some((_, size)) => format!("attached buffer of {size} bytes has no room for {bytes} bytes + MPI_BSEND_OVERHEAD"),
            };
            MpiError::new(class::ERR_BUFFER, why)
        })?;
        let staged = b.stage(off, &a.data, byte_type);
        // A message to myself holds its space until it is received, as in MPICH (where a
        // send to oneself completes only when matched): a synchronous send to myself
        // completes exactly then.
        let mode = if a.ep == self.me {
            Mode::Sync
        } else {
            Mode::Standard
        };
        let id = self.isend(SendArgs {
            mode,
            data: staged,
            ..a
        })?;
        b.bind(off, id);
        Ok(id)
    }
}
