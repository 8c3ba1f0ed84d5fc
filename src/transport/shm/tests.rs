//! Tests of the real segment: in one process (several `Shm` attachments to one memfd) and
//! across processes. Child processes are this test binary re-executed on a single test with
//! `OXIMPI_SHM_TEST_ROLE` set; the test function sees the role and plays the child's part.

use super::cma;
use super::{Shm, ShmConfig, HDR_BYTES};
use std::io::{BufRead, BufReader, IoSliceMut, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const ROLE: &str = "OXIMPI_SHM_TEST_ROLE";
const FD: &str = "OXIMPI_SHM_TEST_FD";

fn memfd() -> OwnedFd {
    // SAFETY: a valid NUL-terminated name; the returned fd is checked and then owned here.
    let fd = unsafe { libc::memfd_create(c"oximpi-shm-test".as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0, "memfd_create: {}", std::io::Error::last_os_error());
    // SAFETY: fresh fd owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn role() -> Option<String> {
    std::env::var(ROLE).ok()
}

fn inherited_fd() -> i32 {
    std::env::var(FD)
        .expect("child without fd")
        .parse()
        .expect("bad fd")
}

/// Re-run this test binary on test `name` (path inside the crate) as role `role`, passing
/// `fd` (made inheritable in the child only).
/// A child test process, killed if the parent test fails before reaping it.
struct Kid(Option<Child>);

impl Kid {
    fn get(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_child(name: &str, role: &str, fd: Option<i32>, piped: bool) -> Kid {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        name,
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "--include-ignored",
    ]);
    cmd.env(ROLE, role);
    if let Some(fd) = fd {
        cmd.env(FD, fd.to_string());
        // SAFETY: the closure only calls fcntl, which is async-signal-safe, as pre_exec needs.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    if piped {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    }
    Kid(Some(cmd.spawn().expect("spawn child test process")))
}

fn test_path(f: &str) -> String {
    // module_path!() is "mpi::transport::shm::tests"; the harness names omit the crate.
    let m = module_path!();
    format!("{}::{f}", &m[m.find("::").unwrap() + 2..])
}

fn wait_ok(mut k: Kid, what: &str) {
    let st = k.0.take().unwrap().wait().unwrap();
    assert!(st.success(), "{what} failed: {st}");
}

// ---------------------------------------------------------------------------------------
// One million small messages between processes.

const SENDERS: usize = 2;
const PER_SENDER: u64 = 500_000;

fn fill(src: usize, seq: u64, hdr: &mut [u8; HDR_BYTES], payload: &mut [u8]) -> usize {
    hdr[..8].copy_from_slice(&seq.to_le_bytes());
    hdr[8] = src as u8;
    let len = 1 + (seq % 40) as usize; // 1..=40 bytes
    for (k, b) in payload[..len].iter_mut().enumerate() {
        *b = (seq as u8).wrapping_mul(31).wrapping_add(k as u8) ^ src as u8;
    }
    len
}

fn check(src: usize, seq: u64, hdr: &[u8; HDR_BYTES], payload: &[u8]) {
    assert_eq!(
        u64::from_le_bytes(hdr[..8].try_into().unwrap()),
        seq,
        "order from {src}"
    );
    assert_eq!(hdr[8] as usize, src);
    assert_eq!(payload.len(), 1 + (seq % 40) as usize);
    for (k, &b) in payload.iter().enumerate() {
        assert_eq!(
            b,
            (seq as u8).wrapping_mul(31).wrapping_add(k as u8) ^ src as u8
        );
    }
}

fn small_cfg() -> ShmConfig {
    // Few cells so that pools run dry and recycling, alloc() == None and sleeping all happen.
    ShmConfig {
        cells_per_rank: 8,
        cell_payload: 64,
    }
}

/// Ranks 1 and 2 (child processes) each send 500 000 messages to rank 0 (this process), which
/// checks order and content per sender. With 3 processes on 2 cores, senders get preempted
/// mid-enqueue and everybody sleeps on doorbells.
#[test]
fn million_messages_between_processes() {
    if let Some(r) = role() {
        let me: usize = r.strip_prefix("sender").unwrap().parse().unwrap();
        let shm = Shm::from_fd(inherited_fd(), 1 + SENDERS, me, &small_cfg()).unwrap();
        let mut seq = 0u64;
        while seq < PER_SENDER {
            let Some(mut c) = shm.alloc() else {
                shm.wait(Duration::from_millis(100));
                continue;
            };
            let (hdr, payload) = shm.parts_mut(&mut c);
            let len = fill(me, seq, hdr, payload);
            shm.send(0, c, len);
            seq += 1;
        }
        // Stay attached until every cell came back, so the receiver never reads a dead peer.
        let mut back = 0;
        while back < small_cfg().cells_per_rank {
            match shm.alloc() {
                Some(_) => back += 1,
                None => shm.wait(Duration::from_millis(100)),
            }
        }
        return;
    }
    let fd = memfd();
    let shm = Shm::from_fd(fd.as_raw_fd(), 1 + SENDERS, 0, &small_cfg()).unwrap();
    let t0 = Instant::now();
    let kids: Vec<Kid> = (1..=SENDERS)
        .map(|s| {
            spawn_child(
                &test_path("million_messages_between_processes"),
                &format!("sender{s}"),
                Some(fd.as_raw_fd()),
                false,
            )
        })
        .collect();
    let mut next = [0u64; 1 + SENDERS];
    let mut total = 0u64;
    while total < SENDERS as u64 * PER_SENDER {
        match shm.poll() {
            Some(r) => {
                let s = r.src();
                assert!((1..=SENDERS).contains(&s));
                check(s, next[s], shm.header(&r), shm.payload(&r));
                next[s] += 1;
                total += 1;
                shm.release(r);
            }
            None => {
                assert!(
                    t0.elapsed() < Duration::from_secs(240),
                    "stalled at {total} messages"
                );
                shm.wait(Duration::from_millis(100));
            }
        }
    }
    for k in kids {
        wait_ok(k, "sender");
    }
    assert!(shm.poll().is_none());
    eprintln!(
        "{total} messages from {SENDERS} processes in {:?}",
        t0.elapsed()
    );
}

/// Every rank sends to every other rank while receiving, with tiny pools: ranks must keep
/// draining their inbound queue while their own cells are in flight, and sleep on the doorbell
/// (watching both inbound cells and returning cells) when they can do neither.
fn all_to_all_rank(shm: &Shm, per_peer: u64) {
    let n = shm.nlocal();
    let me = shm.me();
    let mut sent = vec![0u64; n];
    let mut got = vec![0u64; n];
    sent[me] = per_peer;
    got[me] = per_peer;
    let t0 = Instant::now();
    let mut peer = (me + 1) % n;
    loop {
        let mut progressed = false;
        while let Some(r) = shm.poll() {
            let s = r.src();
            check(s, got[s], shm.header(&r), shm.payload(&r));
            got[s] += 1;
            shm.release(r);
            progressed = true;
        }
        if let Some(dst) = (0..n).map(|k| (peer + k) % n).find(|&d| sent[d] < per_peer) {
            if let Some(mut c) = shm.alloc() {
                let (hdr, payload) = shm.parts_mut(&mut c);
                let len = fill(me, sent[dst], hdr, payload);
                shm.send(dst, c, len);
                sent[dst] += 1;
                peer = (dst + 1) % n;
                progressed = true;
            }
        }
        if sent.iter().chain(&got).all(|&x| x == per_peer) {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(240),
            "rank {me} stalled: sent {sent:?} got {got:?}"
        );
        if !progressed {
            shm.wait(Duration::from_millis(200));
        }
    }
    // Keep the segment mapped until all my cells are back (peers may still hold them).
    let mut back = 0;
    while back < shm.cells_per_rank() {
        match shm.alloc() {
            Some(_) => back += 1,
            None => shm.wait(Duration::from_millis(100)),
        }
    }
}

const A2A_RANKS: usize = 4;
const A2A_PER_PEER: u64 = 50_000;

fn a2a_cfg() -> ShmConfig {
    ShmConfig {
        cells_per_rank: 4,
        cell_payload: 64,
    }
}

#[test]
fn all_to_all_with_tiny_pools() {
    if let Some(r) = role() {
        let me: usize = r.strip_prefix("a2a").unwrap().parse().unwrap();
        let shm = Shm::from_fd(inherited_fd(), A2A_RANKS, me, &a2a_cfg()).unwrap();
        all_to_all_rank(&shm, A2A_PER_PEER);
        return;
    }
    let fd = memfd();
    let shm = Shm::from_fd(fd.as_raw_fd(), A2A_RANKS, 0, &a2a_cfg()).unwrap();
    let kids: Vec<Kid> = (1..A2A_RANKS)
        .map(|k| {
            spawn_child(
                &test_path("all_to_all_with_tiny_pools"),
                &format!("a2a{k}"),
                Some(fd.as_raw_fd()),
                false,
            )
        })
        .collect();
    all_to_all_rank(&shm, A2A_PER_PEER);
    for k in kids {
        wait_ok(k, "all-to-all rank");
    }
}

// ---------------------------------------------------------------------------------------
// In-process behaviour: pools, waiting, config checks.

#[test]
fn alloc_exhausts_and_recovers() {
    use super::fastbox::MAX_PAYLOAD;
    let fd = memfd();
    // Messages larger than a fast-box ring carries travel in their cells.
    let big = MAX_PAYLOAD + 1;
    let cfg = ShmConfig {
        cells_per_rank: 4,
        cell_payload: big as u32,
    };
    let a = Shm::from_fd(fd.as_raw_fd(), 2, 0, &cfg).unwrap();
    let b = Shm::from_fd(fd.as_raw_fd(), 2, 1, &cfg).unwrap();
    assert_eq!(a.payload_capacity(), big);
    assert_eq!(a.pid_of(1), std::process::id() as i32);
    let mut cells: Vec<_> = (0..4).map(|_| a.alloc().expect("fresh cell")).collect();
    assert!(a.alloc().is_none(), "pool of 4 must be exhausted");
    // An unsent cell can be given back.
    a.free_unsent(cells.pop().unwrap());
    cells.push(a.alloc().expect("cell given back"));
    for (i, mut c) in cells.into_iter().enumerate() {
        a.payload_mut(&mut c)[0] = i as u8;
        a.header_mut(&mut c)[0] = 0xA0 + i as u8;
        a.send(1, c, big);
    }
    assert!(a.alloc().is_none(), "all four are queued");
    for i in 0..4u8 {
        let r = b.poll().expect("delivered");
        assert_eq!((r.src(), r.len()), (0, big));
        assert_eq!(b.payload(&r)[0], i);
        assert_eq!(b.header(&r)[0], 0xA0 + i);
        b.release(r);
    }
    assert!(b.poll().is_none());
    // All four are back and usable again; a fifth is not.
    let again: Vec<_> = (0..4).map(|_| a.alloc().expect("recycled cell")).collect();
    assert!(a.alloc().is_none());
    drop(again); // (tokens leak harmlessly in this test)
}

/// Small messages take the fast-box ring and give their cells back at once: a window of
/// more messages than cells goes out without the receiver; then, once the ring is full,
/// the next one is queued, and everything arrives in order.
/// Ranks 0 and 1 of a new segment (2 cells of 64 bytes each), and its memfd.
fn two_ranks() -> (OwnedFd, Shm, Shm) {
    let fd = memfd();
    let cfg = ShmConfig {
        cells_per_rank: 2,
        cell_payload: 64,
    };
    let a = Shm::from_fd(fd.as_raw_fd(), 2, 0, &cfg).unwrap();
    let b = Shm::from_fd(fd.as_raw_fd(), 2, 1, &cfg).unwrap();
    (fd, a, b)
}

#[test]
fn ring_carries_a_window_then_the_queue_takes_over() {
    let (_fd, a, b) = two_ranks();
    let mut sent = 0u32;
    // One-line records: the ring holds RING_LINES - 1 of them.
    loop {
        let mut c = a.alloc().expect("the ring gives cells back");
        a.payload_mut(&mut c)[..4].copy_from_slice(&sent.to_le_bytes());
        a.header_mut(&mut c).fill(0);
        a.header_mut(&mut c)[..4].copy_from_slice(&sent.to_le_bytes());
        a.send(1, c, 4);
        sent += 1;
        if a.alloc().map(|c| a.free_unsent(c)).is_none() {
            break;
        }
        if sent == super::fastbox::RING_LINES * 2 {
            panic!("the ring never filled");
        }
    }
    assert!(
        sent >= super::fastbox::RING_LINES - 1,
        "only {sent} went by the ring"
    );
    for i in 0..sent {
        let r = b.poll().expect("delivered");
        assert_eq!(b.payload(&r), &i.to_le_bytes());
        assert_eq!(&b.header(&r)[..4], &i.to_le_bytes());
        b.release(r);
    }
    assert!(b.poll().is_none());
}

#[test]
fn self_send_round_trip() {
    let fd = memfd();
    let cfg = ShmConfig {
        cells_per_rank: 2,
        cell_payload: 8,
    };
    let a = Shm::from_fd(fd.as_raw_fd(), 1, 0, &cfg).unwrap();
    let mut c = a.alloc().unwrap();
    a.payload_mut(&mut c).copy_from_slice(b"12345678");
    a.send(0, c, 8);
    let r = a.poll().unwrap();
    assert_eq!(a.payload(&r), b"12345678");
    a.release(r);
}

#[test]
fn geometry_mismatch_is_refused() {
    let fd = memfd();
    let _a = Shm::from_fd(
        fd.as_raw_fd(),
        2,
        0,
        &ShmConfig {
            cells_per_rank: 4,
            cell_payload: 64,
        },
    )
    .unwrap();
    let e = Shm::from_fd(
        fd.as_raw_fd(),
        2,
        1,
        &ShmConfig {
            cells_per_rank: 8,
            cell_payload: 64,
        },
    );
    assert!(e.is_err());
    assert!(Shm::from_fd(fd.as_raw_fd(), 2, 2, &ShmConfig::default()).is_err());
}

#[test]
fn wait_times_out() {
    let fd = memfd();
    let a = Shm::from_fd(fd.as_raw_fd(), 2, 0, &small_cfg()).unwrap();
    let cpu0 = thread_cpu();
    let t = Instant::now();
    a.wait(Duration::from_millis(80));
    let el = t.elapsed();
    assert!(
        el >= Duration::from_millis(75) && el < Duration::from_secs(5),
        "waited {el:?}"
    );
    // The sleeper must really sleep, not spin.
    let cpu = thread_cpu() - cpu0;
    assert!(
        cpu < Duration::from_millis(20),
        "wait burned {cpu:?} of CPU"
    );
}

fn thread_cpu() -> Duration {
    // SAFETY: clock_gettime writes only into `ts`.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: as above; CLOCK_THREAD_CPUTIME_ID is always available on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[test]
fn wait_returns_when_rung_or_sent_to() {
    let fd = memfd();
    let a = Shm::from_fd(fd.as_raw_fd(), 2, 0, &small_cfg()).unwrap();
    let b = Shm::from_fd(fd.as_raw_fd(), 2, 1, &small_cfg()).unwrap();
    let woke = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            b.ring(0);
        });
        let t = Instant::now();
        a.wait(Duration::from_secs(20));
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "ring did not wake the sleeper"
        );
        woke.store(true, Ordering::Relaxed);
    });
    assert!(woke.load(Ordering::Relaxed));
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            let c = b.alloc().unwrap();
            b.send(0, c, 0);
        });
        let t = Instant::now();
        while a.poll().is_none() {
            a.wait(Duration::from_secs(20));
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "send did not wake the sleeper"
            );
        }
    });
    // A ring after the ticket but before the wait is not lost.
    let t = a.doorbell_ticket();
    b.ring(0);
    let start = Instant::now();
    a.wait_since(t, Duration::from_secs(20));
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// A sender whose pool is dry sleeps in wait() and is woken by the receiver's release.
#[test]
fn starved_sender_woken_by_release() {
    let fd = memfd();
    let big = super::fastbox::MAX_PAYLOAD + 1;
    let cfg = ShmConfig {
        cells_per_rank: 1,
        cell_payload: big as u32,
    };
    let a = Shm::from_fd(fd.as_raw_fd(), 2, 0, &cfg).unwrap();
    let b = Shm::from_fd(fd.as_raw_fd(), 2, 1, &cfg).unwrap();
    // A message larger than a ring carries keeps its cell until the receiver releases it.
    let c = a.alloc().unwrap();
    a.send(1, c, big);
    assert!(a.alloc().is_none());
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            let r = b.poll().unwrap();
            b.release(r);
        });
        let t = Instant::now();
        let got = loop {
            if let Some(c) = a.alloc() {
                break c;
            }
            a.wait(Duration::from_secs(20));
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "release did not wake the sender"
            );
        };
        a.free_unsent(got);
    });
}

#[test]
fn named_segment_create_open_unlink() {
    let name = format!("/oximpi-test-{}", std::process::id());
    let cfg = ShmConfig {
        cells_per_rank: 2,
        cell_payload: 16,
    };
    let a = Shm::create_named(&name, 2, 0, &cfg).unwrap();
    assert!(
        Shm::create_named(&name, 2, 0, &cfg).is_err(),
        "create must be exclusive"
    );
    let b = Shm::open_named(&name, 2, 1, &cfg).unwrap();
    Shm::unlink_named(&name).unwrap();
    assert!(Shm::open_named(&name, 2, 1, &cfg).is_err());
    let mut c = b.alloc().unwrap();
    b.payload_mut(&mut c)[..3].copy_from_slice(b"abc");
    b.send(0, c, 3);
    let r = a.poll().unwrap();
    assert_eq!((r.src(), a.payload(&r)), (1, &b"abc"[..]));
    a.release(r);
}

// ---------------------------------------------------------------------------------------
// Cross Memory Attach.

const CMA_BIG: usize = 3 << 20;

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(2654435761) >> 13) as u8
}

#[test]
fn cma_reads_child_memory() {
    if role().as_deref() == Some("cma") {
        if let Err(e) = cma::allow_peers_to_read() {
            eprintln!("allow_peers_to_read: {e}");
        }
        let big: Vec<u8> = (0..CMA_BIG).map(pattern).collect();
        let small = *b"hello, parent";
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "CMA {} {} {}",
            big.as_ptr() as usize,
            small.as_ptr() as usize,
            small.len()
        )
        .unwrap();
        out.flush().unwrap();
        drop(out);
        // Stay alive (and keep the buffers) until the parent closes our stdin.
        let mut sink = String::new();
        let _ = std::io::stdin().read_line(&mut sink);
        std::hint::black_box((&big, &small));
        return;
    }
    let mut child = spawn_child(&test_path("cma_reads_child_memory"), "cma", None, true);
    let pid = child.get().id() as i32;
    let mut lines = BufReader::new(child.get().stdout.take().unwrap()).lines();
    let line = loop {
        // The harness prints "test <name> ... " without a newline before the test's output.
        let l = lines.next().expect("child ended early").unwrap();
        if let Some(at) = l.find("CMA ") {
            break l[at + 4..].to_string();
        }
    };
    let v: Vec<usize> = line.trim().split(' ').map(|x| x.parse().unwrap()).collect();
    let (big, small, small_len) = (v[0], v[1], v[2]);

    // Remote: the big buffer as 2000-byte pieces (more than IOV_MAX of them), then the small one.
    let mut remote: Vec<(usize, usize)> = (0..CMA_BIG)
        .step_by(2000)
        .map(|o| (big + o, 2000.min(CMA_BIG - o)))
        .collect();
    assert!(remote.len() > 1024);
    remote.push((small, small_len));
    // Local: uneven slices.
    let mut a = vec![0u8; 1000];
    let mut b = vec![0u8; CMA_BIG - 1000 + 5];
    let mut c = vec![0u8; small_len - 5 + 100];
    let mut local = [
        IoSliceMut::new(&mut a),
        IoSliceMut::new(&mut b),
        IoSliceMut::new(&mut c),
    ];
    let res = cma::read_from(pid, &remote, &mut local);
    drop(child.get().stdin.take()); // let the child finish
    match res {
        Err(e)
            if e.raw_os_error() == Some(libc::EPERM) || e.raw_os_error() == Some(libc::ENOSYS) =>
        {
            eprintln!(
                "SKIPPED cma_reads_child_memory: the kernel forbids process_vm_readv here: {e}"
            );
        }
        Err(e) => panic!("process_vm_readv failed: {e}"),
        Ok(n) => {
            assert_eq!(n, CMA_BIG + small_len);
            let mut all = a.clone();
            all.extend_from_slice(&b);
            all.extend_from_slice(&c[..small_len - 5]);
            for (i, &x) in all[..CMA_BIG].iter().enumerate() {
                assert_eq!(x, pattern(i), "byte {i}");
            }
            assert_eq!(&all[CMA_BIG..], b"hello, parent");
            assert!(
                c[small_len - 5..].iter().all(|&x| x == 0),
                "wrote past the data"
            );
        }
    }
    wait_ok(child, "cma child");
    // A bad remote address is an error, not a crash.
    let mut buf = [0u8; 8];
    assert!(cma::read_from(
        std::process::id() as i32,
        &[(8, 8)],
        &mut [IoSliceMut::new(&mut buf)]
    )
    .is_err());
}

// ---------------------------------------------------------------------------------------
// Latency: 8-byte ping-pong between two processes, busy-polling.

const PP_ITERS: usize = 100_000;
const PP_RUNS: usize = 5;

fn pin(cpu: usize) {
    // SAFETY: cpu_set_t is plain data; CPU_SET stays within it for cpu < 1024.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn pingpong(shm: &Shm, peer: usize, first: bool, iters: usize) {
    let recv = || loop {
        if let Some(r) = shm.poll() {
            assert_eq!(r.len(), 8);
            shm.release(r);
            return;
        }
        std::hint::spin_loop();
    };
    for _ in 0..iters {
        if !first {
            recv();
        }
        let mut c = loop {
            if let Some(c) = shm.alloc() {
                break c;
            }
            std::hint::spin_loop();
        };
        shm.payload_mut(&mut c)[..8].copy_from_slice(&42u64.to_le_bytes());
        shm.send(peer, c, 8);
        if first {
            recv();
        }
    }
}

/// `OXIMPI_PIN=1` pins the two processes to CPUs 0 and 1.
#[test]
#[ignore = "measurement, run explicitly"]
fn pingpong_latency() {
    let pinned = std::env::var("OXIMPI_PIN").as_deref() == Ok("1");
    let cfg = ShmConfig::default();
    if role().as_deref() == Some("pong") {
        if pinned {
            pin(1);
        }
        let shm = Shm::from_fd(inherited_fd(), 2, 1, &cfg).unwrap();
        pingpong(&shm, 0, false, PP_ITERS * PP_RUNS + 1000);
        return;
    }
    if pinned {
        pin(0);
    }
    let fd = memfd();
    let shm = Shm::from_fd(fd.as_raw_fd(), 2, 0, &cfg).unwrap();
    let child = spawn_child(
        &test_path("pingpong_latency"),
        "pong",
        Some(fd.as_raw_fd()),
        false,
    );
    pingpong(&shm, 1, true, 1000); // warm-up
    let mut half_rtt_ns: Vec<f64> = (0..PP_RUNS)
        .map(|_| {
            let t = Instant::now();
            pingpong(&shm, 1, true, PP_ITERS);
            t.elapsed().as_nanos() as f64 / PP_ITERS as f64 / 2.0
        })
        .collect();
    wait_ok(child, "pong");
    half_rtt_ns.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "shm one-way latency, 8 B, {} : median {:.0} ns over {PP_RUNS} runs of {PP_ITERS} (min {:.0}, max {:.0})",
        if pinned { "pinned to CPUs 0/1" } else { "unpinned" },
        half_rtt_ns[PP_RUNS / 2],
        half_rtt_ns[0],
        half_rtt_ns[PP_RUNS - 1]
    );
}

/// Non-overtaking across the fast box and the queue: one thread sends 200 000 messages whose
/// sizes straddle the box's payload (so some must be queued) in bursts (so the box is often
/// full and later small ones are queued behind it), the other receives them; every message
/// arrives once, in order, intact.
#[test]
fn fast_box_small_sends_and_queue_keep_fifo_between_threads() {
    use super::fastbox::MAX_PAYLOAD as FBOX_PAYLOAD;
    const N: u64 = 200_000;
    let fd = memfd();
    let cfg = ShmConfig {
        cells_per_rank: 8,
        cell_payload: 2 * FBOX_PAYLOAD as u32,
    };
    let a = Shm::from_fd(fd.as_raw_fd(), 2, 0, &cfg).unwrap();
    let b = Shm::from_fd(fd.as_raw_fd(), 2, 1, &cfg).unwrap();
    let size = |seq: u64| match seq % 7 {
        0 => FBOX_PAYLOAD + 1 + (seq % 300) as usize,
        1 => FBOX_PAYLOAD,
        _ => (seq % 64) as usize,
    };
    let byte = |seq: u64, k: usize| (seq as u8).wrapping_mul(13).wrapping_add(k as u8);
    let small = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            for seq in 0..N {
                let n = size(seq);
                // Every third message tries the cell-less path first (full and compact
                // headers); it must keep FIFO with the cells around it.
                if seq % 3 == 2 && n <= super::segment::SMALL_MAX {
                    let mut h = [0u8; HDR_BYTES];
                    h[..8].copy_from_slice(&seq.to_le_bytes());
                    if seq % 2 == 0 {
                        h[16..24].copy_from_slice(&(n as u64).to_ne_bytes());
                    }
                    let body: Vec<u8> = (0..n).map(|k| byte(seq, k)).collect();
                    if a.send_small(1, &h, &body) {
                        small.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        continue;
                    }
                }
                let mut c = loop {
                    match a.alloc() {
                        Some(c) => break c,
                        None => a.wait(Duration::from_millis(10)),
                    }
                };
                let (h, p) = a.parts_mut(&mut c);
                h[..8].copy_from_slice(&seq.to_le_bytes());
                for (k, x) in p[..n].iter_mut().enumerate() {
                    *x = byte(seq, k);
                }
                a.send(1, c, n);
            }
        });
        for seq in 0..N {
            let r = loop {
                match b.poll() {
                    Some(r) => break r,
                    None => b.wait(Duration::from_millis(10)),
                }
            };
            let got = u64::from_le_bytes(b.header(&r)[..8].try_into().unwrap());
            assert_eq!(got, seq, "order");
            assert_eq!(r.len(), size(seq));
            assert!(b
                .payload(&r)
                .iter()
                .enumerate()
                .all(|(k, &x)| x == byte(seq, k)));
            b.release(r);
        }
        assert!(b.poll().is_none());
    });
    // How many went cell-less depends on timing (a queued cell keeps the ring closed);
    // `small_send_waits_for_queued_cells` checks the rule itself.
    let _ = small.into_inner();
}

/// A cell-less send goes by the ring when nothing of the sender's is queued, is refused
/// while a queued cell is out (it could overtake it), and goes again once the cell is back.
#[test]
fn small_send_waits_for_queued_cells() {
    use super::fastbox::MAX_PAYLOAD as FBOX_PAYLOAD;
    let fd = memfd();
    let cfg = ShmConfig {
        cells_per_rank: 4,
        cell_payload: 2 * FBOX_PAYLOAD as u32,
    };
    let a = Shm::from_fd(fd.as_raw_fd(), 2, 0, &cfg).unwrap();
    let b = Shm::from_fd(fd.as_raw_fd(), 2, 1, &cfg).unwrap();
    let hdr = |seq: u8| {
        let mut h = [0u8; HDR_BYTES];
        h[0] = seq;
        h
    };
    assert!(a.send_small(1, &hdr(0), &[10; 8]));
    assert!(!a.send_small(0, &hdr(9), &[0; 8]), "not to myself");
    assert!(
        !a.send_small(1, &hdr(9), &[0; super::segment::SMALL_MAX + 1]),
        "over SMALL_MAX"
    );
    let mut c = a.alloc().unwrap();
    a.header_mut(&mut c).copy_from_slice(&hdr(1));
    a.send(1, c, FBOX_PAYLOAD + 1);
    assert!(!a.send_small(1, &hdr(9), &[0; 8]), "a queued cell is out");
    for seq in 0..2u8 {
        let r = b.poll().expect("delivered");
        assert_eq!(b.header(&r)[0], seq);
        b.release(r);
    }
    // `alloc` takes the returned cell back; then the ring is open again.
    a.free_unsent(a.alloc().unwrap());
    assert!(a.send_small(1, &hdr(2), &[12; 8]));
    let r = b.poll().expect("delivered");
    assert_eq!((b.header(&r)[0], b.payload(&r)), (2, &[12u8; 8][..]));
    b.release(r);
    assert!(b.poll().is_none());
}

/// The CPU hints (`segment::placement`): a rank finds a peer that last waited on its CPU;
/// of such a pair only the higher rank moves, and its answer always agrees with the hints
/// it leaves (false: it now runs apart, as far as the hints know).
#[test]
fn cpu_hints_find_a_peer_on_my_cpu() {
    let (_fd, a, b) = two_ranks();
    assert_eq!(a.cpu_hint(1), None, "no hint before the first wait");
    // Pinned to one CPU (in a thread of its own, so the test process keeps its mask): no
    // move is possible, the lower rank never moves either.
    std::thread::spawn(move || {
        // SAFETY: cpu_set_t is plain data; the calls read/write only these live sets.
        let cpu = unsafe {
            let cpu = libc::sched_getcpu();
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu as usize, &mut one);
            assert_eq!(
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one),
                0
            );
            cpu as u32
        };
        assert!(!a.peer_on_my_cpu(), "no peer has a hint yet");
        assert_eq!(b.cpu_hint(0), Some(cpu), "my hint is where I run");
        b.set_cpu_hint_of(1, cpu + 1);
        assert!(!a.peer_on_my_cpu(), "the peer waited elsewhere");
        b.set_cpu_hint_of(1, cpu);
        assert!(a.peer_on_my_cpu(), "the peer waited here");
        assert!(b.peer_on_my_cpu(), "pinned: the higher rank cannot move");
        assert_eq!(a.cpu_hint(1), Some(cpu));
    })
    .join()
    .unwrap();
    // Unpinned: whether the higher rank could move depends on the machine's CPUs; its
    // answer matches the hints either way.
    let (_fd2, a, b) = two_ranks();
    // SAFETY: sched_getcpu takes no arguments.
    let cpu = unsafe { libc::sched_getcpu() } as u32;
    b.set_cpu_hint_of(0, cpu);
    std::thread::spawn(move || {
        let shared = b.peer_on_my_cpu();
        assert_eq!(shared, a.cpu_hint(1) == a.cpu_hint(0));
        assert!(a.cpu_hint(1).is_some());
    })
    .join()
    .unwrap();
}
