//! A PMI client exercised by tests/mpiexec.rs, under our mpiexec and under hydra.
//!
//! `pmi_client kvs`      each rank puts a key, barriers, reads every other rank's key and
//!                       the process mapping, prints one summary line, finalizes.
//! `pmi_client abort N`  rank 1 aborts with code N and a message; the others wait.
//! `pmi_client nofinalize` connects and exits 0 without finalize from rank 0; others wait.
//! `pmi_client barriers N` times N barriers (prints microseconds per barrier on rank 0).
//! `pmi_client singleton` expects no launcher.
//! Exits non-zero with a message on any failure.

use std::process::exit;
use std::time::Instant;

use mpi::pmi::{Pmi, PmiError};

fn fail(what: &str, e: PmiError) -> ! {
    eprintln!("pmi_client: {what}: {e}");
    exit(2)
}

fn connect() -> Pmi {
    match Pmi::connect() {
        Ok(Some(p)) => p,
        Ok(None) => {
            eprintln!("pmi_client: no launcher found");
            exit(3)
        }
        Err(e) => fail("connect", e),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("kvs") => kvs(),
        Some("abort") => {
            let code = args.get(1).and_then(|c| c.parse().ok()).unwrap_or(1);
            let mut pmi = connect();
            if pmi.rank() == 1 {
                pmi.abort(code, "rank 1 gives up");
            }
            std::thread::sleep(std::time::Duration::from_secs(30));
            exit(0)
        }
        Some("nofinalize") => {
            let pmi = connect();
            if pmi.rank() == 0 {
                exit(0);
            }
            std::thread::sleep(std::time::Duration::from_secs(30));
        }
        Some("barriers") => {
            let n: u32 = args.get(1).and_then(|c| c.parse().ok()).unwrap_or(100);
            let mut pmi = connect();
            pmi.barrier().unwrap_or_else(|e| fail("barrier", e));
            let t = Instant::now();
            for _ in 0..n {
                pmi.barrier().unwrap_or_else(|e| fail("barrier", e));
            }
            if pmi.rank() == 0 {
                println!(
                    "barrier_us={:.1}",
                    t.elapsed().as_secs_f64() * 1e6 / n as f64
                );
            }
            pmi.finalize().unwrap_or_else(|e| fail("finalize", e));
        }
        Some("singleton") => match Pmi::connect() {
            Ok(None) => println!("singleton"),
            Ok(Some(_)) => {
                eprintln!("pmi_client: unexpectedly found a launcher");
                exit(4)
            }
            Err(e) => fail("connect", e),
        },
        _ => {
            eprintln!("usage: pmi_client kvs|abort N|nofinalize|barriers N|singleton");
            exit(64)
        }
    }
}

fn kvs() {
    let mut pmi = connect();
    let (rank, size) = (pmi.rank(), pmi.size());
    let key = format!("card-{rank}");
    let val = format!("rank{rank}=addr:{};x", rank * 7 + 1);
    pmi.put(&key, &val).unwrap_or_else(|e| fail("put", e));
    pmi.barrier().unwrap_or_else(|e| fail("barrier", e));
    for r in 0..size {
        let got = pmi
            .get(&format!("card-{r}"))
            .unwrap_or_else(|e| fail("get", e));
        let want = format!("rank{r}=addr:{};x", r * 7 + 1);
        if got != want {
            eprintln!("pmi_client: rank {rank}: card-{r} = {got:?}, want {want:?}");
            exit(5);
        }
    }
    match pmi.get("no-such-key") {
        Err(PmiError::KeyNotFound(_)) => {}
        other => {
            eprintln!("pmi_client: missing key gave {other:?}");
            exit(6);
        }
    }
    if pmi.put("bad key", "v").is_ok() {
        eprintln!("pmi_client: a key with a space was accepted");
        exit(7);
    }
    let map = pmi.node_map().unwrap_or_else(|e| fail("node_map", e));
    if map.len() != size as usize || map.iter().any(|&n| n != 0) {
        eprintln!("pmi_client: node map {map:?}");
        exit(8);
    }
    let usize = pmi
        .universe_size()
        .unwrap_or_else(|e| fail("universe_size", e));
    // A second barrier proves barriers can repeat.
    pmi.barrier().unwrap_or_else(|e| fail("barrier 2", e));
    println!(
        "rank {rank} of {size} appnum {} kvs {} universe {usize} ok",
        pmi.appnum(),
        if pmi.kvsname().is_empty() {
            "?"
        } else {
            "named"
        }
    );
    pmi.finalize().unwrap_or_else(|e| fail("finalize", e));
}
