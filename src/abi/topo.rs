//! Virtual topologies (MPI chapter 8): Cartesian and graph constructors and queries,
//! distributed graphs, MPI_Dims_create, MPI_Topo_test. The neighbourhood collectives are in
//! `topo/neighbor.rs`. The topology objects themselves live in `crate::topo`.

#![deny(unsafe_op_in_unsafe_fn)]

mod neighbor;

use super::arg;
use super::comm::{self, CommRef, COMMS};
use super::consts::UNDEFINED;
use super::symbols::{is_unweighted, is_weights_empty};
use super::Ctx;
use crate::error::{class, MpiError};
use crate::handle::predefined;
use crate::mpi_fn;
use crate::object::comm::Comm;
use crate::topo::dist_graph::Edge;
use crate::topo::{self as core, create, dims, Cart, DistGraph, Graph, Topology};
use std::os::raw::c_int;
use std::sync::Arc;

/// Topology kinds as MPI_Topo_test reports them (MPICH's values).
const GRAPH: c_int = 1;
const CART: c_int = 2;
const DIST_GRAPH: c_int = 3;

/// Resolves an intracommunicator argument (topologies exist only on those).
fn intracomm(ctx: &mut Ctx, h: c_int) -> Result<CommRef, MpiError> {
    let c = comm::get(ctx, h)?;
    if c.remote.is_some() {
        return Err(MpiError::arg(
            class::ERR_COMM,
            "comm",
            "intercommunicators have no topology",
        ));
    }
    Ok(c)
}

/// The topology of `c`, or MPI_ERR_TOPOLOGY.
fn topology(c: &Comm) -> Result<Arc<Topology>, MpiError> {
    core::of(c)
        .ok_or_else(|| MpiError::arg(class::ERR_TOPOLOGY, "comm", "communicator has no topology"))
}

fn wrong_kind(want: &str) -> MpiError {
    MpiError::arg(
        class::ERR_TOPOLOGY,
        "comm",
        format!("communicator does not have a {want} topology"),
    )
}

/// Runs `f` on the Cartesian topology of communicator `h`.
fn with_cart<R>(
    ctx: &mut Ctx,
    h: c_int,
    f: impl FnOnce(&Comm, &Cart) -> Result<R, MpiError>,
) -> Result<R, MpiError> {
    let c = intracomm(ctx, h)?;
    let t = topology(&c)?;
    match &*t {
        Topology::Cart(cart) => f(&c, cart),
        _ => Err(wrong_kind("Cartesian")),
    }
}

fn with_graph<R>(
    ctx: &mut Ctx,
    h: c_int,
    f: impl FnOnce(&Comm, &Graph) -> Result<R, MpiError>,
) -> Result<R, MpiError> {
    let c = intracomm(ctx, h)?;
    let t = topology(&c)?;
    match &*t {
        Topology::Graph(g) => f(&c, g),
        _ => Err(wrong_kind("graph")),
    }
}

fn with_dist_graph<R>(
    ctx: &mut Ctx,
    h: c_int,
    f: impl FnOnce(&DistGraph) -> Result<R, MpiError>,
) -> Result<R, MpiError> {
    let c = intracomm(ctx, h)?;
    let t = topology(&c)?;
    match &*t {
        Topology::DistGraph(g) => f(g),
        _ => Err(wrong_kind("distributed graph")),
    }
}

/// The handle of a newly made communicator (MPI_COMM_NULL for a process left out).
fn register(c: Option<Comm>) -> c_int {
    match c {
        Some(c) => COMMS.insert(Arc::new(c)),
        None => predefined::COMM_NULL,
    }
}

fn count_arg(n: c_int, arg: &str, class: i32) -> Result<usize, MpiError> {
    usize::try_from(n).map_err(|_| MpiError::arg(class, arg, format!("negative value {n}")))
}

/// Checks that every entry of `ranks` is a rank of a communicator of `size`.
fn check_ranks(ranks: &[c_int], size: usize, arg: &str) -> Result<Vec<u32>, MpiError> {
    ranks
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            if r >= 0 && (r as usize) < size {
                Ok(r as u32)
            } else {
                Err(MpiError::arg(
                    class::ERR_RANK,
                    arg,
                    format!("{arg}[{i}] = {r} is not a rank (communicator size {size})"),
                ))
            }
        })
        .collect()
}

fn rank_arg(rank: c_int, size: usize) -> Result<u32, MpiError> {
    if rank >= 0 && (rank as usize) < size {
        Ok(rank as u32)
    } else {
        Err(MpiError::arg(
            class::ERR_RANK,
            "rank",
            format!("invalid rank {rank} (communicator size {size})"),
        ))
    }
}

/// A `rank` argument of a topology query, checked against the communicator before its
/// topology is looked at: MPICH's generated argument checks (MPIR_ERRTEST_RANK) run before
/// the call finds the communicator has no Cartesian or graph topology.
fn comm_rank_arg(ctx: &mut Ctx, h: c_int, rank: c_int) -> Result<u32, MpiError> {
    rank_arg(rank, intracomm(ctx, h)?.size())
}

/// The grid described by (ndims, dims, periods) arguments.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn grid_arg(
    ndims: c_int,
    dims: *const c_int,
    periods: *const c_int,
) -> Result<Cart, MpiError> {
    let n = count_arg(ndims, "ndims", class::ERR_DIMS)?;
    // SAFETY: `dims` is the C caller's, null or valid for this use (MPI contract).
    let d = unsafe { arg::slice(dims, n, "dims") }?;
    // SAFETY: `periods` is the C caller's, null or valid for this use (MPI contract).
    let p = unsafe { arg::slice(periods, n, "periods") }?;
    let mut cart = Cart {
        dims: Vec::with_capacity(n),
        periods: p.iter().map(|&x| x != 0).collect(),
    };
    // A zero extent makes an empty grid, which MPICH accepts: MPI_Cart_create then gives
    // every process MPI_COMM_NULL and MPI_Cart_map MPI_UNDEFINED. (MPICH lets negative
    // extents through the same way; we report them.)
    for (i, &x) in d.iter().enumerate() {
        if x < 0 {
            return Err(MpiError::arg(
                class::ERR_DIMS,
                "dims",
                format!("dims[{i}] = {x} must not be negative"),
            ));
        }
        cart.dims.push(x as u32);
    }
    Ok(cart)
}

fn grid_too_big(cart: &Cart, size: usize) -> Result<(), MpiError> {
    if cart.size() > size as u64 {
        return Err(MpiError::arg(
            class::ERR_TOPOLOGY,
            "dims",
            format!(
                "grid of {} processes is larger than the communicator ({size})",
                cart.size()
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Cartesian topologies

mpi_fn!(MPI_Cart_create, PMPI_Cart_create, (comm_old: c_int, ndims: c_int, dims: *const c_int, periods: *const c_int, reorder: c_int, comm_cart: *mut c_int), |ctx| {
    let _ = reorder;
    let c = intracomm(ctx, comm_old)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let cart = unsafe { grid_arg(ndims, dims, periods) }?;
    grid_too_big(&cart, c.size())?;
    // SAFETY: `comm_cart` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(comm_cart, predefined::COMM_NULL, "comm_cart") }?;
    let new = create::cart_create(crate::runtime::rt()?, &c, cart)?;
    // SAFETY: `comm_cart` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(comm_cart, register(new), "comm_cart") }
});

mpi_fn!(MPI_Cart_map, PMPI_Cart_map, (comm: c_int, ndims: c_int, dims: *const c_int, periods: *const c_int, newrank: *mut c_int), |ctx| {
    let c = intracomm(ctx, comm)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let cart = unsafe { grid_arg(ndims, dims, periods) }?;
    grid_too_big(&cart, c.size())?;
    let r = if (c.rank as u64) < cart.size() { c.rank as c_int } else { UNDEFINED };
    // SAFETY: `newrank` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newrank, r, "newrank") }
});

mpi_fn!(MPI_Cartdim_get, PMPI_Cartdim_get, (comm: c_int, ndims: *mut c_int), |ctx| {
    let n = with_cart(ctx, comm, |_, cart| Ok(cart.dims.len()))?;
    // SAFETY: `ndims` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(ndims, n as c_int, "ndims") }
});

mpi_fn!(MPI_Cart_get, PMPI_Cart_get, (comm: c_int, maxdims: c_int, dims: *mut c_int, periods: *mut c_int, coords: *mut c_int), |ctx| {
    with_cart(ctx, comm, |c, cart| {
        let max = count_arg(maxdims, "maxdims", class::ERR_ARG)?;
        let n = cart.dims.len().min(max);
        let here = cart.coords(c.rank);
        // SAFETY: `dims` is the C caller's, null or valid for this use (MPI contract).
        let d = unsafe { arg::slice_mut(dims, n, "dims") }?;
        // SAFETY: `periods` is the C caller's, null or valid for this use (MPI contract).
        let p = unsafe { arg::slice_mut(periods, n, "periods") }?;
        // SAFETY: `coords` is the C caller's, null or valid for this use (MPI contract).
        let k = unsafe { arg::slice_mut(coords, n, "coords") }?;
        for i in 0..n {
            d[i] = cart.dims[i] as c_int;
            p[i] = cart.periods[i] as c_int;
            k[i] = here[i] as c_int;
        }
        Ok(())
    })
});

mpi_fn!(MPI_Cart_rank, PMPI_Cart_rank, (comm: c_int, coords: *const c_int, rank: *mut c_int), |ctx| {
    let r = with_cart(ctx, comm, |_, cart| {
        // SAFETY: `coords` is the C caller's, null or valid for this use (MPI contract).
        let k = unsafe { arg::slice(coords, cart.dims.len(), "coords") }?;
        let k: Vec<i64> = k.iter().map(|&x| x as i64).collect();
        cart.rank(&k).map_err(|e| {
            MpiError::arg(
                class::ERR_ARG,
                "coords",
                format!(
                    "coords[{}] = {} is outside the non-periodic dimension of size {}",
                    e.dim, e.coord, cart.dims[e.dim]
                ),
            )
        })
    })?;
    // SAFETY: `rank` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(rank, r as c_int, "rank") }
});

mpi_fn!(MPI_Cart_coords, PMPI_Cart_coords, (comm: c_int, rank: c_int, maxdims: c_int, coords: *mut c_int), |ctx| {
    let r = comm_rank_arg(ctx, comm, rank)?;
    with_cart(ctx, comm, |_, cart| {
        let n = cart.dims.len();
        if (maxdims as i64) < n as i64 {
            return Err(MpiError::arg(
                class::ERR_ARG,
                "maxdims",
                format!("maxdims {maxdims} is less than the {n} dimensions"),
            ));
        }
        // SAFETY: `coords` is the C caller's, null or valid for this use (MPI contract).
        let out = unsafe { arg::slice_mut(coords, n, "coords") }?;
        for (o, x) in out.iter_mut().zip(cart.coords(r)) {
            *o = x as c_int;
        }
        Ok(())
    })
});

mpi_fn!(MPI_Cart_shift, PMPI_Cart_shift, (comm: c_int, direction: c_int, disp: c_int, rank_source: *mut c_int, rank_dest: *mut c_int), |ctx| {
    let (s, d) = with_cart(ctx, comm, |c, cart| {
        if direction < 0 || direction as usize >= cart.dims.len() {
            return Err(MpiError::arg(
                class::ERR_ARG,
                "direction",
                format!("direction {direction} is not a dimension (ndims {})", cart.dims.len()),
            ));
        }
        Ok(cart.shift(c.rank, direction as usize, disp as i64))
    })?;
    let proc = |r: Option<u32>| r.map_or(super::consts::PROC_NULL, |r| r as c_int);
    // SAFETY: `rank_source` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(rank_source, proc(s), "rank_source") }?;
    // SAFETY: `rank_dest` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(rank_dest, proc(d), "rank_dest") }
});

mpi_fn!(MPI_Cart_sub, PMPI_Cart_sub, (comm: c_int, remain_dims: *const c_int, newcomm: *mut c_int), |ctx| {
    let new = with_cart(ctx, comm, |c, cart| {
        // SAFETY: `remain_dims` is the C caller's, null or valid for this use (MPI contract).
        let keep = unsafe { arg::slice(remain_dims, cart.dims.len(), "remain_dims") }?;
        let keep: Vec<bool> = keep.iter().map(|&x| x != 0).collect();
        // SAFETY: `newcomm` is the C caller's, null or valid for this use (MPI contract).
        unsafe { arg::write(newcomm, predefined::COMM_NULL, "newcomm") }?;
        create::cart_sub(crate::runtime::rt()?, c, cart, &keep)
    })?;
    // SAFETY: `newcomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newcomm, register(Some(new)), "newcomm") }
});

mpi_fn!(MPI_Dims_create, PMPI_Dims_create, (nnodes: c_int, ndims: c_int, dims: *mut c_int), |_ctx| {
    let n = count_arg(ndims, "ndims", class::ERR_DIMS)?;
    if nnodes < 0 {
        return Err(MpiError::arg(class::ERR_ARG, "nnodes", format!("negative value {nnodes}")));
    }
    // SAFETY: `dims` is the C caller's, null or valid for this use (MPI contract).
    let d = unsafe { arg::slice_mut(dims, n, "dims") }?;
    let mut want = Vec::with_capacity(n);
    for (i, &x) in d.iter().enumerate() {
        if x < 0 {
            return Err(MpiError::arg(
                class::ERR_DIMS,
                "dims",
                format!("dims[{i}] = {x} is negative"),
            ));
        }
        want.push(x as u32);
    }
    let got = dims::create(nnodes as u32, &want).map_err(|dims::DimsError::NotDivisible { fixed }| {
        MpiError::arg(
            class::ERR_DIMS,
            "dims",
            format!("the fixed dimensions (product {fixed}) do not divide nnodes {nnodes}"),
        )
    })?;
    for (o, x) in d.iter_mut().zip(got) {
        *o = x as c_int;
    }
    Ok(())
});

// ---------------------------------------------------------------------------------------
// Graph topologies

/// The graph described by (nnodes, index, edges) arguments.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn graph_arg(
    nnodes: c_int,
    index: *const c_int,
    edges: *const c_int,
    size: usize,
) -> Result<Graph, MpiError> {
    let n = count_arg(nnodes, "nnodes", class::ERR_ARG)?;
    if n > size {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "nnodes",
            format!("{n} nodes is more than the communicator size {size}"),
        ));
    }
    // SAFETY: `index` is the C caller's, null or valid for this use (MPI contract).
    let index = unsafe { arg::slice(index, n, "index") }?;
    let nedges = index.last().copied().unwrap_or(0);
    let nedges = count_arg(nedges, "index", class::ERR_ARG)?;
    // SAFETY: `edges` is the C caller's, null or valid for this use (MPI contract).
    let edges = unsafe { arg::slice(edges, nedges, "edges") }?;
    Graph::validate(index, edges)
        .map_err(|why| MpiError::arg(class::ERR_ARG, "index/edges", why))?;
    Ok(Graph {
        index: index.iter().map(|&x| x as u32).collect(),
        edges: edges.iter().map(|&x| x as u32).collect(),
    })
}

mpi_fn!(MPI_Graph_create, PMPI_Graph_create, (comm_old: c_int, nnodes: c_int, index: *const c_int, edges: *const c_int, reorder: c_int, comm_graph: *mut c_int), |ctx| {
    let _ = reorder;
    let c = intracomm(ctx, comm_old)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let g = unsafe { graph_arg(nnodes, index, edges, c.size()) }?;
    // SAFETY: `comm_graph` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(comm_graph, predefined::COMM_NULL, "comm_graph") }?;
    let new = create::graph_create(crate::runtime::rt()?, &c, g)?;
    // SAFETY: `comm_graph` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(comm_graph, register(new), "comm_graph") }
});

mpi_fn!(MPI_Graph_map, PMPI_Graph_map, (comm: c_int, nnodes: c_int, index: *const c_int, edges: *const c_int, newrank: *mut c_int), |ctx| {
    let c = intracomm(ctx, comm)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let g = unsafe { graph_arg(nnodes, index, edges, c.size()) }?;
    let r = if (c.rank as usize) < g.nnodes() { c.rank as c_int } else { UNDEFINED };
    // SAFETY: `newrank` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newrank, r, "newrank") }
});

mpi_fn!(MPI_Graphdims_get, PMPI_Graphdims_get, (comm: c_int, nnodes: *mut c_int, nedges: *mut c_int), |ctx| {
    let (n, e) = with_graph(ctx, comm, |_, g| Ok((g.nnodes(), g.edges.len())))?;
    // SAFETY: `nnodes` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(nnodes, n as c_int, "nnodes") }?;
    // SAFETY: `nedges` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(nedges, e as c_int, "nedges") }
});

mpi_fn!(MPI_Graph_get, PMPI_Graph_get, (comm: c_int, maxindex: c_int, maxedges: c_int, index: *mut c_int, edges: *mut c_int), |ctx| {
    with_graph(ctx, comm, |_, g| {
        let ni = g.nnodes().min(count_arg(maxindex, "maxindex", class::ERR_ARG)?);
        let ne = g.edges.len().min(count_arg(maxedges, "maxedges", class::ERR_ARG)?);
        // SAFETY: `index` is the C caller's, null or valid for this use (MPI contract).
        for (o, &x) in unsafe { arg::slice_mut(index, ni, "index") }?.iter_mut().zip(&g.index) {
            *o = x as c_int;
        }
        // SAFETY: `edges` is the C caller's, null or valid for this use (MPI contract).
        for (o, &x) in unsafe { arg::slice_mut(edges, ne, "edges") }?.iter_mut().zip(&g.edges) {
            *o = x as c_int;
        }
        Ok(())
    })
});

mpi_fn!(MPI_Graph_neighbors_count, PMPI_Graph_neighbors_count, (comm: c_int, rank: c_int, nneighbors: *mut c_int), |ctx| {
    let r = comm_rank_arg(ctx, comm, rank)?;
    let n = with_graph(ctx, comm, |_, g| Ok(g.neighbors(r).len()))?;
    // SAFETY: `nneighbors` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(nneighbors, n as c_int, "nneighbors") }
});

mpi_fn!(MPI_Graph_neighbors, PMPI_Graph_neighbors, (comm: c_int, rank: c_int, maxneighbors: c_int, neighbors: *mut c_int), |ctx| {
    let r = comm_rank_arg(ctx, comm, rank)?;
    with_graph(ctx, comm, |_, g| {
        let nb = g.neighbors(r);
        let n = nb.len().min(count_arg(maxneighbors, "maxneighbors", class::ERR_ARG)?);
        // SAFETY: `neighbors` is the C caller's, null or valid for this use (MPI contract).
        for (o, &x) in unsafe { arg::slice_mut(neighbors, n, "neighbors") }?.iter_mut().zip(nb) {
            *o = x as c_int;
        }
        Ok(())
    })
});

// ---------------------------------------------------------------------------------------
// Distributed graph topologies

/// Weights of `n` edges: None for MPI_UNWEIGHTED (all weights 1).
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn weights_arg(w: *const c_int, n: usize, arg: &str) -> Result<Option<Vec<i32>>, MpiError> {
    if is_unweighted(w) {
        return Ok(None);
    }
    if is_weights_empty(w) {
        if n > 0 {
            return Err(MpiError::arg(
                class::ERR_ARG,
                arg,
                format!("MPI_WEIGHTS_EMPTY given for {n} edges"),
            ));
        }
        return Ok(Some(Vec::new()));
    }
    // SAFETY: `w` is the C caller's, null or valid for this use (MPI contract).
    let s = unsafe { arg::slice(w, n, arg) }?;
    if let Some((i, &x)) = s.iter().enumerate().find(|(_, &x)| x < 0) {
        return Err(MpiError::arg(
            class::ERR_ARG,
            arg,
            format!("{arg}[{i}] = {x}: weights must be non-negative"),
        ));
    }
    Ok(Some(s.to_vec()))
}

mpi_fn!(MPI_Dist_graph_create_adjacent, PMPI_Dist_graph_create_adjacent, (comm_old: c_int, indegree: c_int, sources: *const c_int, sourceweights: *const c_int, outdegree: c_int, destinations: *const c_int, destweights: *const c_int, info: c_int, reorder: c_int, comm_dist_graph: *mut c_int), |ctx| {
    let _ = reorder;
    let c = intracomm(ctx, comm_old)?;
    super::info::check(info)?;
    let nin = count_arg(indegree, "indegree", class::ERR_ARG)?;
    let nout = count_arg(outdegree, "outdegree", class::ERR_ARG)?;
    // SAFETY: `sources` is the C caller's, null or valid for this use (MPI contract).
    let sources = check_ranks(unsafe { arg::slice(sources, nin, "sources") }?, c.size(), "sources")?;
    // SAFETY: `destinations` is the C caller's, null or valid for this use (MPI contract).
    let destinations = check_ranks(unsafe { arg::slice(destinations, nout, "destinations") }?, c.size(), "destinations")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let sw = unsafe { weights_arg(sourceweights, nin, "sourceweights") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let dw = unsafe { weights_arg(destweights, nout, "destweights") }?;
    let weighted = sw.is_some() && dw.is_some();
    let g = DistGraph {
        source_weights: sw.unwrap_or_else(|| vec![1; nin]),
        destination_weights: dw.unwrap_or_else(|| vec![1; nout]),
        sources,
        destinations,
        weighted,
    };
    // SAFETY: `comm_dist_graph` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(comm_dist_graph, predefined::COMM_NULL, "comm_dist_graph") }?;
    let new = create::dist_graph_adjacent(crate::runtime::rt()?, &c, g)?;
    // SAFETY: `comm_dist_graph` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(comm_dist_graph, register(Some(new)), "comm_dist_graph") }
});

mpi_fn!(MPI_Dist_graph_create, PMPI_Dist_graph_create, (comm_old: c_int, n: c_int, sources: *const c_int, degrees: *const c_int, destinations: *const c_int, weights: *const c_int, info: c_int, reorder: c_int, comm_dist_graph: *mut c_int), |ctx| {
    let _ = reorder;
    let c = intracomm(ctx, comm_old)?;
    super::info::check(info)?;
    let n = count_arg(n, "n", class::ERR_ARG)?;
    // SAFETY: `sources` is the C caller's, null or valid for this use (MPI contract).
    let sources = check_ranks(unsafe { arg::slice(sources, n, "sources") }?, c.size(), "sources")?;
    // SAFETY: `degrees` is the C caller's, null or valid for this use (MPI contract).
    let degrees = unsafe { arg::slice(degrees, n, "degrees") }?;
    let mut total = 0usize;
    for (i, &d) in degrees.iter().enumerate() {
        total += count_arg(d, &format!("degrees[{i}]"), class::ERR_ARG)?;
    }
    // SAFETY: `destinations` is the C caller's, null or valid for this use (MPI contract).
    let dests = check_ranks(unsafe { arg::slice(destinations, total, "destinations") }?, c.size(), "destinations")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let w = unsafe { weights_arg(weights, total, "weights") }?;
    let mut edges = Vec::with_capacity(total);
    let mut k = 0;
    for (&s, &d) in sources.iter().zip(degrees) {
        for _ in 0..d {
            edges.push(Edge {
                source: s,
                destination: dests[k],
                weight: w.as_ref().map_or(1, |w| w[k]),
            });
            k += 1;
        }
    }
    // SAFETY: `comm_dist_graph` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(comm_dist_graph, predefined::COMM_NULL, "comm_dist_graph") }?;
    let new = create::dist_graph_create(crate::runtime::rt()?, &c, &edges, w.is_some())?;
    // SAFETY: `comm_dist_graph` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(comm_dist_graph, register(Some(new)), "comm_dist_graph") }
});

mpi_fn!(MPI_Dist_graph_neighbors_count, PMPI_Dist_graph_neighbors_count, (comm: c_int, indegree: *mut c_int, outdegree: *mut c_int, weighted: *mut c_int), |ctx| {
    let (i, o, w) = with_dist_graph(ctx, comm, |g| Ok((g.sources.len(), g.destinations.len(), g.weighted)))?;
    // SAFETY: `indegree` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(indegree, i as c_int, "indegree") }?;
    // SAFETY: `outdegree` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(outdegree, o as c_int, "outdegree") }?;
    // SAFETY: `weighted` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(weighted, w as c_int, "weighted") }
});

mpi_fn!(MPI_Dist_graph_neighbors, PMPI_Dist_graph_neighbors, (comm: c_int, maxindegree: c_int, sources: *mut c_int, sourceweights: *mut c_int, maxoutdegree: c_int, destinations: *mut c_int, destweights: *mut c_int), |ctx| {
    with_dist_graph(ctx, comm, |g| {
        let ni = g.sources.len().min(count_arg(maxindegree, "maxindegree", class::ERR_ARG)?);
        let no = g.destinations.len().min(count_arg(maxoutdegree, "maxoutdegree", class::ERR_ARG)?);
        let copy = |out: *mut c_int, src: &[i32], n: usize, arg: &str| -> Result<(), MpiError> {
            // SAFETY: `out` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::slice_mut(out, n, arg) }?.copy_from_slice(&src[..n]);
            Ok(())
        };
        let si: Vec<i32> = g.sources.iter().map(|&r| r as i32).collect();
        let di: Vec<i32> = g.destinations.iter().map(|&r| r as i32).collect();
        copy(sources, &si, ni, "sources")?;
        copy(destinations, &di, no, "destinations")?;
        // Weights are reported only for a weighted graph, into arrays the caller gave.
        if g.weighted {
            if !is_unweighted(sourceweights) {
                copy(sourceweights, &g.source_weights, ni, "sourceweights")?;
            }
            if !is_unweighted(destweights) {
                copy(destweights, &g.destination_weights, no, "destweights")?;
            }
        }
        Ok(())
    })
});

// ---------------------------------------------------------------------------------------

mpi_fn!(MPI_Topo_test, PMPI_Topo_test, (comm: c_int, status: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    let kind = match core::of(&c).as_deref() {
        Some(Topology::Cart(_)) => CART,
        Some(Topology::Graph(_)) => GRAPH,
        Some(Topology::DistGraph(_)) => DIST_GRAPH,
        None => UNDEFINED,
    };
    // SAFETY: `status` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(status, kind, "status") }
});
