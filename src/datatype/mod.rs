//! Datatypes: type maps, their flattened form, and pack/unpack.
//!
//! A `Datatype` is described by its size, bounds and a list of contiguous runs (byte
//! offset from the buffer address, length) in type-map order. Pack and unpack walk those
//! runs from any byte position of the packed stream, so a pipelined transfer can stop and
//! resume in the middle of an element. A type whose element is one run starting at offset
//! 0 with extent == size is contiguous: it is never packed.

pub mod builtin;

use std::sync::OnceLock;

/// What a predefined type holds; reductions and external32 dispatch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basic {
    Char,
    Byte,
    Packed,
    /// MPI_LB / MPI_UB: zero-size markers.
    Marker,
    Bool,
    Logical,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    F32,
    F64,
    /// x87 80-bit extended precision stored in 16 bytes (long double).
    F80,
    C32,
    C64,
    C80,
    PairF32I32,
    PairF64I32,
    PairI64I32,
    PairI16I32,
    PairI32I32,
    PairF80I32,
    PairF32F32,
    PairF64F64,
}

/// A contiguous piece of one element: `len` bytes at `off` from the element's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub off: i64,
    pub len: u64,
}

#[derive(Debug)]
pub struct Datatype {
    /// Bytes of data in one element.
    pub size: u64,
    pub lb: i64,
    pub ub: i64,
    pub true_lb: i64,
    pub true_ub: i64,
    /// The runs of one element, in type-map order, adjacent runs merged.
    pub runs: Vec<Run>,
    /// Cumulative packed size before each run (same length as `runs`).
    prefix: Vec<u64>,
    /// The basic type, when every element of the map is of that one type.
    pub basic: Option<Basic>,
    pub name: String,
}

impl Datatype {
    fn from_runs(
        size: u64,
        lb: i64,
        ub: i64,
        runs: Vec<Run>,
        basic: Option<Basic>,
        name: &str,
    ) -> Self {
        let mut prefix = Vec::with_capacity(runs.len());
        let mut acc = 0;
        for r in &runs {
            prefix.push(acc);
            acc += r.len;
        }
        debug_assert_eq!(acc, size);
        let true_lb = runs.iter().map(|r| r.off).min().unwrap_or(0);
        let true_ub = runs.iter().map(|r| r.off + r.len as i64).max().unwrap_or(0);
        Datatype {
            size,
            lb,
            ub,
            true_lb,
            true_ub,
            runs,
            prefix,
            basic,
            name: name.to_string(),
        }
    }

    /// A predefined type of `size` contiguous bytes.
    pub fn basic(basic: Basic, size: u64, name: &str) -> Self {
        let runs = if size > 0 {
            vec![Run { off: 0, len: size }]
        } else {
            Vec::new()
        };
        Self::from_runs(size, 0, size as i64, runs, Some(basic), name)
    }

    /// A (value, int) pair type: `first` bytes of value, an int at `int_off`, padded to `extent`.
    pub fn pair(basic: Basic, first: u64, int_off: u64, extent: u64, name: &str) -> Self {
        let runs = if int_off == first {
            vec![Run {
                off: 0,
                len: first + 4,
            }]
        } else {
            vec![
                Run { off: 0, len: first },
                Run {
                    off: int_off as i64,
                    len: 4,
                },
            ]
        };
        Self::from_runs(first + 4, 0, extent as i64, runs, Some(basic), name)
    }

    #[inline]
    pub fn size(&self) -> u64 {
        self.size
    }

    #[inline]
    pub fn extent(&self) -> i64 {
        self.ub - self.lb
    }

    /// True when `count` elements occupy exactly `count * size` bytes starting at
    /// `buf + true_lb` with no gaps, so they can be copied without packing.
    #[inline]
    pub fn is_contiguous(&self) -> bool {
        self.runs.len() <= 1 && self.extent() == self.size as i64
    }

    /// Copies packed bytes `[offset, offset + out.len())` of the stream formed by `count`
    /// elements at `buf` into `out`. Returns the number of bytes written (less than
    /// `out.len()` only at the end of the stream).
    ///
    /// # Safety
    /// `buf` must address `count` elements of this type, readable.
    pub unsafe fn pack(&self, buf: *const u8, count: u64, offset: u64, out: &mut [u8]) -> usize {
        let mut done = 0usize;
        self.walk(count, offset, out.len() as u64, |src_off, len, pos| {
            // SAFETY: the caller guarantees the element runs at buf are readable; `pos`
            // and `len` stay within `out` by construction of walk().
            unsafe {
                std::ptr::copy_nonoverlapping(
                    buf.offset(src_off as isize),
                    out.as_mut_ptr().add(pos as usize),
                    len as usize,
                )
            };
            done += len as usize;
        });
        done
    }

    /// Scatters `inp` into packed positions `[offset, offset + inp.len())` of the stream
    /// formed by `count` elements at `buf`. Returns the number of bytes consumed.
    ///
    /// # Safety
    /// `buf` must address `count` elements of this type, writable.
    pub unsafe fn unpack(&self, buf: *mut u8, count: u64, offset: u64, inp: &[u8]) -> usize {
        let mut done = 0usize;
        self.walk(count, offset, inp.len() as u64, |dst_off, len, pos| {
            // SAFETY: as in pack(), with the element runs writable.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    inp.as_ptr().add(pos as usize),
                    buf.offset(dst_off as isize),
                    len as usize,
                )
            };
            done += len as usize;
        });
        done
    }

    /// Calls `f(buffer_offset, len, stream_pos_relative)` for each contiguous piece of the
    /// packed byte range `[offset, offset + max)` (clipped to the stream's end).
    pub fn walk(&self, count: u64, offset: u64, max: u64, mut f: impl FnMut(i64, u64, u64)) {
        let total = self.size * count;
        if self.size == 0 || offset >= total {
            return;
        }
        let end = total.min(offset + max);
        let ext = self.extent();
        let mut elem = offset / self.size;
        let mut within = offset % self.size;
        let mut pos = offset;
        // Binary search the first run of the starting element.
        let mut ri = match self.prefix.binary_search(&within) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        while pos < end {
            let run = self.runs[ri];
            let skip = within - self.prefix[ri];
            let len = (run.len - skip).min(end - pos);
            f(elem as i64 * ext + run.off + skip as i64, len, pos - offset);
            pos += len;
            within += len;
            if within == self.prefix[ri] + run.len {
                ri += 1;
                if ri == self.runs.len() {
                    ri = 0;
                    within = 0;
                    elem += 1;
                }
            }
        }
    }
}

/// The predefined type behind an MPICH builtin handle, decoded without a lookup in a
/// user table. Returns None for handles that are not predefined datatypes.
pub fn predefined(handle: i32) -> Option<&'static Datatype> {
    static TABLE: OnceLock<Vec<(i32, Datatype)>> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        builtin::BUILTINS
            .iter()
            .map(|d| (d.handle, builtin::make(d)))
            .collect()
    });
    // The table is small and ordered as the header; a linear scan of i32s is a few ns,
    // but the common types sit first.
    t.iter().find(|(h, _)| *h == handle).map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_type_packs_without_padding() {
        let dt = predefined(0x8c000003u32 as i32).unwrap(); // MPI_SHORT_INT
        assert_eq!((dt.size(), dt.extent()), (6, 8));
        assert!(!dt.is_contiguous());
        let src: [u8; 16] = core::array::from_fn(|i| i as u8);
        let mut out = [0u8; 12];
        let n = unsafe { dt.pack(src.as_ptr(), 2, 0, &mut out) };
        assert_eq!(n, 12);
        assert_eq!(out, [0, 1, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15]);
        // Resume in the middle of an element.
        let mut part = [0u8; 5];
        let n = unsafe { dt.pack(src.as_ptr(), 2, 3, &mut part) };
        assert_eq!(n, 5);
        assert_eq!(part, [5, 6, 7, 8, 9]);
        let mut back = [0u8; 16];
        unsafe { dt.unpack(back.as_mut_ptr(), 2, 0, &out) };
        assert_eq!(&back[0..2], &[0, 1]);
        assert_eq!(&back[4..10], &[4, 5, 6, 7, 8, 9]);
        assert_eq!(&back[12..16], &[12, 13, 14, 15]);
    }

    #[test]
    fn builtin_sizes_match_handle_bits() {
        for d in builtin::BUILTINS {
            let h = d.handle as u32;
            if h >> 30 == 1 {
                assert_eq!(((h >> 8) & 0xff) as u64, d.size, "{}", d.name);
            }
        }
        assert!(predefined(0x4c00080b).unwrap().is_contiguous());
    }
}
