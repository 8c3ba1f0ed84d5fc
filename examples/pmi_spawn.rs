//! Dynamic-process helper for tests/mpiexec_spawn.rs: spawn and the name service through
//! `mpi::pmi` directly (the MPI layer of spawn is written elsewhere).
//!
//! `pmi_spawn parent N [exe=PATH] [KEY=VAL]...`  rank 0 spawns N `child` processes (of PATH,
//!        default this program) with info KEY=VAL, pre-putting `PARENT_PORT`; prints
//!        `spawned K`. With no launcher it starts one (`Pmi::start_launcher`, singleton).
//! `pmi_spawn multi`   rank 0 spawns two commands (1 and 2 `child`ren) as one job.
//! `pmi_spawn nested`  rank 0 spawns one `middle`, which spawns 2 `child`ren.
//! `pmi_spawn missing` rank 0 spawns a program that does not exist: expects a refusal.
//! `pmi_spawn child`   prints what it sees (rank, size, appnum, spawned, PARENT_PORT, cwd).
//! `pmi_spawn die SIG` / `pmi_spawn abort CODE`: rank 0 spawns one child that gets killed by
//!        SIG or aborts with CODE; the parent then waits 30 s (it should be killed).
//! `pmi_spawn sleeper` connects, prints `sleeping`, sleeps 30 s. `pmi_spawn sleepers`:
//!        rank 0 spawns 2 sleepers, then sleeps 30 s. `pmi_spawn orphan`: spawns 1 sleeper,
//!        prints `leaving`, exits 0 without finalize.
//! `pmi_spawn names`   on 2 ranks: publish, lookup, unpublish, all through the launcher.
//! `pmi_spawn publish SVC PORT FILE`  publishes, prints `published`, waits for FILE to
//!        exist, unpublishes. `pmi_spawn lookup SVC` prints `found PORT` or `unknown`.
//! Exits non-zero with a message on any unexpected outcome.

use std::process::exit;
use std::time::{Duration, Instant};

use mpi::pmi::{Pmi, PmiError, SpawnCmd};

const PORT: &str = "oximpi-port:@oximpi-1234-abcd:7:0123abcd";

fn fail(what: &str, e: PmiError) -> ! {
    eprintln!("pmi_spawn: {what}: {e}");
    exit(2)
}

fn check(ok: bool, what: &str) {
    if !ok {
        eprintln!("pmi_spawn: {what}");
        exit(3);
    }
}

/// The launcher's connection; a singleton asks for a launcher of its own.
fn connect() -> Pmi {
    match Pmi::connect() {
        Ok(Some(p)) => p,
        Ok(None) => Pmi::start_launcher().unwrap_or_else(|e| fail("start_launcher", e)),
        Err(e) => fail("connect", e),
    }
}

fn me() -> String {
    std::env::current_exe()
        .expect("own path")
        .to_string_lossy()
        .into_owned()
}

fn cmd(exe: &str, argv: &[&str], maxprocs: u32, info: Vec<(String, String)>) -> SpawnCmd {
    SpawnCmd {
        exe: exe.into(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        maxprocs,
        info,
    }
}

fn preput() -> Vec<(String, String)> {
    vec![("PARENT_PORT".to_string(), PORT.to_string())]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match arg(0) {
        "parent" => {
            let n: u32 = arg(1).parse().unwrap_or(1);
            let mut exe = me();
            let mut info = Vec::new();
            for kv in &args[2.min(args.len())..] {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                if k == "exe" {
                    exe = v.to_string();
                } else {
                    info.push((k.to_string(), v.to_string()));
                }
            }
            let mut pmi = connect();
            if pmi.rank() == 0 {
                let k = pmi
                    .spawn(&[cmd(&exe, &["child"], n, info)], &preput())
                    .unwrap_or_else(|e| fail("spawn", e));
                println!("spawned {k}");
            }
            pmi.finalize().unwrap_or_else(|e| fail("finalize", e));
        }
        "multi" => {
            let mut pmi = connect();
            let k = pmi
                .spawn(
                    &[
                        cmd(&me(), &["child"], 1, vec![]),
                        cmd(&me(), &["child"], 2, vec![]),
                    ],
                    &preput(),
                )
                .unwrap_or_else(|e| fail("spawn", e));
            println!("spawned {k}");
            pmi.finalize().unwrap_or_else(|e| fail("finalize", e));
        }
        "nested" | "middle" => {
            let mut pmi = connect();
            check(
                (arg(0) == "middle") == pmi.spawned(),
                "spawned() disagrees with the role",
            );
            let k = pmi
                .spawn(&[cmd(&me(), &["child"], 2, vec![])], &preput())
                .unwrap_or_else(|e| fail("spawn", e));
            if arg(0) == "nested" {
                let k = pmi
                    .spawn(&[cmd(&me(), &["middle"], 1, vec![])], &[])
                    .unwrap_or_else(|e| fail("spawn middle", e));
                check(k == 1, "one middle");
            }
            println!("{} spawned {k}", arg(0));
            pmi.finalize().unwrap_or_else(|e| fail("finalize", e));
        }
        "missing" => {
            let mut pmi = connect();
            match pmi.spawn(&[cmd("/nonexistent/oximpi-prog", &[], 2, vec![])], &[]) {
                Err(PmiError::Refused { cmd, rc, msg }) => {
                    check(cmd == "spawn_result" && rc != 0, "refusal form");
                    println!("refused: {msg}");
                }
                other => {
                    eprintln!("pmi_spawn: spawn of a missing program gave {other:?}");
                    exit(4)
                }
            }
            // The connection still works after a refusal.
            check(pmi.get("PMI_process_mapping").is_ok(), "get after refusal");
            pmi.finalize().unwrap_or_else(|e| fail("finalize", e));
        }
        "child" => {
            let mut pmi = connect();
            let val = pmi
                .get("PARENT_PORT")
                .unwrap_or_else(|e| fail("get PARENT_PORT", e));
            let own = pmi.kvsname().to_string();
            let again = pmi
                .get_from(&own, "PARENT_PORT")
                .unwrap_or_else(|e| fail("get_from", e));
            check(val == again, "get_from of the own kvs");
            let cwd = std::env::current_dir().unwrap_or_default();
            println!(
                "child rank {} of {} appnum {} spawned {} port {val} cwd {} usize {}",
                pmi.rank(),
                pmi.size(),
                pmi.appnum(),
                pmi.spawned(),
                cwd.display(),
                pmi.universe_size().unwrap_or(-1)
            );
            pmi.barrier().unwrap_or_else(|e| fail("barrier", e));
            pmi.finalize().unwrap_or_else(|e| fail("finalize", e));
        }
        "die" | "abort" => {
            let mut pmi = connect();
            if pmi.spawned() {
                if arg(0) == "die" {
                    let sig = arg(1).to_string();
                    let _ = std::process::Command::new("kill")
                        .args([format!("-{sig}"), std::process::id().to_string()])
                        .status();
                    std::thread::sleep(Duration::from_secs(30));
                } else {
                    pmi.abort(arg(1).parse().unwrap_or(1), "child gives up");
                }
            } else {
                pmi.spawn(&[cmd(&me(), &[arg(0), arg(1)], 1, vec![])], &[])
                    .unwrap_or_else(|e| fail("spawn", e));
                println!("parent waits");
                std::thread::sleep(Duration::from_secs(30));
            }
            exit(0)
        }
        "sleeper" => {
            let _pmi = connect();
            println!("sleeping");
            std::thread::sleep(Duration::from_secs(30));
        }
        "sleepers" | "orphan" => {
            let mut pmi = connect();
            let n = if arg(0) == "orphan" { 1 } else { 2 };
            pmi.spawn(&[cmd(&me(), &["sleeper"], n, vec![])], &[])
                .unwrap_or_else(|e| fail("spawn", e));
            if arg(0) == "orphan" {
                println!("leaving");
                exit(0);
            }
            println!("parent waits");
            std::thread::sleep(Duration::from_secs(30));
        }
        "names" => {
            let mut pmi = connect();
            let svc = format!("svc-{}", pmi.size());
            if pmi.rank() == 0 {
                pmi.publish_name(&svc, PORT)
                    .unwrap_or_else(|e| fail("publish", e));
                check(
                    matches!(pmi.publish_name(&svc, "x"), Err(PmiError::Refused { .. })),
                    "second publish refused",
                );
            }
            pmi.barrier().unwrap_or_else(|e| fail("barrier", e));
            if pmi.rank() == 1 {
                let p = pmi.lookup_name(&svc).unwrap_or_else(|e| fail("lookup", e));
                check(p == PORT, "looked-up port");
            }
            pmi.barrier().unwrap_or_else(|e| fail("barrier", e));
            if pmi.rank() == 0 {
                pmi.unpublish_name(&svc)
                    .unwrap_or_else(|e| fail("unpublish", e));
                check(
                    matches!(pmi.unpublish_name(&svc), Err(PmiError::Refused { .. })),
                    "second unpublish refused",
                );
            }
            pmi.barrier().unwrap_or_else(|e| fail("barrier", e));
            check(
                matches!(pmi.lookup_name(&svc), Err(PmiError::Refused { .. })),
                "lookup after unpublish refused",
            );
            println!("names ok on rank {}", pmi.rank());
            pmi.finalize().unwrap_or_else(|e| fail("finalize", e));
        }
        "publish" => {
            let mut pmi = connect();
            pmi.publish_name(arg(1), arg(2))
                .unwrap_or_else(|e| fail("publish", e));
            println!("published");
            let deadline = Instant::now() + Duration::from_secs(20);
            while !std::path::Path::new(arg(3)).exists() {
                check(Instant::now() < deadline, "nobody created the file");
                std::thread::sleep(Duration::from_millis(20));
            }
            pmi.unpublish_name(arg(1))
                .unwrap_or_else(|e| fail("unpublish", e));
            pmi.finalize().unwrap_or_else(|e| fail("finalize", e));
        }
        "lookup" => {
            let mut pmi = connect();
            match pmi.lookup_name(arg(1)) {
                Ok(p) => println!("found {p}"),
                Err(PmiError::Refused { .. }) => println!("unknown"),
                Err(e) => fail("lookup", e),
            }
            pmi.finalize().unwrap_or_else(|e| fail("finalize", e));
        }
        _ => {
            eprintln!("usage: see the comment at the top of examples/pmi_spawn.rs");
            exit(64)
        }
    }
}
