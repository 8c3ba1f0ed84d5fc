//! Integration tests of `mpiexec` and of the PMI client (examples/pmi_client.rs), under our
//! launcher and under MPICH's hydra. Every run has a hard time limit.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MPIEXEC: &str = env!("CARGO_BIN_EXE_mpiexec");
const HYDRA: &str = "/usr/bin/mpiexec.mpich";

/// target/<profile>/examples/pmi_client (cargo builds examples before integration tests).
fn pmi_client() -> String {
    let mut p = std::env::current_exe().unwrap();
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    let p: PathBuf = p.join("examples").join("pmi_client");
    assert!(
        p.exists(),
        "{} not built (run cargo test, which builds examples)",
        p.display()
    );
    p.to_string_lossy().into_owned()
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `prog args` with `stdin` bytes, killing it (and failing the test) after `limit`.
fn run_with(prog: &str, args: &[&str], env: &[(&str, &str)], stdin: &[u8], limit: Duration) -> Run {
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("start mpiexec");
    let pid = child.id();
    let mut sin = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = sin.write_all(&data);
    });
    let (tx, rx) = mpsc::channel::<Output>();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output().unwrap());
    });
    let out = match rx.recv_timeout(limit) {
        Ok(o) => o,
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{prog} {args:?} did not finish within {limit:?}");
        }
    };
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

fn mpiexec(args: &[&str]) -> Run {
    run_with(MPIEXEC, args, &[], b"", Duration::from_secs(20))
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn all_ranks_exit_zero() {
    let r = mpiexec(&["-n", "3", "true"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn non_pmi_program_runs_on_every_rank() {
    let r = mpiexec(&["-n", "2", "sh", "-c", "echo rank $PMI_RANK of $PMI_SIZE"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(sorted_lines(&r.stdout), ["rank 0 of 2", "rank 1 of 2"]);
}

#[test]
fn exit_code_is_first_failing_rank() {
    // Rank 1 fails first (code 4); rank 0 fails later (code 3): the job says 4.
    let r = mpiexec(&[
        "-n",
        "3",
        "sh",
        "-c",
        "case $PMI_RANK in 0) sleep 0.3; exit 3;; 1) exit 4;; *) exit 0;; esac",
    ]);
    assert_eq!(r.code, Some(4), "{}", r.stderr);
}

#[test]
fn labels_prefix_every_line() {
    let r = mpiexec(&["-l", "-n", "2", "sh", "-c", "echo one; echo two"]);
    assert_eq!(r.code, Some(0));
    assert_eq!(
        sorted_lines(&r.stdout),
        ["[0] one", "[0] two", "[1] one", "[1] two"]
    );
    let r = mpiexec(&["-l", "-n", "1", "sh", "-c", "echo err >&2"]);
    assert_eq!(r.stderr, "[0] err\n");
}

#[test]
fn long_lines_from_two_ranks_never_interleave() {
    // Each rank writes 300 lines of 5000 copies of its rank digit, as fast as it can.
    let script = "line=$(printf \"%05000d\" 0 | tr 0 $PMI_RANK); i=0; \
                  while [ $i -lt 300 ]; do echo $line; i=$((i+1)); done";
    let r = mpiexec(&["-n", "2", "sh", "-c", script]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 600);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l.len(), 5000, "line {i} has length {}", l.len());
        let first = l.as_bytes()[0];
        assert!(l.bytes().all(|b| b == first), "line {i} mixes ranks");
    }
}

#[test]
fn final_partial_line_is_flushed() {
    let r = mpiexec(&["-n", "1", "printf", "no newline"]);
    assert_eq!(r.code, Some(0));
    assert_eq!(r.stdout, "no newline\n");
}

#[test]
fn stdin_goes_to_rank_zero_only() {
    let r = run_with(
        MPIEXEC,
        &["-l", "-n", "3", "cat"],
        &[],
        b"hello\nworld\n",
        Duration::from_secs(20),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "[0] hello\n[0] world\n");
}

#[test]
fn mpmd_sections_and_appnums() {
    let r = mpiexec(&[
        "-n",
        "2",
        "sh",
        "-c",
        "echo A$PMI_RANK",
        ":",
        "-n",
        "1",
        "sh",
        "-c",
        "echo B$PMI_RANK",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(sorted_lines(&r.stdout), ["A0", "A1", "B2"]);
    let c = pmi_client();
    let r = mpiexec(&["-n", "1", &c, "kvs", ":", "-n", "2", &c, "kvs"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines = sorted_lines(&r.stdout);
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert!(lines[0].starts_with("rank 0 of 3 appnum 0 "), "{lines:?}");
    assert!(lines[1].starts_with("rank 1 of 3 appnum 1 "), "{lines:?}");
    assert!(lines[2].starts_with("rank 2 of 3 appnum 1 "), "{lines:?}");
}

#[test]
fn env_and_genv() {
    let r = mpiexec(&[
        "-genv",
        "G",
        "g",
        "-n",
        "1",
        "-env",
        "L",
        "l1",
        "sh",
        "-c",
        "echo $G-$L",
        ":",
        "-n",
        "1",
        "sh",
        "-c",
        "echo $G-$L",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(sorted_lines(&r.stdout), ["g-", "g-l1"]);
    // -genvnone: nothing of ours leaks, only -genv and the launcher's variables.
    let r = run_with(
        MPIEXEC,
        &["-genvnone", "-genv", "X", "1", "/usr/bin/env"],
        &[("LEAKY", "yes")],
        b"",
        Duration::from_secs(20),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("X=1\n") && r.stdout.contains("PMI_RANK=0\n"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("LEAKY"), "{}", r.stdout);
    let r = run_with(
        MPIEXEC,
        &["/usr/bin/env"],
        &[("LEAKY", "yes")],
        b"",
        Duration::from_secs(20),
    );
    assert!(r.stdout.contains("LEAKY=yes\n"), "genvall is the default");
}

#[test]
fn working_directory() {
    let r = mpiexec(&["-wdir", "/tmp", "pwd", ":", "-n", "1", "-wdir", "/", "pwd"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(sorted_lines(&r.stdout), ["/", "/tmp"]);
}

#[test]
fn launch_contract_environment_and_fds() {
    let script =
        "echo $OXIMPI_LOCAL_RANK/$OXIMPI_LOCAL_SIZE $OXIMPI_JOB_SECRET $PMI_FD $OXIMPI_SHM_FD; \
                  readlink /proc/self/fd/$OXIMPI_SHM_FD; exec ls -m /proc/self/fd";
    // Lines of different ranks may alternate; the labels sort them out.
    let r = mpiexec(&["-l", "-n", "2", "sh", "-c", script]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 6, "{}", r.stdout);
    let mut secrets = Vec::new();
    for rank in 0..2 {
        let label = format!("[{rank}] ");
        let chunk: Vec<&str> = r
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix(label.as_str()))
            .collect();
        let f: Vec<&str> = chunk[0].split(' ').collect();
        assert!(f[0] == "0/2" || f[0] == "1/2", "{}", chunk[0]);
        assert_eq!(f[1].len(), 32);
        assert!(f[1].bytes().all(|b| b.is_ascii_hexdigit()));
        secrets.push(f[1].to_string());
        assert!(chunk[1].starts_with("/memfd:"), "shm fd is {}", chunk[1]);
        // The rank's fds: stdio, its PMI socket and the memfd, nothing inherited
        // (plus the one `ls` opened to read the directory).
        let mut want = vec![
            0,
            1,
            2,
            f[2].parse::<i32>().unwrap(),
            f[3].parse::<i32>().unwrap(),
        ];
        want.sort();
        let mut got: Vec<i32> = chunk[2]
            .split(',')
            .map(|x| x.trim().parse().unwrap())
            .collect();
        assert_eq!(got.len(), want.len() + 1, "open fds of a rank: {got:?}");
        let ls_dir_fd = *got
            .iter()
            .find(|fd| !want.contains(fd))
            .expect("ls's own fd");
        got.retain(|&fd| fd != ls_dir_fd);
        assert_eq!(got, want, "open fds of a rank");
    }
    assert_eq!(secrets[0], secrets[1], "one secret per job");
}

#[test]
fn timeout_kills_the_job_with_124() {
    let r = mpiexec(&["--timeout", "1", "-n", "2", "sleep", "30"]);
    assert_eq!(r.code, Some(124));
    assert!(
        r.stderr.contains("timed out after 1 seconds"),
        "{}",
        r.stderr
    );
    assert!(r.elapsed < Duration::from_secs(4), "{:?}", r.elapsed);
    let r = run_with(
        MPIEXEC,
        &["-n", "1", "sleep", "30"],
        &[("MPIEXEC_TIMEOUT", "1")],
        b"",
        Duration::from_secs(20),
    );
    assert_eq!(r.code, Some(124));
}

#[test]
fn rank_killed_by_signal_ends_the_job() {
    let r = mpiexec(&[
        "-n",
        "3",
        "sh",
        "-c",
        "if [ $PMI_RANK = 2 ]; then kill -SEGV $$; fi; sleep 30",
    ]);
    assert_eq!(r.code, Some(139), "{}", r.stderr);
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("killed by signal"))
        .expect(&r.stderr);
    assert!(line.starts_with("mpiexec: rank 2 (pid "), "{line}");
    assert!(
        line.ends_with(") killed by signal 11 (Segmentation fault)"),
        "{line}"
    );
    assert_eq!(r.stderr.lines().count(), 1, "one line only: {}", r.stderr);
    assert!(r.elapsed < Duration::from_secs(3), "{:?}", r.elapsed);
}

#[test]
fn pmi_abort_ends_the_job_with_its_code() {
    let r = mpiexec(&["-n", "3", &pmi_client(), "abort", "9"]);
    assert_eq!(r.code, Some(9), "{}", r.stderr);
    assert!(r.stderr.contains("rank 1 (pid"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("aborted the job with code 9: rank 1 gives up"),
        "{}",
        r.stderr
    );
    assert!(r.elapsed < Duration::from_secs(3), "{:?}", r.elapsed);
}

#[test]
fn exit_without_finalize_ends_the_job() {
    let r = mpiexec(&["-n", "3", &pmi_client(), "nofinalize"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("rank 0 (pid"), "{}", r.stderr);
    assert!(r.stderr.contains("without PMI finalize"), "{}", r.stderr);
    assert!(r.elapsed < Duration::from_secs(3), "{:?}", r.elapsed);
}

#[test]
fn pmi_put_get_barrier_on_four_ranks() {
    let r = mpiexec(&["-n", "4", &pmi_client(), "kvs"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines = sorted_lines(&r.stdout);
    let want: Vec<String> = (0..4)
        .map(|i| format!("rank {i} of 4 appnum 0 kvs named universe 4 ok"))
        .collect();
    // Universe size defaults to max(cores, ranks).
    let cores = std::thread::available_parallelism().unwrap().get().max(4);
    let want: Vec<String> = want
        .iter()
        .map(|l| l.replace("universe 4", &format!("universe {cores}")))
        .collect();
    assert_eq!(lines, want);
    let r = mpiexec(&["-usize", "11", "-n", "2", &pmi_client(), "kvs"]);
    assert!(r.stdout.contains("universe 11 ok"), "{}", r.stdout);
}

#[test]
fn pmi_client_works_under_hydra() {
    if !std::path::Path::new(HYDRA).exists() {
        eprintln!("SKIPPED: {HYDRA} is not installed");
        return;
    }
    let r = run_with(
        HYDRA,
        &["-n", "4", &pmi_client(), "kvs"],
        &[],
        b"",
        Duration::from_secs(30),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines = sorted_lines(&r.stdout);
    let want: Vec<String> = (0..4)
        .map(|i| format!("rank {i} of 4 appnum 0 kvs named universe -1 ok"))
        .collect();
    assert_eq!(lines, want);
    // Hydra's PMI_PORT mode (connect back over TCP) too.
    let r = run_with(
        HYDRA,
        &["-pmi-port", "-n", "2", &pmi_client(), "kvs"],
        &[],
        b"",
        Duration::from_secs(30),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout.lines().filter(|l| l.ends_with(" ok")).count(),
        2,
        "{}",
        r.stdout
    );
}

#[test]
fn singleton_without_launcher() {
    let mut cmd = Command::new(pmi_client());
    for v in ["PMI_FD", "PMI_PORT", "PMI_RANK", "PMI_SIZE", "PMI_ID"] {
        cmd.env_remove(v);
    }
    let out = cmd.arg("singleton").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "singleton\n");
}

#[test]
fn sigterm_to_mpiexec_is_forwarded() {
    let mut child = Command::new(MPIEXEC)
        .args(["-n", "2", "sh", "-c", "echo up; sleep 30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until both ranks run.
    let mut out = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 64];
    while seen.iter().filter(|&&b| b == b'\n').count() < 2 {
        let n = std::io::Read::read(&mut out, &mut buf).unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    let start = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().unwrap());
    });
    let status = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("mpiexec did not end after SIGTERM");
    assert_eq!(status.code(), Some(128 + 15));
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[test]
fn unknown_program_fails_with_127() {
    let r = mpiexec(&["-n", "2", "/nonexistent/program"]);
    assert_eq!(r.code, Some(127));
    assert!(
        r.stderr
            .contains("cannot start rank 0 (/nonexistent/program)"),
        "{}",
        r.stderr
    );
}

#[test]
fn help_version_and_bad_arguments() {
    let r = mpiexec(&["--help"]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.starts_with("Usage: mpiexec"));
    let r = mpiexec(&["--version"]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("OxiMPI"));
    let r = mpiexec(&["-n", "x", "true"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("not a non-negative integer"));
    let r = mpiexec(&["-bogus", "true"]);
    assert_eq!(r.code, Some(1));
}

#[test]
fn pmi_barrier_is_fast() {
    let r = mpiexec(&["-n", "8", &pmi_client(), "barriers", "200"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let us: f64 = r
        .stdout
        .trim()
        .strip_prefix("barrier_us=")
        .expect(&r.stdout)
        .parse()
        .unwrap();
    eprintln!("8-rank PMI barrier: {us:.1} us");
    // Generous: 8 ranks on 2 shared cores, and a loaded CI machine.
    assert!(us < 20_000.0, "{us} us per barrier");
}
