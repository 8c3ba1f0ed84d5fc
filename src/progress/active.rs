//! An active list: the operations of one kind in flight (collective schedules, context-id
//! agreements), advanced in start order by the progress loop until each finishes. Written
//! once here so that every layer that runs operations in the background shares one poll
//! loop; the list registers itself in the engine's `Registry` as a `Poller`.

use super::registry::{Poller, Registry};
use crate::error::MpiError;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An operation that advances in steps.
pub trait Advance: Send + 'static {
    /// What the operation ends with.
    type Output;
    /// Goes as far as it can without blocking; Some when finished.
    fn advance(&mut self) -> Result<Option<Self::Output>, MpiError>;
    /// A value that changes whenever the operation moves (to tell the loop it did work).
    fn mark(&self) -> (usize, usize, usize);
    /// Gives up after an error (transfers in flight may finish in the background).
    fn abandon(&mut self);
    /// Reports the end, once, outside the list's lock (it may start other operations).
    fn finish(self, r: Result<Self::Output, MpiError>);
}

/// Operations of type `T` in flight.
pub struct Active<T> {
    list: Mutex<Vec<T>>,
    /// Number of operations in `list`, read without the lock by every poll.
    count: AtomicUsize,
}

impl<T: Advance> Active<T> {
    pub const fn new() -> Self {
        Active {
            list: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
        }
    }

    /// Advances `op` once; if it has not finished, it joins the list (and the list the
    /// registry, on first use) to be advanced by every wait and test.
    pub fn start(&'static self, mut op: T, registry: &Registry) {
        match op.advance() {
            Ok(Some(out)) => op.finish(Ok(out)),
            Ok(None) => {
                registry.add(self);
                let mut list = self.list.lock();
                list.push(op);
                self.count.store(list.len(), Ordering::Release);
            }
            Err(e) => {
                op.abandon();
                op.finish(Err(e));
            }
        }
    }
}

impl<T: Advance> Poller for Active<T> {
    /// Runs every operation as far as it goes, in start order (agreements started in the same
    /// order on every member then also move in the same order). Never blocks: if another
    /// thread is advancing the list, returns at once.
    fn poll(&self) -> bool {
        if self.count.load(Ordering::Acquire) == 0 {
            return false;
        }
        let Some(mut list) = self.list.try_lock() else {
            return false;
        };
        let mut did = false;
        let mut finished = Vec::new();
        let mut i = 0;
        while i < list.len() {
            let before = list[i].mark();
            match list[i].advance() {
                Ok(None) => {
                    did |= before != list[i].mark();
                    i += 1;
                }
                Ok(Some(out)) => finished.push((list.remove(i), Ok(out))),
                Err(e) => {
                    let mut op = list.remove(i);
                    op.abandon();
                    finished.push((op, Err(e)));
                }
            }
        }
        self.count.store(list.len(), Ordering::Release);
        drop(list);
        for (op, r) in finished {
            did = true;
            op.finish(r);
        }
        did
    }
}
