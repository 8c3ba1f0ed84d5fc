//! User memory handed to MPI calls. The C surface asserts, by constructing a `UserPtr`,
//! that the address is valid for what the operation's datatype and count describe until
//! the operation completes — MPI's contract with the caller. Everything above that
//! assertion (packing, matching, protocols) then moves bytes without `unsafe`.
//!
//! Memory the library itself lends to an operation (staging copies, scratch, the words of
//! an internal exchange) is an [`OwnedBytes`]: a heap block that the operation's `Data`
//! holds a handle to, so it lives as long as the operation can touch it (even when the
//! code that started the operation returns early), and that no Rust reference ever covers
//! while it is lent. Its owner sees the bytes again only once no operation holds it.

/// The most bytes [`copy_small`] copies.
pub const SMALL_COPY_MAX: usize = 32;

/// Copies `len` (at most [`SMALL_COPY_MAX`]) bytes without a call to `memcpy`, which
/// costs more than the copy at these sizes: word moves, the last one overlapping, as
/// memcpy's own small-size branches do. The fast box's one-line records and the
/// receiver's small unpack (`UserPtr::write_small`) use it (issue 13).
///
/// # Safety
/// `src` is readable and `dst` writable for `len` bytes; they do not overlap.
#[inline(always)]
pub unsafe fn copy_small(src: *const u8, dst: *mut u8, len: usize) {
    debug_assert!(len <= SMALL_COPY_MAX);
    // SAFETY: every access below lies in `0..len` of both buffers (by the contract). No
    // loops: LLVM would turn one back into a call to memcpy.
    unsafe {
        let word = |at: usize| (src.add(at) as *const u64).read_unaligned();
        let put = |at: usize, w: u64| (dst.add(at) as *mut u64).write_unaligned(w);
        if len >= 16 {
            // 16..=32: the first 16 and the last 16 bytes cover it.
            let (a, b, c, d) = (word(0), word(8), word(len - 16), word(len - 8));
            put(0, a);
            put(8, b);
            put(len - 16, c);
            put(len - 8, d);
        } else if len >= 8 {
            let (a, b) = (word(0), word(len - 8));
            put(0, a);
            put(len - 8, b);
        } else if len >= 4 {
            let a = (src as *const u32).read_unaligned();
            let b = (src.add(len - 4) as *const u32).read_unaligned();
            (dst as *mut u32).write_unaligned(a);
            (dst.add(len - 4) as *mut u32).write_unaligned(b);
        } else if len > 0 {
            // 1..=3: first, middle and last byte.
            dst.write(src.read());
            dst.add(len / 2).write(src.add(len / 2).read());
            dst.add(len - 1).write(src.add(len - 1).read());
        }
    }
}

/// An address in this process's memory given to an MPI operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserPtr(usize);

impl UserPtr {
    /// # Safety
    /// Every byte the operation will touch at `p + offset` (offsets the datatype and count
    /// imply) must stay valid, and unaliased by Rust references, until it completes.
    #[inline]
    pub unsafe fn new(p: *const u8) -> Self {
        UserPtr(p as usize)
    }

    /// The pointer of an operation that moves no bytes (count 0, or data MPI says to
    /// ignore): nothing is ever read or written through it, so no contract is needed.
    #[inline]
    pub fn empty() -> Self {
        UserPtr(std::ptr::NonNull::<u8>::dangling().as_ptr() as usize)
    }

    #[inline]
    pub fn addr(self) -> usize {
        self.0
    }

    #[inline]
    pub fn offset(self, off: i64) -> UserPtr {
        UserPtr(self.0.wrapping_add(off as usize))
    }

    /// Copies `dst.len()` bytes from `self + off`.
    #[inline]
    pub fn read(self, off: i64, dst: &mut [u8]) {
        if dst.is_empty() {
            return;
        }
        // SAFETY: the range lies within the operation's data (constructor contract); `dst`
        // is a distinct Rust buffer, so the copy does not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (self.0 as *const u8).offset(off as isize),
                dst.as_mut_ptr(),
                dst.len(),
            )
        }
    }

    /// Copies `src` to `self + off`.
    #[inline]
    pub fn write(self, off: i64, src: &[u8]) {
        if src.is_empty() {
            return;
        }
        // SAFETY: as in read(); the destination is writable user memory of the operation.
        unsafe {
            std::ptr::copy_nonoverlapping(
                src.as_ptr(),
                (self.0 as *mut u8).offset(off as isize),
                src.len(),
            )
        }
    }

    /// Copies `src` (at most [`SMALL_COPY_MAX`] bytes) to `self` with word moves instead
    /// of a call to memcpy ([`copy_small`]).
    #[inline(always)]
    pub fn write_small(self, src: &[u8]) {
        assert!(src.len() <= SMALL_COPY_MAX);
        // SAFETY: as in write(); `src` is a live slice of its length, and the destination
        // is writable user memory of the operation for that many bytes.
        unsafe { copy_small(src.as_ptr(), self.0 as *mut u8, src.len()) }
    }

    /// Copies `len` bytes from `src + src_off` to `self + off` (user memory to user memory;
    /// MPI forbids the send and receive buffers of one operation to overlap).
    #[inline]
    pub fn copy_from(self, off: i64, src: UserPtr, src_off: i64, len: usize) {
        if len == 0 {
            return;
        }
        // SAFETY: both ranges are covered by their operations' contracts; std::ptr::copy
        // tolerates overlap should a program break that rule.
        unsafe {
            std::ptr::copy(
                (src.0 as *const u8).offset(src_off as isize),
                (self.0 as *mut u8).offset(off as isize),
                len,
            )
        }
    }

    /// Runs `f` on a view of `len` bytes at `self + off`. The view lives only as long as
    /// the call (the closure cannot keep it), which is what the constructor's contract
    /// covers: the memory stays valid while the operation is active.
    #[inline]
    pub fn with_slice<R>(self, off: i64, len: usize, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: constructor contract; the borrow cannot escape `f`.
        f(unsafe { self.slice(off, len) })
    }

    /// `with_slice` for a writable view.
    #[inline]
    pub fn with_slice_mut<R>(self, off: i64, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: constructor contract; the borrow cannot escape `f`, and no other Rust
        // reference to the operation's memory is alive during an MPI call's copy.
        f(unsafe { self.slice_mut(off, len) })
    }

    /// A view of `len` bytes at `self + off` for reading.
    ///
    /// # Safety
    /// The range must be covered by the constructor's contract for as long as the returned
    /// slice lives (the caller picks the lifetime: keep it within the copy that needs it).
    /// For the C surface and the transports only; other layers use `with_slice`.
    #[inline]
    pub unsafe fn slice<'a>(self, off: i64, len: usize) -> &'a [u8] {
        if len == 0 {
            return &[];
        }
        // SAFETY: the caller's contract (above).
        unsafe { std::slice::from_raw_parts((self.0 as *const u8).offset(off as isize), len) }
    }

    /// A writable view of `len` bytes at `self + off`.
    ///
    /// # Safety
    /// As for `slice`, and no other reference to that memory may be alive meanwhile.
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice_mut<'a>(self, off: i64, len: usize) -> &'a mut [u8] {
        if len == 0 {
            return &mut [];
        }
        // SAFETY: the caller's contract (above).
        unsafe { std::slice::from_raw_parts_mut((self.0 as *mut u8).offset(off as isize), len) }
    }
}

/// A heap block of bytes the library lends to operations by address (see the module
/// docs). Handles are shared (`Clone`); the block is freed with the last one. The bytes are
/// held by raw pointer, never behind a Rust reference, so writes through a [`UserPtr`]
/// alias nothing; the owner reads them back only when its handle is the last one
/// ([`OwnedBytes::into_box`], [`OwnedBytes::to_vec`]), i.e. once every operation that
/// held the block has let it go.
#[derive(Clone)]
pub struct OwnedBytes(std::sync::Arc<Block>);

/// The block itself: a `Box<[u8]>` taken apart with `Box::into_raw`.
struct Block {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: a Block is plain bytes with no thread affinity; every access to them goes through
// UserPtr copies (the operations' contract) or through a handle that is the only one.
unsafe impl Send for Block {}
// SAFETY: as above; &Block gives no access to the bytes.
unsafe impl Sync for Block {}

impl Drop for Block {
    fn drop(&mut self) {
        let raw = std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len);
        // SAFETY: `raw` came from Box::into_raw in `OwnedBytes::new` and is dropped once,
        // with the last handle: no operation holds the block any more.
        drop(unsafe { Box::from_raw(raw) });
    }
}

impl OwnedBytes {
    /// Takes `bytes` over (no copy).
    pub fn new(bytes: impl Into<Box<[u8]>>) -> Self {
        let b: Box<[u8]> = bytes.into();
        let len = b.len();
        let raw = Box::into_raw(b) as *mut u8;
        // A Box's pointer is never null (dangling but non-null when empty).
        let ptr = std::ptr::NonNull::new(raw).unwrap_or(std::ptr::NonNull::dangling());
        OwnedBytes(std::sync::Arc::new(Block { ptr, len }))
    }

    /// `n` zero bytes.
    pub fn zeroed(n: usize) -> Self {
        OwnedBytes::new(vec![0u8; n])
    }

    pub fn len(&self) -> usize {
        self.0.len
    }

    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// The block's address, for the operation this handle is lent to: it stays valid while
    /// this handle or a clone lives, which `p2p::Data::owned` ensures by keeping one in
    /// the `Data` the address travels in.
    pub fn ptr(&self) -> UserPtr {
        UserPtr(self.0.ptr.as_ptr() as usize)
    }

    /// The bytes back, when this is the last handle (no operation holds the block);
    /// otherwise the handle again.
    pub fn into_box(self) -> Result<Box<[u8]>, OwnedBytes> {
        match std::sync::Arc::try_unwrap(self.0) {
            Ok(block) => {
                let block = std::mem::ManuallyDrop::new(block);
                let raw = std::ptr::slice_from_raw_parts_mut(block.ptr.as_ptr(), block.len);
                // SAFETY: the last handle: the block is ours alone, and `raw` came from
                // Box::into_raw; ManuallyDrop keeps Block::drop from freeing it again.
                Ok(unsafe { Box::from_raw(raw) })
            }
            Err(arc) => Err(OwnedBytes(arc)),
        }
    }

    /// A copy of the bytes when this is the last handle (None while an operation still
    /// holds the block, when reading could race with its writes).
    pub fn to_vec(&mut self) -> Option<Vec<u8>> {
        std::sync::Arc::get_mut(&mut self.0)?;
        let mut v = vec![0u8; self.0.len];
        self.ptr().read(0, &mut v);
        Some(v)
    }
}

impl std::fmt::Debug for OwnedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OwnedBytes({} bytes at {:#x})",
            self.len(),
            self.ptr().addr()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_bytes_come_back_only_from_the_last_handle() {
        let mut b = OwnedBytes::new(vec![1u8, 2, 3]);
        b.ptr().write(1, &[9]);
        let lent = b.clone();
        assert!(b.to_vec().is_none(), "an operation still holds it");
        let b = b.into_box().unwrap_err();
        drop(lent);
        assert_eq!(&*b.into_box().unwrap(), &[1, 9, 3]);
        let mut e = OwnedBytes::zeroed(0);
        assert!(e.is_empty());
        assert_eq!(e.to_vec(), Some(vec![]));
    }
}
