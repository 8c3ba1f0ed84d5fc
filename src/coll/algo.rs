//! The collective algorithms, each appending its phases to a [`Schedule`] so that they
//! compose (reduce-scatter = allreduce + copy, ...). Every algorithm is correct for any
//! communicator size; the choice between algorithms is by message size and rank count.
//! Reductions keep rank order (lower ranks on the left) so non-commutative user ops work.

use super::sched::Schedule;
use crate::p2p::{Data, TypeKeep};
use crate::transport::mem::UserPtr;

/// A buffer and the datatype its elements have: the user's memory, or a schedule's
/// scratch block, which every `Data` cut from it then holds (see `p2p::Data::owned`).
#[derive(Clone)]
pub struct Buf {
    base: Data,
}

impl Buf {
    /// User memory at `ptr`.
    pub fn new(ptr: UserPtr, dt: TypeKeep) -> Self {
        Buf {
            base: Data::new(ptr, 0, dt),
        }
    }
    /// The buffer `d` lies in (its address, type and memory).
    pub fn of(d: &Data) -> Self {
        Buf {
            base: d.shifted(0, 0, d.dt.clone()),
        }
    }
    /// The type of the buffer's elements.
    pub fn dt(&self) -> &TypeKeep {
        &self.base.dt
    }
    /// `count` elements starting at element `index`.
    pub fn at(&self, index: u64, count: u64) -> Data {
        self.at_bytes(index as i64 * self.base.dt.extent(), count)
    }
    /// `count` elements starting `off` bytes past the buffer address.
    pub fn at_bytes(&self, off: i64, count: u64) -> Data {
        self.base.shifted(off, count, self.base.dt.clone())
    }
}

/// Messages of at least this many bytes use the bandwidth algorithms.
pub const LARGE: u64 = 128 * 1024;

fn rel(r: usize, root: usize, n: usize) -> usize {
    (r + n - root) % n
}
fn abs(v: usize, root: usize, n: usize) -> usize {
    (v + root) % n
}

// ---------------------------------------------------------------------------------------
// Barrier

/// Dissemination barrier: ceil(log2 n) rounds of empty messages.
pub fn barrier(s: &mut Schedule) {
    let (r, n) = (s.team().rank, s.team().size());
    let mut k = 1;
    while k < n {
        s.step();
        let empty = Data::new(UserPtr::empty(), 0, super::sched::byte_type());
        s.send((r + k) % n, empty.clone());
        s.recv((r + n - k) % n, empty);
        k *= 2;
    }
}

// ---------------------------------------------------------------------------------------
// Broadcast

/// Binomial tree broadcast of `d` from `root`.
pub fn bcast_binomial(s: &mut Schedule, d: &Data, root: usize) {
    let (r, n) = (s.team().rank, s.team().size());
    let me = rel(r, root, n);
    let mut mask = 1;
    while mask < n {
        if me & mask != 0 {
            s.step();
            s.recv(abs(me - mask, root, n), d.clone());
            break;
        }
        mask <<= 1;
    }
    s.step();
    mask >>= 1;
    while mask > 0 {
        if me + mask < n {
            s.send(abs(me + mask, root, n), d.clone());
        }
        mask >>= 1;
    }
}

/// Scatter + ring allgather broadcast for large messages (van de Geijn): the data goes
/// through a packed byte buffer cut into one piece per rank.
pub fn bcast_scatter_allgather(s: &mut Schedule, d: &Data, root: usize) {
    let (r, n) = (s.team().rank, s.team().size());
    let total = d.bytes();
    let bytes = Buf::of(&s.scratch_bytes(total as usize));
    if r == root {
        s.copy(d.clone(), bytes.at(0, total));
    }
    let piece = total.div_ceil(n as u64);
    let range = |i: usize| {
        let lo = (i as u64 * piece).min(total);
        let hi = ((i as u64 + 1) * piece).min(total);
        (lo, hi - lo)
    };
    // Binomial scatter: the subtree of relative rank v receives pieces [v, v + subtree).
    let me = rel(r, root, n);
    let span = |v: usize, m: usize| {
        let (lo, _) = range(v);
        let end = (v + m).min(n);
        let (hi_lo, hi_len) = range(end - 1);
        (lo, hi_lo + hi_len - lo)
    };
    let mut mask = 1;
    while mask < n {
        if me & mask != 0 {
            let (lo, len) = span(me, mask);
            s.step();
            s.recv(abs(me - mask, root, n), bytes.at(lo, len));
            break;
        }
        mask <<= 1;
    }
    s.step();
    mask >>= 1;
    while mask > 0 {
        if me + mask < n {
            let (lo, len) = span(me + mask, mask);
            s.send(abs(me + mask, root, n), bytes.at(lo, len));
        }
        mask >>= 1;
    }
    // Ring allgather of the pieces, in relative ranks.
    for k in 0..n - 1 {
        s.step();
        let (slo, slen) = range((me + n - k) % n);
        let (rlo, rlen) = range((me + n - k - 1) % n);
        s.send(abs((me + 1) % n, root, n), bytes.at(slo, slen));
        s.recv(abs((me + n - 1) % n, root, n), bytes.at(rlo, rlen));
    }
    if r != root {
        s.copy(bytes.at(0, total), d.clone());
    }
}

pub fn bcast(s: &mut Schedule, d: &Data, root: usize) {
    if d.bytes() >= LARGE && s.team().size() > 2 {
        bcast_scatter_allgather(s, d, root)
    } else {
        bcast_binomial(s, d, root)
    }
}

// ---------------------------------------------------------------------------------------
// Reduce

/// Reduces `input` (count elements) into `out` at `root` (binomial tree; non-commutative
/// ops reduce towards rank 0 in rank order and then move the result to the root).
/// `out` is used only at the root.
///
/// No copies: a leaf sends its input buffer itself, and a rank with children receives each
/// child's partial result into a spare buffer and reduces its own partial result into it
/// (`child = mine op child`, which keeps rank order), so the spare becomes the partial
/// result and the old one the next spare. At the root the last child lands in `out`. (The
/// earlier version copied the input into a fresh scratch buffer on every rank and copied
/// the reduced data back: three passes over fresh pages per call, which made 256 KiB-1 MiB
/// reductions 5x slower than Open MPI's.)
pub fn reduce(s: &mut Schedule, input: &Data, out: &Data, root: usize, commutative: bool) {
    let (r, n) = (s.team().rank, s.team().size());
    let top = if commutative { root } else { 0 };
    let me = rel(r, top, n);
    let mut children = Vec::new();
    let mut parent = None;
    let mut mask = 1;
    while mask < n {
        if me & mask != 0 {
            parent = Some(abs(me & !mask, top, n));
            break;
        }
        if me | mask < n {
            children.push(abs(me | mask, top, n));
        }
        mask <<= 1;
    }
    let same_place = match (input.contiguous(), out.contiguous()) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    };
    // The last child's data may land in `out` when `out` is the final place of the result
    // and does not hold this rank's input.
    let into_out = r == root && top == root && !same_place;
    let mut spares: [Option<Data>; 2] = [None, None];
    let mut acc = input.clone();
    for (k, &child) in children.iter().enumerate() {
        let dst = if into_out && k + 1 == children.len() {
            out.clone()
        } else {
            spares[k % 2]
                .get_or_insert_with(|| s.scratch_typed(input.count, &input.dt))
                .clone()
        };
        s.step();
        s.recv(child, dst.clone());
        // `acc` holds the lower ranks, the child the next higher ones.
        s.reduce(acc.ptr, dst.clone());
        acc = dst;
    }
    if r == root && top == root {
        if !(into_out && !children.is_empty()) {
            s.copy(acc, out.clone());
        }
        return;
    }
    if let Some(p) = parent {
        s.step();
        s.send(p, acc.clone());
    }
    if top != root {
        s.step();
        if r == top {
            s.send(root, acc);
        } else if r == root {
            s.recv(top, out.clone());
        }
    }
}

/// `acc = acc op right` (right holds higher ranks). Commutative ops reduce into `acc`
/// directly; others compute into `right` and copy back.
fn combine_right(s: &mut Schedule, acc: &Data, right: &Data, commutative: bool) {
    if commutative {
        s.reduce(right.ptr, acc.clone());
    } else {
        s.reduce(acc.ptr, right.clone());
        s.copy(right.clone(), acc.clone());
    }
}

// ---------------------------------------------------------------------------------------
// Allreduce

/// Recursive doubling with the non-power-of-two fix-up; `acc` holds this rank's input on
/// entry and the result on exit.
pub fn allreduce_doubling(s: &mut Schedule, acc: &Data, commutative: bool) {
    let (r, n) = (s.team().rank, s.team().size());
    let tmp = s.scratch_typed(acc.count, &acc.dt);
    let pof2 = if n == 0 {
        1
    } else {
        1usize << (usize::BITS - 1 - n.leading_zeros())
    };
    let rem = n - pof2;
    let newrank = if r < 2 * rem {
        s.step();
        if r % 2 == 0 {
            s.send(r + 1, acc.clone());
            None
        } else {
            s.recv(r - 1, tmp.clone());
            s.reduce(tmp.ptr, acc.clone()); // tmp holds the lower rank
            Some(r / 2)
        }
    } else {
        Some(r - rem)
    };
    if let Some(nr) = newrank {
        let mut mask = 1;
        while mask < pof2 {
            let nd = nr ^ mask;
            let dst = if nd < rem { nd * 2 + 1 } else { nd + rem };
            s.step();
            s.send(dst, acc.clone());
            s.recv(dst, tmp.clone());
            if commutative || dst < r {
                s.reduce(tmp.ptr, acc.clone());
            } else {
                combine_right(s, acc, &tmp, false);
            }
            mask <<= 1;
        }
    }
    if r < 2 * rem {
        s.step();
        if r % 2 == 1 {
            s.send(r - 1, acc.clone());
        } else {
            s.recv(r + 1, acc.clone());
        }
    }
}

/// Ring allreduce (reduce-scatter ring, then allgather ring) for large messages with a
/// commutative op; `acc` as in [`allreduce_doubling`].
pub fn allreduce_ring(s: &mut Schedule, acc: &Data) {
    let (r, n) = (s.team().rank, s.team().size());
    let count = acc.count;
    let buf = Buf::of(acc);
    let chunk = |i: usize| {
        let lo = count * i as u64 / n as u64;
        let hi = count * (i as u64 + 1) / n as u64;
        (lo, hi - lo)
    };
    let biggest = (0..n).map(|i| chunk(i).1).max().unwrap_or(0);
    let tmp = s.scratch_typed(biggest, &acc.dt);
    let (next, prev) = ((r + 1) % n, (r + n - 1) % n);
    for k in 0..n - 1 {
        let (slo, slen) = chunk((r + n - k) % n);
        let (rlo, rlen) = chunk((r + n - k - 1) % n);
        s.step();
        s.send(next, buf.at(slo, slen));
        let t = tmp.shifted(0, rlen, acc.dt.clone());
        s.recv(prev, t.clone());
        s.reduce(t.ptr, buf.at(rlo, rlen));
    }
    for k in 0..n - 1 {
        let (slo, slen) = chunk((r + 1 + n - k) % n);
        let (rlo, rlen) = chunk((r + n - k) % n);
        s.step();
        s.send(next, buf.at(slo, slen));
        s.recv(prev, buf.at(rlo, rlen));
    }
}

/// Two ranks, separate input and output: each sends its input straight from the user's
/// buffer and receives the other's, then reduces once; no copy of the input first.
pub fn allreduce_pair(s: &mut Schedule, input: &Data, out: &Data, commutative: bool) {
    let r = s.team().rank;
    let other = 1 - r;
    s.step();
    s.send(other, input.clone());
    if commutative || r == 0 {
        // out = input op other's: in0 op in1 at rank 0, and at rank 1 in1 op in0, equal
        // when the op commutes.
        s.recv(other, out.clone());
        s.reduce(input.ptr, out.clone());
    } else {
        // Rank 1 of a non-commutative op: out = in0 op in1 needs in0 on the left.
        let tmp = s.scratch_typed(out.count, &out.dt);
        s.recv(other, tmp.clone());
        s.copy(input.clone(), out.clone());
        s.reduce(tmp.ptr, out.clone());
    }
}

pub fn allreduce(s: &mut Schedule, acc: &Data, commutative: bool) {
    let n = s.team().size();
    if commutative && n > 2 && acc.bytes() >= LARGE && acc.count >= n as u64 {
        allreduce_ring(s, acc)
    } else {
        allreduce_doubling(s, acc, commutative)
    }
}

// ---------------------------------------------------------------------------------------
// Gather / scatter (linear: the root posts every transfer at once)

/// `sends[i]`/`recvs[i]`: what goes to / comes from rank i at the root; `mine` is this
/// rank's part. `own` copies the root's own part (None when in place).
pub fn gather(
    s: &mut Schedule,
    root: usize,
    mine: Option<Data>,
    recvs: Vec<Data>,
    own: Option<(Data, Data)>,
) {
    let r = s.team().rank;
    s.step();
    if r == root {
        if let Some((src, dst)) = own {
            s.copy(src, dst);
        }
        for (i, d) in recvs.into_iter().enumerate() {
            if i != root {
                s.recv(i, d);
            }
        }
    } else if let Some(m) = mine {
        s.send(root, m);
    }
}

pub fn scatter(
    s: &mut Schedule,
    root: usize,
    mine: Option<Data>,
    sends: Vec<Data>,
    own: Option<(Data, Data)>,
) {
    let r = s.team().rank;
    s.step();
    if r == root {
        if let Some((src, dst)) = own {
            s.copy(src, dst);
        }
        for (i, d) in sends.into_iter().enumerate() {
            if i != root {
                s.send(i, d);
            }
        }
    } else if let Some(m) = mine {
        s.recv(root, m);
    }
}

// ---------------------------------------------------------------------------------------
// Allgather

/// Ring allgather: `blocks[i]` is rank i's block in the receive buffer (already filled
/// for this rank).
pub fn allgather_ring(s: &mut Schedule, blocks: &[Data]) {
    let (r, n) = (s.team().rank, s.team().size());
    let (next, prev) = ((r + 1) % n, (r + n - 1) % n);
    for k in 0..n.saturating_sub(1) {
        s.step();
        s.send(next, blocks[(r + n - k) % n].clone());
        s.recv(prev, blocks[(r + n - k - 1) % n].clone());
    }
}

/// Every rank sends its block straight to every other (one round; small messages).
pub fn allgather_direct(s: &mut Schedule, blocks: &[Data]) {
    let (r, n) = (s.team().rank, s.team().size());
    s.step();
    for k in 1..n {
        s.recv((r + n - k) % n, blocks[(r + n - k) % n].clone());
    }
    for k in 1..n {
        s.send((r + k) % n, blocks[r].clone());
    }
}

pub fn allgather(s: &mut Schedule, blocks: &[Data]) {
    let total: u64 = blocks.iter().map(|b| b.bytes()).sum();
    if total >= LARGE / 4 {
        allgather_ring(s, blocks)
    } else {
        allgather_direct(s, blocks)
    }
}

// ---------------------------------------------------------------------------------------
// Alltoall

/// `sends[i]` goes to rank i and `recvs[i]` comes from it; the own block is copied.
/// Small exchanges post everything at once; large ones go pairwise, one partner per round.
pub fn alltoall(s: &mut Schedule, sends: &[Data], recvs: &[Data]) {
    let (r, n) = (s.team().rank, s.team().size());
    let total: u64 = sends.iter().map(|d| d.bytes()).sum();
    s.copy(sends[r].clone(), recvs[r].clone());
    let pairwise = total >= LARGE;
    s.step();
    for k in 1..n {
        if pairwise {
            s.step();
        }
        let (to, from) = ((r + k) % n, (r + n - k) % n);
        s.recv(from, recvs[from].clone());
        s.send(to, sends[to].clone());
    }
}

// ---------------------------------------------------------------------------------------
// Scans

/// Inclusive scan (recursive doubling); `out` holds this rank's input on entry.
pub fn scan(s: &mut Schedule, out: &Data, commutative: bool) {
    let (r, n) = (s.team().rank, s.team().size());
    let partial = s.scratch_typed(out.count, &out.dt);
    let tmp = s.scratch_typed(out.count, &out.dt);
    s.copy(out.clone(), partial.clone());
    let mut mask = 1;
    while mask < n {
        let dst = r ^ mask;
        if dst < n {
            s.step();
            s.send(dst, partial.clone());
            s.recv(dst, tmp.clone());
            if r > dst {
                s.reduce(tmp.ptr, partial.clone());
                s.reduce(tmp.ptr, out.clone());
            } else {
                combine_right(s, &partial, &tmp, commutative);
            }
        }
        mask <<= 1;
    }
}

/// Exclusive scan; `input` is this rank's contribution, `out` gets the result (undefined
/// at rank 0).
pub fn exscan(s: &mut Schedule, input: &Data, out: &Data, commutative: bool) {
    let (r, n) = (s.team().rank, s.team().size());
    let partial = s.scratch_typed(input.count, &input.dt);
    let tmp = s.scratch_typed(input.count, &input.dt);
    s.copy(input.clone(), partial.clone());
    let mut have = false;
    let mut mask = 1;
    while mask < n {
        let dst = r ^ mask;
        if dst < n {
            s.step();
            s.send(dst, partial.clone());
            s.recv(dst, tmp.clone());
            if r > dst {
                s.reduce(tmp.ptr, partial.clone());
                if have {
                    s.reduce(tmp.ptr, out.clone());
                } else {
                    s.copy(tmp.clone(), out.clone());
                    have = true;
                }
            } else {
                combine_right(s, &partial, &tmp, commutative);
            }
        }
        mask <<= 1;
    }
}
