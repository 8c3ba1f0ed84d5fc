//! A message buffer as an operation sees it: user address, count, datatype. Packing and
//! unpacking walk the datatype's runs; contiguous data is copied in one piece.
//!
//! The address is the user's (valid until the operation completes: MPI's contract, which
//! the C surface asserts when it makes the `UserPtr`) or the library's own bytes, which the
//! `Data` then keeps alive itself (`keep`): an internal operation cannot outlive its buffer
//! whatever path the code that started it takes.

use crate::datatype::Datatype;
use crate::transport::mem::{OwnedBytes, UserPtr};
use std::ops::Deref;
use std::sync::Arc;

/// A datatype kept alive for the life of an operation.
#[derive(Clone, Debug)]
pub enum TypeKeep {
    Static(&'static Datatype),
    Shared(Arc<Datatype>),
}

impl Deref for TypeKeep {
    type Target = Datatype;
    #[inline]
    fn deref(&self) -> &Datatype {
        match self {
            TypeKeep::Static(d) => d,
            TypeKeep::Shared(d) => d,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Data {
    pub ptr: UserPtr,
    pub count: u64,
    pub dt: TypeKeep,
    /// The library-owned block `ptr` points into, held for as long as the data is (None:
    /// user memory).
    pub keep: Option<OwnedBytes>,
}

impl Data {
    /// User memory (or none: `UserPtr::empty` with nothing to move).
    pub fn new(ptr: UserPtr, count: u64, dt: TypeKeep) -> Self {
        Data {
            ptr,
            count,
            dt,
            keep: None,
        }
    }

    /// `count` elements of `dt` in the library-owned `block`, starting `off` bytes into it
    /// (negative for a type whose lower bound is below zero). The data holds the block.
    pub fn owned(block: OwnedBytes, off: i64, count: u64, dt: TypeKeep) -> Self {
        Data {
            ptr: block.ptr().offset(off),
            count,
            dt,
            keep: Some(block),
        }
    }

    /// All of `block` as MPI_BYTE.
    pub fn owned_bytes(block: OwnedBytes) -> Self {
        let n = block.len() as u64;
        Data::owned(block, 0, n, TypeKeep::Static(crate::datatype::byte()))
    }

    /// The same memory `off` bytes further on, as `count` elements of `dt` (keeping the
    /// block, if the library owns it).
    pub fn shifted(&self, off: i64, count: u64, dt: TypeKeep) -> Self {
        Data {
            ptr: self.ptr.offset(off),
            count,
            dt,
            keep: self.keep.clone(),
        }
    }

    /// A copy of `buf` as MPI_BYTE, for an internal send: the copy lives as long as the
    /// operation, so the caller's buffer is free again at once.
    pub fn of_bytes(buf: &[u8]) -> Self {
        Data::owned_bytes(OwnedBytes::new(buf.to_vec()))
    }

    /// Total bytes of data.
    #[inline]
    pub fn bytes(&self) -> u64 {
        self.count * self.dt.size()
    }

    /// Address of the data when it is one contiguous block.
    #[inline]
    pub fn contiguous(&self) -> Option<UserPtr> {
        // The type map must also be in memory order (issue 11 class 5): a gap-free type
        // whose pieces run backwards is not plain memory.
        self.dt
            .contiguous_run(self.count)
            .map(|off| self.ptr.offset(off))
    }

    /// Copies packed bytes starting at stream offset `off` into `out`; returns bytes copied.
    #[inline]
    pub fn pack(&self, off: u64, out: &mut [u8]) -> usize {
        if let Some(p) = self.contiguous() {
            let n = (self.bytes().saturating_sub(off) as usize).min(out.len());
            p.read(off as i64, &mut out[..n]);
            return n;
        }
        let mut n = 0;
        self.dt
            .walk(self.count, off, out.len() as u64, |boff, len, pos| {
                self.ptr
                    .read(boff, &mut out[pos as usize..(pos + len) as usize]);
                n += len as usize;
            });
        n
    }

    /// Scatters `inp` to stream offset `off`; bytes past the buffer's end are dropped.
    #[inline]
    pub fn unpack(&self, off: u64, inp: &[u8]) -> usize {
        if let Some(p) = self.contiguous() {
            let n = (self.bytes().saturating_sub(off) as usize).min(inp.len());
            p.write(off as i64, &inp[..n]);
            return n;
        }
        let mut n = 0;
        self.dt
            .walk(self.count, off, inp.len() as u64, |boff, len, pos| {
                self.ptr
                    .write(boff, &inp[pos as usize..(pos + len) as usize]);
                n += len as usize;
            });
        n
    }

    /// The (address, length) pieces of the stream range `[off, off + max)`.
    pub fn pieces(&self, off: u64, max: u64, mut f: impl FnMut(UserPtr, usize)) {
        if let Some(p) = self.contiguous() {
            let n = self.bytes().saturating_sub(off).min(max);
            if n > 0 {
                f(p.offset(off as i64), n as usize);
            }
            return;
        }
        self.dt.walk(self.count, off, max, |boff, len, _| {
            f(self.ptr.offset(boff), len as usize)
        });
    }
}

/// A small message in one contiguous run of the sender's memory, with its envelope: what
/// the engine's straight-line send takes (`Engine::try_isend_small`, issue 13) instead of
/// a [`Data`] and its datatype, which such a send never needs.
#[derive(Clone, Copy, Debug)]
pub struct Small<'a> {
    /// Destination endpoint.
    pub ep: u32,
    pub ctx: u32,
    /// My rank in the communicator (what the receiver sees as MPI_SOURCE).
    pub src: i32,
    pub tag: i32,
    /// Opaque owner recorded for MPI_Cancel (see `Req::owner`).
    pub owner: i32,
    pub bytes: &'a [u8],
}
