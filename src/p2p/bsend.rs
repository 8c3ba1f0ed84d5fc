//! The buffer attached for buffered-mode sends. A Bsend packs its message into a free
//! region of that buffer (plus MPI_BSEND_OVERHEAD of bookkeeping, as the standard
//! accounts it) and sends from there; the region is reused once that send completes.

use super::data::{Data, TypeKeep};
use super::request::ReqId;
use crate::transport::mem::UserPtr;

pub const OVERHEAD: usize = 96;

#[derive(Debug)]
struct Segment {
    off: usize,
    len: usize,
    req: ReqId,
}

#[derive(Debug, Default)]
pub struct BsendBuffer {
    base: Option<UserPtr>,
    size: usize,
    /// Regions in use, ordered by offset.
    used: Vec<Segment>,
    /// MPI_BUFFER_AUTOMATIC: messages are copied to the heap instead.
    automatic: bool,
    /// Sends of an automatic buffer still in flight.
    heap: Vec<ReqId>,
}

impl BsendBuffer {
    pub fn attached(&self) -> Option<(UserPtr, usize)> {
        self.base.map(|b| (b, self.size))
    }

    pub fn is_automatic(&self) -> bool {
        self.automatic
    }

    pub fn attach(&mut self, base: UserPtr, size: usize, automatic: bool) -> bool {
        if self.base.is_some() {
            return false;
        }
        self.base = Some(base);
        self.size = size;
        self.automatic = automatic;
        true
    }

    /// Detaches (the caller has waited for `in_use()` to be empty): base, size, automatic.
    pub fn detach(&mut self) -> Option<(UserPtr, usize, bool)> {
        let r = self.attached().map(|(b, s)| (b, s, self.automatic));
        self.base = None;
        self.size = 0;
        self.automatic = false;
        r
    }

    /// Remembers a heap-buffered send of an automatic buffer (for flushes).
    pub fn track(&mut self, req: ReqId) {
        self.heap.push(req);
    }

    pub fn in_use(&self) -> impl Iterator<Item = ReqId> + '_ {
        self.used
            .iter()
            .map(|s| s.req)
            .chain(self.heap.iter().copied())
    }

    /// Forgets the regions of completed sends.
    pub fn reclaim(&mut self, done: impl Fn(ReqId) -> bool) {
        self.used.retain(|s| !done(s.req));
        self.heap.retain(|r| !done(*r));
    }

    /// Finds room for `bytes` of packed data; returns the offset of the data.
    pub fn reserve(&mut self, bytes: usize) -> Option<usize> {
        self.base?;
        let need = bytes + OVERHEAD;
        let mut at = 0;
        let mut pos = self.used.len();
        for (i, s) in self.used.iter().enumerate() {
            if s.off >= at + need {
                pos = i;
                break;
            }
            at = s.off + s.len;
        }
        if pos == self.used.len() && at + need > self.size {
            return None;
        }
        self.used.insert(
            pos,
            Segment {
                off: at,
                len: need,
                req: ReqId(u32::MAX),
            },
        );
        Some(at + OVERHEAD)
    }

    /// Binds the region reserved at data offset `off` to the send `req`.
    pub fn bind(&mut self, off: usize, req: ReqId) {
        if let Some(s) = self.used.iter_mut().find(|s| s.off + OVERHEAD == off) {
            s.req = req;
        }
    }

    /// Packs `src` into the region at `off` and describes it as bytes to send.
    pub fn stage(&self, off: usize, src: &Data, bytes_type: TypeKeep) -> Data {
        let base = self.base.expect("attached").offset(off as i64);
        let n = src.bytes() as usize;
        base.with_slice_mut(0, n, |dst| src.pack(0, dst));
        Data::new(base, n as u64, bytes_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fit_and_reuse() {
        let mem = crate::transport::mem::OwnedBytes::zeroed(1000);
        let mut b = BsendBuffer::default();
        assert!(b.attach(mem.ptr(), mem.len(), false));
        let a = b.reserve(300).unwrap();
        b.bind(a, ReqId(1));
        let c = b.reserve(300).unwrap();
        b.bind(c, ReqId(2));
        assert_eq!((a, c), (OVERHEAD, 2 * OVERHEAD + 300));
        assert!(
            b.reserve(300).is_none(),
            "1000 bytes hold two 300-byte messages with overhead"
        );
        b.reclaim(|r| r == ReqId(1));
        assert_eq!(b.reserve(300), Some(OVERHEAD));
    }
}
