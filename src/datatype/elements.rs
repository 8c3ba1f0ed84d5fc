//! Counting received data: MPI_Get_count, MPI_Get_elements and MPI_Status_set_elements
//! work on the byte count a status holds.

use super::Datatype;

impl Datatype {
    /// Whole elements in `bytes`, or None (MPI_UNDEFINED) when `bytes` ends inside one.
    pub fn count_of(&self, bytes: u64) -> Option<u64> {
        if self.size == 0 {
            return Some(0);
        }
        (bytes % self.size == 0).then_some(bytes / self.size)
    }

    /// Whole basic elements in the first `bytes` of a stream of this type. A basic element
    /// cut short by the end is not counted (as MPICH answers).
    pub fn elements_of(&self, bytes: u64) -> u64 {
        if self.size == 0 {
            return 0;
        }
        let (full, rest) = (bytes / self.size, bytes % self.size);
        let mut n = full.saturating_mul(self.elements);
        self.walk_typed(1, 0, rest, |_, len, _, e| n += len / e.size as u64);
        n
    }

    /// Bytes taken by the first `elements` basic elements of a stream of this type (what
    /// MPI_Status_set_elements stores).
    pub fn bytes_of_elements(&self, elements: u64) -> u64 {
        if self.elements == 0 {
            return 0;
        }
        let (full, rest) = (elements / self.elements, elements % self.elements);
        let mut bytes = full.saturating_mul(self.size);
        let mut left = rest;
        self.walk_typed(1, 0, self.size, |_, len, _, e| {
            let fit = (len / e.size as u64).min(left);
            bytes += fit * e.size as u64;
            left -= fit;
        });
        bytes
    }
}
