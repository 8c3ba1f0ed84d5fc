//! Distributed graph topologies: each process knows only its own in- and out-edges.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistGraph {
    pub sources: Vec<u32>,
    pub source_weights: Vec<i32>,
    pub destinations: Vec<u32>,
    pub destination_weights: Vec<i32>,
    /// False when the graph was created with MPI_UNWEIGHTED (weights are then all 1 here
    /// and not reported).
    pub weighted: bool,
}

/// One edge of a distributed graph as MPI_Dist_graph_create describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub source: u32,
    pub destination: u32,
    pub weight: i32,
}

impl Edge {
    pub const BYTES: usize = 12;

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.source.to_le_bytes());
        out.extend_from_slice(&self.destination.to_le_bytes());
        out.extend_from_slice(&self.weight.to_le_bytes());
    }

    pub fn decode(b: &[u8]) -> Edge {
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Edge {
            source: word(0),
            destination: word(4),
            weight: word(8) as i32,
        }
    }
}

impl DistGraph {
    /// The local view of process `me` from every edge of the graph, listed in one global
    /// order (all processes see the same order, so repeated edges pair up in order).
    pub fn from_edges(me: u32, edges: impl Iterator<Item = Edge>, weighted: bool) -> DistGraph {
        let mut g = DistGraph {
            sources: Vec::new(),
            source_weights: Vec::new(),
            destinations: Vec::new(),
            destination_weights: Vec::new(),
            weighted,
        };
        for e in edges {
            if e.destination == me {
                g.sources.push(e.source);
                g.source_weights.push(e.weight);
            }
            if e.source == me {
                g.destinations.push(e.destination);
                g.destination_weights.push(e.weight);
            }
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_view_and_encoding() {
        let edges = [
            Edge {
                source: 0,
                destination: 1,
                weight: 5,
            },
            Edge {
                source: 1,
                destination: 1,
                weight: 6,
            },
            Edge {
                source: 2,
                destination: 1,
                weight: -7,
            },
            Edge {
                source: 1,
                destination: 0,
                weight: 8,
            },
        ];
        let mut bytes = Vec::new();
        for e in &edges {
            e.encode(&mut bytes);
        }
        let back: Vec<Edge> = bytes.chunks_exact(Edge::BYTES).map(Edge::decode).collect();
        assert_eq!(back, edges);
        let g = DistGraph::from_edges(1, back.into_iter(), true);
        assert_eq!(g.sources, vec![0, 1, 2]);
        assert_eq!(g.source_weights, vec![5, 6, -7]);
        assert_eq!(g.destinations, vec![1, 0]);
        assert_eq!(g.destination_weights, vec![6, 8]);
    }
}
