//! MPI_Comm_accept / MPI_Comm_connect, and the meeting every dynamic-process call ends in:
//! two intracommunicators, one in each job, become the two sides of an intercommunicator.
//!
//! The roots talk over one socket (`Link`): a port connection, or the user's socket for
//! MPI_Comm_join. Steps, each side doing the same:
//! 1. every member makes sure it listens (peers of the other job will connect to it);
//! 2. the roots swap their groups' process lists;
//! 3. both groups agree on a context id free in all members of both: each side takes the
//!    largest of its members' lowest free ids, the roots swap and keep the larger, every
//!    member tries to take it, and the roots swap whether anybody failed (then all retry
//!    above it);
//! 4. each root broadcasts the outcome to its members, who build the intercommunicator.
//! A root whose link fails tells its members, so no member is left waiting.

use super::endpoints;
use crate::coll::internal::{self, INTERNAL_TAG};
use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::object::context::STRIDE;
use crate::object::group::Group;
use crate::object::group_net::GroupNet;
use crate::runtime;
use crate::transport::sock::wire;
use std::io::{Read, Write};
use std::sync::Arc;

/// Tag of the roots' broadcasts to their members (on the local communicator's collective
/// context, in the library's internal range).
const DPM_TAG: i32 = INTERNAL_TAG + (1 << 27);
/// Largest message the roots accept from each other (a process list of a million members).
const LINK_MAX: usize = 16 << 20;

/// The roots' socket.
pub trait Link: Read + Write {}
impl<T: Read + Write> Link for T {}

fn link_err(e: std::io::Error) -> MpiError {
    MpiError::new(
        class::ERR_PORT,
        format!("the connection to the other side failed: {e}"),
    )
}

fn swap(link: &mut dyn Link, mine: &[u8]) -> Result<Vec<u8>, MpiError> {
    wire::write_blob(link, mine).map_err(link_err)?;
    wire::read_blob(link, LINK_MAX).map_err(link_err)
}

fn swap_u32(link: &mut dyn Link, v: u32) -> Result<u32, MpiError> {
    let b = swap(link, &v.to_le_bytes())?;
    b.try_into()
        .map(u32::from_le_bytes)
        .map_err(|_| MpiError::new(class::ERR_PORT, "malformed reply from the other side"))
}

/// The members of `comm` with `root` first, for the roots' broadcasts.
pub fn root_net(comm: &Comm, root: usize) -> GroupNet {
    let mut order = vec![root];
    order.extend((0..comm.size()).filter(|&r| r != root));
    GroupNet {
        ctx: comm.coll_context(),
        tag: DPM_TAG,
        eps: order.iter().map(|&r| comm.group.proc_of(r)).collect(),
        srcs: order.iter().map(|&r| r as i32).collect(),
        me: order
            .iter()
            .position(|&r| r == comm.rank as usize)
            .expect("own rank is a member"),
    }
}

/// Root's outcome of a step, broadcast to its members: `Ok(bytes)` or the error's class and
/// message, so every member fails the same way.
pub fn bcast_outcome(
    net: &GroupNet,
    outcome: Option<Result<Vec<u8>, MpiError>>,
) -> Result<Vec<u8>, MpiError> {
    let mut msg = Vec::new();
    if let Some(o) = &outcome {
        match o {
            Ok(b) => {
                msg.push(0);
                msg.extend_from_slice(b);
            }
            Err(e) => {
                msg.push(1);
                msg.extend_from_slice(&e.class.to_le_bytes());
                msg.extend_from_slice(e.message.as_bytes());
            }
        }
    }
    let got = net.bcast(&msg)?;
    match got.first() {
        Some(0) => Ok(got[1..].to_vec()),
        Some(1) if got.len() >= 5 => Err(MpiError::new(
            i32::from_le_bytes(got[1..5].try_into().expect("4 bytes")),
            String::from_utf8_lossy(&got[5..]).into_owned(),
        )),
        _ => Err(MpiError::intern("malformed broadcast from the root")),
    }
}

/// The meeting itself. `link` is called at the root only, to get its socket to the other
/// side's root (waiting for it as long as needed). Collective over `comm`.
pub fn establish(
    comm: &Comm,
    root: usize,
    link: Option<&mut dyn FnMut() -> Result<Box<dyn Link>, MpiError>>,
) -> Result<Comm, MpiError> {
    if comm.is_inter() {
        return Err(MpiError::arg(
            class::ERR_COMM,
            "comm",
            "must be an intracommunicator",
        ));
    }
    let net = root_net(comm, root);
    let am_root = comm.rank as usize == root;
    // 1. Everybody listens before the other side can learn of us.
    let listening = endpoints::listen();
    let listen_failed = internal::allreduce_max_u32(comm, listening.is_err() as u32)?;
    listening?;
    if listen_failed != 0 {
        return Err(MpiError::new(
            class::ERR_OTHER,
            "a member cannot listen for other jobs' processes",
        ));
    }
    // 2. The roots meet and swap their process lists.
    let mut sock: Option<Box<dyn Link>> = None;
    let remote_list = if am_root {
        let outcome = (|| {
            let get = link.ok_or_else(|| MpiError::intern("root without a link"))?;
            let mut s = get()?;
            let theirs = swap(&mut *s, &endpoints::encode(&comm.group.procs)?)?;
            sock = Some(s);
            Ok(theirs)
        })();
        bcast_outcome(&net, Some(outcome))?
    } else {
        bcast_outcome(&net, None)?
    };
    // 3. A context id free everywhere.
    let ctx = agree(comm, &net, &mut sock)?;
    // 4. The intercommunicator.
    let remote = match endpoints::decode(&remote_list) {
        Ok(r) => r,
        Err(e) => {
            crate::object::comm_create::release_context(ctx);
            return Err(e);
        }
    };
    Ok(Comm::new_inter(
        ctx,
        comm.rank,
        comm.group.clone(),
        Arc::new(Group::new(remote)),
    ))
}

/// Step 3 of `establish`: `sock` is the link at the root, None elsewhere.
fn agree(comm: &Comm, net: &GroupNet, sock: &mut Option<Box<dyn Link>>) -> Result<u32, MpiError> {
    let rt = runtime::rt()?;
    let mut floor = 0;
    loop {
        let mine = rt.contexts.lock().lowest_free(floor);
        let side = internal::allreduce_max_u32(comm, mine)?;
        let c = root_swap(net, sock, side, u32::max)?;
        let took = rt.contexts.lock().try_take(c);
        let failed_here = internal::allreduce_max_u32(comm, (!took) as u32)?;
        let failed = root_swap(net, sock, failed_here, u32::max)?;
        if failed == 0 {
            return Ok(c);
        }
        if took {
            rt.contexts.lock().release(c);
        }
        floor = c + STRIDE;
    }
}

/// The roots combine their sides' `v` with `f`; every member gets the result.
fn root_swap(
    net: &GroupNet,
    sock: &mut Option<Box<dyn Link>>,
    v: u32,
    f: fn(u32, u32) -> u32,
) -> Result<u32, MpiError> {
    let outcome = sock
        .as_mut()
        .map(|s| swap_u32(&mut **s, v).map(|theirs| f(v, theirs).to_le_bytes().to_vec()));
    let b = bcast_outcome(net, outcome)?;
    b.try_into()
        .map(u32::from_le_bytes)
        .map_err(|_| MpiError::intern("malformed context agreement"))
}

/// MPI_Comm_accept: `port` is an open port of this process (checked at the root).
pub fn accept(port_name: &str, comm: &Comm, root: usize) -> Result<Comm, MpiError> {
    accept_at(
        comm,
        root,
        (comm.rank as usize == root).then_some(port_name),
    )
}

/// `accept` with the port name given at the root only.
pub fn accept_at(comm: &Comm, root: usize, port_name: Option<&str>) -> Result<Comm, MpiError> {
    let mut wait = || -> Result<Box<dyn Link>, MpiError> {
        let rt = runtime::rt()?;
        let number = super::port::mine(port_name.unwrap_or_default())?;
        let sock = &rt.engine.fab.sock;
        let conn = rt.engine.wait_until(|_, _| {
            if !sock.port_is_open(number) {
                return Some(None);
            }
            sock.take_connection(number).map(Some)
        });
        let conn = conn.ok_or_else(|| {
            MpiError::arg(
                class::ERR_PORT,
                "port_name",
                "the port was closed while waiting",
            )
        })?;
        Ok(Box::new(conn))
    };
    let link = port_name
        .is_some()
        .then_some(&mut wait as &mut dyn FnMut() -> _);
    establish(comm, root, link)
}

/// MPI_Comm_connect.
pub fn connect(port_name: &str, comm: &Comm, root: usize) -> Result<Comm, MpiError> {
    let mut dial = || -> Result<Box<dyn Link>, MpiError> {
        let p = super::port::parse(port_name)?;
        let s = crate::transport::sock::Sockets::connect_port(&p.card, p.number).map_err(|e| {
            MpiError::arg(
                class::ERR_PORT,
                "port_name",
                format!("cannot reach port '{port_name}': {e}"),
            )
        })?;
        Ok(Box::new(s))
    };
    let link = (comm.rank as usize == root).then_some(&mut dial as &mut dyn FnMut() -> _);
    establish(comm, root, link)
}
