//! Virtual topologies: Cartesian grids, graphs and distributed graphs attached to an
//! intracommunicator, and the neighbourhood collectives that follow their edges.
//!
//! A topology lives in `Comm::topo` as an `Arc<Topology>` (behind `dyn Any`, so the object
//! layer need not know this module); [`of`] reads it back. Nothing here knows C handles.

pub mod cart;
pub mod create;
pub mod dims;
pub mod dist_graph;
pub mod graph;
pub mod neighbor;

pub use cart::Cart;
pub use dist_graph::DistGraph;
pub use graph::Graph;

use crate::object::comm::Comm;
use std::sync::Arc;

/// First tag of neighbourhood-collective traffic on a collective context. Tags in
/// [NEIGHBOR_TAG, INTERNAL_TAG) are reserved for it; Cartesian exchanges use
/// `NEIGHBOR_TAG + slot` (see [`Topology::neighbors`]).
pub const NEIGHBOR_TAG: i32 = 1 << 29;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    Cart(Cart),
    Graph(Graph),
    DistGraph(DistGraph),
}

/// Who a process exchanges with in a neighbourhood collective, in the standard's order,
/// and the tags that pair each send with the right receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbors {
    /// Ranks data comes from (receive slot i ← `sources[i]`); None = MPI_PROC_NULL: the
    /// slot exists but nothing moves.
    pub sources: Vec<Option<u32>>,
    /// Ranks data goes to (send slot j → `destinations[j]`).
    pub destinations: Vec<Option<u32>>,
    /// Tag of send slot j / receive slot i.
    pub send_tags: Vec<i32>,
    pub recv_tags: Vec<i32>,
}

impl Topology {
    /// The neighbourhood of `rank`.
    ///
    /// Cartesian: for each dimension, the -1 then the +1 neighbour, for sources and
    /// destinations alike. With a periodic dimension of size 1 or 2 both neighbours can be
    /// the same process, so a plain tag could pair a send with the wrong receive: the send
    /// to slot j carries tag `NEIGHBOR_TAG + j`, and since what I send "up" (slot 2d+1) my
    /// upper neighbour receives from "below" (its slot 2d), receive slot i expects tag
    /// `NEIGHBOR_TAG + (i ^ 1)`.
    ///
    /// Graphs: every edge uses one tag; repeated edges between two processes pair in list
    /// order, which non-overtaking delivery guarantees.
    pub fn neighbors(&self, rank: u32) -> Neighbors {
        match self {
            Topology::Cart(c) => {
                let mut list = Vec::with_capacity(2 * c.dims.len());
                for d in 0..c.dims.len() {
                    let (below, above) = c.shift(rank, d, 1);
                    list.push(below);
                    list.push(above);
                }
                let n = list.len() as i32;
                Neighbors {
                    sources: list.clone(),
                    destinations: list,
                    send_tags: (0..n).map(|j| NEIGHBOR_TAG + j).collect(),
                    recv_tags: (0..n).map(|i| NEIGHBOR_TAG + (i ^ 1)).collect(),
                }
            }
            Topology::Graph(g) => {
                let list: Vec<Option<u32>> = g.neighbors(rank).iter().map(|&r| Some(r)).collect();
                let n = list.len();
                Neighbors {
                    sources: list.clone(),
                    destinations: list,
                    send_tags: vec![NEIGHBOR_TAG; n],
                    recv_tags: vec![NEIGHBOR_TAG; n],
                }
            }
            Topology::DistGraph(g) => Neighbors {
                sources: g.sources.iter().map(|&r| Some(r)).collect(),
                destinations: g.destinations.iter().map(|&r| Some(r)).collect(),
                send_tags: vec![NEIGHBOR_TAG; g.destinations.len()],
                recv_tags: vec![NEIGHBOR_TAG; g.sources.len()],
            },
        }
    }
}

/// The topology attached to `comm`, if any.
pub fn of(comm: &Comm) -> Option<Arc<Topology>> {
    let t = comm.topo.read().clone()?;
    t.downcast::<Topology>().ok()
}

/// Attaches `t` to `comm` (replacing any previous topology).
pub fn attach(comm: &Comm, t: Topology) {
    *comm.topo.write() = Some(Arc::new(t));
}
