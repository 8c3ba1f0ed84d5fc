//! The frames a reader thread has received and the engine has not yet polled: a queue
//! plus a counter the engine reads with one atomic load on every poll (cheap on the
//! shared-memory hot path). Shared by the socket and the TCP transports.

use super::Frame;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Default)]
pub struct Inbox {
    q: Mutex<VecDeque<Frame>>,
    pending: AtomicUsize,
}

impl Inbox {
    /// Queues a frame (the reader thread then rings the doorbell).
    pub fn push(&self, f: Frame) {
        self.q.lock().push_back(f);
        self.pending.fetch_add(1, Ordering::Release);
    }

    /// True when frames wait.
    #[inline]
    pub fn has_inbound(&self) -> bool {
        self.pending.load(Ordering::Acquire) != 0
    }

    /// The oldest frame, if any.
    #[inline]
    pub fn poll(&self) -> Option<Frame> {
        if !self.has_inbound() {
            return None;
        }
        let f = self.q.lock().pop_front();
        if f.is_some() {
            self.pending.fetch_sub(1, Ordering::Release);
        }
        f
    }
}
