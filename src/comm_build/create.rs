//! Making new communicators from existing ones: agreeing on a context id and building the
//! group. The C surface (and topologies) build every intracommunicator constructor on
//! `split`.

use crate::coll::internal;
use crate::error::MpiError;
use crate::object::comm::Comm;
use crate::object::context::STRIDE;
use crate::object::group::Group;
use crate::runtime::{self, Runtime};
use std::sync::Arc;

/// Agrees with every member of `parent` on a context id free in all of them, and takes it.
/// Collective over `parent`. Several communicators with disjoint groups made by one call
/// (MPI_Comm_split) share the id, as their traffic never meets. The ids are taken in
/// `rt`'s context table.
pub fn agree_context(rt: &Runtime, parent: &Comm) -> Result<u32, MpiError> {
    let mut floor = 0;
    loop {
        let mine = rt.contexts.lock().lowest_free(floor);
        let c =
            crate::object::context::agreed(internal::allreduce_max_u32(&rt.engine, parent, mine)?)?;
        let took = rt.contexts.lock().try_take(c);
        // 1 = somebody could not take it: everyone releases and tries above it.
        let failed = internal::allreduce_max_u32(&rt.engine, parent, (!took) as u32)?;
        if failed == 0 {
            return Ok(c);
        }
        if took {
            rt.contexts.lock().release(c);
        }
        floor = c + STRIDE;
    }
}

/// A communicator made from `parent` belongs to the same session as `parent` (if any), so
/// the session's attached buffer serves its buffered sends (MPI 4.1 §3.6: buffers attach
/// to a session's communicators, derived ones included).
pub fn inherit_session(rt: &Runtime, parent: &Comm, child_context: u32) {
    if let Some(s) = rt.engine.session_of(parent.context_id) {
        rt.engine.bind_session(child_context, s);
    }
}

/// `c`, made from `parent`, with what it inherits from it: its session and its errhandler
/// (MPI 4.1 §9.3: a new communicator inherits the handler of its parent; an unset one stays
/// unset, so it keeps following MPI_COMM_WORLD's as MPICH's does). Every constructor with a
/// parent communicator goes through here, topologies included.
///
/// MPICH 4.0.2 leaves the handler of MPI_Comm_create, MPI_Comm_create_group,
/// MPI_Intercomm_merge and MPI_Cart_sub results unset instead; we follow the standard there
/// (the two differ only when the parent's handler is not MPI_COMM_WORLD's).
fn derived(rt: &Runtime, parent: &Comm, c: Comm) -> Comm {
    inherit_session(rt, parent, c.context_id);
    *c.errhandler.lock() = parent.own_errhandler();
    c
}

/// Gives a context id back when its communicator is freed.
pub fn release_context(rt: &Runtime, c: u32) {
    rt.contexts.lock().release(c);
}

/// MPI_Comm_split on an intracommunicator: ranks with the same `color` form a new
/// communicator ordered by (`key`, parent rank); a negative color (MPI_UNDEFINED) gets None.
/// Collective over `parent`.
pub fn split(rt: &Runtime, parent: &Comm, color: i32, key: i32) -> Result<Option<Comm>, MpiError> {
    let mut mine = [0u8; 8];
    mine[..4].copy_from_slice(&color.to_le_bytes());
    mine[4..].copy_from_slice(&key.to_le_bytes());
    let all = internal::allgather(&rt.engine, parent, &mine)?;
    let ctx = agree_context(rt, parent)?;
    if color < 0 {
        release_context(rt, ctx);
        return Ok(None);
    }
    let (procs, rank) = members_of(&parent.group, &all, color, Some(parent.rank as usize));
    let rank = rank.expect("own rank is a member") as u32;
    Ok(Some(derived(
        rt,
        parent,
        Comm::new(ctx, rank, Arc::new(Group::new(procs)), ""),
    )))
}

/// MPI_Comm_split of either kind of communicator.
pub fn split_any(
    rt: &'static Runtime,
    parent: &Comm,
    color: i32,
    key: i32,
) -> Result<Option<Comm>, MpiError> {
    match parent.remote {
        None => split(rt, parent, color, key),
        Some(_) => split_inter(rt, parent, color, key),
    }
}

/// Members of `group` (given with their (color, key) pairs, in rank order) that chose
/// `color`, ordered by (key, rank): their endpoints, and the position of rank `me` if given.
fn members_of(
    group: &Group,
    pairs: &[u8],
    color: i32,
    me: Option<usize>,
) -> (Vec<u32>, Option<usize>) {
    let mut m: Vec<(i32, usize)> = pairs
        .chunks_exact(8)
        .enumerate()
        .filter_map(|(r, c)| {
            let col = i32::from_le_bytes(c[..4].try_into().expect("4 bytes"));
            let k = i32::from_le_bytes(c[4..].try_into().expect("4 bytes"));
            (col == color).then_some((k, r))
        })
        .collect();
    m.sort();
    let pos = me.and_then(|me| m.iter().position(|&(_, r)| r == me));
    (m.iter().map(|&(_, r)| group.proc_of(r)).collect(), pos)
}

/// MPI_Comm_split on an intercommunicator (MPI 4.1 §7.4.2): the members of each side with
/// one color form the two groups of a new intercommunicator, each ordered by (key, rank). A
/// color chosen on one side only, and MPI_UNDEFINED, give None. Collective over both groups;
/// the new intercommunicators (disjoint) share one context id, as in `split`.
pub fn split_inter(
    rt: &'static Runtime,
    parent: &Comm,
    color: i32,
    key: i32,
) -> Result<Option<Comm>, MpiError> {
    let remote = parent.remote.as_ref().expect("an intercommunicator");
    let net = inter_net(rt, parent);
    let mut mine = [0u8; 8];
    mine[..4].copy_from_slice(&color.to_le_bytes());
    mine[4..].copy_from_slice(&key.to_le_bytes());
    let all = net.allgather(&mine)?;
    let ctx = net.agree_context()?;
    if color < 0 {
        release_context(rt, ctx);
        return Ok(None);
    }
    // The net lists the group whose rank 0 has the lower endpoint first.
    let (lsize, rsize) = (parent.group.size(), remote.size());
    let (local_pairs, remote_pairs) = if precedes(rt, parent.group.proc_of(0), remote.proc_of(0)) {
        (&all[..8 * lsize], &all[8 * lsize..])
    } else {
        (&all[8 * rsize..], &all[..8 * rsize])
    };
    let (local, rank) = members_of(
        &parent.group,
        local_pairs,
        color,
        Some(parent.rank as usize),
    );
    let (others, _) = members_of(remote, remote_pairs, color, None);
    if others.is_empty() {
        release_context(rt, ctx);
        return Ok(None);
    }
    let rank = rank.expect("own rank has its color") as u32;
    Ok(Some(derived(
        rt,
        parent,
        Comm::new_inter(
            ctx,
            rank,
            Arc::new(Group::new(local)),
            Arc::new(Group::new(others)),
        ),
    )))
}

/// MPI_Comm_dup: same group, new context. Collective over `parent`.
pub fn dup(rt: &Runtime, parent: &Comm) -> Result<Comm, MpiError> {
    let ctx = agree_context(rt, parent)?;
    Ok(derived(
        rt,
        parent,
        Comm::new(ctx, parent.rank, parent.group.clone(), ""),
    ))
}

use super::group_net::{recv_var, send_var, GroupNet};
use crate::coll::internal::INTERNAL_TAG;
use crate::dpm::endpoints::precedes;

/// The context on which group-only creations without a parent communicator
/// (MPI_Comm_create_from_group, MPI_Intercomm_create_from_groups) meet: the spare id of
/// MPI_COMM_SELF's block, which no communicator's traffic uses. Sources are endpoints.
pub const BOOTSTRAP_CONTEXT: u32 = runtime::SELF_CONTEXT + 2;
/// Tags at or above this on a collective context carry group-only agreements
/// (MPI_Comm_create_group: this plus the user's tag).
const GROUP_TAG: i32 = INTERNAL_TAG + (1 << 29);
const TAG_MASK: i32 = (1 << 28) - 1;
/// Tag of the local-group exchanges of MPI_Intercomm_create.
const INTERCOMM_TAG: i32 = INTERNAL_TAG + (1 << 28);

/// A tag for a string tag (FNV-1a hash folded into the group-tag range).
pub fn string_tag(s: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    GROUP_TAG + (h as i32 & TAG_MASK)
}

/// MPI_Comm_create on an intracommunicator: collective over `parent`; the members of
/// `group` (which must be a subgroup of parent; disjoint groups given by different ranks
/// share one context id) get the new communicator, the others None.
pub fn create(rt: &Runtime, parent: &Comm, group: &Group) -> Result<Option<Comm>, MpiError> {
    let ctx = agree_context(rt, parent)?;
    let me = parent.group.proc_of(parent.rank as usize);
    match group.rank_of(me) {
        Some(r) => Ok(Some(derived(
            rt,
            parent,
            Comm::new(ctx, r as u32, Arc::new(group.clone()), ""),
        ))),
        None => {
            release_context(rt, ctx);
            Ok(None)
        }
    }
}

/// MPI_Comm_create of either kind of communicator.
pub fn create_any(
    rt: &'static Runtime,
    parent: &Comm,
    group: &Group,
) -> Result<Option<Comm>, MpiError> {
    match parent.remote {
        None => create(rt, parent, group),
        Some(_) => create_inter(rt, parent, group),
    }
}

/// MPI_Comm_create on an intercommunicator (MPI 4.1 §7.4.2; MPICH's MPIR_Comm_create_inter):
/// `group` is a subgroup of the local group. The members of the groups both sides passed form
/// a new intercommunicator, ranked in group order; a caller outside its group gets None, and
/// so does everybody when one side passed an empty group. Collective over both groups, which
/// is exactly a split of the intercommunicator with one color for the members, MPI_UNDEFINED
/// for the others, and the rank in `group` as the key.
pub fn create_inter(
    rt: &'static Runtime,
    parent: &Comm,
    group: &Group,
) -> Result<Option<Comm>, MpiError> {
    let me = parent.group.proc_of(parent.rank as usize);
    let (color, key) = match group.rank_of(me) {
        Some(r) => (0, r as i32),
        None => (-1, 0),
    };
    split_inter(rt, parent, color, key)
}

/// The net of `group`'s members over `parent`'s collective context, `tag` kept apart from
/// other concurrent creations on the same parent. None if I am not a member.
fn parent_group_net(
    rt: &'static Runtime,
    parent: &Comm,
    group: &Group,
    tag: i32,
) -> Option<GroupNet> {
    let me = parent.group.proc_of(parent.rank as usize);
    let my_index = group.rank_of(me)?;
    let srcs = group
        .procs
        .iter()
        .map(|&p| parent.group.rank_of(p).map(|r| r as i32).unwrap_or(-1))
        .collect();
    Some(GroupNet {
        rt,
        ctx: parent.coll_context(),
        tag: GROUP_TAG + (tag & TAG_MASK),
        eps: group.procs.clone(),
        srcs,
        me: my_index,
    })
}

/// MPI_Comm_create_group: collective only over the members of `group` (a subgroup of the
/// intracommunicator `parent`). None if the caller is not a member.
pub fn create_group(
    rt: &'static Runtime,
    parent: &Comm,
    group: &Group,
    tag: i32,
) -> Result<Option<Comm>, MpiError> {
    let Some(net) = parent_group_net(rt, parent, group, tag) else {
        return Ok(None);
    };
    let ctx = net.agree_context()?;
    Ok(Some(derived(
        rt,
        parent,
        Comm::new(ctx, net.me as u32, Arc::new(group.clone()), ""),
    )))
}

/// The net of `group`'s members on the bootstrap context (no parent communicator).
fn bootstrap_net(rt: &'static Runtime, group: &Group, tag: i32) -> Option<GroupNet> {
    group.rank_of(rt.rank).map(|i| GroupNet {
        rt,
        ctx: BOOTSTRAP_CONTEXT,
        tag,
        eps: group.procs.clone(),
        srcs: group.procs.iter().map(|&p| p as i32).collect(),
        me: i,
    })
}

/// MPI_Comm_create_from_group: collective over the members of `group`, matched by
/// `stringtag`. None if the caller is not a member: MPICH builds this call on
/// MPI_Comm_create_group, which gives such a caller MPI_COMM_NULL.
pub fn from_group(
    rt: &'static Runtime,
    group: &Group,
    stringtag: &str,
) -> Result<Option<Comm>, MpiError> {
    let Some(net) = bootstrap_net(rt, group, string_tag(stringtag)) else {
        return Ok(None);
    };
    let ctx = net.agree_context()?;
    Ok(Some(Comm::new(
        ctx,
        net.me as u32,
        Arc::new(group.clone()),
        "",
    )))
}

/// The link between the two leaders of an intercommunicator construction.
struct Link<'a> {
    e: &'a crate::p2p::NodeEngine,
    ep: u32,
    ctx: u32,
    my_src: i32,
    peer_src: i32,
    tag: i32,
    /// The side that sends first (so two blocking exchanges never wait on each other).
    first: bool,
}

impl super::two_sided::Exchange for Link<'_> {
    fn exchange(&mut self, mine: &[u8]) -> Result<Vec<u8>, MpiError> {
        if self.first {
            send_var(self.e, self.ep, self.ctx, self.my_src, self.tag, mine)?;
            recv_var(self.e, self.ctx, self.peer_src, self.tag)
        } else {
            let theirs = recv_var(self.e, self.ctx, self.peer_src, self.tag)?;
            send_var(self.e, self.ep, self.ctx, self.my_src, self.tag, mine)?;
            Ok(theirs)
        }
    }
}

/// The two sides of an intercommunicator under construction: each side's net has its
/// leader as member 0; the leaders talk over `link`. Returns (context id, remote group).
fn two_sided(
    net: &GroupNet,
    my_group: &Group,
    link: Option<Link<'_>>,
) -> Result<(u32, Group), MpiError> {
    let mut link = link;
    let l = link
        .as_mut()
        .map(|l| l as &mut dyn super::two_sided::Exchange);
    let (ctx, remote) = super::two_sided::meet(net, &my_group.procs, l)?;
    Ok((ctx, Group::new(remote)))
}

/// `members` reordered so that `leader` comes first (index into `members`).
fn leader_first(members: &[u32], leader: usize) -> Vec<usize> {
    let mut order = vec![leader];
    order.extend((0..members.len()).filter(|&i| i != leader));
    order
}

/// MPI_Intercomm_create: `local` is my intracommunicator, `local_leader` a rank in it; the
/// leaders reach each other through `peer` (only meaningful at the leader) with `tag`.
pub fn intercomm_create(
    rt: &'static Runtime,
    local: &Comm,
    local_leader: usize,
    peer: Option<(&Comm, usize)>,
    tag: i32,
) -> Result<Comm, MpiError> {
    let order = leader_first(&local.group.procs, local_leader);
    let net = GroupNet {
        rt,
        ctx: local.coll_context(),
        tag: INTERCOMM_TAG,
        eps: order.iter().map(|&i| local.group.proc_of(i)).collect(),
        srcs: order.iter().map(|&i| i as i32).collect(),
        me: order
            .iter()
            .position(|&i| i == local.rank as usize)
            .expect("own rank is in the order"),
    };
    let link = match (net.me, peer) {
        (0, Some((p, remote_leader))) => {
            let ep = p.peer(remote_leader);
            Some(Link {
                e: &rt.engine,
                ep,
                ctx: p.context_id,
                my_src: p.rank as i32,
                peer_src: remote_leader as i32,
                tag,
                first: precedes(rt, net.eps[0], ep),
            })
        }
        (0, None) => return Err(MpiError::intern("intercomm_create: leader without a peer")),
        _ => None,
    };
    let (ctx, remote) = two_sided(&net, &local.group, link)?;
    Ok(derived(
        rt,
        local,
        Comm::new_inter(ctx, local.rank, local.group.clone(), Arc::new(remote)),
    ))
}

/// MPI_Intercomm_create_from_groups: like `intercomm_create` with the groups given
/// directly; the two sides find each other on the bootstrap context by `stringtag`.
pub fn intercomm_from_groups(
    rt: &'static Runtime,
    local: &Group,
    local_leader: usize,
    remote: &Group,
    remote_leader: usize,
    stringtag: &str,
) -> Result<Comm, MpiError> {
    let me = rt.rank;
    let my_rank = local.rank_of(me).ok_or_else(|| {
        MpiError::arg(
            crate::error::class::ERR_GROUP,
            "local_group",
            "the calling process is not a member",
        )
    })?;
    let tag = string_tag(stringtag);
    let order = leader_first(&local.procs, local_leader);
    let eps: Vec<u32> = order.iter().map(|&i| local.proc_of(i)).collect();
    let net = GroupNet {
        rt,
        ctx: BOOTSTRAP_CONTEXT,
        tag,
        srcs: eps.iter().map(|&p| p as i32).collect(),
        eps,
        me: order.iter().position(|&i| i == my_rank).expect("member"),
    };
    let link = (net.me == 0).then(|| {
        let ep = remote.proc_of(remote_leader);
        Link {
            e: &rt.engine,
            ep,
            ctx: BOOTSTRAP_CONTEXT,
            my_src: me as i32,
            peer_src: ep as i32,
            // The leaders' own exchange gets a tag of its own (the nets use `tag`).
            tag: tag ^ 1,
            first: precedes(rt, me, ep),
        }
    });
    let (ctx, remote_seen) = two_sided(&net, local, link)?;
    Ok(Comm::new_inter(
        ctx,
        my_rank as u32,
        Arc::new(local.clone()),
        Arc::new(remote_seen),
    ))
}

/// The net of all members of intercommunicator `c` (both groups), on the spare context id
/// `c.context_id + 2`. The group whose rank 0 has the lower endpoint comes first.
fn inter_net(rt: &'static Runtime, c: &Comm) -> GroupNet {
    let remote = c.remote.as_ref().expect("an intercommunicator");
    let local_first = precedes(rt, c.group.proc_of(0), remote.proc_of(0));
    let (a, b) = if local_first {
        (&c.group, remote)
    } else {
        (remote, &c.group)
    };
    let eps: Vec<u32> = a.procs.iter().chain(b.procs.iter()).copied().collect();
    let me = if local_first {
        c.rank as usize
    } else {
        remote.size() + c.rank as usize
    };
    GroupNet {
        rt,
        ctx: c.context_id + 2,
        tag: INTERNAL_TAG,
        srcs: (0..eps.len() as i32).collect(),
        eps,
        me,
    }
}

/// MPI_Intercomm_merge: the group with `high` false comes first (if both sides give the
/// same value, the side whose rank 0 has the lower endpoint).
pub fn intercomm_merge(rt: &'static Runtime, c: &Comm, high: bool) -> Result<Comm, MpiError> {
    let net = inter_net(rt, c);
    let highs = net.allgather(&[high as u8])?;
    let remote = c.remote.as_ref().expect("an intercommunicator");
    let local_first_in_net = precedes(rt, c.group.proc_of(0), remote.proc_of(0));
    let (a_size, a_high, b_high) = if local_first_in_net {
        (c.group.size(), highs[0], highs[c.group.size()])
    } else {
        (remote.size(), highs[0], highs[remote.size()])
    };
    let eps = &net.eps;
    let procs: Vec<u32> = if a_high != 0 && b_high == 0 {
        eps[a_size..]
            .iter()
            .chain(eps[..a_size].iter())
            .copied()
            .collect()
    } else {
        eps.clone()
    };
    let ctx = net.agree_context()?;
    let me = eps[net.me];
    let rank = procs.iter().position(|&p| p == me).expect("member") as u32;
    Ok(derived(
        rt,
        c,
        Comm::new(ctx, rank, Arc::new(Group::new(procs)), ""),
    ))
}

/// Tags from here on the agreement context carry MPI_Comm_idup agreements, one tag per
/// idup call on a parent (from the parent's collective sequence, the same on all members).
const IDUP_TAG: i32 = INTERNAL_TAG + (1 << 27);
const IDUP_MASK: u32 = (1 << 27) - 1;

/// The net over which MPI_Comm_idup number `seq` of `parent` agrees on its context id (see
/// `comm_idup`): the parent's collective context for an intracommunicator, both groups on
/// the spare context for an intercommunicator (as `dup_any`), with a tag of its own.
pub fn idup_net(rt: &'static Runtime, parent: &Comm, seq: u32) -> GroupNet {
    let tag = IDUP_TAG + (seq & IDUP_MASK) as i32;
    match parent.remote {
        None => GroupNet {
            rt,
            ctx: parent.coll_context(),
            tag,
            eps: parent.group.procs.clone(),
            srcs: (0..parent.size() as i32).collect(),
            me: parent.rank as usize,
        },
        Some(_) => GroupNet {
            tag,
            ..inter_net(rt, parent)
        },
    }
}

/// MPI_Comm_dup of either kind of communicator.
pub fn dup_any(rt: &'static Runtime, parent: &Comm) -> Result<Comm, MpiError> {
    match &parent.remote {
        None => dup(rt, parent),
        Some(remote) => {
            let ctx = inter_net(rt, parent).agree_context()?;
            Ok(derived(
                rt,
                parent,
                Comm::new_inter(ctx, parent.rank, parent.group.clone(), remote.clone()),
            ))
        }
    }
}
