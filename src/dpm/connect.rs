//! MPI_Comm_accept / MPI_Comm_connect, and the meeting every dynamic-process call ends in:
//! two intracommunicators, one in each job, become the two sides of an intercommunicator.
//! The roots talk over one socket (a port connection, or the user's socket for
//! MPI_Comm_join); the meeting itself is `comm_build::two_sided`, which intercommunicators
//! within a job use too. Before it, every member makes sure it listens, since the other
//! side's processes will connect to it.

use super::endpoints;
use crate::coll::internal::INTERNAL_TAG;
use crate::comm_build::group_net::GroupNet;
use crate::comm_build::two_sided::{self, Broken, Exchange};
use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::object::group::Group;
use crate::runtime::Runtime;
use crate::transport::links::{self, Stream};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

/// Tag of the roots' broadcasts to their members (on the local communicator's collective
/// context, in the library's internal range).
const DPM_TAG: i32 = INTERNAL_TAG + (1 << 27);
/// Largest message the roots accept from each other (a process list of a million members).
const LINK_MAX: usize = 16 << 20;

/// The roots' connection (a port connection, or the user's socket for MPI_Comm_join).
pub type Link = dyn Stream;

/// A socket as the roots' channel: both write, then both read (a step's messages are small
/// enough for the socket buffers, so neither write waits for the other's read).
struct SocketExchange(Box<Link>);

impl Exchange for SocketExchange {
    fn exchange(&mut self, mine: &[u8]) -> Result<Vec<u8>, MpiError> {
        let fail = |e: std::io::Error| {
            MpiError::new(
                class::ERR_PORT,
                format!("the connection to the other side failed: {e}"),
            )
        };
        links::write_blob(&mut *self.0, mine).map_err(fail)?;
        links::read_blob(&mut *self.0, LINK_MAX).map_err(fail)
    }
}

/// The members of `comm` with `root` first, for the roots' broadcasts.
pub fn root_net(rt: &'static Runtime, comm: &Comm, root: usize) -> GroupNet {
    let mut order = vec![root];
    order.extend((0..comm.size()).filter(|&r| r != root));
    GroupNet {
        rt,
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

/// The meeting itself. `link` is called at the root only, to get its socket to the other
/// side's root (waiting for it as long as needed). Collective over `comm`.
pub fn establish(
    rt: &'static Runtime,
    comm: &Comm,
    root: usize,
    link: Option<&mut dyn FnMut() -> Result<Box<Link>, MpiError>>,
) -> Result<Comm, MpiError> {
    if comm.is_inter() {
        return Err(MpiError::arg(
            class::ERR_COMM,
            "comm",
            "must be an intracommunicator",
        ));
    }
    let net = root_net(rt, comm, root);
    // Everybody listens, and learns where the others do (the root tells the other side):
    // one round that also tells whether somebody could not listen.
    let listening = endpoints::listen(rt);
    let mut mine = vec![u8::from(listening.is_err())];
    mine.extend_from_slice(&endpoints::my_place(rt));
    let all = net.allgather(&mine)?;
    let each = mine.len();
    if all.chunks_exact(each).any(|c| c[0] != 0) {
        listening?;
        return Err(MpiError::new(
            class::ERR_OTHER,
            "a member cannot listen for other jobs' processes",
        ));
    }
    let places: Vec<u8> = all
        .chunks_exact(each)
        .flat_map(|c| c[1..].to_vec())
        .collect();
    endpoints::learn_places(rt, &net.eps, &places)?;
    let mut ex: Option<Box<dyn Exchange>> = link.map(|get| match get() {
        Ok(s) => Box::new(SocketExchange(s)) as Box<dyn Exchange>,
        Err(e) => Box::new(Broken(e)),
    });
    let l = ex.as_mut().map(|b| &mut **b as &mut dyn Exchange);
    let (ctx, remote) = two_sided::meet(&net, &comm.group.procs, l)?;
    Ok(Comm::new_inter(
        ctx,
        comm.rank,
        comm.group.clone(),
        Arc::new(Group::new(remote)),
    ))
}

/// MPI_Comm_accept: `port` is an open port of this process (checked at the root).
pub fn accept(
    rt: &'static Runtime,
    port_name: &str,
    comm: &Comm,
    root: usize,
) -> Result<Comm, MpiError> {
    accept_at(
        rt,
        comm,
        root,
        (comm.rank as usize == root).then_some(port_name),
    )
}

/// `accept` with the port name given at the root only.
pub fn accept_at(
    rt: &'static Runtime,
    comm: &Comm,
    root: usize,
    port_name: Option<&str>,
) -> Result<Comm, MpiError> {
    let mut wait = || -> Result<Box<Link>, MpiError> {
        let number = super::port::mine(rt, port_name.unwrap_or_default())?;
        let links = rt.links();
        let conn = rt.engine.wait_until(|_, _| {
            if !links.port_is_open(number) {
                return Some(None);
            }
            links.take_connection(number).map(Some)
        });
        let conn = conn.ok_or_else(|| {
            MpiError::arg(
                class::ERR_PORT,
                "port_name",
                "the port was closed while waiting",
            )
        })?;
        Ok(conn)
    };
    let link = port_name
        .is_some()
        .then_some(&mut wait as &mut dyn FnMut() -> _);
    establish(rt, comm, root, link)
}

/// How long MPI_Comm_connect waits for an MPI_Comm_accept on a port that exists, unless
/// its info says otherwise (key "timeout", in seconds, as MPICH reads it): the environment
/// variable MPIR_CVAR_CH4_COMM_CONNECT_TIMEOUT (seconds; MPICH's name), else MPICH's
/// default of 180 s. When it expires, the call fails with MPI_ERR_PORT, as MPICH's does.
pub fn default_connect_timeout() -> Duration {
    std::env::var(CONNECT_TIMEOUT_VAR)
        .ok()
        .and_then(|v| parse_seconds(&v))
        .unwrap_or(Duration::from_secs(180))
}

pub const CONNECT_TIMEOUT_VAR: &str = "MPIR_CVAR_CH4_COMM_CONNECT_TIMEOUT";

/// A whole number of seconds (a timeout of 0 or less would never let a connect through:
/// such values are refused, and the caller falls back to the default).
pub fn parse_seconds(v: &str) -> Option<Duration> {
    v.trim()
        .parse::<u64>()
        .ok()
        .filter(|&s| s > 0)
        .map(Duration::from_secs)
}

/// The connecting root's socket until the acceptor first answers: reads give up after
/// `timeout` (nobody accepting on the port), then block as usual.
struct AwaitAccept {
    sock: Box<Link>,
    timeout: Option<Duration>,
    port: String,
}

impl Read for AwaitAccept {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.sock.read(buf) {
            Ok(n) => {
                if self.timeout.take().is_some() {
                    self.sock.set_read_timeout(None)?;
                }
                Ok(n)
            }
            Err(e)
                if self.timeout.is_some()
                    && matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
            {
                let t = self.timeout.expect("checked above").as_secs();
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "nobody accepted on port '{}' within {t} s (info key \"timeout\" or \
                         {CONNECT_TIMEOUT_VAR} sets the limit)",
                        self.port
                    ),
                ))
            }
            Err(e) => Err(e),
        }
    }
}

impl Write for AwaitAccept {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.sock.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.sock.flush()
    }
}

impl Stream for AwaitAccept {
    fn set_read_timeout(&mut self, t: Option<Duration>) -> std::io::Result<()> {
        self.sock.set_read_timeout(t)
    }
}

/// MPI_Comm_connect: fails with MPI_ERR_PORT if nobody accepts within `timeout`.
pub fn connect(
    rt: &'static Runtime,
    port_name: &str,
    comm: &Comm,
    root: usize,
    timeout: Duration,
) -> Result<Comm, MpiError> {
    let mut dial = || -> Result<Box<Link>, MpiError> {
        let p = super::port::parse(port_name)?;
        // Where the port's process listens, unless it told us itself already.
        crate::transport::sock::place::learn_if_unknown(p.card.gpid, p.place);
        let unreachable = |e: std::io::Error| {
            MpiError::arg(
                class::ERR_PORT,
                "port_name",
                format!("cannot reach port '{port_name}': {e}"),
            )
        };
        let mut s = rt
            .links()
            .connect_port(&p.card, p.number)
            .map_err(unreachable)?;
        s.set_read_timeout(Some(timeout)).map_err(unreachable)?;
        Ok(Box::new(AwaitAccept {
            sock: s,
            timeout: Some(timeout),
            port: port_name.to_string(),
        }))
    };
    let link = (comm.rank as usize == root).then_some(&mut dial as &mut dyn FnMut() -> _);
    establish(rt, comm, root, link)
}
