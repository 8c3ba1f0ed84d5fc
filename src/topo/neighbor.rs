//! Neighbourhood collectives as sets of point-to-point operations on the communicator's
//! collective context: one receive per source slot and one send per destination slot
//! (MPI_PROC_NULL slots move nothing). Blocking, nonblocking and persistent calls run the
//! same [`Exchange`], started differently.

use super::Neighbors;
use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::p2p::{Data, Kind, Mode, NodeEngine, RecvArgs, ReqId, SendArgs, Starter, Status};
use std::sync::Arc;

/// The operations of one neighbourhood collective call, ready to post.
#[derive(Clone)]
pub struct Exchange {
    /// The engine that carries the operations (the process's, handed down by the caller).
    engine: &'static NodeEngine,
    sends: Vec<SendArgs>,
    recvs: Vec<RecvArgs>,
}

impl Exchange {
    /// `send[j]` is the data for destination slot j and `recv[i]` the buffer of source
    /// slot i of `nb` (the neighbourhood of `comm`'s calling process). `owner` is the
    /// communicator handle whose errhandler reports the operations' errors.
    pub fn new(
        engine: &'static NodeEngine,
        comm: &Comm,
        owner: i32,
        nb: &Neighbors,
        send: Vec<Data>,
        recv: Vec<Data>,
    ) -> Result<Exchange, MpiError> {
        if send.len() != nb.destinations.len() || recv.len() != nb.sources.len() {
            return Err(MpiError::intern(format!(
                "neighbourhood exchange: {} send / {} receive buffers for {} / {} neighbours",
                send.len(),
                recv.len(),
                nb.destinations.len(),
                nb.sources.len()
            )));
        }
        let ctx = comm.coll_context();
        let sends = send
            .into_iter()
            .enumerate()
            .filter_map(|(j, data)| {
                let to = nb.destinations[j]?;
                Some(SendArgs {
                    ep: comm.peer(to as usize),
                    ctx,
                    src: comm.rank as i32,
                    tag: nb.send_tags[j],
                    mode: Mode::Standard,
                    data,
                    owner,
                })
            })
            .collect();
        let recvs = recv
            .into_iter()
            .enumerate()
            .filter_map(|(i, data)| {
                let from = nb.sources[i]?;
                Some(RecvArgs {
                    ctx,
                    src: from as i32,
                    tag: nb.recv_tags[i],
                    data,
                    owner,
                })
            })
            .collect();
        Ok(Exchange {
            engine,
            sends,
            recvs,
        })
    }

    /// Posts every operation (receives first, so messages to oneself find them).
    fn post(&self) -> Result<Vec<ReqId>, MpiError> {
        let e = self.engine;
        let mut ids: Vec<ReqId> = self.recvs.iter().map(|r| e.irecv(r.clone())).collect();
        for s in &self.sends {
            match e.isend(s.clone()) {
                Ok(id) => ids.push(id),
                Err(err) => {
                    // The operations already posted finish in the background.
                    for id in ids {
                        e.free(id);
                    }
                    return Err(err);
                }
            }
        }
        Ok(ids)
    }

    /// The blocking call: posts everything and waits for all of it.
    pub fn run(&self) -> Result<(), MpiError> {
        let e = self.engine;
        let ids = self.post()?;
        let mut first_err = None;
        for id in ids {
            let s = e.wait(id);
            if s.error != 0 && first_err.is_none() {
                first_err = Some(status_error(&s));
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// The nonblocking call: one request standing for all the operations.
    pub fn start(&self) -> Result<ReqId, MpiError> {
        let e = self.engine;
        let ids = self.post()?;
        // Report a receive's status (its error, e.g. truncation), if there is a receive.
        let from = ids.first().copied().unwrap_or(ReqId(u32::MAX));
        Ok(e.join(&ids, from, None))
    }
}

fn status_error(s: &Status) -> MpiError {
    if s.error == class::ERR_TRUNCATE {
        MpiError::new(
            s.error,
            format!(
                "neighbourhood collective: message from rank {} truncated ({} bytes received, more were sent)",
                s.source, s.bytes
            ),
        )
    } else {
        MpiError::new(s.error, "neighbourhood collective: a transfer failed")
    }
}

// ---------------------------------------------------------------------------------------
// Persistent neighbourhood collectives (MPI_Neighbor_*_init)

/// An inactive persistent request that runs `plan` at each MPI_Start. The request carries
/// the plan (its starter): at each start the operations are posted as parts of it, and it
/// completes when they all have, with the first receive's status if that failed.
pub fn persistent(plan: Exchange, owner: i32) -> Result<ReqId, MpiError> {
    let e = plan.engine;
    let start = move |id: ReqId| -> Result<(), MpiError> {
        e.activate(id)?;
        match plan.post() {
            Ok(ids) => {
                let from = ids.first().copied().unwrap_or(ReqId(u32::MAX));
                e.join_into(id, &ids, from);
                Ok(())
            }
            Err(err) => {
                // Leave the request complete (with the error) so a wait does not hang.
                e.set_status(
                    id,
                    Status {
                        error: err.class,
                        ..Status::default()
                    },
                );
                e.complete_external(id);
                Err(err)
            }
        }
    };
    let id = e.external_persistent(Kind::Schedule, [0; 4], Starter(Arc::new(start)));
    e.set_owner(id, owner);
    Ok(id)
}
