//! Context ids in use by this process. A new communicator's id is agreed among its members
//! (see `object::comm_create`): the smallest id free on all of them. Ids of freed
//! communicators are reused, so dup/free cycles never exhaust the space.

use std::collections::BTreeSet;

/// Each communicator takes a block of this many ids (point-to-point, collective, and two
/// more for internal traffic).
pub const STRIDE: u32 = 4;

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

    /// The smallest free id at or above `floor` (a multiple of STRIDE).
    pub fn lowest_free(&self, floor: u32) -> u32 {
        let mut c = floor.div_ceil(STRIDE) * STRIDE;
        while self.used.contains(&c) {
            c += STRIDE;
        }
        c
    }

    /// Takes `c` if it is free.
    pub fn try_take(&mut self, c: u32) -> bool {
        self.used.insert(c)
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
}
