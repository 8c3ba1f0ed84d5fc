//! Buffered-mode sends and the buffers they use: one attached to the process
//! (MPI_Buffer_attach) and, MPI 4.1, one per communicator (MPI_Comm_attach_buffer), which
//! takes precedence. A buffer may be MPI_BUFFER_AUTOMATIC: then each message gets its own
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
    Comm(u32),
}

#[derive(Default)]
pub struct Buffers {
    process: BsendBuffer,
    comms: HashMap<u32, BsendBuffer>,
}

impl Buffers {
    fn get(&mut self, s: Scope) -> Option<&mut BsendBuffer> {
        match s {
            Scope::Process => Some(&mut self.process),
            Scope::Comm(c) => self.comms.get_mut(&c),
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
        if let Scope::Comm(c) = s {
            b.comms.remove(&c);
        }
        r.ok_or_else(|| MpiError::new(class::ERR_BUFFER, "no buffer is attached"))
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
        let scope = if bufs
            .comms
            .get(&a.ctx)
            .map(|b| b.attached().is_some())
            .unwrap_or(false)
        {
            Scope::Comm(a.ctx)
        } else {
            Scope::Process
        };
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
            let staged = Data::new(UserPtr::of(&copy), bytes as u64, byte_type);
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
