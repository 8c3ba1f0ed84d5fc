//! The rooted collectives that move per-rank blocks: MPI_Gather(v) and MPI_Scatter(v), one
//! body with the direction as a parameter, and their exported forms.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

/// Which way a rooted collective moves its per-rank blocks: gathered into the root's
/// array, or scattered from it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Gather,
    Scatter,
}

impl Dir {
    /// The argument names of (the root's array side, every rank's own-buffer side).
    fn names(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Dir::Gather => ("recvtype", "recvcount", "sendbuf", "recvbuf"),
            Dir::Scatter => ("sendtype", "sendcount", "recvbuf", "recvbuf"),
        }
    }
}

/// The root's array of per-rank blocks in a gather or scatter: `count` elements each, or
/// the v forms' `counts` and `displs` (in extents of `dt`).
struct RootBlocks {
    p: *const c_void,
    dt: c_int,
    counts: Option<Vec<u64>>,
    displs: Option<Vec<i64>>,
    count: Count,
    /// A v form (the counts are known at the root only, so this says it everywhere).
    v: bool,
}

/// Every rank's own buffer in a gather (what it sends) or scatter (what it receives).
struct OwnBuf {
    p: *const c_void,
    count: Count,
    dt: c_int,
}

/// MPI_Gather(v) and MPI_Scatter(v): the same argument checks and buffer descriptions with
/// the roles of the send and receive sides exchanged (`dir`).
fn rooted(
    ctx: &mut Ctx,
    how: How,
    dir: Dir,
    blocks: RootBlocks,
    one: OwnBuf,
    root: c_int,
    comm: c_int,
) -> Result<(), MpiError> {
    let (type_arg, count_arg, one_arg, alias_arg) = dir.names();
    let t = team(ctx, comm)?;
    let regular = !blocks.v;
    let role = role_of(&t, root)?;
    let inter_comm = t.remote.is_some();
    let n = t.peer_size();
    let me = t.rank;
    let (mine, all, own) = if let Role::Root = role {
        let bbuf = buf(blocks.p, blocks.dt, type_arg)?;
        if !inter_comm {
            let v = blocks.counts.as_deref().zip(blocks.displs.as_deref());
            let (blk, n_own) = own_block(blocks.p, bbuf.dt().extent(), me, blocks.count, v);
            let same = blocks.dt == one.dt && one.count == n_own && one.count != 0;
            check_alias(one.p, blk, same, alias_arg)?;
        }
        let all: Vec<Data> = match (blocks.counts, blocks.displs) {
            (Some(c), Some(d)) => (0..n)
                .map(|i| bbuf.at_bytes(d[i] * bbuf.dt().extent(), c[i]))
                .collect(),
            _ => {
                let c = count_ok(blocks.count, count_arg)?;
                (0..n).map(|i| bbuf.at(i as u64 * c, c)).collect()
            }
        };
        // The root of an intercommunicator exchanges only with the remote group.
        let own = if inter_comm || in_place(one.p) {
            None
        } else {
            let mine = data(one.p, one.count, one.dt)?;
            Some(match dir {
                Dir::Gather => (mine, all[me].clone()),
                Dir::Scatter => (all[me].clone(), mine),
            })
        };
        (None, all, own)
    } else if let Role::Leaf(_) = role {
        if inter_comm {
            no_in_place(one.p, one_arg)?;
        }
        (Some(data(one.p, one.count, one.dt)?), Vec::new(), None)
    } else {
        (None, Vec::new(), None)
    };
    if let (How::Block, true) = (&how, regular) {
        let root = if let Role::Leaf(r) = role { r } else { me };
        let (mine, own) = (mine.as_ref(), own.as_ref());
        if fast::rooted(&t, dir == Dir::Scatter, root, mine, &all, own)? {
            return Ok(());
        }
    }
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, None);
        match (dir, role, &mine) {
            (Dir::Gather, Role::Root, _) if inter_comm => inter::gather_root(&mut s, &all),
            (Dir::Gather, Role::Leaf(r), Some(m)) if inter_comm => inter::gather_leaf(&mut s, m, r),
            (Dir::Gather, Role::Root, _) => {
                algo::gather(&mut s, me, None, all.clone(), own.clone())
            }
            (Dir::Gather, Role::Leaf(r), m) => algo::gather(&mut s, r, m.clone(), Vec::new(), None),
            (Dir::Scatter, Role::Root, _) if inter_comm => inter::scatter_root(&mut s, &all),
            (Dir::Scatter, Role::Leaf(r), Some(m)) if inter_comm => {
                inter::scatter_leaf(&mut s, m, r)
            }
            (Dir::Scatter, Role::Root, _) => {
                algo::scatter(&mut s, me, None, all.clone(), own.clone())
            }
            (Dir::Scatter, Role::Leaf(r), m) => {
                algo::scatter(&mut s, r, m.clone(), Vec::new(), None)
            }
            (_, Role::Idle, _) => {}
        }
        Ok(s)
    })
}

/// The v forms' counts and displacements, significant at the root only (None elsewhere).
///
/// # Safety
/// At the root, `counts` and `displs` are null or the C caller's arrays of one entry per
/// rank (of the remote group on an intercommunicator).
unsafe fn root_arrays<C: Wide, D: Wide>(
    ctx: &mut Ctx,
    comm: c_int,
    root: c_int,
    counts_p: *const C,
    counts_arg: &str,
    displs: *const D,
) -> Result<(Option<Vec<u64>>, Option<Vec<i64>>), MpiError> {
    if !is_root(ctx, comm, root)? {
        return Ok((None, None));
    }
    let n = size_of(ctx, comm)?;
    // SAFETY: by this function's contract.
    unsafe {
        Ok((
            Some(counts(counts_p, n, counts_arg)?),
            Some(arr(displs, n, "displs")?),
        ))
    }
}

macro_rules! gather_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcount: $cnt, recvtype: c_int, root: c_int, comm: c_int),
            |ctx, how| {
                let blocks = RootBlocks { p: recvbuf, dt: recvtype, counts: None, displs: None, count: recvcount as Count, v: false };
                let one = OwnBuf { p: sendbuf, count: sendcount as Count, dt: sendtype };
                rooted(ctx, how, Dir::Gather, blocks, one, root, comm)
            });
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
                // SAFETY: the arrays are the C caller's, of one entry per rank (MPI contract).
                let (c, d) = unsafe { root_arrays(ctx, comm, root, recvcounts, "recvcounts", displs) }?;
                let blocks = RootBlocks { p: recvbuf, dt: recvtype, counts: c, displs: d, count: 0, v: true };
                let one = OwnBuf { p: sendbuf, count: sendcount as Count, dt: sendtype };
                rooted(ctx, how, Dir::Gather, blocks, one, root, comm)
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
            |ctx, how| {
                let blocks = RootBlocks { p: sendbuf, dt: sendtype, counts: None, displs: None, count: sendcount as Count, v: false };
                let one = OwnBuf { p: recvbuf, count: recvcount as Count, dt: recvtype };
                rooted(ctx, how, Dir::Scatter, blocks, one, root, comm)
            });
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
                // SAFETY: the arrays are the C caller's, of one entry per rank (MPI contract).
                let (c, d) = unsafe { root_arrays(ctx, comm, root, sendcounts, "sendcounts", displs) }?;
                let blocks = RootBlocks { p: sendbuf, dt: sendtype, counts: c, displs: d, count: 0, v: true };
                let one = OwnBuf { p: recvbuf, count: recvcount as Count, dt: recvtype };
                rooted(ctx, how, Dir::Scatter, blocks, one, root, comm)
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
