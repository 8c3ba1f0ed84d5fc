//! Matching: the posted-receive and unexpected-message queues. Both keep arrival order, so
//! the first match is the oldest, which gives MPI's non-overtaking rule per (source,
//! communicator) as long as the transport delivers each sender's messages in order.

use super::request::ReqId;
use std::collections::VecDeque;

pub const ANY_SOURCE: i32 = -2;
pub const ANY_TAG: i32 = -1;

/// The tag of control notices nobody posts a receive for (ULFM's revoke: `ft::revoke`).
pub const CONTROL_TAG: i32 = (1 << 30) + (1 << 28) - 1;
/// Set when a message with `CONTROL_TAG` was queued: lets the poller that takes them skip
/// the queue scan when none came.
pub static CONTROL_ARRIVED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

#[derive(Clone, Copy, Debug)]
pub struct Posted {
    pub ctx: u32,
    pub src: i32,
    pub tag: i32,
    pub req: ReqId,
}

/// The bytes of an eager message that arrived before its receive. Up to [`INLINE_BYTES`]
/// live in the queue entry itself: the small messages of a bandwidth window, which
/// mostly arrive before their receives, then cost no allocation and no free.
#[derive(Debug)]
pub enum Bytes {
    Inline { len: u8, buf: [u8; INLINE_BYTES] },
    Heap(Vec<u8>),
}

/// The largest message [`Bytes`] keeps inline (the 1-32 B range of small-message benchmarks).
pub const INLINE_BYTES: usize = 32;

impl Bytes {
    /// A copy of `b`.
    #[inline]
    pub fn copy_of(b: &[u8]) -> Bytes {
        if b.len() <= INLINE_BYTES {
            let mut buf = [0u8; INLINE_BYTES];
            buf[..b.len()].copy_from_slice(b);
            Bytes::Inline {
                len: b.len() as u8,
                buf,
            }
        } else {
            Bytes::Heap(b.to_vec())
        }
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes::Heap(v)
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Inline { len, buf } => &buf[..*len as usize],
            Bytes::Heap(v) => v,
        }
    }
}

/// What an unexpected message carries until it is matched.
#[derive(Debug)]
pub enum Body {
    /// The data itself (eager or self message).
    Data(Bytes),
    /// A rendezvous announcement: the data is still at the sender.
    Rts {
        ep: u32,
        sreq: u64,
        addr: u64,
        cma: bool,
    },
}

#[derive(Debug)]
pub struct Unexpected {
    pub ctx: u32,
    pub src: i32,
    pub tag: i32,
    pub len: u64,
    pub body: Body,
    /// Synchronous send to acknowledge when matched: (endpoint, sender request).
    pub sync: Option<(u32, u64)>,
    /// A piece of a partitioned transfer.
    pub part: Option<Piece>,
    /// The send it comes from: (sender endpoint, the sender's request on the wire), for
    /// MPI_Cancel of that send; None when the sender cannot cancel it.
    pub origin: Option<(u32, u64)>,
}

/// One partition of a partitioned send: where it lands in the receive buffer, and (for
/// zero-byte transfers, where bytes cannot tell) its index among the sender's `parts`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Piece {
    pub off: u64,
    pub index: u64,
    pub parts: u64,
    /// The pair of partitioned requests it belongs to: partitioned requests pair in the
    /// order they were initialised, per (communicator, peer, tag), so the k-th
    /// MPI_Psend_init matches the k-th MPI_Precv_init; this is k (wrapping).
    pub pair: u16,
}

/// Does a receive for (`ctx`, `src`, `tag`) match a message of (`mctx`, `msrc`, `mtag`)?
#[inline]
pub(in crate::p2p) fn matches(
    ctx: u32,
    src: i32,
    tag: i32,
    mctx: u32,
    msrc: i32,
    mtag: i32,
) -> bool {
    ctx == mctx && (src == ANY_SOURCE || src == msrc) && (tag == ANY_TAG || tag == mtag)
}

#[derive(Default)]
pub struct Queues {
    pub posted: VecDeque<Posted>,
    pub unexpected: VecDeque<Unexpected>,
}

impl Queues {
    /// Queues a message that arrived before its receive: raises the queue's high-water
    /// mark and the MPI_T event "unexpected_message".
    #[inline]
    pub fn push_unexpected(&mut self, m: Unexpected) {
        if m.tag == CONTROL_TAG {
            CONTROL_ARRIVED.store(true, std::sync::atomic::Ordering::Release);
        }
        crate::tool::event::emit(
            crate::tool::event::Kind::Unexpected,
            m.src,
            m.tag,
            m.len as i64,
        );
        self.unexpected.push_back(m);
        crate::tool::counters::UNEXPECTED_HWM.max(self.unexpected.len() as u64);
    }

    /// Removes and returns the oldest posted receive that matches an arriving message.
    /// Always inlined (into the eager path): the expected receive costs no call (issue 13:
    /// the call and its 24-byte result through memory were ~20 of its ~45 instructions).
    #[inline(always)]
    pub fn take_posted(&mut self, ctx: u32, src: i32, tag: i32) -> Option<Posted> {
        // The oldest posted receive is the expected one (a window of receives in the order
        // their messages come): checked alone first, without the deque iterator's set-up
        // over its two slices.
        let p = self.posted.front()?;
        if matches(p.ctx, p.src, p.tag, ctx, src, tag) {
            return self.posted.pop_front();
        }
        self.take_posted_later(ctx, src, tag)
    }

    /// `take_posted` past the oldest posted receive.
    #[inline(never)]
    fn take_posted_later(&mut self, ctx: u32, src: i32, tag: i32) -> Option<Posted> {
        let i = self
            .posted
            .iter()
            .skip(1)
            .position(|p| matches(p.ctx, p.src, p.tag, ctx, src, tag))?;
        self.posted.remove(i + 1)
    }

    /// Takes unexpected message `i` (an index from [`Self::find_unexpected`]); the oldest,
    /// the common case, leaves the queue's front without moving the others.
    #[inline]
    pub fn take_unexpected(&mut self, i: usize) -> Option<Unexpected> {
        if i == 0 {
            self.unexpected.pop_front()
        } else {
            self.unexpected.remove(i)
        }
    }

    /// Drops unexpected message `i`, whose data a receive copied where it lay. Only its
    /// body owns memory, so only the body is moved out of the queue: dropping the whole
    /// entry (`drop(take_unexpected(i))`) copied its ~150 bytes first, which LLVM made a
    /// call to memcpy in MPI_Recv's straight line (issue 13: ~30 instructions a receive).
    #[inline]
    pub fn drop_unexpected(&mut self, i: usize) {
        if let Some(Unexpected { body, .. }) = self.take_unexpected(i) {
            drop(body);
        }
    }

    /// Index of the oldest unexpected message a receive (ctx, src, tag) matches. Always
    /// inlined, the search past the head is not (`find_unexpected_behind`).
    #[inline(always)]
    pub fn find_unexpected(&self, ctx: u32, src: i32, tag: i32) -> Option<usize> {
        // A receive posted before its message (a window's receives) finds the queue empty:
        // no iterator set-up over the deque's two slices.
        let m = self.unexpected.front()?;
        // The oldest message is the one a receive of queued messages in their order (a
        // receiver that fell behind its sender) takes: checked alone first, without the
        // iterator's set-up, as `take_posted` does (issue 13).
        if matches(ctx, src, tag, m.ctx, m.src, m.tag) {
            return Some(0);
        }
        self.find_unexpected_behind(ctx, src, tag)
    }

    /// `find_unexpected` past the queue's head (which does not match).
    #[inline(never)]
    fn find_unexpected_behind(&self, ctx: u32, src: i32, tag: i32) -> Option<usize> {
        self.unexpected
            .iter()
            .skip(1)
            .position(|m| matches(ctx, src, tag, m.ctx, m.src, m.tag))
            .map(|i| i + 1)
    }

    /// Removes the newest unexpected message of send `origin` with envelope (ctx, src, tag)
    /// (a cancelled send); true if it was there, i.e. not matched yet. The newest: a request
    /// id on the wire is reused once its request is gone, and the live request sent last.
    pub fn take_sent(&mut self, origin: (u32, u64), ctx: u32, src: i32, tag: i32) -> bool {
        let i = self.unexpected.iter().rposition(|m| {
            m.origin == Some(origin) && m.ctx == ctx && m.src == src && m.tag == tag
        });
        i.and_then(|i| self.unexpected.remove(i)).is_some()
    }

    pub fn remove_posted(&mut self, req: ReqId) -> bool {
        match self.posted.iter().position(|p| p.req == req) {
            Some(i) => {
                self.posted.remove(i);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(src: i32, tag: i32) -> Unexpected {
        Unexpected {
            ctx: 0,
            src,
            tag,
            len: 0,
            body: Body::Data(Vec::new().into()),
            sync: None,
            part: None,
            origin: None,
        }
    }

    #[test]
    fn bytes_inline_up_to_the_limit_then_on_the_heap() {
        for n in [0, 1, 8, INLINE_BYTES, INLINE_BYTES + 1, 1000] {
            let src: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let b = Bytes::copy_of(&src);
            assert_eq!(&*b, &src[..], "{n} bytes");
            assert_eq!(
                matches!(b, Bytes::Inline { .. }),
                n <= INLINE_BYTES,
                "{n} bytes"
            );
        }
        assert_eq!(&*Bytes::from(vec![1, 2, 3]), &[1, 2, 3]);
    }

    #[test]
    fn taking_by_index_keeps_the_order_of_the_rest() {
        let mut q = Queues::default();
        for t in 0..4 {
            q.unexpected.push_back(msg(1, t));
        }
        assert_eq!(q.take_unexpected(0).unwrap().tag, 0);
        assert_eq!(q.take_unexpected(1).unwrap().tag, 2);
        let rest: Vec<i32> = q.unexpected.iter().map(|m| m.tag).collect();
        assert_eq!(rest, [1, 3]);
        assert!(q.take_unexpected(5).is_none());
    }

    #[test]
    fn wildcards_take_the_oldest_match() {
        let mut q = Queues::default();
        q.unexpected.push_back(msg(1, 5));
        q.unexpected.push_back(msg(2, 6));
        q.unexpected.push_back(msg(1, 7));
        assert_eq!(q.find_unexpected(0, ANY_SOURCE, ANY_TAG), Some(0));
        assert_eq!(q.find_unexpected(0, 2, ANY_TAG), Some(1));
        assert_eq!(q.find_unexpected(0, ANY_SOURCE, 7), Some(2));
        assert_eq!(q.find_unexpected(1, ANY_SOURCE, ANY_TAG), None);
        q.posted.push_back(Posted {
            ctx: 0,
            src: ANY_SOURCE,
            tag: 3,
            req: ReqId(1),
        });
        q.posted.push_back(Posted {
            ctx: 0,
            src: 4,
            tag: ANY_TAG,
            req: ReqId(2),
        });
        assert_eq!(q.take_posted(0, 4, 3).unwrap().req, ReqId(1));
        assert_eq!(q.take_posted(0, 4, 3).unwrap().req, ReqId(2));
        assert!(q.take_posted(0, 4, 3).is_none());
    }
}
