//! Processes beyond our world. Endpoint numbers are private to each process (world ranks
//! first, then other jobs' processes in the order this process met them), so anything that
//! crosses a job boundary names processes by their *gpid* — their job's key with their rank
//! in its low bits — their job's token, and their place (host and TCP address), which is
//! all it takes to reach them from any host.

use crate::error::{class, MpiError};
use crate::runtime::{Runtime, GPID_RANK_BITS};
use crate::transport::links::Card;
use crate::transport::sock::place::{self, Place, PLACE_BYTES};

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

/// Bytes of one process in a list: gpid, token, place.
const ENTRY: usize = 16 + PLACE_BYTES;

/// Where the members of a group listen: each member gives its own place (`mine`, from
/// `my_place`) and learns everybody's, so that any member can later tell another job
/// where each member is. `eps` are the members in the order of `all`'s entries.
pub fn learn_places(rt: &Runtime, eps: &[u32], all: &[u8]) -> Result<(), MpiError> {
    if all.len() != eps.len() * PLACE_BYTES {
        return Err(MpiError::intern("places of a group of the wrong length"));
    }
    for (&ep, b) in eps.iter().zip(all.chunks_exact(PLACE_BYTES)) {
        let p = Place::decode(b).ok_or_else(|| MpiError::intern("malformed place"))?;
        place::learn(card_of(rt, ep)?.gpid, p);
    }
    Ok(())
}

/// Where this process listens (after `listen`), in wire form.
pub fn my_place(rt: &Runtime) -> [u8; PLACE_BYTES] {
    let gpid = rt.job.key | rt.rank as u64;
    place::lookup(gpid).encode()
}

/// The wire form of a list of processes: gpid, token and place of each.
pub fn encode(rt: &Runtime, eps: &[u32]) -> Result<Vec<u8>, MpiError> {
    let mut b = Vec::with_capacity(eps.len() * ENTRY);
    for &ep in eps {
        let c = card_of(rt, ep)?;
        b.extend_from_slice(&c.gpid.to_le_bytes());
        b.extend_from_slice(&c.token.to_le_bytes());
        b.extend_from_slice(&place::lookup(c.gpid).encode());
    }
    Ok(b)
}

/// The endpoints of a list in wire form, learning new processes and where they are.
pub fn decode(rt: &Runtime, b: &[u8]) -> Result<Vec<u32>, MpiError> {
    if b.len() % ENTRY != 0 {
        return Err(MpiError::intern(format!(
            "process list of a length not a multiple of {ENTRY}"
        )));
    }
    b.chunks_exact(ENTRY)
        .map(|c| {
            let card = Card {
                gpid: u64::from_le_bytes(c[..8].try_into().expect("8 bytes")),
                token: u64::from_le_bytes(c[8..16].try_into().expect("8 bytes")),
            };
            let p = Place::decode(&c[16..]).expect("PLACE_BYTES bytes");
            // Our own job's processes told us their places themselves.
            if card.gpid & !RANK_MASK != rt.job.key {
                place::learn(card.gpid, p);
            }
            ep_of(rt, card)
        })
        .collect()
}
