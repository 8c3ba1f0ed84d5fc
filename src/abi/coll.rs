//! Collective operations on intra- and intercommunicators: blocking, nonblocking (`MPI_I*`)
//! and persistent (`*_init`), each with its `_c` form. Every function checks its arguments
//! locally (root, counts, datatypes, op against type) before any communication, describes
//! the buffers, and hands a schedule builder to `launch`; the algorithms are in
//! `crate::coll::algo` (intracommunicators) and `crate::coll::inter`.

use super::comm::{self, CommRef};
use super::consts::{IN_PLACE, PROC_NULL, ROOT};
use super::datatype;
use super::op;
use super::pt2pt::data;
use super::ptr;
use super::request::handle_of;
use super::Ctx;
use crate::coll::algo::{self, Buf};
use crate::coll::inter;
use crate::coll::reduce;
use crate::coll::sched::{self, Reduction, Remote, Schedule, Team};
use crate::error::{class, MpiError};
use crate::mpi_fn;
use crate::p2p::{Data, TypeKeep};
use crate::transport::mem::UserPtr;
use std::os::raw::{c_int, c_void};
use std::sync::Arc;

type Count = i64;

/// How a collective is started.
enum How {
    Block,
    Nonblock(*mut c_int),
    Persist(*mut c_int),
}

/// Offset from an intercommunicator's context id of the context its local-group phases use
/// (`context_id + 3` of the communicator's block of four is reserved for this). The
/// collective context (`coll_context()`) is shared by both groups, where local rank i and
/// remote rank i would be the same source, so it carries only cross-group traffic.
const INTER_LOCAL_CONTEXT_OFFSET: u32 = 3;

fn team(ctx: &mut Ctx, h: c_int) -> Result<Team, MpiError> {
    let c: CommRef = comm::get(ctx, h)?;
    let (tctx, remote) = match &c.remote {
        None => (c.coll_context(), None),
        Some(g) => (
            c.context_id + INTER_LOCAL_CONTEXT_OFFSET,
            Some(Remote {
                group: g.clone(),
                ctx: c.coll_context(),
            }),
        ),
    };
    Ok(Team {
        ctx: tctx,
        rank: c.rank as usize,
        group: c.group.clone(),
        handle: h,
        seq: c.coll_seq.clone(),
        remote,
    })
}

/// A rank's part in a rooted collective.
#[derive(Clone, Copy)]
enum Role {
    /// The root.
    Root,
    /// Sends to / receives from the root, whose rank (in the remote group on an
    /// intercommunicator) this is.
    Leaf(usize),
    /// MPI_PROC_NULL on an intercommunicator: the root's group mates take no part.
    Idle,
}

/// Reads the root argument: a rank of the communicator, or on an intercommunicator
/// MPI_ROOT, MPI_PROC_NULL or a rank of the remote group.
fn role_of(t: &Team, root: c_int) -> Result<Role, MpiError> {
    if t.remote.is_none() {
        let r = root_of(t, root)?;
        return Ok(if r == t.rank {
            Role::Root
        } else {
            Role::Leaf(r)
        });
    }
    match root {
        ROOT => Ok(Role::Root),
        PROC_NULL => Ok(Role::Idle),
        r if r >= 0 && (r as usize) < t.peer_size() => Ok(Role::Leaf(r as usize)),
        r => Err(MpiError::arg(
            class::ERR_ROOT,
            "root",
            format!(
                "invalid root {r} on an intercommunicator (MPI_ROOT, MPI_PROC_NULL or a \
                 rank of the remote group of size {})",
                t.peer_size()
            ),
        )),
    }
}

/// MPI_IN_PLACE is not defined for collectives on intercommunicators.
fn no_in_place(p: *const c_void, arg: &str) -> Result<(), MpiError> {
    if in_place(p) {
        return Err(MpiError::arg(
            class::ERR_BUFFER,
            arg,
            "MPI_IN_PLACE is not allowed on an intercommunicator",
        ));
    }
    Ok(())
}

fn root_of(t: &Team, root: c_int) -> Result<usize, MpiError> {
    if root < 0 || root as usize >= t.size() {
        return Err(MpiError::arg(
            class::ERR_ROOT,
            "root",
            format!("invalid root {root} (communicator size {})", t.size()),
        ));
    }
    Ok(root as usize)
}

#[inline]
fn in_place(p: *const c_void) -> bool {
    p as usize == IN_PLACE
}

/// MPICH's aliasing check (its MPIR_ERRTEST_ALIAS_COLL): a send buffer that is the very
/// receive buffer (MPI_IN_PLACE aside) is MPI_ERR_BUFFER, not a silent overwrite nor, for
/// the nonblocking forms, a schedule that corrupts memory later. As MPICH, only on an
/// intracommunicator, only when the call moves data, and only for the cases MPICH catches:
/// equal addresses (where the send data would land, for the gather/scatter families) and,
/// for those families, the same type and count on both sides (`moves_same_data`).
pub(super) fn check_alias(
    send: *const c_void,
    recv: *const c_void,
    moves_same_data: bool,
    arg: &str,
) -> Result<(), MpiError> {
    if moves_same_data && !in_place(send) && !in_place(recv) && send == recv {
        return Err(MpiError::arg(
            class::ERR_BUFFER,
            arg,
            "the send and receive buffers must not be aliased (use MPI_IN_PLACE)",
        ));
    }
    Ok(())
}

/// `p` moved by `bytes` (the address of a block of a gather/scatter buffer).
fn at_byte(p: *const c_void, bytes: i64) -> *const c_void {
    (p as usize).wrapping_add(bytes as usize) as *const c_void
}

/// Where rank `me`'s block of a gather/scatter-family buffer starts, and how many
/// elements it holds: block `me` of `count` elements, or the v form's `counts`/`displs`.
fn own_block(
    p: *const c_void,
    ext: i64,
    me: usize,
    count: Count,
    v: Option<(&[u64], &[i64])>,
) -> (*const c_void, Count) {
    match v {
        Some((c, d)) => (at_byte(p, d[me] * ext), c[me] as Count),
        None => (at_byte(p, me as i64 * count * ext), count),
    }
}

fn dtype(h: c_int, arg: &str) -> Result<TypeKeep, MpiError> {
    Ok(match datatype::get(h, arg)? {
        datatype::DtRef::Builtin(d) => TypeKeep::Static(d),
        datatype::DtRef::User(d) => TypeKeep::Shared(d),
    })
}

/// A buffer and type for per-rank blocks (`count`s are checked per block).
fn buf(p: *const c_void, dt: c_int, arg: &str) -> Result<Buf, MpiError> {
    let t = dtype(dt, arg)?;
    // SAFETY: MPI's contract: the buffer holds the blocks the counts and displacements
    // describe until the operation completes.
    let p = unsafe { UserPtr::new(p as *const u8) };
    Ok(Buf::new(p, t))
}

fn count_ok(c: Count, arg: &str) -> Result<u64, MpiError> {
    if c < 0 {
        return Err(MpiError::arg(
            class::ERR_COUNT,
            arg,
            format!("negative count {c}"),
        ));
    }
    Ok(c as u64)
}

/// Integer arrays of the int and `_c` forms, read as i64.
trait Wide: Copy {
    fn wide(self) -> i64;
}
impl Wide for c_int {
    fn wide(self) -> i64 {
        self as i64
    }
}
impl Wide for i64 {
    fn wide(self) -> i64 {
        self
    }
}
impl Wide for isize {
    fn wide(self) -> i64 {
        self as i64
    }
}

fn arr<T: Wide>(p: *const T, n: usize, arg: &str) -> Result<Vec<i64>, MpiError> {
    Ok(ptr::slice(p, n, arg)?.iter().map(|v| v.wide()).collect())
}

fn counts<T: Wide>(p: *const T, n: usize, arg: &str) -> Result<Vec<u64>, MpiError> {
    arr(p, n, arg)?
        .into_iter()
        .map(|c| count_ok(c, arg))
        .collect()
}

fn reduction(op_h: c_int, dt_h: c_int) -> Result<Reduction, MpiError> {
    let op = op::get(op_h)?;
    let dt = dtype(dt_h, "datatype")?;
    reduce::check(&op, &dt)?;
    Ok(Reduction {
        op,
        dt,
        dt_handle: dt_h,
    })
}

/// Starts a collective as `how` says. `build` makes the schedule for a tag; persistent
/// requests keep it and build again at every start.
fn launch(
    how: How,
    t: &Team,
    build: impl Fn(i32) -> Result<Schedule, MpiError> + Send + Sync + 'static,
) -> Result<(), MpiError> {
    // Blocking collectives share one tag, as in MPICH: calls of one thread on a
    // communicator cannot overlap, and non-overtaking keeps consecutive ones apart. So a
    // blocking collective never consumes a number of the sequence the nonblocking and
    // persistent ones draw from, and programs that interleave the two kinds in different
    // orders on different ranks (which MPICH tolerates) still match up.
    let tag = match how {
        How::Block => sched::BLOCKING_TAG,
        _ => sched::next_tag(t),
    };
    match how {
        How::Block => sched::run(build(tag)?),
        How::Nonblock(req) => {
            if req.is_null() {
                return Err(MpiError::arg(class::ERR_ARG, "request", "null pointer"));
            }
            let id = sched::launch(build(tag)?)?;
            ptr::write(req, handle_of(id), "request")
        }
        How::Persist(req) => {
            if req.is_null() {
                return Err(MpiError::arg(class::ERR_ARG, "request", "null pointer"));
            }
            let id = sched::persistent(Arc::new(move || build(tag)))?;
            ptr::write(req, handle_of(id), "request")
        }
    }
}

// ---------------------------------------------------------------------------------------
// The collectives, one core function each

fn barrier(ctx: &mut Ctx, how: How, comm: c_int) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, None);
        if tt.remote.is_some() {
            inter::barrier(&mut s);
        } else {
            algo::barrier(&mut s);
        }
        Ok(s)
    })
}

fn bcast(
    ctx: &mut Ctx,
    how: How,
    b: *mut c_void,
    count: Count,
    dt: c_int,
    root: c_int,
    comm: c_int,
) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    let role = role_of(&t, root)?;
    let d = match role {
        Role::Idle => Data::new(UserPtr::of::<u8>(&[]), 0, sched::byte_type()),
        _ => data(b, count, dt)?,
    };
    let (inter_comm, me) = (t.remote.is_some(), t.rank);
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, None);
        match role {
            Role::Root if inter_comm => inter::bcast_root(&mut s, &d),
            Role::Leaf(r) if inter_comm => inter::bcast_leaf(&mut s, &d, r),
            Role::Root => algo::bcast(&mut s, &d, me),
            Role::Leaf(r) => algo::bcast(&mut s, &d, r),
            Role::Idle => {}
        }
        Ok(s)
    })
}

#[allow(clippy::too_many_arguments)]
fn gather(
    ctx: &mut Ctx,
    how: How,
    sb: *const c_void,
    sc: Count,
    st: c_int,
    rb: *mut c_void,
    rcounts: Option<Vec<u64>>,
    displs: Option<Vec<i64>>,
    rc: Count,
    rt: c_int,
    root: c_int,
    comm: c_int,
) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    let role = role_of(&t, root)?;
    let inter_comm = t.remote.is_some();
    let n = t.peer_size();
    let me = t.rank;
    let (mine, recvs, own) = if let Role::Root = role {
        let rbuf = buf(rb, rt, "recvtype")?;
        if !inter_comm {
            let v = rcounts.as_deref().zip(displs.as_deref());
            let (blk, n_own) = own_block(rb, rbuf.dt.extent(), me, rc, v);
            check_alias(sb, blk, st == rt && sc == n_own && sc != 0, "recvbuf")?;
        }
        let recvs: Vec<Data> = match (rcounts, displs) {
            (Some(c), Some(d)) => (0..n)
                .map(|i| rbuf.at_bytes(d[i] * rbuf.dt.extent(), c[i]))
                .collect(),
            _ => {
                let rc = count_ok(rc, "recvcount")?;
                (0..n).map(|i| rbuf.at(i as u64 * rc, rc)).collect()
            }
        };
        // The root of an intercommunicator gathers only the remote group.
        let own = if inter_comm || in_place(sb) {
            None
        } else {
            Some((data(sb, sc, st)?, recvs[me].clone()))
        };
        (None, recvs, own)
    } else if let Role::Leaf(_) = role {
        if inter_comm {
            no_in_place(sb, "sendbuf")?;
        }
        (Some(data(sb, sc, st)?), Vec::new(), None)
    } else {
        (None, Vec::new(), None)
    };
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, None);
        match (role, &mine) {
            (Role::Root, _) if inter_comm => inter::gather_root(&mut s, &recvs),
            (Role::Leaf(r), Some(m)) if inter_comm => inter::gather_leaf(&mut s, m, r),
            (Role::Root, _) => algo::gather(&mut s, me, None, recvs.clone(), own.clone()),
            (Role::Leaf(r), m) => algo::gather(&mut s, r, m.clone(), Vec::new(), None),
            (Role::Idle, _) => {}
        }
        Ok(s)
    })
}

#[allow(clippy::too_many_arguments)]
fn scatter(
    ctx: &mut Ctx,
    how: How,
    sb: *const c_void,
    scounts: Option<Vec<u64>>,
    displs: Option<Vec<i64>>,
    sc: Count,
    st: c_int,
    rb: *mut c_void,
    rc: Count,
    rt: c_int,
    root: c_int,
    comm: c_int,
) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    let role = role_of(&t, root)?;
    let inter_comm = t.remote.is_some();
    let n = t.peer_size();
    let me = t.rank;
    let (mine, sends, own) = if let Role::Root = role {
        let sbuf = buf(sb, st, "sendtype")?;
        if !inter_comm {
            let v = scounts.as_deref().zip(displs.as_deref());
            let (blk, n_own) = own_block(sb, sbuf.dt.extent(), me, sc, v);
            check_alias(blk, rb, st == rt && rc == n_own && rc != 0, "recvbuf")?;
        }
        let sends: Vec<Data> = match (scounts, displs) {
            (Some(c), Some(d)) => (0..n)
                .map(|i| sbuf.at_bytes(d[i] * sbuf.dt.extent(), c[i]))
                .collect(),
            _ => {
                let sc = count_ok(sc, "sendcount")?;
                (0..n).map(|i| sbuf.at(i as u64 * sc, sc)).collect()
            }
        };
        // The root of an intercommunicator scatters only to the remote group.
        let own = if inter_comm || in_place(rb) {
            None
        } else {
            Some((sends[me].clone(), data(rb, rc, rt)?))
        };
        (None, sends, own)
    } else if let Role::Leaf(_) = role {
        if inter_comm {
            no_in_place(rb, "recvbuf")?;
        }
        (Some(data(rb, rc, rt)?), Vec::new(), None)
    } else {
        (None, Vec::new(), None)
    };
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, None);
        match (role, &mine) {
            (Role::Root, _) if inter_comm => inter::scatter_root(&mut s, &sends),
            (Role::Leaf(r), Some(m)) if inter_comm => inter::scatter_leaf(&mut s, m, r),
            (Role::Root, _) => algo::scatter(&mut s, me, None, sends.clone(), own.clone()),
            (Role::Leaf(r), m) => algo::scatter(&mut s, r, m.clone(), Vec::new(), None),
            (Role::Idle, _) => {}
        }
        Ok(s)
    })
}

#[allow(clippy::too_many_arguments)]
fn allgather(
    ctx: &mut Ctx,
    how: How,
    sb: *const c_void,
    sc: Count,
    st: c_int,
    rb: *mut c_void,
    rcounts: Option<Vec<u64>>,
    displs: Option<Vec<i64>>,
    rc: Count,
    rt: c_int,
    comm: c_int,
) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    let inter_comm = t.remote.is_some();
    if inter_comm {
        no_in_place(sb, "sendbuf")?;
    }
    let n = t.peer_size();
    let rbuf = buf(rb, rt, "recvtype")?;
    if !inter_comm {
        let v = rcounts.as_deref().zip(displs.as_deref());
        let (blk, n_own) = own_block(rb, rbuf.dt.extent(), t.rank, rc, v);
        check_alias(sb, blk, st == rt && sc == n_own && sc != 0, "recvbuf")?;
    }
    let blocks: Vec<Data> = match (rcounts, displs) {
        (Some(c), Some(d)) => (0..n)
            .map(|i| rbuf.at_bytes(d[i] * rbuf.dt.extent(), c[i]))
            .collect(),
        _ => {
            let rc = count_ok(rc, "recvcount")?;
            (0..n).map(|i| rbuf.at(i as u64 * rc, rc)).collect()
        }
    };
    let own = if in_place(sb) {
        None
    } else {
        Some(data(sb, sc, st)?)
    };
    let me = t.rank;
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, None);
        match &own {
            Some(o) if inter_comm => inter::allgather(&mut s, o, &blocks),
            _ => {
                if let Some(o) = &own {
                    s.copy(o.clone(), blocks[me].clone());
                }
                algo::allgather(&mut s, &blocks);
            }
        }
        Ok(s)
    })
}

/// Per-peer blocks of an alltoall-family call: counts, displacements in bytes, types.
struct Blocks {
    counts: Vec<u64>,
    byte_displs: Vec<i64>,
    types: Vec<TypeKeep>,
}

impl Blocks {
    fn regular(n: usize, count: Count, dt: c_int, arg: &str) -> Result<Blocks, MpiError> {
        let c = count_ok(count, arg)?;
        let t = dtype(dt, arg)?;
        let ext = t.extent();
        Ok(Blocks {
            counts: vec![c; n],
            byte_displs: (0..n).map(|i| i as i64 * c as i64 * ext).collect(),
            types: vec![t; n],
        })
    }
    fn vector(
        counts: Vec<u64>,
        displs: Vec<i64>,
        dt: c_int,
        arg: &str,
    ) -> Result<Blocks, MpiError> {
        let t = dtype(dt, arg)?;
        let ext = t.extent();
        Ok(Blocks {
            byte_displs: displs.iter().map(|d| d * ext).collect(),
            types: vec![t; counts.len()],
            counts,
        })
    }
    fn w<T: Wide>(
        n: usize,
        counts: Vec<u64>,
        displs: Vec<i64>,
        types: *const T,
        arg: &str,
    ) -> Result<Blocks, MpiError> {
        let hs = arr(types, n, arg)?;
        let types = hs
            .iter()
            .map(|&h| dtype(h as c_int, arg))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Blocks {
            counts,
            byte_displs: displs,
            types,
        })
    }
    fn data(&self, p: *const c_void) -> Vec<Data> {
        // SAFETY: MPI's contract: the buffer holds every block until completion.
        let base = unsafe { UserPtr::new(p as *const u8) };
        (0..self.counts.len())
            .map(|i| {
                Data::new(
                    base.offset(self.byte_displs[i]),
                    self.counts[i],
                    self.types[i].clone(),
                )
            })
            .collect()
    }
}

/// `same_layout`: the send and receive sides are described by the same arguments (as
/// MPICH decides it: equal counts and types, or the very same arrays for the v and w
/// forms), so equal buffer addresses are an aliasing error.
#[allow(clippy::too_many_arguments)]
fn alltoall(
    ctx: &mut Ctx,
    how: How,
    sb: *const c_void,
    sblocks: Option<Blocks>,
    rb: *mut c_void,
    rblocks: Blocks,
    same_layout: bool,
    comm: c_int,
) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    let inter_comm = t.remote.is_some();
    if inter_comm {
        no_in_place(sb, "sendbuf")?;
    } else {
        check_alias(sb, rb, same_layout, "recvbuf")?;
    }
    let recvs = rblocks.data(rb);
    let sends = if in_place(sb) {
        None
    } else {
        sblocks.map(|b| b.data(sb))
    };
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, None);
        if let (true, Some(sends)) = (inter_comm, &sends) {
            inter::alltoall(&mut s, sends, &recvs);
            return Ok(s);
        }
        let sends = match &sends {
            Some(v) => v.clone(),
            None => {
                // In place: send packed copies of the receive blocks.
                recvs
                    .iter()
                    .map(|r| {
                        let n = r.bytes();
                        let p = s.scratch(n as usize);
                        let d = Data::new(p, n, sched::byte_type());
                        s.copy(r.clone(), d.clone());
                        d
                    })
                    .collect()
            }
        };
        algo::alltoall(&mut s, &sends, &recvs);
        Ok(s)
    })
}

#[allow(clippy::too_many_arguments)]
fn reduce(
    ctx: &mut Ctx,
    how: How,
    sb: *const c_void,
    rb: *mut c_void,
    count: Count,
    dt: c_int,
    op_h: c_int,
    root: c_int,
    comm: c_int,
) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    if t.remote.is_some() {
        return reduce_inter(how, &t, sb, rb, count, dt, op_h, role_of(&t, root)?);
    }
    let root = root_of(&t, root)?;
    let red = reduction(op_h, dt)?;
    let at_root = t.rank == root;
    if at_root {
        check_alias(sb, rb, count > 0, "recvbuf")?;
    }
    let input = if at_root && in_place(sb) {
        data(rb, count, dt)?
    } else {
        data(sb, count, dt)?
    };
    let out = if at_root {
        data(rb, count, dt)?
    } else {
        input.clone()
    };
    let comm_ok = red.op.is_commutative();
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, Some(red.clone()));
        algo::reduce(&mut s, &input, &out, root, comm_ok);
        Ok(s)
    })
}

/// Reduce on an intercommunicator: the root gets the reduction of the remote group's data.
#[allow(clippy::too_many_arguments)]
fn reduce_inter(
    how: How,
    t: &Team,
    sb: *const c_void,
    rb: *mut c_void,
    count: Count,
    dt: c_int,
    op_h: c_int,
    role: Role,
) -> Result<(), MpiError> {
    let (red, d) = match role {
        Role::Idle => (
            None,
            Data::new(UserPtr::of::<u8>(&[]), 0, sched::byte_type()),
        ),
        Role::Root => (Some(reduction(op_h, dt)?), data(rb, count, dt)?),
        Role::Leaf(_) => {
            no_in_place(sb, "sendbuf")?;
            (Some(reduction(op_h, dt)?), data(sb, count, dt)?)
        }
    };
    let commutative = red.as_ref().is_some_and(|r| r.op.is_commutative());
    let tt = t.clone();
    launch(how, t, move |tag| {
        let mut s = Schedule::new(&tt, tag, red.clone());
        match role {
            Role::Root => inter::reduce_root(&mut s, &d),
            Role::Leaf(r) => inter::reduce_leaf(&mut s, &d, r, commutative),
            Role::Idle => {}
        }
        Ok(s)
    })
}

#[allow(clippy::too_many_arguments)]
fn allreduce(
    ctx: &mut Ctx,
    how: How,
    sb: *const c_void,
    rb: *mut c_void,
    count: Count,
    dt: c_int,
    op_h: c_int,
    comm: c_int,
) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    let inter_comm = t.remote.is_some();
    if inter_comm {
        no_in_place(sb, "sendbuf")?;
    } else {
        check_alias(sb, rb, count > 0, "recvbuf")?;
    }
    let red = reduction(op_h, dt)?;
    let out = data(rb, count, dt)?;
    let input = if in_place(sb) {
        None
    } else {
        Some(data(sb, count, dt)?)
    };
    let commutative = red.op.is_commutative();
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, Some(red.clone()));
        if let (true, Some(i)) = (inter_comm, &input) {
            inter::allreduce(&mut s, i, &out, commutative);
            return Ok(s);
        }
        if let (2, Some(i)) = (tt.size(), &input) {
            algo::allreduce_pair(&mut s, i, &out, commutative);
            return Ok(s);
        }
        if let Some(i) = &input {
            s.copy(i.clone(), out.clone());
        }
        algo::allreduce(&mut s, &out, commutative);
        Ok(s)
    })
}

/// Reduce-scatter with block `i` of `rcounts[i]` elements going to rank i.
#[allow(clippy::too_many_arguments)]
fn reduce_scatter(
    ctx: &mut Ctx,
    how: How,
    sb: *const c_void,
    rb: *mut c_void,
    rcounts: Vec<u64>,
    dt: c_int,
    op_h: c_int,
    comm: c_int,
) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    let inter_comm = t.remote.is_some();
    if inter_comm {
        no_in_place(sb, "sendbuf")?;
    }
    let red = reduction(op_h, dt)?;
    let total: u64 = rcounts.iter().sum();
    if !inter_comm {
        check_alias(sb, rb, total > 0, "recvbuf")?;
    }
    let me = t.rank;
    let before: u64 = rcounts[..me].iter().sum();
    let input = if in_place(sb) {
        data(rb, total as Count, dt)?
    } else {
        data(sb, total as Count, dt)?
    };
    let out = data(rb, rcounts[me] as Count, dt)?;
    let commutative = red.op.is_commutative();
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, Some(red.clone()));
        if inter_comm {
            inter::reduce_scatter(&mut s, &input, &out, &rcounts, commutative);
            return Ok(s);
        }
        let acc = s.scratch_typed(total, &input.dt);
        s.copy(input.clone(), acc.clone());
        algo::allreduce(&mut s, &acc, commutative);
        s.step();
        s.copy(Buf::of(&acc).at(before, out.count), out.clone());
        Ok(s)
    })
}

#[allow(clippy::too_many_arguments)]
fn scan(
    ctx: &mut Ctx,
    how: How,
    sb: *const c_void,
    rb: *mut c_void,
    count: Count,
    dt: c_int,
    op_h: c_int,
    comm: c_int,
    exclusive: bool,
) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    if t.remote.is_some() {
        return Err(MpiError::arg(
            class::ERR_COMM,
            "comm",
            "MPI_Scan and MPI_Exscan are not defined on intercommunicators",
        ));
    }
    let red = reduction(op_h, dt)?;
    check_alias(sb, rb, count > 0, "recvbuf")?;
    let out = data(rb, count, dt)?;
    let input = if in_place(sb) {
        out.clone()
    } else {
        data(sb, count, dt)?
    };
    let commutative = red.op.is_commutative();
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, Some(red.clone()));
        if exclusive {
            algo::exscan(&mut s, &input, &out, commutative);
        } else {
            s.copy(input.clone(), out.clone());
            algo::scan(&mut s, &out, commutative);
        }
        Ok(s)
    })
}

/// Number of per-rank blocks of a collective's arrays: the communicator's size, or the
/// remote group's size on an intercommunicator.
fn size_of(ctx: &mut Ctx, comm: c_int) -> Result<usize, MpiError> {
    Ok(comm::get(ctx, comm)?.peer_size())
}

/// Size of the local group (reduce-scatter counts are per local rank on both kinds).
fn local_size_of(ctx: &mut Ctx, comm: c_int) -> Result<usize, MpiError> {
    Ok(comm::get(ctx, comm)?.size())
}

/// Whether this rank's root arguments (count arrays) are significant: it is the root.
fn is_root(ctx: &mut Ctx, comm: c_int, root: c_int) -> Result<bool, MpiError> {
    let c = comm::get(ctx, comm)?;
    Ok(if c.is_inter() {
        root == ROOT
    } else {
        c.rank as c_int == root
    })
}

// ---------------------------------------------------------------------------------------
// The exported functions: each core function as blocking, nonblocking and persistent.

/// Defines the blocking, nonblocking and persistent forms of one collective.
macro_rules! coll3 {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident,
     ($($a:ident : $t:ty),*), |$ctx:ident, $how:ident| $body:block) => {
        mpi_fn!($b, $pb, ($($a: $t),*), |$ctx| { let $how = How::Block; $body });
        mpi_fn!($i, $pi, ($($a: $t,)* request: *mut c_int), |$ctx| {
            let $how = How::Nonblock(request);
            $body
        });
        mpi_fn!($p, $pp, ($($a: $t,)* info: c_int, request: *mut c_int), |$ctx| {
            let _ = info;
            let $how = How::Persist(request);
            $body
        });
    };
}

coll3!(MPI_Barrier, PMPI_Barrier, MPI_Ibarrier, PMPI_Ibarrier, MPI_Barrier_init, PMPI_Barrier_init,
    (comm: c_int), |ctx, how| { barrier(ctx, how, comm) });

macro_rules! bcast_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (buffer: *mut c_void, count: $cnt, datatype: c_int, root: c_int, comm: c_int),
            |ctx, how| { bcast(ctx, how, buffer, count as Count, datatype, root, comm) });
    };
}
bcast_fns!(
    MPI_Bcast,
    PMPI_Bcast,
    MPI_Ibcast,
    PMPI_Ibcast,
    MPI_Bcast_init,
    PMPI_Bcast_init,
    c_int
);
bcast_fns!(
    MPI_Bcast_c,
    PMPI_Bcast_c,
    MPI_Ibcast_c,
    PMPI_Ibcast_c,
    MPI_Bcast_init_c,
    PMPI_Bcast_init_c,
    i64
);

macro_rules! gather_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcount: $cnt, recvtype: c_int, root: c_int, comm: c_int),
            |ctx, how| { gather(ctx, how, sendbuf, sendcount as Count, sendtype, recvbuf, None, None, recvcount as Count, recvtype, root, comm) });
    };
}
gather_fns!(
    MPI_Gather,
    PMPI_Gather,
    MPI_Igather,
    PMPI_Igather,
    MPI_Gather_init,
    PMPI_Gather_init,
    c_int
);
gather_fns!(
    MPI_Gather_c,
    PMPI_Gather_c,
    MPI_Igather_c,
    PMPI_Igather_c,
    MPI_Gather_init_c,
    PMPI_Gather_init_c,
    i64
);

macro_rules! gatherv_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $disp:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcounts: *const $cnt, displs: *const $disp, recvtype: c_int, root: c_int, comm: c_int),
            |ctx, how| {
                let n = size_of(ctx, comm)?;
                let (c, d) = if is_root(ctx, comm, root)? {
                    (Some(counts(recvcounts, n, "recvcounts")?), Some(arr(displs, n, "displs")?))
                } else {
                    (None, None)
                };
                gather(ctx, how, sendbuf, sendcount as Count, sendtype, recvbuf, c, d, 0, recvtype, root, comm)
            });
    };
}
gatherv_fns!(
    MPI_Gatherv,
    PMPI_Gatherv,
    MPI_Igatherv,
    PMPI_Igatherv,
    MPI_Gatherv_init,
    PMPI_Gatherv_init,
    c_int,
    c_int
);
gatherv_fns!(
    MPI_Gatherv_c,
    PMPI_Gatherv_c,
    MPI_Igatherv_c,
    PMPI_Igatherv_c,
    MPI_Gatherv_init_c,
    PMPI_Gatherv_init_c,
    i64,
    isize
);

macro_rules! scatter_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcount: $cnt, recvtype: c_int, root: c_int, comm: c_int),
            |ctx, how| { scatter(ctx, how, sendbuf, None, None, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, root, comm) });
    };
}
scatter_fns!(
    MPI_Scatter,
    PMPI_Scatter,
    MPI_Iscatter,
    PMPI_Iscatter,
    MPI_Scatter_init,
    PMPI_Scatter_init,
    c_int
);
scatter_fns!(
    MPI_Scatter_c,
    PMPI_Scatter_c,
    MPI_Iscatter_c,
    PMPI_Iscatter_c,
    MPI_Scatter_init_c,
    PMPI_Scatter_init_c,
    i64
);

macro_rules! scatterv_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $disp:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcounts: *const $cnt, displs: *const $disp, sendtype: c_int,
             recvbuf: *mut c_void, recvcount: $cnt, recvtype: c_int, root: c_int, comm: c_int),
            |ctx, how| {
                let n = size_of(ctx, comm)?;
                let (c, d) = if is_root(ctx, comm, root)? {
                    (Some(counts(sendcounts, n, "sendcounts")?), Some(arr(displs, n, "displs")?))
                } else {
                    (None, None)
                };
                scatter(ctx, how, sendbuf, c, d, 0, sendtype, recvbuf, recvcount as Count, recvtype, root, comm)
            });
    };
}
scatterv_fns!(
    MPI_Scatterv,
    PMPI_Scatterv,
    MPI_Iscatterv,
    PMPI_Iscatterv,
    MPI_Scatterv_init,
    PMPI_Scatterv_init,
    c_int,
    c_int
);
scatterv_fns!(
    MPI_Scatterv_c,
    PMPI_Scatterv_c,
    MPI_Iscatterv_c,
    PMPI_Iscatterv_c,
    MPI_Scatterv_init_c,
    PMPI_Scatterv_init_c,
    i64,
    isize
);

macro_rules! allgather_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcount: $cnt, recvtype: c_int, comm: c_int),
            |ctx, how| { allgather(ctx, how, sendbuf, sendcount as Count, sendtype, recvbuf, None, None, recvcount as Count, recvtype, comm) });
    };
}
allgather_fns!(
    MPI_Allgather,
    PMPI_Allgather,
    MPI_Iallgather,
    PMPI_Iallgather,
    MPI_Allgather_init,
    PMPI_Allgather_init,
    c_int
);
allgather_fns!(
    MPI_Allgather_c,
    PMPI_Allgather_c,
    MPI_Iallgather_c,
    PMPI_Iallgather_c,
    MPI_Allgather_init_c,
    PMPI_Allgather_init_c,
    i64
);

macro_rules! allgatherv_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $disp:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcounts: *const $cnt, displs: *const $disp, recvtype: c_int, comm: c_int),
            |ctx, how| {
                let n = size_of(ctx, comm)?;
                let c = counts(recvcounts, n, "recvcounts")?;
                let d = arr(displs, n, "displs")?;
                allgather(ctx, how, sendbuf, sendcount as Count, sendtype, recvbuf, Some(c), Some(d), 0, recvtype, comm)
            });
    };
}
allgatherv_fns!(
    MPI_Allgatherv,
    PMPI_Allgatherv,
    MPI_Iallgatherv,
    PMPI_Iallgatherv,
    MPI_Allgatherv_init,
    PMPI_Allgatherv_init,
    c_int,
    c_int
);
allgatherv_fns!(
    MPI_Allgatherv_c,
    PMPI_Allgatherv_c,
    MPI_Iallgatherv_c,
    PMPI_Iallgatherv_c,
    MPI_Allgatherv_init_c,
    PMPI_Allgatherv_init_c,
    i64,
    isize
);

macro_rules! alltoall_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcount: $cnt, recvtype: c_int, comm: c_int),
            |ctx, how| {
                let n = size_of(ctx, comm)?;
                let s = if in_place(sendbuf) { None } else { Some(Blocks::regular(n, sendcount as Count, sendtype, "sendtype")?) };
                let r = Blocks::regular(n, recvcount as Count, recvtype, "recvtype")?;
                let same = sendtype == recvtype && sendcount == recvcount && recvcount != 0;
                alltoall(ctx, how, sendbuf, s, recvbuf, r, same, comm)
            });
    };
}
alltoall_fns!(
    MPI_Alltoall,
    PMPI_Alltoall,
    MPI_Ialltoall,
    PMPI_Ialltoall,
    MPI_Alltoall_init,
    PMPI_Alltoall_init,
    c_int
);
alltoall_fns!(
    MPI_Alltoall_c,
    PMPI_Alltoall_c,
    MPI_Ialltoall_c,
    PMPI_Ialltoall_c,
    MPI_Alltoall_init_c,
    PMPI_Alltoall_init_c,
    i64
);

macro_rules! alltoallv_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $disp:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcounts: *const $cnt, sdispls: *const $disp, sendtype: c_int,
             recvbuf: *mut c_void, recvcounts: *const $cnt, rdispls: *const $disp, recvtype: c_int, comm: c_int),
            |ctx, how| {
                let n = size_of(ctx, comm)?;
                let s = if in_place(sendbuf) { None } else {
                    Some(Blocks::vector(counts(sendcounts, n, "sendcounts")?, arr(sdispls, n, "sdispls")?, sendtype, "sendtype")?)
                };
                let r = Blocks::vector(counts(recvcounts, n, "recvcounts")?, arr(rdispls, n, "rdispls")?, recvtype, "recvtype")?;
                let same = std::ptr::eq(sendcounts, recvcounts) && sendtype == recvtype;
                alltoall(ctx, how, sendbuf, s, recvbuf, r, same, comm)
            });
    };
}
alltoallv_fns!(
    MPI_Alltoallv,
    PMPI_Alltoallv,
    MPI_Ialltoallv,
    PMPI_Ialltoallv,
    MPI_Alltoallv_init,
    PMPI_Alltoallv_init,
    c_int,
    c_int
);
alltoallv_fns!(
    MPI_Alltoallv_c,
    PMPI_Alltoallv_c,
    MPI_Ialltoallv_c,
    PMPI_Ialltoallv_c,
    MPI_Alltoallv_init_c,
    PMPI_Alltoallv_init_c,
    i64,
    isize
);

macro_rules! alltoallw_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $disp:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcounts: *const $cnt, sdispls: *const $disp, sendtypes: *const c_int,
             recvbuf: *mut c_void, recvcounts: *const $cnt, rdispls: *const $disp, recvtypes: *const c_int, comm: c_int),
            |ctx, how| {
                let n = size_of(ctx, comm)?;
                let s = if in_place(sendbuf) { None } else {
                    Some(Blocks::w(n, counts(sendcounts, n, "sendcounts")?, arr(sdispls, n, "sdispls")?, sendtypes, "sendtypes")?)
                };
                let r = Blocks::w(n, counts(recvcounts, n, "recvcounts")?, arr(rdispls, n, "rdispls")?, recvtypes, "recvtypes")?;
                let same = std::ptr::eq(sendcounts, recvcounts) && std::ptr::eq(sendtypes, recvtypes);
                alltoall(ctx, how, sendbuf, s, recvbuf, r, same, comm)
            });
    };
}
alltoallw_fns!(
    MPI_Alltoallw,
    PMPI_Alltoallw,
    MPI_Ialltoallw,
    PMPI_Ialltoallw,
    MPI_Alltoallw_init,
    PMPI_Alltoallw_init,
    c_int,
    c_int
);
alltoallw_fns!(
    MPI_Alltoallw_c,
    PMPI_Alltoallw_c,
    MPI_Ialltoallw_c,
    PMPI_Ialltoallw_c,
    MPI_Alltoallw_init_c,
    PMPI_Alltoallw_init_c,
    i64,
    isize
);

macro_rules! reduce_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, recvbuf: *mut c_void, count: $cnt, datatype: c_int, op: c_int, root: c_int, comm: c_int),
            |ctx, how| { reduce(ctx, how, sendbuf, recvbuf, count as Count, datatype, op, root, comm) });
    };
}
reduce_fns!(
    MPI_Reduce,
    PMPI_Reduce,
    MPI_Ireduce,
    PMPI_Ireduce,
    MPI_Reduce_init,
    PMPI_Reduce_init,
    c_int
);
reduce_fns!(
    MPI_Reduce_c,
    PMPI_Reduce_c,
    MPI_Ireduce_c,
    PMPI_Ireduce_c,
    MPI_Reduce_init_c,
    PMPI_Reduce_init_c,
    i64
);

macro_rules! allreduce_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $f:ident $(, $ex:expr)?) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, recvbuf: *mut c_void, count: $cnt, datatype: c_int, op: c_int, comm: c_int),
            |ctx, how| { $f(ctx, how, sendbuf, recvbuf, count as Count, datatype, op, comm $(, $ex)?) });
    };
}
allreduce_fns!(
    MPI_Allreduce,
    PMPI_Allreduce,
    MPI_Iallreduce,
    PMPI_Iallreduce,
    MPI_Allreduce_init,
    PMPI_Allreduce_init,
    c_int,
    allreduce
);
allreduce_fns!(
    MPI_Allreduce_c,
    PMPI_Allreduce_c,
    MPI_Iallreduce_c,
    PMPI_Iallreduce_c,
    MPI_Allreduce_init_c,
    PMPI_Allreduce_init_c,
    i64,
    allreduce
);
allreduce_fns!(
    MPI_Scan,
    PMPI_Scan,
    MPI_Iscan,
    PMPI_Iscan,
    MPI_Scan_init,
    PMPI_Scan_init,
    c_int,
    scan,
    false
);
allreduce_fns!(
    MPI_Scan_c,
    PMPI_Scan_c,
    MPI_Iscan_c,
    PMPI_Iscan_c,
    MPI_Scan_init_c,
    PMPI_Scan_init_c,
    i64,
    scan,
    false
);
allreduce_fns!(
    MPI_Exscan,
    PMPI_Exscan,
    MPI_Iexscan,
    PMPI_Iexscan,
    MPI_Exscan_init,
    PMPI_Exscan_init,
    c_int,
    scan,
    true
);
allreduce_fns!(
    MPI_Exscan_c,
    PMPI_Exscan_c,
    MPI_Iexscan_c,
    PMPI_Iexscan_c,
    MPI_Exscan_init_c,
    PMPI_Exscan_init_c,
    i64,
    scan,
    true
);

macro_rules! reduce_scatter_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, recvbuf: *mut c_void, recvcounts: *const $cnt, datatype: c_int, op: c_int, comm: c_int),
            |ctx, how| {
                let n = local_size_of(ctx, comm)?;
                let c = counts(recvcounts, n, "recvcounts")?;
                reduce_scatter(ctx, how, sendbuf, recvbuf, c, datatype, op, comm)
            });
    };
}
reduce_scatter_fns!(
    MPI_Reduce_scatter,
    PMPI_Reduce_scatter,
    MPI_Ireduce_scatter,
    PMPI_Ireduce_scatter,
    MPI_Reduce_scatter_init,
    PMPI_Reduce_scatter_init,
    c_int
);
reduce_scatter_fns!(
    MPI_Reduce_scatter_c,
    PMPI_Reduce_scatter_c,
    MPI_Ireduce_scatter_c,
    PMPI_Ireduce_scatter_c,
    MPI_Reduce_scatter_init_c,
    PMPI_Reduce_scatter_init_c,
    i64
);

macro_rules! reduce_scatter_block_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, recvbuf: *mut c_void, recvcount: $cnt, datatype: c_int, op: c_int, comm: c_int),
            |ctx, how| {
                let n = local_size_of(ctx, comm)?;
                let c = count_ok(recvcount as Count, "recvcount")?;
                reduce_scatter(ctx, how, sendbuf, recvbuf, vec![c; n], datatype, op, comm)
            });
    };
}
reduce_scatter_block_fns!(
    MPI_Reduce_scatter_block,
    PMPI_Reduce_scatter_block,
    MPI_Ireduce_scatter_block,
    PMPI_Ireduce_scatter_block,
    MPI_Reduce_scatter_block_init,
    PMPI_Reduce_scatter_block_init,
    c_int
);
reduce_scatter_block_fns!(
    MPI_Reduce_scatter_block_c,
    PMPI_Reduce_scatter_block_c,
    MPI_Ireduce_scatter_block_c,
    PMPI_Ireduce_scatter_block_c,
    MPI_Reduce_scatter_block_init_c,
    PMPI_Reduce_scatter_block_init_c,
    i64
);
