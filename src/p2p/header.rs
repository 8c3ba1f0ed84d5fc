//! The header every point-to-point cell carries (48 bytes, native endian: both ends are
//! on one node).

use super::fabric::HDR_BYTES;

/// Message kinds.
pub mod kind {
    /// Whole message in this cell.
    pub const EAGER: u8 = 1;
    /// Request to send a large message: `len`, sender request, sender address.
    pub const RTS: u8 = 2;
    /// Receiver ready for a pipelined transfer: `sreq`, `rreq`.
    pub const CTS: u8 = 3;
    /// A piece of a pipelined transfer: `rreq`, stream offset in `addr`.
    pub const DATA: u8 = 4;
    /// Receiver has read the data of a single-copy transfer: `sreq`.
    pub const FIN: u8 = 5;
    /// A synchronous-mode send was matched: `sreq`.
    pub const SACK: u8 = 6;
    /// MPI_Cancel of a send: drop its message `sreq` (envelope context/src/tag) if it is
    /// still unmatched.
    pub const CANCEL: u8 = 7;
    /// Answer to CANCEL: `sreq`, `len` 1 if the message was dropped, 0 if already matched.
    pub const CANCEL_ACK: u8 = 8;
    /// Receiver to the sender of a single-copy transfer it reads in part (`rendezvous`,
    /// split copy): write your bytes from offset `len` on into my buffer at `addr` (the
    /// whole receive buffer's address; the same offset there), then answer PUT_DONE to
    /// `rreq`. `sreq` names the send.
    pub const PUT: u8 = 9;
    /// Sender's answer to PUT: `len` bytes written from the offset PUT named (fewer when
    /// the kernel refused part of the write: the receiver reads the rest), for `rreq`.
    pub const PUT_DONE: u8 = 10;
}

/// Flags.
pub mod flag {
    /// Synchronous mode: acknowledge with SACK when matched.
    pub const SYNC: u8 = 1;
    /// The sender's data is contiguous at `addr`: the receiver may read it directly.
    pub const CMA: u8 = 2;
    /// One piece of a partitioned transfer; its offset in the receive buffer is in `rreq`.
    pub const PART: u8 = 4;
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub kind: u8,
    pub flags: u8,
    /// A piece of a partitioned transfer: which pair of partitioned requests it belongs to
    /// (see `Piece::pair`).
    pub aux: u16,
    pub context: u32,
    pub src: i32,
    pub tag: i32,
    /// Total message length in bytes.
    pub len: u64,
    pub sreq: u64,
    pub rreq: u64,
    /// Sender buffer address (RTS) or stream offset (DATA).
    pub addr: u64,
}

impl Header {
    #[inline]
    pub fn encode(&self, b: &mut [u8; HDR_BYTES]) {
        b[0] = self.kind;
        b[1] = self.flags;
        b[2..4].copy_from_slice(&self.aux.to_ne_bytes());
        b[4..8].copy_from_slice(&self.context.to_ne_bytes());
        b[8..12].copy_from_slice(&self.src.to_ne_bytes());
        b[12..16].copy_from_slice(&self.tag.to_ne_bytes());
        b[16..24].copy_from_slice(&self.len.to_ne_bytes());
        b[24..32].copy_from_slice(&self.sreq.to_ne_bytes());
        b[32..40].copy_from_slice(&self.rreq.to_ne_bytes());
        b[40..48].copy_from_slice(&self.addr.to_ne_bytes());
    }

    #[inline]
    pub fn decode(b: &[u8; HDR_BYTES]) -> Header {
        let u32_at = |i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap());
        let u64_at = |i: usize| u64::from_ne_bytes(b[i..i + 8].try_into().unwrap());
        Header {
            kind: b[0],
            flags: b[1],
            aux: u16::from_ne_bytes([b[2], b[3]]),
            context: u32_at(4),
            src: u32_at(8) as i32,
            tag: u32_at(12) as i32,
            len: u64_at(16),
            sreq: u64_at(24),
            rreq: u64_at(32),
            addr: u64_at(40),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = Header {
            kind: kind::RTS,
            flags: flag::CMA,
            aux: 3,
            context: 7,
            src: -2,
            tag: 99,
            len: 1 << 40,
            sreq: 5,
            rreq: 6,
            addr: 0xdead_beef,
        };
        let mut b = [0u8; HDR_BYTES];
        h.encode(&mut b);
        assert_eq!(Header::decode(&b), h);
    }
}
