//! Integration tests of dynamic processes in `mpiexec`: PMI-1 spawn, the name service, the
//! universe's ending rules and the singleton launcher, driven by examples/pmi_spawn.rs
//! (which uses `mpi::pmi` directly). Every run has a hard time limit, and every test checks
//! that no process it started is left: each run carries a unique `L2_TEST_TAG` in the
//! environment of every process (mpiexec passes -genv to spawned jobs too), and /proc is
//! scanned for it.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MPIEXEC: &str = env!("CARGO_BIN_EXE_mpiexec");
const HYDRA: &str = "/usr/bin/mpiexec.mpich";
const PORT: &str = "oximpi-port:@oximpi-1234-abcd:7:0123abcd";
const LIMIT: Duration = Duration::from_secs(25);

/// target/<profile>/examples/pmi_spawn (cargo builds examples before integration tests).
fn helper() -> String {
    let mut p = std::env::current_exe().unwrap();
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    let p: PathBuf = p.join("examples").join("pmi_spawn");
    assert!(p.exists(), "{} not built", p.display());
    p.to_string_lossy().into_owned()
}

fn unique_tag() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Starts `prog args` with `env`; returns its pid and a receiver of its output.
fn start(prog: &str, args: &[&str], env: &[(&str, &str)]) -> (u32, mpsc::Receiver<Output>) {
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("start");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output().unwrap());
    });
    (pid, rx)
}

fn finish(pid: u32, rx: mpsc::Receiver<Output>, what: &str, tag: &str) -> Run {
    let out = match rx.recv_timeout(LIMIT) {
        Ok(o) => o,
        Err(_) => {
            for p in leftovers(tag).into_iter().chain([pid]) {
                let _ = Command::new("kill")
                    .args(["-KILL", &p.to_string()])
                    .status();
            }
            panic!("{what} did not finish within {LIMIT:?}");
        }
    };
    assert_no_leftovers(tag);
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs our mpiexec with `args` (the helper's path substituted for "H") and a fresh tag.
fn mpiexec_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let tag = unique_tag();
    let h = helper();
    let mut full = vec!["-genv", "L2_TEST_TAG", tag.as_str()];
    full.extend(args.iter().map(|a| if *a == "H" { h.as_str() } else { a }));
    let (pid, rx) = start(MPIEXEC, &full, env);
    finish(pid, rx, &format!("mpiexec {args:?}"), &tag)
}

fn mpiexec(args: &[&str]) -> Run {
    mpiexec_env(args, &[])
}

/// Pids of live processes whose environment has L2_TEST_TAG=tag.
fn leftovers(tag: &str) -> Vec<u32> {
    let needle = format!("L2_TEST_TAG={tag}\0");
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(env) = std::fs::read(e.path().join("environ")) {
            if env.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Every process of the run is gone (zombies have an empty environ, so they do not count).
fn assert_no_leftovers(tag: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = leftovers(tag);
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            for p in &left {
                let _ = Command::new("kill")
                    .args(["-KILL", &p.to_string()])
                    .status();
            }
            panic!("processes left behind: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn child_lines(out: &str) -> Vec<&str> {
    let mut v: Vec<&str> = out.lines().filter(|l| l.contains("child rank")).collect();
    v.sort();
    v
}

#[test]
fn spawn_one_child_that_reads_the_preput_key() {
    let r = mpiexec(&["-n", "1", "H", "parent", "1"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("spawned 1\n"), "{}", r.stdout);
    let lines = child_lines(&r.stdout);
    assert_eq!(lines.len(), 1, "{}", r.stdout);
    assert!(
        lines[0].starts_with(&format!(
            "child rank 0 of 1 appnum 0 spawned true port {PORT} "
        )),
        "{}",
        lines[0]
    );
}

#[test]
fn spawn_three_children_with_labels_outliving_the_parent() {
    // The parent finalizes and exits right after spawning: mpiexec waits for the children.
    let r = mpiexec(&["-l", "-n", "2", "H", "parent", "3"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("[0] spawned 3\n"), "{}", r.stdout);
    let lines = child_lines(&r.stdout);
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    for (i, l) in lines.iter().enumerate() {
        assert!(
            l.starts_with(&format!(
                "[1:{i}] child rank {i} of 3 appnum 0 spawned true port {PORT}"
            )),
            "{l}"
        );
    }
}

#[test]
fn two_commands_make_one_job_with_appnums() {
    let r = mpiexec(&["-n", "1", "H", "multi"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines = child_lines(&r.stdout);
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert!(
        lines[0].starts_with("child rank 0 of 3 appnum 0 "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("child rank 1 of 3 appnum 1 "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("child rank 2 of 3 appnum 1 "),
        "{}",
        lines[2]
    );
}

#[test]
fn missing_executable_or_foreign_host_is_refused() {
    let r = mpiexec(&["-n", "1", "H", "missing"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout
            .contains("refused: cannot run /nonexistent/oximpi-prog"),
        "{}",
        r.stdout
    );
    let r = mpiexec(&["-n", "1", "H", "parent", "2", "host=no-such-host.invalid"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("host no-such-host.invalid is not this host"),
        "{}",
        r.stderr
    );
    assert!(child_lines(&r.stdout).is_empty());
    let r = mpiexec(&[
        "-n",
        "1",
        "H",
        "parent",
        "2",
        "exe=pmi_spawn",
        "path=/nonexistent",
    ]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("executable pmi_spawn not found"),
        "{}",
        r.stderr
    );
    let r = mpiexec(&["-n", "1", "H", "parent", "2", "wdir=/nonexistent"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("wdir /nonexistent is not a directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn soft_wdir_and_path_info_keys() {
    let h = helper();
    let dir = std::path::Path::new(&h)
        .parent()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let path = format!("path={dir}");
    let local = format!(
        "host={}",
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim()
    );
    // Universe 3, one process alive: soft=1:4 still gets all 4 asked for (the universe size
    // is advice, as with hydra, not a limit).
    let r = mpiexec(&[
        "-usize",
        "3",
        "-n",
        "1",
        "H",
        "parent",
        "4",
        "soft=1:4",
        "wdir=/tmp",
        "exe=pmi_spawn",
        &path,
        &local,
        "unknown_key=ignored",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("spawned 4\n"), "{}", r.stdout);
    let lines = child_lines(&r.stdout);
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    for l in lines {
        assert!(l.ends_with(" cwd /tmp usize 3"), "{l}");
    }
    // No count of the soft set is within maxprocs: nothing starts.
    let r = mpiexec(&["-usize", "2", "-n", "1", "H", "parent", "1", "soft=2,4"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no count of soft=2,4 is at most maxprocs 1"),
        "{}",
        r.stderr
    );
}

#[test]
fn nested_spawn() {
    let r = mpiexec(&["-l", "-n", "1", "H", "nested"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("[0] nested spawned 2\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("[2:0] middle spawned 2\n"),
        "{}",
        r.stdout
    );
    let lines = child_lines(&r.stdout);
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[3:1] child rank 1 of 2")),
        "{}",
        r.stdout
    );
}

#[test]
fn child_killed_by_signal_ends_the_universe() {
    let r = mpiexec(&["-n", "1", "H", "die", "9"]);
    assert_eq!(r.code, Some(137), "{}", r.stderr);
    assert!(
        r.stderr.contains("mpiexec: job 1 rank 0 (pid ")
            && r.stderr.contains("killed by signal 9 (Killed)"),
        "{}",
        r.stderr
    );
}

#[test]
fn child_abort_kills_everyone_with_its_code() {
    let r = mpiexec(&["-n", "2", "H", "abort", "7"]);
    assert_eq!(r.code, Some(7), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("aborted the job with code 7: child gives up"),
        "{}",
        r.stderr
    );
}

#[test]
fn sigterm_reaches_spawned_jobs() {
    let tag = unique_tag();
    let h = helper();
    let (pid, rx) = start(
        MPIEXEC,
        &["-genv", "L2_TEST_TAG", &tag, "-n", "1", &h, "sleepers"],
        &[],
    );
    // Wait until the parent and both sleepers run (mpiexec itself has no tag).
    let deadline = Instant::now() + Duration::from_secs(10);
    while leftovers(&tag).len() < 3 {
        assert!(Instant::now() < deadline, "the job did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let r = finish(pid, rx, "mpiexec sleepers", &tag);
    assert_eq!(r.code, Some(143), "{}", r.stderr);
}

#[test]
fn names_inside_one_mpiexec() {
    let r = mpiexec(&["-n", "2", "H", "names"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.matches("names ok").count(), 2, "{}", r.stdout);
}

#[test]
fn names_across_two_mpiexec_runs() {
    let tag = unique_tag();
    let h = helper();
    let addr = format!("@oximpi-l2-names-{tag}");
    let flag = std::env::temp_dir().join(format!("oximpi-l2-flag-{tag}"));
    let flag_s = flag.to_string_lossy().into_owned();
    let _ = std::fs::remove_file(&flag);
    let (pid, rx) = start(
        MPIEXEC,
        &[
            "-genv",
            "L2_TEST_TAG",
            &tag,
            "-n",
            "1",
            &h,
            "publish",
            "svc",
            PORT,
            &flag_s,
        ],
        &[("OXIMPI_NAMESERVER", &addr)],
    );
    // The first run must have published before the second looks up. The lookups may bind
    // the shared address first and serve it for a moment: the name must survive that.
    lookup_until_found(&addr, "svc", "never published");
    // The option works as the variable does.
    let r = mpiexec(&["-nameserver", &addr, "-n", "1", "H", "lookup", "svc"]);
    assert_eq!(r.stdout, format!("found {PORT}\n"), "{}", r.stderr);
    // Without the shared address, names are private to each mpiexec.
    let r = mpiexec(&["-n", "1", "H", "lookup", "svc"]);
    assert_eq!(r.stdout, "unknown\n", "{}", r.stderr);
    std::fs::write(&flag, "").unwrap();
    let first = finish(pid, rx, "mpiexec publish", &tag);
    let _ = std::fs::remove_file(&flag);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(first.stdout, "published\n");
}

/// Looks `svc` up through the shared address until it is found (or `what` fails).
fn lookup_until_found(addr: &str, svc: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = mpiexec_env(
            &["-n", "1", "H", "lookup", svc],
            &[("OXIMPI_NAMESERVER", addr)],
        );
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        if r.stdout == format!("found {PORT}\n") {
            return;
        }
        assert_eq!(r.stdout, "unknown\n");
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn names_survive_the_server_leaving() {
    // The first mpiexec serves the shared table; a second one publishes through it. When the
    // server exits, the publisher's names must come back (it serves them or publishes them
    // again), not vanish with the server's table.
    let tag = unique_tag();
    let h = helper();
    let addr = format!("@oximpi-l2-handover-{tag}");
    let flag = |who: &str| std::env::temp_dir().join(format!("oximpi-l2-{who}-{tag}"));
    let (flag_srv, flag_pub) = (flag("srv"), flag("pub"));
    let env = [("OXIMPI_NAMESERVER", addr.as_str())];
    // Each run has a tag of its own: `finish` checks that run alone left nothing behind.
    let run = |svc: &str, f: &std::path::Path, tag: &str| {
        let f = f.to_string_lossy().into_owned();
        let args = [
            "-genv",
            "L2_TEST_TAG",
            tag,
            "-n",
            "1",
            &h,
            "publish",
            svc,
            PORT,
            &f,
        ];
        start(MPIEXEC, &args, &env)
    };
    let (srv_tag, pub_tag) = (unique_tag(), unique_tag());
    let (srv, srv_rx) = run("first", &flag_srv, &srv_tag);
    lookup_until_found(&addr, "first", "the server never published");
    let (publ, pub_rx) = run("second", &flag_pub, &pub_tag);
    lookup_until_found(&addr, "second", "the publisher never published");
    std::fs::write(&flag_srv, "").unwrap();
    let first = finish(srv, srv_rx, "mpiexec publish first", &srv_tag);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    lookup_until_found(&addr, "second", "the name vanished with the server");
    std::fs::write(&flag_pub, "").unwrap();
    let second = finish(publ, pub_rx, "mpiexec publish second", &pub_tag);
    let _ = std::fs::remove_file(&flag_srv);
    let _ = std::fs::remove_file(&flag_pub);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert_eq!(second.stdout, "published\n");
}

/// Runs the helper without a launcher: it starts `mpiexec --singleton`.
fn singleton(args: &[&str]) -> Run {
    let tag = unique_tag();
    let (pid, rx) = start(
        &helper(),
        args,
        &[("OXIMPI_MPIEXEC", MPIEXEC), ("L2_TEST_TAG", &tag)],
    );
    finish(pid, rx, &format!("singleton {args:?}"), &tag)
}

#[test]
fn singleton_gets_a_launcher_to_spawn() {
    // The children's output comes through the launcher on the singleton's own stdout;
    // the pipe closes only when the launcher and the children are gone.
    let r = singleton(&["parent", "2"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("spawned 2\n"), "{}", r.stdout);
    let lines = child_lines(&r.stdout);
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(lines[1].starts_with(&format!(
        "child rank 1 of 2 appnum 0 spawned true port {PORT}"
    )));
    let r = singleton(&["names_single"]);
    assert_eq!(r.code, Some(64), "unknown mode is a usage error");
}

#[test]
fn singleton_death_ends_its_spawned_jobs() {
    let r = singleton(&["orphan"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("leaving\n"), "{}", r.stdout);
    assert!(
        r.stderr.contains("the singleton process (pid ")
            && r.stderr.contains("went away without PMI finalize"),
        "{}",
        r.stderr
    );
}

#[test]
fn singleton_with_a_wrong_launcher_fails_cleanly() {
    let tag = unique_tag();
    let (pid, rx) = start(
        &helper(),
        &["parent", "1"],
        &[("OXIMPI_MPIEXEC", "/bin/false"), ("L2_TEST_TAG", &tag)],
    );
    let r = finish(pid, rx, "singleton with /bin/false", &tag);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("did not complete the PMI handshake"),
        "{}",
        r.stderr
    );
}

#[test]
fn spawn_and_names_under_hydra() {
    if !std::path::Path::new(HYDRA).exists() {
        eprintln!("skipped: {HYDRA} not installed");
        return;
    }
    let tag = unique_tag();
    let h = helper();
    let (pid, rx) = start(
        HYDRA,
        &["-genv", "L2_TEST_TAG", &tag, "-n", "1", &h, "parent", "2"],
        &[],
    );
    let r = finish(pid, rx, "hydra parent", &tag);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("spawned 2\n"), "{}", r.stdout);
    let lines = child_lines(&r.stdout);
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(lines[0].starts_with(&format!(
        "child rank 0 of 2 appnum 0 spawned true port {PORT}"
    )));
    let (pid, rx) = start(
        HYDRA,
        &["-genv", "L2_TEST_TAG", &tag, "-n", "2", &h, "names"],
        &[],
    );
    let r = finish(pid, rx, "hydra names", &tag);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.matches("names ok").count(), 2, "{}", r.stdout);
}

#[test]
fn spawned_children_get_their_own_job_resources_only() {
    // A non-PMI script as the spawned program: it reports its launch contract and fds.
    let dir = std::env::temp_dir().join(format!("oximpi-l2-fds-{}", unique_tag()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("report");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"$PMI_SPAWNED $PMI_RANK/$PMI_SIZE $OXIMPI_JOB_SECRET $PMI_FD $OXIMPI_SHM_FD $(readlink /proc/self/fd/$OXIMPI_SHM_FD)\"\n\
         exec ls -m /proc/self/fd\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = format!("exe={}", script.display());
    let r = mpiexec_env(
        &["-n", "1", "H", "parent", "1", &exe],
        &[(
            "OXIMPI_NAMESERVER",
            &format!("@oximpi-l2-fds-{}", unique_tag()),
        )],
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| !l.starts_with("spawned"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    let f: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(&f[..2], ["1", "0/1"], "{}", lines[0]);
    assert_eq!(f[2].len(), 32, "a job secret: {}", lines[0]);
    assert!(f[5].starts_with("/memfd:"), "{}", lines[0]);
    let mut want = vec![
        0,
        1,
        2,
        f[3].parse::<i32>().unwrap(),
        f[4].parse::<i32>().unwrap(),
    ];
    want.sort();
    let got: Vec<i32> = lines[1]
        .split(',')
        .map(|x| x.trim().parse().unwrap())
        .collect();
    // Plus the one `ls` opened to read the directory.
    assert_eq!(
        got.len(),
        want.len() + 1,
        "open fds of a spawned process: {got:?}"
    );
    assert!(want.iter().all(|w| got.contains(w)), "{got:?} vs {want:?}");
}
