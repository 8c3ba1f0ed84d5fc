//! Performance variables (MPI 4.1 §15.3.7): the engine's counters as MPI_T shows them,
//! with sessions and handles.
//!
//! Every variable here is continuous (it counts from the start of the process; starting and
//! stopping a handle is refused with "no start/stop") and bound to no object. A handle keeps
//! a baseline: reading gives the counter minus the baseline, a reset moves the baseline to
//! the counter, a write moves it so that the handle reads the value written. Levels and the
//! high-water mark describe the present state and are read-only.

use super::counters::{self as c, Counter};
use super::ToolError;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// MPI_T_PVAR_CLASS_*.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Level,
    HighWaterMark,
    Counter,
    Timer,
}

/// The C type of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// unsigned long long
    U64,
    /// double (seconds, for timers)
    F64,
}

/// A value read from a handle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    U64(u64),
    F64(f64),
}

/// One performance variable.
pub struct Pvar {
    pub name: &'static str,
    pub desc: &'static str,
    pub class: Class,
    pub category: &'static str,
    source: Source,
    /// Timers count nanoseconds and show seconds.
    nanos_as_seconds: bool,
}

/// Where a variable's value comes from.
enum Source {
    Count(&'static Counter),
    UnexpectedLen,
    PostedLen,
}

impl Pvar {
    pub fn ty(&self) -> Type {
        if self.nanos_as_seconds {
            Type::F64
        } else {
            Type::U64
        }
    }
    /// Levels and high-water marks cannot be written or reset.
    pub fn readonly(&self) -> bool {
        matches!(self.class, Class::Level | Class::HighWaterMark)
    }
    fn raw(&self) -> u64 {
        match self.source {
            Source::Count(c) => c.get(),
            Source::UnexpectedLen => c::queue_lengths().0,
            Source::PostedLen => c::queue_lengths().1,
        }
    }
}

const fn pv(
    name: &'static str,
    class: Class,
    category: &'static str,
    source: &'static Counter,
    desc: &'static str,
) -> Pvar {
    Pvar {
        name,
        desc,
        class,
        category,
        source: Source::Count(source),
        nanos_as_seconds: false,
    }
}

const fn level(name: &'static str, source: Source, desc: &'static str) -> Pvar {
    Pvar {
        name,
        desc,
        class: Class::Level,
        category: "p2p",
        source,
        nanos_as_seconds: false,
    }
}

/// Every performance variable, in the order MPI_T numbers them.
pub static ALL: [Pvar; 16] = [
    pv(
        "shm_msgs_sent",
        Class::Counter,
        "p2p",
        &c::SHM.msgs_sent,
        "Point-to-point messages sent through the node's shared memory",
    ),
    pv(
        "shm_bytes_sent",
        Class::Counter,
        "p2p",
        &c::SHM.bytes_sent,
        "Payload bytes of messages sent through the node's shared memory",
    ),
    pv(
        "shm_msgs_recvd",
        Class::Counter,
        "p2p",
        &c::SHM.msgs_recvd,
        "Point-to-point messages received through the node's shared memory",
    ),
    pv(
        "shm_bytes_recvd",
        Class::Counter,
        "p2p",
        &c::SHM.bytes_recvd,
        "Payload bytes of messages received through the node's shared memory",
    ),
    pv(
        "sock_msgs_sent",
        Class::Counter,
        "p2p",
        &c::SOCK.msgs_sent,
        "Messages sent through sockets (to processes of other jobs)",
    ),
    pv(
        "sock_bytes_sent",
        Class::Counter,
        "p2p",
        &c::SOCK.bytes_sent,
        "Payload bytes sent through sockets (to processes of other jobs)",
    ),
    pv(
        "sock_msgs_recvd",
        Class::Counter,
        "p2p",
        &c::SOCK.msgs_recvd,
        "Messages received through sockets (from processes of other jobs)",
    ),
    pv(
        "sock_bytes_recvd",
        Class::Counter,
        "p2p",
        &c::SOCK.bytes_recvd,
        "Payload bytes received through sockets (from processes of other jobs)",
    ),
    pv(
        "eager_sends",
        Class::Counter,
        "p2p",
        &c::EAGER_SENDS,
        "Messages sent eagerly (payload with the envelope)",
    ),
    pv(
        "rndv_sends",
        Class::Counter,
        "p2p",
        &c::RNDV_SENDS,
        "Messages sent with the rendezvous protocol",
    ),
    pv(
        "single_copy_reads",
        Class::Counter,
        "p2p",
        &c::SINGLE_COPY_READS,
        "Rendezvous payloads moved by a single copy (process_vm_readv)",
    ),
    level(
        "unexpected_queue_length",
        Source::UnexpectedLen,
        "Messages waiting in the unexpected queue (arrived before their receive)",
    ),
    pv(
        "unexpected_queue_hwm",
        Class::HighWaterMark,
        "p2p",
        &c::UNEXPECTED_HWM,
        "The longest the unexpected queue has been",
    ),
    level(
        "posted_queue_length",
        Source::PostedLen,
        "Receives posted and not yet matched",
    ),
    Pvar {
        name: "time_blocked",
        desc: "Seconds blocked calls spent waiting for progress once they had polled for a \
               while (spinning, yielding, asleep)",
        class: Class::Timer,
        category: "progress",
        source: Source::Count(&c::BLOCKED_NS),
        nanos_as_seconds: true,
    },
    pv(
        "sched_steps",
        Class::Counter,
        "coll",
        &c::SCHED_STEPS,
        "Steps (send, receive, reduce, copy) started by collective schedules",
    ),
];

/// A handle: which variable, and its baseline.
struct Handle {
    pvar: usize,
    baseline: u64,
}

#[derive(Default)]
struct Session {
    handles: HashMap<u64, Handle>,
}

#[derive(Default)]
struct Sessions {
    map: HashMap<u64, Session>,
}

static SESSIONS: Mutex<Option<Sessions>> = Mutex::new(None);
/// Ids for sessions and handles: never 0 (the C NULL handle) and never reused.
static NEXT_ID: AtomicU64 = AtomicU64::new(16);

fn new_id() -> u64 {
    NEXT_ID.fetch_add(16, Relaxed)
}

fn with<R>(f: impl FnOnce(&mut Sessions) -> Result<R, ToolError>) -> Result<R, ToolError> {
    let mut g = SESSIONS.lock();
    f(g.get_or_insert_with(Sessions::default))
}

/// Index of the variable called `name` of class `class`.
pub fn index(name: &str, class: Class) -> Result<usize, ToolError> {
    ALL.iter()
        .position(|p| p.name == name && p.class == class)
        .ok_or(ToolError::InvalidName)
}

pub fn get(i: usize) -> Result<&'static Pvar, ToolError> {
    ALL.get(i).ok_or(ToolError::InvalidIndex)
}

pub fn session_create() -> u64 {
    let id = new_id();
    let _ = with(|s| {
        s.map.insert(id, Session::default());
        Ok(())
    });
    id
}

/// Frees a session and every handle in it.
pub fn session_free(id: u64) -> Result<(), ToolError> {
    with(|s| {
        s.map
            .remove(&id)
            .map(|_| ())
            .ok_or(ToolError::InvalidSession)
    })
}

/// A handle for variable `pvar` in `session`; returns (handle, element count).
pub fn handle_alloc(session: u64, pvar: usize) -> Result<(u64, usize), ToolError> {
    let v = get(pvar)?;
    with(|s| {
        let sess = s.map.get_mut(&session).ok_or(ToolError::InvalidSession)?;
        let id = new_id();
        let baseline = if v.readonly() { 0 } else { v.raw() };
        sess.handles.insert(id, Handle { pvar, baseline });
        Ok((id, 1))
    })
}

pub fn handle_free(session: u64, handle: u64) -> Result<(), ToolError> {
    with(|s| {
        let sess = s.map.get_mut(&session).ok_or(ToolError::InvalidSession)?;
        sess.handles
            .remove(&handle)
            .map(|_| ())
            .ok_or(ToolError::InvalidHandle)
    })
}

fn value_of(v: &Pvar, h: &Handle) -> Value {
    let n = v.raw().wrapping_sub(h.baseline);
    if v.nanos_as_seconds {
        Value::F64(n as f64 * 1e-9)
    } else {
        Value::U64(n)
    }
}

/// Runs `f` on handle `handle` of `session` and its variable.
fn with_handle<R>(
    session: u64,
    handle: u64,
    f: impl FnOnce(&'static Pvar, &mut Handle) -> Result<R, ToolError>,
) -> Result<R, ToolError> {
    with(|s| {
        let sess = s.map.get_mut(&session).ok_or(ToolError::InvalidSession)?;
        let h = sess
            .handles
            .get_mut(&handle)
            .ok_or(ToolError::InvalidHandle)?;
        f(&ALL[h.pvar], h)
    })
}

/// The variable behind a handle (to type a read or write buffer).
pub fn handle_pvar(session: u64, handle: u64) -> Result<&'static Pvar, ToolError> {
    with_handle(session, handle, |v, _| Ok(v))
}

/// Reads a handle; with `reset`, also resets it (MPI_T_pvar_readreset).
pub fn read(session: u64, handle: u64, reset: bool) -> Result<Value, ToolError> {
    with_handle(session, handle, |v, h| {
        if reset && v.readonly() {
            return Err(ToolError::PvarNoWrite);
        }
        let val = value_of(v, h);
        if reset {
            h.baseline = v.raw();
        }
        Ok(val)
    })
}

/// Makes a handle read `val` from now on (moves its baseline).
pub fn write(session: u64, handle: u64, val: Value) -> Result<(), ToolError> {
    with_handle(session, handle, |v, h| {
        if v.readonly() {
            return Err(ToolError::PvarNoWrite);
        }
        let n = match val {
            Value::U64(n) => n,
            Value::F64(x) if x >= 0.0 => (x * 1e9) as u64,
            Value::F64(_) => return Err(ToolError::Invalid),
        };
        h.baseline = v.raw().wrapping_sub(n);
        Ok(())
    })
}

/// Resets one handle, or (`handle` None: MPI_T_PVAR_ALL_HANDLES) every handle of the session
/// that can be reset.
pub fn reset(session: u64, handle: Option<u64>) -> Result<(), ToolError> {
    with(|s| {
        let sess = s.map.get_mut(&session).ok_or(ToolError::InvalidSession)?;
        match handle {
            Some(id) => {
                let h = sess.handles.get_mut(&id).ok_or(ToolError::InvalidHandle)?;
                let v = &ALL[h.pvar];
                if v.readonly() {
                    return Err(ToolError::PvarNoWrite);
                }
                h.baseline = v.raw();
            }
            None => {
                for h in sess.handles.values_mut() {
                    let v = &ALL[h.pvar];
                    if !v.readonly() {
                        h.baseline = v.raw();
                    }
                }
            }
        }
        Ok(())
    })
}

/// MPI_T_pvar_start / stop: every variable is continuous, so a single handle refuses
/// (MPI_T_ERR_PVAR_NO_STARTSTOP) and "all handles" has nothing to do, successfully.
pub fn start_stop(session: u64, handle: Option<u64>) -> Result<(), ToolError> {
    with(|s| {
        let sess = s.map.get(&session).ok_or(ToolError::InvalidSession)?;
        match handle {
            Some(id) if !sess.handles.contains_key(&id) => Err(ToolError::InvalidHandle),
            Some(_) => Err(ToolError::PvarNoStartStop),
            None => Ok(()),
        }
    })
}

/// MPI_T_finalize of the last initialization: every session and handle goes.
pub(super) fn clear() {
    *SESSIONS.lock() = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_handle_baseline() {
        let i = index("sched_steps", Class::Counter).unwrap();
        let s = session_create();
        c::SCHED_STEPS.add(5);
        let (h, n) = handle_alloc(s, i).unwrap();
        assert_eq!(n, 1);
        c::SCHED_STEPS.add(3);
        assert_eq!(read(s, h, false).unwrap(), Value::U64(3));
        assert_eq!(read(s, h, true).unwrap(), Value::U64(3));
        assert_eq!(read(s, h, false).unwrap(), Value::U64(0));
        write(s, h, Value::U64(10)).unwrap();
        assert_eq!(read(s, h, false).unwrap(), Value::U64(10));
        assert_eq!(start_stop(s, Some(h)), Err(ToolError::PvarNoStartStop));
        assert_eq!(start_stop(s, None), Ok(()));
        handle_free(s, h).unwrap();
        assert_eq!(read(s, h, false), Err(ToolError::InvalidHandle));
        session_free(s).unwrap();
        assert_eq!(session_free(s), Err(ToolError::InvalidSession));
    }

    #[test]
    fn levels_are_readonly() {
        let i = index("unexpected_queue_length", Class::Level).unwrap();
        assert_eq!(
            index("unexpected_queue_length", Class::Counter),
            Err(ToolError::InvalidName)
        );
        let s = session_create();
        let (h, _) = handle_alloc(s, i).unwrap();
        assert_eq!(reset(s, Some(h)), Err(ToolError::PvarNoWrite));
        assert_eq!(write(s, h, Value::U64(1)), Err(ToolError::PvarNoWrite));
        assert_eq!(reset(s, None), Ok(()));
        session_free(s).unwrap();
    }
}
