//! Running the fault-tolerant protocols (`agree::Agreement`, `shrink::Shrink`): both are
//! state machines that go as far as they can without blocking (`Steps`). A blocking call
//! (MPIX_Comm_agree, MPIX_Comm_shrink) steps one between waits (`run`); a nonblocking one
//! (MPIX_Comm_iagree, MPIX_Comm_ishrink) hands it to the progress engine (`start`), whose
//! every wait and test steps it until it ends, so the process can do other MPI work
//! meanwhile (mpi4py's test_ulfm calls MPI_Barrier while an iagree is in flight).

use crate::error::MpiError;
use crate::p2p::{NodeEngine, ReqId};
use crate::progress::{Active, Advance};

/// A protocol that advances in steps.
pub trait Steps: Send + 'static {
    type Out: Send;
    /// Goes as far as it can without blocking; Some when finished.
    fn step(&mut self) -> Result<Option<Self::Out>, MpiError>;
    /// A value that changes whenever the protocol moves.
    fn mark(&self) -> (usize, usize, usize);
    /// The receive it waits on now, if any.
    fn waiting_on(&self) -> Option<ReqId>;
    /// Gives up after an error.
    fn abandon(&mut self);
}

/// Steps `p` to its end, waiting in between until its receive completes or the failed set
/// changes (which may make a new coordinator, or a member it waits for no longer needed).
pub fn run<P: Steps>(e: &NodeEngine, p: &mut P) -> Result<P::Out, MpiError> {
    loop {
        match p.step() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(err) => {
                p.abandon();
                return Err(err);
            }
        }
        let seen = super::epoch();
        let id = p.waiting_on();
        e.wait_until(|_, st| {
            let done = id.is_none_or(|id| st.reqs.get(id).is_none_or(|r| r.done));
            (done || super::epoch() != seen).then_some(())
        });
    }
}

/// What to do with the result of a protocol run in the background; runs outside every
/// lock, from whichever thread made the progress.
pub type Done<T> = Box<dyn FnOnce(Result<T, MpiError>) + Send>;

/// A protocol in flight and what to do when it ends.
pub struct Job<P: Steps> {
    p: P,
    done: Option<Done<P::Out>>,
}

impl<P: Steps> Advance for Job<P> {
    type Output = P::Out;

    fn advance(&mut self) -> Result<Option<P::Out>, MpiError> {
        self.p.step()
    }

    fn mark(&self) -> (usize, usize, usize) {
        self.p.mark()
    }

    fn abandon(&mut self) {
        self.p.abandon()
    }

    fn finish(mut self, r: Result<P::Out, MpiError>) {
        if let Some(d) = self.done.take() {
            d(r);
        }
    }
}

/// Starts `p` in the background on `list`: `done` gets its result (it may run before
/// `start` returns).
pub fn start<P: Steps>(list: &'static Active<Job<P>>, e: &NodeEngine, p: P, done: Done<P::Out>) {
    list.start(
        Job {
            p,
            done: Some(done),
        },
        e.pollers(),
    );
}
