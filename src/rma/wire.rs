//! The active messages of one-sided communication, as bytes.
//!
//! A request (origin → target, tag [`REQ_TAG`] on the window's context) is a fixed header,
//! the target's byte runs and the payload:
//!
//! ```text
//! kind u8 | basic u8 | op u8 | lock u8 | reply_tag i32 | nruns u32 | payload_len u64
//! nruns × (offset i64, len u64)        offsets from the target's window base
//! payload                              put/accumulate data, then a compare value (CAS)
//! ```
//!
//! Replies (target → origin) go to the tag the origin chose, on the same context: the
//! packed target data for the get family, or a 4-byte error class for acks.

use crate::datatype::Basic;

/// Tag of every request to a target. Replies use tags from 1 up.
pub const REQ_TAG: i32 = 0;

pub mod kind {
    pub const PUT: u8 = 1;
    pub const GET: u8 = 2;
    pub const ACC: u8 = 3;
    /// Get-accumulate (and fetch-and-op): the old target data comes back.
    pub const GACC: u8 = 4;
    pub const CAS: u8 = 5;
    /// Acknowledge once everything this origin sent before has been applied.
    pub const FLUSH: u8 = 6;
    pub const LOCK: u8 = 7;
    /// Release a lock (after the earlier operations: acts as a flush too).
    pub const UNLOCK: u8 = 8;
    /// PSCW: the target exposes its window to this origin.
    pub const POST: u8 = 9;
    /// PSCW: the origin's access epoch to this target is over.
    pub const COMPLETE: u8 = 10;
}

pub const LOCK_EXCLUSIVE: u8 = 1;
pub const LOCK_SHARED: u8 = 2;

const HEADER: usize = 20;
const RUN: usize = 16;

/// Every basic kind, so a kind travels as its index.
const BASICS: [Basic; 30] = [
    Basic::Char,
    Basic::Byte,
    Basic::Packed,
    Basic::Marker,
    Basic::Bool,
    Basic::Logical,
    Basic::I8,
    Basic::I16,
    Basic::I32,
    Basic::I64,
    Basic::U8,
    Basic::U16,
    Basic::U32,
    Basic::U64,
    Basic::F16,
    Basic::F32,
    Basic::F64,
    Basic::F80,
    Basic::C32,
    Basic::C64,
    Basic::C80,
    Basic::PairF32I32,
    Basic::PairF64I32,
    Basic::PairI64I32,
    Basic::PairI16I32,
    Basic::PairI32I32,
    Basic::PairF80I32,
    Basic::PairF32F32,
    Basic::PairF64F64,
    Basic::WChar,
];

pub fn basic_code(b: Basic) -> u8 {
    BASICS.iter().position(|&x| x == b).unwrap_or(0) as u8
}

pub fn basic_of(code: u8) -> Option<Basic> {
    BASICS.get(code as usize).copied()
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub kind: u8,
    pub basic: u8,
    /// Index of the predefined op (`PredefOp as u8`).
    pub op: u8,
    pub lock: u8,
    pub reply_tag: i32,
    pub runs: Vec<(i64, u64)>,
    pub payload: Vec<u8>,
}

impl Request {
    pub fn control(kind: u8, reply_tag: i32) -> Request {
        Request {
            kind,
            basic: 0,
            op: 0,
            lock: 0,
            reply_tag,
            runs: Vec::new(),
            payload: Vec::new(),
        }
    }

    /// Total bytes the runs cover.
    pub fn run_bytes(&self) -> u64 {
        self.runs.iter().map(|r| r.1).sum()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + RUN * self.runs.len() + self.payload.len());
        out.extend_from_slice(&[self.kind, self.basic, self.op, self.lock]);
        out.extend_from_slice(&self.reply_tag.to_le_bytes());
        out.extend_from_slice(&(self.runs.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.payload.len() as u64).to_le_bytes());
        for &(o, l) in &self.runs {
            out.extend_from_slice(&o.to_le_bytes());
            out.extend_from_slice(&l.to_le_bytes());
        }
        out.extend_from_slice(&self.payload);
        out
    }

    /// None for a malformed message (it never comes from an OxiMPI origin).
    pub fn decode(b: &[u8]) -> Option<Request> {
        if b.len() < HEADER {
            return None;
        }
        let le4 = |i: usize| <[u8; 4]>::try_from(&b[i..i + 4]).ok();
        let le8 = |i: usize| <[u8; 8]>::try_from(&b[i..i + 8]).ok();
        let reply_tag = i32::from_le_bytes(le4(4)?);
        let nruns = u32::from_le_bytes(le4(8)?) as usize;
        let plen = u64::from_le_bytes(le8(12)?) as usize;
        let runs_end = HEADER.checked_add(nruns.checked_mul(RUN)?)?;
        if b.len() != runs_end.checked_add(plen)? {
            return None;
        }
        let runs = (0..nruns)
            .map(|i| {
                let at = HEADER + i * RUN;
                Some((
                    i64::from_le_bytes(le8(at)?),
                    u64::from_le_bytes(le8(at + 8)?),
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Request {
            kind: b[0],
            basic: b[1],
            op: b[2],
            lock: b[3],
            reply_tag,
            runs,
            payload: b[runs_end..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = Request {
            kind: kind::ACC,
            basic: basic_code(Basic::F64),
            op: 2,
            lock: 0,
            reply_tag: 77,
            runs: vec![(0, 8), (-16, 24)],
            payload: vec![1, 2, 3],
        };
        assert_eq!(Request::decode(&r.encode()), Some(r.clone()));
        assert_eq!(basic_of(r.basic), Some(Basic::F64));
        let mut bad = r.encode();
        bad.pop();
        assert_eq!(Request::decode(&bad), None);
    }
}
