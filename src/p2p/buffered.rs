//! Buffered-mode sends and the buffers they use: one attached to the process
//! (MPI_Buffer_attach) and, MPI 4.1, one per session (MPI_Session_attach_buffer, for the
//! communicators derived from it) and one per communicator (MPI_Comm_attach_buffer); the
//! most specific attached buffer is used. A buffer may be MPI_BUFFER_AUTOMATIC: then each message gets its own
//! heap copy, freed when its send completes.

use super::bsend::BsendBuffer;
use super::data::{Data, TypeKeep};
use super::engine::{Engine, SendArgs};
use super::fabric::Fabric;
use super::request::{Kind, Mode, ReqId};
use crate::error::{class, MpiError};
use crate::transport::mem::UserPtr;
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
        if !buf.attach(base, size, automatic) {
            return Err(MpiError::new(
                class::ERR_BUFFER,
                "a buffer is already attached",
            ));
        }
        Ok(())
    }

    /// Waits for the buffered sends of `s`, then detaches its buffer: (base, size, automatic).
    pub fn detach_buffer(&self, s: Scope) -> Result<(UserPtr, usize, bool), MpiError> {
        self.flush_buffer(s);
        let mut b = self.buffers.lock();
        let r = b.get(s).and_then(|buf| buf.detach());
        match s {
            Scope::Comm(c) => drop(b.comms.remove(&c)),
            Scope::Session(x) => drop(b.sessions.remove(&x)),
            Scope::Process => {}
        }
        r.ok_or_else(|| MpiError::new(class::ERR_BUFFER, "no buffer is attached"))
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
            let mut copy = vec![0u8; bytes].into_boxed_slice();
            a.data.pack(0, &mut copy);
            let staged = Data::new(UserPtr::of_mut(&mut copy), bytes as u64, byte_type);
            let mut st = self.lock();
            let id = st.reqs.alloc(Kind::Send);
            st.reqs.get_mut(id).expect("fresh").keep = Some(copy);
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
            self.free(id);
            return Ok(());
        }
        let off = b.reserve(bytes).ok_or_else(|| {
            let why = match b.attached() {
                None => "no buffer is attached (MPI_Buffer_attach)".to_string(),
                Some((_, size)) => format!("attached buffer of {size} bytes has no room for {bytes} bytes + MPI_BSEND_OVERHEAD"),
            };
            MpiError::new(class::ERR_BUFFER, why)
        })?;
        let staged = b.stage(off, &a.data, byte_type);
        let id = self.isend(SendArgs {
            mode: Mode::Standard,
            data: staged,
            ..a
        })?;
        b.bind(off, id);
        // Nobody waits on the internal send: it is released when it completes.
        self.free(id);
        Ok(())
    }
}
