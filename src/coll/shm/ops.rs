//! The collectives over a communicator's region (see the parent module for the protocol).
//!
//! A message longer than a slot is cut into pieces and moved as a run of calls, one piece
//! per call: every rank knows the byte count (MPI requires equal signatures), so all make
//! the same number of calls. Because a rank's two slots alternate between odd and even
//! calls, a writer fills piece `k + 1` while the readers still copy piece `k` out: the
//! double-buffered pipeline of MPICH's release_gather and Open MPI's coll/sm fragments,
//! with no extra protocol. Reductions need a contiguous datatype (the slots hold packed
//! bytes, which then are the memory layout a reduction and a user function expect), and
//! their pieces hold whole elements.

use super::{direct, ShmComm};
use crate::coll::reduce;
use crate::coll::sched::Reduction;
use crate::error::MpiError;
use crate::op::user::Op;
use crate::p2p::{Data, NodeEngine};
use crate::transport::coll_region::INLINE;
use crate::transport::mem::UserPtr;

/// The pieces `(offset, length)` of `total` bytes cut every `per` bytes; at least one
/// (an empty message is still one call: every rank takes part in it).
fn pieces(total: u64, per: u64) -> impl Iterator<Item = (u64, usize)> {
    // A message that fits one piece (the small calls) is counted without a division: a
    // 64-bit divide takes tens of cycles, on the critical path of every small call.
    let calls = if total <= per {
        1
    } else {
        total.div_ceil(per.max(1))
    };
    (0..calls).map(move |k| {
        let off = k * per;
        (off, total.saturating_sub(off).min(per) as usize)
    })
}

/// Bytes of one rank's share of a slot that holds a share for each of `n` ranks (scatter,
/// alltoall): a cache-line multiple when there is room for one.
fn share(slot: usize, n: usize) -> u64 {
    let s = slot / n;
    (if s >= 64 { s & !63 } else { s.max(1) }) as u64
}

/// Every rank reaches the call, then leaves.
pub fn barrier(c: &ShmComm, e: &NodeEngine) {
    let s = c.next();
    c.publish(e, s);
    c.wait_all(e, s);
}

/// `d` from `root` to every rank: large messages single-copy (`route::bcast_single_copy`),
/// others a slot at a time.
pub fn bcast(c: &ShmComm, e: &NodeEngine, d: &Data, root: usize) -> Result<(), MpiError> {
    if super::route::bcast_single_copy(c, d.bytes()) {
        if super::route::chain(c, d.bytes()) {
            return direct::chain_bcast(c, e, d, root);
        }
        return direct::bcast(c, e, d, root);
    }
    for (off, len) in pieces(d.bytes(), c.slot_len() as u64) {
        bcast_piece(c, e, d, root, off, len);
    }
    Ok(())
}

/// Whether `d` fits one slot, so that its call is a single piece: the common small case
/// skips the cutting ([`element_pieces`] and the per-piece views of the buffers; callgrind,
/// 2 ranks, 8 B: MPI_Allreduce's `ops::allreduce` 142 -> 57 instructions of its own). Not
/// in the broadcast: there it saved nothing measurable and cost the inlining of its piece.
#[inline]
fn one_piece(c: &ShmComm, d: &Data) -> bool {
    d.bytes() <= c.slot_len() as u64
}

fn bcast_piece(c: &ShmComm, e: &NodeEngine, d: &Data, root: usize, off: u64, len: usize) {
    let s = c.next();
    let k = (s & 1) as usize;
    if c.me == root {
        c.slot_free(e, s);
        c.stage(c.me, k, len)
            .with_slice_mut(0, len, |b| d.pack(off, b));
        c.publish(e, s);
    } else {
        // Reached this call (what the root's next slot_free waits for); then the data.
        c.publish(e, s);
        c.wait_for(e, root, s);
        c.stage(root, k, len)
            .with_slice(0, len, |b| d.unpack(off, b));
    }
}

/// Writes bytes `[off, off + len)` of this rank's contribution to its slot for call `s`
/// and publishes them.
fn contribute(c: &ShmComm, e: &NodeEngine, s: u64, input: &Data, off: u64, len: usize) {
    c.slot_free(e, s);
    let k = (s & 1) as usize;
    c.stage(c.me, k, len)
        .with_slice_mut(0, len, |b| input.pack(off, b));
    c.publish(e, s);
}

/// The elements `[first, first + count)` of `d` (a contiguous datatype: element `i` is
/// `i` extents on).
fn elements(d: &Data, first: u64, count: u64) -> Data {
    d.shifted(first as i64 * d.dt.extent(), count, d.dt.clone())
}

/// `out = x0 op x1 op ... op x(n-1)` from the slots of call `s` (rank order, for
/// non-commutative operations): the last rank's data first, then `out = xi op out` from
/// right to left. `out` is the piece being reduced.
fn fold(c: &ShmComm, s: u64, red: &Reduction, out: &Data) -> Result<(), MpiError> {
    let k = (s & 1) as usize;
    let bytes = out.bytes() as usize;
    // The packed bytes of a contiguous type are its memory image from the true lower bound:
    // as a buffer address, the slot sits `true_lb` before them.
    let as_buffer = |p: UserPtr| p.offset(-red.dt.true_lb);
    // `out` starts as the last rank's data, or as the last two ranks' folded (`fold_last_pair`).
    let rest = if c.n >= 2 && fold_last_pair(c, k, red, out, bytes) {
        c.n - 2
    } else {
        c.stage(c.n - 1, k, bytes)
            .with_slice(0, bytes, |b| out.unpack(0, b));
        c.n - 1
    };
    for r in (0..rest).rev() {
        let inp = as_buffer(c.stage(r, k, bytes));
        reduce::reduce(&red.op, &red.dt, red.dt_handle, inp, out.ptr, out.count)?;
    }
    Ok(())
}

/// [`fold`]'s first step for a few elements of a common predefined pair (`reduce::small`):
/// `out = x[n-2] op x[n-1]` straight from the two slots, instead of copying the last rank's
/// data into `out` and then reducing into it through the general dispatch (callgrind, issue
/// 13, 8 B MPI_Allreduce at 2 ranks, where it is the whole fold: `fold` 316 -> 135
/// instructions). The same operands in the same order as the general steps, so the same
/// bits. False: not such a call, nothing done.
fn fold_last_pair(c: &ShmComm, k: usize, red: &Reduction, out: &Data, bytes: usize) -> bool {
    let (Op::Predef(p), Some(t)) = (&red.op, red.dt.basic) else {
        return false;
    };
    if bytes > reduce::SMALL_MAX {
        return false;
    }
    let Some(o) = out.contiguous() else {
        return false;
    };
    let (x0, x1) = (c.stage(c.n - 2, k, bytes), c.stage(c.n - 1, k, bytes));
    // `out` is the caller's buffer, never a slot.
    x0.with_slice(0, bytes, |a| {
        x1.with_slice(0, bytes, |b| {
            o.with_slice_mut(0, bytes, |o| reduce::small(*p, t, a, b, o))
        })
    })
}

/// The element ranges `(first, count)` of a reduction of `count` elements, a slot's worth
/// per call.
fn element_pieces(c: &ShmComm, red: &Reduction, count: u64) -> impl Iterator<Item = (u64, u64)> {
    let size = red.dt.size().max(1);
    let per = (c.slot_len() as u64 / size).max(1);
    pieces(count, per).map(|(first, n)| (first, n as u64))
}

/// Reduces `input` into `out` at `root` (`out` only matters there; `input` may be `out`).
pub fn reduce(
    c: &ShmComm,
    e: &NodeEngine,
    red: &Reduction,
    input: &Data,
    out: &Data,
    root: usize,
) -> Result<(), MpiError> {
    if super::route::reduce_single_copy(c, input.bytes()) {
        return direct::reduce(c, e, red, input, out, Some(root));
    }
    if one_piece(c, input) {
        let s = c.next();
        contribute(c, e, s, input, 0, input.bytes() as usize);
        if c.me == root {
            c.wait_all(e, s);
            fold(c, s, red, out)?;
        }
        return Ok(());
    }
    let size = red.dt.size();
    for (first, n) in element_pieces(c, red, input.count) {
        let s = c.next();
        contribute(c, e, s, input, first * size, (n * size) as usize);
        if c.me == root {
            c.wait_all(e, s);
            fold(c, s, red, &elements(out, first, n))?;
        }
    }
    Ok(())
}

/// Reduces `input` into `out` on every rank (`input` may be `out`).
pub fn allreduce(
    c: &ShmComm,
    e: &NodeEngine,
    red: &Reduction,
    input: &Data,
    out: &Data,
) -> Result<(), MpiError> {
    if c.single_copy(input.bytes(), 1) {
        return direct::reduce(c, e, red, input, out, None);
    }
    if one_piece(c, input) {
        let s = c.next();
        contribute(c, e, s, input, 0, input.bytes() as usize);
        c.wait_all(e, s);
        return fold(c, s, red, out);
    }
    let size = red.dt.size();
    for (first, n) in element_pieces(c, red, input.count) {
        let s = c.next();
        contribute(c, e, s, input, first * size, (n * size) as usize);
        c.wait_all(e, s);
        fold(c, s, red, &elements(out, first, n))?;
    }
    Ok(())
}

/// Gather of equal blocks to `root`: each rank's block (`mine`) goes through its slot, a
/// slot at a time. At the root `blocks[i]` receives rank i's block; its own block comes
/// from `own` (source, destination) unless it is in place.
pub fn gather(
    c: &ShmComm,
    e: &NodeEngine,
    root: usize,
    mine: Option<&Data>,
    blocks: &[Data],
    own: Option<&(Data, Data)>,
) -> Result<(), MpiError> {
    if c.me == root {
        if let Some((src, dst)) = own {
            copy(src, dst);
        }
    }
    let blk = block_bytes(mine, blocks);
    if c.single_copy(blk, 1) {
        return direct::gather(c, e, root, mine, blocks);
    }
    for (off, len) in pieces(blk, c.slot_len() as u64) {
        let s = c.next();
        if c.me != root {
            match mine {
                Some(m) => contribute(c, e, s, m, off, len),
                None => c.publish(e, s),
            }
            continue;
        }
        c.publish(e, s);
        c.wait_all(e, s);
        take_blocks(c, s, blocks, off, len);
    }
    Ok(())
}

/// Bytes of one rank's block in a regular gather/scatter/allgather: what this rank sends or
/// receives, or at the root (which has no own buffer when in place) any block of its array.
/// Equal on every rank (MPI requires equal signatures), so all cut it alike.
pub fn block_bytes(mine: Option<&Data>, blocks: &[Data]) -> u64 {
    match mine {
        Some(m) => m.bytes(),
        None => blocks.first().map_or(0, |b| b.bytes()),
    }
}

/// Unpacks bytes `[off, off + len)` of every other rank's block from its slot of call `s`.
fn take_blocks(c: &ShmComm, s: u64, blocks: &[Data], off: u64, len: usize) {
    let k = (s & 1) as usize;
    for (r, b) in blocks.iter().enumerate().filter(|&(r, _)| r != c.me) {
        c.stage(r, k, len).with_slice(0, len, |x| b.unpack(off, x));
    }
}

/// Where the blocks of `blk` bytes per rank of a scatter or an all-to-all travel: the bytes
/// of each rank's share per call, and the slot (rank, parity) they are packed into. When a
/// share for every rank fits the inline slot, the blocks travel in the control line with the
/// call number (one cache-line transfer to each reader instead of two, as `ShmComm::stage`
/// does for the other calls); else each call moves a share of the data slot.
fn shares(c: &ShmComm, blk: u64) -> (u64, impl Fn(usize, usize) -> UserPtr + '_) {
    let inline = blk as usize * c.n <= INLINE;
    let per = if inline {
        blk.max(1)
    } else {
        share(c.slot_len(), c.n)
    };
    let slot = move |r: usize, k: usize| {
        if inline {
            c.region.inline_slot(r, k)
        } else {
            c.region.slot(r, k)
        }
    };
    (per, slot)
}

/// Scatter of equal blocks from `root`: every call the root packs a piece of every other
/// rank's block into its slot (a share each, see [`share`]; the inline slot when all the
/// blocks fit it), each rank takes its own.
/// `own` as in [`gather`].
pub fn scatter(
    c: &ShmComm,
    e: &NodeEngine,
    root: usize,
    mine: Option<&Data>,
    blocks: &[Data],
    own: Option<&(Data, Data)>,
) -> Result<(), MpiError> {
    // The root's own block is copied once the others can take theirs: they need not wait
    // for that copy, and a single-copy scatter overlaps it with their reads.
    let blk = block_bytes(mine, blocks);
    if c.single_copy(blk, c.n) {
        return direct::scatter(c, e, root, mine, blocks, own);
    }
    let (per, slot) = shares(c, blk);
    for (off, len) in pieces(blk, per) {
        let s = c.next();
        let k = (s & 1) as usize;
        if c.me == root {
            c.slot_free(e, s);
            let slot = slot(c.me, k);
            for (r, b) in blocks.iter().enumerate().filter(|&(r, _)| r != root) {
                slot.offset((r as u64 * per) as i64)
                    .with_slice_mut(0, len, |x| b.pack(off, x));
            }
            c.publish(e, s);
            continue;
        }
        c.publish(e, s);
        if let Some(m) = mine {
            c.wait_for(e, root, s);
            slot(root, k)
                .offset((c.me as u64 * per) as i64)
                .with_slice(0, len, |x| m.unpack(off, x));
        }
    }
    if let (true, Some((src, dst))) = (c.me == root, own) {
        copy(src, dst);
    }
    Ok(())
}

/// Allgather of equal blocks: `blocks[i]` receives rank i's block; this rank's block is
/// `mine` (or already in `blocks[me]`, in place).
pub fn allgather(
    c: &ShmComm,
    e: &NodeEngine,
    mine: Option<&Data>,
    blocks: &[Data],
) -> Result<(), MpiError> {
    let me = c.me;
    if c.single_copy(block_bytes(mine, blocks), 1) {
        return direct::allgather(c, e, mine, blocks);
    }
    if let Some(m) = mine {
        copy(m, &blocks[me]);
    }
    let src = &blocks[me];
    for (off, len) in pieces(src.bytes(), c.slot_len() as u64) {
        let s = c.next();
        contribute(c, e, s, src, off, len);
        c.wait_all(e, s);
        take_blocks(c, s, blocks, off, len);
    }
    Ok(())
}

/// Alltoall of equal blocks: `sends[i]` goes to rank i, `recvs[i]` comes from it (`sends`
/// None: in place, the blocks to send are `recvs`). Every call each rank packs a piece of
/// each block it sends into its slot (a share per destination), then takes its pieces from
/// every other rank's slot; a piece is packed before the same bytes of `recvs` are
/// overwritten, which keeps the in-place form right.
pub fn alltoall(
    c: &ShmComm,
    e: &NodeEngine,
    sends: Option<&[Data]>,
    recvs: &[Data],
) -> Result<(), MpiError> {
    let me = c.me;
    if c.single_copy(recvs[me].bytes(), c.n) {
        return direct::alltoall(c, e, sends, recvs);
    }
    if let Some(sends) = sends {
        copy(&sends[me], &recvs[me]);
    }
    let out = sends.unwrap_or(recvs);
    let blk = out[me].bytes();
    let (per, slot) = shares(c, blk);
    for (off, len) in pieces(blk, per) {
        let s = c.next();
        let k = (s & 1) as usize;
        c.slot_free(e, s);
        let mine = slot(me, k);
        for (r, b) in out.iter().enumerate().filter(|&(r, _)| r != me) {
            mine.offset((r as u64 * per) as i64)
                .with_slice_mut(0, len, |x| b.pack(off, x));
        }
        c.publish(e, s);
        c.wait_all(e, s);
        for (r, b) in recvs.iter().enumerate().filter(|&(r, _)| r != me) {
            slot(r, k)
                .offset((me as u64 * per) as i64)
                .with_slice(0, len, |x| b.unpack(off, x));
        }
    }
    Ok(())
}

/// Local copy between two descriptions of the same signature.
pub(super) fn copy(src: &Data, dst: &Data) {
    if let (Some(a), Some(b)) = (src.contiguous(), dst.contiguous()) {
        if a != b {
            b.copy_from(0, a, 0, src.bytes() as usize);
        }
        return;
    }
    let mut buf = vec![0u8; src.bytes() as usize];
    src.pack(0, &mut buf);
    dst.unpack(0, &buf);
}
