//! Collective operations on intra- and intercommunicators: blocking, nonblocking (`MPI_I*`)
//! and persistent (`*_init`), each with its `_c` form. Every function checks its arguments
//! locally (root, counts, datatypes, op against type) before any communication, describes
//! the buffers, and hands a schedule builder to `launch`; the algorithms are in
//! `crate::coll::algo` (intracommunicators) and `crate::coll::inter`.
//!
//! Here: how a collective is started ([`How`], `launch`, the [`coll3!`] macro that exports
//! the three forms of one body, also used by the neighbourhood collectives), the shared
//! argument checks, barrier and broadcast. The families are in `rooted` (gather, scatter),
//! `exchange` (allgather, alltoall) and `reductions` (reduce, allreduce, reduce-scatter,
//! scan).

#![deny(unsafe_op_in_unsafe_fn)]

mod exchange;
mod fast;
mod reductions;
mod rooted;
pub use exchange::*;
pub use reductions::*;
pub use rooted::*;

use super::arg;
use super::comm::{self, CommRef};
use super::consts::{IN_PLACE, PROC_NULL, ROOT};
use super::datatype;
use super::op;
use super::pt2pt::data;
use super::request::handle_of;
use super::Ctx;
use crate::coll::algo::{self, Buf};
use crate::coll::inter;
use crate::coll::reduce;
use crate::coll::sched::{self, Reduction, Remote, Schedule, Team};
use crate::error::{class, MpiError};
use crate::p2p::{Data, TypeKeep};
use crate::transport::mem::UserPtr;
use std::os::raw::{c_int, c_void};
use std::sync::Arc;

type Count = i64;

/// How a collective is started: blocking, or nonblocking / persistent with the caller's
/// request argument (checked non-null before anything starts).
pub(crate) enum How<'a> {
    Block,
    Nonblock(arg::Out<'a, c_int>),
    Persist(arg::Out<'a, c_int>),
}

/// Offset from an intercommunicator's context id of the context its local-group phases use
/// (`context_id + 3` of the communicator's block of four is reserved for this). The
/// collective context (`coll_context()`) is shared by both groups, where local rank i and
/// remote rank i would be the same source, so it carries only cross-group traffic.
const INTER_LOCAL_CONTEXT_OFFSET: u32 = 3;

fn team(ctx: &mut Ctx, h: c_int) -> Result<Team, MpiError> {
    let c = coll_comm(ctx, h)?;
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
        engine: &crate::runtime::rt()?.engine,
        ctx: tctx,
        rank: c.rank as usize,
        group: c.group.clone(),
        handle: h,
        seq: c.coll_seq.clone(),
        remote,
    })
}

/// The communicator `h` names, usable for a collective.
#[inline]
fn coll_comm(ctx: &mut Ctx, h: c_int) -> Result<CommRef, MpiError> {
    let c: CommRef = comm::get(ctx, h)?;
    // ULFM: a communicator with a failed member refuses collectives at the call (its
    // blocking collectives share one tag, so a late message of a failed call could
    // otherwise complete the next call with the wrong data).
    crate::ft::members::check_collective(c.context_id)?;
    Ok(c)
}

/// For a blocking collective of `count` = 0 elements: the size of the intracommunicator
/// `h` names, checked as [`team`] checks it, when the call moves nothing (see
/// [`nothing_to_move`]; the size alone: the caller needs nothing else, and the
/// communicator's reference is dropped here);
/// None sends the call down its general path (an intercommunicator, a count above 0, a
/// nonblocking or persistent form). The caller makes the rest of its argument checks and
/// returns: building a [`Team`] (two reference counts up and down) and describing the
/// buffers cost a 0 B call more than the call itself (callgrind, 2 ranks: MPI_Bcast 361
/// instructions, MPI_Allreduce 689; Open MPI returns in about 5 ns).
fn nothing_on(ctx: &mut Ctx, how: &How, count: Count, h: c_int) -> Result<Option<usize>, MpiError> {
    if count != 0 || !matches!(how, How::Block) {
        return Ok(None);
    }
    let c = coll_comm(ctx, h)?;
    Ok(c.remote.is_none().then(|| c.size()))
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

/// The team of `comm` for a collective where every rank sends and receives, and whether it
/// is an intercommunicator, after the checks they all make first: MPI_IN_PLACE is refused
/// on an intercommunicator; on an intracommunicator, aliased buffers are when `alias` says
/// whether the call moves the same data both ways (`None`: checked later, per block).
fn all_team(
    ctx: &mut Ctx,
    comm: c_int,
    sb: *const c_void,
    rb: *const c_void,
    alias: Option<bool>,
) -> Result<(Team, bool), MpiError> {
    let t = team(ctx, comm)?;
    let inter_comm = t.remote.is_some();
    if inter_comm {
        no_in_place(sb, "sendbuf")?;
    } else if let Some(same) = alias {
        check_alias(sb, rb, same, "recvbuf")?;
    }
    Ok((t, inter_comm))
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
    root_in(t.size(), root)
}

/// The root argument of a communicator of `size` ranks.
fn root_in(size: usize, root: c_int) -> Result<usize, MpiError> {
    if root < 0 || root as usize >= size {
        return Err(MpiError::arg(
            class::ERR_ROOT,
            "root",
            format!("invalid root {root} (communicator size {size})"),
        ));
    }
    Ok(root as usize)
}

/// A blocking collective on an intracommunicator whose every rank moves `bytes` = 0 (MPI
/// requires matching signatures, so all of them see 0): returns at once, after the
/// argument checks, as MPICH's binomial bcast (`nbytes == 0`) and Open MPI's collectives
/// do. Nonblocking and persistent forms still build their (empty) schedule: they owe a
/// request.
fn nothing_to_move(t: &Team, bytes: u64) -> bool {
    bytes == 0 && t.remote.is_none()
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
    // A predefined type by its handle's bits, as `data` takes it: no table, no commit flag
    // to load (callgrind, MPI_Allreduce of 0 B: `reduction` 215 -> 136 instructions).
    if let Some(id) = datatype::builtins::builtin_of(h) {
        return Ok(TypeKeep::Static(crate::datatype::builtin(id)));
    }
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

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn arr<T: Wide>(p: *const T, n: usize, arg: &str) -> Result<Vec<i64>, MpiError> {
    // SAFETY: `p` is the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { arg::slice(p, n, arg) }?
        .iter()
        .map(|v| v.wide())
        .collect())
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn counts<T: Wide>(p: *const T, n: usize, arg: &str) -> Result<Vec<u64>, MpiError> {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { arr(p, n, arg) }?
        .into_iter()
        .map(|c| count_ok(c, arg))
        .collect()
}

/// The checks [`reduction`] makes, for a call that moves nothing and so needs no
/// [`Reduction`]: a predefined op on a predefined type is a table look-up of their handles'
/// bits and one `op::allowed` (callgrind, 2 ranks, per call of 0 elements: MPI_Allreduce
/// 325 -> 251 instructions, MPI_Reduce 343 -> 266); anything else, or a pair to refuse,
/// takes [`reduction`], which names the error.
fn reduction_ok(op_h: c_int, dt_h: c_int) -> Result<(), MpiError> {
    if let (Some(p), Some(id)) = (op::predef_op(op_h), datatype::builtins::builtin_of(dt_h)) {
        if let Some(b) = crate::datatype::builtin(id).basic {
            if !p.is_accumulate_only() && crate::op::allowed(p, b) {
                return Ok(());
            }
        }
    }
    reduction(op_h, dt_h).map(drop)
}

fn reduction(op_h: c_int, dt_h: c_int) -> Result<Reduction, MpiError> {
    // A predefined op on a predefined type: both by their handles' bits, the pair checked
    // as `reduce::check` checks it (callgrind, 2 ranks, MPI_Allreduce of 8 B: `reduction`
    // 173 -> 116 instructions); anything else, or a pair to refuse, takes the general path,
    // which names the error.
    if let (Some(p), Some(id)) = (op::predef_op(op_h), datatype::builtins::builtin_of(dt_h)) {
        let d = crate::datatype::builtin(id);
        if let Some(b) = d.basic {
            if !p.is_accumulate_only() && crate::op::allowed(p, b) {
                return Ok(Reduction {
                    op: crate::op::user::Op::Predef(p),
                    dt: TypeKeep::Static(d),
                    dt_handle: dt_h,
                });
            }
        }
    }
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
        How::Nonblock(mut req) => {
            req.set(handle_of(sched::launch(build(tag)?)?));
            Ok(())
        }
        How::Persist(mut req) => {
            req.set(handle_of(sched::persistent(
                t.engine,
                Arc::new(move || build(tag)),
            )?));
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------
// The collectives, one core function each

fn barrier(ctx: &mut Ctx, how: How, comm: c_int) -> Result<(), MpiError> {
    let t = team(ctx, comm)?;
    if let How::Block = how {
        if fast::barrier(&t)? {
            return Ok(());
        }
    }
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
    // Nothing to move: MPI_Bcast(buf, 0, MPI_DATATYPE_NULL, ...) is accepted, as MPICH
    // accepts it (its other collectives refuse MPI_DATATYPE_NULL whatever the count, and so
    // do we).
    let nothing = count == 0 && dt == crate::handle::predefined::DATATYPE_NULL;
    if let Some(size) = nothing_on(ctx, &how, count, comm)? {
        root_in(size, root)?;
        if !nothing {
            dtype(dt, "datatype")?;
        }
        return Ok(());
    }
    let t = team(ctx, comm)?;
    let role = role_of(&t, root)?;
    let d = match role {
        Role::Idle => Data::new(UserPtr::empty(), 0, sched::byte_type()),
        _ if nothing => Data::new(UserPtr::empty(), 0, sched::byte_type()),
        _ => data(b, count, dt)?,
    };
    let (inter_comm, me) = (t.remote.is_some(), t.rank);
    if let How::Block = how {
        if nothing_to_move(&t, d.bytes()) {
            return Ok(());
        }
    }
    if let (How::Block, Role::Root | Role::Leaf(_)) = (&how, role) {
        let root = if let Role::Leaf(r) = role { r } else { me };
        if fast::bcast(&t, &d, root)? {
            return Ok(());
        }
    }
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

/// Defines the blocking, nonblocking and persistent forms of one collective (also used by
/// the neighbourhood collectives): `$how` is the body's [`How`], the request argument
/// checked non-null and the persistent form's info checked before the body runs.
macro_rules! coll3 {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident,
     ($($a:ident : $t:ty),*), |$ctx:ident, $how:ident| $body:block) => {
        $crate::mpi_fn!($b, $pb, ($($a: $t),*), |$ctx| {
            let $how = $crate::abi::coll::How::Block;
            $body
        });
        $crate::mpi_fn!($i, $pi, ($($a: $t,)* request: *mut ::std::os::raw::c_int), |$ctx| {
            // SAFETY: `request` is the C caller's output argument (MPI contract).
            let req = unsafe { $crate::abi::arg::out(request, "request") }?;
            let $how = $crate::abi::coll::How::Nonblock(req);
            $body
        });
        $crate::mpi_fn!($p, $pp,
            ($($a: $t,)* info: ::std::os::raw::c_int, request: *mut ::std::os::raw::c_int),
            |$ctx| {
                $crate::abi::info::check(info)?;
                // SAFETY: `request` is the C caller's output argument (MPI contract).
                let req = unsafe { $crate::abi::arg::out(request, "request") }?;
                let $how = $crate::abi::coll::How::Persist(req);
                $body
            });
    };
}
pub(crate) use coll3;

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
