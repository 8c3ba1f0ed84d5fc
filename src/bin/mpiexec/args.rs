//! Command line: `mpiexec [global options] [local options] prog args [: [local options] prog args]...`
//! Global options may appear in any section's option list (as hydra accepts them).

use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
Usage: mpiexec [global options] [local options] program [args] [: [local options] program [args]]...

Global options:
  -genv NAME VALUE     set NAME=VALUE for every rank
  -genvall             pass mpiexec's whole environment to the ranks (default)
  -genvnone            pass none of mpiexec's environment
  -l, -prepend-rank    prefix each output line with [rank]
  --timeout SECS       kill the job after SECS seconds, exit code 124 (also MPIEXEC_TIMEOUT)
  -usize N             universe size reported to the ranks (also MPIEXEC_UNIVERSE_SIZE;
                       default: number of cores, at least the number of ranks)
  -gwdir DIR           working directory of every section without its own -wdir
  -nameserver ADDR     share MPI_Publish_name names with other mpiexec runs through the
                       unix socket ADDR (@name: abstract namespace; also OXIMPI_NAMESERVER)
  -h, --help           this text
  --version            print the version

Local options (per section, between ':'):
  -n, -np N            number of ranks (default 1)
  -env NAME VALUE      set NAME=VALUE for this section's ranks
  -wdir DIR            working directory of this section's ranks

Hosts (one proxy per host, started through the launcher; see docs/hosts.md):
  -hosts H1,H2[:N]     run on these hosts, N slots each (default 1); ranks fill each
                       host's slots in order, then wrap around (hydra's placement)
  -f, -hostfile FILE   the same from a file: one `host[:N]` per line, # comments
  --host H1,H2[:N]     Open MPI's spelling: more ranks than slots needs --oversubscribe
  --oversubscribe      allow more ranks than the --host slots
  -ppn N               N ranks per host at a time (instead of the slots)
  -launcher ssh|rsh|fork   how proxies start on other hosts (default ssh; fork: all here)
  -launcher-exec CMD   the launcher command (split into words; `CMD host proxy...` runs)
  -iface NAME          network interface for MPI and proxy traffic (OXIMPI_TCP_IFACE)
  -genvlist A,B        pass only these variables of mpiexec's environment
  -bind-to none|core   pin each rank to one core of its host (default none)
  -outfile-pattern P   write each rank's stdout to file P (%r rank, %g job, %h host, %%)
  -errfile-pattern P   the same for stderr
  -verbose             say where each rank runs and how proxies are started

Options are accepted with one dash or two.
";

/// One host of the host list and its slot count (`host:N`; 1 when not given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSlots {
    pub name: String,
    pub slots: u32,
}

/// Where the ranks run when a host list is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostSource {
    /// `-hosts` (hydra: ranks wrap around the slots freely).
    Hydra(Vec<HostSlots>),
    /// `-f FILE` (read by the caller, see `hosts::parse_hostfile`).
    File(PathBuf),
    /// Open MPI's `--host`: more ranks than slots only with `--oversubscribe`.
    OpenMpi(Vec<HostSlots>),
}

/// How proxies are started on other hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launcher {
    Ssh,
    Rsh,
    /// Every proxy runs on this host, started directly.
    Fork,
    /// `-launcher-exec CMD`: the words of CMD; `CMD host proxy-command...` is run.
    Exec(Vec<String>),
}

/// Rank pinning (`-bind-to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    None,
    Core,
}

/// The multi-host options (all unset: every rank runs on this host, no proxies).
#[derive(Debug, Clone, PartialEq)]
pub struct HostOptions {
    pub hosts: Option<HostSource>,
    pub ppn: Option<u32>,
    pub launcher: Option<Launcher>,
    pub launcher_exec: Option<Vec<String>>,
    pub oversubscribe: bool,
    pub iface: Option<String>,
    pub bind: Bind,
    pub outfile_pattern: Option<String>,
    pub errfile_pattern: Option<String>,
    pub verbose: bool,
    /// `-genvlist`: names of mpiexec's variables to pass (with nothing else inherited).
    pub genvlist: Option<Vec<String>>,
}

impl HostOptions {
    pub fn new() -> HostOptions {
        HostOptions {
            hosts: None,
            ppn: None,
            launcher: None,
            launcher_exec: None,
            oversubscribe: false,
            iface: None,
            bind: Bind::None,
            outfile_pattern: None,
            errfile_pattern: None,
            verbose: false,
            genvlist: None,
        }
    }

    /// Whether the job runs through proxies (any host list or launcher was asked for).
    pub fn multi_host(&self) -> bool {
        self.hosts.is_some() || self.launcher.is_some() || self.launcher_exec.is_some()
    }

    /// The launcher in effect: `-launcher-exec` wins (hydra: it names the command of the
    /// chosen launcher), else `-launcher`, else ssh.
    pub fn effective_launcher(&self) -> Launcher {
        if let Some(words) = &self.launcher_exec {
            return Launcher::Exec(words.clone());
        }
        self.launcher.clone().unwrap_or(Launcher::Ssh)
    }
}

/// One `:`-separated part of an MPMD command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub nprocs: u32,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub wdir: Option<PathBuf>,
    /// argv[0] when it differs from the program run (spawn runs the resolved path).
    pub arg0: Option<String>,
}

/// Set in the ranks' environment by `-disable-auto-cleanup`: a fault-tolerant run.
pub const FT_ENV: &str = "OXIMPI_FT";

#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    pub sections: Vec<Section>,
    pub genv: Vec<(String, String)>,
    /// Pass mpiexec's environment to the ranks (`-genvall`, the default) or not (`-genvnone`).
    pub inherit_env: bool,
    pub label: bool,
    pub timeout: Option<Duration>,
    pub universe_size: Option<u32>,
    pub gwdir: Option<PathBuf>,
    /// `-nameserver ADDR` (the caller falls back to OXIMPI_NAMESERVER).
    pub nameserver: Option<String>,
    /// `--singleton FD` (hidden): serve PMI on the inherited socket FD for a process that
    /// is already running, instead of starting a job.
    pub singleton: Option<i32>,
    pub hosts: HostOptions,
}

impl JobSpec {
    pub fn total_ranks(&self) -> u32 {
        self.sections.iter().map(|s| s.nprocs).sum()
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    Run(JobSpec),
    /// `--singleton FD`: no sections; `spec.singleton` holds the fd.
    Singleton(JobSpec),
    /// `--proxy ADDR HOST_INDEX` (hidden): serve one host's ranks for the mpiexec at ADDR.
    Proxy {
        addr: String,
        index: u32,
    },
    Help,
    Version,
}

/// Parses `args` (without argv[0]). `env_timeout`/`env_usize` are MPIEXEC_TIMEOUT and
/// MPIEXEC_UNIVERSE_SIZE; the command line wins over them.
pub fn parse(
    args: &[String],
    env_timeout: Option<&str>,
    env_usize: Option<&str>,
) -> Result<Command, String> {
    let mut spec = JobSpec {
        sections: Vec::new(),
        genv: Vec::new(),
        inherit_env: true,
        label: false,
        timeout: None,
        universe_size: None,
        gwdir: None,
        nameserver: None,
        singleton: None,
        hosts: HostOptions::new(),
    };
    if args.first().map(String::as_str) == Some("--proxy") {
        return parse_proxy(&args[1..]);
    }
    if let Some(t) = env_timeout.filter(|t| !t.trim().is_empty()) {
        spec.timeout = Some(parse_timeout(t).map_err(|e| format!("MPIEXEC_TIMEOUT: {e}"))?);
    }
    if let Some(u) = env_usize.filter(|u| !u.trim().is_empty()) {
        spec.universe_size =
            Some(parse_count(u).map_err(|e| format!("MPIEXEC_UNIVERSE_SIZE: {e}"))?);
    }
    let mut it = args.iter().peekable();
    loop {
        let mut section = Section {
            nprocs: 1,
            argv: Vec::new(),
            env: Vec::new(),
            wdir: None,
            arg0: None,
        };
        // Options until the program name.
        while let Some(arg) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs an argument"))
            };
            match arg.as_str() {
                "-h" | "-help" | "--help" => return Ok(Command::Help),
                "-version" | "--version" => return Ok(Command::Version),
                "-n" | "-np" | "--n" | "--np" => section.nprocs = parse_count(&value(arg)?)?,
                "-env" | "--env" => {
                    let name = value(arg)?;
                    let val = value(arg)?;
                    section.env.push((checked_name(name)?, val));
                }
                "-genv" | "--genv" => {
                    let name = value(arg)?;
                    let val = value(arg)?;
                    spec.genv.push((checked_name(name)?, val));
                }
                "-genvall" | "--genvall" => {
                    spec.inherit_env = true;
                    spec.hosts.genvlist = None;
                }
                "-genvnone" | "--genvnone" => {
                    spec.inherit_env = false;
                    spec.hosts.genvlist = None;
                }
                "-l" | "-prepend-rank" | "--prepend-rank" | "--label" => spec.label = true,
                // Hydra's spelling: a rank's death does not end the job; the others are told
                // (ULFM, see mpi::ft). The ranks learn it from OXIMPI_FT.
                "-disable-auto-cleanup" | "--disable-auto-cleanup" => {
                    spec.genv.push((FT_ENV.to_string(), "1".to_string()))
                }
                "-timeout" | "--timeout" => spec.timeout = Some(parse_timeout(&value(arg)?)?),
                "-usize" | "--usize" => spec.universe_size = Some(parse_count(&value(arg)?)?),
                "-wdir" | "--wdir" => section.wdir = Some(PathBuf::from(value(arg)?)),
                "-gwdir" | "--gwdir" => spec.gwdir = Some(PathBuf::from(value(arg)?)),
                "-nameserver" | "--nameserver" => spec.nameserver = Some(value(arg)?),
                "-hosts" | "--hosts" => {
                    spec.hosts.hosts = Some(HostSource::Hydra(parse_host_list(&value(arg)?)?))
                }
                "--host" | "-host" | "--H" | "-H" => {
                    spec.hosts.hosts = Some(HostSource::OpenMpi(parse_host_list(&value(arg)?)?))
                }
                "-f" | "-hostfile" | "--hostfile" | "-machinefile" | "--machinefile" => {
                    spec.hosts.hosts = Some(HostSource::File(PathBuf::from(value(arg)?)))
                }
                "--oversubscribe" | "-oversubscribe" => spec.hosts.oversubscribe = true,
                "-ppn" | "--ppn" => match parse_count(&value(arg)?)? {
                    0 => return Err("-ppn needs at least 1".into()),
                    n => spec.hosts.ppn = Some(n),
                },
                "-launcher" | "--launcher" | "-bootstrap" | "--bootstrap" => {
                    spec.hosts.launcher = Some(match value(arg)?.as_str() {
                        "ssh" => Launcher::Ssh,
                        "rsh" => Launcher::Rsh,
                        "fork" => Launcher::Fork,
                        other => {
                            return Err(format!(
                                "{arg} {other:?}: OxiMPI's mpiexec knows ssh, rsh and fork \
                                 (or give the command with -launcher-exec)"
                            ))
                        }
                    })
                }
                "-launcher-exec" | "--launcher-exec" | "-bootstrap-exec" | "--bootstrap-exec" => {
                    let cmd = value(arg)?;
                    let words = split_words(&cmd).map_err(|e| format!("{arg} {cmd:?}: {e}"))?;
                    if words.is_empty() {
                        return Err(format!("{arg} needs a command"));
                    }
                    spec.hosts.launcher_exec = Some(words);
                }
                "-iface" | "--iface" => spec.hosts.iface = Some(value(arg)?),
                "-genvlist" | "--genvlist" => {
                    let list = value(arg)?;
                    let names = list
                        .split(',')
                        .filter(|n| !n.is_empty())
                        .map(|n| checked_name(n.to_string()))
                        .collect::<Result<Vec<_>, _>>()?;
                    spec.hosts.genvlist = Some(names);
                    spec.inherit_env = false;
                }
                "-bind-to" | "--bind-to" => {
                    spec.hosts.bind = match value(arg)?.as_str() {
                        "none" => Bind::None,
                        "core" => Bind::Core,
                        other => {
                            return Err(format!(
                                "{arg} {other:?}: OxiMPI's mpiexec binds to none or core"
                            ))
                        }
                    }
                }
                "-outfile-pattern" | "--outfile-pattern" => {
                    spec.hosts.outfile_pattern = Some(value(arg)?)
                }
                "-errfile-pattern" | "--errfile-pattern" => {
                    spec.hosts.errfile_pattern = Some(value(arg)?)
                }
                "-verbose" | "--verbose" | "-v" => spec.hosts.verbose = true,
                "--singleton" => {
                    let v = value(arg)?;
                    match v.parse::<i32>() {
                        Ok(fd) if fd >= 0 => spec.singleton = Some(fd),
                        _ => return Err(format!("--singleton needs an fd, not {v:?}")),
                    }
                }
                ":" => return Err("empty section before ':'".into()),
                a if a.starts_with('-') && a.len() > 1 => return Err(unknown_option(a)),
                _ => {
                    section.argv.push(arg.clone());
                    break;
                }
            }
        }
        if spec.singleton.is_some() {
            if !section.argv.is_empty() || !spec.sections.is_empty() {
                return Err("--singleton takes no program".into());
            }
            return Ok(Command::Singleton(spec));
        }
        if section.argv.is_empty() {
            return Err(if spec.sections.is_empty() {
                "no program given".into()
            } else {
                "no program after ':'".into()
            });
        }
        // Program arguments until ':' or the end.
        let mut more = false;
        for arg in it.by_ref() {
            if arg == ":" {
                more = true;
                break;
            }
            section.argv.push(arg.clone());
        }
        spec.sections.push(section);
        if !more {
            break;
        }
    }
    if spec.total_ranks() == 0 {
        return Err("the job has no ranks".into());
    }
    Ok(Command::Run(spec))
}

/// Every option the parser takes (for suggestions).
const KNOWN: &[&str] = &[
    "-h",
    "-help",
    "--help",
    "-version",
    "--version",
    "-n",
    "-np",
    "-env",
    "-genv",
    "-genvall",
    "-genvnone",
    "-l",
    "-prepend-rank",
    "--label",
    "-disable-auto-cleanup",
    "--disable-auto-cleanup",
    "-timeout",
    "--timeout",
    "-usize",
    "-wdir",
    "-gwdir",
    "-nameserver",
    "-hosts",
    "--host",
    "-f",
    "-hostfile",
    "-machinefile",
    "--oversubscribe",
    "-ppn",
    "-launcher",
    "-launcher-exec",
    "-iface",
    "-genvlist",
    "-bind-to",
    "-outfile-pattern",
    "-errfile-pattern",
    "-verbose",
];

/// Hydra's options that this mpiexec does not take.
const HYDRA_ONLY: &[&str] = &["-map-by", "-envlist", "-rmk", "-binding", "-topolib"];

/// The message for an option we do not know: hydra's that we do not have yet, else the
/// closest known option when one is near (edit distance at most 2).
fn unknown_option(a: &str) -> String {
    let bare = format!("-{}", a.trim_start_matches('-'));
    if HYDRA_ONLY.contains(&bare.as_str()) {
        return format!(
            "option {a} is hydra's and is not supported by OxiMPI's mpiexec yet (it runs every \
             rank on this host); see mpiexec --help"
        );
    }
    let best = KNOWN
        .iter()
        .map(|k| (distance(&bare, k), k))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= 2 => format!("unknown option {a}; did you mean {k}? (mpiexec --help)"),
        _ => format!("unknown option {a} (mpiexec --help lists the options)"),
    }
}

/// Levenshtein distance between `a` and option `k` (compared without leading dashes).
fn distance(a: &str, k: &str) -> usize {
    let a: Vec<char> = a.trim_start_matches('-').chars().collect();
    let b: Vec<char> = k.trim_start_matches('-').chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `--proxy ADDR INDEX` (nothing else): the proxy learns everything else from mpiexec.
fn parse_proxy(args: &[String]) -> Result<Command, String> {
    match args {
        [addr, index] => match index.parse::<u32>() {
            Ok(index) => Ok(Command::Proxy {
                addr: addr.clone(),
                index,
            }),
            Err(_) => Err(format!("--proxy: bad host index {index:?}")),
        },
        _ => Err("--proxy takes ADDR INDEX".into()),
    }
}

/// `h1,h2:4,...`: host names with optional slot counts.
pub fn parse_host_list(list: &str) -> Result<Vec<HostSlots>, String> {
    let hosts = list
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(parse_host_slots)
        .collect::<Result<Vec<_>, _>>()?;
    if hosts.is_empty() {
        return Err(format!("host list {list:?} names no host"));
    }
    Ok(hosts)
}

/// `host` or `host:N` (N at least 1).
pub fn parse_host_slots(entry: &str) -> Result<HostSlots, String> {
    let (name, slots) = match entry.rsplit_once(':') {
        Some((name, n)) => match n.trim().parse::<u32>() {
            Ok(n) if (1..=1 << 20).contains(&n) => (name.trim(), n),
            _ => return Err(format!("host {entry:?}: slots must be a positive number")),
        },
        None => (entry.trim(), 1),
    };
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if !ok {
        return Err(format!("bad host name {name:?}"));
    }
    Ok(HostSlots {
        name: name.to_string(),
        slots,
    })
}

/// Splits `cmd` into words as a shell would for a plain command line: blanks separate
/// words, single quotes keep everything, double quotes keep all but `\"` and `\\`, a
/// backslash outside quotes escapes the next character. No expansions.
pub fn split_words(cmd: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => cur.push(c),
                    None => return Err("trailing backslash".into()),
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

fn parse_count(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if n <= 1 << 20 => Ok(n),
        Ok(n) => Err(format!("{n} is too large")),
        Err(_) => Err(format!("{s:?} is not a non-negative integer")),
    }
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(t) if t > 0.0 && t.is_finite() && t < 1e9 => Ok(Duration::from_secs_f64(t)),
        _ => Err(format!("timeout {s:?} is not a positive number of seconds")),
    }
}

fn checked_name(name: String) -> Result<String, String> {
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return Err(format!("bad environment variable name {name:?}"));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, String> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse(&v, None, None)
    }

    #[test]
    fn unknown_options_are_explained() {
        let e = p("-nn 2 a.out").unwrap_err();
        assert!(e.contains("did you mean -n"), "{e}");
        let e = p("--genvnon a.out").unwrap_err();
        assert!(e.contains("did you mean -genvnone"), "{e}");
        let e = p("-map-by core -n 2 a.out").unwrap_err();
        assert!(e.contains("hydra's"), "{e}");
        let e = p("-zzzzzzzz a.out").unwrap_err();
        assert!(e.contains("mpiexec --help lists"), "{e}");
    }

    fn spec(s: &str) -> JobSpec {
        match p(s) {
            Ok(Command::Run(j)) => j,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn simple() {
        let j = spec("-n 4 prog -n x");
        assert_eq!(j.sections.len(), 1);
        assert_eq!(j.sections[0].nprocs, 4);
        assert_eq!(j.sections[0].argv, ["prog", "-n", "x"]);
        assert!(j.inherit_env && !j.label);
    }

    #[test]
    fn mpmd_and_env() {
        let j = spec("-genv A 1 -l -n 2 -env B 2 a x : -np 3 -wdir /tmp b");
        assert_eq!(j.genv, [("A".to_string(), "1".to_string())]);
        assert!(j.label);
        assert_eq!(j.sections[0].env, [("B".to_string(), "2".to_string())]);
        assert_eq!(j.sections[0].argv, ["a", "x"]);
        assert_eq!(j.sections[1].nprocs, 3);
        assert_eq!(j.sections[1].wdir, Some(PathBuf::from("/tmp")));
        assert_eq!(j.total_ranks(), 5);
    }

    #[test]
    fn timeout_env_and_flag() {
        let v: Vec<String> = ["true"].iter().map(|s| s.to_string()).collect();
        let Ok(Command::Run(j)) = parse(&v, Some("7"), Some("9")) else {
            panic!()
        };
        assert_eq!(j.timeout, Some(Duration::from_secs(7)));
        assert_eq!(j.universe_size, Some(9));
        let j = spec("--timeout 2.5 true");
        assert_eq!(j.timeout, Some(Duration::from_millis(2500)));
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "-n",
            "-n x prog",
            "-n 2",
            "prog :",
            ": prog",
            "-bogus prog",
            "-timeout 0 p",
            "-env A",
        ] {
            assert!(p(bad).is_err(), "{bad:?} should fail");
        }
        assert_eq!(p("-h"), Ok(Command::Help));
        assert_eq!(p("--version"), Ok(Command::Version));
        assert!(p("-n 0 prog").is_err());
    }

    #[test]
    fn host_options() {
        let j = spec("-hosts a,b:2 -ppn 3 -launcher fork -bind-to core -verbose -n 4 prog");
        assert_eq!(
            j.hosts.hosts,
            Some(HostSource::Hydra(vec![
                HostSlots {
                    name: "a".into(),
                    slots: 1
                },
                HostSlots {
                    name: "b".into(),
                    slots: 2
                }
            ]))
        );
        assert_eq!(j.hosts.ppn, Some(3));
        assert_eq!(j.hosts.effective_launcher(), Launcher::Fork);
        assert_eq!(j.hosts.bind, Bind::Core);
        assert!(j.hosts.verbose && j.hosts.multi_host());
        let v: Vec<String> = [
            "-launcher-exec",
            "ip netns exec 'x y' \"q\\\"\"",
            "--host",
            "h:2",
            "--oversubscribe",
            "-genvlist",
            "A,B",
            "prog",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let Ok(Command::Run(j)) = parse(&v, None, None) else {
            panic!()
        };
        assert_eq!(
            j.hosts.effective_launcher(),
            Launcher::Exec(vec![
                "ip".into(),
                "netns".into(),
                "exec".into(),
                "x y".into(),
                "q\"".into()
            ])
        );
        assert!(matches!(j.hosts.hosts, Some(HostSource::OpenMpi(_))));
        assert!(j.hosts.oversubscribe);
        assert_eq!(j.hosts.genvlist, Some(vec!["A".into(), "B".into()]));
        assert!(!j.inherit_env);
        assert!(!spec("-n 2 prog").hosts.multi_host());
        for bad in [
            "-hosts a:0 prog",
            "-hosts a;b prog",
            "-ppn 0 prog",
            "-launcher foo prog",
            "-bind-to socket prog",
        ] {
            assert!(p(bad).is_err(), "{bad:?} should fail");
        }
        assert!(split_words("a 'b").is_err());
        assert_eq!(
            p("--proxy 10.0.0.1:5 3"),
            Ok(Command::Proxy {
                addr: "10.0.0.1:5".into(),
                index: 3
            })
        );
    }

    #[test]
    fn nameserver_and_singleton() {
        let j = spec("-nameserver @names -n 2 prog");
        assert_eq!(j.nameserver.as_deref(), Some("@names"));
        match p("--singleton 5 -usize 4") {
            Ok(Command::Singleton(j)) => {
                assert_eq!(j.singleton, Some(5));
                assert_eq!(j.universe_size, Some(4));
                assert!(j.sections.is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert!(p("--singleton 5 prog").is_err());
        assert!(p("--singleton x").is_err());
        assert!(p("--singleton").is_err());
    }
}
