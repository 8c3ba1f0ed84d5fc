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

Options are accepted with one dash or two. Not yet: hydra's options that place or bind
ranks on several hosts (-hosts, -f, -ppn, -bind-to, -launcher, -iface, ...): every rank
runs on this host.
";

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
    };
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
                "-genvall" | "--genvall" => spec.inherit_env = true,
                "-genvnone" | "--genvnone" => spec.inherit_env = false,
                "-l" | "-prepend-rank" | "--prepend-rank" | "--label" => spec.label = true,
                "-timeout" | "--timeout" => spec.timeout = Some(parse_timeout(&value(arg)?)?),
                "-usize" | "--usize" => spec.universe_size = Some(parse_count(&value(arg)?)?),
                "-wdir" | "--wdir" => section.wdir = Some(PathBuf::from(value(arg)?)),
                "-gwdir" | "--gwdir" => spec.gwdir = Some(PathBuf::from(value(arg)?)),
                "-nameserver" | "--nameserver" => spec.nameserver = Some(value(arg)?),
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
    "-timeout",
    "--timeout",
    "-usize",
    "-wdir",
    "-gwdir",
    "-nameserver",
];

/// Hydra's options that this mpiexec does not take yet: they place processes on several
/// hosts or bind them, which needs the multi-host launcher.
const HYDRA_ONLY: &[&str] = &[
    "-ppn",
    "-hosts",
    "-host",
    "-f",
    "-hostfile",
    "-machinefile",
    "-bind-to",
    "-map-by",
    "-genvlist",
    "-envlist",
    "-launcher",
    "-launcher-exec",
    "-iface",
    "-verbose",
    "-v",
    "-outfile-pattern",
    "-errfile-pattern",
    "-rmk",
    "-bootstrap",
];

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
        let e = p("-hosts a,b -n 2 a.out").unwrap_err();
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
