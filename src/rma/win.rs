//! The window object: creation (every flavor goes through [`Win::build`]), the registry the
//! target poller serves, and MPI_Win_free.

use super::hints::Hints;
use super::origin::Origin;
use super::target::TargetState;
use crate::coll::internal;
use crate::comm_build::create as comm_create;
use crate::error::{class, MpiError};
use crate::object::attr::AttrList;
use crate::object::comm::Comm;
use crate::object::errhandler::Errhandler;
use crate::p2p::NodeEngine;
use crate::runtime::Runtime;
use crate::transport::mem::UserPtr;
use crate::transport::shared_map::Mapping;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

/// True when every byte of `[addr, addr + len)` lies in one of the attached `regions`. An
/// access may span regions that the user attached next to each other: the memory is
/// contiguous and all of it exposed (MPICH accepts such an access too).
fn covered(regions: &[(usize, usize)], addr: u64, len: u64) -> bool {
    let Some(end) = addr.checked_add(len) else {
        return false;
    };
    if len == 0 {
        return true;
    }
    // Regions never overlap (attach refuses that), so the one holding `at` is unique.
    let mut at = addr;
    while at < end {
        match regions
            .iter()
            .find(|&&(a, l)| a as u64 <= at && at < a as u64 + l as u64)
        {
            Some(&(a, l)) => at = a as u64 + l as u64,
            None => return false,
        }
    }
    true
}

/// MPI_WIN_FLAVOR_* values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Create = 1,
    Allocate = 2,
    Dynamic = 3,
    Shared = 4,
}

/// MPI_WIN_UNIFIED: every flavor's memory is plain process memory, and the target applies
/// operations directly to it.
pub const MODEL_UNIFIED: i32 = 2;

/// What every rank knows about rank r's window.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    pub size: u64,
    pub disp_unit: i64,
}

pub struct Win {
    /// Private duplicate of the creating communicator.
    pub comm: Comm,
    /// The process's runtime, handed down once at creation so the one-sided layer never
    /// reaches for a global: its engine carries every transfer of the window, its context
    /// table gets the window's context back at MPI_Win_free.
    pub rt: &'static Runtime,
    pub flavor: Flavor,
    /// Local memory (address 0 for a dynamic window: displacements are addresses).
    pub base: UserPtr,
    pub size: u64,
    pub disp_unit: i64,
    pub peers: Vec<Peer>,
    /// Shared windows: each rank's memory in this process's mapping.
    pub shared_bases: Vec<usize>,
    /// Memory the window owns (allocate / shared flavors).
    _mem: Option<Mapping>,
    /// Dynamic windows: attached (address, length) regions.
    pub regions: Mutex<Vec<(usize, usize)>>,
    pub errhandler: Mutex<Errhandler>,
    pub name: Mutex<String>,
    pub attrs: Mutex<AttrList>,
    /// The info hints in force (MPI_Win_get_info / MPI_Win_set_info).
    pub hints: Mutex<Hints>,
    pub(crate) origin: Mutex<Origin>,
    pub(crate) target: Mutex<TargetState>,
    /// PSCW: POST messages received from each rank and not yet consumed by a start.
    pub(crate) posts: Vec<AtomicU32>,
    /// PSCW: COMPLETE messages received from each rank and not yet consumed by a wait.
    pub(crate) completes: Vec<AtomicU32>,
    /// Replies of the get family still expected from each target.
    pub(crate) pending: Vec<AtomicU32>,
    /// Sends (requests and replies) still in flight.
    pub(crate) in_flight: AtomicUsize,
    // The cells the predefined attributes point to.
    pub attr_size: i64,
    pub attr_disp_unit: i32,
    pub attr_flavor: i32,
    pub attr_model: i32,
}

/// Windows the target poller serves.
static REGISTRY: Mutex<Vec<Arc<Win>>> = Mutex::new(Vec::new());

/// The live windows (a snapshot for the poller).
pub(crate) fn registered() -> Vec<Arc<Win>> {
    REGISTRY.lock().clone()
}

/// How a window's memory is given.
pub enum Memory {
    /// The user's memory (MPI_Win_create).
    User(UserPtr),
    /// Memory the window owns.
    Owned(Mapping),
    /// Dynamic: no memory until attached; `zero` is the address-0 pointer.
    Dynamic(UserPtr),
    /// Shared: the whole node segment, this rank's base in it, every rank's base (address
    /// 0 for a rank without memory).
    Shared(Mapping, UserPtr, Vec<usize>),
}

impl Win {
    /// Creates a window over `parent` (collective). `comm` is the already duplicated
    /// communicator when the flavor needed it before (shared windows).
    pub fn build(
        rt: &'static Runtime,
        comm: Comm,
        flavor: Flavor,
        mem: Memory,
        size: u64,
        disp_unit: i64,
        hints: Hints,
    ) -> Result<Arc<Win>, MpiError> {
        let engine = &rt.engine;
        let mut mine = Vec::with_capacity(16);
        mine.extend_from_slice(&size.to_le_bytes());
        mine.extend_from_slice(&disp_unit.to_le_bytes());
        let all = internal::allgather(engine, &comm, &mine)?;
        let peers = all
            .chunks_exact(16)
            .map(|c| Peer {
                size: u64::from_le_bytes(c[..8].try_into().expect("8 bytes")),
                disp_unit: i64::from_le_bytes(c[8..].try_into().expect("8 bytes")),
            })
            .collect::<Vec<_>>();
        let n = comm.size();
        let (base, owned, shared_bases) = match mem {
            Memory::User(p) | Memory::Dynamic(p) => (p, None, Vec::new()),
            Memory::Owned(m) => (m.ptr(), Some(m), Vec::new()),
            Memory::Shared(m, base, bases) => (base, Some(m), bases),
        };
        let counters = || (0..n).map(|_| AtomicU32::new(0)).collect::<Vec<_>>();
        let w = Arc::new(Win {
            flavor,
            base,
            size,
            disp_unit,
            peers,
            shared_bases,
            _mem: owned,
            regions: Mutex::new(Vec::new()),
            errhandler: Mutex::new(Errhandler::Unset),
            name: Mutex::new(String::new()),
            attrs: Mutex::new(AttrList::default()),
            hints: Mutex::new(hints),
            origin: Mutex::new(Origin::new(n)),
            target: Mutex::new(TargetState::new(n)),
            posts: counters(),
            completes: counters(),
            pending: counters(),
            in_flight: AtomicUsize::new(0),
            attr_size: size as i64,
            attr_disp_unit: disp_unit as i32,
            attr_flavor: flavor as i32,
            attr_model: MODEL_UNIFIED,
            comm,
            rt,
        });
        REGISTRY.lock().push(w.clone());
        engine.add_poller(&super::target::POLLER);
        Ok(w)
    }

    /// The private communicator for a new window over `parent`.
    pub fn dup_comm(rt: &Runtime, parent: &Comm) -> Result<Comm, MpiError> {
        if parent.is_inter() {
            return Err(MpiError::arg(
                class::ERR_COMM,
                "comm",
                "windows need an intracommunicator",
            ));
        }
        comm_create::dup(rt, parent)
    }

    /// The engine every transfer of the window goes through.
    #[inline]
    pub fn engine(&self) -> &'static NodeEngine {
        &self.rt.engine
    }

    #[inline]
    pub fn rank(&self) -> usize {
        self.comm.rank as usize
    }

    #[inline]
    pub fn size_of_group(&self) -> usize {
        self.comm.size()
    }

    /// MPI_Win_free (collective): refuses while an epoch is open, lets every other rank
    /// finish with this memory (a barrier, during which requests are still served), then
    /// forgets the window.
    pub fn free(self: &Arc<Win>) -> Result<(), MpiError> {
        self.origin.lock().check_closed()?;
        super::origin::wait_replies(self, None);
        let e = self.engine();
        internal::barrier(e, &self.comm)?;
        // Replies and acknowledgements this rank sent must leave before the context goes.
        e.wait_until(|_, _| (self.in_flight.load(Ordering::Acquire) == 0).then_some(()));
        REGISTRY.lock().retain(|w| !Arc::ptr_eq(w, self));
        comm_create::release_context(self.rt, self.comm.context_id);
        Ok(())
    }

    /// MPI_Win_attach: exposes `[addr, addr + len)` of a dynamic window.
    pub fn attach(&self, addr: usize, len: usize) -> Result<(), MpiError> {
        if self.flavor != Flavor::Dynamic {
            return Err(MpiError::arg(
                class::ERR_RMA_FLAVOR,
                "win",
                "MPI_Win_attach needs a window made by MPI_Win_create_dynamic",
            ));
        }
        let mut r = self.regions.lock();
        let end = addr
            .checked_add(len)
            .ok_or_else(|| MpiError::arg(class::ERR_RMA_ATTACH, "size", "region wraps around"))?;
        if r.iter().any(|&(a, l)| addr < a + l && a < end) {
            return Err(MpiError::arg(
                class::ERR_RMA_ATTACH,
                "base",
                "region overlaps a region already attached",
            ));
        }
        r.push((addr, len));
        Ok(())
    }

    /// MPI_Win_detach: the region attached at `addr`.
    pub fn detach(&self, addr: usize) -> Result<(), MpiError> {
        if self.flavor != Flavor::Dynamic {
            return Err(MpiError::arg(
                class::ERR_RMA_FLAVOR,
                "win",
                "MPI_Win_detach needs a window made by MPI_Win_create_dynamic",
            ));
        }
        let mut r = self.regions.lock();
        match r.iter().position(|&(a, _)| a == addr) {
            Some(i) => {
                r.remove(i);
                Ok(())
            }
            None => Err(MpiError::arg(
                class::ERR_RMA_ATTACH,
                "base",
                format!("no region is attached at {addr:#x}"),
            )),
        }
    }

    /// True when `[off, off + len)` (from this rank's base; an address for a dynamic
    /// window) lies in exposed memory.
    pub fn in_range(&self, off: i64, len: u64) -> bool {
        if off < 0 {
            return false;
        }
        if self.flavor == Flavor::Dynamic {
            return covered(&self.regions.lock(), off as u64, len);
        }
        (off as u64)
            .checked_add(len)
            .is_some_and(|e| e <= self.size)
    }

    /// MPI_Win_shared_query: (size, disp_unit, base address) of `rank`'s memory, as far as
    /// this process can reach it with loads and stores (size 0 and address 0 otherwise).
    pub fn shared_query(&self, rank: usize) -> Result<(u64, i64, usize), MpiError> {
        match self.flavor {
            Flavor::Dynamic => Err(MpiError::arg(
                class::ERR_RMA_FLAVOR,
                "win",
                "MPI_Win_shared_query is not defined on a dynamic window",
            )),
            Flavor::Shared => {
                let p = self.peers[rank];
                Ok((p.size, p.disp_unit, self.shared_bases[rank]))
            }
            _ if rank == self.rank() => Ok((self.size, self.disp_unit, self.base.addr())),
            _ => Ok((0, self.peers[rank].disp_unit, 0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::covered;

    #[test]
    fn coverage_spans_adjacent_regions_only() {
        let r = [(100, 10), (110, 10), (130, 10)];
        assert!(covered(&r, 100, 10));
        assert!(covered(&r, 105, 10), "spans the two adjacent regions");
        assert!(covered(&r, 100, 20));
        assert!(!covered(&r, 115, 10), "runs into the gap at 120");
        assert!(!covered(&r, 95, 10), "starts before the first region");
        assert!(covered(&r, 135, 5));
        assert!(!covered(&r, 135, 6));
        assert!(covered(&r, 500, 0), "an empty access touches nothing");
        assert!(!covered(&r, u64::MAX, 2));
    }
}
