//! Byte moves on a TCP stream that finish before they return: the zero-copy sends and
//! receives of rendezvous ranges (addresses, not references), whole frames, and reads under
//! a handshake deadline.
//!
//! How they wait when the socket is not ready ([`Wait`]): the background threads (reader,
//! pull server) block in the kernel; the rank's own thread, which is in an MPI call and
//! would spin in the engine anyway, first retries without blocking for up to [`IO_SPIN`]
//! (yielding the CPU between tries), and only then blocks. Why: on a virtual machine a
//! thread that blocks is woken through the hypervisor when its data comes (an idle virtual
//! CPU halts): measured over the veth pair, a 64 KiB eager stream that blocked in
//! `recv(MSG_WAITALL)` for the rest of each frame, and a sender that blocked in `sendmsg`
//! whenever the socket buffer was full, paid tens of microseconds per wake-up, several
//! times per message. MPICH's ch4/UCX and Open MPI's btl/tcp use non-blocking sockets
//! polled by the progress engine and never sleep inside a transfer while they poll. The
//! yield between tries gives the core to a peer that shares it (it cannot make our data
//! come while we hold the core). A receive waiting for the rest of a transfer pauses in user
//! space between tries instead, for about the time the missing bytes need ([`pause_for`]).

use std::io::{self, Read};
use std::net::TcpStream;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long the rank's own thread retries a socket that is not ready before it blocks when
/// the progress layer has not yet chosen its spin time (see [`SpinTime`]).
pub(super) const IO_SPIN: Duration = Duration::from_micros(1000);

/// The wait of the rank's own thread: the spin time the progress layer chose for its
/// blocked calls (`progress::WaitPolicy`: `OXIMPI_SPIN` if given, else 1 ms, or 0 when the
/// ranks of this host outnumber its cores), read once it is known. Why the same: a
/// transfer that spins while the engine would sleep holds the core an oversubscribed peer
/// needs to make our socket ready (the 1 ms mode of docs/bench-tcp.md). The transport
/// starts before the engine picks it, so it is read on first use, not at start-up.
pub(super) struct SpinTime {
    /// Microseconds, or [`SpinTime::UNKNOWN`] until the progress layer has chosen.
    us: AtomicU64,
}

impl SpinTime {
    const UNKNOWN: u64 = u64::MAX;

    pub(super) fn new() -> SpinTime {
        SpinTime {
            us: AtomicU64::new(Self::UNKNOWN),
        }
    }

    /// How the rank's own thread waits for a socket that is not ready.
    #[inline]
    pub(super) fn wait(&self) -> Wait {
        let us = self.us.load(Ordering::Relaxed);
        if us != Self::UNKNOWN {
            return Wait::Spin(Duration::from_micros(us));
        }
        // The value in force: the progress layer's once it has started, else the user's.
        match crate::settings::SPIN.current() {
            Some(crate::settings::Value::Unsigned(us)) if us != Self::UNKNOWN => {
                self.us.store(us, Ordering::Relaxed);
                Wait::Spin(Duration::from_micros(us))
            }
            _ => Wait::Spin(IO_SPIN),
        }
    }
}

/// How a byte move waits for a socket that is not ready.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Wait {
    /// In the kernel (a background thread).
    Block,
    /// Retrying without blocking for up to this long, then in the kernel (the rank's own
    /// thread, inside an MPI call).
    Spin(Duration),
}

/// The waiting of one byte move: whether its next call blocks, and since when it spins.
///
/// The spin time counts from the last call that moved bytes, not from the first that found
/// the socket not ready: a long transfer (a 4 MiB pull answer streams for milliseconds)
/// whose bytes keep coming is polled to its end, as the engine keeps polling while events
/// come, and blocks only after the socket has stayed not ready for the whole spin time.
/// Counted from the first EAGAIN, every transfer longer than the spin time ended in a
/// blocking `recv(MSG_WAITALL)`/`send` woken once per arriving segment or freed window
/// (strace of the 4 MiB window of bench/p2p.c over the veth pair: 138 of 256 answers
/// finished in a blocking `MSG_WAITALL` on the receiver).
struct Stall {
    blocking: bool,
    spin: Duration,
    since: Option<Instant>,
}

impl Stall {
    fn new(wait: Wait) -> Stall {
        let spin = match wait {
            Wait::Block => Duration::ZERO,
            Wait::Spin(d) => d,
        };
        Stall {
            blocking: spin.is_zero(),
            spin,
            since: None,
        }
    }

    /// Bytes moved: the socket was ready, the spin time starts again at the next EAGAIN.
    #[inline]
    fn moved(&mut self) {
        self.since = None;
    }

    /// A receive found the socket empty with `missing` bytes of its transfer still to come:
    /// wait in user space for about the time the link needs to bring a part of them
    /// ([`pause_for`]), and block from the next call on once the spin time is over.
    fn missing(&mut self, missing: usize) {
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() >= self.spin {
            self.blocking = true;
        } else {
            pause(pause_for(missing));
        }
    }

    /// The socket was not ready (EAGAIN of a non-blocking call): yield, and block from
    /// the next call on once the spin time is over.
    fn not_ready(&mut self) {
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() >= self.spin {
            self.blocking = true;
        } else {
            std::thread::yield_now();
        }
    }
}

/// The rate at which a receiver waiting for the rest of a transfer expects its bytes at the
/// most, in bytes per nanosecond (8 GB/s: above anything the test hosts' veth pair carried,
/// 6.4 GB/s at best), and the bounds of its pause between two receives that find nothing
/// (see [`pause_for`]).
const MISSING_RATE: usize = 8;
const PAUSE_MIN: Duration = Duration::from_nanos(500);
const PAUSE_MAX: Duration = Duration::from_micros(16);

/// How long a receiver pauses, without a system call, before it looks again for the
/// `missing` bytes of a transfer the socket has none of yet: the time they would take at
/// [`MISSING_RATE`], within [`PAUSE_MIN`]..[`PAUSE_MAX`]. The pause ends before the bytes
/// could all be there, so it never delays the end of a transfer by more than about one
/// bound, and it keeps the receiver off the socket while the sender fills it.
///
/// Why: a receiver with nothing to do between its receives (a rendezvous answer lands in
/// place) retried its `recv` at once, with a `sched_yield` between tries: `perf record` of
/// a 2 MiB window of bench/p2p.c between the test hosts counted 240,000-350,000 empty
/// receives for 22,000 that got data, and the sender's 256 KiB `sendmsg`s, whose time is
/// mostly its copy of the data into the socket (`_copy_from_iter`, 65-70% of the sender's
/// samples), took 110-145 us each (1.8-2.3 GB/s), against 30-110 us in an eager window,
/// whose receiver copies each frame out of its buffer between receives. Each empty receive
/// takes the socket's lock, which the sender's segments then find held, and the two virtual
/// CPUs of such a machine may be threads of one physical core, where a syscall loop takes
/// the execution units the sender's copy needs; a pause loop (`spin_loop`, the x86 PAUSE
/// instruction) gives them up. Measured with bench/p2p.c between the namespace hosts,
/// eager frames up to 128 KiB, one build with the pause read from the environment (runs
/// alternating, load 12-14 from other work, MB/s, window of 64): no pause 256 KiB 1382
/// 2416 2388, 2 MiB 1466 1589 2236; a fixed 3 us pause 256 KiB 1461 4044 3766, 2 MiB 2267
/// 2981 3856; 8 us 3631 3953 / 3253 3560; 16 us 4411 3139 / 4155 4450 (4 MiB 4247 4288);
/// 20 us 3789 4488 / 4411 4719. The ping-pong of 2-4 MiB (rendezvous) went from 1385-1428
/// us at 4 MiB with 3 us to 877-1201 with 8-20 us; 64 KiB-256 KiB stayed within the noise.
#[inline]
fn pause_for(missing: usize) -> Duration {
    Duration::from_nanos((missing / MISSING_RATE) as u64).clamp(PAUSE_MIN, PAUSE_MAX)
}

/// Waits `d` in user space, telling the CPU it spins (`spin_loop`).
fn pause(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        for _ in 0..64 {
            std::hint::spin_loop();
        }
    }
}

/// recv(2) as a plain system call. glibc's `recv` and `sendmsg` are cancellation points: in
/// a process with threads each call switches asynchronous cancellation on and off around
/// the system call (about 90 instructions a call under callgrind, on the latency path of
/// every message, where the rest of a receive costs a few hundred); OxiMPI never cancels a
/// thread, so the plain call does the same. Returns what the system call returns (-1 and
/// `errno` on failure).
///
/// # Safety
/// As recv(2): `[buf, buf + len)` is writable memory no reference covers meanwhile.
#[inline]
pub(super) unsafe fn sys_recv(fd: RawFd, buf: *mut libc::c_void, len: usize, flags: i32) -> isize {
    // SAFETY: recvfrom(2) with no source address: writes at most `len` bytes at `buf`,
    // which the caller guarantees; every argument is passed as a full register.
    unsafe {
        libc::syscall(
            libc::SYS_recvfrom,
            fd as libc::c_long,
            buf,
            len as libc::c_long,
            flags as libc::c_long,
            std::ptr::null_mut::<libc::sockaddr>(),
            std::ptr::null_mut::<libc::socklen_t>(),
        ) as isize
    }
}

/// sendmsg(2) as a plain system call (see [`sys_recv`] for why).
///
/// # Safety
/// As sendmsg(2): `m` and the entries it points at describe readable memory.
#[inline]
unsafe fn sys_sendmsg(fd: RawFd, m: &libc::msghdr, flags: i32) -> isize {
    // SAFETY: the kernel only reads `m` and the memory its entries describe, which the
    // caller guarantees readable.
    unsafe {
        libc::syscall(
            libc::SYS_sendmsg,
            fd as libc::c_long,
            m as *const libc::msghdr,
            flags as libc::c_long,
        ) as isize
    }
}

/// Most bytes one recv(2) of a frame's body or a pull's answer asks for. Why not all of
/// them: the kernel copies a receive out of the socket under the socket's lock, and the
/// segments that arrive meanwhile wait in its backlog until the copy ends (presumably
/// stalling the sender's window, the receiving side of [`SEND_CHUNK`]'s reason). Measured
/// on the test hosts' veth pair, windows of 64 messages as bench/p2p.c's, the ranks pinned
/// one to each core at SCHED_FIFO on the loaded machine, MB/s per run by the largest
/// receive: 512 KiB messages unbounded 2159 5426 1595, 32 KiB 3455 4739, 64 KiB 5942 1633
/// 1712, 128 KiB 1732 1682; 1 MiB messages unbounded 2281 2077 2182 2313 1805 2299, 16 KiB
/// 3729 4358 5778, 32 KiB 4272 4256 3868 6355 4280, 48 KiB 2588 2679 2218, 64 KiB 2272
/// 1860 1796, 128 KiB 1744 1797.
const RECV_CHUNK: usize = 32 << 10;

/// Receives exactly `len` bytes from socket `fd` (a blocking socket) into address `addr`
/// of this process with recv(2) calls of at most [`RECV_CHUNK`] bytes, without forming a
/// reference to the memory: the kernel copies it (a range that is not mapped gives EFAULT,
/// never a crash).
pub(super) fn recv_to_addr(fd: RawFd, addr: usize, len: usize, wait: Wait) -> io::Result<()> {
    let mut off = 0;
    let mut stall = Stall::new(wait);
    while off < len {
        let (p, n) = (
            (addr + off) as *mut libc::c_void,
            (len - off).min(RECV_CHUNK),
        );
        let flags = match stall.blocking {
            true => libc::MSG_WAITALL,
            false => libc::MSG_DONTWAIT,
        };
        // SAFETY: recv(2) writes only [addr + off, addr + len): memory of an operation
        // whose caller is blocked in `Tcp::pull` until this read ends (the MPI contract
        // keeps it valid and untouched meanwhile), or the slice `recv_exact` borrows
        // mutably for the call.
        match unsafe { sys_recv(fd, p, n, flags) } {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            d if d < 0 => {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => {}
                    io::ErrorKind::WouldBlock if !stall.blocking => stall.missing(len - off),
                    _ => return Err(e),
                }
            }
            d => {
                off += d as usize;
                stall.moved();
            }
        }
    }
    Ok(())
}

/// Copies `src` to address `addr` of this process (the part of a pull's answer that was
/// already buffered).
///
/// # Safety
/// `[addr, addr + src.len())` must be writable memory of this process that no live
/// reference covers (a pull's destination while its caller waits in `Tcp::pull`).
pub(super) unsafe fn copy_to_addr(addr: usize, src: &[u8]) {
    if src.is_empty() {
        return;
    }
    // SAFETY: the caller guarantees the range is writable and unaliased.
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), addr as *mut u8, src.len()) }
}

/// Fills `out` from socket `fd`, waiting as `wait` says until all of it has come (when
/// blocking, MSG_WAITALL: one wake-up, not one per segment).
pub(super) fn recv_exact(fd: RawFd, out: &mut [u8], wait: Wait) -> io::Result<()> {
    recv_to_addr(fd, out.as_mut_ptr() as usize, out.len(), wait)
}

/// Fills `buf` from `s` before `deadline` (TimedOut after it).
pub(super) fn read_exact_by(
    s: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the handshake took too long",
            ));
        }
        s.set_read_timeout(Some(left))?;
        match s.read(&mut buf[got..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes all of `parts`, in order, with as few sendmsg(2) calls as the socket allows (one
/// for a cell: header and payload together) and MSG_NOSIGNAL: a peer that is gone gives
/// EPIPE, never a SIGPIPE that would kill a C program.
pub(super) fn send_all(fd: RawFd, parts: &[&[u8]], wait: Wait) -> io::Result<()> {
    let entry = |p: &&[u8]| libc::iovec {
        iov_base: p.as_ptr() as *mut libc::c_void,
        iov_len: p.len(),
    };
    // A cell is two parts: its entries stay on the stack (no allocation per message).
    const FEW: usize = 4;
    if parts.len() <= FEW {
        let mut few = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; FEW];
        let mut n = 0;
        for p in parts.iter().filter(|p| !p.is_empty()) {
            few[n] = entry(p);
            n += 1;
        }
        return send_iov(fd, wait, &mut few[..n]);
    }
    let mut iov: Vec<libc::iovec> = parts.iter().filter(|p| !p.is_empty()).map(entry).collect();
    send_iov(fd, wait, &mut iov)
}

/// Writes what the socket takes of `buf` now, without blocking: the bytes written (0 when
/// it has no room). For a thread that must never wait on a peer (the reader thread, see
/// `coalesce`).
pub(super) fn send_ready(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: buf.as_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    loop {
        // SAFETY: a zeroed msghdr is a valid empty header; its one entry describes `buf`,
        // alive for the call, which the kernel only reads.
        let n = unsafe {
            let mut m: libc::msghdr = std::mem::zeroed();
            m.msg_iov = &mut iov;
            m.msg_iovlen = 1;
            sys_sendmsg(fd, &m, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => {}
            io::ErrorKind::WouldBlock => return Ok(0),
            _ => return Err(e),
        }
    }
}

/// Writes `head` then the (address, length) ranges of this process's memory, as
/// [`send_all`]: the kernel reads the ranges (a range that is not mapped gives EFAULT,
/// never a crash), without a reference to them.
pub(super) fn send_gather(
    fd: RawFd,
    head: &[u8],
    ranges: &[(usize, usize)],
    wait: Wait,
) -> io::Result<()> {
    let mut iov = Vec::with_capacity(1 + ranges.len());
    iov.push(libc::iovec {
        iov_base: head.as_ptr() as *mut libc::c_void,
        iov_len: head.len(),
    });
    iov.extend(
        ranges
            .iter()
            .filter(|r| r.1 > 0)
            .map(|&(a, l)| libc::iovec {
                iov_base: a as *mut libc::c_void,
                iov_len: l,
            }),
    );
    send_iov(fd, wait, &mut iov)
}

/// Most entries one sendmsg(2) takes (Linux's IOV_MAX).
const IOV_MAX: usize = 1024;

/// Most bytes one sendmsg(2) is given. Why not all of them: the kernel copies a send into
/// the socket under the socket's lock, and a multi-megabyte one streamed at half the rate
/// of the same bytes in pieces (a request/response stream of 4 MiB answers between the test
/// hosts' namespaces over the veth pair, the sender writing with non-blocking sends of at
/// most CHUNK bytes, receiver polling with non-blocking recvs, both ranks SCHED_FIFO on the
/// loaded 2-core machine, MB/s: CHUNK 64 KiB 3540, 128 KiB 3436, 256 KiB 4236, 512 KiB
/// 3447, 1 MiB 2124, whole 4 MiB 2167). Open MPI's btl/tcp sends large messages in
/// fragments of `btl_tcp_max_send_size` (128 KiB) too.
///
/// Smaller calls do not help a ping-pong either (tcp18, issue 14). The idea was that the
/// receiver could copy one piece out of its socket while the sender copies the next in
/// (`perf trace` of the 128 KiB ping-pong between the test hosts: the sender's one
/// `sendmsg` takes 30-43 us, mostly `_copy_from_iter`; the receiver sees its first bytes
/// only after the first 64 KiB segment is built, 19-24 us in, and has the whole frame
/// about 20 us after the `sendmsg` returns; from there to its reply, its copy out of the
/// frame buffer and the engine, 6-7 us). It was tried with one build reading the sizes
/// from the environment, same binary, ranks at `chrt -f 10`, load 5-6, 3 alternating
/// rounds, one-way us: eager frames in 32 KiB calls, 128 KiB 81 85 90 against 59 70 74 in
/// one call (Open MPI 57 58 64), window 128 KiB 2360-3085 against 3210-4086 MB/s; pull
/// answers in 64 KiB calls as well, 256 KiB 102-116 against 71-88 us, 512 KiB 188-201
/// against 118-141. Each call pushes a segment of its own and its acknowledgement.
const SEND_CHUNK: usize = 256 << 10;

/// A call may go this far past [`SEND_CHUNK`] when that finishes the send: a pull's answer of
/// 256 KiB (a 17-byte head and the data) was written as 256 KiB and then 17 bytes, a second
/// system call and a segment of its own at the end of every rendezvous of 256 KiB, 512 KiB...
/// the receiver waited for.
const SEND_SLACK: usize = 4 << 10;

/// The bytes the next sendmsg(2) of a send is given when `left` bytes remain: a chunk, or
/// all of them when that is at most [`SEND_SLACK`] more (the send's last call).
#[inline]
fn call_bytes(left: usize) -> usize {
    if left <= SEND_CHUNK + SEND_SLACK {
        left
    } else {
        SEND_CHUNK
    }
}

/// Writes every byte the entries of `iov` describe, in order, waiting as `wait` says, in
/// sendmsg(2) calls of at most [`SEND_CHUNK`] bytes.
fn send_iov(fd: RawFd, wait: Wait, iov: &mut [libc::iovec]) -> io::Result<()> {
    let mut first = 0;
    let mut stall = Stall::new(wait);
    let mut left: usize = iov.iter().map(|v| v.iov_len).sum();
    while first < iov.len() {
        let chunk = call_bytes(left);
        let flags = if stall.blocking {
            libc::MSG_NOSIGNAL
        } else {
            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT
        };
        // The entries of this call: up to IOV_MAX of them and SEND_CHUNK bytes, the last
        // one cut short for the call (and restored after it) if it goes past.
        let mut count = 0;
        let mut bytes = 0;
        let mut cut = None;
        for v in &iov[first..(first + IOV_MAX).min(iov.len())] {
            count += 1;
            if bytes + v.iov_len >= chunk {
                if bytes + v.iov_len > chunk {
                    cut = Some(v.iov_len);
                }
                break;
            }
            bytes += v.iov_len;
        }
        if cut.is_some() {
            iov[first + count - 1].iov_len = chunk - bytes;
        }
        // SAFETY: zeroed msghdr is a valid empty header; we then point it at `count`
        // (<= IOV_MAX) entries of `iov[first..]`, which describe the caller's slices (alive
        // for this call) or memory the rendezvous contract keeps valid, the last one
        // possibly shortened (a prefix of its range); the kernel only reads them.
        let n = unsafe {
            let mut m: libc::msghdr = std::mem::zeroed();
            m.msg_iov = iov[first..].as_mut_ptr();
            m.msg_iovlen = count;
            sys_sendmsg(fd, &m, flags)
        };
        if let Some(len) = cut {
            iov[first + count - 1].iov_len = len;
        }
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => {}
                io::ErrorKind::WouldBlock if !stall.blocking => stall.not_ready(),
                _ => return Err(e),
            }
            continue;
        }
        stall.moved();
        let mut n = n as usize;
        left -= n;
        while first < iov.len() && n >= iov[first].iov_len {
            n -= iov[first].iov_len;
            first += 1;
        }
        if n > 0 {
            let v = &mut iov[first];
            // SAFETY: n < iov_len: the new base stays inside the same range.
            v.iov_base = unsafe { v.iov_base.cast::<u8>().add(n).cast() };
            v.iov_len -= n;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::fd::AsRawFd;

    /// The pause of a receiver waiting for the rest of a transfer follows what is missing,
    /// within its bounds.
    #[test]
    fn the_pause_follows_the_missing_bytes_within_bounds() {
        assert_eq!(pause_for(0), PAUSE_MIN);
        assert_eq!(pause_for(53), PAUSE_MIN);
        assert_eq!(pause_for(32 << 10), Duration::from_nanos(4096));
        assert_eq!(pause_for(4 << 20), PAUSE_MAX);
        let t = Instant::now();
        pause(Duration::from_micros(50));
        assert!(t.elapsed() >= Duration::from_micros(50));
    }

    /// A pull's answer of a chunk's worth of data and its head goes in one call, not a
    /// chunk and then the head's worth; a longer send's last call takes what is left.
    #[test]
    fn no_call_for_a_few_bytes_past_a_chunk() {
        assert_eq!(call_bytes(17 + SEND_CHUNK), 17 + SEND_CHUNK);
        assert_eq!(call_bytes(100), 100);
        assert_eq!(call_bytes(2 * SEND_CHUNK + 17), SEND_CHUNK);
        assert_eq!(call_bytes(SEND_CHUNK + SEND_SLACK + 1), SEND_CHUNK);
    }

    /// A gathered send longer than several chunks, whose ranges straddle the chunk
    /// boundaries (a range cut short for a call and resumed by the next), arrives whole and
    /// in order, whether the sender spins or blocks.
    #[test]
    fn a_gather_across_chunk_boundaries_arrives_whole_and_in_order() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        let sizes = [
            100_000,
            SEND_CHUNK,
            5,
            SEND_CHUNK - 100_005,
            700_000,
            1,
            3 * SEND_CHUNK + 7,
        ];
        let total: usize = sizes.iter().sum();
        let src: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        let mut ranges = Vec::new();
        let mut at = src.as_ptr() as usize;
        for n in sizes {
            ranges.push((at, n));
            at += n;
        }
        let head = [0xa5u8; 17];
        for wait in [Wait::Spin(Duration::from_millis(1)), Wait::Block] {
            let got = std::thread::scope(|s| {
                let r = s.spawn(|| {
                    let mut got = vec![0u8; head.len() + total];
                    recv_exact(b.as_raw_fd(), &mut got, Wait::Block).map(|()| got)
                });
                send_gather(a.as_raw_fd(), &head, &ranges, wait).unwrap();
                r.join().unwrap().unwrap()
            });
            assert_eq!(got[..head.len()], head);
            assert!(
                got[head.len()..] == src[..],
                "bytes out of order ({wait:?})"
            );
        }
    }
}
