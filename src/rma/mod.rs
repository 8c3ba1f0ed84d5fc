//! One-sided communication (MPI 4.1 chapter 12).
//!
//! A window is a private duplicate of its communicator (its own context ids), every
//! rank's size and displacement unit (exchanged at creation), and the local memory.
//! Operations travel as active messages ([`wire`]) on the window's point-to-point context:
//! the origin sends a request to the target; the target serves requests from an engine
//! poller ([`target::poll`]) that every MPI wait, test and blocking call runs, applying
//! them one at a time in arrival order. That makes accumulates element-wise atomic and
//! keeps MPI's default accumulate ordering (one ordered stream per origin-target pair).
//!
//! Completion: put and accumulate data are packed at the call, so they are locally
//! complete at once; the get family completes when the reply arrives. Remote completion
//! is a FLUSH (or UNLOCK) that the target acknowledges after everything before it.
//!
//! Locking rule: a window's mutexes may be held while calling non-blocking engine
//! functions (which take the engine lock); the engine lock is never held while taking a
//! window mutex, and blocking waits (`Engine::wait_until`) look only at atomics.
//!
//! Module map: `win` (the object, creation, free), `wire` (message format), `origin`
//! (issuing operations, flush), `target` (serving requests, lock manager), `sync` (fence,
//! PSCW, passive target), `shared` (MPI_Win_allocate_shared), `alloc` (MPI_Alloc_mem),
//! `hints` (the info hints a window knows).

pub mod alloc;
pub mod hints;
pub mod ops;
pub mod origin;
pub mod shared;
pub mod sync;
pub mod target;
pub mod win;
pub mod wire;

pub use win::{Flavor, Win};
