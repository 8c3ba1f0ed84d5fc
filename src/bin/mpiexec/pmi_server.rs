//! The PMI-1 server: the key-value space, the barrier and the per-rank protocol state.
//! Pure logic (lines in, replies out), so the event loop owns all I/O and this is testable.
//! Replies are byte-for-byte what hydra sends, so clients written for hydra work here.

use std::collections::HashMap;

use mpi::pmi::wire::{Message, WireError};

/// Limits announced by `get_maxes` (hydra's values, so clients size buffers the same way).
const KVSNAME_MAX: usize = 256;
const KEYLEN_MAX: usize = 64;
const VALLEN_MAX: usize = 1024;

#[derive(Debug, Default, Clone)]
struct RankState {
    initialized: bool,
    finalized: bool,
    in_barrier: bool,
    /// A multi-line `mcmd=` request (spawn) being collected until `endcmd`.
    mcmd: Option<Message>,
}

/// What the event loop must act on besides sending replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `cmd=abort`: end the job with `code`, printing `message`.
    Abort { code: i32, message: Option<String> },
}

pub struct PmiServer {
    kvsname: String,
    kvs: HashMap<String, String>,
    universe_size: u32,
    appnums: Vec<i32>,
    ranks: Vec<RankState>,
    barrier_waiting: usize,
}

impl PmiServer {
    /// `appnums[r]` is rank r's MPMD section.
    pub fn new(kvsname: String, appnums: Vec<i32>, universe_size: u32) -> PmiServer {
        let n = appnums.len();
        let mut kvs = HashMap::new();
        // All ranks run on this node (node 0).
        kvs.insert(
            "PMI_process_mapping".to_string(),
            format!("(vector,(0,1,{n}))"),
        );
        PmiServer {
            kvsname,
            kvs,
            universe_size,
            appnums,
            ranks: vec![RankState::default(); n],
            barrier_waiting: 0,
        }
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
        out: &mut Vec<(u32, String)>,
    ) -> Option<Event> {
        let r = rank as usize;
        if r >= self.ranks.len() {
            return None;
        }
        // Continuation lines of an `mcmd=` request.
        if let Some(mut m) = self.ranks[r].mcmd.take() {
            let text = String::from_utf8_lossy(line);
            let text = text.trim();
            if text == "endcmd" {
                return self.handle(rank, m, out);
            }
            match text.split_once('=') {
                Some((k, v)) if !k.is_empty() => m.args.push((k.to_string(), v.to_string())),
                _ => {}
            }
            self.ranks[r].mcmd = Some(m);
            return None;
        }
        match Message::parse_bytes(line) {
            Ok(m) if m.kind == "mcmd" => {
                self.ranks[r].mcmd = Some(m);
                None
            }
            Ok(m) => self.handle(rank, m, out),
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

    fn handle(&mut self, rank: u32, m: Message, out: &mut Vec<(u32, String)>) -> Option<Event> {
        let r = rank as usize;
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
                    (Some(k), _, _) if k != self.kvsname => Err(format!("kvs_{k}_not_found")),
                    (Some(_), Some(key), Some(val)) if !key.is_empty() => {
                        self.kvs.insert(key.to_string(), val.to_string());
                        Ok(())
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
                    (Some(k), Some(key)) if k == self.kvsname => {
                        self.kvs.get(key).cloned().ok_or(key)
                    }
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
                if self.barrier_waiting == self.ranks.len() {
                    for (i, st) in self.ranks.iter_mut().enumerate() {
                        st.in_barrier = false;
                        reply(out, i as u32, Message::new("barrier_out"));
                    }
                    self.barrier_waiting = 0;
                }
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
            // Dynamic processes are not supported yet; answer so the caller fails cleanly
            // instead of waiting forever. This is where PMI spawn will go.
            "spawn" => reply(
                out,
                rank,
                Message::new("spawn_result")
                    .arg("rc", -1)
                    .arg("msg", "spawn_not_supported_by_this_mpiexec"),
            ),
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

fn reply(out: &mut Vec<(u32, String)>, rank: u32, m: Message) {
    // Encoding only fails on bad keys, and every key here is a literal.
    if let Ok(line) = m.encode() {
        out.push((rank, line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(n: usize) -> PmiServer {
        PmiServer::new("kvs_1_0".into(), vec![0; n], 8)
    }

    fn send(s: &mut PmiServer, rank: u32, line: &str) -> Vec<(u32, String)> {
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

    #[test]
    fn mcmd_spawn_is_collected_and_refused() {
        let mut s = server(1);
        assert!(send(&mut s, 0, "mcmd=spawn").is_empty());
        assert!(send(&mut s, 0, "nprocs=2").is_empty());
        assert!(send(&mut s, 0, "execname=foo").is_empty());
        let out = send(&mut s, 0, "endcmd");
        assert!(out[0].1.starts_with("cmd=spawn_result rc=-1"));
    }
}
