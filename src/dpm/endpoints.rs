//! Processes beyond our world. Endpoint numbers are private to each process (world ranks
//! first, then other jobs' processes in the order this process met them), so anything that
//! crosses a job boundary names processes by their *gpid* — their job's key with their rank
//! in its low bits — and their job's token, which is all it takes to reach them.

use crate::error::{class, MpiError};
use crate::runtime::{Runtime, GPID_RANK_BITS};
use crate::transport::links::Card;

const RANK_MASK: u64 = (1 << GPID_RANK_BITS) - 1;

/// How process `ep` is reached from anywhere.
pub fn card_of(rt: &Runtime, ep: u32) -> Result<Card, MpiError> {
    if ep < rt.size {
        return Ok(Card {
            gpid: rt.job.key | ep as u64,
            token: rt.job.token,
        });
    }
    rt.links()
        .card_of((ep - rt.size) as usize)
        .ok_or_else(|| MpiError::intern(format!("unknown endpoint {ep}")))
}

/// The endpoint of the process with `card`, learning it if new.
pub fn ep_of(rt: &Runtime, card: Card) -> Result<u32, MpiError> {
    if card.gpid & !RANK_MASK == rt.job.key {
        let r = (card.gpid & RANK_MASK) as u32;
        if r >= rt.size {
            return Err(MpiError::intern(format!(
                "process id {:#x} names rank {r} of our own job of {}",
                card.gpid, rt.size
            )));
        }
        return Ok(r);
    }
    Ok(rt.size + rt.links().peer(card) as u32)
}

/// A key that orders processes the same way in every process (unlike endpoint numbers).
pub fn order_key(rt: &Runtime, ep: u32) -> u64 {
    card_of(rt, ep).map(|c| c.gpid).unwrap_or(u64::MAX)
}

/// True if process `a` comes before process `b` in the order every process agrees on
/// (used to pick which side of a meeting goes first).
pub fn precedes(rt: &Runtime, a: u32, b: u32) -> bool {
    order_key(rt, a) < order_key(rt, b)
}

/// Makes sure this process listens for processes of other jobs.
pub fn listen(rt: &Runtime) -> Result<(), MpiError> {
    rt.links().listen().map(|_| ()).map_err(|e| {
        MpiError::new(
            class::ERR_OTHER,
            format!("cannot listen for other jobs' processes: {e}"),
        )
    })
}

/// The wire form of a list of processes: 16 bytes each (gpid, token).
pub fn encode(rt: &Runtime, eps: &[u32]) -> Result<Vec<u8>, MpiError> {
    let mut b = Vec::with_capacity(eps.len() * 16);
    for &ep in eps {
        let c = card_of(rt, ep)?;
        b.extend_from_slice(&c.gpid.to_le_bytes());
        b.extend_from_slice(&c.token.to_le_bytes());
    }
    Ok(b)
}

/// The endpoints of a list in wire form, learning new processes.
pub fn decode(rt: &Runtime, b: &[u8]) -> Result<Vec<u32>, MpiError> {
    if b.len() % 16 != 0 {
        return Err(MpiError::intern(
            "process list of a length not a multiple of 16",
        ));
    }
    b.chunks_exact(16)
        .map(|c| {
            ep_of(
                rt,
                Card {
                    gpid: u64::from_le_bytes(c[..8].try_into().expect("8 bytes")),
                    token: u64::from_le_bytes(c[8..].try_into().expect("8 bytes")),
                },
            )
        })
        .collect()
}
