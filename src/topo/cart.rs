//! Cartesian grids: row-major rank ↔ coordinates, shifts, and sub-grids.

/// A Cartesian topology: extent and periodicity of each dimension. Ranks are numbered in
/// row-major order (the last dimension varies fastest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    pub dims: Vec<u32>,
    pub periods: Vec<bool>,
}

/// Why coordinates do not name a rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfGrid {
    /// The dimension whose coordinate is outside a non-periodic extent.
    pub dim: usize,
    pub coord: i64,
}

impl Cart {
    /// Number of processes in the grid.
    pub fn size(&self) -> u64 {
        self.dims.iter().map(|&d| d as u64).product()
    }

    /// Coordinates of `rank` (which must be below `size()`).
    pub fn coords(&self, rank: u32) -> Vec<u32> {
        let mut c = vec![0u32; self.dims.len()];
        let mut r = rank;
        for d in (0..self.dims.len()).rev() {
            let n = self.dims[d].max(1);
            c[d] = r % n;
            r /= n;
        }
        c
    }

    /// The rank at `coords` (one per dimension); periodic dimensions wrap, others must be
    /// in range.
    pub fn rank(&self, coords: &[i64]) -> Result<u32, OutOfGrid> {
        let mut r: u64 = 0;
        for (d, (&c, &n)) in coords.iter().zip(&self.dims).enumerate() {
            let n = n as i64;
            let c = if self.periods[d] {
                c.rem_euclid(n.max(1))
            } else if (0..n).contains(&c) {
                c
            } else {
                return Err(OutOfGrid { dim: d, coord: c });
            };
            r = r * n as u64 + c as u64;
        }
        Ok(r as u32)
    }

    /// MPI_Cart_shift: (source, destination) of a shift by `disp` along `dim` as seen from
    /// `rank`; None (MPI_PROC_NULL) off the edge of a non-periodic dimension.
    pub fn shift(&self, rank: u32, dim: usize, disp: i64) -> (Option<u32>, Option<u32>) {
        let here: Vec<i64> = self.coords(rank).iter().map(|&c| c as i64).collect();
        let at = |delta: i64| {
            let mut c = here.clone();
            c[dim] += delta;
            self.rank(&c).ok()
        };
        (at(-disp), at(disp))
    }

    /// MPI_Cart_sub: for the process at `rank`, the colour of its sub-grid (the linearised
    /// coordinates of the dropped dimensions), its key (the linearised coordinates of the
    /// kept ones, which is its rank in the sub-grid), and the sub-grid.
    pub fn sub(&self, rank: u32, remain: &[bool]) -> (u32, u32, Cart) {
        let c = self.coords(rank);
        let (mut color, mut key) = (0u64, 0u64);
        let mut sub = Cart {
            dims: Vec::new(),
            periods: Vec::new(),
        };
        for d in 0..self.dims.len() {
            let n = self.dims[d] as u64;
            if remain[d] {
                key = key * n + c[d] as u64;
                sub.dims.push(self.dims[d]);
                sub.periods.push(self.periods[d]);
            } else {
                color = color * n + c[d] as u64;
            }
        }
        (color as u32, key as u32, sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(dims: &[u32], periods: &[bool]) -> Cart {
        Cart {
            dims: dims.to_vec(),
            periods: periods.to_vec(),
        }
    }

    #[test]
    fn coords_and_rank_round_trip_row_major() {
        let g = grid(&[2, 3, 4], &[false, true, false]);
        assert_eq!(g.size(), 24);
        assert_eq!(g.coords(0), vec![0, 0, 0]);
        assert_eq!(g.coords(1), vec![0, 0, 1]);
        assert_eq!(g.coords(4), vec![0, 1, 0]);
        assert_eq!(g.coords(23), vec![1, 2, 3]);
        for r in 0..24 {
            let c: Vec<i64> = g.coords(r).iter().map(|&x| x as i64).collect();
            assert_eq!(g.rank(&c), Ok(r));
        }
    }

    #[test]
    fn rank_wraps_periodic_and_rejects_others() {
        let g = grid(&[2, 3], &[false, true]);
        assert_eq!(g.rank(&[1, -1]), Ok(5));
        assert_eq!(g.rank(&[0, 7]), Ok(1));
        assert_eq!(g.rank(&[2, 0]), Err(OutOfGrid { dim: 0, coord: 2 }));
        assert_eq!(g.rank(&[-1, 0]), Err(OutOfGrid { dim: 0, coord: -1 }));
    }

    #[test]
    fn shift_at_borders() {
        let g = grid(&[3, 4], &[false, true]);
        // rank 0 = (0,0)
        assert_eq!(g.shift(0, 0, 1), (None, Some(4)));
        assert_eq!(g.shift(0, 1, 1), (Some(3), Some(1)));
        assert_eq!(g.shift(0, 1, -1), (Some(1), Some(3)));
        assert_eq!(g.shift(0, 1, 5), (Some(3), Some(1)));
        assert_eq!(g.shift(8, 0, 1), (Some(4), None));
        assert_eq!(g.shift(4, 0, 2), (None, None));
        assert_eq!(g.shift(4, 0, 0), (Some(4), Some(4)));
    }

    #[test]
    fn sub_grid_colour_and_key() {
        let g = grid(&[2, 3, 4], &[true, false, true]);
        // rank 23 = (1,2,3); keep dims 0 and 2.
        let (color, key, sub) = g.sub(23, &[true, false, true]);
        assert_eq!(color, 2);
        assert_eq!(key, 7);
        assert_eq!(sub, grid(&[2, 4], &[true, true]));
        let (color, key, sub) = g.sub(23, &[false, false, false]);
        assert_eq!((color, key), (23, 0));
        assert!(sub.dims.is_empty());
    }
}
