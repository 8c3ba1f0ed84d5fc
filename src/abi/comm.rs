//! Communicator handles, and the communicator calls the foundation needs.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::Ctx;
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::mpi_fn;
use crate::object::comm::Comm;
use crate::object::errhandler::Errhandler;
use crate::runtime;
use std::ops::Deref;
use std::os::raw::c_int;
use std::sync::Arc;

/// User communicators.
pub static COMMS: HandleTable<Comm> = HandleTable::new(obj::COMM);

pub enum CommRef {
    Static(&'static Comm),
    Shared(Arc<Comm>),
}

impl Deref for CommRef {
    type Target = Comm;
    #[inline]
    fn deref(&self) -> &Comm {
        match self {
            CommRef::Static(c) => c,
            CommRef::Shared(c) => c,
        }
    }
}

/// The communicator behind `h`, if it is valid (no error raised).
#[inline]
pub fn lookup(h: c_int) -> Option<CommRef> {
    lookup_in(runtime::get()?, h)
}

/// [`lookup`] with the runtime in hand.
#[inline]
fn lookup_in(rt: &'static runtime::Runtime, h: c_int) -> Option<CommRef> {
    match h {
        // The World model's communicators exist only between MPI_Init and MPI_Finalize.
        predefined::COMM_WORLD if runtime::world_active() => Some(CommRef::Static(&rt.world)),
        predefined::COMM_SELF if runtime::world_active() => Some(CommRef::Static(&rt.self_comm)),
        _ => COMMS.get(h).map(CommRef::Shared),
    }
}

/// The calls that may name a communicator whose MPI_Comm_idup has not completed. The
/// standard makes any use erroneous, but MPICH accepts the local ones (mpi4py sets the
/// errhandler of the new communicator right after MPI_Comm_idup returns), so we do too:
/// they act on the placeholder, whose state the finished communicator takes over.
pub(crate) const LOCAL_ON_PENDING: &[&str] = &[
    "MPI_Comm_set_errhandler",
    "MPI_Comm_get_errhandler",
    "MPI_Comm_set_name",
    "MPI_Comm_get_name",
    "MPI_Comm_set_attr",
    "MPI_Comm_get_attr",
    "MPI_Comm_delete_attr",
    "MPI_Attr_put",
    "MPI_Attr_get",
    "MPI_Attr_delete",
    "MPI_Comm_set_info",
    "MPI_Comm_get_info",
    "MPI_Comm_rank",
    "MPI_Comm_size",
    "MPI_Comm_remote_size",
    "MPI_Comm_test_inter",
    "MPI_Comm_group",
    "MPI_Comm_remote_group",
];

/// Resolves argument `comm`; errors raised after this go to its errhandler.
///
/// Inlined into every call that names a communicator: a valid communicator that is neither
/// waiting for its MPI_Comm_idup nor revoked (nothing was revoked: one atomic load) is the
/// whole fast path; everything else (errors, the exemptions of those two rare states) is
/// [`get_checked`]'s.
#[inline(always)]
pub fn get(ctx: &mut Ctx, h: c_int) -> Result<CommRef, MpiError> {
    if let Some(c) = runtime::get().and_then(|rt| lookup_in(rt, h)) {
        if c.context_id != comm_idup::PENDING_CONTEXT && !crate::ft::any_revoked() {
            ctx.on_comm(h);
            return Ok(c);
        }
    }
    get_checked(ctx, h)
}

/// [`get`] with every check spelled out.
#[inline(never)]
fn get_checked(ctx: &mut Ctx, h: c_int) -> Result<CommRef, MpiError> {
    let rt = runtime::rt()?;
    match lookup_in(rt, h) {
        Some(c)
            if c.context_id == comm_idup::PENDING_CONTEXT
                && !LOCAL_ON_PENDING.contains(&ctx.func) =>
        {
            Err(MpiError::arg(
                class::ERR_COMM,
                "comm",
                "communicator not usable until its MPI_Comm_idup request completes",
            ))
        }
        Some(c) => {
            ctx.on_comm(h);
            // ULFM: once revoked, a communicator refuses every operation but the local
            // queries, the fault-tolerance calls and freeing (one atomic load otherwise).
            if crate::ft::is_revoked(c.context_id)
                && !LOCAL_ON_PENDING.contains(&ctx.func)
                && !super::mpix::ulfm::REVOKE_EXEMPT.contains(&ctx.func)
            {
                return Err(MpiError::new(
                    class::ERR_REVOKED,
                    format!(
                        "{}: the communicator was revoked (MPIX_Comm_revoke)",
                        ctx.func
                    ),
                ));
            }
            Ok(c)
        }
        None if h == predefined::COMM_NULL => {
            Err(MpiError::arg(class::ERR_COMM, "comm", "MPI_COMM_NULL"))
        }
        None => Err(MpiError::arg(
            class::ERR_COMM,
            "comm",
            format!("invalid communicator handle {h:#x}"),
        )),
    }
}

mpi_fn!(MPI_Comm_rank, PMPI_Comm_rank, (comm: c_int, rank: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    // SAFETY: `rank` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(rank, c.rank as c_int, "rank") }
});

mpi_fn!(MPI_Comm_size, PMPI_Comm_size, (comm: c_int, size: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, c.size() as c_int, "size") }
});

/// The errhandler behind a handle: a predefined one, or a user one (errhandler chapter).
pub fn errhandler_of(h: c_int) -> Result<Errhandler, MpiError> {
    match h {
        predefined::ERRORS_ARE_FATAL => Ok(Errhandler::Fatal),
        predefined::ERRORS_RETURN | predefined::ERRORS_THROW_EXCEPTIONS => Ok(Errhandler::Return),
        predefined::ERRORS_ABORT => Ok(Errhandler::Abort),
        _ => super::errhandler::ERRHANDLERS
            .get(h)
            .map(|e| (*e).clone())
            .ok_or_else(|| {
                MpiError::arg(
                    class::ERR_ARG,
                    "errhandler",
                    format!("invalid errhandler handle {h:#x}"),
                )
            }),
    }
}

/// The `errhandler` argument of the constructors from groups: a communicator errhandler.
/// MPI_ERRHANDLER_NULL is MPI_ERR_ARG, as MPICH's MPIR_ERRTEST_ERRHANDLER.
fn given_errhandler(h: c_int) -> Result<Errhandler, MpiError> {
    if h == predefined::ERRHANDLER_NULL {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "errhandler",
            "MPI_ERRHANDLER_NULL",
        ));
    }
    let e = errhandler_of(h)?;
    if let Errhandler::User { kind, .. } = e {
        if kind != crate::object::errhandler::ErrhandlerKind::Comm {
            return Err(MpiError::arg(
                class::ERR_ARG,
                "errhandler",
                "not a communicator errhandler",
            ));
        }
    }
    Ok(e)
}

/// The handle of an errhandler value (predefined ones have fixed handles; a user one its
/// handle, with one more reference, as MPI_Comm_get_errhandler returns in MPICH).
pub fn errhandler_handle(e: &Errhandler) -> c_int {
    match e {
        // An unset handler reads as MPI_ERRORS_ARE_FATAL, as in MPICH (whatever the handler
        // an error would find at this moment).
        Errhandler::Fatal | Errhandler::Unset => predefined::ERRORS_ARE_FATAL,
        Errhandler::Return => predefined::ERRORS_RETURN,
        Errhandler::Abort => predefined::ERRORS_ABORT,
        Errhandler::User { .. } => super::errhandler::hold(e),
    }
}

mpi_fn!(MPI_Comm_set_errhandler, PMPI_Comm_set_errhandler, (comm: c_int, errhandler: c_int), |ctx| {
    let c = get(ctx, comm)?;
    let e = errhandler_of(errhandler)?;
    if let Errhandler::User { kind, .. } = e {
        if kind != crate::object::errhandler::ErrhandlerKind::Comm {
            return Err(MpiError::arg(class::ERR_ARG, "errhandler", "not a communicator errhandler"));
        }
    }
    c.set_errhandler(e);
    Ok(())
});

/// The handler objects with an unset one use at this moment, and the communicator it belongs
/// to (passed to a user handler): MPI_COMM_SELF's if set, else MPI_COMM_WORLD's if set (MPICH
/// 4.0.2 only looks at MPI_COMM_WORLD's; MPI 4 names MPI_COMM_SELF's for errors that belong
/// to no object), else none (MPI_ERRORS_ARE_FATAL). None too outside MPI_Init..Finalize.
pub fn default_errhandler() -> Option<(Errhandler, c_int)> {
    if !runtime::world_active() {
        return None;
    }
    let rt = runtime::get()?;
    let own =
        |c: &Comm, h: c_int| Some((c.own_errhandler(), h)).filter(|(e, _)| *e != Errhandler::Unset);
    own(&rt.self_comm, predefined::COMM_SELF).or_else(|| own(&rt.world, predefined::COMM_WORLD))
}

mpi_fn!(MPI_Comm_get_errhandler, PMPI_Comm_get_errhandler, (comm: c_int, errhandler: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    let e = c.own_errhandler();
    // SAFETY: `errhandler` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(errhandler, errhandler_handle(&e), "errhandler") }
});

// ---- constructors ----

use super::consts::UNDEFINED;
use crate::object::comm_create;
use crate::object::comm_idup;
use crate::object::group::{CONGRUENT, IDENT, SIMILAR, UNEQUAL};
use crate::object::info::Info;
use std::os::raw::c_char;

/// The communicator hints we honour, hence keep and report (MPI_Comm_get_info returns the
/// hints in use, MPI 4.1 §7.4.4): the standard's assertions, booleans that are false by
/// default — the same set MPICH reports, minus its device-specific ones. Other keys are
/// ignored, as MPICH ignores them.
const COMM_HINTS: [&str; 4] = [
    "mpi_assert_no_any_tag",
    "mpi_assert_no_any_source",
    "mpi_assert_exact_length",
    "mpi_assert_allow_overtaking",
];

/// `base` with the hints of `given` we honour ("true"/"false" in any case; other values
/// are ignored, as MPICH ignores what it cannot parse).
fn with_hints(mut base: Info, given: &Info) -> Info {
    for key in COMM_HINTS {
        match given.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            Some(v) if v == "true" || v == "false" => base.set(key, &v),
            _ => {}
        }
    }
    base
}

/// Registers a new communicator and returns its handle.
pub fn register(c: Comm) -> c_int {
    COMMS.insert(Arc::new(c))
}

/// Checks `newcomm` is writable before a collective creation (so a bad pointer is reported
/// before any agreement starts).
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn newcomm_arg(newcomm: *mut c_int) -> Result<(), MpiError> {
    // SAFETY: `newcomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newcomm, predefined::COMM_NULL, "newcomm") }
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn out(newcomm: *mut c_int, c: Option<Comm>) -> Result<(), MpiError> {
    let h = c.map(register).unwrap_or(predefined::COMM_NULL);
    // SAFETY: `newcomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newcomm, h, "newcomm") }
}

fn intra(c: &Comm, arg: &str) -> Result<(), MpiError> {
    if c.is_inter() {
        return Err(MpiError::arg(
            class::ERR_COMM,
            arg,
            "an intercommunicator is not allowed here (the call takes an intracommunicator)",
        ));
    }
    Ok(())
}

/// Comm_dup and friends: new context, copied attributes (through their copy callbacks),
/// errhandler, topology, and `info` (or the parent's hints).
fn dup_full(ctx: &mut Ctx, comm: c_int, info: Option<Info>) -> Result<Comm, MpiError> {
    let c = get(ctx, comm)?;
    let rt = crate::runtime::rt()?;
    let n = comm_create::dup_any(rt, &c)?;
    let attrs = match super::attr::copy_list(comm, &c.attrs) {
        Ok(a) => a,
        Err(e) => {
            comm_create::release_context(rt, n.context_id);
            return Err(e);
        }
    };
    *n.attrs.lock() = attrs;
    *n.topo.write() = c.topo.read().clone();
    // MPICH's dup starts from no hints (the parent's are not copied), dup_with_info from
    // the given ones.
    *n.info.lock() = with_hints(Info::new(), &info.unwrap_or_default());
    Ok(n)
}

mpi_fn!(MPI_Comm_dup, PMPI_Comm_dup, (comm: c_int, newcomm: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { newcomm_arg(newcomm) }?;
    let n = dup_full(ctx, comm, None)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newcomm, Some(n)) }
});

mpi_fn!(MPI_Comm_dup_with_info, PMPI_Comm_dup_with_info, (comm: c_int, info: c_int, newcomm: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { newcomm_arg(newcomm) }?;
    let i = super::info::get_or_empty(info, "info")?;
    let n = dup_full(ctx, comm, Some(i))?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newcomm, Some(n)) }
});

/// Comm_idup: the new handle is written at once (as MPICH does) and stands for a placeholder
/// that `get` refuses; the context id is agreed in the background (`object::comm_idup`), and
/// when it is, the finished communicator replaces the placeholder and the request completes.
/// Attributes are copied (their copy callbacks run) at the call, from the parent as it is
/// then.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn idup(
    ctx: &mut Ctx,
    comm: c_int,
    info: Option<Info>,
    newcomm: *mut c_int,
    request: *mut c_int,
) -> Result<(), MpiError> {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { newcomm_arg(newcomm) }?;
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, predefined::REQUEST_NULL, "request") }?;
    let c = get(ctx, comm)?;
    let rt = runtime::rt()?;
    let attrs = super::attr::copy_list(comm, &c.attrs)?;
    let errhandler = c.own_errhandler();
    let topo = c.topo.read().clone();
    let info = with_hints(Info::new(), &info.unwrap_or_default());
    let session = rt.engine.session_of(c.context_id);
    // Every member numbers its idups on this parent alike (collective order), which gives
    // each agreement a tag of its own.
    let seq = c
        .coll_seq
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let net = comm_create::idup_net(rt, &c, seq);
    let (rank, group, remote) = (c.rank, c.group.clone(), c.remote.clone());
    drop(c);

    let req = rt.engine.external(crate::p2p::Kind::Schedule, [0; 4]);
    rt.engine.set_owner(req, comm);
    let mut placeholder = Comm::new(comm_idup::PENDING_CONTEXT, rank, group.clone(), "");
    placeholder.remote = remote.clone();
    *placeholder.attrs.lock() = attrs;
    *placeholder.errhandler.lock() = errhandler;
    *placeholder.topo.write() = topo;
    *placeholder.info.lock() = info;
    let h = register(placeholder);
    // SAFETY: `newcomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newcomm, h, "newcomm") }?;
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, super::request::handle_of(req), "request") }?;

    comm_idup::start(
        net,
        Box::new(move |agreed| {
            let Ok(rt) = runtime::rt() else { return };
            let mut status = crate::p2p::Status {
                source: super::consts::ANY_SOURCE,
                tag: super::consts::ANY_TAG,
                ..Default::default()
            };
            match (agreed, COMMS.get(h)) {
                (Ok(context), Some(p)) => {
                    // The finished communicator takes over the placeholder's local state
                    // (the calls of LOCAL_ON_PENDING may have changed it).
                    let n = match remote {
                        Some(r) => Comm::new_inter(context, rank, group, r),
                        None => Comm::new(context, rank, group, ""),
                    };
                    *n.attrs.lock() = std::mem::take(&mut *p.attrs.lock());
                    *n.errhandler.lock() = p.errhandler.lock().clone();
                    *n.name.lock() = p.name.lock().clone();
                    *n.topo.write() = p.topo.read().clone();
                    *n.info.lock() = p.info.lock().clone();
                    if let Some(s) = session {
                        rt.engine.bind_session(context, s);
                    }
                    COMMS.replace(h, Arc::new(n));
                }
                // The handle was freed before the request completed (erroneous): nobody
                // can use the id.
                (Ok(context), None) => comm_create::release_context(rt, context),
                (Err(e), _) => {
                    COMMS.remove(h);
                    status.error = e.class;
                }
            }
            rt.engine.set_status(req, status);
            rt.engine.complete_external(req);
        }),
    );
    Ok(())
}

mpi_fn!(MPI_Comm_idup, PMPI_Comm_idup, (comm: c_int, newcomm: *mut c_int, request: *mut c_int), |ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { idup(ctx, comm, None, newcomm, request) }
});

mpi_fn!(MPI_Comm_idup_with_info, PMPI_Comm_idup_with_info, (comm: c_int, info: c_int, newcomm: *mut c_int, request: *mut c_int), |ctx| {
    let i = super::info::get_or_empty(info, "info")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { idup(ctx, comm, Some(i), newcomm, request) }
});

mpi_fn!(MPI_Comm_create, PMPI_Comm_create, (comm: c_int, group: c_int, newcomm: *mut c_int), |ctx| {
    // Either kind of communicator (intercommunicators since MPI-2.2): `group` is a subgroup
    // of the (local) group.
    let c = get(ctx, comm)?;
    let g = super::group::get(group, "group")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { newcomm_arg(newcomm) }?;
    if g.procs.iter().any(|&p| c.group.rank_of(p).is_none()) {
        let which = if c.is_inter() { "local group" } else { "group" };
        return Err(MpiError::arg(class::ERR_GROUP, "group", format!("not a subgroup of the communicator's {which}")));
    }
    let n = comm_create::create_any(crate::runtime::rt()?, &c, &g)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newcomm, n) }
});

mpi_fn!(MPI_Comm_create_group, PMPI_Comm_create_group, (comm: c_int, group: c_int, tag: c_int, newcomm: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    intra(&c, "comm")?;
    let g = super::group::get(group, "group")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { newcomm_arg(newcomm) }?;
    if tag < 0 || tag > super::consts::TAG_UB {
        return Err(MpiError::arg(class::ERR_TAG, "tag", format!("invalid tag {tag}")));
    }
    if g.procs.iter().any(|&p| c.group.rank_of(p).is_none()) {
        return Err(MpiError::arg(class::ERR_GROUP, "group", "not a subgroup of the communicator's group"));
    }
    let n = comm_create::create_group(crate::runtime::rt()?, &c, &g, tag)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newcomm, n) }
});

mpi_fn!(MPI_Comm_split, PMPI_Comm_split, (comm: c_int, color: c_int, key: c_int, newcomm: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { newcomm_arg(newcomm) }?;
    if color < 0 && color != UNDEFINED {
        return Err(MpiError::arg(class::ERR_ARG, "color", format!("negative color {color}")));
    }
    let n = comm_create::split_any(crate::runtime::rt()?, &c, color, key)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newcomm, n) }
});

/// MPI_COMM_TYPE_* values of mpi.h.
mod split_type {
    pub const SHARED: i32 = 1;
    pub const HW_GUIDED: i32 = 2;
    pub const HW_UNGUIDED: i32 = 3;
    /// MPI_COMM_TYPE_RESOURCE_GUIDED in our mpi.h (MPI 4.1, later MPICH); MPICH 4.0.2's
    /// mpi.h gives this value to MPIX_COMM_TYPE_NEIGHBORHOOD. The info keys tell the two
    /// apart (mpi_hw_resource_type / nbhd_common_dirname).
    pub const RESOURCE_GUIDED: i32 = 4;
    /// MPIX_COMM_TYPE_NEIGHBORHOOD in our mpi.h (later MPICH's value).
    pub const NEIGHBORHOOD: i32 = 5;
}

/// The info key naming the hardware level of MPI_COMM_TYPE_HW_GUIDED, and the one level we
/// know (a node's shared memory), as in MPICH 4.0.2 (other levels give MPI_COMM_NULL).
const HW_KEY: &str = "mpi_hw_resource_type";
const HW_SHARED: &str = "mpi_shared_memory";
/// MPICH's key of MPIX_COMM_TYPE_NEIGHBORHOOD: processes sharing the file system of a
/// directory. (Its other key, network_topo, needs a network topology we do not have: like
/// MPICH without one, it gives MPI_COMM_NULL.)
const NBHD_DIR_KEY: &str = "nbhd_common_dirname";

/// The color of a split by hardware level (`hints`' mpi_hw_resource_type).
fn hw_color(hints: &Info, my_node: i32) -> i32 {
    match hints.get(HW_KEY) {
        Some(v) if v == HW_SHARED => my_node,
        // An unknown resource type (or none given) gives MPI_COMM_NULL.
        _ => UNDEFINED,
    }
}

/// The color of a neighbourhood split: the processes of a node share the file system the
/// directory is on; across nodes we cannot tell a shared file system from local ones
/// without probing it, so each node is a neighbourhood of its own. A process that cannot
/// see the directory, or was given no directory, gets MPI_COMM_NULL.
fn neighborhood_color(hints: &Info, my_node: i32) -> i32 {
    match hints.get(NBHD_DIR_KEY) {
        Some(d) if std::path::Path::new(d).is_dir() => my_node,
        _ => UNDEFINED,
    }
}

mpi_fn!(MPI_Comm_split_type, PMPI_Comm_split_type, (comm: c_int, split_type: c_int, key: c_int, info: c_int, newcomm: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { newcomm_arg(newcomm) }?;
    let hints = super::info::get_or_empty(info, "info")?;
    let rt = runtime::rt()?;
    let my_node = rt.node_of.get(rt.rank as usize).copied().unwrap_or(0) as i32;
    // Every rank computes its color, and whether the result is a hardware level (its info
    // then names it); all ranks take part in the split even if they end with
    // MPI_COMM_NULL.
    let (color, hw) = match split_type {
        UNDEFINED => (UNDEFINED, false),
        split_type::SHARED => (my_node, hints.get(HW_KEY).is_some()),
        split_type::HW_GUIDED => (hw_color(&hints, my_node), true),
        split_type::RESOURCE_GUIDED if hints.get(HW_KEY).is_some() => (hw_color(&hints, my_node), true),
        split_type::RESOURCE_GUIDED | split_type::NEIGHBORHOOD => (neighborhood_color(&hints, my_node), false),
        // The only level below the whole communicator we know is the node: it is the
        // answer when it is strictly smaller, else there is none (MPI_COMM_NULL).
        split_type::HW_UNGUIDED => (my_node, true),
        _ => return Err(MpiError::arg(class::ERR_ARG, "split_type", format!("unknown split type {split_type}"))),
    };
    // On an intercommunicator the type is the color on both sides (MPI 4.1 §7.4.2).
    let rt = crate::runtime::rt()?;
    let n = comm_create::split_any(rt, &c, color, key)?;
    let n = match (split_type, n) {
        (split_type::HW_UNGUIDED, Some(n)) if n.size() == c.size() && n.peer_size() == c.peer_size() => {
            comm_create::release_context(rt, n.context_id);
            None
        }
        (_, n) => n,
    };
    if let Some(n) = &n {
        let mut i = with_hints(Info::new(), &hints);
        if hw {
            i.set(HW_KEY, HW_SHARED);
        }
        *n.info.lock() = i;
    }
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newcomm, n) }
});

mpi_fn!(MPI_Comm_free, PMPI_Comm_free, (comm: *mut c_int), |ctx| {
    // SAFETY: `comm` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(comm, "comm") }?;
    if h == predefined::COMM_WORLD || h == predefined::COMM_SELF {
        get(ctx, h)?;
        return Err(MpiError::arg(class::ERR_COMM, "comm", "predefined communicators cannot be freed"));
    }
    get(ctx, h)?;
    free_handle(h)?;
    // SAFETY: `comm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(comm, predefined::COMM_NULL, "comm") }
});

/// Frees user communicator `h` (MPI_Comm_free, MPI_Comm_disconnect): its attributes are
/// deleted first, then its context id goes back to the pool.
pub fn free_handle(h: c_int) -> Result<(), MpiError> {
    let c = COMMS
        .get(h)
        .ok_or_else(|| MpiError::arg(class::ERR_COMM, "comm", "not a user communicator"))?;
    super::attr::delete_all(h, &c.attrs)?;
    let id = c.context_id;
    drop(c);
    COMMS.remove(h);
    let rt = crate::runtime::rt()?;
    rt.engine.forget_context(id);
    // Operations already started keep their context id; a later communicator may reuse it
    // only after an agreement among its members, which those members reach after this.
    comm_create::release_context(rt, id);
    Ok(())
}

mpi_fn!(MPI_Comm_compare, PMPI_Comm_compare, (comm1: c_int, comm2: c_int, result: *mut c_int) , |ctx| {
    let a = get(ctx, comm1)?;
    let b = get(ctx, comm2)?;
    let r = if comm1 == comm2 {
        IDENT
    } else if a.is_inter() != b.is_inter() {
        UNEQUAL
    } else {
        let local = a.group.compare(&b.group);
        let remote = match (&a.remote, &b.remote) {
            (Some(x), Some(y)) => x.compare(y),
            _ => IDENT,
        };
        match local.max(remote) {
            IDENT => CONGRUENT,
            SIMILAR => SIMILAR,
            _ => UNEQUAL,
        }
    };
    // SAFETY: `result` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(result, r, "result") }
});

mpi_fn!(MPI_Comm_group, PMPI_Comm_group, (comm: c_int, group: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    // SAFETY: `group` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(group, predefined::GROUP_NULL, "group") }?;
    // SAFETY: `group` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(group, super::group::handle_of((*c.group).clone()), "group") }
});

mpi_fn!(MPI_Comm_test_inter, PMPI_Comm_test_inter, (comm: c_int, flag: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, c.is_inter() as c_int, "flag") }
});

fn remote(c: &Comm) -> Result<&Arc<crate::object::group::Group>, MpiError> {
    c.remote
        .as_ref()
        .ok_or_else(|| MpiError::arg(class::ERR_COMM, "comm", "not an intercommunicator"))
}

mpi_fn!(MPI_Comm_remote_size, PMPI_Comm_remote_size, (comm: c_int, size: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    let n = remote(&c)?.size();
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, n as c_int, "size") }
});

mpi_fn!(MPI_Comm_remote_group, PMPI_Comm_remote_group, (comm: c_int, group: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    let g = (**remote(&c)?).clone();
    // SAFETY: `group` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(group, predefined::GROUP_NULL, "group") }?;
    // SAFETY: `group` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(group, super::group::handle_of(g), "group") }
});

mpi_fn!(MPI_Comm_set_name, PMPI_Comm_set_name, (comm: c_int, comm_name: *const c_char), |ctx| {
    let c = get(ctx, comm)?;
    // SAFETY: `comm_name` is the C caller's, null or valid for this use (MPI contract).
    let n = unsafe { arg::cstr(comm_name, "comm_name") }?;
    // Longer names are truncated to MPI_MAX_OBJECT_NAME - 1 characters.
    let mut end = n.len().min(super::consts::MAX_OBJECT_NAME - 1);
    while !n.is_char_boundary(end) {
        end -= 1;
    }
    *c.name.lock() = n[..end].to_string();
    Ok(())
});

mpi_fn!(MPI_Comm_get_name, PMPI_Comm_get_name, (comm: c_int, comm_name: *mut c_char, resultlen: *mut c_int), |ctx| {
    if comm == predefined::COMM_NULL {
        // MPICH names the null handle too (mpi4py relies on it).
        // SAFETY: `comm_name` is the C caller's, null or valid for this use (MPI contract).
        return unsafe { arg::write_str(comm_name, super::consts::MAX_OBJECT_NAME, "MPI_COMM_NULL", resultlen, "comm_name") };
    }
    let c = get(ctx, comm)?;
    let n = c.name.lock().clone();
    // SAFETY: `comm_name` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write_str(comm_name, super::consts::MAX_OBJECT_NAME, &n, resultlen, "comm_name") }
});

mpi_fn!(MPI_Comm_set_info, PMPI_Comm_set_info, (comm: c_int, info: c_int), |ctx| {
    let c = get(ctx, comm)?;
    let i = super::info::get_or_empty(info, "info")?;
    let mut mine = c.info.lock();
    *mine = with_hints(mine.clone(), &i);
    Ok(())
});

mpi_fn!(MPI_Comm_get_info, PMPI_Comm_get_info, (comm: c_int, info_used: *mut c_int), |ctx| {
    let c = get(ctx, comm)?;
    // SAFETY: `info_used` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info_used, predefined::INFO_NULL, "info_used") }?;
    // Every hint we honour, with its value in force (false unless set), as MPICH reports
    // them; then what we set ourselves (mpi_hw_resource_type of a hardware split).
    let mut i = Info::new();
    for key in COMM_HINTS {
        i.set(key, "false");
    }
    for (k, v) in c.info.lock().iter() {
        i.set(k, v);
    }
    // SAFETY: `info_used` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info_used, super::info::new_handle(i), "info_used") }
});

mpi_fn!(MPI_Comm_create_from_group, PMPI_Comm_create_from_group, (group: c_int, stringtag: *const c_char, info: c_int, errhandler: c_int, newcomm: *mut c_int), |_ctx| {
    // MPICH's order: the handles (group, info, errhandler), then the pointers.
    let g = super::group::get(group, "group")?;
    let i = super::info::get_or_empty(info, "info")?;
    let e = given_errhandler(errhandler)?;
    // SAFETY: `stringtag` is the C caller's, null or valid for this use (MPI contract).
    let tag = unsafe { arg::cstr(stringtag, "stringtag") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { newcomm_arg(newcomm) }?;
    let n = comm_create::from_group(crate::runtime::rt()?, &g, tag)?;
    if let Some(n) = &n {
        *n.errhandler.lock() = e;
        *n.info.lock() = with_hints(Info::new(), &i);
        if let Some(session) = super::session::session_of_group(&g) {
            crate::runtime::rt()?.engine.bind_session(n.context_id, session as u32);
        }
    }
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newcomm, n) }
});

// ---- intercommunicators ----

mpi_fn!(MPI_Intercomm_create, PMPI_Intercomm_create, (local_comm: c_int, local_leader: c_int, peer_comm: c_int, remote_leader: c_int, tag: c_int, newintercomm: *mut c_int), |ctx| {
    let l = get(ctx, local_comm)?;
    intra(&l, "local_comm")?;
    if local_leader < 0 || local_leader as usize >= l.size() {
        return Err(MpiError::arg(class::ERR_RANK, "local_leader", format!("invalid rank {local_leader} (size {})", l.size())));
    }
    if tag < 0 || tag > super::consts::TAG_UB {
        return Err(MpiError::arg(class::ERR_TAG, "tag", format!("invalid tag {tag}")));
    }
    // SAFETY: `newintercomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newintercomm, predefined::COMM_NULL, "newintercomm") }?;
    // peer_comm and remote_leader matter at the local leader only.
    let peer = if l.rank as i32 == local_leader {
        let p = lookup(peer_comm).ok_or_else(|| MpiError::arg(class::ERR_COMM, "peer_comm", format!("invalid communicator handle {peer_comm:#x}")))?;
        if remote_leader < 0 || remote_leader as usize >= p.peer_size() {
            return Err(MpiError::arg(class::ERR_RANK, "remote_leader", format!("invalid rank {remote_leader} (size {})", p.peer_size())));
        }
        Some(p)
    } else {
        None
    };
    let n = comm_create::intercomm_create(crate::runtime::rt()?, &l, local_leader as usize, peer.as_deref().map(|p| (p, remote_leader as usize)), tag)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newintercomm, Some(n)) }
});

mpi_fn!(MPI_Intercomm_create_from_groups, PMPI_Intercomm_create_from_groups, (local_group: c_int, local_leader: c_int, remote_group: c_int, remote_leader: c_int, stringtag: *const c_char, info: c_int, errhandler: c_int, newintercomm: *mut c_int), |_ctx| {
    let lg = super::group::get(local_group, "local_group")?;
    let rg = super::group::get(remote_group, "remote_group")?;
    for (arg, r, g) in [("local_leader", local_leader, &lg), ("remote_leader", remote_leader, &rg)] {
        if r < 0 || r as usize >= g.size() {
            return Err(MpiError::arg(class::ERR_RANK, arg, format!("invalid rank {r} (group size {})", g.size())));
        }
    }
    // SAFETY: `stringtag` is the C caller's, null or valid for this use (MPI contract).
    let tag = unsafe { arg::cstr(stringtag, "stringtag") }?;
    let i = super::info::get_or_empty(info, "info")?;
    let e = given_errhandler(errhandler)?;
    // SAFETY: `newintercomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newintercomm, predefined::COMM_NULL, "newintercomm") }?;
    let n = comm_create::intercomm_from_groups(crate::runtime::rt()?, &lg, local_leader as usize, &rg, remote_leader as usize, tag)?;
    *n.errhandler.lock() = e;
    *n.info.lock() = with_hints(Info::new(), &i);
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newintercomm, Some(n)) }
});

mpi_fn!(MPI_Intercomm_merge, PMPI_Intercomm_merge, (intercomm: c_int, high: c_int, newintracomm: *mut c_int), |ctx| {
    let c = get(ctx, intercomm)?;
    remote(&c)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { newcomm_arg(newintracomm) }?;
    let n = comm_create::intercomm_merge(crate::runtime::rt()?, &c, high != 0)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { out(newintracomm, Some(n)) }
});

// ---- misc ----

mpi_fn!(MPI_Get_hw_resource_info, PMPI_Get_hw_resource_info, (hw_info: *mut c_int), |_ctx| {
    runtime::rt()?;
    let mut i = Info::new();
    // The one hardware level we know about.
    i.set(HW_KEY, HW_SHARED);
    // SAFETY: `hw_info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(hw_info, predefined::INFO_NULL, "hw_info") }?;
    // SAFETY: `hw_info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(hw_info, super::info::new_handle(i), "hw_info") }
});

/// MPI_Pcontrol(level, ...): profiling control; without a profiling tool it does nothing,
/// as the standard says.
#[no_mangle]
pub unsafe extern "C" fn PMPI_Pcontrol(_level: c_int) -> c_int {
    0
}

#[no_mangle]
pub unsafe extern "C" fn MPI_Pcontrol(level: c_int) -> c_int {
    // SAFETY: same contract as PMPI_Pcontrol.
    unsafe { PMPI_Pcontrol(level) }
}
