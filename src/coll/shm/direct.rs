//! Single-copy collectives over a communicator's region, for messages too large to stage
//! through the slots profitably: a rank whose data others need publishes where the data
//! is (address and length, in its slot), and each reader copies it straight from the
//! source's memory with Cross Memory Attach (`process_vm_readv`, the engine's
//! `Fabric::read_remote`), as Open MPI's coll/xhc and smsc/cma do and as MPICH's ch4 IPC
//! does for large point-to-point messages. One copy instead of two (into the slot and out
//! of it), the readers read clean source memory instead of lines another core just wrote,
//! and two flag hand-offs per call however large the message, which is what matters when
//! ranks outnumber cores and every hand-off may cost a scheduling round.
//!
//! A call takes two call numbers: at `s` the sources' descriptors are out (in the slot of
//! call `s`, `(address, length)` pairs of 16 bytes), at `s + 1` a rank has finished its
//! reads. A source returns only once every reader has reached `s + 1` (its buffer must not
//! change before). A source whose data is not one contiguous block packs it into a buffer
//! of its own, kept until then. The next call that writes the same slot (`s + 2`) waits
//! for every rank at `s + 1`, so the descriptors stay put while they are read.
//!
//! Used only on communicators whose set-up checked that every rank can read rank 0's
//! memory this way ([`super::ShmComm::direct`]); a read that fails later (a buffer the
//! kernel refuses) is reported as an MPI error after the call's protocol has completed,
//! so no rank is left waiting.

mod chain;
mod split;

pub use chain::bcast as chain_bcast;

use super::ShmComm;
use crate::coll::sched::{byte_type, Reduction};
use crate::coll::{reduce, scratch};
use crate::error::{class, MpiError};
use crate::p2p::{Data, NodeEngine};
use crate::transport::fabric::Fabric;
use crate::transport::mem::{OwnedBytes, UserPtr};

/// Bytes of one descriptor in a slot.
const DESC: usize = 16;

/// A source's bytes for its readers: its memory when contiguous, else a packed copy that
/// lives as long as this value.
struct Exposed {
    ptr: UserPtr,
    len: usize,
    _keep: Option<Scratch>,
}

fn expose(d: &Data) -> Exposed {
    match d.contiguous() {
        Some(p) => Exposed {
            ptr: p,
            len: d.bytes() as usize,
            _keep: None,
        },
        None => packed(d),
    }
}

/// Whether a call whose sources publish `entries` descriptors each fits the slots.
pub fn fits(c: &ShmComm, entries: usize) -> bool {
    c.direct && entries * DESC <= c.slot_len()
}

/// Writes descriptor `i` of this rank for call `s` (the slot must be free).
fn post(c: &ShmComm, s: u64, i: usize, x: &Exposed) {
    post_at(c, s, i, x.ptr.addr() as u64, x.len as u64);
}

/// Writes descriptor `i` of this rank for call `s` as (`addr`, `len`).
fn post_at(c: &ShmComm, s: u64, i: usize, addr: u64, len: u64) {
    let mut b = [0u8; DESC];
    b[..8].copy_from_slice(&addr.to_le_bytes());
    b[8..].copy_from_slice(&len.to_le_bytes());
    c.region
        .slot(c.me, (s & 1) as usize)
        .write((i * DESC) as i64, &b);
}

/// Replaces descriptor 0 of this rank for call `s` with the mark of a copy that failed
/// (address 0), which [`fetch_part`] reports as an error to whoever reads it afterwards.
fn post_failed(c: &ShmComm, s: u64) {
    let mut b = [0u8; DESC];
    b[8..].copy_from_slice(&u64::MAX.to_le_bytes());
    c.region.slot(c.me, (s & 1) as usize).write(0, &b);
}

/// Copies what descriptor `i` of rank `src` for call `s` describes into `dst`.
fn fetch(
    c: &ShmComm,
    e: &NodeEngine,
    s: u64,
    src: usize,
    i: usize,
    dst: &Data,
) -> Result<(), MpiError> {
    fetch_part(c, e, s, src, i, dst, 0, dst.bytes())
}

/// Copies bytes `[off, off + max)` of what descriptor `i` of rank `src` for call `s`
/// describes to the same stream offset of `dst`.
#[allow(clippy::too_many_arguments)]
fn fetch_part(
    c: &ShmComm,
    e: &NodeEngine,
    s: u64,
    src: usize,
    i: usize,
    dst: &Data,
    off: u64,
    max: u64,
) -> Result<(), MpiError> {
    let (addr, len) = descriptor(c, s, src, i);
    let addr = addr as usize;
    let len = len.min(dst.bytes()).saturating_sub(off).min(max);
    if len == 0 {
        return Ok(());
    }
    if addr == 0 {
        return Err(read_failed(src, "that rank's own copy of the data failed"));
    }
    let mut pieces: Vec<(UserPtr, usize)> = Vec::new();
    dst.pieces(off, len, |p, l| pieces.push((p, l)));
    match e.fab.read_remote(
        c.bell_of[src],
        &[(addr + off as usize, len as usize)],
        &pieces,
    ) {
        Ok(got) if got as u64 == len => Ok(()),
        Ok(got) => Err(read_failed(src, format!("{got} of {len} bytes"))),
        Err(err) => Err(read_failed(src, err)),
    }
}

fn read_failed(src: usize, why: impl std::fmt::Display) -> MpiError {
    MpiError::new(
        class::ERR_OTHER,
        format!("collective: single-copy read of rank {src}'s buffer failed: {why}"),
    )
}

/// The first error of a call, kept while its protocol runs to the end.
fn first(acc: &mut Result<(), MpiError>, r: Result<(), MpiError>) {
    if acc.is_ok() {
        *acc = r;
    }
}

/// Ends a call as a source: done at `s + 1`, and back only once every reader is.
fn source_done(c: &ShmComm, e: &NodeEngine, s: u64) {
    c.publish(e, s + 1);
    c.wait_all(e, s + 1);
}

/// `d` from `root` to every rank.
pub fn bcast(c: &ShmComm, e: &NodeEngine, d: &Data, root: usize) -> Result<(), MpiError> {
    if super::route::pair_shared(c) {
        return bcast_shared(c, e, d, root);
    }
    let s = c.next_pair();
    if c.me == root {
        c.slot_free(e, s);
        let x = expose(d);
        post(c, s, 0, &x);
        c.publish(e, s);
        source_done(c, e, s);
        return Ok(());
    }
    c.publish(e, s);
    c.wait_for(e, root, s);
    let r = fetch(c, e, s, root, 0, d);
    c.publish(e, s + 1);
    r
}

/// The broadcast at 2 ranks with a core each: [`pair_copy`] from the root.
fn bcast_shared(c: &ShmComm, e: &NodeEngine, d: &Data, root: usize) -> Result<(), MpiError> {
    if c.me == root {
        pair_copy(c, e, root, Some(&expose(d)), None)
    } else {
        pair_copy(c, e, root, None, Some(d))
    }
}

/// A copy from rank `src` to the other rank of a 2-rank communicator whose ranks each have
/// a core (the broadcast, and the gather's one block): the reader copies the first half
/// from the source's buffer while the source, which would otherwise only wait, writes the
/// second half into the reader's buffer (`process_vm_writev`,
/// `transport::shm::cma::write_to`); two cores copy at once. Open MPI's and MPICH's CMA
/// paths only ever read (smsc/cma, ch4 IPC), leaving the sender idle. `x` is the source's data (at
/// the source; None: nothing), `d` where the reader's goes (at the reader; None: nothing).
///
/// The reader publishes, at call `s`, where the source is to write (descriptor 0 of its
/// slot: address and length, length 0 when its buffer is not one contiguous block and it
/// reads everything itself); the source publishes its buffer as in [`bcast`]. The source
/// writes once it sees the reader at `s`, records the bytes written (its descriptor 1) and
/// reaches `s + 1`; the reader returns once the source is at `s + 1` (its buffer is being
/// written until then), the source once the reader is (its buffer is being read). A write
/// that failed, the reader makes good by reading that part as well before it reaches
/// `s + 1`.
fn pair_copy(
    c: &ShmComm,
    e: &NodeEngine,
    src: usize,
    x: Option<&Exposed>,
    d: Option<&Data>,
) -> Result<(), MpiError> {
    let s = c.next_pair();
    let other = 1 - c.me;
    c.slot_free(e, s);
    let none = Exposed {
        ptr: UserPtr::empty(),
        len: 0,
        _keep: None,
    };
    if c.me == src {
        let x = x.unwrap_or(&none);
        post(c, s, 0, x);
        c.publish(e, s);
        c.wait_for(e, other, s);
        let (addr, len) = descriptor(c, s, other, 0);
        let len = len.min(x.len as u64) as usize;
        let wrote = if len == 0 {
            0
        } else {
            let from = x.ptr.offset((x.len - len) as i64);
            let pid = e.fab.pid_of(c.bell_of[other]);
            crate::transport::shm::cma::write_to(pid, from, len, addr as usize).unwrap_or(0)
        };
        post_at(c, s, 1, 1, wrote as u64);
        source_done(c, e, s);
        return Ok(());
    }
    let total = d.map_or(0, Data::bytes);
    // The source's part: the second half, from a page boundary of the stream (whole pages
    // for both copies when the buffer is page-aligned).
    let split = (total / 2) & !4095;
    let theirs = match d.and_then(Data::contiguous) {
        Some(p) if split > 0 => Exposed {
            ptr: p.offset(split as i64),
            len: (total - split) as usize,
            _keep: None,
        },
        _ => none,
    };
    post(c, s, 0, &theirs);
    c.publish(e, s);
    let mut res = Ok(());
    if let Some(d) = d {
        c.wait_for(e, src, s);
        let mine = total - theirs.len as u64;
        res = fetch_part(c, e, s, src, 0, d, 0, mine);
        if theirs.len > 0 {
            c.wait_for(e, src, s + 1);
            // A write the kernel refused (or cut short): the reader reads that part too,
            // the source's buffer being held until this rank reaches `s + 1`.
            if descriptor(c, s, src, 1).1 != theirs.len as u64 {
                first(&mut res, fetch_part(c, e, s, src, 0, d, mine, total - mine));
            }
        }
    }
    c.publish(e, s + 1);
    res
}

/// Descriptor `i` of rank `src` for call `s`: (address, length).
fn descriptor(c: &ShmComm, s: u64, src: usize, i: usize) -> (u64, u64) {
    let mut b = [0u8; DESC];
    c.region
        .slot(src, (s & 1) as usize)
        .read((i * DESC) as i64, &mut b);
    (
        u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
        u64::from_le_bytes(b[8..].try_into().expect("8 bytes")),
    )
}

/// Gather of equal blocks to `root` (arguments as `super::ops::gather`).
pub fn gather(
    c: &ShmComm,
    e: &NodeEngine,
    root: usize,
    mine: Option<&Data>,
    blocks: &[Data],
) -> Result<(), MpiError> {
    if super::route::pair_shared(c) {
        return if c.me == root {
            pair_copy(c, e, 1 - root, None, Some(&blocks[1 - root]))
        } else {
            pair_copy(c, e, c.me, mine.map(expose).as_ref(), None)
        };
    }
    let s = c.next_pair();
    if c.me != root {
        c.slot_free(e, s);
        let x = mine.map(expose);
        if let Some(x) = &x {
            post(c, s, 0, x);
        }
        c.publish(e, s);
        // Only the root reads; it reaches s + 1 once it has.
        c.wait_for(e, root, s + 1);
        c.publish(e, s + 1);
        return Ok(());
    }
    c.publish(e, s);
    c.wait_all(e, s);
    let mut res = Ok(());
    for (r, b) in blocks.iter().enumerate().filter(|&(r, _)| r != c.me) {
        first(&mut res, fetch(c, e, s, r, 0, b));
    }
    c.publish(e, s + 1);
    res
}

/// Scatter of equal blocks from `root` (arguments as `super::ops::scatter`).
pub fn scatter(
    c: &ShmComm,
    e: &NodeEngine,
    root: usize,
    mine: Option<&Data>,
    blocks: &[Data],
    own: Option<&(Data, Data)>,
) -> Result<(), MpiError> {
    let s = c.next_pair();
    if c.me == root {
        c.slot_free(e, s);
        let xs: Vec<Exposed> = blocks.iter().map(expose).collect();
        for (r, x) in xs.iter().enumerate() {
            post(c, s, r, x);
        }
        c.publish(e, s);
        // The own block's copy overlaps the others' reads.
        if let Some((src, dst)) = own {
            super::ops::copy(src, dst);
        }
        source_done(c, e, s);
        return Ok(());
    }
    c.publish(e, s);
    let mut res = Ok(());
    if let Some(m) = mine {
        c.wait_for(e, root, s);
        res = fetch(c, e, s, root, c.me, m);
    }
    c.publish(e, s + 1);
    res
}

/// Allgather of equal blocks (arguments as `super::ops::allgather`; the own block too).
pub fn allgather(
    c: &ShmComm,
    e: &NodeEngine,
    mine: Option<&Data>,
    blocks: &[Data],
) -> Result<(), MpiError> {
    let s = c.next_pair();
    c.slot_free(e, s);
    // The others read the send buffer (memory no core has just written); the own block's
    // copy overlaps their reads.
    let x = expose(mine.unwrap_or(&blocks[c.me]));
    post(c, s, 0, &x);
    c.publish(e, s);
    if let Some(m) = mine {
        super::ops::copy(m, &blocks[c.me]);
    }
    c.wait_all(e, s);
    let mut res = Ok(());
    for (r, b) in blocks.iter().enumerate().filter(|&(r, _)| r != c.me) {
        first(&mut res, fetch(c, e, s, r, 0, b));
    }
    source_done(c, e, s);
    res
}

/// Alltoall of equal blocks (arguments as `super::ops::alltoall`, the own block too; in place, the blocks to
/// send are packed first, since the receive blocks are overwritten while others read).
pub fn alltoall(
    c: &ShmComm,
    e: &NodeEngine,
    sends: Option<&[Data]>,
    recvs: &[Data],
) -> Result<(), MpiError> {
    let s = c.next_pair();
    c.slot_free(e, s);
    let xs: Vec<Exposed> = match sends {
        Some(v) => v.iter().map(expose).collect(),
        None => recvs.iter().map(packed).collect(),
    };
    for (r, x) in xs.iter().enumerate().filter(|&(r, _)| r != c.me) {
        post(c, s, r, x);
    }
    c.publish(e, s);
    if let Some(v) = sends {
        super::ops::copy(&v[c.me], &recvs[c.me]);
    }
    c.wait_all(e, s);
    let mut res = Ok(());
    for (r, b) in recvs.iter().enumerate().filter(|&(r, _)| r != c.me) {
        first(&mut res, fetch(c, e, s, r, c.me, b));
    }
    source_done(c, e, s);
    res
}

/// A packed copy of `d`, whatever its layout.
fn packed(d: &Data) -> Exposed {
    let len = d.bytes() as usize;
    let keep = Scratch::new(len);
    keep.ptr().with_slice_mut(0, len, |b| d.pack(0, b));
    Exposed {
        ptr: keep.ptr(),
        len,
        _keep: Some(keep),
    }
}

/// A buffer from the scratch pool (`coll::scratch`), returned to it when dropped.
struct Scratch(Option<OwnedBytes>);

impl Scratch {
    fn new(len: usize) -> Scratch {
        Scratch(Some(OwnedBytes::new(scratch::take(len))))
    }
    fn ptr(&self) -> UserPtr {
        self.0.as_ref().expect("scratch buffer").ptr()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(Ok(b)) = self.0.take().map(OwnedBytes::into_box) {
            scratch::give(b);
        }
    }
}

/// Reduces every rank's `input` into `out` at `root`, or at every rank (`root` None: the
/// allreduce). Each rank that reduces reads the others' inputs one by one into a scratch
/// buffer and folds them in rank order (`out = x0 op (x1 op (... op x(n-1)))`, right to
/// left, so non-commutative operations are right; a reduce's root may swap the last two for a
/// commutative op, `fold`). An input that is also the caller's
/// output (MPI_IN_PLACE) is copied first: the output changes while the others read.
pub fn reduce(
    c: &ShmComm,
    e: &NodeEngine,
    red: &Reduction,
    input: &Data,
    out: &Data,
    root: Option<usize>,
) -> Result<(), MpiError> {
    if super::route::split(c, root.is_none(), input.bytes()) && fits(c, 2) {
        return split::reduce(c, e, red, input, out, root);
    }
    let s = c.next_pair();
    let reads = root.is_none_or(|r| r == c.me);
    let in_place = reads && input.ptr == out.ptr;
    c.slot_free(e, s);
    let x = if in_place {
        packed(input)
    } else {
        expose(input)
    };
    post(c, s, 0, &x);
    c.publish(e, s);
    if !reads {
        // Back once the root has read this input.
        let root = root.expect("a root");
        c.wait_for(e, root, s + 1);
        c.publish(e, s + 1);
        return Ok(());
    }
    c.wait_all(e, s);
    let res = fold(c, e, s, red, &x, out, 0, root.is_some());
    match root {
        None => source_done(c, e, s),
        Some(_) => c.publish(e, s + 1),
    }
    res
}

/// Elements of a reduction folded at a time: a piece read from each rank is reduced while
/// it is still in the cache.
const FOLD_BYTES: u64 = 64 * 1024;

/// The reducing rank's part of [`reduce`]: `mine` is its own input as exposed; `out` takes
/// the elements from `base` on of every rank's input. `lone`: no other rank computes these
/// elements, so a commutative op may fold in another order (see the head of [`fold_part`]);
/// when every rank computes them, all fold alike and get the same bits (a commutative MAX
/// of a NaN and a number, or a sum of two NaNs, depends on the order of the operands).
#[allow(clippy::too_many_arguments)]
fn fold(
    c: &ShmComm,
    e: &NodeEngine,
    s: u64,
    red: &Reduction,
    mine: &Exposed,
    out: &Data,
    base: u64,
    lone: bool,
) -> Result<(), MpiError> {
    let last = c.n - 1;
    // The rank whose piece `out` starts from: the last one, read straight into `out`. When
    // that is this rank, its piece would first be copied into `out` (a pass over the piece
    // more than at the other roots); a commutative op starts from the rank before instead
    // and folds this rank's piece in next (`out = x_last op x_(last-1)`), as the schedules'
    // reduce folds a commutative op at any root.
    let head = if lone && last == c.me && last > 0 && red.op.is_commutative() {
        last - 1
    } else {
        last
    };
    let size = red.dt.size().max(1);
    let per = (FOLD_BYTES / size).max(1);
    let tmp = Scratch::new((per * size) as usize);
    let mut first = 0;
    while first < out.count {
        let n = per.min(out.count - first);
        let part = out.shifted(first as i64 * out.dt.extent(), n, out.dt.clone());
        fold_part(c, e, s, red, mine, &part, (base + first) * size, &tmp, head)?;
        first += n;
    }
    Ok(())
}

/// [`fold`] of the elements of `out` (a part of the output) that start `off` bytes into
/// every rank's input, starting from rank `head`'s piece.
#[allow(clippy::too_many_arguments)]
fn fold_part(
    c: &ShmComm,
    e: &NodeEngine,
    s: u64,
    red: &Reduction,
    mine: &Exposed,
    out: &Data,
    off: u64,
    tmp: &Scratch,
    head: usize,
) -> Result<(), MpiError> {
    let bytes = out.bytes();
    // Packed bytes of a contiguous type are its memory image from the true lower bound.
    let as_buffer = |p: UserPtr| p.offset(-red.dt.true_lb);
    let last = c.n - 1;
    if head == c.me {
        mine.ptr
            .with_slice(off as i64, bytes as usize, |b| out.unpack(0, b));
    } else {
        let whole = out.shifted(
            -(off as i64),
            (off + bytes) / red.dt.size().max(1),
            out.dt.clone(),
        );
        fetch_part(c, e, s, head, 0, &whole, off, bytes)?;
    }
    let t = Data::new(tmp.ptr(), bytes, byte_type());
    for r in (0..=last).rev().filter(|&r| r != head) {
        let inp = if r == c.me {
            as_buffer(mine.ptr.offset(off as i64))
        } else {
            let whole = t.shifted(-(off as i64), off + bytes, byte_type());
            fetch_part(c, e, s, r, 0, &whole, off, bytes)?;
            as_buffer(tmp.ptr())
        };
        reduce::reduce(&red.op, &red.dt, red.dt_handle, inp, out.ptr, out.count)?;
    }
    Ok(())
}
