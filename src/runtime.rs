//! The process's MPI state: start-up (PMI, shared segment, engine, the predefined
//! communicators), finalize and abort.

use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::object::errhandler::Errhandler;
use crate::object::group::Group;
use crate::p2p::Engine;
use crate::pmi::Pmi;
use crate::settings::Value;
use crate::transport::net::Net;
use crate::transport::shm::{Shm, ShmConfig};
use crate::transport::sock::Card;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::ThreadId;

pub use crate::p2p::NodeEngine;

pub struct Runtime {
    pub engine: NodeEngine,
    pub world: Comm,
    pub self_comm: Comm,
    pub rank: u32,
    pub size: u32,
    pub appnum: i32,
    pub main_thread: ThreadId,
    pub pmi: Mutex<Option<Pmi>>,
    pub universe_size: i32,
    /// Context ids in use by this process.
    pub contexts: Mutex<crate::object::context::Contexts>,
    /// Node number of each world rank (ranks with the same number share memory).
    pub node_of: Vec<u32>,
    /// Who our job is to processes of other jobs (see `dpm`).
    pub job: JobIdentity,
    /// The job was started by MPI_Comm_spawn.
    pub spawned: bool,
}

impl Runtime {
    /// How this process reaches other jobs (ports, their processes): the dynamic-process
    /// layer's view of the transport.
    pub fn links(&self) -> &dyn crate::transport::links::Links {
        &self.engine.fab
    }
}

/// A job's identity towards other jobs: process `rank` of the job is `key | rank` (its gpid),
/// and connections to the job's processes must present `token`.
#[derive(Clone, Copy, Debug)]
pub struct JobIdentity {
    pub key: u64,
    pub token: u64,
}

/// Ranks fit below this bit in a gpid; the job key is above.
pub const GPID_RANK_BITS: u32 = 24;

/// The job key comes from what the launcher made unique (its kvs name, unique per launcher
/// and job, plus the host and the job secret); the token from the job secret, which only the
/// job's processes know. A singleton or a foreign launcher without a secret gets random ones.
fn job_identity(pmi: Option<&Pmi>) -> JobIdentity {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let secret = std::env::var("OXIMPI_JOB_SECRET").ok();
    let mut h = DefaultHasher::new();
    match pmi {
        // Every rank of the job, on whichever host, must come to the same key.
        Some(p) => p.kvsname().hash(&mut h),
        None => {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            host.hash(&mut h);
            crate::transport::sock::random_u64().hash(&mut h);
        }
    }
    secret.hash(&mut h);
    let key = h.finish() << GPID_RANK_BITS;
    let token = match &secret {
        Some(s) => {
            let mut t = DefaultHasher::new();
            ("token", s).hash(&mut t);
            t.finish()
        }
        // Without a secret the processes agree on a token through the process manager
        // (rank 0 draws one in `attach_segment`, or from the TCP key); this placeholder,
        // derived from the key, is replaced before any connection is made.
        None if pmi.is_some() => key.rotate_left(17) ^ 0x6f78_696d_7069,
        None => crate::transport::sock::random_u64(),
    };
    JobIdentity { key, token }
}

const UNINIT: u8 = 0;
const READY: u8 = 1;
const DONE: u8 = 2;
/// The engine runs but no model uses it: every session was finalized and MPI_Init has not
/// been called. MPI is not initialized (calls fail as before MPI_Init), yet the next
/// MPI_Session_init or MPI_Init finds the engine as it was, so objects made in one session
/// (datatypes, ops, ...) live on into the next, as MPI 4.1 section 11.3.1 wants.
const IDLE: u8 = 3;

/// The engine (PMI, segment, transports): started by whichever of MPI_Init and
/// MPI_Session_init comes first. MPI_Finalize (with no session open, or the last session
/// finalize after it) tears it down for good. When the last session ends without the World
/// model the engine goes IDLE instead, and the launcher hears of the process's end (PMI
/// barrier and finalize) at exit, unless a model starts again before.
static STATE: AtomicU8 = AtomicU8::new(UNINIT);
/// The World model: MPI_Init .. MPI_Finalize (what MPI_Initialized/MPI_Finalized report).
static WORLD: AtomicU8 = AtomicU8::new(UNINIT);
/// Sessions currently open.
static SESSIONS: AtomicUsize = AtomicUsize::new(0);
/// Run first at MPI_Finalize, while everything still works (attribute delete callbacks of
/// MPI_COMM_SELF, registered by the attribute chapter).
static FINALIZE_HOOKS: Mutex<Vec<fn() -> Result<(), MpiError>>> = Mutex::new(Vec::new());
static RT: OnceLock<Runtime> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());
/// The thread level the user was given (MPI_Query_thread). Below MPI_THREAD_MULTIPLE the
/// engine's locks go exclusive (no locked instruction, see `lock_mode_for`).
static THREAD_LEVEL: AtomicI32 = AtomicI32::new(0);
/// Set by `abort`: the exit hook must not talk to the launcher of a job being aborted.
static ABORTING: AtomicBool = AtomicBool::new(false);

/// Context ids: each communicator takes a block of 4 (point-to-point, collective, and two
/// spare for partitioned and internal traffic).
pub const WORLD_CONTEXT: u32 = 0;
pub const SELF_CONTEXT: u32 = 4;
pub const FIRST_USER_CONTEXT: u32 = 8;

#[inline]
pub fn get() -> Option<&'static Runtime> {
    if STATE.load(Ordering::Acquire) == READY {
        RT.get()
    } else {
        None
    }
}

/// MPI_Initialized: MPI_Init has been called (sessions do not count).
pub fn initialized() -> bool {
    WORLD.load(Ordering::Acquire) != UNINIT
}

/// MPI_Finalized: MPI_Finalize has been called.
pub fn finalized() -> bool {
    WORLD.load(Ordering::Acquire) == DONE
}

/// True between MPI_Init and MPI_Finalize: MPI_COMM_WORLD and MPI_COMM_SELF are usable.
#[inline]
pub fn world_active() -> bool {
    WORLD.load(Ordering::Acquire) == READY
}

/// Registers `f` to run at the start of MPI_Finalize (once per registration).
pub fn at_finalize(f: fn() -> Result<(), MpiError>) {
    FINALIZE_HOOKS.lock().push(f);
}

/// The running runtime, or the error MPI requires when called outside Init..Finalize.
/// (Always inlined, the error built out of line: every MPI call asks, and called out of
/// line it cost each MPI_Isend/MPI_Irecv a call and a Result through memory, ~19
/// instructions under callgrind.)
#[inline(always)]
pub fn rt() -> Result<&'static Runtime, MpiError> {
    match get() {
        Some(r) => Ok(r),
        None => Err(not_running()),
    }
}

/// Why there is no runtime: the error `rt` returns.
#[cold]
#[inline(never)]
fn not_running() -> MpiError {
    match STATE.load(Ordering::Acquire) {
        DONE => MpiError::new(class::ERR_OTHER, "MPI has already been finalized"),
        IDLE => MpiError::new(
            class::ERR_OTHER,
            "MPI is not initialized (every session was finalized and MPI_Init was not called)",
        ),
        _ => MpiError::new(class::ERR_OTHER, "MPI has not been initialized"),
    }
}

/// The thread levels, numbered in the standard's order (SINGLE < FUNNELED < SERIALIZED <
/// MULTIPLE), which are also the values of MPICH's mpi.h: the C surface passes them through.
pub mod thread_level {
    pub const THREAD_SINGLE: i32 = 0;
    pub const THREAD_FUNNELED: i32 = 1;
    pub const THREAD_SERIALIZED: i32 = 2;
    pub const THREAD_MULTIPLE: i32 = 3;
}

/// MPI_Query_thread: the level MPI_Init or MPI_Init_thread gave.
pub fn thread_level() -> i32 {
    THREAD_LEVEL.load(Ordering::Acquire)
}

/// The thread level named `name` (`MPI_THREAD_SINGLE` ... `MPI_THREAD_MULTIPLE`, read
/// case-insensitively and trimmed), as MPICH's environment variable and session info take it.
pub fn thread_level_named(name: &str) -> Option<i32> {
    use thread_level::*;
    [
        THREAD_SINGLE,
        THREAD_FUNNELED,
        THREAD_SERIALIZED,
        THREAD_MULTIPLE,
    ]
    .into_iter()
    .find(|&level| name.trim().eq_ignore_ascii_case(thread_level_name(level)))
}

/// The name of thread level `level` (one of `thread_level`'s constants).
pub fn thread_level_name(level: i32) -> &'static str {
    use thread_level::*;
    match level {
        THREAD_SINGLE => "MPI_THREAD_SINGLE",
        THREAD_FUNNELED => "MPI_THREAD_FUNNELED",
        THREAD_SERIALIZED => "MPI_THREAD_SERIALIZED",
        _ => "MPI_THREAD_MULTIPLE",
    }
}

/// The thread level MPI_Init gives: MPI_THREAD_SINGLE unless MPIR_CVAR_DEFAULT_THREAD_LEVEL
/// names another (MPICH's variable, read case-insensitively as MPICH does; MPICH exits on a
/// value it does not know, we fail MPI_Init with an error naming it).
pub fn default_thread_level() -> Result<i32, MpiError> {
    const VAR: &str = "MPIR_CVAR_DEFAULT_THREAD_LEVEL";
    let Ok(v) = std::env::var(VAR) else {
        return Ok(thread_level::THREAD_SINGLE);
    };
    thread_level_named(&v).ok_or_else(|| {
        MpiError::new(
            class::ERR_ARG,
            format!(
                "{VAR}={v:?} is not a thread level (MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED, \
                 MPI_THREAD_SERIALIZED or MPI_THREAD_MULTIPLE)"
            ),
        )
    })
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok()
}

/// MPI_Init / MPI_Init_thread with a valid level `required`; returns the level provided:
/// the one asked for, as MPICH gives (every level can be given: below MULTIPLE the engine's
/// locks cost nothing, at MULTIPLE they are real, see `lock_mode_for`).
pub fn init(required: i32) -> Result<i32, MpiError> {
    let _g = INIT_LOCK.lock();
    match WORLD.load(Ordering::Acquire) {
        READY => return Err(MpiError::new(class::ERR_OTHER, "MPI_Init called twice")),
        DONE => {
            return Err(MpiError::new(
                class::ERR_OTHER,
                "MPI cannot be initialized again after MPI_Finalize",
            ))
        }
        _ => {}
    }
    let fresh = STATE.load(Ordering::Acquire) == UNINIT;
    start()?;
    lock_mode_for(required, fresh);
    THREAD_LEVEL.store(required, Ordering::Release);
    WORLD.store(READY, Ordering::Release);
    Ok(required)
}

/// The engine's locking mode after MPI_Init gave `level` (see `transport::exclusive`):
/// exclusive below MPI_THREAD_MULTIPLE when this MPI_Init started the engine (`fresh`), so
/// no session, which provides MULTIPLE, ever ran; shared otherwise. Safe to switch here:
/// until MPI_Init returns no other thread may call MPI, and `start` leaves no lock held.
///
/// `OXIMPI_LOCKS=shared` keeps the locks of MPI_THREAD_MULTIPLE at every level (to measure
/// what exclusive mode saves, or to run a program that breaks its thread-level promise);
/// `exclusive` or unset: the default above. Read here, once, at MPI_Init (the knob
/// `settings::LOCKS`, also an MPI_T control variable).
fn lock_mode_for(level: i32, fresh: bool) {
    use crate::settings::{Value, LOCKS};
    let asked = LOCKS.get_text().unwrap_or_default();
    let forced_shared = match asked.trim() {
        v if v.eq_ignore_ascii_case("shared") => true,
        v if v.is_empty() || v.eq_ignore_ascii_case("exclusive") => false,
        v => {
            eprintln!("oximpi: ignoring OXIMPI_LOCKS={v:?} (want \"shared\" or \"exclusive\")");
            false
        }
    };
    let exclusive = fresh && level < thread_level::THREAD_MULTIPLE && !forced_shared;
    crate::transport::exclusive::set_shared(!exclusive);
    let mode = if exclusive { "exclusive" } else { "shared" };
    LOCKS.set_effective(Value::Text(mode.into()));
}

/// MPI_Session_init's share: the engine running, one more session counted.
pub fn session_init() -> Result<(), MpiError> {
    let _g = INIT_LOCK.lock();
    start()?;
    // Sessions provide MPI_THREAD_MULTIPLE: real locks from here on, for good (the World
    // model may be at a lower level, but this call is then, by its promise, the only one
    // in the library, and no engine lock is held between calls).
    crate::transport::exclusive::set_shared(true);
    crate::settings::LOCKS.set_effective(crate::settings::Value::Text("shared".into()));
    SESSIONS.fetch_add(1, Ordering::AcqRel);
    Ok(())
}

/// MPI_Session_finalize's share: one session fewer. With the last one the engine stops for
/// good if MPI_Finalize was called, else it goes idle (see IDLE): sessions may be created
/// again, and MPI_Init may still come (MPI 4.1 section 11.2; MPICH 4.0.2 means to allow
/// both too, though its ch4:ucx build crashes re-initializing).
pub fn session_finalize() -> Result<(), MpiError> {
    let _g = INIT_LOCK.lock();
    let left = SESSIONS.fetch_sub(1, Ordering::AcqRel) - 1;
    if left == 0 {
        match WORLD.load(Ordering::Acquire) {
            READY => {}
            DONE => teardown()?,
            _ => go_idle()?,
        }
    }
    Ok(())
}

/// No model uses the engine any more, but the process may start one again: complete our
/// outstanding traffic and keep everything else. The launcher is told at exit.
fn go_idle() -> Result<(), MpiError> {
    let rt = rt()?;
    rt.engine.quiesce();
    STATE.store(IDLE, Ordering::Release);
    Ok(())
}

/// For process exit (MPI_Session_init registers it with atexit): an idle engine (sessions
/// only, all finalized) finishes with the launcher as MPI_Finalize would (PMI barrier,
/// finalize), so the launcher sees a clean end. Does nothing in any other state: a process
/// that exits inside MPI or after an abort is judged by the launcher as it should be.
pub fn at_exit() {
    if ABORTING.load(Ordering::Acquire) {
        return;
    }
    let _g = INIT_LOCK.lock();
    if STATE.load(Ordering::Acquire) == IDLE {
        STATE.store(READY, Ordering::Release);
        if let Err(e) = teardown() {
            eprintln!("OxiMPI: at exit: {}", e.message);
        }
    }
}

/// Starts the engine once, or wakes an idle one (caller holds INIT_LOCK).
fn start() -> Result<(), MpiError> {
    match STATE.load(Ordering::Acquire) {
        READY => return Ok(()),
        IDLE => {
            STATE.store(READY, Ordering::Release);
            return Ok(());
        }
        DONE => {
            return Err(MpiError::new(
                class::ERR_OTHER,
                "MPI cannot be started again after its last finalization",
            ))
        }
        _ => {}
    }
    // Before any thread of ours starts (the launcher watch, the TCP reader): the shm
    // doorbell's membarrier registration is free in a one-thread process and costs an RCU
    // grace period (~12 ms) in one with more (transport::shm::futex).
    crate::transport::shm::register_process_barrier();
    // A fault-tolerant run (-disable-auto-cleanup): take the launcher's SIGUSR1 notices from
    // before the first PMI barrier, so no rank can die and be announced to a rank that
    // has not installed the handler yet (the default action would kill it).
    let ft = crate::settings::FT.get_switch().unwrap_or(false);
    crate::settings::FT.set_effective(Value::Switch(ft));
    if ft {
        FT_RUN.store(true, Ordering::Release);
        crate::ft::detector::install();
        // The notices' signal rings no doorbell: blocked ranks must poll for them.
        crate::progress::nap::poll_notices();
        // Ranks that died before we listened were not signalled to us: read the list once.
        FT_NOTICE_DUE.store(true, Ordering::Release);
    }
    let mut pmi = Pmi::connect().map_err(|e| {
        MpiError::new(
            class::ERR_OTHER,
            format!("cannot reach the process manager: {e}"),
        )
    })?;
    let (rank, size, appnum) = match &pmi {
        Some(p) => (p.rank(), p.size(), p.appnum()),
        None => (0, 1, 0),
    };
    let universe_size = match pmi.as_mut() {
        // Hydra says -1 when not given -usize: not a size to show the program.
        Some(p) => p
            .universe_size()
            .ok()
            .filter(|&u| u > 0)
            .unwrap_or(size as i32),
        None => 1,
    };
    // Which ranks share this node, and my index among them.
    let node_of: Vec<u32> = match pmi.as_mut() {
        Some(p) => p.node_map().unwrap_or_else(|_| vec![0; size as usize]),
        None => vec![0],
    };
    let my_node = node_of[rank as usize];
    let forced_tcp = forced_tcp()?;
    // Ranks reached over TCP: those on other nodes, or every other rank when forced.
    let over_tcp = |r: u32| r != rank && (forced_tcp || node_of[r as usize] != my_node);
    let tcp_ranks: Vec<u32> = (0..size).filter(|&r| over_tcp(r)).collect();
    let mut local_of: Vec<Option<usize>> = vec![None; size as usize];
    let mut nlocal = 0;
    for (r, n) in node_of.iter().enumerate() {
        if *n == my_node {
            local_of[r] = Some(nlocal);
            nlocal += 1;
        }
    }
    let me_local = local_of[rank as usize].expect("own rank is local");
    // TCP peers come after the node's slots (see `transport::net`).
    for (i, &r) in tcp_ranks.iter().enumerate() {
        local_of[r as usize] = Some(nlocal + i);
    }
    let cfg = ShmConfig::from_env();
    let (shm, kvs_token) = attach_segment(pmi.as_mut(), nlocal, me_local, &cfg)?;
    let _ = crate::transport::shm::cma::allow_peers_to_read();
    let mut job = job_identity(pmi.as_ref());
    if let Some(t) = kvs_token {
        job.token = t;
    } else if size == 1 && std::env::var_os("OXIMPI_JOB_SECRET").is_none() {
        // Alone in its job, a process agrees with nobody: its token can be random.
        job.token = crate::transport::sock::random_u64();
    }
    // Every rank takes the same decision (same node map, same environment): the exchange
    // below has a PMI barrier, so all must come or none.
    let job_uses_tcp = size > 1 && (forced_tcp || node_of.iter().any(|n| *n != node_of[0]));
    let tcp = match (job_uses_tcp, pmi.as_mut()) {
        (true, Some(p)) => Some(tcp_exchange(p, rank, &tcp_ranks, shm.payload_capacity())?),
        _ => None,
    };
    // Without a launcher's secret (hydra, Slurm) the token above derives from the job key,
    // which every process id shows; a job that spans hosts has a random TCP key from rank
    // 0, so its cards take a token from that instead.
    if std::env::var_os("OXIMPI_JOB_SECRET").is_none() {
        if let Some((_, cfg)) = &tcp {
            job.token = crate::transport::tcp::sock_token(&cfg.key);
        }
    }
    let net = Net::new(shm, tcp).map_err(|e| {
        MpiError::new(
            class::ERR_OTHER,
            format!("cannot start the TCP transport: {e}"),
        )
    })?;
    net.set_identity(Card {
        gpid: job.key | rank as u64,
        token: job.token,
    });
    let engine = Engine::new(net, rank, local_of);
    // MPI_T: the segment's geometry is fixed now, and the queue lengths are read from the
    // engine's state when a tool asks.
    crate::settings::SHM_CELLS.set_effective(Value::Unsigned(cfg.cells_per_rank as u64));
    crate::settings::SHM_CELL_SIZE.set_effective(Value::Unsigned(cfg.cell_payload as u64));
    crate::tool::counters::set_queue_reader(|| match get() {
        Some(rt) => {
            let st = rt.engine.lock();
            (st.q.unexpected.len() as u64, st.q.posted.len() as u64)
        }
        None => (0, 0),
    });
    // A fault-tolerant run (the launcher was given -disable-auto-cleanup): the launcher's
    // failure notices feed the failed set (see `crate::ft`).
    crate::ft::members::enable();
    let world = Comm::new(
        WORLD_CONTEXT,
        rank,
        Arc::new(Group::new((0..size).collect())),
        "MPI_COMM_WORLD",
    );
    let self_comm = Comm::new(
        SELF_CONTEXT,
        0,
        Arc::new(Group::new(vec![rank])),
        "MPI_COMM_SELF",
    );
    *world.errhandler.lock() = Errhandler::Fatal;
    *self_comm.errhandler.lock() = Errhandler::Fatal;
    let rt = Runtime {
        engine,
        world,
        self_comm,
        rank,
        size,
        appnum,
        main_thread: std::thread::current().id(),
        pmi: Mutex::new(pmi),
        universe_size,
        contexts: Mutex::new(crate::object::context::Contexts::new(&[
            WORLD_CONTEXT,
            SELF_CONTEXT,
        ])),
        node_of,
        job,
        spawned: std::env::var("PMI_SPAWNED").is_ok_and(|v| v.trim() == "1"),
    };
    if RT.set(rt).is_err() {
        return Err(MpiError::intern("runtime initialized twice"));
    }
    if let Some(rt) = RT.get() {
        rt.engine.add_poller(&FT_POLLER);
    }
    STATE.store(READY, Ordering::Release);
    Ok(())
}

/// The fault-tolerance poller: reads the launcher's failure notices into the failed set,
/// takes revoke notices, and ends the operations either made impossible. Runs in every
/// wait and test of a fault-tolerant run.
struct FtPoller;

static FT_POLLER: FtPoller = FtPoller;
/// A notice arrived while the PMI connection was busy: read the key at the next poll.
static FT_NOTICE_DUE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// A fault-tolerant run (OXIMPI_FT): the launcher's notices and lost peers are watched.
static FT_RUN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl crate::progress::Poller for FtPoller {
    fn poll(&self) -> bool {
        use crate::ft;
        // Every wait round runs this. Outside a fault-tolerant run only a revoke (ours, or a
        // notice that arrived) gives it work: four loads otherwise.
        if !FT_RUN.load(Ordering::Relaxed)
            && !crate::p2p::matching::CONTROL_ARRIVED.load(Ordering::Relaxed)
            && !ft::any_revoked()
            && ft::epoch() == 0
        {
            return false;
        }
        let Some(rt) = get() else { return false };
        let mut did = false;
        let due =
            FT_NOTICE_DUE.load(Ordering::Relaxed) && FT_NOTICE_DUE.swap(false, Ordering::AcqRel);
        if due || ft::detector::notice() {
            match rt.pmi.try_lock() {
                Some(mut p) => {
                    if let Some(Ok(v)) = p.as_mut().map(|p| p.get(ft::detector::DEAD_KEY)) {
                        did |= ft::add_failed(ft::detector::parse_dead(&v));
                    }
                }
                None => FT_NOTICE_DUE.store(true, Ordering::Release),
            }
        }
        // A peer lost by a transport (TCP: it hung up without a goodbye) has failed too:
        // the only notice of a death on another host when the launcher does not signal it.
        let lost = rt.engine.lost_peers();
        if !lost.is_empty() {
            did |= ft::add_failed(lost.into_iter().map(|(ep, _)| ep));
        }
        if crate::p2p::matching::CONTROL_ARRIVED.load(Ordering::Relaxed) {
            did |= ft::revoke::poll_notices(&rt.engine, rt.rank);
        }
        if ft::epoch() != 0 || ft::any_revoked() {
            did |= ft::members::sweep(&rt.engine, ft::acked_all) > 0;
        }
        did
    }
}

/// OXIMPI_TRANSPORT: true for "tcp" (every peer over TCP); empty or "auto" is the default.
fn forced_tcp() -> Result<bool, MpiError> {
    let v = crate::settings::TRANSPORT.get_text().unwrap_or_default();
    let forced = match v.trim().to_ascii_lowercase().as_str() {
        "" | "auto" => false,
        "tcp" => true,
        _ => {
            return Err(MpiError::new(
                class::ERR_ARG,
                format!("OXIMPI_TRANSPORT={v:?} is not a transport (\"auto\" or \"tcp\")"),
            ))
        }
    };
    crate::settings::TRANSPORT
        .set_effective(Value::Text(if forced { "tcp" } else { "auto" }.into()));
    Ok(forced)
}

/// KVS keys of the TCP exchange: the job key (when the launcher gave no secret) and each
/// rank's card.
const TCP_KEY_KVS: &str = "oximpi-tcp-key";
const TCP_CARD_KVS: &str = "oximpi-tcp-card";

/// The TCP business-card exchange (collective over the job): listen, publish our card
/// (and, from rank 0 when the launcher set no OXIMPI_JOB_SECRET, a random job key) before
/// the PMI barrier, then read the key and our peers' cards.
fn tcp_exchange(
    p: &mut Pmi,
    rank: u32,
    tcp_ranks: &[u32],
    max_payload: usize,
) -> Result<
    (
        crate::transport::tcp::Listener,
        crate::transport::tcp::Config,
    ),
    MpiError,
> {
    use crate::transport::tcp;
    let fail = |what: String| MpiError::new(class::ERR_OTHER, what);
    let perr = |e: crate::pmi::PmiError| fail(format!("process manager: {e}"));
    let iface = crate::settings::TCP_IFACE.get_text();
    let listener = tcp::Listener::bind(iface.as_deref())
        .map_err(|e| fail(format!("cannot listen for TCP connections: {e}")))?;
    crate::settings::TCP_IFACE.set_effective(Value::Text(listener.card()));
    let env_key = tcp::key_from_env();
    if env_key.is_none() && rank == 0 {
        let k = tcp::random_bytes::<32>()
            .map_err(|e| fail(format!("no random job key for TCP: {e}")))?;
        p.put(TCP_KEY_KVS, &tcp::to_hex(&k)).map_err(perr)?;
    }
    p.put(&format!("{TCP_CARD_KVS}-{rank}"), &listener.card())
        .map_err(perr)?;
    p.barrier().map_err(perr)?;
    let key = match env_key {
        Some(k) => k,
        None => {
            let v = p.get(TCP_KEY_KVS).map_err(perr)?;
            tcp::key_from_hex(&v)
                .ok_or_else(|| fail(format!("bad TCP job key in the process manager: {v:?}")))?
        }
    };
    let mut peers = Vec::with_capacity(tcp_ranks.len());
    for &r in tcp_ranks {
        let v = p.get(&format!("{TCP_CARD_KVS}-{r}")).map_err(perr)?;
        let card = v
            .trim()
            .parse()
            .map_err(|_| fail(format!("rank {r} published a bad TCP address {v:?}")))?;
        peers.push((r, card));
    }
    Ok((
        listener,
        tcp::Config {
            me: rank,
            key,
            peers,
            max_payload,
        },
    ))
}

/// KVS key of the random job token rank 0 draws under a launcher without a secret.
const TOKEN_KVS: &str = "oximpi-token";

/// Maps the node's shared segment: inherited from our mpiexec, or created by the first
/// local rank and found by the others through PMI under a foreign launcher.
///
/// Under a foreign launcher that set no `OXIMPI_JOB_SECRET` (hydra, Slurm) the exchange
/// also carries a random job token from rank 0, returned with the segment: without it the
/// token would derive from the job key, which every process id (gpid) of the job shows to
/// other jobs, so a stranger on the host could forge it. The KVS is readable by the job's
/// processes only. (A job spanning hosts takes its token from the TCP key instead, see `start`.)
fn attach_segment(
    pmi: Option<&mut Pmi>,
    nlocal: usize,
    me: usize,
    cfg: &ShmConfig,
) -> Result<(Shm, Option<u64>), MpiError> {
    let fail = |what: &str, e: std::io::Error| {
        MpiError::new(
            class::ERR_OTHER,
            format!("cannot {what} the shared-memory segment: {e}"),
        )
    };
    if let Some(fd) = env_usize("OXIMPI_SHM_FD") {
        return Ok((
            Shm::from_fd(fd as i32, nlocal, me, cfg).map_err(|e| fail("map", e))?,
            None,
        ));
    }
    let private = || {
        crate::transport::shm_fabric::private_segment(cfg)
            .map(|s| (s, None))
            .map_err(|e| fail("create", e))
    };
    match pmi {
        None => private(),
        Some(p) => {
            if nlocal == 1 {
                return private();
            }
            let key = "oximpi-shm";
            let perr = |e: crate::pmi::PmiError| {
                MpiError::new(class::ERR_OTHER, format!("process manager: {e}"))
            };
            let draw_token = std::env::var_os("OXIMPI_JOB_SECRET").is_none();
            // Rank 0 is its node's first local rank (me == 0): it puts before the barrier.
            if draw_token && p.rank() == 0 {
                let t = crate::transport::sock::random_u64();
                p.put(TOKEN_KVS, &format!("{t:016x}")).map_err(perr)?;
            }
            let shm = if me == 0 {
                // The name is removed once every local rank attached, or on any exit path
                // before that (see Shm::create_node_segment).
                let s = Shm::create_node_segment(p.rank(), nlocal, me, cfg)
                    .map_err(|e| fail("create", e))?;
                let name = s.segment_name().unwrap_or_default();
                p.put(&format!("{key}-{}", p.rank()), &name).map_err(perr)?;
                p.barrier().map_err(perr)?;
                p.barrier().map_err(perr)?;
                let _ = s.unlink_name();
                s
            } else {
                p.barrier().map_err(perr)?;
                // The node leader is the lowest rank on this node.
                let map = p.node_map().map_err(perr)?;
                let mine = map[p.rank() as usize];
                let leader = map.iter().position(|n| *n == mine).unwrap_or(0);
                let name = p.get(&format!("{key}-{leader}")).map_err(perr)?;
                let s = Shm::open_named(&name, nlocal, me, cfg).map_err(|e| fail("open", e))?;
                p.barrier().map_err(perr)?;
                s
            };
            if !draw_token {
                return Ok((shm, None));
            }
            let v = p.get(TOKEN_KVS).map_err(perr)?;
            let t = u64::from_str_radix(&v, 16).map_err(|_| {
                MpiError::new(
                    class::ERR_OTHER,
                    format!("bad job token in the process manager: {v:?}"),
                )
            })?;
            Ok((shm, Some(t)))
        }
    }
}

/// MPI_Finalize: runs the finalize hooks (MPI_COMM_SELF's attributes are deleted first),
/// then ends the World model; the engine stops too unless sessions still use it.
pub fn finalize() -> Result<(), MpiError> {
    if !world_active() {
        return Err(MpiError::new(
            class::ERR_OTHER,
            "MPI_Finalize without a matching MPI_Init",
        ));
    }
    let hooks: Vec<_> = FINALIZE_HOOKS.lock().clone();
    for h in hooks {
        h()?;
    }
    let _g = INIT_LOCK.lock();
    WORLD.store(DONE, Ordering::Release);
    if SESSIONS.load(Ordering::Acquire) == 0 {
        teardown()?;
    }
    Ok(())
}

/// Completes outstanding traffic of this process and tells the launcher we are done.
fn teardown() -> Result<(), MpiError> {
    let rt = rt()?;
    rt.engine.quiesce();
    if let Some(p) = rt.pmi.lock().as_mut() {
        // The barrier keeps every rank's memory (single-copy reads, cells) alive until all
        // have stopped touching it. After a rank failed (ULFM) it is skipped: hydra's
        // barrier would wait for the dead rank for ever (ours would not).
        if crate::ft::epoch() == 0 {
            p.barrier()
                .map_err(|e| MpiError::new(class::ERR_OTHER, format!("process manager: {e}")))?;
        }
        let _ = p.finalize();
    }
    STATE.store(DONE, Ordering::Release);
    Ok(())
}

/// Ends the whole job with `code` (MPI_Abort and fatal errors).
pub fn abort(code: i32, msg: &str) -> ! {
    ABORTING.store(true, Ordering::Release);
    if let Some(rt) = RT.get() {
        if let Some(mut g) = rt.pmi.try_lock() {
            if let Some(p) = g.as_mut() {
                p.abort(code, msg);
            }
        }
    }
    if !msg.is_empty() {
        eprintln!("{msg}");
    }
    std::process::exit(code)
}
