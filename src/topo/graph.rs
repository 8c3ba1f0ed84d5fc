//! General graph topologies (MPI_Graph_create): the whole graph, known to every process,
//! in the standard's (index, edges) form.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// `index[i]` is the total number of neighbours of nodes 0..=i.
    pub index: Vec<u32>,
    /// Neighbours of node 0, then of node 1, ...
    pub edges: Vec<u32>,
}

impl Graph {
    pub fn nnodes(&self) -> usize {
        self.index.len()
    }

    /// Neighbours of node `rank` (empty for a rank outside the graph).
    pub fn neighbors(&self, rank: u32) -> &[u32] {
        let r = rank as usize;
        if r >= self.index.len() {
            return &[];
        }
        let start = if r == 0 {
            0
        } else {
            self.index[r - 1] as usize
        };
        let end = self.index[r] as usize;
        self.edges.get(start..end).unwrap_or(&[])
    }

    /// Checks the arrays describe a graph on `nnodes` nodes; the reason if not.
    pub fn validate(index: &[i32], edges: &[i32]) -> Result<(), String> {
        let mut prev = 0;
        for (i, &x) in index.iter().enumerate() {
            if x < prev {
                return Err(format!(
                    "index[{i}] = {x} is less than index[{}] = {prev}",
                    i.max(1) - 1
                ));
            }
            prev = x;
        }
        if prev as usize != edges.len() {
            return Err(format!(
                "index[nnodes-1] = {prev} does not match the edge count"
            ));
        }
        let n = index.len() as i32;
        if let Some((j, &e)) = edges.iter().enumerate().find(|(_, &e)| e < 0 || e >= n) {
            return Err(format!("edges[{j}] = {e} is not a node (0..{n})"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_follow_index() {
        // The standard's example: 0-{1,3}, 1-{0}, 2-{3}, 3-{0,2}
        let g = Graph {
            index: vec![2, 3, 4, 6],
            edges: vec![1, 3, 0, 3, 0, 2],
        };
        assert_eq!(g.neighbors(0), &[1, 3]);
        assert_eq!(g.neighbors(1), &[0]);
        assert_eq!(g.neighbors(2), &[3]);
        assert_eq!(g.neighbors(3), &[0, 2]);
        assert_eq!(g.neighbors(4), &[] as &[u32]);
    }

    #[test]
    fn validation() {
        assert!(Graph::validate(&[2, 3, 4, 6], &[1, 3, 0, 3, 0, 2]).is_ok());
        assert!(Graph::validate(&[2, 1], &[1, 0]).is_err());
        assert!(Graph::validate(&[1, 2], &[1, 2]).is_err());
        assert!(Graph::validate(&[1, 3], &[1, 0]).is_err());
    }
}
