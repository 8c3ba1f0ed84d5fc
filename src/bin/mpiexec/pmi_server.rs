//! The PMI-1 server of one job: its barrier and per-rank protocol state. The key-value
//! spaces of all jobs live in [`KvsSpaces`] (a rank may read another job's kvs, as a spawned
//! child reads what its parent pre-put). Pure logic (lines in, replies out), so the event
//! loop owns all I/O and this is testable. Replies are byte-for-byte what hydra sends, so
//! clients written for hydra work here.

use std::collections::HashMap;

use mpi::pmi::wire::{Message, WireError};

use crate::names::NameRequest;
use crate::spawn::{Collector, SpawnRequest};

/// Limits announced by `get_maxes` (hydra's values, so clients size buffers the same way).
const KVSNAME_MAX: usize = 256;
const KEYLEN_MAX: usize = 64;
const VALLEN_MAX: usize = 1024;
/// Lines of one `mcmd=` block (a spawn command: its arguments, info keys, ...).
const MCMD_LINES_MAX: usize = 4096;

/// Every job's key-value space, by kvs name.
#[derive(Debug, Default)]
pub struct KvsSpaces {
    spaces: HashMap<String, HashMap<String, String>>,
}

impl KvsSpaces {
    /// Creates (or replaces) the space `name` with its initial contents.
    pub fn create(&mut self, name: &str, initial: impl IntoIterator<Item = (String, String)>) {
        self.spaces
            .insert(name.to_string(), initial.into_iter().collect());
    }

    pub fn get(&self, name: &str, key: &str) -> Option<&str> {
        self.spaces.get(name)?.get(key).map(String::as_str)
    }

    fn put(&mut self, name: &str, key: &str, val: &str) -> bool {
        match self.spaces.get_mut(name) {
            Some(s) => {
                s.insert(key.to_string(), val.to_string());
                true
            }
            None => false,
        }
    }
}

#[derive(Debug, Default)]
struct RankState {
    initialized: bool,
    finalized: bool,
    in_barrier: bool,
    /// Died while the job goes on (`-disable-auto-cleanup`): barriers no longer wait for it.
    dead: bool,
    /// The key/value lines of a multi-line `mcmd=` request being collected until `endcmd`.
    mcmd: Option<(String, Vec<(String, String)>)>,
    /// The blocks of a spawn request received so far.
    spawn: Collector,
}

/// What the event loop must act on besides sending replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `cmd=abort`: end the job with `code`, printing `message`.
    Abort { code: i32, message: Option<String> },
    /// A complete, well-formed spawn request; the loop answers with `spawn_result`.
    Spawn(SpawnRequest),
    /// A name-service request; the loop answers with the request's reply.
    Name(NameRequest),
}

pub struct PmiServer {
    kvsname: String,
    universe_size: u32,
    appnums: Vec<i32>,
    ranks: Vec<RankState>,
    barrier_waiting: usize,
}

impl PmiServer {
    /// `appnums[r]` is rank r's MPMD section (or spawn command).
    pub fn new(kvsname: String, appnums: Vec<i32>, universe_size: u32) -> PmiServer {
        let n = appnums.len();
        PmiServer {
            kvsname,
            universe_size,
            appnums,
            ranks: (0..n).map(|_| RankState::default()).collect(),
            barrier_waiting: 0,
        }
    }

    pub fn kvsname(&self) -> &str {
        &self.kvsname
    }

    /// The initial contents of the job's kvs: all ranks run on this node (node 0).
    pub fn initial_kvs(&self) -> Vec<(String, String)> {
        vec![(
            "PMI_process_mapping".to_string(),
            format!("(vector,(0,1,{}))", self.ranks.len()),
        )]
    }

    pub fn initialized(&self, rank: u32) -> bool {
        self.ranks.get(rank as usize).is_some_and(|r| r.initialized)
    }

    pub fn finalized(&self, rank: u32) -> bool {
        self.ranks.get(rank as usize).is_some_and(|r| r.finalized)
    }

    /// Number of ranks blocked in `barrier_in`.
    pub fn barrier_waiting(&self) -> usize {
        self.barrier_waiting
    }

    /// Handles one line from `rank`, appending `(rank, wire line)` replies to `out`.
    /// Malformed input gets an error reply, never a panic.
    pub fn handle_line(
        &mut self,
        rank: u32,
        line: &[u8],
        kvs: &mut KvsSpaces,
        out: &mut Vec<(u32, String)>,
    ) -> Option<Event> {
        let r = rank as usize;
        if r >= self.ranks.len() {
            return None;
        }
        // Continuation lines of an `mcmd=` request: one raw `key=value` per line (values
        // may hold spaces, as spawn arguments do; simple_pmi does not escape them).
        if let Some((cmd, mut lines)) = self.ranks[r].mcmd.take() {
            let text = String::from_utf8_lossy(line);
            let text = text.strip_suffix('\r').unwrap_or(&text);
            if text.trim() == "endcmd" {
                if lines.len() > MCMD_LINES_MAX {
                    reply(out, rank, spawn_failure("request_has_too_many_lines"));
                    return None;
                }
                return self.handle_mcmd(rank, &cmd, &lines, out);
            }
            if let Some((k, v)) = text.split_once('=') {
                let k = k.trim();
                // Past the bound, lines are counted (to refuse the block once, at its
                // end) but not kept: a rank cannot grow our memory without bound.
                if lines.len() >= MCMD_LINES_MAX {
                    if lines.len() == MCMD_LINES_MAX {
                        lines.push((String::new(), String::new()));
                    }
                } else if !k.is_empty() {
                    lines.push((k.to_string(), v.to_string()));
                }
            }
            self.ranks[r].mcmd = Some((cmd, lines));
            return None;
        }
        match Message::parse_bytes(line) {
            Ok(m) if m.kind == "mcmd" => {
                self.ranks[r].mcmd = Some((m.cmd, m.args));
                None
            }
            Ok(m) => self.handle(rank, m, kvs, out),
            Err(WireError::Empty) => None,
            Err(e) => {
                reply(
                    out,
                    rank,
                    Message::new("error")
                        .arg("rc", -1)
                        .arg("msg", e.to_string().replace(' ', "_")),
                );
                None
            }
        }
    }

    /// A complete `mcmd=` block. Only spawn exists; its blocks are collected until the
    /// last one, which yields the request (or the error reply).
    fn handle_mcmd(
        &mut self,
        rank: u32,
        cmd: &str,
        lines: &[(String, String)],
        out: &mut Vec<(u32, String)>,
    ) -> Option<Event> {
        if cmd != "spawn" {
            reply(
                out,
                rank,
                Message::new(&format!("{cmd}_result"))
                    .arg("rc", -1)
                    .arg("msg", "unknown_command"),
            );
            return None;
        }
        match self.ranks[rank as usize].spawn.add(lines)? {
            Ok(req) => Some(Event::Spawn(req)),
            Err(e) => {
                reply(out, rank, spawn_failure(&e));
                None
            }
        }
    }

    fn handle(
        &mut self,
        rank: u32,
        m: Message,
        kvs: &mut KvsSpaces,
        out: &mut Vec<(u32, String)>,
    ) -> Option<Event> {
        let r = rank as usize;
        if let Some(req) = NameRequest::from_message(&m) {
            match req {
                Ok(req) => return Some(Event::Name(req)),
                Err(failure) => {
                    reply(out, rank, failure);
                    return None;
                }
            }
        }
        match m.cmd.as_str() {
            "init" => {
                self.ranks[r].initialized = true;
                let ok = m.get_int("pmi_version") == Some(1);
                reply(
                    out,
                    rank,
                    Message::new("response_to_init")
                        .arg("pmi_version", 1)
                        .arg("pmi_subversion", 1)
                        .arg("rc", if ok { 0 } else { -1 }),
                );
            }
            "get_maxes" => reply(
                out,
                rank,
                Message::new("maxes")
                    .arg("kvsname_max", KVSNAME_MAX)
                    .arg("keylen_max", KEYLEN_MAX)
                    .arg("vallen_max", VALLEN_MAX),
            ),
            "get_appnum" => reply(
                out,
                rank,
                Message::new("appnum").arg("appnum", self.appnums[r]),
            ),
            "get_my_kvsname" => reply(
                out,
                rank,
                Message::new("my_kvsname").arg("kvsname", &self.kvsname),
            ),
            "get_universe_size" => reply(
                out,
                rank,
                Message::new("universe_size").arg("size", self.universe_size),
            ),
            "put" => {
                let res = match (m.get("kvsname"), m.get("key"), m.get("value")) {
                    // A rank writes only its own job's space.
                    (Some(k), _, _) if k != self.kvsname => Err(format!("kvs_{k}_not_found")),
                    (Some(k), Some(key), Some(val)) if !key.is_empty() => {
                        if kvs.put(k, key, val) {
                            Ok(())
                        } else {
                            Err(format!("kvs_{k}_not_found"))
                        }
                    }
                    _ => Err("put_needs_kvsname_key_and_value".to_string()),
                };
                let msg = match res {
                    Ok(()) => Message::new("put_result")
                        .arg("rc", 0)
                        .arg("msg", "success"),
                    Err(e) => Message::new("put_result").arg("rc", -1).arg("msg", e),
                };
                reply(out, rank, msg);
            }
            "get" => {
                let found = match (m.get("kvsname"), m.get("key")) {
                    // Any job's space may be read (a spawned job reads its parent's).
                    (Some(k), Some(key)) => kvs.get(k, key).map(String::from).ok_or(key),
                    (_, key) => Err(key.unwrap_or("")),
                };
                let msg = match found {
                    Ok(v) => Message::new("get_result")
                        .arg("rc", 0)
                        .arg("msg", "success")
                        .arg("value", v),
                    Err(key) => Message::new("get_result")
                        .arg("rc", -1)
                        .arg("msg", format!("key_{key}_not_found"))
                        .arg("value", "unknown"),
                };
                reply(out, rank, msg);
            }
            "barrier_in" => {
                if !self.ranks[r].in_barrier {
                    self.ranks[r].in_barrier = true;
                    self.barrier_waiting += 1;
                }
                self.release_barrier(out);
            }
            "finalize" => {
                self.ranks[r].finalized = true;
                reply(out, rank, Message::new("finalize_ack"));
            }
            "abort" => {
                let code = m
                    .get_int("exitcode")
                    .and_then(|c| i32::try_from(c).ok())
                    .unwrap_or(1);
                let message = m
                    .get("message")
                    .or(m.get("msg"))
                    .filter(|s| !s.is_empty())
                    .map(String::from);
                return Some(Event::Abort { code, message });
            }
            other => reply(
                out,
                rank,
                Message::new(&format!("{other}_result"))
                    .arg("rc", -1)
                    .arg("msg", "unknown_command"),
            ),
        }
        None
    }
}

/// The reply to a spawn request that starts nothing.
pub fn spawn_failure(why: &str) -> Message {
    Message::new("spawn_result").arg("rc", -1).arg("msg", why)
}

impl PmiServer {
    /// Releases the barrier once every rank that is alive has entered it.
    fn release_barrier(&mut self, out: &mut Vec<(u32, String)>) {
        let dead = self
            .ranks
            .iter()
            .filter(|r| r.dead && !r.in_barrier)
            .count();
        if self.barrier_waiting > 0 && self.barrier_waiting + dead == self.ranks.len() {
            for (i, st) in self.ranks.iter_mut().enumerate() {
                if st.in_barrier {
                    st.in_barrier = false;
                    reply(out, i as u32, Message::new("barrier_out"));
                }
            }
            self.barrier_waiting = 0;
        }
    }

    /// Rank `rank` died and the job goes on without it (`-disable-auto-cleanup`): later
    /// barriers do not wait for it, and one already waiting only for it ends (replies in
    /// `out`).
    pub fn mark_dead(&mut self, rank: u32, out: &mut Vec<(u32, String)>) {
        let Some(st) = self.ranks.get_mut(rank as usize) else {
            return;
        };
        st.dead = true;
        if st.in_barrier {
            st.in_barrier = false;
            self.barrier_waiting -= 1;
        }
        self.release_barrier(out);
    }

    /// Stores `key=val` in the job's space (the launcher's own keys: PMI_dead_processes).
    pub fn publish(&self, kvs: &mut KvsSpaces, key: &str, val: &str) {
        kvs.put(&self.kvsname, key, val);
    }
}

fn reply(out: &mut Vec<(u32, String)>, rank: u32, m: Message) {
    // Encoding only fails on bad keys, and every key here is a literal.
    if let Ok(line) = m.encode() {
        out.push((rank, line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job's server together with the kvs spaces (its own created, plus "other").
    struct S {
        server: PmiServer,
        kvs: KvsSpaces,
    }

    impl S {
        fn initialized(&self, r: u32) -> bool {
            self.server.initialized(r)
        }
        fn finalized(&self, r: u32) -> bool {
            self.server.finalized(r)
        }
        fn barrier_waiting(&self) -> usize {
            self.server.barrier_waiting()
        }
        fn handle_line(&mut self, r: u32, l: &[u8], out: &mut Vec<(u32, String)>) -> Option<Event> {
            self.server.handle_line(r, l, &mut self.kvs, out)
        }
    }

    fn server(n: usize) -> S {
        let server = PmiServer::new("kvs_1_0".into(), vec![0; n], 8);
        let mut kvs = KvsSpaces::default();
        kvs.create(server.kvsname(), server.initial_kvs());
        kvs.create("kvs_1_1", [("PARENT".to_string(), "p:1".to_string())]);
        S { server, kvs }
    }

    fn send(s: &mut S, rank: u32, line: &str) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        assert_eq!(s.handle_line(rank, line.as_bytes(), &mut out), None);
        out
    }

    #[test]
    fn handshake_replies_like_hydra() {
        let mut s = server(2);
        assert_eq!(
            send(&mut s, 0, "cmd=init pmi_version=1 pmi_subversion=1"),
            [(
                0,
                "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n".to_string()
            )]
        );
        assert!(s.initialized(0) && !s.initialized(1));
        assert_eq!(
            send(&mut s, 0, "cmd=get_maxes")[0].1,
            "cmd=maxes kvsname_max=256 keylen_max=64 vallen_max=1024\n"
        );
        assert_eq!(
            send(&mut s, 0, "cmd=get_appnum")[0].1,
            "cmd=appnum appnum=0\n"
        );
        assert_eq!(
            send(&mut s, 0, "cmd=get_my_kvsname")[0].1,
            "cmd=my_kvsname kvsname=kvs_1_0\n"
        );
        assert_eq!(
            send(&mut s, 0, "cmd=get_universe_size")[0].1,
            "cmd=universe_size size=8\n"
        );
        assert_eq!(send(&mut s, 0, "cmd=finalize")[0].1, "cmd=finalize_ack\n");
        assert!(s.finalized(0));
    }

    #[test]
    fn put_get_and_mapping() {
        let mut s = server(2);
        assert_eq!(
            send(&mut s, 0, "cmd=put kvsname=kvs_1_0 key=a value=x=y")[0].1,
            "cmd=put_result rc=0 msg=success\n"
        );
        assert_eq!(
            send(&mut s, 1, "cmd=get kvsname=kvs_1_0 key=a")[0].1,
            "cmd=get_result rc=0 msg=success value=x=y\n"
        );
        assert_eq!(
            send(&mut s, 1, "cmd=get kvsname=kvs_1_0 key=nope")[0].1,
            "cmd=get_result rc=-1 msg=key_nope_not_found value=unknown\n"
        );
        assert_eq!(
            send(&mut s, 1, "cmd=get kvsname=kvs_1_0 key=PMI_process_mapping")[0].1,
            "cmd=get_result rc=0 msg=success value=(vector,(0,1,2))\n"
        );
        assert_eq!(
            send(&mut s, 1, "cmd=get kvsname=kvs_1_1 key=PARENT")[0].1,
            "cmd=get_result rc=0 msg=success value=p:1\n",
            "another job's kvs is readable"
        );
        assert!(
            send(&mut s, 0, "cmd=put kvsname=kvs_1_1 key=a value=1")[0]
                .1
                .contains("rc=-1"),
            "but not writable"
        );
        assert!(send(&mut s, 0, "cmd=put kvsname=other key=a value=1")[0]
            .1
            .contains("rc=-1"));
        assert!(send(&mut s, 0, "cmd=put kvsname=kvs_1_0 key=a")[0]
            .1
            .contains("rc=-1"));
    }

    #[test]
    fn barrier_releases_everyone_at_once() {
        let mut s = server(3);
        assert!(send(&mut s, 0, "cmd=barrier_in").is_empty());
        assert!(
            send(&mut s, 0, "cmd=barrier_in").is_empty(),
            "a repeated barrier_in counts once"
        );
        assert!(send(&mut s, 2, "cmd=barrier_in").is_empty());
        assert_eq!(s.barrier_waiting(), 2);
        let out = send(&mut s, 1, "cmd=barrier_in");
        let ranks: Vec<u32> = out.iter().map(|(r, _)| *r).collect();
        assert_eq!(ranks, [0, 1, 2]);
        assert!(out.iter().all(|(_, l)| l == "cmd=barrier_out\n"));
        assert_eq!(s.barrier_waiting(), 0);
    }

    #[test]
    fn abort_event() {
        let mut s = server(1);
        let mut out = Vec::new();
        let ev = s.handle_line(0, b"cmd=abort exitcode=7 message=it\\ broke", &mut out);
        assert_eq!(
            ev,
            Some(Event::Abort {
                code: 7,
                message: Some("it broke".into())
            })
        );
        let ev = s.handle_line(0, b"cmd=abort exitcode=3", &mut out);
        assert_eq!(
            ev,
            Some(Event::Abort {
                code: 3,
                message: None
            })
        );
    }

    #[test]
    fn bad_input_gets_error_replies() {
        let mut s = server(1);
        assert!(send(&mut s, 0, "garbage")[0]
            .1
            .starts_with("cmd=error rc=-1"));
        assert!(send(&mut s, 0, "\u{fffd}=")[0]
            .1
            .starts_with("cmd=error rc=-1"));
        assert_eq!(
            send(&mut s, 0, "cmd=frobnicate")[0].1,
            "cmd=frobnicate_result rc=-1 msg=unknown_command\n"
        );
        assert!(send(&mut s, 0, "").is_empty());
        let mut out = Vec::new();
        assert_eq!(s.handle_line(0, b"\xff\xfe", &mut out), None);
        assert_eq!(
            s.handle_line(5, b"cmd=init", &mut out),
            None,
            "unknown rank is ignored"
        );
    }

    fn feed(s: &mut S, rank: u32, text: &str) -> (Vec<(u32, String)>, Option<Event>) {
        let mut out = Vec::new();
        let mut ev = None;
        for line in text.split('\n').filter(|l| !l.is_empty()) {
            assert!(ev.is_none(), "event before the end of the input");
            ev = s.handle_line(rank, line.as_bytes(), &mut out);
        }
        (out, ev)
    }

    #[test]
    fn spawn_blocks_become_one_request() {
        let mut s = server(1);
        let block = |i: u32| {
            format!(
                "mcmd=spawn\nnprocs={i}\nexecname=prog{i}\ntotspawns=2\nspawnssofar={i}\n\
                 arg1=a b\nargcnt=1\npreput_num=1\npreput_key_0=k\npreput_val_0=v=1\n\
                 info_num=1\ninfo_key_0=wdir\ninfo_val_0=/tmp\nendcmd\n"
            )
        };
        let (out, ev) = feed(&mut s, 0, &block(1));
        assert!(out.is_empty() && ev.is_none());
        let (out, ev) = feed(&mut s, 0, &block(2));
        assert!(out.is_empty());
        let Some(Event::Spawn(req)) = ev else {
            panic!("{ev:?}")
        };
        assert_eq!(req.cmds.len(), 2);
        assert_eq!(req.cmds[1].exe, "prog2");
        assert_eq!(req.cmds[1].maxprocs, 2);
        assert_eq!(req.cmds[0].args, ["a b"]);
        assert_eq!(req.cmds[0].info("wdir"), Some("/tmp"));
        assert_eq!(req.preput, [("k".to_string(), "v=1".to_string())]);
    }

    #[test]
    fn malformed_spawn_is_refused_once() {
        let mut s = server(1);
        let (out, ev) = feed(
            &mut s,
            0,
            "mcmd=spawn\nnprocs=2\ntotspawns=1\nspawnssofar=1\nendcmd\n",
        );
        assert_eq!(ev, None);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].1.starts_with("cmd=spawn_result rc=-1 msg="),
            "{}",
            out[0].1
        );
        // The rank can go on talking normally.
        assert_eq!(
            send(&mut s, 0, "cmd=get_appnum")[0].1,
            "cmd=appnum appnum=0\n"
        );
    }

    #[test]
    fn name_requests_are_events() {
        let mut s = server(1);
        let mut out = Vec::new();
        let ev = s.handle_line(0, b"cmd=publish_name service=a port=x:1", &mut out);
        assert_eq!(
            ev,
            Some(Event::Name(NameRequest::Publish {
                service: "a".into(),
                port: "x:1".into()
            }))
        );
        let ev = s.handle_line(0, b"cmd=lookup_name", &mut out);
        assert_eq!(ev, None);
        assert!(out[0].1.starts_with("cmd=lookup_result rc=1"));
    }
}
