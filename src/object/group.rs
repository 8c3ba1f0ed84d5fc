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

/// MPI_Group_compare / MPI_Comm_compare results.
pub const IDENT: i32 = 0;
pub const CONGRUENT: i32 = 1;
pub const SIMILAR: i32 = 2;
pub const UNEQUAL: i32 = 3;

impl Group {
    /// MPI_IDENT (same members, same order), MPI_SIMILAR (same members) or MPI_UNEQUAL.
    pub fn compare(&self, other: &Group) -> i32 {
        if self.procs == other.procs {
            return IDENT;
        }
        let mut a = self.procs.clone();
        let mut b = other.procs.clone();
        a.sort_unstable();
        b.sort_unstable();
        if a == b {
            SIMILAR
        } else {
            UNEQUAL
        }
    }

    /// All of `self`, then the members of `other` not in `self`, in their order.
    pub fn union(&self, other: &Group) -> Group {
        let mut procs = self.procs.clone();
        procs.extend(other.procs.iter().filter(|p| !self.procs.contains(p)));
        Group::new(procs)
    }

    /// Members of `self` also in `other`, in `self`'s order.
    pub fn intersection(&self, other: &Group) -> Group {
        Group::new(
            self.procs
                .iter()
                .copied()
                .filter(|p| other.procs.contains(p))
                .collect(),
        )
    }

    /// Members of `self` not in `other`, in `self`'s order.
    pub fn difference(&self, other: &Group) -> Group {
        Group::new(
            self.procs
                .iter()
                .copied()
                .filter(|p| !other.procs.contains(p))
                .collect(),
        )
    }

    /// The members at `ranks` (already checked: in range, distinct), in that order.
    pub fn incl(&self, ranks: &[usize]) -> Group {
        Group::new(ranks.iter().map(|&r| self.procs[r]).collect())
    }

    /// The members not at `ranks` (already checked), in group order.
    pub fn excl(&self, ranks: &[usize]) -> Group {
        Group::new(
            self.procs
                .iter()
                .enumerate()
                .filter(|(r, _)| !ranks.contains(r))
                .map(|(_, &p)| p)
                .collect(),
        )
    }
}

/// Expands MPI_Group_range_incl triplets (first, last, stride) into ranks, checking each
/// against `size` and for duplicates. Err names the problem.
pub fn expand_ranges(ranges: &[[i32; 3]], size: usize) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    let mut seen = vec![false; size];
    for (i, &[first, last, stride]) in ranges.iter().enumerate() {
        if stride == 0 {
            return Err(format!("range {i} has stride 0"));
        }
        for (what, v) in [("first", first), ("last", last)] {
            if v < 0 || v as usize >= size {
                return Err(format!(
                    "range {i}: {what} rank {v} out of range (size {size})"
                ));
            }
        }
        if (stride > 0 && first > last) || (stride < 0 && first < last) {
            // An empty range is allowed by MPI only when it names no rank: MPICH rejects
            // these too, as the standard calls them erroneous.
            return Err(format!("range {i}: ({first}, {last}, {stride}) is empty"));
        }
        let mut r = first as i64;
        while (stride > 0 && r <= last as i64) || (stride < 0 && r >= last as i64) {
            let u = r as usize;
            if seen[u] {
                return Err(format!("rank {u} appears twice in the ranges"));
            }
            seen[u] = true;
            out.push(u);
            r += stride as i64;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations_keep_order() {
        let a = Group::new(vec![5, 1, 3]);
        let b = Group::new(vec![3, 7, 5]);
        assert_eq!(a.union(&b).procs, vec![5, 1, 3, 7]);
        assert_eq!(a.intersection(&b).procs, vec![5, 3]);
        assert_eq!(a.difference(&b).procs, vec![1]);
        assert_eq!(a.incl(&[2, 0]).procs, vec![3, 5]);
        assert_eq!(a.excl(&[1]).procs, vec![5, 3]);
        assert_eq!(a.compare(&Group::new(vec![1, 3, 5])), SIMILAR);
        assert_eq!(a.compare(&a.clone()), IDENT);
        assert_eq!(a.compare(&b), UNEQUAL);
    }

    #[test]
    fn ranges() {
        assert_eq!(
            expand_ranges(&[[0, 6, 3], [7, 4, -3]], 8).unwrap(),
            vec![0, 3, 6, 7, 4]
        );
        // [7, 5, -1] gives 7, 6, 5: 6 is already in the first range.
        assert!(expand_ranges(&[[0, 6, 3], [7, 5, -1]], 8).is_err());
        assert!(expand_ranges(&[[0, 3, 1], [3, 3, 1]], 8).is_err());
        assert!(expand_ranges(&[[0, 8, 1]], 8).is_err());
    }
}
