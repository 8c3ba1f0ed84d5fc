//! Neighbourhood collectives as sets of point-to-point operations on the communicator's
//! collective context: one receive per source slot and one send per destination slot
//! (MPI_PROC_NULL slots move nothing). Blocking, nonblocking and persistent calls run the
//! same [`Exchange`], started differently.

use super::Neighbors;
use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::p2p::{Data, Kind, Mode, RecvArgs, ReqId, SendArgs, Status};
use crate::runtime;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The operations of one neighbourhood collective call, ready to post.
#[derive(Debug, Clone)]
pub struct Exchange {
    sends: Vec<SendArgs>,
    recvs: Vec<RecvArgs>,
}

impl Exchange {
    /// `send[j]` is the data for destination slot j and `recv[i]` the buffer of source
    /// slot i of `nb` (the neighbourhood of `comm`'s calling process). `owner` is the
    /// communicator handle whose errhandler reports the operations' errors.
    pub fn new(
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
        Ok(Exchange { sends, recvs })
    }

    /// Posts every operation (receives first, so messages to oneself find them).
    fn post(&self) -> Result<Vec<ReqId>, MpiError> {
        let e = &runtime::rt()?.engine;
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
        let e = &runtime::rt()?.engine;
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
        let e = &runtime::rt()?.engine;
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

struct Persistent {
    plan: Exchange,
    /// The joined request of the running instance, between MPI_Start and completion.
    running: Option<ReqId>,
}

/// Persistent requests of this layer, by request id.
static PERSISTENT: Mutex<Option<HashMap<u32, Persistent>>> = Mutex::new(None);
/// How many of them are running (lets the poller skip the lock when none is).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// An inactive persistent request that runs `plan` at each MPI_Start.
pub fn persistent(plan: Exchange, owner: i32) -> Result<ReqId, MpiError> {
    let e = &runtime::rt()?.engine;
    let id = e.external_persistent(Kind::Schedule, [0; 4], start_persistent);
    e.set_owner(id, owner);
    let mut table = PERSISTENT.lock();
    let table = table.get_or_insert_with(HashMap::new);
    // Forget requests the user has freed since (their slots may be reused).
    table.retain(|&k, p| p.running.is_some() || e.is_valid(ReqId(k)));
    table.insert(
        id.0,
        Persistent {
            plan,
            running: None,
        },
    );
    e.add_poller(poll);
    Ok(id)
}

/// MPI_Start of one of our persistent requests.
fn start_persistent(id: ReqId) -> Result<(), MpiError> {
    let e = &runtime::rt()?.engine;
    let mut table = PERSISTENT.lock();
    let p = table
        .as_mut()
        .and_then(|t| t.get_mut(&id.0))
        .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "not a valid request"))?;
    e.activate(id)?;
    match p.plan.start() {
        Ok(j) => {
            p.running = Some(j);
            RUNNING.fetch_add(1, Ordering::AcqRel);
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
}

/// Engine poller: completes persistent requests whose operations have all finished.
/// Never blocks: if the table is busy, it tries again at the next poll.
fn poll() -> bool {
    if RUNNING.load(Ordering::Acquire) == 0 {
        return false;
    }
    let Ok(rt) = runtime::rt() else { return false };
    let e = &rt.engine;
    let mut finished = Vec::new();
    {
        let Some(mut table) = PERSISTENT.try_lock() else {
            return false;
        };
        let Some(table) = table.as_mut() else {
            return false;
        };
        let mut st = e.lock();
        for (&k, p) in table.iter_mut() {
            if let Some(j) = p.running {
                if let Some(s) = e.reap(&mut st, j) {
                    p.running = None;
                    finished.push((ReqId(k), s));
                }
            }
        }
    }
    for (id, s) in &finished {
        RUNNING.fetch_sub(1, Ordering::AcqRel);
        if s.error != 0 {
            e.set_status(*id, *s);
        }
        e.complete_external(*id);
    }
    !finished.is_empty()
}
