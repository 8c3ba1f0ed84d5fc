//! A per-connection receive buffer: one `recv(2)` takes whatever has arrived on an inbound
//! connection (often several small frames), and frames are parsed from it.
//!
//! Why: reading a cell field by field cost three `recv` calls (type byte, length, header and
//! payload) plus a fourth that found nothing — the larger part of a small message's latency
//! over loopback or a veth pair. MPICH's ch3 sockets and Open MPI's btl/tcp read into a
//! per-connection buffer the same way.
//!
//! The buffer is small (`CAPACITY`, 32 KiB): a frame whose body goes past what has been
//! buffered takes the buffered part, then reads the rest straight into its destination (the
//! frame's own vector, or the user's memory for a pull's answer) with blocking reads — the
//! sender writes each frame whole, so the rest is on its way. Large transfers are thus never copied
//! through the buffer. All of it is used under the inbound set's lock (see `inbound`).

use super::rawio::{copy_to_addr, recv_exact, recv_to_addr, sys_recv, Wait};
use std::io::{self, Read};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};

/// Bytes one `recv` may take: hundreds of small frames, or one whole eager frame of up to
/// 32 KiB (its 53-byte head included); a larger frame's body is mostly read in place.
///
/// Why 32 KiB and a little: with 16 KiB, a 16 KiB message's frame took two `recv`s on every
/// hop (16 KiB, then the 53 bytes left), on the latency path both ways. Ping-pong between
/// the namespace test hosts, ranks under `chrt -f 10`, 7 alternating rounds of the same
/// binary (medians): 16 KiB one-way 9.40 -> 8.79 us; 8 B, 1 KiB, 8 KiB, 32 KiB, 256 KiB
/// and the window bandwidth 4 KiB-4 MiB unchanged within the spread of a loaded machine.
/// 64 KiB gave the same 16 KiB figure (8.74) for twice the memory. No more: the
/// kernel copies a receive under the socket's lock (`rawio::RECV_CHUNK`), and every
/// connection keeps this buffer for good.
pub(super) const CAPACITY: usize = (32 << 10) + 64;

/// The bytes received on one connection and not yet parsed.
pub(super) struct RecvBuf {
    data: Box<[u8]>,
    start: usize,
    end: usize,
    /// Since the last `fill`, a frame's body was read from the socket past the buffer
    /// (the sender was still writing it: more may follow at once).
    pub(super) read_past: bool,
}

/// What one [`RecvBuf::fill`] found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Fill {
    /// `n` bytes; `drained` when they did not fill the room offered (nothing more waits).
    Got { n: usize, drained: bool },
    /// Nothing has arrived.
    None,
    /// The peer closed the stream.
    End,
}

impl Default for RecvBuf {
    fn default() -> Self {
        RecvBuf::with_capacity(CAPACITY)
    }
}

impl RecvBuf {
    pub(super) fn with_capacity(cap: usize) -> RecvBuf {
        RecvBuf {
            data: vec![0u8; cap.max(1)].into_boxed_slice(),
            start: 0,
            end: 0,
            read_past: false,
        }
    }

    /// Buffered bytes not yet taken.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.end - self.start
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// One non-blocking `recv` into the free room (the buffer is emptied first: frames are
    /// always taken whole, so it is only filled when empty).
    pub(super) fn fill(&mut self, fd: RawFd) -> io::Result<Fill> {
        debug_assert!(self.is_empty(), "filled only when every frame was taken");
        self.start = 0;
        self.end = 0;
        self.read_past = false;
        let room = self.data.len();
        loop {
            // SAFETY: recv writes at most `room` bytes into `data`, a buffer we own.
            let n =
                unsafe { sys_recv(fd, self.data.as_mut_ptr().cast(), room, libc::MSG_DONTWAIT) };
            match n {
                0 => return Ok(Fill::End),
                n if n > 0 => {
                    let n = n as usize;
                    self.end = n;
                    return Ok(Fill::Got {
                        n,
                        drained: n < room,
                    });
                }
                _ => {
                    // The raw errno: this is the spinning receiver's common case, and
                    // `ErrorKind` is a table walk.
                    let e = io::Error::last_os_error();
                    match e.raw_os_error() {
                        Some(libc::EINTR) => {}
                        Some(libc::EAGAIN) => return Ok(Fill::None),
                        _ => return Err(e),
                    }
                }
            }
        }
    }

    /// The next buffered byte (a frame's type).
    #[inline]
    pub(super) fn take_byte(&mut self) -> Option<u8> {
        if self.is_empty() {
            return None;
        }
        let b = self.data[self.start];
        self.start += 1;
        Some(b)
    }

    /// Copies up to `out.len()` buffered bytes into `out`; how many.
    fn take_into(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len());
        out[..n].copy_from_slice(&self.data[self.start..self.start + n]);
        self.start += n;
        n
    }

    /// The rest of a frame, from `conn` when the buffer runs out, waiting for it as
    /// `wait` says.
    pub(super) fn frame<'a>(&'a mut self, conn: &'a TcpStream, wait: Wait) -> FrameBytes<'a> {
        FrameBytes {
            buf: self,
            conn,
            wait,
        }
    }
}

/// The bytes of the frame being read: buffered first, then straight from the socket
/// (waiting for them: the sender writes frames whole, so they are on their way).
pub(super) struct FrameBytes<'a> {
    buf: &'a mut RecvBuf,
    conn: &'a TcpStream,
    wait: Wait,
}

impl Read for FrameBytes<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if !self.buf.is_empty() {
            return Ok(self.buf.take_into(out));
        }
        // The rest of a frame the sender is writing whole: all of it in one call.
        self.buf.read_past = true;
        recv_exact(self.conn.as_raw_fd(), out, self.wait)?;
        Ok(out.len())
    }

    /// One copy from the buffer (all of a small frame), the rest from the socket: without
    /// the generic loop of `Read::read_exact`, on the latency path of every message.
    #[inline]
    fn read_exact(&mut self, out: &mut [u8]) -> io::Result<()> {
        let n = self.buf.take_into(out);
        if n < out.len() {
            self.buf.read_past = true;
            recv_exact(self.conn.as_raw_fd(), &mut out[n..], self.wait)?;
        }
        Ok(())
    }
}

impl FrameBytes<'_> {
    /// Moves the next `len` bytes of the frame to address `addr` of this process (a pull's
    /// answer landing in the operation's memory): the buffered part is copied, the rest is
    /// received in place.
    ///
    /// # Safety
    /// As [`copy_to_addr`]: `[addr, addr + len)` is writable and no live reference covers it.
    pub(super) unsafe fn to_addr(&mut self, addr: usize, len: usize) -> io::Result<()> {
        let n = len.min(self.buf.len());
        let s = self.buf.start;
        // SAFETY: the first n bytes of the caller's range (n <= len).
        unsafe { copy_to_addr(addr, &self.buf.data[s..s + n]) };
        self.buf.start += n;
        self.buf.read_past |= n < len;
        recv_to_addr(self.conn.as_raw_fd(), addr + n, len - n, self.wait)
    }

    /// Skips the next `n` bytes of the frame.
    pub(super) fn skip(&mut self, n: u64) -> io::Result<()> {
        let got = io::copy(&mut self.take(n), &mut io::sink())?;
        if got < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    /// Waits (bounded) until `fill` finds something.
    fn fill_some(buf: &mut RecvBuf, fd: RawFd) -> Fill {
        for _ in 0..20_000 {
            match buf.fill(fd).unwrap() {
                Fill::None => std::thread::sleep(std::time::Duration::from_micros(100)),
                f => return f,
            }
        }
        panic!("nothing arrived");
    }

    #[test]
    fn several_frames_in_one_recv_and_a_body_past_the_buffer() {
        let (mut a, b) = pair();
        let mut buf = RecvBuf::with_capacity(8);
        assert_eq!(buf.fill(b.as_raw_fd()).unwrap(), Fill::None);
        // Three bytes of "frames", then a 20-byte body that overflows the 8-byte buffer.
        let body: Vec<u8> = (0..20).collect();
        a.write_all(&[7, 8, 9]).unwrap();
        a.write_all(&body).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(
            fill_some(&mut buf, b.as_raw_fd()),
            Fill::Got {
                n: 8,
                drained: false
            }
        );
        assert_eq!(
            (buf.take_byte(), buf.take_byte(), buf.take_byte()),
            (Some(7), Some(8), Some(9))
        );
        let mut got = vec![0u8; 20];
        buf.frame(&b, Wait::Block).read_exact(&mut got).unwrap();
        assert_eq!(got, body);
        assert!(buf.is_empty());
        // A body landing at an address: part buffered, part in place.
        a.write_all(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
            .unwrap();
        assert!(matches!(
            fill_some(&mut buf, b.as_raw_fd()),
            Fill::Got { .. }
        ));
        let mut dst = [0u8; 12];
        // SAFETY: `dst` is a local of 12 bytes, not borrowed meanwhile.
        unsafe {
            buf.frame(&b, Wait::Block)
                .to_addr(dst.as_mut_ptr() as usize, 12)
        }
        .unwrap();
        assert_eq!(dst, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        // Skipping, then the end of the stream.
        a.write_all(&[0; 10]).unwrap();
        drop(a);
        fill_some(&mut buf, b.as_raw_fd());
        buf.frame(&b, Wait::Block).skip(10).unwrap();
        assert!(buf.is_empty());
        assert_eq!(fill_some(&mut buf, b.as_raw_fd()), Fill::End);
    }
}
