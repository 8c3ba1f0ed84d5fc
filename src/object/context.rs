//! Context ids in use by this process. A new communicator's id is agreed among its members
//! (see `comm_build::create`): the smallest id free on all of them. Ids of freed
//! communicators are reused, so dup/free cycles never exhaust the space.

use crate::error::{class, MpiError};
use std::collections::BTreeSet;

/// Each communicator takes a block of this many ids (point-to-point, collective, and two
/// more for internal traffic).
pub const STRIDE: u32 = 4;

/// Number of blocks, hence of communicators a process can have at once. MPICH has 2048
/// context ids (64 mask words of 32 bits), so no program that runs there needs more; a
/// bound keeps the search for a free id short and lets creation fail cleanly when all are
/// in use instead of running on without end.
pub const BLOCKS: u32 = 2048;
/// The first id past the last block: `lowest_free` answers it when no block is free.
pub const LIMIT: u32 = BLOCKS * STRIDE;

/// `c`, an id the members of a new communicator agreed on (the largest of their lowest free
/// ids, the same on all of them), or the error every member then raises when some member had
/// none left: MPI_ERR_OTHER, as MPICH's "Too many communicators". The caller stays usable,
/// and freeing communicators makes room again.
pub fn agreed(c: u32) -> Result<u32, MpiError> {
    if c >= LIMIT {
        return Err(MpiError::new(
            class::ERR_OTHER,
            format!(
                "too many communicators: all {BLOCKS} context ids are in use on some member \
                 (free communicators to make room)"
            ),
        ));
    }
    Ok(c)
}

#[derive(Debug, Default)]
pub struct Contexts {
    used: BTreeSet<u32>,
}

impl Contexts {
    pub fn new(reserved: &[u32]) -> Self {
        Contexts {
            used: reserved.iter().copied().collect(),
        }
    }

    /// The smallest free id at or above `floor` (a multiple of STRIDE); LIMIT if there is
    /// none.
    pub fn lowest_free(&self, floor: u32) -> u32 {
        let mut c = floor.div_ceil(STRIDE).saturating_mul(STRIDE);
        while c < LIMIT && self.used.contains(&c) {
            c += STRIDE;
        }
        c.min(LIMIT)
    }

    /// Takes `c` if it is free (and below LIMIT).
    pub fn try_take(&mut self, c: u32) -> bool {
        c < LIMIT && self.used.insert(c)
    }

    pub fn release(&mut self, c: u32) {
        self.used.remove(&c);
    }

    pub fn in_use(&self) -> usize {
        self.used.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_after_release() {
        let mut c = Contexts::new(&[0, 4]);
        let a = c.lowest_free(0);
        assert_eq!(a, 8);
        assert!(c.try_take(a));
        assert!(!c.try_take(a));
        assert_eq!(c.lowest_free(0), 12);
        assert_eq!(c.lowest_free(13), 16);
        c.release(a);
        assert_eq!(c.lowest_free(0), 8);
    }

    #[test]
    fn bounded() {
        let mut c = Contexts::new(&[]);
        for i in 0..BLOCKS {
            assert!(c.try_take(c.lowest_free(0)), "block {i}");
        }
        assert_eq!(c.lowest_free(0), LIMIT);
        assert!(!c.try_take(LIMIT));
        assert!(agreed(LIMIT).is_err());
        assert_eq!(c.lowest_free(u32::MAX - 1), LIMIT);
        c.release(8);
        assert_eq!(c.lowest_free(0), 8);
        assert_eq!(agreed(8), Ok(8));
    }
}
