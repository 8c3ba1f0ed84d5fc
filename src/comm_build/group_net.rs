//! Blocking exchanges among the members of a group, for agreements that are collective over
//! a group rather than a whole communicator (MPI_Comm_create_group, the intercommunicator
//! constructors, MPI_Comm_create_from_group). Member 0 gathers and broadcasts back; every
//! message of one net uses one (context, tag) pair, so two creations with different tags on
//! the same context never mix, and rounds stay ordered by MPI's non-overtaking rule.

use crate::error::MpiError;
use crate::object::context::STRIDE;
use crate::p2p::NodeEngine;
use crate::runtime::Runtime;

/// The members of an exchange and how they address each other.
#[derive(Clone)]
pub struct GroupNet {
    /// The process's runtime: its engine carries the messages, its context table gives the
    /// ids agreed on (handed down by the caller, never fetched).
    pub rt: &'static Runtime,
    /// Context id carrying the exchange.
    pub ctx: u32,
    pub tag: i32,
    /// Endpoint of each member.
    pub eps: Vec<u32>,
    /// The source id each member's messages carry on `ctx` (its rank in the communicator
    /// owning `ctx`, or its endpoint on the bootstrap context).
    pub srcs: Vec<i32>,
    /// My index in `eps`.
    pub me: usize,
}

/// Sends `buf` on (ctx, tag) to endpoint `ep`, carrying source id `src`.
pub fn send_to(
    e: &NodeEngine,
    ep: u32,
    ctx: u32,
    src: i32,
    tag: i32,
    buf: &[u8],
) -> Result<(), MpiError> {
    e.send_bytes(ep, ctx, src, tag, buf)
}

/// Receives exactly `buf.len()` bytes on (ctx, tag) from source id `src`.
pub fn recv_from(
    e: &NodeEngine,
    ctx: u32,
    src: i32,
    tag: i32,
    buf: &mut [u8],
) -> Result<(), MpiError> {
    e.recv_exact(ctx, src, tag, buf)
}

/// Sends a variable-length message (length first).
pub fn send_var(
    e: &NodeEngine,
    ep: u32,
    ctx: u32,
    src: i32,
    tag: i32,
    buf: &[u8],
) -> Result<(), MpiError> {
    send_to(e, ep, ctx, src, tag, &(buf.len() as u64).to_le_bytes())?;
    send_to(e, ep, ctx, src, tag, buf)
}

pub fn recv_var(e: &NodeEngine, ctx: u32, src: i32, tag: i32) -> Result<Vec<u8>, MpiError> {
    let mut n = [0u8; 8];
    recv_from(e, ctx, src, tag, &mut n)?;
    let mut v = vec![0u8; u64::from_le_bytes(n) as usize];
    recv_from(e, ctx, src, tag, &mut v)?;
    Ok(v)
}

impl GroupNet {
    fn engine(&self) -> &'static NodeEngine {
        &self.rt.engine
    }

    fn my_src(&self) -> i32 {
        self.srcs[self.me]
    }

    /// Every member's `mine` (all the same length), in member order.
    pub fn allgather(&self, mine: &[u8]) -> Result<Vec<u8>, MpiError> {
        let n = self.eps.len();
        let each = mine.len();
        let mut all = vec![0u8; each * n];
        if self.me == 0 {
            all[..each].copy_from_slice(mine);
            for r in 1..n {
                recv_from(
                    self.engine(),
                    self.ctx,
                    self.srcs[r],
                    self.tag,
                    &mut all[r * each..(r + 1) * each],
                )?;
            }
            for r in 1..n {
                send_to(
                    self.engine(),
                    self.eps[r],
                    self.ctx,
                    self.my_src(),
                    self.tag,
                    &all,
                )?;
            }
        } else {
            send_to(
                self.engine(),
                self.eps[0],
                self.ctx,
                self.my_src(),
                self.tag,
                mine,
            )?;
            recv_from(self.engine(), self.ctx, self.srcs[0], self.tag, &mut all)?;
        }
        Ok(all)
    }

    /// Member 0's `buf` on every member (variable length).
    pub fn bcast(&self, buf: &[u8]) -> Result<Vec<u8>, MpiError> {
        if self.me == 0 {
            for r in 1..self.eps.len() {
                send_var(
                    self.engine(),
                    self.eps[r],
                    self.ctx,
                    self.my_src(),
                    self.tag,
                    buf,
                )?;
            }
            Ok(buf.to_vec())
        } else {
            recv_var(self.engine(), self.ctx, self.srcs[0], self.tag)
        }
    }

    /// Member 0's outcome of a step on every member: its bytes, or its error (class and
    /// message), so all members fail the same way. `outcome` matters at member 0 only.
    pub fn bcast_result(
        &self,
        outcome: Option<Result<Vec<u8>, MpiError>>,
    ) -> Result<Vec<u8>, MpiError> {
        let mut msg = Vec::new();
        match outcome {
            Some(Ok(b)) => {
                msg.push(0);
                msg.extend_from_slice(&b);
            }
            Some(Err(e)) => {
                msg.push(1);
                msg.extend_from_slice(&e.class.to_le_bytes());
                msg.extend_from_slice(e.message.as_bytes());
            }
            None => {}
        }
        let got = self.bcast(&msg)?;
        match got.first() {
            Some(0) => Ok(got[1..].to_vec()),
            Some(1) if got.len() >= 5 => Err(MpiError::new(
                i32::from_le_bytes(got[1..5].try_into().expect("4 bytes")),
                String::from_utf8_lossy(&got[5..]).into_owned(),
            )),
            _ => Err(MpiError::intern("malformed broadcast from the leader")),
        }
    }

    pub fn allreduce_max_u32(&self, v: u32) -> Result<u32, MpiError> {
        let all = self.allgather(&v.to_le_bytes())?;
        Ok(all
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .max()
            .unwrap_or(v))
    }

    /// Agrees on a context id free on every member and takes it (as
    /// `comm_create::agree_context`, over this group).
    pub fn agree_context(&self) -> Result<u32, MpiError> {
        let rt = self.rt;
        let mut floor = 0;
        loop {
            let mine = rt.contexts.lock().lowest_free(floor);
            let c = crate::object::context::agreed(self.allreduce_max_u32(mine)?)?;
            let took = rt.contexts.lock().try_take(c);
            let failed = self.allreduce_max_u32((!took) as u32)?;
            if failed == 0 {
                return Ok(c);
            }
            if took {
                rt.contexts.lock().release(c);
            }
            floor = c + STRIDE;
        }
    }
}

/// Encodes endpoint lists for the wire.
pub fn encode_u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn decode_u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect()
}
