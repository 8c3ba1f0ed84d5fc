//! The collectives over a communicator's region (see the parent module for the protocol).
//! Callers check that the data fits a slot ([`super::SLOT`]) and, for reductions, that the
//! datatype is contiguous (the slots hold the packed bytes, which then are the memory
//! layout a reduction and a user function expect).

use super::ShmComm;
use crate::coll::reduce;
use crate::coll::sched::Reduction;
use crate::error::MpiError;
use crate::p2p::{Data, NodeEngine};
use crate::transport::mem::UserPtr;

/// Every rank reaches the call, then leaves.
pub fn barrier(c: &ShmComm, e: &NodeEngine) {
    let s = c.next();
    c.publish(e, s);
    c.wait_all(e, s);
}

/// `d` (packed, at most a slot) from `root` to every rank.
pub fn bcast(c: &ShmComm, e: &NodeEngine, d: &Data, root: usize) {
    let s = c.next();
    let k = (s & 1) as usize;
    let bytes = d.bytes() as usize;
    if c.me == root {
        c.slot_free(e, s);
        c.region
            .slot(c.me, k)
            .with_slice_mut(0, bytes, |b| d.pack(0, b));
        c.publish(e, s);
    } else {
        // Reached this call (what the root's next slot_free waits for); then the data.
        c.publish(e, s);
        c.wait_for(e, root, s);
        c.region
            .slot(root, k)
            .with_slice(0, bytes, |b| d.unpack(0, b));
    }
}

/// Writes this rank's contribution to its slot for call `s` and publishes it.
fn contribute(c: &ShmComm, e: &NodeEngine, s: u64, input: &Data) {
    c.slot_free(e, s);
    let k = (s & 1) as usize;
    c.region
        .slot(c.me, k)
        .with_slice_mut(0, input.bytes() as usize, |b| input.pack(0, b));
    c.publish(e, s);
}

/// `out = x0 op x1 op ... op x(n-1)` from the slots of call `s` (rank order, for
/// non-commutative operations): the last rank's data first, then `out = xi op out` from
/// right to left.
fn fold(c: &ShmComm, s: u64, red: &Reduction, out: &Data) -> Result<(), MpiError> {
    let k = (s & 1) as usize;
    let bytes = out.bytes() as usize;
    // The packed bytes of a contiguous type are its memory image from the true lower bound:
    // as a buffer address, the slot sits `true_lb` before them.
    let as_buffer = |p: UserPtr| p.offset(-red.dt.true_lb);
    c.region
        .slot(c.n - 1, k)
        .with_slice(0, bytes, |b| out.unpack(0, b));
    for r in (0..c.n - 1).rev() {
        let inp = as_buffer(c.region.slot(r, k));
        reduce::reduce(&red.op, &red.dt, red.dt_handle, inp, out.ptr, out.count)?;
    }
    Ok(())
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
    let s = c.next();
    contribute(c, e, s, input);
    if c.me != root {
        return Ok(());
    }
    c.wait_all(e, s);
    fold(c, s, red, out)
}

/// Reduces `input` into `out` on every rank (`input` may be `out`).
pub fn allreduce(
    c: &ShmComm,
    e: &NodeEngine,
    red: &Reduction,
    input: &Data,
    out: &Data,
) -> Result<(), MpiError> {
    let s = c.next();
    contribute(c, e, s, input);
    c.wait_all(e, s);
    fold(c, s, red, out)
}

/// Gather of equal blocks to `root`: each rank's block (`mine`, at most a slot) goes
/// through its slot. At the root `blocks[i]` receives rank i's block; its own block comes
/// from `own` (source, destination) unless it is in place.
pub fn gather(
    c: &ShmComm,
    e: &NodeEngine,
    root: usize,
    mine: Option<&Data>,
    blocks: &[Data],
    own: Option<&(Data, Data)>,
) {
    let s = c.next();
    if c.me != root {
        match mine {
            Some(m) => contribute(c, e, s, m),
            None => c.publish(e, s),
        }
        return;
    }
    c.publish(e, s);
    if let Some((src, dst)) = own {
        copy(src, dst);
    }
    c.wait_all(e, s);
    take_blocks(c, s, blocks);
}

/// Unpacks every other rank's slot of call `s` into its block.
fn take_blocks(c: &ShmComm, s: u64, blocks: &[Data]) {
    let k = (s & 1) as usize;
    for (r, b) in blocks.iter().enumerate().filter(|&(r, _)| r != c.me) {
        c.region
            .slot(r, k)
            .with_slice(0, b.bytes() as usize, |x| b.unpack(0, x));
    }
}

/// Scatter of equal blocks from `root`: the root packs every block into its slot (all of
/// them fit), each rank takes its own. `own` as in [`gather`].
pub fn scatter(
    c: &ShmComm,
    e: &NodeEngine,
    root: usize,
    mine: Option<&Data>,
    blocks: &[Data],
    own: Option<&(Data, Data)>,
) {
    let s = c.next();
    let k = (s & 1) as usize;
    if c.me == root {
        c.slot_free(e, s);
        let slot = c.region.slot(c.me, k);
        let mut at = 0;
        for (r, b) in blocks.iter().enumerate() {
            let len = b.bytes() as usize;
            if r != root {
                slot.offset(at as i64)
                    .with_slice_mut(0, len, |x| b.pack(0, x));
            }
            at += len;
        }
        c.publish(e, s);
        if let Some((src, dst)) = own {
            copy(src, dst);
        }
        return;
    }
    c.publish(e, s);
    if let Some(m) = mine {
        let len = m.bytes() as usize;
        c.wait_for(e, root, s);
        c.region
            .slot(root, k)
            .offset((c.me * len) as i64)
            .with_slice(0, len, |x| m.unpack(0, x));
    }
}

/// Allgather of equal blocks: `blocks[i]` receives rank i's block; this rank's block is
/// `mine` (or already in `blocks[me]`, in place).
pub fn allgather(c: &ShmComm, e: &NodeEngine, mine: Option<&Data>, blocks: &[Data]) {
    let s = c.next();
    let me = c.me;
    contribute(c, e, s, mine.unwrap_or(&blocks[me]));
    if let Some(m) = mine {
        copy(m, &blocks[me]);
    }
    c.wait_all(e, s);
    take_blocks(c, s, blocks);
}

/// Local copy between two descriptions of the same signature.
fn copy(src: &Data, dst: &Data) {
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
