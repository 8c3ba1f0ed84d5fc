//! Sessions (MPI 4): a handle on the library independent of MPI_Init, with its own
//! errhandler and info, through which processes name process sets (psets).

use super::errhandler::Errhandler;
use super::group::Group;
use super::info::Info;
use parking_lot::Mutex;

pub const PSET_WORLD: &str = "mpi://WORLD";
pub const PSET_SELF: &str = "mpi://SELF";
/// The process sets every session knows, in the order MPI_Session_get_nth_pset gives them.
pub const PSETS: [&str; 2] = [PSET_WORLD, PSET_SELF];

pub struct Session {
    pub errhandler: Mutex<Errhandler>,
    /// The info given at MPI_Session_init (plus the thread level), for
    /// MPI_Session_get_info. Set once MPI_Session_init has read it: the session exists from
    /// the start of that call, so its errors already go to its errhandler.
    pub info: Mutex<Info>,
}

impl Session {
    pub fn new(errhandler: Errhandler, info: Info) -> Self {
        Session {
            errhandler: Mutex::new(errhandler),
            info: Mutex::new(info),
        }
    }
}

/// The group of pset `name` for a process of rank `rank` in a world of `size`, or None if
/// the name is unknown. Pset names are case-insensitive, as the standard's are.
pub fn pset_group(name: &str, rank: u32, size: u32) -> Option<Group> {
    if name.eq_ignore_ascii_case(PSET_WORLD) {
        Some(Group::new((0..size).collect()))
    } else if name.eq_ignore_ascii_case(PSET_SELF) {
        Some(Group::new(vec![rank]))
    } else {
        None
    }
}
