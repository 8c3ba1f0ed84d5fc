//! The PMI-1 client: one connection to the launcher per process, spoken synchronously
//! (one request, one response), exactly as MPICH's simple PMI does, so it works under our
//! `mpiexec` and under hydra (`mpiexec.mpich`).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};

use super::mapping::{parse_process_mapping, MappingError};
use super::wire::{LineBuffer, Message, WireError};
use crate::transport::{fd, process};

/// Everything that can go wrong talking to the launcher.
#[derive(Debug)]
pub enum PmiError {
    /// A launcher variable is present but unusable.
    Env {
        var: &'static str,
        value: String,
        why: String,
    },
    Io(io::Error),
    /// The launcher closed the connection.
    Closed,
    /// The launcher sent something we cannot parse or did not expect.
    Protocol(String),
    /// The launcher answered a request with a failure.
    Refused {
        cmd: String,
        rc: i64,
        msg: String,
    },
    KeyNotFound(String),
    /// A key or value we cannot send (too long, or containing space/newline/backslash).
    InvalidArgument(String),
    /// `connect` was called a second time, or a call came after `finalize`.
    WrongState(&'static str),
}

impl fmt::Display for PmiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PmiError::Env { var, value, why } => write!(f, "PMI: bad {var}={value:?}: {why}"),
            PmiError::Io(e) => write!(f, "PMI: I/O error talking to the launcher: {e}"),
            PmiError::Closed => write!(f, "PMI: the launcher closed the connection"),
            PmiError::Protocol(m) => write!(f, "PMI: protocol error: {m}"),
            PmiError::Refused { cmd, rc, msg } => {
                write!(f, "PMI: launcher refused {cmd} (rc={rc}): {msg}")
            }
            PmiError::KeyNotFound(k) => write!(f, "PMI: key {k:?} not found"),
            PmiError::InvalidArgument(m) => write!(f, "PMI: invalid argument: {m}"),
            PmiError::WrongState(m) => write!(f, "PMI: {m}"),
        }
    }
}

impl std::error::Error for PmiError {}

impl From<io::Error> for PmiError {
    fn from(e: io::Error) -> PmiError {
        PmiError::Io(e)
    }
}

impl From<WireError> for PmiError {
    fn from(e: WireError) -> PmiError {
        PmiError::Protocol(e.to_string())
    }
}

impl From<MappingError> for PmiError {
    fn from(e: MappingError) -> PmiError {
        PmiError::Protocol(e.to_string())
    }
}

/// The socket to the launcher: inherited (`PMI_FD`) or dialled (`PMI_PORT`).
enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.write_all(b),
            Conn::Tcp(s) => s.write_all(b),
        }
    }
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(b),
            Conn::Tcp(s) => s.read(b),
        }
    }
}

/// Guards against adopting `PMI_FD` twice (two owners would close it twice).
static CONNECTED: AtomicBool = AtomicBool::new(false);

/// Hydra's limits, used until the launcher tells us its own.
const DEFAULT_KEYLEN_MAX: usize = 64;
const DEFAULT_VALLEN_MAX: usize = 1024;

/// The connection to the process manager; one per process.
pub struct Pmi {
    conn: Conn,
    lines: LineBuffer,
    rank: u32,
    size: u32,
    appnum: i32,
    universe_size: i32,
    kvsname: String,
    keylen_max: usize,
    vallen_max: usize,
    /// Launched by OxiMPI's own mpiexec (which prints abort messages itself).
    our_launcher: bool,
    finalized: bool,
    node_map: Option<Vec<u32>>,
}

fn env_var(var: &'static str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

fn env_u32(var: &'static str) -> Result<u32, PmiError> {
    let value = env_var(var).ok_or(PmiError::Env {
        var,
        value: String::new(),
        why: "not set".into(),
    })?;
    value.trim().parse().map_err(|e| PmiError::Env {
        var,
        value: value.clone(),
        why: format!("{e}"),
    })
}

impl Pmi {
    /// Connects using `PMI_FD` (or `PMI_PORT` + `PMI_ID` as hydra may use) and performs the
    /// PMI-1 handshake. `Ok(None)` when no launcher is present (singleton: rank 0 of 1).
    pub fn connect() -> Result<Option<Pmi>, PmiError> {
        let fd_var = env_var("PMI_FD");
        let port_var = env_var("PMI_PORT");
        if fd_var.is_none() && port_var.is_none() {
            return Ok(None);
        }
        if CONNECTED.swap(true, Ordering::SeqCst) {
            return Err(PmiError::WrongState("already connected to the launcher"));
        }
        let result = Pmi::connect_inner(fd_var, port_var);
        if result.is_err() {
            CONNECTED.store(false, Ordering::SeqCst);
        }
        result.map(Some)
    }

    fn connect_inner(fd_var: Option<String>, port_var: Option<String>) -> Result<Pmi, PmiError> {
        let mut pmi;
        if let Some(v) = fd_var {
            let raw: i32 = v.trim().parse().map_err(|e| PmiError::Env {
                var: "PMI_FD",
                value: v.clone(),
                why: format!("{e}"),
            })?;
            let sock = fd::adopt_inherited_socket(raw).map_err(|e| PmiError::Env {
                var: "PMI_FD",
                value: v.clone(),
                why: e.to_string(),
            })?;
            pmi = Pmi::new(Conn::Unix(sock));
            pmi.rank = env_u32("PMI_RANK")?;
            pmi.size = env_u32("PMI_SIZE")?;
        } else {
            let addr = port_var.unwrap_or_default();
            let sock = TcpStream::connect(addr.as_str()).map_err(|e| PmiError::Env {
                var: "PMI_PORT",
                value: addr.clone(),
                why: e.to_string(),
            })?;
            let _ = sock.set_nodelay(true);
            pmi = Pmi::new(Conn::Tcp(sock));
            pmi.port_handshake()?;
        }
        if pmi.size == 0 || pmi.rank >= pmi.size {
            return Err(PmiError::Protocol(format!(
                "rank {} of size {}",
                pmi.rank, pmi.size
            )));
        }
        pmi.our_launcher = env_var("OXIMPI_JOB_SECRET").is_some();
        pmi.handshake()?;
        Ok(pmi)
    }

    fn new(conn: Conn) -> Pmi {
        Pmi {
            conn,
            lines: LineBuffer::new(),
            rank: 0,
            size: 1,
            appnum: 0,
            universe_size: -1,
            kvsname: String::new(),
            keylen_max: DEFAULT_KEYLEN_MAX,
            vallen_max: DEFAULT_VALLEN_MAX,
            our_launcher: false,
            finalized: false,
            node_map: None,
        }
    }

    /// Hydra's `PMI_PORT` mode: identify with `PMI_ID`, receive `initack` and then
    /// `set size=`, `set rank=`, `set debug=`.
    fn port_handshake(&mut self) -> Result<(), PmiError> {
        let id = env_u32("PMI_ID")?;
        self.send(&Message::new("initack").arg("pmiid", id))?;
        self.expect("initack")?;
        let (mut rank, mut size) = (None, None);
        for _ in 0..3 {
            let m = self.expect("set")?;
            if let Some(v) = m.get_int("size") {
                size = Some(v);
            }
            if let Some(v) = m.get_int("rank") {
                rank = Some(v);
            }
        }
        let bad = || PmiError::Protocol("initack without valid rank and size".into());
        self.rank = rank.and_then(|r| u32::try_from(r).ok()).ok_or_else(bad)?;
        self.size = size.and_then(|s| u32::try_from(s).ok()).ok_or_else(bad)?;
        Ok(())
    }

    fn handshake(&mut self) -> Result<(), PmiError> {
        let r = self.call(
            Message::new("init")
                .arg("pmi_version", 1)
                .arg("pmi_subversion", 1),
            "response_to_init",
        )?;
        check_rc(&r)?;
        if r.get_int("pmi_version") != Some(1) {
            return Err(PmiError::Protocol(format!(
                "launcher speaks PMI version {:?}",
                r.get("pmi_version")
            )));
        }
        let m = self.call(Message::new("get_maxes"), "maxes")?;
        check_rc(&m)?;
        let positive = |k| m.get_int(k).filter(|&v| v > 0).map(|v| v as usize);
        self.keylen_max = positive("keylen_max").unwrap_or(DEFAULT_KEYLEN_MAX);
        self.vallen_max = positive("vallen_max").unwrap_or(DEFAULT_VALLEN_MAX);
        let k = self.call(Message::new("get_my_kvsname"), "my_kvsname")?;
        check_rc(&k)?;
        self.kvsname = k
            .get("kvsname")
            .ok_or_else(|| PmiError::Protocol("my_kvsname without kvsname".into()))?
            .into();
        let a = self.call(Message::new("get_appnum"), "appnum")?;
        check_rc(&a)?;
        self.appnum = a
            .get_int("appnum")
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| PmiError::Protocol("appnum response without appnum".into()))?;
        let u = self.call(Message::new("get_universe_size"), "universe_size")?;
        check_rc(&u)?;
        self.universe_size = u
            .get_int("size")
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| PmiError::Protocol("universe_size without size".into()))?;
        Ok(())
    }

    pub fn rank(&self) -> u32 {
        self.rank
    }
    pub fn size(&self) -> u32 {
        self.size
    }
    pub fn appnum(&self) -> i32 {
        self.appnum
    }
    pub fn kvsname(&self) -> &str {
        &self.kvsname
    }

    /// The universe size the launcher reported at connect time (hydra says -1 when it does
    /// not know). PMI-1 fixes it for the job's lifetime, so it is asked once.
    pub fn universe_size(&self) -> Result<i32, PmiError> {
        Ok(self.universe_size)
    }

    /// Stores `key=val` in the job's key-value space; others see it after the next barrier.
    pub fn put(&mut self, key: &str, val: &str) -> Result<(), PmiError> {
        self.check_key(key)?;
        check_plain("value", val)?;
        if val.len() >= self.vallen_max {
            return Err(PmiError::InvalidArgument(format!(
                "value of {key:?} is {} bytes; the launcher allows {}",
                val.len(),
                self.vallen_max - 1
            )));
        }
        let r = self.call(
            Message::new("put")
                .arg("kvsname", &self.kvsname)
                .arg("key", key)
                .arg("value", val),
            "put_result",
        )?;
        check_rc(&r)
    }

    /// Reads `key` from the job's key-value space.
    pub fn get(&mut self, key: &str) -> Result<String, PmiError> {
        self.check_key(key)?;
        let r = self.call(
            Message::new("get")
                .arg("kvsname", &self.kvsname)
                .arg("key", key),
            "get_result",
        )?;
        if r.get_int("rc") != Some(0) {
            return Err(PmiError::KeyNotFound(key.into()));
        }
        r.get("value")
            .map(str::to_string)
            .ok_or_else(|| PmiError::Protocol("get_result without value".into()))
    }

    /// Waits for every rank of the job; puts made before it are visible after it.
    pub fn barrier(&mut self) -> Result<(), PmiError> {
        let r = self.call(Message::new("barrier_in"), "barrier_out")?;
        check_rc(&r)
    }

    /// Tells the launcher to end the job with `code` (it prints `msg`), then leaves at once.
    pub fn abort(&mut self, code: i32, msg: &str) -> ! {
        if !self.our_launcher && !msg.is_empty() {
            // Hydra ignores the message; print it ourselves so it is not lost.
            eprintln!("Abort({code}) on rank {}: {msg}", self.rank);
        }
        let mut m = Message::new("abort").arg("exitcode", code);
        if !msg.is_empty() {
            m = m.arg("message", msg);
        }
        let _ = self.send(&m);
        process::exit_now(code)
    }

    /// Says goodbye to the launcher; after this, exiting is not a failure.
    pub fn finalize(&mut self) -> Result<(), PmiError> {
        self.call(Message::new("finalize"), "finalize_ack")?;
        self.finalized = true;
        Ok(())
    }

    /// Parsed `PMI_process_mapping`: the node index of every rank (fetched once).
    pub fn node_map(&mut self) -> Result<Vec<u32>, PmiError> {
        if self.node_map.is_none() {
            let v = self.get("PMI_process_mapping")?;
            self.node_map = Some(parse_process_mapping(&v, self.size)?);
        }
        Ok(self.node_map.clone().unwrap_or_default())
    }

    fn check_key(&self, key: &str) -> Result<(), PmiError> {
        if key.is_empty() {
            return Err(PmiError::InvalidArgument("empty key".into()));
        }
        check_plain("key", key)?;
        if key.contains('=') || key.len() >= self.keylen_max {
            return Err(PmiError::InvalidArgument(format!(
                "key {key:?} must be shorter than {} bytes and contain no '='",
                self.keylen_max
            )));
        }
        Ok(())
    }

    fn call(&mut self, m: Message, reply: &str) -> Result<Message, PmiError> {
        if self.finalized {
            return Err(PmiError::WrongState("PMI already finalized"));
        }
        self.send(&m)?;
        self.expect(reply)
    }

    fn send(&mut self, m: &Message) -> Result<(), PmiError> {
        let wire = m.encode()?;
        self.conn.write_all(wire.as_bytes())?;
        Ok(())
    }

    /// Reads the next message and checks that it is `cmd`.
    fn expect(&mut self, cmd: &str) -> Result<Message, PmiError> {
        let m = self.recv()?;
        if m.cmd != cmd {
            return Err(PmiError::Protocol(format!("expected {cmd}, got {}", m.cmd)));
        }
        Ok(m)
    }

    fn recv(&mut self) -> Result<Message, PmiError> {
        loop {
            if let Some(line) = self.lines.next_line() {
                return Ok(Message::parse_bytes(&line?)?);
            }
            let mut buf = [0u8; 4096];
            let n = match self.conn.read(&mut buf) {
                Ok(0) => return Err(PmiError::Closed),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.lines.push(&buf[..n]);
        }
    }
}

/// Hydra does not unescape, so keys and values must be plain to survive it.
fn check_plain(what: &str, s: &str) -> Result<(), PmiError> {
    if s.contains([' ', '\n', '\\', '\t', '\r']) {
        return Err(PmiError::InvalidArgument(format!(
            "{what} {s:?} contains whitespace or '\\'"
        )));
    }
    Ok(())
}

/// Fails on a response carrying `rc` other than 0 (no `rc` means success).
fn check_rc(m: &Message) -> Result<(), PmiError> {
    match m.get("rc") {
        None => Ok(()),
        Some(rc) => match rc.trim().parse::<i64>() {
            Ok(0) => Ok(()),
            Ok(rc) => Err(PmiError::Refused {
                cmd: m.cmd.clone(),
                rc,
                msg: m.get("msg").unwrap_or("").to_string(),
            }),
            Err(_) => Err(PmiError::Protocol(format!(
                "{}: rc={rc:?} is not a number",
                m.cmd
            ))),
        },
    }
}
