//! Integration tests of `mpiexec` across hosts, run on this machine: `-launcher fork` starts
//! every proxy here, and `-launcher-exec` with a small shell wrapper stands for ssh, so the
//! whole path (proxies, the secret handshake, PMI relayed to one server, stdio, exit codes,
//! signals, the launcher's death) is exercised without other hosts. tests-hosts/run.sh runs
//! the same on network-namespace hosts.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MPIEXEC: &str = env!("CARGO_BIN_EXE_mpiexec");

/// target/<profile>/examples/pmi_client (cargo builds examples before integration tests).
fn pmi_client() -> String {
    let mut p = std::env::current_exe().unwrap();
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    let p: PathBuf = p.join("examples").join("pmi_client");
    assert!(p.exists(), "{} not built", p.display());
    p.to_string_lossy().into_owned()
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs mpiexec with `args`, killing it (and failing the test) after 30 s.
fn mpiexec(args: &[&str]) -> Run {
    let child = Command::new(MPIEXEC)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mpiexec");
    let pid = child.id();
    let (tx, rx) = mpsc::channel::<Output>();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output().unwrap());
    });
    let out = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(o) => o,
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("mpiexec {args:?} did not finish within 30 s");
        }
    };
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Two "hosts" on this machine (two names for it), two ranks each, proxies forked here.
const TWO_HOSTS: &[&str] = &["-hosts", "localhost:2,127.0.0.1:2", "-launcher", "fork"];

fn with_hosts<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    TWO_HOSTS
        .iter()
        .copied()
        .chain(rest.iter().copied())
        .collect()
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn ranks_get_global_and_host_local_numbers() {
    let r = mpiexec(&with_hosts(&[
        "-l",
        "-n",
        "4",
        "sh",
        "-c",
        "echo $PMI_RANK/$PMI_SIZE local $OXIMPI_LOCAL_RANK/$OXIMPI_LOCAL_SIZE",
    ]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        sorted_lines(&r.stdout),
        [
            "[0] 0/4 local 0/2",
            "[1] 1/4 local 1/2",
            "[2] 2/4 local 0/2",
            "[3] 3/4 local 1/2"
        ]
    );
}

#[test]
fn every_rank_of_a_job_gets_the_same_secret_and_the_iface() {
    let r = mpiexec(&with_hosts(&[
        "-iface",
        "lo",
        "-n",
        "4",
        "sh",
        "-c",
        "echo $OXIMPI_JOB_SECRET $OXIMPI_TCP_IFACE",
    ]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines = sorted_lines(&r.stdout);
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| *l == lines[0]), "{lines:?}");
    let (secret, iface) = lines[0].split_once(' ').unwrap();
    assert!(secret.len() >= 32 && secret.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(iface, "lo");
}

#[test]
fn pmi_barriers_span_the_hosts() {
    let r = mpiexec(&with_hosts(&["-n", "4", &pmi_client(), "barriers", "20"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

#[test]
fn abort_on_a_remote_host_ends_the_job_with_its_code() {
    let r = mpiexec(&with_hosts(&["-n", "4", &pmi_client(), "abort", "7"]));
    assert_eq!(r.code, Some(7), "{}", r.stderr);
    assert!(
        r.stderr.contains("aborted the job with code 7"),
        "{}",
        r.stderr
    );
}

#[test]
fn exit_code_of_a_remote_rank_is_the_jobs() {
    let r = mpiexec(&with_hosts(&[
        "-n",
        "4",
        "sh",
        "-c",
        "[ $PMI_RANK = 3 ] && exit 5; exit 0",
    ]));
    assert_eq!(r.code, Some(5), "{}", r.stderr);
}

#[test]
fn a_rank_killed_by_a_signal_is_reported_as_on_one_host() {
    let r = mpiexec(&with_hosts(&[
        "-n",
        "4",
        "sh",
        "-c",
        "[ $PMI_RANK = 2 ] && kill -SEGV $$; sleep 20",
    ]));
    assert_eq!(r.code, Some(128 + 11), "{}", r.stderr);
    assert!(
        r.stderr.contains("rank 2 (pid") && r.stderr.contains("killed by signal 11"),
        "{}",
        r.stderr
    );
}

#[test]
fn placement_and_output_files() {
    let dir = std::env::temp_dir().join(format!("oximpi-hosts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hostfile = dir.join("hosts");
    std::fs::write(&hostfile, "# two hosts\n127.0.0.1:1\nlocalhost:3\n").unwrap();
    let pattern = dir.join("out.%r.%g").to_string_lossy().into_owned();
    let r = mpiexec(&[
        "-f",
        &hostfile.to_string_lossy(),
        "-launcher",
        "fork",
        "-outfile-pattern",
        &pattern,
        "-n",
        "4",
        "sh",
        "-c",
        "echo local $OXIMPI_LOCAL_RANK of $OXIMPI_LOCAL_SIZE",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "", "output went to the files");
    let got: Vec<String> = (0..4)
        .map(|rank| std::fs::read_to_string(dir.join(format!("out.{rank}.0"))).unwrap())
        .collect();
    assert_eq!(
        got,
        [
            "local 0 of 1\n",
            "local 0 of 3\n",
            "local 1 of 3\n",
            "local 2 of 3\n"
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn open_mpi_host_needs_oversubscribe() {
    let r = mpiexec(&["--host", "localhost:2", "-n", "3", "true"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("--oversubscribe"), "{}", r.stderr);
    let r = mpiexec(&[
        "--host",
        "localhost:2",
        "--oversubscribe",
        "-n",
        "3",
        "true",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

/// A `-launcher-exec` wrapper standing for ssh: `wrapper HOST cmd...` runs cmd here,
/// feeding it `secret` instead of what mpiexec sends when `secret` is given.
fn wrapper(secret: Option<&str>) -> String {
    match secret {
        None => "sh -c 'shift; exec \"$@\"' launcher".to_string(),
        Some(s) => format!("sh -c 'shift; read x; echo {s} | \"$@\"' launcher"),
    }
}

#[test]
fn launcher_exec_starts_the_proxies() {
    let w = wrapper(None);
    let r = mpiexec(&[
        "-hosts",
        "node-a.invalid,node-b.invalid",
        "-launcher-exec",
        &w,
        "-verbose",
        "-n",
        "2",
        &pmi_client(),
        "barriers",
        "5",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr.contains("\"node-b.invalid\", ") && r.stderr.contains("--proxy"),
        "the launcher runs `CMD host proxy...`: {}",
        r.stderr
    );
}

#[test]
fn a_proxy_without_the_secret_is_refused() {
    let w = wrapper(Some(&"0".repeat(32)));
    let r = mpiexec(&[
        "-hosts",
        "node-a.invalid",
        "-launcher-exec",
        &w,
        "-n",
        "1",
        "true",
    ]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("refused a proxy connection")
            && r.stderr.contains("does not know the job secret"),
        "{}",
        r.stderr
    );
}

fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn ranks_end_within_two_seconds_of_mpiexec_killed() {
    // Through the wrapper, so the proxies are not our children and the parent-death signal
    // does not help: the proxies must notice the control stream's end.
    let w = wrapper(None);
    let mut child = Command::new(MPIEXEC)
        .args([
            "-hosts",
            "node-a.invalid,node-b.invalid",
            "-launcher-exec",
            &w,
            "-n",
            "4",
            "sh",
            "-c",
            "echo $$; exec sleep 60",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let pids: Vec<u32> = (0..4)
        .map(|_| lines.next().unwrap().unwrap().trim().parse().unwrap())
        .collect();
    assert!(pids.iter().all(|&p| alive(p)));
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    while pids.iter().any(|&p| alive(p)) {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "ranks {pids:?} outlived mpiexec by 2 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
    let _ = std::io::stderr().write_all(err.as_bytes());
}

#[test]
fn bind_to_core_pins_each_rank() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for hosts in [&[][..], TWO_HOSTS] {
        let mut args: Vec<&str> = hosts.to_vec();
        args.extend([
            "-bind-to",
            "core",
            "-n",
            "2",
            "sh",
            "-c",
            "echo $OXIMPI_LOCAL_RANK $(grep Cpus_allowed_list /proc/self/status | cut -f2)",
        ]);
        let r = mpiexec(&args);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        for line in r.stdout.lines() {
            let (local, cpus) = line.split_once(' ').unwrap();
            let want = local.parse::<usize>().unwrap() % cores;
            assert_eq!(cpus, want.to_string(), "{args:?}: {}", r.stdout);
        }
    }
}

#[test]
fn stdin_goes_to_rank_zero_on_its_host() {
    // Rank 0 runs under a proxy: our stdin travels to it over the control stream.
    let mut child = Command::new(MPIEXEC)
        .args([
            "-hosts",
            "127.0.0.1,localhost:3",
            "-launcher",
            "fork",
            "-l",
            "-n",
            "2",
            "sh",
            "-c",
            "echo got $(wc -c)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut sin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = sin.write_all(&vec![b'x'; 100_000]);
    });
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        sorted_lines(&String::from_utf8_lossy(&out.stdout)),
        ["[0] got 100000", "[1] got 0"]
    );
}
