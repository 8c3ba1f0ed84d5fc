//! The PMI-2 wire client, as Slurm's `srun --mpi=pmi2` serves it (slurmstepd's pmi2
//! plugin, `src/plugins/mpi/pmi2` in Slurm) and as MPICH's `simple_pmi2` speaks it.
//!
//! The conversation starts with one PMI-1 line (`cmd=init pmi_version=2 pmi_subversion=0`,
//! answered by `cmd=response_to_init ... rc=0`); from then on every message is a 6-byte
//! decimal length (left-aligned, space-padded) followed by that many bytes of
//! `cmd=NAME;key=value;...;`. Slurm neither escapes nor accepts `;` inside a value, so the
//! client refuses to send one; when parsing, MPICH's `;;` escape is read as one `;`.
//!
//! Slurm fixes the protocol per job step from the first client's init: every rank of the
//! step must speak the same version, which is why the choice between this client and the
//! PMI-1 one is made from the environment alone (see `connection`).

use super::conn::{env_u32, env_var, Conn};
use super::error::{check_status, PmiError};
use super::mapping::parse_process_mapping;
use super::wire::{LineBuffer, Message};

/// Width of the length field in front of every PMI-2 message.
const LEN_FIELD: usize = 6;
/// Longest message either side may send (the length field's range).
const MAX_MESSAGE: usize = 999_999;
/// PMI-2's limits (`PMI2_MAX_KEYLEN`, `PMI2_MAX_VALLEN` in Slurm and MPICH).
const MAX_KEYLEN: usize = 64;
const MAX_VALLEN: usize = 1024;

/// One PMI-2 message: its command and its `key=value` pairs in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Command2 {
    pub cmd: String,
    pub args: Vec<(String, String)>,
}

impl Command2 {
    fn new(cmd: &str) -> Command2 {
        Command2 {
            cmd: cmd.into(),
            args: Vec::new(),
        }
    }

    fn arg(mut self, key: &str, value: impl ToString) -> Command2 {
        self.args.push((key.into(), value.to_string()));
        self
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn get_int(&self, key: &str) -> Option<i64> {
        self.get(key)?.trim().parse().ok()
    }

    /// The framed wire form: length field, then `cmd=NAME;k=v;...;`.
    fn encode(&self) -> Result<Vec<u8>, PmiError> {
        let mut body = format!("cmd={};", self.cmd);
        for (k, v) in &self.args {
            if k.is_empty() || k.contains(['=', ';']) || v.contains(';') {
                return Err(PmiError::InvalidArgument(format!(
                    "{k:?}={v:?} cannot travel over PMI-2 (no ';' anywhere, no '=' in a key)"
                )));
            }
            body.push_str(k);
            body.push('=');
            body.push_str(v);
            body.push(';');
        }
        if body.len() > MAX_MESSAGE {
            return Err(PmiError::InvalidArgument(format!(
                "PMI-2 message of {} bytes (at most {MAX_MESSAGE})",
                body.len()
            )));
        }
        let mut out = format!("{:<width$}", body.len(), width = LEN_FIELD).into_bytes();
        out.extend_from_slice(body.as_bytes());
        Ok(out)
    }

    /// Parses a message body (without its length field).
    fn parse(body: &[u8]) -> Result<Command2, PmiError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| PmiError::Protocol("PMI-2 message is not UTF-8".into()))?;
        let mut pairs = Vec::new();
        let mut cur = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ';' {
                if chars.peek() == Some(&';') {
                    chars.next();
                    cur.push(';');
                    continue;
                }
                pairs.push(std::mem::take(&mut cur));
            } else {
                cur.push(c);
            }
        }
        if !cur.is_empty() {
            pairs.push(cur);
        }
        let mut args = Vec::new();
        for p in pairs {
            let (k, v) = p.split_once('=').ok_or_else(|| {
                PmiError::Protocol(format!("PMI-2 pair {p:?} without '=' in {text:?}"))
            })?;
            if k.is_empty() {
                return Err(PmiError::Protocol(format!("PMI-2 empty key in {text:?}")));
            }
            args.push((k.to_string(), v.to_string()));
        }
        match args.first() {
            Some((k, _)) if k == "cmd" => {
                let cmd = args.remove(0).1;
                Ok(Command2 { cmd, args })
            }
            _ => Err(PmiError::Protocol(format!(
                "PMI-2 message without a leading cmd=: {text:?}"
            ))),
        }
    }
}

/// Reassembles framed PMI-2 messages from a byte stream.
#[derive(Debug, Default)]
struct Frames {
    buf: Vec<u8>,
}

impl Frames {
    fn push(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// The next complete message body, if all of it has arrived.
    fn next(&mut self) -> Option<Result<Vec<u8>, PmiError>> {
        if self.buf.len() < LEN_FIELD {
            return None;
        }
        let field = String::from_utf8_lossy(&self.buf[..LEN_FIELD])
            .trim()
            .to_string();
        let len: usize = match field.parse() {
            Ok(n) => n,
            Err(_) => {
                self.buf.clear();
                return Some(Err(PmiError::Protocol(format!(
                    "PMI-2 length field {field:?} is not a number"
                ))));
            }
        };
        if self.buf.len() < LEN_FIELD + len {
            return None;
        }
        let body = self.buf[LEN_FIELD..LEN_FIELD + len].to_vec();
        self.buf.drain(..LEN_FIELD + len);
        Some(Ok(body))
    }
}

/// A PMI-2 connection to the process manager (Slurm's slurmstepd).
pub struct Pmi2 {
    conn: Conn,
    frames: Frames,
    rank: u32,
    size: u32,
    appnum: i32,
    jobid: String,
    spawned: bool,
    finalized: bool,
    node_map: Option<Vec<u32>>,
}

impl Pmi2 {
    /// Connects over the inherited `PMI_FD` (`PMI_RANK` says who we are) and performs
    /// `init` and `fullinit`.
    pub(super) fn connect(fd_var: &str) -> Result<Pmi2, PmiError> {
        Pmi2::over(
            Conn::inherited(fd_var)?,
            env_u32("PMI_RANK")?,
            env_var("PMI_JOBID"),
        )
    }

    /// Speaks PMI-2 over `conn` as `rank` of the job `pmi_jobid` (Slurm's `PMI_JOBID`).
    fn over(conn: Conn, rank: u32, pmi_jobid: Option<String>) -> Result<Pmi2, PmiError> {
        let mut p = Pmi2 {
            conn,
            frames: Frames::default(),
            rank,
            size: 0,
            appnum: 0,
            jobid: String::new(),
            spawned: false,
            finalized: false,
            node_map: None,
        };
        p.init(pmi_jobid)?;
        Ok(p)
    }

    fn init(&mut self, pmi_jobid: Option<String>) -> Result<(), PmiError> {
        let hello = Message::new("init")
            .arg("pmi_version", 2)
            .arg("pmi_subversion", 0)
            .encode()?;
        self.conn.write_all(hello.as_bytes())?;
        // The answer is one PMI-1 line; read it byte by byte so nothing of the framed
        // messages that follow is taken along.
        let mut line = LineBuffer::new();
        let reply = loop {
            let mut b = [0u8; 1];
            self.conn.read_some(&mut b)?;
            line.push(&b);
            if let Some(l) = line.next_line() {
                break Message::parse_bytes(&l?)?;
            }
        };
        if reply.cmd != "response_to_init" || reply.get_int("rc") != Some(0) {
            return Err(PmiError::Protocol(format!(
                "the launcher refused PMI-2 init: {reply:?}"
            )));
        }
        if reply.get_int("pmi_version") != Some(2) {
            return Err(PmiError::Protocol(format!(
                "asked for PMI-2, the launcher offers version {:?}",
                reply.get("pmi_version")
            )));
        }
        // Slurm wants the job id it gave us as well as the rank (MPICH sends both).
        let mut full = Command2::new("fullinit");
        if let Some(job) = &pmi_jobid {
            full = full.arg("pmijobid", job);
        }
        let r = self.call(
            full.arg("pmirank", self.rank).arg("threaded", "FALSE"),
            "fullinit-response",
        )?;
        check_rc(&r)?;
        let int = |k: &str| {
            r.get_int(k)
                .ok_or_else(|| PmiError::Protocol(format!("fullinit-response without {k}")))
        };
        let rank = int("rank")?;
        let size = int("size")?;
        // Slurm's plugin always answers appnum=-1 (marked TODO there). An srun step is one
        // application, so its number is 0. (MPICH would leave MPI_APPNUM unset instead.)
        self.appnum = int("appnum").unwrap_or(0).max(0) as i32;
        if size <= 0 || rank < 0 || rank >= size || rank != i64::from(self.rank) {
            return Err(PmiError::Protocol(format!(
                "fullinit gave rank {rank} of size {size} to PMI_RANK={}",
                self.rank
            )));
        }
        self.size = size as u32;
        self.spawned = r.get("spawner-jobid").is_some_and(|j| !j.is_empty());
        let id = self.call(Command2::new("job-getid"), "job-getid-response")?;
        self.jobid = id
            .get("jobid")
            .map(str::to_string)
            .or(pmi_jobid)
            .ok_or_else(|| PmiError::Protocol("job-getid-response without jobid".into()))?;
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
        &self.jobid
    }
    pub fn spawned(&self) -> bool {
        self.spawned
    }

    /// `universeSize` of the job's attributes; the job size when the launcher has none.
    pub fn universe_size(&mut self) -> Result<i32, PmiError> {
        match self.job_attr("universeSize")? {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| PmiError::Protocol(format!("universeSize={v:?}"))),
            None => Ok(self.size as i32),
        }
    }

    /// The node index of every rank, from the job attribute `PMI_process_mapping`.
    pub fn node_map(&mut self) -> Result<Vec<u32>, PmiError> {
        if self.node_map.is_none() {
            let v = self
                .job_attr("PMI_process_mapping")?
                .ok_or_else(|| PmiError::KeyNotFound("PMI_process_mapping".into()))?;
            self.node_map = Some(parse_process_mapping(&v, self.size)?);
        }
        Ok(self.node_map.clone().unwrap_or_default())
    }

    /// A job attribute (`info-getjobattr`); `None` when the launcher has no such key.
    fn job_attr(&mut self, key: &str) -> Result<Option<String>, PmiError> {
        let r = self.call(
            Command2::new("info-getjobattr").arg("key", key),
            "info-getjobattr-response",
        )?;
        check_rc(&r)?;
        if r.get("found")
            .is_some_and(|f| f.eq_ignore_ascii_case("TRUE"))
        {
            Ok(Some(r.get("value").unwrap_or("").to_string()))
        } else {
            Ok(None)
        }
    }

    pub fn put(&mut self, key: &str, val: &str) -> Result<(), PmiError> {
        check_key(key)?;
        if val.len() >= MAX_VALLEN {
            return Err(PmiError::InvalidArgument(format!(
                "value of {key:?} is {} bytes; PMI-2 allows {}",
                val.len(),
                MAX_VALLEN - 1
            )));
        }
        let r = self.call(
            Command2::new("kvs-put").arg("key", key).arg("value", val),
            "kvs-put-response",
        )?;
        check_rc(&r)
    }

    pub fn get(&mut self, key: &str) -> Result<String, PmiError> {
        let job = self.jobid.clone();
        self.get_from(&job, key)
    }

    pub fn get_from(&mut self, jobid: &str, key: &str) -> Result<String, PmiError> {
        check_key(key)?;
        let r = self.call(
            Command2::new("kvs-get")
                .arg("jobid", jobid)
                .arg("srcid", -1)
                .arg("key", key),
            "kvs-get-response",
        )?;
        if r.get_int("rc") != Some(0)
            || !r
                .get("found")
                .is_some_and(|f| f.eq_ignore_ascii_case("TRUE"))
        {
            return Err(PmiError::KeyNotFound(key.into()));
        }
        r.get("value")
            .map(str::to_string)
            .ok_or_else(|| PmiError::Protocol("kvs-get-response without value".into()))
    }

    /// `kvs-fence`: every rank's puts before it are visible to all after it.
    pub fn barrier(&mut self) -> Result<(), PmiError> {
        let r = self.call(Command2::new("kvs-fence"), "kvs-fence-response")?;
        check_rc(&r)
    }

    /// Asks the launcher to end the whole job (no answer comes), then leaves.
    pub fn abort(&mut self, code: i32, msg: &str) -> ! {
        // Slurm logs the abort without the message: print it so it is not lost.
        if !msg.is_empty() {
            eprintln!("Abort({code}) on rank {}: {msg}", self.rank);
        }
        let text = msg.replace([';', '\n'], " ");
        if let Ok(wire) = Command2::new("abort")
            .arg("isworld", "TRUE")
            .arg("msg", text)
            .encode()
        {
            let _ = self.conn.write_all(&wire);
        }
        crate::transport::process::exit_now(code)
    }

    pub fn finalize(&mut self) -> Result<(), PmiError> {
        let r = self.call(Command2::new("finalize"), "finalize-response")?;
        self.finalized = true;
        check_rc(&r)
    }

    pub fn publish_name(&mut self, service: &str, port: &str) -> Result<(), PmiError> {
        let r = self.call(
            Command2::new("name-publish")
                .arg("name", service)
                .arg("port", port),
            "name-publish-response",
        )?;
        check_rc(&r)
    }

    pub fn unpublish_name(&mut self, service: &str) -> Result<(), PmiError> {
        let r = self.call(
            Command2::new("name-unpublish").arg("name", service),
            "name-unpublish-response",
        )?;
        check_rc(&r)
    }

    pub fn lookup_name(&mut self, service: &str) -> Result<String, PmiError> {
        let r = self.call(
            Command2::new("name-lookup").arg("name", service),
            "name-lookup-response",
        )?;
        check_rc(&r)?;
        r.get("value")
            .or_else(|| r.get("port"))
            .map(str::to_string)
            .ok_or_else(|| PmiError::Protocol("name-lookup-response without port".into()))
    }

    /// A descriptor of the launcher socket for the hang-up watcher.
    pub(super) fn watch_handle(&self) -> std::io::Result<std::os::fd::OwnedFd> {
        self.conn.watch_handle()
    }

    fn call(&mut self, c: Command2, reply: &str) -> Result<Command2, PmiError> {
        if self.finalized {
            return Err(PmiError::WrongState("PMI already finalized"));
        }
        self.conn.write_all(&c.encode()?)?;
        let r = self.recv()?;
        if r.cmd != reply {
            return Err(PmiError::Protocol(format!(
                "expected {reply}, got {} ({:?})",
                r.cmd, r.args
            )));
        }
        Ok(r)
    }

    fn recv(&mut self) -> Result<Command2, PmiError> {
        loop {
            if let Some(body) = self.frames.next() {
                return Command2::parse(&body?);
            }
            let mut buf = [0u8; 4096];
            let n = self.conn.read_some(&mut buf)?;
            self.frames.push(&buf[..n]);
        }
    }
}

fn check_key(key: &str) -> Result<(), PmiError> {
    if key.is_empty() || key.len() >= MAX_KEYLEN || key.contains(['=', ';']) {
        return Err(PmiError::InvalidArgument(format!(
            "key {key:?} must be 1 to {} bytes without '=' or ';'",
            MAX_KEYLEN - 1
        )));
    }
    Ok(())
}

/// Fails on a response whose `rc` is not 0 (no `rc` means success).
fn check_rc(r: &Command2) -> Result<(), PmiError> {
    check_status(&r.cmd, r.get("rc"), r.get("errmsg"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_with_a_left_aligned_length() {
        let w = Command2::new("kvs-put")
            .arg("key", "k")
            .arg("value", "a=b")
            .encode()
            .unwrap();
        assert_eq!(w, b"28    cmd=kvs-put;key=k;value=a=b;".to_vec());
        assert!(Command2::new("kvs-put").arg("key", "a;b").encode().is_err());
        assert!(Command2::new("kvs-put")
            .arg("value", "x;")
            .encode()
            .is_err());
    }

    #[test]
    fn parses_slurm_responses() {
        let r = Command2::parse(
            b"cmd=fullinit-response;rc=0;pmi-version=2;pmi-subversion=0;rank=1;size=4;\
              appnum=0;debugged=FALSE;pmiverbose=FALSE;",
        )
        .unwrap();
        assert_eq!(r.cmd, "fullinit-response");
        assert_eq!(r.get_int("rank"), Some(1));
        assert_eq!(r.get_int("size"), Some(4));
        let r = Command2::parse(b"cmd=kvs-get-response;rc=0;found=TRUE;value=x;;y=z;").unwrap();
        assert_eq!(r.get("value"), Some("x;y=z"));
        let r = Command2::parse(b"cmd=kvs-fence-response;rc=0").unwrap();
        assert_eq!(r.get_int("rc"), Some(0));
    }

    #[test]
    fn malformed_messages_are_errors() {
        for bad in [
            &b""[..],
            b"rc=0;",
            b"cmd=x;novalue;",
            b"cmd=x;=v;",
            b"\xff\xfe",
        ] {
            assert!(Command2::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// A scripted launcher on the other end of a socket pair: answers each request with
    /// the next reply, and returns the requests it saw.
    fn fake_slurm(replies: Vec<&'static str>) -> (Conn, std::thread::JoinHandle<Vec<String>>) {
        use std::io::{Read, Write};
        let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let server = std::thread::spawn(move || {
            let mut seen = Vec::new();
            // The PMI-1 init line, then framed requests.
            let mut line = Vec::new();
            let mut b = [0u8; 1];
            while b[0] != b'\n' {
                theirs.read_exact(&mut b).unwrap();
                line.push(b[0]);
            }
            seen.push(String::from_utf8(line).unwrap());
            theirs
                .write_all(b"cmd=response_to_init pmi_version=2 pmi_subversion=0 rc=0\n")
                .unwrap();
            for reply in replies {
                let mut len = [0u8; LEN_FIELD];
                if theirs.read_exact(&mut len).is_err() {
                    break;
                }
                let n: usize = std::str::from_utf8(&len).unwrap().trim().parse().unwrap();
                let mut body = vec![0u8; n];
                theirs.read_exact(&mut body).unwrap();
                seen.push(String::from_utf8(body).unwrap());
                if !reply.is_empty() {
                    let framed = format!("{:<6}{reply}", reply.len());
                    theirs.write_all(framed.as_bytes()).unwrap();
                }
            }
            seen
        });
        (Conn::Unix(ours), server)
    }

    #[test]
    fn a_whole_job_life_against_slurm_answers() {
        let (conn, server) = fake_slurm(vec![
            "cmd=fullinit-response;rc=0;pmi-version=2;pmi-subversion=0;rank=2;size=4;\
             appnum=-1;debugged=FALSE;pmiverbose=FALSE;",
            "cmd=job-getid-response;rc=0;jobid=7.0;",
            "cmd=info-getjobattr-response;rc=0;found=TRUE;value=(vector,(0,2,2));",
            "cmd=info-getjobattr-response;rc=0;found=FALSE;",
            "cmd=kvs-put-response;rc=0;",
            "cmd=kvs-fence-response;rc=0;",
            "cmd=kvs-get-response;rc=0;found=TRUE;value=/oximpi-1-2;",
            "cmd=kvs-get-response;rc=0;found=FALSE;",
            "cmd=finalize-response;rc=0;",
        ]);
        let mut p = Pmi2::over(conn, 2, Some("7.0".into())).unwrap();
        assert_eq!(
            (p.rank(), p.size(), p.appnum(), p.kvsname()),
            (2, 4, 0, "7.0")
        );
        assert_eq!(p.node_map().unwrap(), vec![0, 0, 1, 1]);
        assert_eq!(
            p.universe_size().unwrap(),
            4,
            "no universeSize: the job size"
        );
        p.put("oximpi-shm-2", "/oximpi-1-2").unwrap();
        p.barrier().unwrap();
        assert_eq!(p.get("oximpi-shm-2").unwrap(), "/oximpi-1-2");
        assert!(matches!(p.get("nope"), Err(PmiError::KeyNotFound(_))));
        p.finalize().unwrap();
        assert!(matches!(p.barrier(), Err(PmiError::WrongState(_))));
        let seen = server.join().unwrap();
        assert_eq!(seen[0], "cmd=init pmi_version=2 pmi_subversion=0\n");
        assert_eq!(
            seen[1],
            "cmd=fullinit;pmijobid=7.0;pmirank=2;threaded=FALSE;"
        );
        assert_eq!(seen[2], "cmd=job-getid;");
        assert_eq!(seen[3], "cmd=info-getjobattr;key=PMI_process_mapping;");
        assert_eq!(seen[5], "cmd=kvs-put;key=oximpi-shm-2;value=/oximpi-1-2;");
        assert_eq!(seen[6], "cmd=kvs-fence;");
        assert_eq!(seen[7], "cmd=kvs-get;jobid=7.0;srcid=-1;key=oximpi-shm-2;");
        assert_eq!(seen[9], "cmd=finalize;");
    }

    #[test]
    fn a_refused_fullinit_is_an_error() {
        let (conn, server) =
            fake_slurm(vec!["cmd=fullinit-response;rc=3;rank=0;size=1;appnum=-1;"]);
        let e = Pmi2::over(conn, 0, None).err().unwrap();
        assert!(matches!(e, PmiError::Refused { rc: 3, .. }), "{e}");
        server.join().unwrap();
    }

    #[test]
    fn frames_wait_for_the_whole_body() {
        let mut f = Frames::default();
        f.push(b"11    cmd=a;");
        assert!(f.next().is_none());
        f.push(b"rc=0;6     cmd=b;");
        assert_eq!(f.next().unwrap().unwrap(), b"cmd=a;rc=0;".to_vec());
        assert_eq!(f.next().unwrap().unwrap(), b"cmd=b;".to_vec());
        assert!(f.next().is_none());
        let mut f = Frames::default();
        f.push(b"abcdefcmd=x;");
        assert!(f.next().unwrap().is_err());
    }
}
