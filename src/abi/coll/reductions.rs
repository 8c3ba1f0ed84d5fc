//! The reductions: MPI_Reduce, MPI_Allreduce, MPI_Reduce_scatter(_block), MPI_Scan and
//! MPI_Exscan (with the local MPI_Reduce_local where it lives), and their exported forms.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

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
    if let Some(size) = nothing_on(ctx, &how, count, comm)? {
        root_in(size, root)?;
        reduction_ok(op_h, dt)?;
        return Ok(());
    }
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
    if let How::Block = how {
        if nothing_to_move(&t, input.bytes()) || fast::reduce(&t, &red, &input, &out, root)? {
            return Ok(());
        }
    }
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
        Role::Idle => (None, Data::new(UserPtr::empty(), 0, sched::byte_type())),
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
    if nothing_on(ctx, &how, count, comm)?.is_some() {
        reduction_ok(op_h, dt)?;
        return Ok(());
    }
    let (t, inter_comm) = all_team(ctx, comm, sb, rb, Some(count > 0))?;
    let red = reduction(op_h, dt)?;
    let out = data(rb, count, dt)?;
    let input = if in_place(sb) {
        None
    } else {
        Some(data(sb, count, dt)?)
    };
    if let How::Block = how {
        if nothing_to_move(&t, out.bytes())
            || fast::allreduce(&t, &red, input.as_ref().unwrap_or(&out), &out)?
        {
            return Ok(());
        }
    }
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
    let (t, inter_comm) = all_team(ctx, comm, sb, rb, None)?;
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
                // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
                let c = unsafe { counts(recvcounts, n, "recvcounts") }?;
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
