//! Which communicators have a region: made collectively on a communicator's first
//! collective that could use one, then found again at every call.
//!
//! The table is keyed by the communicator's collective-call counter (`Team::seq`, one
//! `Arc` per communicator) and holds a `Weak` of it: while the entry lives the address
//! cannot be reused by another communicator, and an entry whose communicator is gone
//! (freed) is swept, unmapping its region, when the next region is made. Each thread keeps
//! its last lookup in front of the table. Everything goes through [`get`]: once the
//! communicator carries this state itself (a `OnceLock` in `object::Comm`, reached through
//! `Team`), `get` reads it there and the table goes.
//!
//! Making a region (all members, in the same call, over point-to-point messages on the
//! collective context with an internal tag): rank 0 creates the memfd and sends its pid and
//! descriptor number; each rank maps it and answers whether it could; rank 0 sends the
//! verdict to all and closes the descriptor (the mappings keep the memory). The offer also
//! holds the address of a known word of rank 0's: a rank that can read it with a
//! single-copy read says so, and the verdict says whether all can (`shm::direct`). Any failure and
//! every rank goes on without a region for that communicator. The verdict also carries rank
//! 0's count of usable CPUs and whether the node is oversubscribed: the routes (`route`)
//! depend on them, and ranks whose affinity masks differ would otherwise choose different
//! routes for one call and wait for each other forever.

use super::{ShmComm, SLOT};
use crate::coll::internal::INTERNAL_TAG;
use crate::coll::sched::Team;
use crate::error::MpiError;
use crate::transport::coll_region::Region;
use crate::transport::fabric::Fabric;
use crate::transport::mem::OwnedBytes;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Weak};

/// Tag of the messages that set a region up (`internal` uses the two below it).
const REGION_TAG: i32 = INTERNAL_TAG + 2;

/// Where a communicator's ranks are, as the caller (which knows the node map) sees them.
pub struct Locate {
    /// Fabric index of each rank of the communicator when all are processes of this job on
    /// this node (None otherwise: no region).
    pub bells: Option<Vec<usize>>,
    /// More local ranks than cores.
    pub oversubscribed: bool,
}

struct Entry {
    comm: Weak<AtomicU32>,
    /// None: the communicator goes without.
    region: Option<Arc<ShmComm>>,
}

static TABLE: RwLock<Option<HashMap<usize, Entry>>> = RwLock::new(None);

thread_local! {
    /// The communicator this thread looked up last, and its region: a run of collectives
    /// on one communicator finds it without the table's lock and hash. The `Weak` pins the
    /// key's address, as the table's does, so an equal key is the same communicator. (A
    /// region freed meanwhile stays mapped until the thread looks up another communicator.)
    /// To go when the state hangs off the communicator (see the module doc).
    #[allow(clippy::type_complexity)]
    static LAST: std::cell::RefCell<Option<(usize, Weak<AtomicU32>, Option<Arc<ShmComm>>)>> =
        const { std::cell::RefCell::new(None) };
}

fn key(t: &Team) -> usize {
    Arc::as_ptr(&t.seq) as usize
}

/// The region of `t`'s communicator, made on the first call (`locate` says where its ranks
/// are); None when it has none. Collective on the first call of a communicator, so call it
/// only where every member calls it (a blocking collective every rank routes the same way).
pub fn get(t: &Team, locate: impl FnOnce() -> Locate) -> Result<Option<Arc<ShmComm>>, MpiError> {
    let k = key(t);
    if let Some(r) = LAST.with(|l| match &*l.borrow() {
        Some((lk, _, r)) if *lk == k => Some(r.clone()),
        _ => None,
    }) {
        return Ok(r);
    }
    let found = TABLE
        .read()
        .as_ref()
        .and_then(|m| m.get(&k))
        .map(|e| e.region.clone());
    let region = match found {
        Some(r) => r,
        None => made(t, locate)?,
    };
    LAST.with(|l| *l.borrow_mut() = Some((k, Arc::downgrade(&t.seq), region.clone())));
    Ok(region)
}

/// Makes `t`'s region (or settles that it has none) and enters it in the table.
fn made(t: &Team, locate: impl FnOnce() -> Locate) -> Result<Option<Arc<ShmComm>>, MpiError> {
    let region = if t.remote.is_some() || t.size() < 2 {
        None
    } else {
        let at = locate();
        match at.bells {
            Some(bells) if bells.len() == t.size() => make(t, bells, at.oversubscribed)?,
            _ => None,
        }
    };
    let mut table = TABLE.write();
    let map = table.get_or_insert_with(HashMap::new);
    map.retain(|_, e| e.comm.strong_count() > 0);
    map.insert(
        key(t),
        Entry {
            comm: Arc::downgrade(&t.seq),
            region: region.clone(),
        },
    );
    Ok(region)
}

/// What rank 0 offers the others to read at set-up: proof that single-copy reads work.
static PROBE: u64 = 0x6f78_696d_7069_636d;

/// Single-copy transfers are not switched off (OXIMPI_CMA=0).
fn cma_allowed() -> bool {
    crate::settings::CMA.get_switch().unwrap_or(true)
}

/// Whether this process can read rank 0's [`PROBE`] at `addr` (rank 0 is fabric index
/// `bell`): the kernel lets us read a peer's memory (`coll::shm::direct`).
fn probe(t: &Team, bell: usize, addr: u64) -> bool {
    let got = OwnedBytes::zeroed(8);
    let ok = t
        .engine
        .fab
        .read_remote(bell, &[(addr as usize, 8)], &[(got.ptr(), 8)])
        .is_ok_and(|n| n == 8);
    let mut v = [0u8; 8];
    got.ptr().read(0, &mut v);
    ok && u64::from_le_bytes(v) == PROBE
}

fn words(b: &[u8]) -> Vec<u64> {
    b.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

fn bytes(w: &[u64]) -> Vec<u8> {
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The collective set-up described in the module doc.
fn make(
    t: &Team,
    bells: Vec<usize>,
    oversubscribed: bool,
) -> Result<Option<Arc<ShmComm>>, MpiError> {
    let (e, n, me) = (t.engine, t.size(), t.rank);
    let send = |to: usize, w: &[u64]| {
        e.send_bytes(t.group.proc_of(to), t.ctx, me as i32, REGION_TAG, &bytes(w))
    };
    let recv = |from: usize, k: usize| -> Result<Vec<u64>, MpiError> {
        let mut b = vec![0u8; 8 * k];
        e.recv_exact(t.ctx, from as i32, REGION_TAG, &mut b)?;
        Ok(words(&b))
    };
    if me == 0 {
        let made = Region::create(n, SLOT).ok();
        let offer = match &made {
            Some((_, fd)) => [
                1,
                std::process::id() as u64,
                fd.as_raw_fd() as u64,
                &PROBE as *const u64 as u64,
            ],
            None => [0; 4],
        };
        for r in 1..n {
            send(r, &offer)?;
        }
        let (mut all, mut direct) = (made.is_some(), cma_allowed());
        for r in 1..n {
            let answer = recv(r, 2)?;
            all &= answer[0] == 1;
            direct &= answer[1] == 1;
        }
        let cpus = crate::transport::cpu::usable_cpus();
        let verdict = [
            all as u64,
            direct as u64,
            oversubscribed as u64,
            cpus as u64,
        ];
        for r in 1..n {
            send(r, &verdict)?;
        }
        // The descriptor closes here: every rank has mapped the memory or given up.
        Ok(made
            .filter(|_| all)
            .map(|(reg, _fd)| Arc::new(ShmComm::new(reg, me, bells, oversubscribed, direct, cpus))))
    } else {
        let offer = recv(0, 4)?;
        let mapped = match offer[..] {
            [1, pid, fd, _] => Region::open(pid as u32, fd as i32, n, SLOT).ok(),
            _ => None,
        };
        let can_read = mapped.is_some() && cma_allowed() && probe(t, bells[0], offer[3]);
        send(0, &[mapped.is_some() as u64, can_read as u64])?;
        // Rank 0's oversubscription and CPU count, not this rank's own (see the module doc).
        let verdict = recv(0, 4)?;
        Ok(mapped.filter(|_| verdict[0] == 1).map(|reg| {
            Arc::new(ShmComm::new(
                reg,
                me,
                bells,
                verdict[2] == 1,
                verdict[1] == 1,
                verdict[3] as usize,
            ))
        }))
    }
}
