//! Groups: ordered sets of processes. A process is named by its endpoint id (its rank in
//! the job's world; processes of other jobs get ids past the world when they connect).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Endpoint of each group rank.
    pub procs: Vec<u32>,
}

impl Group {
    pub fn new(procs: Vec<u32>) -> Self {
        Group { procs }
    }

    #[inline]
    pub fn size(&self) -> usize {
        self.procs.len()
    }

    /// Endpoint of group rank `r`.
    #[inline]
    pub fn proc_of(&self, r: usize) -> u32 {
        self.procs[r]
    }

    /// Group rank of endpoint `p`, if it belongs to the group.
    pub fn rank_of(&self, p: u32) -> Option<usize> {
        self.procs.iter().position(|&q| q == p)
    }
}
