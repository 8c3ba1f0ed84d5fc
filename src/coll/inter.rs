//! Collectives on intercommunicators (MPI 4.1 chapter 6), as MPICH builds them: phases
//! inside one group run the intracommunicator algorithms of `algo` over the local group
//! (its own context, see `abi::coll::team`), and the groups meet through their leaders
//! (local rank 0) or through direct transfers between the groups.
//!
//! Rooted operations: in the root's group the root passes MPI_ROOT and the others
//! MPI_PROC_NULL (they take no part); every rank of the other group passes the root's rank
//! in the remote group. The callers sort that out and call the `*_root` / `*_leaf` halves.

use super::algo::{self, Buf};
use super::sched::{byte_type, Schedule};
use crate::p2p::Data;
use crate::transport::mem::UserPtr;

/// Local barrier, the leaders exchange an empty message, then the leader releases its
/// group: nobody leaves before everybody in both groups has entered.
pub fn barrier(s: &mut Schedule) {
    algo::barrier(s);
    let empty = Data::new(UserPtr::empty(), 0, byte_type());
    s.step();
    if s.team().rank == 0 {
        s.send_remote(0, empty.clone());
        s.recv_remote(0, empty.clone());
    }
    algo::bcast_binomial(s, &empty, 0);
}

/// The root sends to the leader of the other group.
pub fn bcast_root(s: &mut Schedule, d: &Data) {
    s.step();
    s.send_remote(0, d.clone());
}

/// The other group: its leader receives from remote rank `root`, then broadcasts locally.
pub fn bcast_leaf(s: &mut Schedule, d: &Data, root: usize) {
    s.step();
    if s.team().rank == 0 {
        s.recv_remote(root, d.clone());
    }
    algo::bcast(s, d, 0);
}

/// The root receives `recvs[i]` from remote rank i, all at once.
pub fn gather_root(s: &mut Schedule, recvs: &[Data]) {
    s.step();
    for (i, d) in recvs.iter().enumerate() {
        s.recv_remote(i, d.clone());
    }
}

/// A rank of the other group sends its part to the remote root.
pub fn gather_leaf(s: &mut Schedule, mine: &Data, root: usize) {
    s.step();
    s.send_remote(root, mine.clone());
}

/// The root sends `sends[i]` to remote rank i, all at once.
pub fn scatter_root(s: &mut Schedule, sends: &[Data]) {
    s.step();
    for (i, d) in sends.iter().enumerate() {
        s.send_remote(i, d.clone());
    }
}

pub fn scatter_leaf(s: &mut Schedule, mine: &Data, root: usize) {
    s.step();
    s.recv_remote(root, mine.clone());
}

/// Every rank sends its block to every rank of the other group and receives block i from
/// remote rank i. Direct transfers suit the v-form too: a leader could not know how much
/// each member of its group contributes.
pub fn allgather(s: &mut Schedule, mine: &Data, blocks: &[Data]) {
    let (r, n) = (s.team().rank, blocks.len());
    s.step();
    // Start at a different partner on each rank so the receivers share the load.
    for k in 0..n {
        let j = (r + k) % n;
        s.recv_remote(j, blocks[j].clone());
    }
    for k in 0..n {
        s.send_remote((r + k) % n, mine.clone());
    }
}

/// `sends[j]` goes to remote rank j and `recvs[j]` comes from it. Large exchanges go one
/// partner per round, like the intracommunicator pairwise exchange.
pub fn alltoall(s: &mut Schedule, sends: &[Data], recvs: &[Data]) {
    let (r, n) = (s.team().rank, recvs.len());
    let total: u64 = sends.iter().map(|d| d.bytes()).sum();
    let pairwise = total >= algo::LARGE;
    s.step();
    for k in 0..n {
        if pairwise {
            s.step();
        }
        let j = (r + k) % n;
        s.recv_remote(j, recvs[j].clone());
        s.send_remote(j, sends[j].clone());
    }
}

/// Reduces `input` over the local group into a scratch buffer at the leader (rank order,
/// so non-commutative ops work); returns that buffer (meaningful at the leader only).
fn local_reduce(s: &mut Schedule, input: &Data, commutative: bool) -> Data {
    let acc = if s.team().rank == 0 {
        s.scratch_typed(input.count, &input.dt)
    } else {
        input.clone()
    };
    algo::reduce(s, input, &acc, 0, commutative);
    s.step();
    acc
}

/// The root receives the other group's reduction from its leader.
pub fn reduce_root(s: &mut Schedule, out: &Data) {
    s.step();
    s.recv_remote(0, out.clone());
}

/// The other group reduces to its leader, which sends the result to remote rank `root`.
pub fn reduce_leaf(s: &mut Schedule, input: &Data, root: usize, commutative: bool) {
    let acc = local_reduce(s, input, commutative);
    if s.team().rank == 0 {
        s.send_remote(root, acc);
    }
}

/// Each group reduces to its leader, the leaders swap results, and each leader broadcasts
/// the other group's result over its own group.
pub fn allreduce(s: &mut Schedule, input: &Data, out: &Data, commutative: bool) {
    let acc = local_reduce(s, input, commutative);
    if s.team().rank == 0 {
        s.send_remote(0, acc);
        s.recv_remote(0, out.clone());
    }
    algo::bcast(s, out, 0);
}

/// Reduce-scatter: the reduction of the other group's `input` (`rcounts` summed elements)
/// is scattered over this group, `rcounts[i]` elements to local rank i.
pub fn reduce_scatter(
    s: &mut Schedule,
    input: &Data,
    out: &Data,
    rcounts: &[u64],
    commutative: bool,
) {
    let acc = local_reduce(s, input, commutative);
    let leader = s.team().rank == 0;
    let mut blocks = Vec::new();
    if leader {
        let theirs = s.scratch_typed(input.count, &input.dt);
        s.send_remote(0, acc);
        s.recv_remote(0, theirs.clone());
        let b = Buf::of(&theirs);
        let mut at = 0;
        for &c in rcounts {
            blocks.push(b.at(at, c));
            at += c;
        }
    }
    let (mine, own) = if leader {
        (None, Some((blocks[0].clone(), out.clone())))
    } else {
        (Some(out.clone()), None)
    };
    algo::scatter(s, 0, mine, blocks, own);
}
