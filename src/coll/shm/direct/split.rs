//! Large reductions single-copy, split among the ranks: a reduce-scatter, where rank `i`
//! folds block `i` of the message reading that block of every rank's input straight from
//! its memory, then an allgather (allreduce) or a gather to the root (reduce) of the
//! reduced blocks, again by single-copy reads. Every rank reads and folds `1/n` of the
//! message instead of all of it (the whole-read `super::reduce`), which is what decides
//! large reductions: 2 ranks, 1 MiB, each reads 0.5 MiB of inputs and 0.5 MiB of results
//! instead of 1 MiB of inputs and folds half as much.
//!
//! This is Rabenseifner's reduce-scatter + allgather ("Optimization of collective
//! reduction operations", ICCS 2004; MPICH's `MPIR_Allreduce_intra_reduce_scatter_allgather`)
//! done in shared memory with one copy per byte read, as Open MPI's coll/xhc does for large
//! allreduces (`coll_xhc_allreduce.c`: the members of a group each reduce their own part of
//! the message, reading the others' buffers through single-copy mappings, and the results
//! are then read by everyone). Each block is folded in rank order (`x0 op (x1 op (...))`)
//! so non-commutative operations stay right; blocks are whole cache lines where the element
//! size allows, so two folding ranks do not write the same line.
//!
//! A call takes three call numbers: at `s` every rank's descriptors are out (descriptor 0:
//! its input; descriptor 1: where its reduced block will be), at `s + 1` a rank has folded
//! its block (and so finished reading the others' inputs), at `s + 2` it has read the
//! blocks it needs. A rank whose input is its output (MPI_IN_PLACE) keeps a copy of its own
//! block only: during the first phase it writes just that block of its buffer, which nobody
//! else reads then, and it writes the other blocks only after `s + 1`, once every rank has
//! finished reading its input.

use super::{expose, fetch, first, fold, Exposed, Scratch};
use crate::coll::sched::Reduction;
use crate::coll::shm::ShmComm;
use crate::error::MpiError;
use crate::p2p::{Data, NodeEngine};
use std::sync::atomic::Ordering;

/// Element range `(first, count)` of block `i` of `count` elements of `size` bytes split
/// among `n` ranks: equal blocks, rounded up to whole 64-byte lines where the element size
/// divides 64 (the last blocks may be short or empty).
pub(super) fn block(count: u64, n: usize, size: u64, i: usize) -> (u64, u64) {
    let line = if size > 0 && 64 % size == 0 {
        64 / size
    } else {
        1
    };
    let per = count.div_ceil(n as u64).div_ceil(line) * line;
    let lo = (per * i as u64).min(count);
    let hi = (per * (i as u64 + 1)).min(count);
    (lo, hi - lo)
}

impl ShmComm {
    /// Starts the next call that takes three numbers: the first.
    fn next_triple(&self) -> u64 {
        self.single_copy_call.store(true, Ordering::Relaxed);
        self.seq.fetch_add(3, Ordering::Relaxed) + 1
    }
}

/// Where a rank's reduced block lives until the others have read it: its output block
/// when that is plain memory, else a scratch buffer (a non-root's reduce, an output that is
/// not contiguous), unpacked into the output at the end.
struct Home {
    /// The block as the fold writes it.
    data: Data,
    /// The block's bytes, as published.
    exposed: Exposed,
    /// The output block to unpack into at the end, when `data` is a scratch buffer.
    unpack_to: Option<Data>,
}

fn home(red: &Reduction, out_block: Option<Data>, len: u64) -> Home {
    let bytes = len * red.dt.size();
    if let Some(p) = out_block.as_ref().and_then(Data::contiguous) {
        return Home {
            data: out_block.expect("an output block"),
            exposed: Exposed {
                ptr: p,
                len: bytes as usize,
                _keep: None,
            },
            unpack_to: None,
        };
    }
    let keep = Scratch::new(bytes as usize);
    let ptr = keep.ptr();
    Home {
        // Packed bytes of a contiguous type are its memory image from the true lower bound.
        data: Data::new(ptr.offset(-red.dt.true_lb), len, red.dt.clone()),
        exposed: Exposed {
            ptr,
            len: bytes as usize,
            _keep: Some(keep),
        },
        unpack_to: out_block,
    }
}

/// Reduces every rank's `input` into `out` at `root`, or at every rank (`root` None: the
/// allreduce), by a reduce-scatter and a gather or allgather (see the module doc). `out`
/// matters only where the result goes; `input` may be `out` there.
pub fn reduce(
    c: &ShmComm,
    e: &NodeEngine,
    red: &Reduction,
    input: &Data,
    out: &Data,
    root: Option<usize>,
) -> Result<(), MpiError> {
    let s = c.next_triple();
    let count = input.count;
    let size = red.dt.size().max(1);
    let extent = red.dt.extent();
    let gets = root.is_none_or(|r| r == c.me);
    let (lo, len) = block(count, c.n, size, c.me);
    let out_block = |lo: u64, len: u64| out.shifted(lo as i64 * extent, len, out.dt.clone());
    let home = home(red, gets.then(|| out_block(lo, len)), len);
    let x = expose(input);
    // In place, the fold overwrites this block of the input: it reads a copy of it.
    let copy = (gets && input.ptr == out.ptr && x._keep.is_none())
        .then(|| own_copy(&x, lo * size, len * size));
    let mine = copy.as_ref().unwrap_or(&x);

    c.slot_free(e, s);
    super::post(c, s, 0, &x);
    super::post(c, s, 1, &home.exposed);
    c.publish(e, s);
    c.wait_all(e, s);
    let mut res = if len > 0 {
        fold(c, e, s, red, mine, &home.data, lo, true)
    } else {
        Ok(())
    };
    c.publish(e, s + 1);

    if !gets {
        // The root reads this rank's block; back once it has.
        let root = root.expect("a root");
        c.wait_for(e, root, s + 2);
        c.publish(e, s + 2);
        return res;
    }
    c.wait_all(e, s + 1);
    for r in (0..c.n).filter(|&r| r != c.me) {
        let (rlo, rlen) = block(count, c.n, size, r);
        if rlen > 0 {
            first(&mut res, fetch(c, e, s, r, 1, &out_block(rlo, rlen)));
        }
    }
    if let Some(to) = &home.unpack_to {
        home.exposed
            .ptr
            .with_slice(0, home.exposed.len, |b| to.unpack(0, b));
    }
    c.publish(e, s + 2);
    if root.is_none() {
        // The others read this rank's block from its output: it stays until they have.
        c.wait_all(e, s + 2);
    }
    res
}

/// `x` with bytes `[off, off + bytes)` read from a copy (the rest is never read through
/// it: the rank folds only its own block).
fn own_copy(x: &Exposed, off: u64, bytes: u64) -> Exposed {
    let keep = Scratch::new(bytes as usize);
    let dst = keep.ptr();
    x.ptr.with_slice(off as i64, bytes as usize, |b| {
        dst.with_slice_mut(0, bytes as usize, |d| d.copy_from_slice(b))
    });
    Exposed {
        // Offsets into the input land in the copy; nothing outside the block is read.
        ptr: dst.offset(-(off as i64)),
        len: x.len,
        _keep: Some(keep),
    }
}

#[cfg(test)]
mod tests {
    use super::block;

    #[test]
    fn blocks_cover_the_message_once() {
        for &(count, n, size) in &[
            (0u64, 2usize, 4u64),
            (1, 4, 8),
            (7, 3, 4),
            (1000, 4, 8),
            (12345, 7, 12),
            (1 << 20, 8, 1),
        ] {
            let mut next = 0;
            for i in 0..n {
                let (lo, len) = block(count, n, size, i);
                assert_eq!(lo, next.min(count), "{count} {n} {size} {i}");
                next = lo + len;
            }
            assert_eq!(next, count);
        }
    }

    #[test]
    fn blocks_start_on_cache_lines() {
        let (lo, _) = block(1000, 3, 8, 1);
        assert_eq!(lo * 8 % 64, 0);
    }
}
