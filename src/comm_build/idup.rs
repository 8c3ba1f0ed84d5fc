//! MPI_Comm_idup's context-id agreement, run in the background.
//!
//! The agreement is the one of `comm_create::agree_context` (propose the lowest id free
//! here, take the largest proposal if it is free, retry higher if any member could not take
//! it), written as a state machine whose exchanges are nonblocking sends and receives over
//! a `GroupNet` (member 0 gathers, then sends the result back). The progress registry runs
//! the agreements in flight (`progress::Active`) from every wait and test, so agreements move on whenever the process makes MPI progress, and a
//! process may do other communication between MPI_Comm_idup and its MPI_Wait.
//!
//! Several agreements may be in flight at once, on the same or different parents, completed
//! in any order. Each has a tag of its own (see `comm_create::idup_net`), so their messages
//! never mix. Two agreements that keep colliding on one id would retry in lockstep with a
//! plain `+STRIDE`; after a failed round each jumps ahead by a pseudo-random number of
//! strides drawn from its own (context, tag, round), which is the same on all its members
//! and different between agreements, so collisions do not repeat.

use super::group_net::GroupNet;
use crate::error::{class, MpiError};
use crate::object::context::STRIDE;
use crate::p2p::{Data, Mode, RecvArgs, ReqId, SendArgs};
use crate::progress::{Active, Advance};
use crate::transport::mem::OwnedBytes;

/// The context id of a communicator whose MPI_Comm_idup has not completed: its handle exists
/// (MPI_Comm_idup writes it at once) but it may not be used. Never a real id (those are
/// multiples of STRIDE).
pub const PENDING_CONTEXT: u32 = u32::MAX;

/// What to do with the agreed context id (or the error) once the agreement ends. Runs
/// outside every lock, from whichever thread made the progress.
pub type Done = Box<dyn FnOnce(Result<u32, MpiError>) + Send>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Exchanging proposals: the result is the candidate id.
    Propose,
    /// Exchanging "could not take it" flags: the result is 0 if everyone took it.
    Check,
}

/// Where the current exchange (an allreduce-max of one u32) stands.
#[derive(Clone, Copy, Debug)]
enum Exchange {
    /// Only one member: the result is known.
    Ready(u32),
    /// Member 0: receiving everyone's value.
    Gather,
    /// Member 0: sending the result; done when the sends are.
    Bcast(u32),
    /// Other members: sent their value, receiving the result.
    Leaf,
}

struct Agreement {
    net: GroupNet,
    step: Step,
    floor: u32,
    round: u32,
    candidate: u32,
    took: bool,
    /// My value in the current exchange.
    mine: u32,
    ex: Exchange,
    /// Transfers of the current exchange (request, is a receive).
    reqs: Vec<(ReqId, bool)>,
    /// Blocks the current exchange receives into, 4 bytes each (held by their receives
    /// too, so a transfer abandoned after an error keeps its memory).
    inbox: Vec<OwnedBytes>,
    /// The value the current exchange sends.
    outbox: u32,
    done: Option<Done>,
}

/// The value a finished receive left in `b` (its request reaped, so the block is ours).
fn u32_of(b: &mut OwnedBytes) -> Result<u32, MpiError> {
    match b.to_vec().as_deref() {
        Some(&[a, b, c, d]) => Ok(u32::from_le_bytes([a, b, c, d])),
        _ => Err(MpiError::intern(
            "MPI_Comm_idup's agreement: a receive block is still held after it completed",
        )),
    }
}

/// The number of strides a failed agreement jumps (1..=8), from its identity and round.
fn jump(ctx: u32, tag: i32, round: u32) -> u32 {
    let mut x = ((ctx as u64) << 32 | tag as u32 as u64)
        ^ (round as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    1 + (x % 8) as u32
}

impl Agreement {
    fn new(net: GroupNet) -> Result<Self, MpiError> {
        let mut a = Agreement {
            net,
            step: Step::Propose,
            floor: 0,
            round: 0,
            candidate: 0,
            took: false,
            mine: 0,
            ex: Exchange::Ready(0),
            reqs: Vec::new(),
            inbox: Vec::new(),
            outbox: 0,
            done: None,
        };
        let first = a.net.rt.contexts.lock().lowest_free(0);
        a.start_exchange(first)?;
        Ok(a)
    }

    fn send(&self, to: usize) -> Result<ReqId, MpiError> {
        let n = &self.net;
        n.rt.engine.isend(SendArgs {
            ep: n.eps[to],
            ctx: n.ctx,
            src: n.srcs[n.me],
            tag: n.tag,
            mode: Mode::Standard,
            data: Data::owned_bytes(OwnedBytes::new(self.outbox.to_le_bytes().to_vec())),
            owner: 0,
        })
    }

    /// Posts a receive from member `from` into `inbox[slot]`.
    fn recv(&mut self, from: usize, slot: usize) -> Result<ReqId, MpiError> {
        let n = &self.net;
        Ok(n.rt.engine.irecv(RecvArgs {
            ctx: n.ctx,
            src: n.srcs[from],
            tag: n.tag,
            data: Data::owned_bytes(self.inbox[slot].clone()),
            owner: 0,
        }))
    }

    /// Starts an allreduce-max of `v` over the net.
    fn start_exchange(&mut self, v: u32) -> Result<(), MpiError> {
        self.mine = v;
        let n = self.net.eps.len();
        if n == 1 {
            self.ex = Exchange::Ready(v);
            return Ok(());
        }
        self.reqs.clear();
        if self.net.me == 0 {
            self.inbox = (1..n).map(|_| OwnedBytes::zeroed(4)).collect();
            for r in 1..n {
                let id = self.recv(r, r - 1)?;
                self.reqs.push((id, true));
            }
            self.ex = Exchange::Gather;
        } else {
            self.outbox = v;
            self.inbox = vec![OwnedBytes::zeroed(4)];
            let s = self.send(0)?;
            self.reqs.push((s, false));
            let r = self.recv(0, 0)?;
            self.reqs.push((r, true));
            self.ex = Exchange::Leaf;
        }
        Ok(())
    }

    /// Reaps finished transfers; true when none is left.
    fn transfers_done(&mut self) -> Result<bool, MpiError> {
        if self.reqs.is_empty() {
            return Ok(true);
        }
        let e = &self.net.rt.engine;
        let mut err = None;
        {
            let mut st = e.lock();
            self.reqs
                .retain(|&(id, is_recv)| match e.reap(&mut st, id) {
                    None => true,
                    Some(s) => {
                        if s.error != 0 {
                            err = Some(MpiError::new(
                                s.error,
                                "a transfer of MPI_Comm_idup's agreement failed",
                            ));
                        } else if is_recv && s.bytes != 4 {
                            err = Some(MpiError::new(
                                class::ERR_INTERN,
                                format!(
                                    "MPI_Comm_idup's agreement received {} bytes, not 4",
                                    s.bytes
                                ),
                            ));
                        }
                        false
                    }
                });
        }
        match err {
            Some(e) => Err(e),
            None => Ok(self.reqs.is_empty()),
        }
    }

    /// The result of the current exchange, if it is finished.
    fn poll_exchange(&mut self) -> Result<Option<u32>, MpiError> {
        loop {
            if !self.transfers_done()? {
                return Ok(None);
            }
            match self.ex {
                Exchange::Ready(v) | Exchange::Bcast(v) => return Ok(Some(v)),
                Exchange::Leaf => return Ok(Some(u32_of(&mut self.inbox[0])?)),
                Exchange::Gather => {
                    let mut max = self.mine;
                    for b in &mut self.inbox {
                        max = max.max(u32_of(b)?);
                    }
                    self.outbox = max;
                    for r in 1..self.net.eps.len() {
                        let id = self.send(r)?;
                        self.reqs.push((id, false));
                    }
                    self.ex = Exchange::Bcast(max);
                }
            }
        }
    }

    /// Moves the agreement on as far as it goes without blocking: the context id once
    /// every member has taken it.
    fn go(&mut self) -> Result<Option<u32>, MpiError> {
        let rt = self.net.rt;
        loop {
            let Some(r) = self.poll_exchange()? else {
                return Ok(None);
            };
            match self.step {
                Step::Propose => {
                    self.candidate = crate::object::context::agreed(r)?;
                    self.took = rt.contexts.lock().try_take(r);
                    self.step = Step::Check;
                    self.start_exchange((!self.took) as u32)?;
                }
                Step::Check => {
                    if r == 0 {
                        return Ok(Some(self.candidate));
                    }
                    if self.took {
                        rt.contexts.lock().release(self.candidate);
                        self.took = false;
                    }
                    self.round += 1;
                    self.floor =
                        self.candidate + STRIDE * jump(self.net.ctx, self.net.tag, self.round);
                    self.step = Step::Propose;
                    let next = rt.contexts.lock().lowest_free(self.floor);
                    self.start_exchange(next)?;
                }
            }
        }
    }

    /// Gives up after an error: gives back a tentatively taken id, and lets transfers
    /// still in flight finish in the background (their receives hold their blocks).
    fn give_up(&mut self) {
        let rt = self.net.rt;
        if self.took {
            rt.contexts.lock().release(self.candidate);
            self.took = false;
        }
        if !self.reqs.is_empty() {
            for (id, _) in self.reqs.drain(..) {
                rt.engine.free(id);
            }
        }
    }
}

impl Advance for Agreement {
    type Output = u32;

    fn advance(&mut self) -> Result<Option<u32>, MpiError> {
        self.go()
    }

    fn mark(&self) -> (usize, usize, usize) {
        (self.step as usize, self.round as usize, self.reqs.len())
    }

    fn abandon(&mut self) {
        self.give_up()
    }

    fn finish(mut self, r: Result<u32, MpiError>) {
        if let Some(d) = self.done.take() {
            d(r);
        }
    }
}

/// Agreements in flight, advanced in call order (agreements started in the same order on
/// every member then also try their ids in the same order).
static ACTIVE: Active<Agreement> = Active::new();

/// Starts agreeing on a context id among the members of `net` (every member must start
/// the same agreement: same net, same tag). `done` gets the id — taken in this process's
/// `runtime.contexts` — or the error; it may run before `start` returns.
pub fn start(net: GroupNet, done: Done) {
    let rt = net.rt;
    let pollers = rt.engine.pollers();
    let mut a = match Agreement::new(net) {
        Ok(a) => a,
        Err(e) => return done(Err(e)),
    };
    a.done = Some(done);
    ACTIVE.start(a, pollers);
}

#[cfg(test)]
mod tests {
    use super::jump;

    #[test]
    fn jumps_differ_between_agreements_and_rounds() {
        for r in 0..50 {
            let j = jump(8, 1 << 30, r);
            assert!((1..=8).contains(&j));
        }
        // Two agreements on one parent (tags differ by one) do not jump alike every round.
        let same = (0..20)
            .filter(|&r| jump(9, (1 << 30) + 5, r) == jump(9, (1 << 30) + 6, r))
            .count();
        assert!(same < 10, "{same} of 20 rounds jump alike");
    }
}
