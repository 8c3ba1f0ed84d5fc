//! Making communicators with a topology. All of these are collective over the parent
//! (built on `comm_create::split` / `dup`); `reorder` is never acted on, which the standard
//! allows, so a process keeps its parent rank where it stays a member.

use super::dist_graph::Edge;
use super::{attach, Cart, DistGraph, Graph, Topology};
use crate::coll::internal;
use crate::comm_build::create::{dup, split};
use crate::error::MpiError;
use crate::object::comm::Comm;
use crate::runtime::Runtime;

/// Colour for processes left out of a new communicator (`split` leaves out every negative
/// colour).
const NOT_MEMBER: i32 = -1;

/// A new communicator takes the topology (its errhandler came from the parent in
/// `comm_create`, like every derived communicator's).
fn finish(c: Comm, t: Topology) -> Comm {
    attach(&c, t);
    c
}

/// MPI_Cart_create: ranks below the grid size form the grid; the others get None.
pub fn cart_create(rt: &Runtime, parent: &Comm, cart: Cart) -> Result<Option<Comm>, MpiError> {
    let member = (parent.rank as u64) < cart.size();
    let color = if member { 0 } else { NOT_MEMBER };
    Ok(split(rt, parent, color, parent.rank as i32)?.map(|c| finish(c, Topology::Cart(cart))))
}

/// MPI_Cart_sub: one communicator per sub-grid; every process of the grid gets one.
pub fn cart_sub(
    rt: &Runtime,
    parent: &Comm,
    cart: &Cart,
    remain: &[bool],
) -> Result<Comm, MpiError> {
    let (color, key, sub) = cart.sub(parent.rank, remain);
    let c = split(rt, parent, color as i32, key as i32)?
        .ok_or_else(|| MpiError::intern("Cart_sub: a grid process has no sub-grid"))?;
    Ok(finish(c, Topology::Cart(sub)))
}

/// MPI_Graph_create: ranks below the node count form the graph; the others get None.
pub fn graph_create(rt: &Runtime, parent: &Comm, graph: Graph) -> Result<Option<Comm>, MpiError> {
    let member = (parent.rank as usize) < graph.nnodes();
    let color = if member { 0 } else { NOT_MEMBER };
    Ok(split(rt, parent, color, parent.rank as i32)?.map(|c| finish(c, Topology::Graph(graph))))
}

/// MPI_Dist_graph_create_adjacent: every process already knows its edges.
pub fn dist_graph_adjacent(rt: &Runtime, parent: &Comm, g: DistGraph) -> Result<Comm, MpiError> {
    let c = dup(rt, parent)?;
    Ok(finish(c, Topology::DistGraph(g)))
}

/// MPI_Dist_graph_create: each process contributes any edges of the graph (`mine`); they
/// are exchanged so each process learns its own in- and out-edges. The graph is weighted
/// unless some process passed MPI_UNWEIGHTED (the standard requires all or none to).
pub fn dist_graph_create(
    rt: &Runtime,
    parent: &Comm,
    mine: &[Edge],
    weighted: bool,
) -> Result<Comm, MpiError> {
    // Round 1: how many edges each process has, and whether it gave weights.
    let mut head = [0u8; 8];
    head[..4].copy_from_slice(&(mine.len() as u32).to_le_bytes());
    head[4] = weighted as u8;
    let heads = internal::allgather(&rt.engine, parent, &head)?;
    let counts: Vec<usize> = heads
        .chunks_exact(8)
        .map(|h| u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize)
        .collect();
    let weighted = heads.chunks_exact(8).all(|h| h[4] != 0);
    // Round 2: everybody's edges, each process's padded to the longest list.
    let width = counts.iter().copied().max().unwrap_or(0) * Edge::BYTES;
    let mut block = Vec::with_capacity(width);
    for e in mine {
        e.encode(&mut block);
    }
    block.resize(width, 0);
    let all = if width == 0 {
        Vec::new()
    } else {
        internal::allgather(&rt.engine, parent, &block)?
    };
    let edges = counts.iter().enumerate().flat_map(|(r, &n)| {
        let b = &all[r * width..r * width + n * Edge::BYTES];
        b.chunks_exact(Edge::BYTES)
            .map(Edge::decode)
            .collect::<Vec<_>>()
    });
    let g = DistGraph::from_edges(parent.rank, edges, weighted);
    let c = dup(rt, parent)?;
    Ok(finish(c, Topology::DistGraph(g)))
}
