//! Schedules: a collective algorithm written once as a list of phases, each a few local
//! steps (copy, reduce) followed by sends and receives. A phase starts when every transfer
//! of the previous one has completed; its local steps run first, then its transfers are
//! posted together. The engine runs [`poll`] from every wait and test, so a schedule moves
//! on whenever any MPI call makes progress; blocking, nonblocking and persistent
//! collectives are the same schedule started differently.

use super::reduce;
use crate::error::MpiError;
use crate::object::group::Group;
use crate::op::user::Op;
use crate::p2p::NodeEngine;
use crate::p2p::{Data, Kind, Mode, RecvArgs, ReqId, SendArgs, Starter, Status, TypeKeep};
use crate::progress::{Active, Advance};
use crate::transport::mem::{OwnedBytes, UserPtr};
use std::sync::Arc;

/// MPI_BYTE, for library-owned byte buffers.
pub fn byte_type() -> TypeKeep {
    TypeKeep::Static(crate::datatype::byte())
}

/// The communicator as a schedule sees it, and the engine its transfers go through.
#[derive(Clone)]
pub struct Team {
    pub engine: &'static NodeEngine,
    pub ctx: u32,
    pub rank: usize,
    pub group: Arc<Group>,
    /// Handle of the communicator (owner of the requests, for error reporting).
    pub handle: i32,
    /// The communicator's count of collective calls (`Comm::coll_seq`).
    pub seq: Arc<std::sync::atomic::AtomicU32>,
    /// The other group of an intercommunicator. `ctx`/`group` above then describe the
    /// local group alone, and [`Schedule::send_remote`]/[`Schedule::recv_remote`] reach
    /// this side.
    pub remote: Option<Remote>,
}

/// The remote group of an intercommunicator and the context its traffic travels on.
#[derive(Clone)]
pub struct Remote {
    pub group: Arc<Group>,
    pub ctx: u32,
}

impl Team {
    /// Size of the local group (the group local algorithms run over).
    pub fn size(&self) -> usize {
        self.group.size()
    }

    /// Number of ranks a collective addresses: the remote group of an intercommunicator.
    pub fn peer_size(&self) -> usize {
        match &self.remote {
            Some(r) => r.group.size(),
            None => self.group.size(),
        }
    }
}

/// The reduction a schedule applies in its `Reduce` steps.
#[derive(Clone)]
pub struct Reduction {
    pub op: Op,
    pub dt: TypeKeep,
    pub dt_handle: i32,
}

enum Local {
    /// Packs `src` and unpacks into `dst` (same type signature).
    Copy { src: Data, dst: Data },
    /// `inout = inp op inout` (count and type of `inout`).
    Reduce { inp: UserPtr, inout: Data },
}

/// A transfer with rank `peer` of the local group, or of the remote group when `remote`.
enum Xfer {
    Send {
        peer: usize,
        remote: bool,
        data: Data,
    },
    Recv {
        peer: usize,
        remote: bool,
        data: Data,
    },
}

#[derive(Default)]
struct Phase {
    locals: Vec<Local>,
    xfers: Vec<Xfer>,
}

/// A collective in progress (or ready to start).
pub struct Schedule {
    team: Team,
    tag: i32,
    red: Option<Reduction>,
    phases: Vec<Phase>,
    /// Scratch blocks (each also held by the transfers that use it).
    tmp: Vec<OwnedBytes>,
    next: usize,
    pending: Vec<(ReqId, u64, bool)>,
    req: Option<ReqId>,
}

impl Schedule {
    pub fn new(team: &Team, tag: i32, red: Option<Reduction>) -> Self {
        Schedule {
            team: team.clone(),
            tag,
            red,
            phases: vec![Phase::default()],
            tmp: Vec::new(),
            next: 0,
            pending: Vec::new(),
            req: None,
        }
    }

    pub fn team(&self) -> &Team {
        &self.team
    }

    fn cur(&mut self) -> &mut Phase {
        self.phases.last_mut().expect("a phase")
    }

    /// Ends the current phase: what is added next waits for its transfers.
    pub fn step(&mut self) {
        if !self.cur().xfers.is_empty() || !self.cur().locals.is_empty() {
            self.phases.push(Phase::default());
        }
    }

    fn local(&mut self, l: Local) {
        if !self.cur().xfers.is_empty() {
            self.phases.push(Phase::default());
        }
        self.cur().locals.push(l);
    }

    pub fn send(&mut self, peer: usize, data: Data) {
        self.cur().xfers.push(Xfer::Send {
            peer,
            remote: false,
            data,
        });
    }

    pub fn recv(&mut self, peer: usize, data: Data) {
        self.cur().xfers.push(Xfer::Recv {
            peer,
            remote: false,
            data,
        });
    }

    /// Sends to rank `peer` of the remote group (intercommunicator teams only).
    pub fn send_remote(&mut self, peer: usize, data: Data) {
        self.cur().xfers.push(Xfer::Send {
            peer,
            remote: true,
            data,
        });
    }

    /// Receives from rank `peer` of the remote group (intercommunicator teams only).
    pub fn recv_remote(&mut self, peer: usize, data: Data) {
        self.cur().xfers.push(Xfer::Recv {
            peer,
            remote: true,
            data,
        });
    }

    /// Copies `src` into `dst` once the transfers before it are done.
    pub fn copy(&mut self, src: Data, dst: Data) {
        // Copying a buffer onto itself (in-place variants) is skipped; compare where the
        // data really lies, since with MPI_BOTTOM both base pointers are null.
        if let (Some(a), Some(b)) = (src.contiguous(), dst.contiguous()) {
            if a == b && src.bytes() == dst.bytes() {
                return;
            }
        }
        self.local(Local::Copy { src, dst });
    }

    /// `inout = inp op inout` with the schedule's reduction; `inp` has `inout`'s layout.
    pub fn reduce(&mut self, inp: UserPtr, inout: Data) {
        self.local(Local::Reduce { inp, inout });
    }

    /// A scratch buffer of `bytes` bytes, as MPI_BYTE.
    pub fn scratch_bytes(&mut self, bytes: usize) -> Data {
        let b = self.scratch(bytes);
        Data::owned(b, 0, bytes as u64, byte_type())
    }

    /// A scratch block of at least `bytes` bytes (recycled ones may be longer).
    fn scratch(&mut self, bytes: usize) -> OwnedBytes {
        let b = OwnedBytes::new(super::scratch::take(bytes));
        self.tmp.push(b.clone());
        b
    }

    /// A scratch buffer holding `count` elements of `dt` in its memory layout, addressed
    /// for use with `dt` (shifted by the type's lower bound).
    pub fn scratch_typed(&mut self, count: u64, dt: &TypeKeep) -> Data {
        let span = if count == 0 {
            0
        } else {
            (dt.true_ub - dt.true_lb) + (count as i64 - 1) * dt.extent()
        };
        let b = self.scratch(span.max(0) as usize);
        Data::owned(b, -dt.true_lb, count, dt.clone())
    }

    // ----------------------------------------------------------------------------------
    // Running

    fn run_locals(&mut self, locals: Vec<Local>) -> Result<(), MpiError> {
        for l in locals {
            match l {
                Local::Copy { src, dst } => {
                    let n = src.bytes() as usize;
                    if let (Some(a), Some(b)) = (src.contiguous(), dst.contiguous()) {
                        // Both sides contiguous: one copy, no staging buffer.
                        b.copy_from(0, a, 0, n);
                        continue;
                    }
                    let mut buf = vec![0u8; n];
                    src.pack(0, &mut buf);
                    dst.unpack(0, &buf);
                }
                Local::Reduce { inp, inout } => {
                    let r = self.red.as_ref().ok_or_else(|| {
                        MpiError::intern("reduce step in a schedule without a reduction")
                    })?;
                    reduce::reduce(&r.op, &r.dt, r.dt_handle, inp, inout.ptr, inout.count)?;
                }
            }
        }
        Ok(())
    }

    fn post(&mut self, xfers: Vec<Xfer>) -> Result<(), MpiError> {
        let e = self.team.engine;
        let team = self.team.clone();
        // Where rank `peer` of the chosen side lives, and the context that reaches it.
        let side = |remote: bool| -> Result<(&Group, u32), MpiError> {
            if !remote {
                return Ok((&team.group, team.ctx));
            }
            match &team.remote {
                Some(r) => Ok((&r.group, r.ctx)),
                None => Err(MpiError::intern(
                    "remote transfer in a schedule without a remote group",
                )),
            }
        };
        for x in xfers {
            match x {
                Xfer::Send { peer, remote, data } => {
                    let (group, ctx) = side(remote)?;
                    let id = e.isend(SendArgs {
                        ep: group.proc_of(peer),
                        ctx,
                        src: self.team.rank as i32,
                        tag: self.tag,
                        mode: Mode::Standard,
                        data,
                        owner: self.team.handle,
                    })?;
                    self.pending.push((id, 0, false));
                }
                Xfer::Recv { peer, remote, data } => {
                    let (_, ctx) = side(remote)?;
                    let want = data.bytes();
                    let id = e.irecv(RecvArgs {
                        ctx,
                        src: peer as i32,
                        tag: self.tag,
                        data,
                        owner: self.team.handle,
                    });
                    self.pending.push((id, want, true));
                }
            }
        }
        Ok(())
    }

    /// Moves the schedule on as far as it can without blocking; true when it is finished.
    fn go(&mut self) -> Result<bool, MpiError> {
        let e = self.team.engine;
        loop {
            if !self.pending.is_empty() {
                let mut err = None;
                {
                    let mut st = e.lock();
                    self.pending
                        .retain(|&(id, want, is_recv)| match e.reap(&mut st, id) {
                            None => true,
                            Some(s) => {
                                if s.error != 0 {
                                    err = Some(MpiError::new(
                                        s.error,
                                        "a transfer of a collective operation failed",
                                    ));
                                } else if is_recv && s.bytes != want {
                                    err = Some(MpiError::new(
                                        crate::error::class::ERR_TRUNCATE,
                                        format!(
                                            "collective received {} bytes where {} were expected \
                                             (type signatures differ between ranks)",
                                            s.bytes, want
                                        ),
                                    ));
                                }
                                false
                            }
                        });
                }
                if let Some(err) = err {
                    return Err(err);
                }
                if !self.pending.is_empty() {
                    return Ok(false);
                }
            }
            if self.next == self.phases.len() {
                return Ok(true);
            }
            let ph = std::mem::take(&mut self.phases[self.next]);
            self.next += 1;
            crate::tool::counters::SCHED_STEPS.add((ph.locals.len() + ph.xfers.len()) as u64);
            self.run_locals(ph.locals)?;
            self.post(ph.xfers)?;
        }
    }
}

impl Drop for Schedule {
    /// Scratch blocks go back to the pool, except those a transfer still holds (abandoned
    /// after an error: it may still write into its block, which lives on until it ends).
    fn drop(&mut self) {
        for b in self.tmp.drain(..) {
            if let Ok(b) = b.into_box() {
                super::scratch::give(b);
            }
        }
    }
}

impl Advance for Schedule {
    type Output = ();

    fn advance(&mut self) -> Result<Option<()>, MpiError> {
        Ok(self.go()?.then_some(()))
    }

    fn mark(&self) -> (usize, usize, usize) {
        (self.next, self.pending.len(), 0)
    }

    /// Abandons outstanding transfers after an error (they complete in the background).
    fn abandon(&mut self) {
        for (id, _, _) in self.pending.drain(..) {
            self.team.engine.free(id);
        }
    }

    fn finish(self, r: Result<(), MpiError>) {
        if let Some(req) = self.req {
            finish(self.team.engine, req, r);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Active schedules and the poller

/// Nonblocking and persistent schedules in flight.
static ACTIVE: Active<Schedule> = Active::new();

fn finish(e: &NodeEngine, req: ReqId, r: Result<(), MpiError>) {
    let status = Status {
        source: -2, // MPI_ANY_SOURCE, as MPICH reports for collectives
        tag: -1,
        error: r.err().map(|e| e.class).unwrap_or(0),
        bytes: 0,
        cancelled: false,
    };
    e.set_status(req, status);
    e.complete_external(req);
}

/// Starts `s` as request `req` (created by the caller with `Kind::Schedule`).
pub fn start(mut s: Schedule, req: ReqId) -> Result<(), MpiError> {
    let e = s.team.engine;
    s.req = Some(req);
    ACTIVE.start(s, e.pollers());
    Ok(())
}

/// Runs `s` to completion in the calling thread (blocking collectives): no request and no
/// trip through the poller — the schedule advances whenever one of its transfers is done.
pub fn run(mut s: Schedule) -> Result<(), MpiError> {
    let e = s.team.engine;
    loop {
        match s.go() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(err) => {
                s.abandon();
                return Err(err);
            }
        }
        let pending = &s.pending;
        e.wait_until(|_, st| {
            pending
                .iter()
                .any(|p| st.reqs.get(p.0).map(|r| r.done).unwrap_or(true))
                .then_some(())
        });
    }
}

/// Starts `s` and returns its request (nonblocking collectives).
pub fn launch(s: Schedule) -> Result<ReqId, MpiError> {
    let e = s.team.engine;
    let req = e.external(Kind::Schedule, [0; 4]);
    // An error of the operation goes to its communicator's errhandler at MPI_Wait.
    e.set_owner(req, s.team.handle);
    start(s, req)?;
    Ok(req)
}

// ---------------------------------------------------------------------------------------
// Persistent collectives: the builder is kept and runs again at every MPI_Start.

type Builder = Arc<dyn Fn() -> Result<Schedule, MpiError> + Send + Sync>;

/// A persistent collective request (inactive until MPI_Start): the request carries the
/// builder, which makes the schedule anew at every start.
pub fn persistent(e: &'static NodeEngine, build: Builder) -> Result<ReqId, MpiError> {
    let start = move |id: ReqId| -> Result<(), MpiError> {
        let s = build()?;
        e.activate(id)?;
        start(s, id)
    };
    Ok(e.external_persistent(Kind::Schedule, [0; 4], Starter(Arc::new(start))))
}

// ---------------------------------------------------------------------------------------
// Tags: every collective call on a communicator gets the next tag of that communicator.

/// Collective tags stay below this: tags from 1<<29 up on a collective context belong to
/// neighbourhood collectives (`topo::NEIGHBOR_TAG`) and the library's internal exchanges.
pub const TAG_LIMIT: u32 = 1 << 29;

/// The tag of every blocking collective (see `abi::coll::launch`).
pub const BLOCKING_TAG: i32 = TAG_LIMIT as i32 - 1;

/// The tag of the next nonblocking or persistent collective call of team `t`'s
/// communicator (below BLOCKING_TAG).
pub fn next_tag(t: &Team) -> i32 {
    (t.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % (TAG_LIMIT - 1)) as i32
}
