//! The name service (`MPI_Publish_name` / `MPI_Lookup_name` / `MPI_Unpublish_name` through
//! PMI-1 `publish_name`, `lookup_name`, `unpublish_name`).
//!
//! Without a shared address the names live in this mpiexec and serve all its jobs. With
//! `OXIMPI_NAMESERVER=ADDR` (or `-nameserver ADDR`; ADDR is a unix socket: `@name` in the
//! abstract namespace or a file system path) the first mpiexec that binds ADDR keeps the
//! table for as long as it runs, and the others forward each request to it: one connection
//! per request carrying the same PMI-1 lines the ranks send, answered with the same replies.
//! If the server has gone away, the next request makes the forwarding mpiexec the server.
//!
//! The server's table dies with it, and whichever mpiexec binds ADDR first is the server,
//! even one that only looks a name up and exits a moment later. So a forwarding mpiexec
//! whose ranks published names keeps a *watch* connection open to the server (a
//! `watch_names` line, never answered); when the server goes, the hang-up wakes it, and it
//! either becomes the server with its own names in the table or publishes them again to
//! whoever serves now. Names are therefore only missing while a server changes hands.
//!
//! The shared address may be reachable by other users (an abstract name always is): the
//! server admits connections under the rules of `mpi::transport::sock::gate` (deadline
//! for the request line, a cap on connections waiting, back-off when out of descriptors).

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

use crate::line_guard::{BoundedLines, Line};
use mpi::pmi::wire::Message;
use mpi::transport::sock::gate::{self, Accepted, Pending};
use std::time::Instant;

/// How long a forwarded request may take before the rank gets a failure.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);

/// A name-service request from a rank (or from another mpiexec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameRequest {
    Publish { service: String, port: String },
    Unpublish { service: String },
    Lookup { service: String },
}

impl NameRequest {
    /// The request in `m`, `None` if `m` is not a name-service command, `Err(reply)` if it
    /// is one with missing arguments.
    pub fn from_message(m: &Message) -> Option<Result<NameRequest, Message>> {
        let service = m.get("service").filter(|s| !s.is_empty()).map(String::from);
        let (req, reply_cmd) = match m.cmd.as_str() {
            "publish_name" => (
                service
                    .zip(m.get("port").map(String::from))
                    .map(|(service, port)| NameRequest::Publish { service, port }),
                "publish_result",
            ),
            "unpublish_name" => (
                service.map(|service| NameRequest::Unpublish { service }),
                "unpublish_result",
            ),
            "lookup_name" => (
                service.map(|service| NameRequest::Lookup { service }),
                "lookup_result",
            ),
            _ => return None,
        };
        Some(req.ok_or_else(|| {
            Message::new(reply_cmd)
                .arg("rc", 1)
                .arg("msg", "missing_service_or_port")
        }))
    }

    pub fn to_message(&self) -> Message {
        match self {
            NameRequest::Publish { service, port } => Message::new("publish_name")
                .arg("service", service)
                .arg("port", port),
            NameRequest::Unpublish { service } => {
                Message::new("unpublish_name").arg("service", service)
            }
            NameRequest::Lookup { service } => Message::new("lookup_name").arg("service", service),
        }
    }

    /// The failure reply to this request (e.g. the name server cannot be reached).
    pub fn failure(&self, why: &str) -> Message {
        let cmd = match self {
            NameRequest::Publish { .. } => "publish_result",
            NameRequest::Unpublish { .. } => "unpublish_result",
            NameRequest::Lookup { .. } => "lookup_result",
        };
        Message::new(cmd).arg("rc", 1).arg("msg", why)
    }
}

/// The table itself: service name → port name.
#[derive(Debug, Default)]
pub struct NameTable {
    names: HashMap<String, String>,
}

impl NameTable {
    /// Applies `req` and returns the PMI-1 reply (simple_pmi's forms).
    pub fn answer(&mut self, req: &NameRequest) -> Message {
        match req {
            NameRequest::Publish { service, port } => {
                if self.names.contains_key(service) {
                    Message::new("publish_result")
                        .arg("rc", 1)
                        .arg("msg", format!("service_{service}_already_published"))
                } else {
                    self.names.insert(service.clone(), port.clone());
                    Message::new("publish_result")
                        .arg("rc", 0)
                        .arg("msg", "success")
                }
            }
            NameRequest::Unpublish { service } => match self.names.remove(service) {
                Some(_) => Message::new("unpublish_result")
                    .arg("rc", 0)
                    .arg("msg", "success"),
                None => Message::new("unpublish_result")
                    .arg("rc", 1)
                    .arg("msg", format!("service_{service}_not_published")),
            },
            NameRequest::Lookup { service } => match self.names.get(service) {
                Some(port) => Message::new("lookup_result").arg("rc", 0).arg("port", port),
                None => Message::new("lookup_result")
                    .arg("rc", 1)
                    .arg("msg", format!("service_{service}_not_found")),
            },
        }
    }
}

/// Most mpiexec runs a server keeps watch connections of (beyond, the oldest is dropped,
/// and its mpiexec re-publishes its names at once, then watches again).
const MAX_WATCHERS: usize = 256;

/// A connection from another mpiexec, waiting for its request line.
struct Peer {
    sock: UnixStream,
    input: BoundedLines,
}

/// The name service of this mpiexec.
pub struct NameService {
    table: NameTable,
    /// The shared address, when names are shared between mpiexec runs.
    shared: Option<SharedAddr>,
    /// We serve the shared address.
    listener: Option<UnixListener>,
    /// Connections waiting for their request line.
    peers: Pending<Peer>,
    /// The listener is not polled until then (accept ran out of descriptors).
    resting_until: Option<Instant>,
    /// Said once that accept failed.
    warned_resting: bool,
    /// Names our ranks published while another mpiexec served them (to publish again
    /// when that server goes away).
    mine: HashMap<String, String>,
    /// Our watch on the server that holds `mine`: hangs up when it exits.
    watch: Option<UnixStream>,
    /// Watch connections of other mpiexec runs (when we serve).
    watchers: Vec<UnixStream>,
}

/// A unix socket address given as `@abstract` or a path.
#[derive(Debug, Clone)]
struct SharedAddr {
    text: String,
    addr: SocketAddr,
    path: Option<PathBuf>,
}

impl SharedAddr {
    fn parse(text: &str) -> io::Result<SharedAddr> {
        if let Some(name) = text.strip_prefix('@') {
            Ok(SharedAddr {
                text: text.into(),
                addr: SocketAddr::from_abstract_name(name.as_bytes())?,
                path: None,
            })
        } else {
            Ok(SharedAddr {
                text: text.into(),
                addr: SocketAddr::from_pathname(text)?,
                path: Some(PathBuf::from(text)),
            })
        }
    }
}

impl NameService {
    /// A name service for this mpiexec alone (`shared` = None) or shared at an address.
    pub fn new(shared: Option<&str>) -> Result<NameService, String> {
        let shared = match shared.filter(|s| !s.is_empty()) {
            None => None,
            Some(t) => Some(
                SharedAddr::parse(t).map_err(|e| format!("bad name server address {t:?}: {e}"))?,
            ),
        };
        let mut ns = NameService {
            table: NameTable::default(),
            shared,
            listener: None,
            peers: Pending::new(gate::MAX_PENDING, gate::HANDSHAKE_DEADLINE),
            resting_until: None,
            warned_resting: false,
            mine: HashMap::new(),
            watch: None,
            watchers: Vec::new(),
        };
        if ns.shared.is_some() {
            ns.try_to_serve();
        }
        Ok(ns)
    }

    /// Becomes the server of the shared address if nobody else answers there.
    fn try_to_serve(&mut self) {
        let Some(shared) = &self.shared else { return };
        match UnixListener::bind_addr(&shared.addr) {
            Ok(l) => {
                let _ = l.set_nonblocking(true);
                self.listener = Some(l);
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                // A socket file left by a server that is gone: take its place.
                if let Some(path) = &shared.path {
                    if UnixStream::connect_addr(&shared.addr).is_err() {
                        let _ = std::fs::remove_file(path);
                        if let Ok(l) = UnixListener::bind_addr(&shared.addr) {
                            let _ = l.set_nonblocking(true);
                            self.listener = Some(l);
                        }
                    }
                }
            }
            Err(_) => {}
        }
    }

    /// Answers a rank's request, locally or through the shared server.
    pub fn answer(&mut self, req: &NameRequest) -> Message {
        if self.shared.is_none() || self.listener.is_some() {
            return self.table.answer(req);
        }
        let reply = match self.forward(req) {
            Ok(m) => m,
            Err(_) => {
                // The server went away (its names with it): serve from now on, if we can.
                self.rejoin();
                if self.listener.is_some() {
                    self.table.answer(req)
                } else {
                    let addr = self.shared.as_ref().map_or("", |s| s.text.as_str());
                    return req.failure(&format!("name_server_{addr}_unreachable"));
                }
            }
        };
        self.remember(req, &reply);
        reply
    }

    /// Records what our ranks published elsewhere, and watches the server that holds it.
    fn remember(&mut self, req: &NameRequest, reply: &Message) {
        if self.listener.is_some() || reply.get("rc") != Some("0") {
            return;
        }
        match req {
            NameRequest::Publish { service, port } => {
                self.mine.insert(service.clone(), port.clone());
            }
            NameRequest::Unpublish { service } => {
                self.mine.remove(service);
            }
            NameRequest::Lookup { .. } => {}
        }
        if self.mine.is_empty() {
            self.watch = None;
        } else if self.watch.is_none() {
            self.watch = self.open_watch().ok();
        }
    }

    fn open_watch(&self) -> io::Result<UnixStream> {
        let shared = self.shared.as_ref().ok_or(io::ErrorKind::NotConnected)?;
        let mut sock = UnixStream::connect_addr(&shared.addr)?;
        sock.set_write_timeout(Some(FORWARD_TIMEOUT))?;
        let line = Message::new("watch_names")
            .encode()
            .map_err(io::Error::other)?;
        sock.write_all(line.as_bytes())?;
        sock.set_nonblocking(true)?;
        Ok(sock)
    }

    /// The server we forwarded to is gone (or unreachable): become the server with our
    /// own names in the table, or publish them again to the mpiexec that serves now and
    /// watch it. Bounded: a server that keeps vanishing gets a few rounds, then the next
    /// request or hang-up tries again.
    fn rejoin(&mut self) {
        self.watch = None;
        for _ in 0..8 {
            self.try_to_serve();
            if self.listener.is_some() {
                for (service, port) in std::mem::take(&mut self.mine) {
                    let req = NameRequest::Publish { service, port };
                    // A name published meanwhile by somebody else keeps its new port.
                    let _ = self.table.answer(&req);
                }
                return;
            }
            let mine: Vec<(String, String)> = self
                .mine
                .iter()
                .map(|(s, p)| (s.clone(), p.clone()))
                .collect();
            let mut reached = true;
            for (service, port) in mine {
                // "Already published" is fine: the name is there again.
                if self
                    .forward(&NameRequest::Publish { service, port })
                    .is_err()
                {
                    reached = false;
                    break;
                }
            }
            if reached {
                if !self.mine.is_empty() {
                    self.watch = self.open_watch().ok();
                    if self.watch.is_none() {
                        continue;
                    }
                }
                return;
            }
        }
    }

    fn forward(&self, req: &NameRequest) -> io::Result<Message> {
        let shared = self.shared.as_ref().ok_or(io::ErrorKind::NotConnected)?;
        let mut sock = UnixStream::connect_addr(&shared.addr)?;
        sock.set_read_timeout(Some(FORWARD_TIMEOUT))?;
        sock.set_write_timeout(Some(FORWARD_TIMEOUT))?;
        let line = req.to_message().encode().map_err(io::Error::other)?;
        sock.write_all(line.as_bytes())?;
        let mut reply = String::new();
        BufReader::new(sock).read_line(&mut reply)?;
        Message::parse(&reply).map_err(io::Error::other)
    }

    /// The fds the event loop must poll for us.
    pub fn poll_fds(&self) -> Vec<RawFd> {
        let resting = self.resting_until.is_some_and(|t| Instant::now() < t);
        let mut v: Vec<RawFd> = self
            .listener
            .iter()
            .filter(|_| !resting)
            .map(|l| l.as_raw_fd())
            .collect();
        v.extend(self.peers.iter().map(|p| p.sock.as_raw_fd()));
        v.extend(self.watch.iter().map(|w| w.as_raw_fd()));
        v.extend(self.watchers.iter().map(|w| w.as_raw_fd()));
        v
    }

    /// When the event loop must call [`Self::on_timer`] next (a connection's deadline, or
    /// the end of a rest), if ever.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.peers.next_deadline(), self.resting_until]
            .into_iter()
            .flatten()
            .min()
    }

    /// Drops connections that did not send their request in time; ends a rest.
    pub fn on_timer(&mut self, now: Instant) {
        drop(self.peers.expire(now));
        if self.resting_until.is_some_and(|t| now >= t) {
            self.resting_until = None;
        }
    }

    /// Serves whatever is ready on `fd` (one of [`Self::poll_fds`]). Never blocks.
    pub fn on_readable(&mut self, fd: RawFd) {
        if self.listener.as_ref().is_some_and(|l| l.as_raw_fd() == fd) {
            self.accept_ready();
            return;
        }
        if self.watch.as_ref().is_some_and(|w| w.as_raw_fd() == fd) {
            // The server never writes on a watch: readable means it hung up.
            if hung_up(self.watch.as_mut()) {
                self.rejoin();
            }
            return;
        }
        if let Some(i) = self.watchers.iter().position(|w| w.as_raw_fd() == fd) {
            if hung_up(self.watchers.get_mut(i)) {
                self.watchers.swap_remove(i);
            }
            return;
        }
        let Some(i) = self.peers.iter().position(|p| p.sock.as_raw_fd() == fd) else {
            return;
        };
        let mut buf = [0u8; 4096];
        let Some(peer) = self.peers.get_mut(i) else {
            return;
        };
        let keep = match peer.sock.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                peer.input.push(&buf[..n]);
                self.serve_peer(i)
            }
            Err(e) => matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ),
        };
        if !keep {
            drop(self.peers.remove(i));
        }
    }

    /// Accepts a bounded batch of connections (the oldest waiting one is dropped when too
    /// many wait); rests the listener when out of descriptors.
    fn accept_ready(&mut self) {
        let Some(l) = self.listener.as_ref() else {
            return;
        };
        let now = Instant::now();
        for _ in 0..gate::MAX_PENDING {
            match gate::accept_one(l, now) {
                Accepted::Conn(sock) => {
                    drop(self.peers.admit(
                        Peer {
                            sock,
                            input: BoundedLines::new(),
                        },
                        now,
                    ));
                }
                Accepted::Drained => return,
                Accepted::Rest(until, e) => {
                    if !self.warned_resting {
                        self.warned_resting = true;
                        eprintln!("mpiexec: name server: cannot accept connections for now: {e}");
                    }
                    self.resting_until = Some(until);
                    return;
                }
            }
        }
    }

    /// Answers the peer's request once its line is complete; false when done with it.
    fn serve_peer(&mut self, i: usize) -> bool {
        let Some(peer) = self.peers.get_mut(i) else {
            return false;
        };
        let Some(line) = peer.input.next_line() else {
            return true;
        };
        let parsed = match line {
            Line::Ok(l) => Message::parse_bytes(&l).map_err(|e| e.to_string()),
            Line::TooLong => Err("line_too_long".to_string()),
        };
        if let Ok(m) = &parsed {
            if m.cmd == "watch_names" {
                if let Some(peer) = self.peers.remove(i) {
                    if self.watchers.len() >= MAX_WATCHERS {
                        self.watchers.remove(0);
                    }
                    self.watchers.push(peer.sock);
                }
                // Already taken out of `peers`.
                return true;
            }
        }
        let reply = match parsed {
            Ok(m) => match NameRequest::from_message(&m) {
                Some(Ok(req)) => self.table.answer(&req),
                Some(Err(reply)) => reply,
                None => Message::new("error")
                    .arg("rc", 1)
                    .arg("msg", "not_a_name_request"),
            },
            Err(e) => Message::new("error").arg("rc", 1).arg("msg", e),
        };
        if let Ok(wire) = reply.encode() {
            // The peer waits for this one short line; a full socket buffer is impossible.
            let Some(peer) = self.peers.get_mut(i) else {
                return false;
            };
            let sock = &mut peer.sock;
            let _ = sock.set_nonblocking(false);
            let _ = sock.set_write_timeout(Some(FORWARD_TIMEOUT));
            let _ = sock.write_all(wire.as_bytes());
        }
        false
    }
}

/// Reads what is ready on a watch connection; true when the other side has gone.
fn hung_up(sock: Option<&mut UnixStream>) -> bool {
    let Some(sock) = sock else { return false };
    let mut buf = [0u8; 256];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return true,
        }
    }
}

impl Drop for NameService {
    fn drop(&mut self) {
        // Only the server owns the socket file.
        if self.listener.take().is_some() {
            if let Some(path) = self.shared.as_ref().and_then(|s| s.path.as_ref()) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(line: &str) -> NameRequest {
        NameRequest::from_message(&Message::parse(line).unwrap())
            .unwrap()
            .unwrap()
    }

    fn wire(m: Message) -> String {
        m.encode().unwrap()
    }

    #[test]
    fn table_publish_lookup_unpublish() {
        let mut t = NameTable::default();
        let port = "oximpi-port:@oximpi-1234-abcd:7:0123abcd";
        let publish = req(&format!("cmd=publish_name service=svc port={port}"));
        assert_eq!(
            wire(t.answer(&publish)),
            "cmd=publish_result rc=0 msg=success\n"
        );
        assert!(wire(t.answer(&publish)).starts_with("cmd=publish_result rc=1 msg="));
        assert_eq!(
            wire(t.answer(&req("cmd=lookup_name service=svc"))),
            format!("cmd=lookup_result rc=0 port={port}\n")
        );
        assert_eq!(
            wire(t.answer(&req("cmd=unpublish_name service=svc"))),
            "cmd=unpublish_result rc=0 msg=success\n"
        );
        assert!(wire(t.answer(&req("cmd=unpublish_name service=svc")))
            .starts_with("cmd=unpublish_result rc=1 msg="));
        assert!(wire(t.answer(&req("cmd=lookup_name service=svc")))
            .starts_with("cmd=lookup_result rc=1 msg="));
    }

    #[test]
    fn requests_round_trip_and_bad_ones_get_replies() {
        let r = NameRequest::Publish {
            service: "a".into(),
            port: "x=y:\\z".into(),
        };
        let back = NameRequest::from_message(&Message::parse(&wire(r.to_message())).unwrap());
        assert_eq!(back, Some(Ok(r)));
        assert!(NameRequest::from_message(&Message::parse("cmd=get key=a").unwrap()).is_none());
        let bad = NameRequest::from_message(&Message::parse("cmd=publish_name service=a").unwrap());
        assert!(wire(bad.unwrap().unwrap_err()).starts_with("cmd=publish_result rc=1"));
    }

    #[test]
    fn shared_between_two_services() {
        let addr = format!("@oximpi-names-test-{}", std::process::id());
        let mut server = NameService::new(Some(&addr)).unwrap();
        assert!(server.listener.is_some());
        let client = NameService::new(Some(&addr)).unwrap();
        assert!(client.listener.is_none(), "the address is taken");
        // The client's forward blocks for the reply: serve it from another thread.
        let publish = NameRequest::Publish {
            service: "s".into(),
            port: "p:1".into(),
        };
        let t = std::thread::spawn(move || {
            let mut client = client;
            let a = client.answer(&publish);
            let b = client.answer(&NameRequest::Lookup {
                service: "s".into(),
            });
            (wire(a), wire(b))
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !t.is_finished() && std::time::Instant::now() < deadline {
            for fd in server.poll_fds() {
                server.on_readable(fd);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let (a, b) = t.join().unwrap();
        assert_eq!(a, "cmd=publish_result rc=0 msg=success\n");
        assert_eq!(b, "cmd=lookup_result rc=0 port=p:1\n");
        assert_eq!(
            wire(server.answer(&NameRequest::Lookup {
                service: "s".into()
            })),
            b
        );
        // The server goes away: the next client serves.
        drop(server);
        let mut c2 = NameService::new(Some(&addr)).unwrap();
        assert!(c2.listener.is_some());
        assert!(wire(c2.answer(&NameRequest::Lookup {
            service: "s".into()
        }))
        .contains("rc=1"));
    }

    #[test]
    fn stale_socket_file_is_replaced() {
        let path = std::env::temp_dir().join(format!("oximpi-names-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let l = UnixListener::bind(&path).unwrap();
        drop(l); // the file stays, nobody listens
        let ns = NameService::new(Some(path.to_str().unwrap())).unwrap();
        assert!(ns.listener.is_some());
        drop(ns);
        assert!(!path.exists(), "the server removes its socket file");
    }
}
