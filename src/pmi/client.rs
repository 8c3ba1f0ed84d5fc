//! The PMI-1 client: one connection to the launcher per process, spoken synchronously
//! (one request, one response), exactly as MPICH's simple PMI does, so it works under our
//! `mpiexec` and under hydra (`mpiexec.mpich`).

use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::conn::{env_u32, env_var, Conn};
use super::error::{check_status, PmiError};
use super::mapping::parse_process_mapping;
use super::wire::{LineBuffer, Message};
use crate::transport::process;

/// One command of a spawn request (`PMI_Spawn_multiple`'s arrays, one entry each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnCmd {
    /// The program (a name searched in PATH, the `path` info key, or a path).
    pub exe: String,
    /// Its arguments, without the program name (MPI_Comm_spawn's `argv`).
    pub argv: Vec<String>,
    /// The most processes to start (fewer when a `soft` info key allows it).
    pub maxprocs: u32,
    /// Info keys for the launcher (`wdir`, `path`, `host`, `soft`, ...), passed as they are.
    pub info: Vec<(String, String)>,
}

/// How long `start_launcher` waits for the launcher to answer the handshake.
const LAUNCHER_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Hydra's limits, used until the launcher tells us its own.
const DEFAULT_KEYLEN_MAX: usize = 64;
const DEFAULT_VALLEN_MAX: usize = 1024;

/// A PMI-1 connection to the process manager (our mpiexec, hydra, or a singleton's launcher).
pub struct Pmi1 {
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
    /// `PMI_SPAWNED` was set: this job was started by another job's spawn.
    spawned: bool,
    finalized: bool,
    node_map: Option<Vec<u32>>,
}

impl Pmi1 {
    /// Connects using `PMI_FD` (with `PMI_RANK` and `PMI_SIZE`) or, without it, hydra's
    /// `PMI_PORT` + `PMI_ID`, and performs the PMI-1 handshake.
    pub(super) fn connect(
        fd_var: Option<String>,
        port_var: Option<String>,
    ) -> Result<Pmi1, PmiError> {
        let mut pmi;
        if let Some(v) = fd_var {
            pmi = Pmi1::new(Conn::inherited(&v)?);
            pmi.rank = env_u32("PMI_RANK")?;
            pmi.size = env_u32("PMI_SIZE")?;
        } else {
            pmi = Pmi1::new(Conn::dial(&port_var.unwrap_or_default())?);
            pmi.port_handshake()?;
        }
        if pmi.size == 0 || pmi.rank >= pmi.size {
            return Err(PmiError::Protocol(format!(
                "rank {} of size {}",
                pmi.rank, pmi.size
            )));
        }
        pmi.our_launcher = env_var("OXIMPI_JOB_SECRET").is_some();
        pmi.spawned = env_var("PMI_SPAWNED").is_some_and(|v| v.trim() != "0");
        pmi.handshake()?;
        Ok(pmi)
    }

    /// A descriptor of the launcher socket for the hang-up watcher.
    pub(super) fn watch_handle(&self) -> std::io::Result<std::os::fd::OwnedFd> {
        self.conn.watch_handle()
    }

    fn new(conn: Conn) -> Pmi1 {
        Pmi1 {
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
            spawned: false,
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
        let kvs = self.kvsname.clone();
        self.get_from(&kvs, key)
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

    /// Whether this job was spawned by another (`PMI_SPAWNED` set at connect).
    pub fn spawned(&self) -> bool {
        self.spawned
    }

    /// Starts one new job made of every command's processes, in order (its appnums are the
    /// command indices), with `preput` in the new job's kvs. Sent as MPICH's simple PMI
    /// sends `PMI_Spawn_multiple` (one `mcmd=spawn` block per command). Returns the number
    /// of processes started (the launcher's `nprocs=`, or the sum of `maxprocs` from a
    /// launcher that does not say, as hydra). `Err(PmiError::Refused { .. })` carries the
    /// launcher's reason when it started nothing.
    pub fn spawn(
        &mut self,
        cmds: &[SpawnCmd],
        preput: &[(String, String)],
    ) -> Result<u32, PmiError> {
        let request = encode_spawn(cmds, preput)?;
        if self.finalized {
            return Err(PmiError::WrongState("PMI already finalized"));
        }
        self.conn.write_all(request.as_bytes())?;
        let r = self.expect("spawn_result")?;
        check_rc(&r)?;
        match r.get("nprocs") {
            Some(n) => n
                .trim()
                .parse()
                .map_err(|_| PmiError::Protocol(format!("spawn_result nprocs={n:?}"))),
            None => Ok(cmds.iter().map(|c| c.maxprocs).sum()),
        }
    }

    /// Reads `key` from the kvs named `kvsname` (any job's, e.g. the parent's).
    pub fn get_from(&mut self, kvsname: &str, key: &str) -> Result<String, PmiError> {
        self.check_key(key)?;
        check_plain("kvs name", kvsname)?;
        let r = self.call(
            Message::new("get").arg("kvsname", kvsname).arg("key", key),
            "get_result",
        )?;
        if r.get_int("rc") != Some(0) {
            return Err(PmiError::KeyNotFound(key.into()));
        }
        r.get("value")
            .map(str::to_string)
            .ok_or_else(|| PmiError::Protocol("get_result without value".into()))
    }

    /// Publishes `port` under `service` in the launcher's name service.
    /// `Err(PmiError::Refused { .. })` if the service is already published.
    pub fn publish_name(&mut self, service: &str, port: &str) -> Result<(), PmiError> {
        check_name("service", service)?;
        check_name("port", port)?;
        let r = self.call(
            Message::new("publish_name")
                .arg("service", service)
                .arg("port", port),
            "publish_result",
        )?;
        check_rc(&r)
    }

    /// Withdraws `service`; `Err(PmiError::Refused { .. })` if it is not published.
    pub fn unpublish_name(&mut self, service: &str) -> Result<(), PmiError> {
        check_name("service", service)?;
        let r = self.call(
            Message::new("unpublish_name").arg("service", service),
            "unpublish_result",
        )?;
        check_rc(&r)
    }

    /// The port published under `service`; `Err(PmiError::Refused { .. })` if none is.
    pub fn lookup_name(&mut self, service: &str) -> Result<String, PmiError> {
        check_name("service", service)?;
        let r = self.call(
            Message::new("lookup_name").arg("service", service),
            "lookup_result",
        )?;
        check_rc(&r)?;
        r.get("port")
            .map(str::to_string)
            .ok_or_else(|| PmiError::Protocol("lookup_result without port".into()))
    }

    /// For a singleton (no launcher at `connect`) that needs one, e.g. to spawn: starts
    /// OxiMPI's `mpiexec --singleton FD` on one end of a new socket pair and connects to
    /// it as rank 0 of 1. The launcher is found through `OXIMPI_MPIEXEC`, else next to the
    /// loaded library (`<libdir>/../bin/mpiexec`), else as `mpiexec` in PATH. It lives until
    /// this process and every process it spawns have ended.
    pub(super) fn start_launcher() -> Result<Pmi1, PmiError> {
        let exe = super::launcher::find_mpiexec();
        let (ours, theirs) = UnixStream::pair()?;
        let mut cmd = Command::new(&exe);
        cmd.arg("--singleton")
            .arg(theirs.as_raw_fd().to_string())
            .stdin(Stdio::null());
        let mut child = process::spawn_keeping_fd(&mut cmd, theirs.as_fd())
            .map_err(|e| PmiError::Launcher(format!("{}: {e}", exe.display())))?;
        drop(theirs);
        let mut pmi = Pmi1::new(Conn::Unix(ours));
        pmi.our_launcher = true;
        let handshake = (|| {
            pmi.conn
                .set_read_timeout(Some(LAUNCHER_HANDSHAKE_TIMEOUT))?;
            pmi.handshake()?;
            pmi.conn.set_read_timeout(None)?;
            Ok::<(), PmiError>(())
        })();
        if let Err(e) = handshake {
            let _ = child.kill();
            let _ = child.wait();
            return Err(PmiError::Launcher(format!(
                "{} did not complete the PMI handshake ({e}); is it OxiMPI's mpiexec? \
                 (set OXIMPI_MPIEXEC)",
                exe.display()
            )));
        }
        // Reap the launcher when it ends (after us, normally), so it never lingers as a
        // zombie of a long-running process.
        let _ = std::thread::Builder::new()
            .name("oximpi-launcher".into())
            .spawn(move || {
                let _ = child.wait();
            });
        Ok(pmi)
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
            let n = self.conn.read_some(&mut buf)?;
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

/// Names and ports of the name service: any printable text without spaces (our wire escapes
/// a backslash; hydra would not unescape it, but port names never contain one).
fn check_name(what: &str, s: &str) -> Result<(), PmiError> {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(PmiError::InvalidArgument(format!(
            "{what} {s:?} is empty or contains whitespace"
        )));
    }
    Ok(())
}

/// The `mcmd=spawn` blocks of a request, exactly as MPICH 4's simple PMI writes them:
/// raw `key=value` lines (so arguments may contain spaces, but no newline), args counted
/// from 1, preput and info entries from 0.
fn encode_spawn(cmds: &[SpawnCmd], preput: &[(String, String)]) -> Result<String, PmiError> {
    use std::fmt::Write as _;
    if cmds.is_empty() {
        return Err(PmiError::InvalidArgument("spawn of no command".into()));
    }
    let line_safe = |what: &str, s: &str| {
        if s.contains(['\n', '\r']) {
            Err(PmiError::InvalidArgument(format!(
                "{what} {s:?} contains a newline"
            )))
        } else {
            Ok(())
        }
    };
    let key_safe = |what: &str, k: &str| {
        line_safe(what, k)?;
        if k.is_empty() || k.contains('=') {
            return Err(PmiError::InvalidArgument(format!(
                "{what} {k:?} is empty or contains '='"
            )));
        }
        Ok(())
    };
    for (k, v) in preput {
        key_safe("preput key", k)?;
        line_safe("preput value", v)?;
    }
    let mut out = String::new();
    for (i, c) in cmds.iter().enumerate() {
        if c.exe.is_empty() {
            return Err(PmiError::InvalidArgument("empty executable name".into()));
        }
        line_safe("executable", &c.exe)?;
        // Writing into a String cannot fail.
        let _ = write!(
            out,
            "mcmd=spawn\nnprocs={}\nexecname={}\ntotspawns={}\nspawnssofar={}\n",
            c.maxprocs,
            c.exe,
            cmds.len(),
            i + 1
        );
        for (j, a) in c.argv.iter().enumerate() {
            line_safe("argument", a)?;
            let _ = writeln!(out, "arg{}={a}", j + 1);
        }
        let _ = writeln!(out, "argcnt={}", c.argv.len());
        let _ = writeln!(out, "preput_num={}", preput.len());
        for (j, (k, v)) in preput.iter().enumerate() {
            let _ = write!(out, "preput_key_{j}={k}\npreput_val_{j}={v}\n");
        }
        let _ = writeln!(out, "info_num={}", c.info.len());
        for (j, (k, v)) in c.info.iter().enumerate() {
            key_safe("info key", k)?;
            line_safe("info value", v)?;
            let _ = write!(out, "info_key_{j}={k}\ninfo_val_{j}={v}\n");
        }
        out.push_str("endcmd\n");
    }
    Ok(out)
}

/// Fails on a response carrying `rc` other than 0 (no `rc` means success).
fn check_rc(m: &Message) -> Result<(), PmiError> {
    check_status(&m.cmd, m.get("rc"), m.get("msg"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_request_is_written_like_mpich() {
        let cmds = [
            SpawnCmd {
                exe: "./child".into(),
                argv: vec!["-x".into(), "a b=c".into()],
                maxprocs: 3,
                info: vec![("wdir".into(), "/tmp".into())],
            },
            SpawnCmd {
                exe: "other".into(),
                argv: vec![],
                maxprocs: 1,
                info: vec![],
            },
        ];
        let pre = [("PARENT_ROOT_PORT_NAME".to_string(), "p:1".to_string())];
        assert_eq!(
            encode_spawn(&cmds, &pre).unwrap(),
            "mcmd=spawn\nnprocs=3\nexecname=./child\ntotspawns=2\nspawnssofar=1\n\
             arg1=-x\narg2=a b=c\nargcnt=2\npreput_num=1\npreput_key_0=PARENT_ROOT_PORT_NAME\n\
             preput_val_0=p:1\ninfo_num=1\ninfo_key_0=wdir\ninfo_val_0=/tmp\nendcmd\n\
             mcmd=spawn\nnprocs=1\nexecname=other\ntotspawns=2\nspawnssofar=2\nargcnt=0\n\
             preput_num=1\npreput_key_0=PARENT_ROOT_PORT_NAME\npreput_val_0=p:1\ninfo_num=0\n\
             endcmd\n"
        );
    }

    #[test]
    fn spawn_request_refuses_what_the_wire_cannot_carry() {
        let cmd = |exe: &str, arg: &str| SpawnCmd {
            exe: exe.into(),
            argv: vec![arg.into()],
            maxprocs: 1,
            info: vec![],
        };
        assert!(encode_spawn(&[], &[]).is_err());
        assert!(encode_spawn(&[cmd("", "a")], &[]).is_err());
        assert!(encode_spawn(&[cmd("x", "a\nb")], &[]).is_err());
        assert!(encode_spawn(&[cmd("x", "a")], &[("k=".into(), "v".into())]).is_err());
        assert!(encode_spawn(&[cmd("x", "a")], &[("k".into(), "v\n".into())]).is_err());
        assert!(encode_spawn(&[cmd("x", "a")], &[("k".into(), "v w".into())]).is_ok());
    }

    #[test]
    fn name_service_arguments() {
        assert!(check_name("port", "oximpi-port:@oximpi-1234-abcd:7:0123abcd").is_ok());
        assert!(check_name("port", "a=b\\c").is_ok());
        for bad in ["", "a b", "a\nb", "a\tb"] {
            assert!(check_name("port", bad).is_err(), "{bad:?}");
        }
    }
}
