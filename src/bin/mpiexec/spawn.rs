//! PMI-1 spawn requests: parsing the multi-line `mcmd=spawn` blocks MPICH's simple PMI
//! client sends for `PMI_Spawn_multiple`, the MPI 4.1 `soft` spec, and the checks done
//! before anything starts (executable lookup as execvp does it, `wdir`, `host`).
//!
//! Everything here is pure (or only reads the file system), so the event loop stays small
//! and the rules are unit-tested.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// One command of a spawn request (one `mcmd=spawn` block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnCmd {
    /// `nprocs=`: the most processes to start (`maxprocs` of MPI_Comm_spawn).
    pub maxprocs: u32,
    pub exe: String,
    pub args: Vec<String>,
    pub info: Vec<(String, String)>,
}

impl SpawnCmd {
    /// The value of info key `key` (the last one wins, as MPI_Info_set would leave it).
    pub fn info(&self, key: &str) -> Option<&str> {
        self.info
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A complete request: every command, and the key/values to put in the new job's kvs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnRequest {
    pub cmds: Vec<SpawnCmd>,
    pub preput: Vec<(String, String)>,
}

/// One parsed block with its position in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub cmd: SpawnCmd,
    /// `totspawns=`: how many blocks the request has.
    pub total: u32,
    /// `spawnssofar=`: this block's 1-based position.
    pub sofar: u32,
    pub preput: Vec<(String, String)>,
}

/// Collects the blocks of one rank's request until the last one arrives. An error in any
/// block is remembered and reported once, when the request is complete: the client reads
/// exactly one `spawn_result` after sending all its blocks.
#[derive(Debug, Default)]
pub struct Collector {
    cmds: Vec<SpawnCmd>,
    preput: Vec<(String, String)>,
    error: Option<String>,
}

impl Collector {
    /// Adds the key/value lines of one block. Returns `None` while more blocks are due,
    /// then the whole request (or the first error) — after which the collector is empty.
    pub fn add(&mut self, lines: &[(String, String)]) -> Option<Result<SpawnRequest, String>> {
        let last = match parse_block(lines) {
            Ok(b) => {
                let last = b.sofar >= b.total;
                if self.error.is_none() {
                    if b.sofar as usize != self.cmds.len() + 1 {
                        self.error = Some(format!(
                            "spawn block {} of {} arrived after {} blocks",
                            b.sofar,
                            b.total,
                            self.cmds.len()
                        ));
                    } else {
                        self.cmds.push(b.cmd);
                        // Every block repeats the preput list; the last copy is the one.
                        self.preput = b.preput;
                    }
                }
                last
            }
            Err((e, last)) => {
                self.error.get_or_insert(e);
                last
            }
        };
        if !last {
            return None;
        }
        let done = std::mem::take(self);
        Some(match done.error {
            Some(e) => Err(e),
            None => Ok(SpawnRequest {
                cmds: done.cmds,
                preput: done.preput,
            }),
        })
    }
}

/// Parses one block. On error also says whether the block claimed to be the last one
/// (unreadable position counts as last, so the client is never left without an answer).
pub fn parse_block(lines: &[(String, String)]) -> Result<Block, (String, bool)> {
    let get = |k: &str| {
        lines
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let num = |k: &str| get(k).and_then(|v| v.trim().parse::<u32>().ok());
    let (total, sofar) = match (num("totspawns"), num("spawnssofar")) {
        (Some(t), Some(s)) if t >= 1 && s >= 1 && s <= t => (t, s),
        _ => {
            return Err((
                "spawn block without valid totspawns/spawnssofar".into(),
                true,
            ))
        }
    };
    let fail = |e: String| Err((e, sofar >= total));
    let Some(maxprocs) = num("nprocs") else {
        return fail("spawn block without a valid nprocs".into());
    };
    let exe = match get("execname") {
        Some(e) if !e.is_empty() => e.to_string(),
        _ => return fail("spawn block without execname".into()),
    };
    let args = match indexed(lines, "arg", "", num("argcnt")) {
        Ok(a) => a.into_iter().map(|(_, v)| v).collect(),
        Err(e) => return fail(e),
    };
    let preput = match pairs(lines, "preput", num("preput_num")) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let info = match pairs(lines, "info", num("info_num")) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    Ok(Block {
        cmd: SpawnCmd {
            maxprocs,
            exe,
            args,
            info,
        },
        total,
        sofar,
        preput,
    })
}

/// The `{prefix}{N}{suffix}` lines ordered by N (MPICH counts args from 1 and preput/info
/// entries from 0; we accept either), checked against the announced count.
fn indexed(
    lines: &[(String, String)],
    prefix: &str,
    suffix: &str,
    count: Option<u32>,
) -> Result<Vec<(u32, String)>, String> {
    let mut found = BTreeMap::new();
    for (k, v) in lines {
        let Some(n) = k
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(suffix))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        found.insert(n, v.clone());
    }
    let want = count.unwrap_or(0) as usize;
    if found.len() != want {
        return Err(format!(
            "spawn block announces {want} {prefix}{suffix} entries but has {}",
            found.len()
        ));
    }
    Ok(found.into_iter().collect())
}

/// `{what}_key_N` / `{what}_val_N` pairs (preput, info).
fn pairs(
    lines: &[(String, String)],
    what: &str,
    count: Option<u32>,
) -> Result<Vec<(String, String)>, String> {
    let keys = indexed(lines, &format!("{what}_key_"), "", count)?;
    let vals = indexed(lines, &format!("{what}_val_"), "", count)?;
    keys.into_iter()
        .zip(vals)
        .map(|((kn, k), (vn, v))| {
            if kn != vn {
                Err(format!("{what}_key_{kn} has no matching {what}_val"))
            } else {
                Ok((k, v))
            }
        })
        .collect()
}

/// The process counts a `soft` info value allows (MPI 4.1 §11.3.4): a comma list of
/// `a`, `a:b` (a..=b) and `a:b:c` (a, a+c, ... not past b; c may be negative). Sorted,
/// without duplicates.
pub fn parse_soft(spec: &str) -> Result<Vec<u32>, String> {
    let bad = || format!("bad soft spec {spec:?}");
    let mut out = Vec::new();
    for item in spec.split(',') {
        let nums: Vec<i64> = item
            .split(':')
            .map(|n| n.trim().parse::<i64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        let (a, b, c) = match nums[..] {
            [a] => (a, a, 1),
            [a, b] => (a, b, 1),
            [a, b, c] => (a, b, c),
            _ => return Err(bad()),
        };
        if a < 0 || b < 0 || c == 0 || (c > 0 && a > b) || (c < 0 && a < b) {
            return Err(bad());
        }
        let mut v = a;
        while (c > 0 && v <= b) || (c < 0 && v >= b) {
            // A count above the largest we accept is never chosen; stop early.
            if v <= u32::MAX as i64 {
                out.push(v as u32);
            }
            if out.len() > 1 << 20 {
                return Err(bad());
            }
            v += c;
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// How many processes each command gets: its maxprocs, or with `soft` the largest allowed
/// count not above maxprocs. The universe size is not a limit: hydra starts every process
/// asked for wherever it is (it ignores `soft`, and oversubscribes), and a blocked rank here
/// sleeps, so oversubscribing costs little; MPI_UNIVERSE_SIZE stays advice for programs
/// that size their pools by it. Honouring `soft` only to pick among its values keeps the
/// count one the program declared acceptable.
pub fn plan_counts(cmds: &[SpawnCmd]) -> Result<Vec<u32>, String> {
    let mut counts = Vec::with_capacity(cmds.len());
    for cmd in cmds {
        let n = match cmd.info("soft") {
            None => cmd.maxprocs,
            Some(spec) => {
                let allowed = parse_soft(spec)?;
                *allowed
                    .iter()
                    .rev()
                    .find(|&&n| n <= cmd.maxprocs)
                    .ok_or_else(|| {
                        format!(
                            "no count of soft={spec} is at most maxprocs {}",
                            cmd.maxprocs
                        )
                    })?
            }
        };
        counts.push(n);
    }
    if counts.iter().all(|&n| n == 0) {
        return Err("the spawn request starts no process".into());
    }
    Ok(counts)
}

/// The default bound on the processes of one spawn request. Hydra has none: it starts
/// whatever is asked, so one request for 100,000 processes forks until the host gives out
/// (issue 15). A request is a program's decision, so the bound is generous: far above any
/// universe this launcher serves on one host, far below what exhausts the process table.
pub const DEFAULT_MAX_SPAWN: u32 = 1024;

/// The bound on the processes of one spawn request: `OXIMPI_MAX_SPAWN` if set (a positive
/// integer), else [`DEFAULT_MAX_SPAWN`].
pub fn max_spawn(env: Option<&str>) -> Result<u32, String> {
    match env.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(DEFAULT_MAX_SPAWN),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "OXIMPI_MAX_SPAWN={v:?} is not a positive number of processes"
            )),
        },
    }
}

/// Finds the file execvp would run for `exe` in a child whose working directory is `cwd`:
/// a name with a '/' is taken as is (relative to `cwd`); otherwise the directories of the
/// `path` info key come first, then `env_path` (the children's PATH).
pub fn resolve_exe(
    exe: &str,
    cwd: &Path,
    info_path: Option<&str>,
    env_path: Option<&str>,
) -> Result<PathBuf, String> {
    if exe.is_empty() {
        return Err("empty executable name".into());
    }
    if exe.contains('/') {
        let p = cwd.join(exe);
        return match executable(&p) {
            Ok(()) => Ok(p),
            Err(why) => Err(format!("cannot run {exe}: {why}")),
        };
    }
    let dirs = info_path
        .into_iter()
        .chain(env_path)
        .flat_map(|p| p.split(':'))
        // An empty PATH entry means the current directory, as for execvp.
        .map(|d| if d.is_empty() { "." } else { d });
    let mut denied = None;
    for dir in dirs {
        let p = cwd.join(dir).join(exe);
        match executable(&p) {
            Ok(()) => return Ok(p),
            Err(Why::NotExecutable) => {
                denied.get_or_insert(p);
            }
            Err(Why::Missing) => {}
        }
    }
    Err(match denied {
        Some(p) => format!("cannot run {exe}: {} is not executable", p.display()),
        None => format!("executable {exe} not found"),
    })
}

enum Why {
    Missing,
    NotExecutable,
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Why::Missing => "no such file",
            Why::NotExecutable => "not an executable file",
        })
    }
}

fn executable(p: &Path) -> Result<(), Why> {
    let meta = std::fs::metadata(p).map_err(|_| Why::Missing)?;
    if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
        Ok(())
    } else {
        Err(Why::NotExecutable)
    }
}

/// Whether `host` (a `host` info value) names this machine: its hostname, "localhost", or
/// any address that resolves to one of its own (binding to it succeeds only if it is ours).
/// This host's name (the UTS namespace's, as `hostname` prints it).
pub fn own_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

pub fn host_is_local(host: &str) -> bool {
    let host = host.trim();
    if host.is_empty() {
        return false;
    }
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let own = own_hostname();
    let own = own.as_str();
    if !own.is_empty()
        && (host.eq_ignore_ascii_case(own)
            || host
                .split('.')
                .next()
                .is_some_and(|h| h.eq_ignore_ascii_case(own)))
    {
        return true;
    }
    use std::net::{ToSocketAddrs, UdpSocket};
    let Ok(addrs) = (host, 0u16).to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| UdpSocket::bind((a.ip(), 0)).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spawn_bound_is_configurable_and_checked() {
        assert_eq!(max_spawn(None), Ok(DEFAULT_MAX_SPAWN));
        assert_eq!(max_spawn(Some("")), Ok(DEFAULT_MAX_SPAWN));
        assert_eq!(max_spawn(Some(" 8 ")), Ok(8));
        for bad in ["0", "-1", "many", "99999999999"] {
            assert!(max_spawn(Some(bad))
                .unwrap_err()
                .contains("OXIMPI_MAX_SPAWN"));
        }
    }

    fn kv(lines: &str) -> Vec<(String, String)> {
        lines
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A block exactly as MPICH 4.0's simple_pmi writes it.
    const MPICH_BLOCK: &str = "nprocs=3\nexecname=./child\ntotspawns=1\nspawnssofar=1\n\
        arg1=-x\narg2=a b=c\nargcnt=2\npreput_num=1\npreput_key_0=PARENT_ROOT_PORT_NAME\n\
        preput_val_0=oximpi-port:@oximpi-1234-abcd:7:0123abcd\ninfo_num=2\ninfo_key_0=wdir\n\
        info_val_0=/tmp\ninfo_key_1=soft\ninfo_val_1=1:3\n";

    #[test]
    fn parses_an_mpich_block() {
        let b = parse_block(&kv(MPICH_BLOCK)).unwrap();
        assert_eq!((b.total, b.sofar), (1, 1));
        assert_eq!(b.cmd.maxprocs, 3);
        assert_eq!(b.cmd.exe, "./child");
        assert_eq!(b.cmd.args, ["-x", "a b=c"]);
        assert_eq!(
            b.preput,
            [(
                "PARENT_ROOT_PORT_NAME".to_string(),
                "oximpi-port:@oximpi-1234-abcd:7:0123abcd".to_string()
            )]
        );
        assert_eq!(b.cmd.info("wdir"), Some("/tmp"));
        assert_eq!(b.cmd.info("soft"), Some("1:3"));
        assert_eq!(b.cmd.info("host"), None);
    }

    #[test]
    fn args_are_ordered_by_index_not_arrival() {
        let b = parse_block(&kv(
            "nprocs=1\nexecname=x\ntotspawns=1\nspawnssofar=1\narg2=b\narg10=c\narg1=a\nargcnt=3\n",
        ))
        .unwrap();
        assert_eq!(b.cmd.args, ["a", "b", "c"]);
        assert!(b.preput.is_empty() && b.cmd.info.is_empty());
    }

    #[test]
    fn bad_blocks() {
        for (text, last) in [
            ("nprocs=1\nexecname=x\n", true),
            ("nprocs=1\nexecname=x\ntotspawns=2\nspawnssofar=3\n", true),
            ("execname=x\ntotspawns=2\nspawnssofar=1\n", false),
            ("nprocs=1\ntotspawns=1\nspawnssofar=1\n", true),
            (
                "nprocs=1\nexecname=x\ntotspawns=1\nspawnssofar=1\nargcnt=2\narg1=a\n",
                true,
            ),
            (
                "nprocs=1\nexecname=x\ntotspawns=1\nspawnssofar=1\ninfo_num=1\ninfo_key_0=a\n",
                true,
            ),
            (
                "nprocs=1\nexecname=x\ntotspawns=1\nspawnssofar=1\ninfo_num=1\ninfo_key_0=a\ninfo_val_1=b\n",
                true,
            ),
        ] {
            match parse_block(&kv(text)) {
                Err((_, l)) => assert_eq!(l, last, "{text:?}"),
                Ok(b) => panic!("{text:?} parsed as {b:?}"),
            }
        }
    }

    #[test]
    fn collector_waits_for_the_last_block() {
        let mut c = Collector::default();
        let block = |i: u32, exe: &str| {
            kv(&format!(
                "nprocs={i}\nexecname={exe}\ntotspawns=2\nspawnssofar={i}\npreput_num=1\npreput_key_0=k\npreput_val_0=v\n"
            ))
        };
        assert!(c.add(&block(1, "a")).is_none());
        let r = c.add(&block(2, "b")).unwrap().unwrap();
        assert_eq!(r.cmds.len(), 2);
        assert_eq!((r.cmds[0].exe.as_str(), r.cmds[1].maxprocs), ("a", 2));
        assert_eq!(r.preput, [("k".to_string(), "v".to_string())]);
        // An error in block 1 is reported only after block 2, and the collector is reset.
        assert!(c
            .add(&kv("nprocs=x\ntotspawns=2\nspawnssofar=1\n"))
            .is_none());
        assert!(c.add(&block(2, "b")).unwrap().is_err());
        assert!(c
            .add(&kv("nprocs=1\nexecname=x\ntotspawns=1\nspawnssofar=1\n"))
            .unwrap()
            .is_ok());
        // A block out of order.
        assert!(c.add(&block(2, "b")).unwrap().is_err());
    }

    #[test]
    fn soft_specs() {
        assert_eq!(parse_soft("1:4").unwrap(), [1, 2, 3, 4]);
        assert_eq!(parse_soft("2,4,8").unwrap(), [2, 4, 8]);
        assert_eq!(parse_soft("1:9:2").unwrap(), [1, 3, 5, 7, 9]);
        assert_eq!(parse_soft("8:2:-3").unwrap(), [2, 5, 8]);
        assert_eq!(parse_soft("4, 1:2,4").unwrap(), [1, 2, 4]);
        assert_eq!(parse_soft("0:1").unwrap(), [0, 1]);
        for bad in [
            "",
            "a",
            "1:",
            "4:1",
            "1:4:0",
            "1:4:-1",
            "-1",
            "1:2:3:4",
            "0:99999999999",
        ] {
            assert!(parse_soft(bad).is_err(), "{bad:?}");
        }
    }

    fn cmd(maxprocs: u32, soft: Option<&str>) -> SpawnCmd {
        SpawnCmd {
            maxprocs,
            exe: "x".into(),
            args: vec![],
            info: soft
                .map(|s| vec![("soft".to_string(), s.to_string())])
                .unwrap_or_default(),
        }
    }

    #[test]
    fn counts_ignore_the_universe_size() {
        assert_eq!(plan_counts(&[cmd(4, None)]).unwrap(), [4]);
        // soft picks the largest allowed count up to maxprocs, however full the universe.
        assert_eq!(plan_counts(&[cmd(1, Some("1:1"))]).unwrap(), [1]);
        assert_eq!(plan_counts(&[cmd(4, Some("1:4"))]).unwrap(), [4]);
        assert_eq!(plan_counts(&[cmd(7, Some("2,4,8"))]).unwrap(), [4]);
        assert_eq!(plan_counts(&[cmd(3, Some("1:9:2"))]).unwrap(), [3]);
        assert_eq!(
            plan_counts(&[cmd(2, None), cmd(4, Some("1:4"))]).unwrap(),
            [2, 4]
        );
        assert!(plan_counts(&[cmd(1, Some("2,4"))]).is_err());
        assert!(
            plan_counts(&[cmd(4, Some("0"))]).is_err(),
            "nothing to start"
        );
        assert!(plan_counts(&[cmd(4, Some("x"))]).is_err());
    }

    #[test]
    fn executable_lookup_like_execvp() {
        let dir = std::env::temp_dir().join(format!("oximpi-spawn-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        let prog = dir.join("bin").join("prog");
        std::fs::write(&prog, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.join("bin").join("data");
        std::fs::write(&data, "x").unwrap();
        let root = Path::new("/");
        // Found through the path info key, relative to the working directory.
        assert_eq!(
            resolve_exe("prog", &dir, Some("nope:bin"), None).unwrap(),
            dir.join("bin/prog")
        );
        assert_eq!(
            resolve_exe("prog", root, None, Some(dir.join("bin").to_str().unwrap())).unwrap(),
            prog
        );
        assert_eq!(
            resolve_exe("./bin/prog", &dir, None, None).unwrap(),
            dir.join("./bin/prog")
        );
        assert!(resolve_exe("prog", root, None, Some("/nonexistent"))
            .unwrap_err()
            .contains("not found"));
        assert!(resolve_exe("data", &dir, Some("bin"), None)
            .unwrap_err()
            .contains("not executable"));
        assert!(
            resolve_exe("bin", &dir, Some("."), None).is_err(),
            "a directory is not a program"
        );
        assert!(resolve_exe("sh", root, None, Some("/usr/bin:/bin")).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn local_hosts() {
        assert!(host_is_local("localhost"));
        assert!(host_is_local("127.0.0.1"));
        let own = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert!(host_is_local(own.trim()));
        assert!(!host_is_local("192.0.2.77"), "TEST-NET address is not ours");
        assert!(!host_is_local("no-such-host.invalid"));
        assert!(!host_is_local(""));
    }
}
