//! The control stream between mpiexec and its proxies: length-prefixed binary frames over
//! TCP (after the secret handshake, see `auth`).
//!
//! A frame is `u32 length (big endian) | u8 kind | fields`; integers are big-endian u32/i32,
//! byte strings are `u32 length | bytes`, lists are `u32 count | items`. The proxy is a relay:
//! PMI bytes and stdio of each rank pass through unparsed, so every PMI decision (barrier,
//! kvs, abort, spawn, names) stays in mpiexec's one PMI server, as on one host.

use std::io::{self, Write};
use std::os::fd::AsRawFd;

use mpi::transport::fd;

/// Frames larger than this are refused (a job description with huge environments fits).
const MAX_FRAME: usize = 64 << 20;
/// How long a write may wait for the peer to read before the peer counts as stuck.
const WRITE_STALL_MS: i32 = 30_000;

/// What a proxy starts: the ranks of one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyJob {
    /// The host's name as the host list gives it (for messages).
    pub host: String,
    /// Ranks in the job (PMI_SIZE).
    pub size: u32,
    /// Pin each rank to a core (`-bind-to core`).
    pub bind_core: bool,
    /// The liveness timeout of the control stream in milliseconds (0: no check; see
    /// `liveness`).
    pub liveness_ms: u32,
    pub ranks: Vec<RankJob>,
}

/// One rank to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankJob {
    pub rank: u32,
    pub argv: Vec<String>,
    /// The whole environment of the rank, as mpiexec computed it (before the launch vars).
    pub env: Vec<(String, String)>,
    pub wdir: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// mpiexec → proxy: start these ranks.
    Job(ProxyJob),
    /// mpiexec → proxy: PMI bytes for a rank.
    ToRank { rank: u32, data: Vec<u8> },
    /// mpiexec → proxy: bytes of mpiexec's stdin for rank 0 (empty: its end).
    Stdin { data: Vec<u8> },
    /// mpiexec → proxy: signal a rank's process group.
    Signal { rank: u32, sig: i32 },
    /// proxy → mpiexec: a rank runs with this pid.
    Started { rank: u32, pid: u32 },
    /// proxy → mpiexec: a rank could not be started (`msg`: "(program): why").
    StartFailed { rank: u32, msg: String },
    /// proxy → mpiexec: PMI bytes from a rank.
    FromRank { rank: u32, data: Vec<u8> },
    /// proxy → mpiexec: output of a rank (`err`: stderr).
    Output { rank: u32, err: bool, data: Vec<u8> },
    /// proxy → mpiexec: a rank's stdout or stderr reached its end.
    OutputEnd { rank: u32, err: bool },
    /// proxy → mpiexec: a rank ended with this raw wait status.
    Exited { rank: u32, status: i32 },
    /// Either way: a sign of life on an otherwise quiet stream (see `liveness`).
    Ping,
}

struct Enc(Vec<u8>);

impl Enc {
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

struct Dec<'a>(&'a [u8]);

impl Dec<'_> {
    fn u32(&mut self) -> io::Result<u32> {
        if self.0.len() < 4 {
            return Err(bad("truncated frame"));
        }
        let v = u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]]);
        self.0 = &self.0[4..];
        Ok(v)
    }
    fn bytes(&mut self) -> io::Result<Vec<u8>> {
        let n = self.u32()? as usize;
        if self.0.len() < n {
            return Err(bad("truncated frame"));
        }
        let v = self.0[..n].to_vec();
        self.0 = &self.0[n..];
        Ok(v)
    }
    fn str(&mut self) -> io::Result<String> {
        String::from_utf8(self.bytes()?).map_err(|_| bad("a string is not UTF-8"))
    }
    fn count(&mut self) -> io::Result<usize> {
        let n = self.u32()? as usize;
        // Each item takes at least 4 bytes: a count beyond that is a lie.
        if n > self.0.len() / 4 + 1 {
            return Err(bad("bad list length"));
        }
        Ok(n)
    }
}

fn bad(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("proxy stream: {why}"))
}

impl Frame {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc(vec![0; 4]);
        match self {
            Frame::Job(j) => {
                e.0.push(1);
                e.str(&j.host);
                e.u32(j.size);
                e.u32(u32::from(j.bind_core));
                e.u32(j.liveness_ms);
                e.u32(j.ranks.len() as u32);
                for r in &j.ranks {
                    e.u32(r.rank);
                    e.u32(r.argv.len() as u32);
                    for a in &r.argv {
                        e.str(a);
                    }
                    e.u32(r.env.len() as u32);
                    for (k, v) in &r.env {
                        e.str(k);
                        e.str(v);
                    }
                    e.str(r.wdir.as_deref().unwrap_or(""));
                }
            }
            Frame::ToRank { rank, data } => {
                e.0.push(2);
                e.u32(*rank);
                e.bytes(data);
            }
            Frame::Stdin { data } => {
                e.0.push(10);
                e.bytes(data);
            }
            Frame::Signal { rank, sig } => {
                e.0.push(3);
                e.u32(*rank);
                e.u32(*sig as u32);
            }
            Frame::Started { rank, pid } => {
                e.0.push(4);
                e.u32(*rank);
                e.u32(*pid);
            }
            Frame::StartFailed { rank, msg } => {
                e.0.push(5);
                e.u32(*rank);
                e.str(msg);
            }
            Frame::FromRank { rank, data } => {
                e.0.push(6);
                e.u32(*rank);
                e.bytes(data);
            }
            Frame::Output { rank, err, data } => {
                e.0.push(7);
                e.u32(*rank);
                e.u32(u32::from(*err));
                e.bytes(data);
            }
            Frame::OutputEnd { rank, err } => {
                e.0.push(8);
                e.u32(*rank);
                e.u32(u32::from(*err));
            }
            Frame::Exited { rank, status } => {
                e.0.push(9);
                e.u32(*rank);
                e.u32(*status as u32);
            }
            Frame::Ping => e.0.push(11),
        }
        let len = (e.0.len() - 4) as u32;
        e.0[..4].copy_from_slice(&len.to_be_bytes());
        e.0
    }

    fn decode(body: &[u8]) -> io::Result<Frame> {
        let (&kind, rest) = body.split_first().ok_or_else(|| bad("empty frame"))?;
        let mut d = Dec(rest);
        let f = match kind {
            1 => {
                let host = d.str()?;
                let size = d.u32()?;
                let bind_core = d.u32()? != 0;
                let liveness_ms = d.u32()?;
                let n = d.count()?;
                let mut ranks = Vec::with_capacity(n);
                for _ in 0..n {
                    let rank = d.u32()?;
                    let argc = d.count()?;
                    let argv = (0..argc).map(|_| d.str()).collect::<io::Result<_>>()?;
                    let envc = d.count()?;
                    let env = (0..envc)
                        .map(|_| Ok((d.str()?, d.str()?)))
                        .collect::<io::Result<_>>()?;
                    let wdir = Some(d.str()?).filter(|w| !w.is_empty());
                    ranks.push(RankJob {
                        rank,
                        argv,
                        env,
                        wdir,
                    });
                }
                Frame::Job(ProxyJob {
                    host,
                    size,
                    bind_core,
                    liveness_ms,
                    ranks,
                })
            }
            2 => Frame::ToRank {
                rank: d.u32()?,
                data: d.bytes()?,
            },
            3 => Frame::Signal {
                rank: d.u32()?,
                sig: d.u32()? as i32,
            },
            4 => Frame::Started {
                rank: d.u32()?,
                pid: d.u32()?,
            },
            5 => Frame::StartFailed {
                rank: d.u32()?,
                msg: d.str()?,
            },
            6 => Frame::FromRank {
                rank: d.u32()?,
                data: d.bytes()?,
            },
            7 => Frame::Output {
                rank: d.u32()?,
                err: d.u32()? != 0,
                data: d.bytes()?,
            },
            8 => Frame::OutputEnd {
                rank: d.u32()?,
                err: d.u32()? != 0,
            },
            9 => Frame::Exited {
                rank: d.u32()?,
                status: d.u32()? as i32,
            },
            10 => Frame::Stdin { data: d.bytes()? },
            11 => Frame::Ping,
            k => return Err(bad(&format!("unknown frame kind {k}"))),
        };
        if !d.0.is_empty() {
            return Err(bad("trailing bytes in a frame"));
        }
        Ok(f)
    }

    /// Writes the frame (blocking until the kernel took it all).
    pub fn send(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&self.encode())
    }
}

/// Writes all of `data` to a non-blocking stream, waiting for room when it is full (the
/// other side reads all the time; this also slows down a rank whose output cannot keep up).
pub fn write_all_waiting<W: Write + AsRawFd>(w: &mut W, data: &[u8]) -> io::Result<()> {
    let mut done = 0;
    while done < data.len() {
        match w.write(&data[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut p = [libc::pollfd {
                    fd: w.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                }];
                if fd::poll(&mut p, WRITE_STALL_MS)? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the peer stopped reading",
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Collects bytes read from the stream and cuts them into frames.
#[derive(Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, if one is buffered; an error ends the stream.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        if len > MAX_FRAME {
            return Err(bad(&format!("a frame of {len} bytes")));
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let f = Frame::decode(&self.buf[4..4 + len]);
        self.buf.drain(..4 + len);
        f.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_in_pieces() {
        let frames = vec![
            Frame::Job(ProxyJob {
                host: "b".into(),
                size: 4,
                bind_core: true,
                liveness_ms: 2500,
                ranks: vec![RankJob {
                    rank: 2,
                    argv: vec!["prog".into(), "a b".into()],
                    env: vec![("K".into(), "v=1".into())],
                    wdir: Some("/tmp".into()),
                }],
            }),
            Frame::ToRank {
                rank: 1,
                data: b"cmd=barrier_out\n".to_vec(),
            },
            Frame::Signal { rank: 3, sig: 15 },
            Frame::Stdin {
                data: b"in".to_vec(),
            },
            Frame::Started { rank: 3, pid: 99 },
            Frame::StartFailed {
                rank: 0,
                msg: "no".into(),
            },
            Frame::FromRank {
                rank: 0,
                data: vec![],
            },
            Frame::Output {
                rank: 0,
                err: true,
                data: b"x\n".to_vec(),
            },
            Frame::OutputEnd {
                rank: 0,
                err: false,
            },
            Frame::Exited {
                rank: 2,
                status: -1,
            },
            Frame::Ping,
        ];
        let bytes: Vec<u8> = frames.iter().flat_map(|f| f.encode()).collect();
        let mut r = FrameReader::default();
        let mut got = Vec::new();
        for chunk in bytes.chunks(3) {
            r.push(chunk);
            while let Some(f) = r.next_frame().unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got, frames);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut r = FrameReader::default();
        r.push(&[0, 0, 0, 1, 77]);
        assert!(r.next_frame().is_err());
        let mut r = FrameReader::default();
        r.push(&[0xff, 0xff, 0xff, 0xff]);
        assert!(r.next_frame().is_err());
        let mut r = FrameReader::default();
        r.push(&[0, 0, 0, 5, 2, 0, 0, 0]);
        r.push(&[1]);
        assert!(r.next_frame().is_err(), "truncated field");
    }
}
