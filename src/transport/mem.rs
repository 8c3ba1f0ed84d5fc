//! User memory handed to MPI calls. The C surface asserts, by constructing a `UserPtr`,
//! that the address is valid for what the operation's datatype and count describe until
//! the operation completes — MPI's contract with the caller. Everything above that
//! assertion (packing, matching, protocols) then moves bytes without `unsafe`.

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

    /// The address of a library-owned buffer that an internal operation only reads
    /// (collective helpers, tests). Contract: the caller keeps `buf` alive and untouched
    /// until the operations on it complete — every internal user waits before it drops.
    pub fn of<T>(buf: &[T]) -> Self {
        UserPtr(buf.as_ptr() as usize)
    }

    /// Like [`UserPtr::of`] for a buffer the operation writes into.
    pub fn of_mut<T>(buf: &mut [T]) -> Self {
        UserPtr(buf.as_mut_ptr() as usize)
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
