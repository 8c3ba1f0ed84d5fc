//! A message buffer as an operation sees it: user address, count, datatype. Packing and
//! unpacking walk the datatype's runs; contiguous data is copied in one piece.

use crate::datatype::Datatype;
use crate::transport::mem::UserPtr;
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
}

impl Data {
    pub fn new(ptr: UserPtr, count: u64, dt: TypeKeep) -> Self {
        Data { ptr, count, dt }
    }

    /// The bytes of a library-owned buffer an internal send reads (MPI_BYTE). The caller
    /// keeps `buf` alive and untouched until the operation completes (see `UserPtr::of`).
    pub fn of_bytes(buf: &[u8]) -> Self {
        let n = buf.len() as u64;
        Data::new(
            UserPtr::of(buf),
            n,
            TypeKeep::Static(crate::datatype::byte()),
        )
    }

    /// `of_bytes` for a buffer an internal receive writes into.
    pub fn of_bytes_mut(buf: &mut [u8]) -> Self {
        let n = buf.len() as u64;
        Data::new(
            UserPtr::of_mut(buf),
            n,
            TypeKeep::Static(crate::datatype::byte()),
        )
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
