//! Communicators: a group, my rank in it, and the context ids that keep its traffic apart.

use super::attr::AttrList;
use super::errhandler::Errhandler;
use super::group::Group;
use super::info::Info;
use parking_lot::Mutex;
use std::sync::Arc;

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
}

impl Comm {
    pub fn new(context_id: u32, rank: u32, group: Arc<Group>, name: &str) -> Self {
        Comm {
            context_id,
            rank,
            group,
            remote: None,
            errhandler: Mutex::new(Errhandler::Fatal),
            name: Mutex::new(name.to_string()),
            topo: parking_lot::RwLock::new(None),
            attrs: Mutex::new(AttrList::default()),
            info: Mutex::new(Info::new()),
            coll_seq: Arc::new(std::sync::atomic::AtomicU32::new(0)),
        }
    }

    /// An intercommunicator: `group` is the local group, `remote` the other side.
    pub fn new_inter(context_id: u32, rank: u32, group: Arc<Group>, remote: Arc<Group>) -> Self {
        let mut c = Comm::new(context_id, rank, group, "");
        c.remote = Some(remote);
        c
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
