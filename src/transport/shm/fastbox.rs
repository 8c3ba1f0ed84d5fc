//! Fast boxes: one single-message slot per ordered pair of local ranks, polled by the
//! receiver before its queue. A small message then costs the sender one box write and one
//! flag store, and the receiver one flag load — no queue atomics, no cell travelling back —
//! which is where the small-message latency went (issue 13). The idea is Open MPI's `sm`
//! BTL fast boxes and MPICH's ch4 `posix` fastbox (eager/fbox): a per-pair region in the
//! node segment that the receiver polls first.
//!
//! A box is laid out like a cell (see `layout`): line 0 holds the *full* flag (where a cell
//! has its link), the length and the 48 header bytes; the payload follows. The protocol is
//! single-producer / single-consumer on the flag:
//!
//! * sender: `is_free` (Acquire: the receiver's reads of the previous message happen before
//!   our writes), write length, header, payload, `publish` (Release), then the doorbell's
//!   `notify` (it rings only a sleeping receiver).
//! * receiver: `is_full` (Acquire: the sender's writes are visible), read, `clear` (Release).
//!
//! Only one thread per process writes a given box (the sender's `local` lock in `segment`)
//! and only one polls it (the receiver's `rx` lock), so the flag is the whole protocol.
//!
//! FIFO per sender across box and queue (MPI's non-overtaking rule) rests on two rules in
//! `segment`:
//! 1. A sender uses its box to `dst` only when none of its cells queued to `dst` is still
//!    out: it takes back released cells first, and a cell is released only after `dst`
//!    dequeued it. So a boxed message is never older than a message still in the queue.
//! 2. A boxed message can be older than a queued one (the box was full, the next message
//!    went to the queue). The receiver checks the boxes before the queue, but it may read a
//!    box as empty just before the sender fills it and then dequeue the newer cell. So after
//!    every dequeue from sender `s` it looks at `s`'s box again: the dequeue's acquire makes
//!    the older box write visible, and if the box is full the box goes first and the cell
//!    is *deferred* to the next poll (by rule 1 no newer box message can appear while that
//!    cell is unreleased).

use std::sync::atomic::{AtomicU32, Ordering};

/// May the sender write the box? (Acquire pairs with the receiver's `clear`.)
#[inline]
pub(crate) fn is_free(full: &AtomicU32) -> bool {
    full.load(Ordering::Acquire) == 0
}

/// Hands the written box to the receiver (Release pairs with its `is_full`).
#[inline]
pub(crate) fn publish(full: &AtomicU32) {
    full.store(1, Ordering::Release);
}

/// Does the box hold a message? (Acquire pairs with the sender's `publish`.)
#[inline]
pub(crate) fn is_full(full: &AtomicU32) -> bool {
    full.load(Ordering::Acquire) != 0
}

/// Gives the read box back to the sender (Release pairs with its `is_free`).
#[inline]
pub(crate) fn clear(full: &AtomicU32) {
    full.store(0, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::UnsafeCell;
    use std::sync::Arc;

    /// A box on the heap: the flag and a payload of plain (non-atomic) words.
    struct Slot {
        full: AtomicU32,
        words: UnsafeCell<[u64; 8]>,
    }
    // SAFETY (test): `words` is written only while `full` is 0 by the one producer and read
    // only while it is 1 by the one consumer; the flag's release/acquire orders them.
    unsafe impl Sync for Slot {}

    /// Two threads hand 200k messages through one box: every message arrives once, in
    /// order, with every word the sender wrote (a torn or early read would show as a word
    /// of another message).
    #[test]
    fn two_threads_hand_over_in_order_without_tearing() {
        const N: u64 = 200_000;
        let slot = Arc::new(Slot {
            full: AtomicU32::new(0),
            words: UnsafeCell::new([0; 8]),
        });
        let tx = Arc::clone(&slot);
        let producer = std::thread::spawn(move || {
            for k in 1..=N {
                while !is_free(&tx.full) {
                    std::hint::spin_loop();
                }
                // SAFETY (test): the box is empty, so the consumer does not read it.
                unsafe { *tx.words.get() = [k; 8] };
                publish(&tx.full);
            }
        });
        for k in 1..=N {
            while !is_full(&slot.full) {
                std::hint::spin_loop();
            }
            // SAFETY (test): the box is full, so the producer does not write it.
            let got = unsafe { *slot.words.get() };
            assert_eq!(got, [k; 8], "message {k}");
            clear(&slot.full);
        }
        producer.join().unwrap();
        assert!(is_free(&slot.full));
    }
}
