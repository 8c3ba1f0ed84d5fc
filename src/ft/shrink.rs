//! MPIX_Comm_shrink's protocol: the survivors of a communicator agree on who survives and
//! on a context id for their new communicator, through failures that happen meanwhile.
//!
//! It is the context-id agreement of `comm_build::create` (each member proposes the lowest
//! id free in its process, the largest proposal wins, then all check that every one could
//! take it, else retry above it), with each exchange a fault-tolerant agreement
//! (`agree::Agreement`) instead of an allreduce: the first agreement of a round decides the
//! candidate id (MAX of the values) and the failed members (union), the second whether every
//! survivor took the candidate (AND of the flags). A state machine (`steps::Steps`), so
//! MPIX_Comm_ishrink runs the same code in the background.

use super::agree::{self, Agreement, Members, Vote};
use crate::error::MpiError;
use crate::object::context::STRIDE;
use crate::p2p::ReqId;
use crate::runtime::Runtime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Agreeing on the candidate id and the failed members.
    Propose,
    /// Agreeing on whether every survivor took the candidate.
    Check,
}

/// The outcome: the new communicator's context id (taken in this process) and, per member
/// of the old one, whether it is left out as failed.
#[derive(Clone, Debug)]
pub struct Shrunk {
    pub context: u32,
    pub failed: Vec<bool>,
}

pub struct Shrink {
    rt: &'static Runtime,
    m: Members,
    /// The ULFM call number this shrink draws its agreement numbers from.
    call: u32,
    /// Agreements started so far.
    k: u32,
    phase: Phase,
    a: Agreement,
    candidate: u32,
    took: bool,
    failed: Vec<bool>,
}

fn failed_now(m: &Members) -> Vec<bool> {
    m.eps.iter().map(|&p| super::is_failed(p)).collect()
}

impl Shrink {
    pub fn new(rt: &'static Runtime, m: Members, call: u32) -> Shrink {
        let mine = rt.contexts.lock().lowest_free(0);
        let vote = Vote {
            flag: 1,
            value: mine,
            failed: failed_now(&m),
        };
        let a = Agreement::new(&rt.engine, m.clone(), agree::seq(call, 0), vote);
        Shrink {
            rt,
            m,
            call,
            k: 0,
            phase: Phase::Propose,
            a,
            candidate: 0,
            took: false,
            failed: Vec::new(),
        }
    }

    /// Starts the next agreement of this shrink with `flag` and `value`.
    fn next(&mut self, flag: u32, value: u32) -> Result<(), MpiError> {
        self.k += 1;
        if self.k >= agree::PER_CALL {
            return Err(MpiError::intern(format!(
                "shrink: no context id agreed after {} agreements",
                self.k
            )));
        }
        let vote = Vote {
            flag,
            value,
            failed: failed_now(&self.m),
        };
        self.a = Agreement::new(
            &self.rt.engine,
            self.m.clone(),
            agree::seq(self.call, self.k),
            vote,
        );
        Ok(())
    }
}

impl super::steps::Steps for Shrink {
    type Out = Shrunk;

    fn step(&mut self) -> Result<Option<Shrunk>, MpiError> {
        loop {
            let Some(d) = self.a.step()? else {
                return Ok(None);
            };
            match self.phase {
                Phase::Propose => {
                    self.candidate = crate::object::context::agreed(d.value)?;
                    self.took = self.rt.contexts.lock().try_take(self.candidate);
                    self.failed = d.failed;
                    self.phase = Phase::Check;
                    self.next(self.took as u32, 0)?;
                }
                Phase::Check => {
                    if d.flag == 1 {
                        // Every survivor took it, this process too: it is ours now.
                        self.took = false;
                        return Ok(Some(Shrunk {
                            context: self.candidate,
                            failed: std::mem::take(&mut self.failed),
                        }));
                    }
                    if self.took {
                        self.rt.contexts.lock().release(self.candidate);
                        self.took = false;
                    }
                    let floor = self.candidate + STRIDE;
                    self.phase = Phase::Propose;
                    let mine = self.rt.contexts.lock().lowest_free(floor);
                    self.next(1, mine)?;
                }
            }
        }
    }

    fn mark(&self) -> (usize, usize, usize) {
        let (a, b, c) = self.a.mark();
        (a + ((self.k as usize) << 16), b, c)
    }

    fn waiting_on(&self) -> Option<ReqId> {
        super::steps::Steps::waiting_on(&self.a)
    }

    fn abandon(&mut self) {
        super::steps::Steps::abandon(&mut self.a);
        if self.took {
            self.rt.contexts.lock().release(self.candidate);
            self.took = false;
        }
    }
}
