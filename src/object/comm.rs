//! Communicators: a group, my rank in it, and the context ids that keep its traffic apart.

use super::attr::AttrList;
use super::errhandler::Errhandler;
use super::group::Group;
use super::info::Info;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Whether the program set the errhandler of MPI_COMM_WORLD / MPI_COMM_SELF (the only
/// communicators with these context ids in a process).
static WORLD_SET: AtomicBool = AtomicBool::new(false);
static SELF_SET: AtomicBool = AtomicBool::new(false);

fn predefined_set_flag(context_id: u32) -> Option<&'static AtomicBool> {
    match context_id {
        crate::runtime::WORLD_CONTEXT => Some(&WORLD_SET),
        crate::runtime::SELF_CONTEXT => Some(&SELF_SET),
        _ => None,
    }
}

pub struct Comm {
    /// Context id of point-to-point traffic; collective traffic uses `context_id + 1`.
    pub context_id: u32,
    /// My rank in the (local) group.
    pub rank: u32,
    pub group: Arc<Group>,
    /// The remote group of an intercommunicator.
    pub remote: Option<Arc<Group>>,
    pub errhandler: Mutex<Errhandler>,
    pub name: Mutex<String>,
    /// The virtual topology (owned by `crate::topo`, which knows its concrete type);
    /// Comm_dup copies it.
    pub topo: parking_lot::RwLock<Option<Arc<dyn std::any::Any + Send + Sync>>>,
    /// Cached attributes (MPI_Comm_set_attr); `abi::attr` runs their callbacks.
    pub attrs: Mutex<AttrList>,
    /// Hints given by MPI_Comm_set_info / *_with_info (returned by MPI_Comm_get_info).
    pub info: Mutex<Info>,
    /// Number of collective calls started on this communicator: each gets its own tag
    /// sequence, the same on every member because every member counts from 0.
    pub coll_seq: Arc<std::sync::atomic::AtomicU32>,
    /// ULFM state: acknowledged failures, agreements run.
    pub ft: crate::ft::CommFt,
}

impl Drop for Comm {
    fn drop(&mut self) {
        // Its context block may be reused: the fault-tolerance layer forgets it (once per
        // registration; see `ft::members`).
        crate::ft::members::forget(self.context_id, &self.group);
        if self.remote.is_some() {
            crate::ft::members::forget(self.context_id, &self.group);
        }
    }
}

impl Comm {
    pub fn new(context_id: u32, rank: u32, group: Arc<Group>, name: &str) -> Self {
        crate::ft::members::register(context_id, &group, None);
        Comm {
            context_id,
            rank,
            group,
            remote: None,
            // A new communicator has no handler of its own until a constructor gives it its
            // parent's (`comm_create::derived`) or the program sets one.
            errhandler: Mutex::new(Errhandler::Unset),
            name: Mutex::new(name.to_string()),
            topo: parking_lot::RwLock::new(None),
            attrs: Mutex::new(AttrList::default()),
            info: Mutex::new(Info::new()),
            coll_seq: Arc::new(std::sync::atomic::AtomicU32::new(0)),
            ft: Default::default(),
        }
    }

    /// An intercommunicator: `group` is the local group, `remote` the other side.
    pub fn new_inter(context_id: u32, rank: u32, group: Arc<Group>, remote: Arc<Group>) -> Self {
        let mut c = Comm::new(context_id, rank, group, "");
        crate::ft::members::register(context_id, &c.group, Some(&remote));
        c.remote = Some(remote);
        c
    }

    /// The handler this communicator has of its own (what its errors use before the
    /// dynamic default, and what a constructor copies to its children): `Unset` for
    /// MPI_COMM_WORLD and MPI_COMM_SELF until the program sets theirs — the runtime gives
    /// them MPI_ERRORS_ARE_FATAL, which is what MPI_Comm_get_errhandler reports meanwhile —
    /// else the stored one.
    pub fn own_errhandler(&self) -> Errhandler {
        match predefined_set_flag(self.context_id) {
            Some(set) if !set.load(Ordering::Relaxed) => Errhandler::Unset,
            _ => self.errhandler.lock().clone(),
        }
    }

    /// MPI_Comm_set_errhandler.
    pub fn set_errhandler(&self, e: Errhandler) {
        *self.errhandler.lock() = e;
        if let Some(set) = predefined_set_flag(self.context_id) {
            set.store(true, Ordering::Relaxed);
        }
    }

    #[inline]
    pub fn is_inter(&self) -> bool {
        self.remote.is_some()
    }

    /// Number of ranks a point-to-point call can address (the remote group for an
    /// intercommunicator).
    #[inline]
    pub fn peer_size(&self) -> usize {
        match &self.remote {
            Some(g) => g.size(),
            None => self.group.size(),
        }
    }

    #[inline]
    pub fn size(&self) -> usize {
        self.group.size()
    }

    /// Endpoint of peer rank `r` (in the remote group for an intercommunicator).
    #[inline]
    pub fn peer(&self, r: usize) -> u32 {
        match &self.remote {
            Some(g) => g.proc_of(r),
            None => self.group.proc_of(r),
        }
    }

    #[inline]
    pub fn coll_context(&self) -> u32 {
        self.context_id + 1
    }
}
