//! Events (MPI 4.1 §15.3.8): event types, registrations with callbacks, instances, and the
//! one event source (the monotonic clock).
//!
//! The engine raises an event with [`emit`] while it holds its own lock, where no user code
//! may run. So an instance is queued on every registration for its type (at most
//! [`QUEUE_MAX`]; beyond that it is counted as dropped) and delivered by [`deliver`] at a
//! safe point: the end of an MPI call, in the caller's thread, with no lock held. That
//! context meets every requirement (MPI_T_CB_REQUIRE_NONE), so the callback registered for
//! the least restrictive requirement is the one called. Dropped instances are reported to
//! the registration's dropped handler before its next delivery.

use super::ToolError;
use crate::object::info::Info;
use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// The type of one element of an event's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem {
    /// int
    I32,
    /// MPI_Count
    Count,
}

impl Elem {
    pub fn size(self) -> usize {
        match self {
            Elem::I32 => 4,
            Elem::Count => 8,
        }
    }
}

/// An event type.
pub struct EventType {
    pub name: &'static str,
    pub desc: &'static str,
    pub category: &'static str,
    /// The elements of the data, laid out at `offsets` (C struct layout).
    pub elems: &'static [Elem],
    pub offsets: &'static [usize],
}

/// What the engine raises; the index of the type in [`ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Kind {
    /// A message arrived before its receive: (source, tag, bytes).
    Unexpected = 0,
    /// A rendezvous send began: (destination, tag, bytes).
    RendezvousStart = 1,
}

pub static ALL: [EventType; 2] = [
    EventType {
        name: "unexpected_message",
        desc: "A point-to-point message arrived before a matching receive was posted \
               (elements: source rank in the communicator's group as the engine knows it, \
               tag, bytes)",
        category: "p2p",
        elems: &[Elem::I32, Elem::I32, Elem::Count],
        offsets: &[0, 4, 8],
    },
    EventType {
        name: "rendezvous_start",
        desc: "A message too large to send eagerly started the rendezvous protocol \
               (elements: destination, tag, bytes)",
        category: "p2p",
        elems: &[Elem::I32, Elem::I32, Elem::Count],
        offsets: &[0, 4, 8],
    },
];

/// Instances a registration keeps before it counts drops.
pub const QUEUE_MAX: usize = 1024;

/// The single event source.
pub const SOURCE_NAME: &str = "oximpi_monotonic";
pub const SOURCE_DESC: &str = "Monotonic clock of the process, in nanoseconds";
pub const TICKS_PER_SECOND: i64 = 1_000_000_000;

/// Nanoseconds since the first use of the clock (the source's timestamp).
pub fn now() -> i64 {
    static T0: OnceLock<Instant> = OnceLock::new();
    T0.get_or_init(Instant::now).elapsed().as_nanos() as i64
}

/// One raised event.
#[derive(Clone, Debug)]
pub struct Instance {
    pub event: usize,
    pub timestamp: i64,
    pub source: usize,
    /// The elements laid out as the type's offsets say.
    pub data: [u8; 16],
}

impl Instance {
    /// Element `i`'s bytes.
    pub fn element(&self, i: usize) -> Result<&[u8], ToolError> {
        let t = &ALL[self.event];
        let e = t.elems.get(i).ok_or(ToolError::InvalidIndex)?;
        let o = t.offsets[i];
        Ok(&self.data[o..o + e.size()])
    }
    /// The whole data (MPI_T_event_copy).
    pub fn bytes(&self) -> &[u8] {
        let t = &ALL[self.event];
        let end = t
            .elems
            .iter()
            .zip(t.offsets)
            .map(|(e, o)| o + e.size())
            .max()
            .unwrap_or(0);
        &self.data[..end]
    }
}

/// MPI_T_cb_safety, least restrictive first.
pub const SAFETY_LEVELS: usize = 4;

/// A callback: (instance id, registration id, safety level).
pub type Callback = Arc<dyn Fn(u64, u64, usize) + Send + Sync>;
/// A dropped handler: (count, registration id, source index, safety level, the user value
/// of the callback that would have received the instances).
pub type DroppedHandler = Arc<dyn Fn(u64, u64, usize, usize, usize) + Send + Sync>;

struct Registration {
    event: usize,
    info: Info,
    /// Per safety level: the callback, its info hints, and the user's value for it.
    callbacks: [Option<(Callback, Info, usize)>; SAFETY_LEVELS],
    dropped_handler: Option<DroppedHandler>,
    pending: VecDeque<Instance>,
    dropped: u64,
}

#[derive(Default)]
struct Registry {
    regs: HashMap<u64, Registration>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);
/// Per event type: is anybody registered? (emit's fast path)
static LISTENED: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];
/// Some registration has instances or drops to deliver.
static PENDING: AtomicBool = AtomicBool::new(false);
static NEXT_ID: AtomicU64 = AtomicU64::new(16);

fn with<R>(f: impl FnOnce(&mut Registry) -> Result<R, ToolError>) -> Result<R, ToolError> {
    let mut g = REGISTRY.lock();
    f(g.get_or_insert_with(Registry::default))
}

fn relisten(r: &Registry) {
    for (i, l) in LISTENED.iter().enumerate() {
        l.store(r.regs.values().any(|g| g.event == i), Ordering::Release);
    }
}

pub fn index(name: &str) -> Result<usize, ToolError> {
    ALL.iter()
        .position(|e| e.name == name)
        .ok_or(ToolError::InvalidName)
}

pub fn get(i: usize) -> Result<&'static EventType, ToolError> {
    ALL.get(i).ok_or(ToolError::InvalidIndex)
}

/// MPI_T_event_handle_alloc.
pub fn handle_alloc(event: usize, info: Info) -> Result<u64, ToolError> {
    get(event)?;
    let id = NEXT_ID.fetch_add(16, Ordering::Relaxed);
    with(|r| {
        r.regs.insert(
            id,
            Registration {
                event,
                info,
                callbacks: Default::default(),
                dropped_handler: None,
                pending: VecDeque::new(),
                dropped: 0,
            },
        );
        relisten(r);
        Ok(id)
    })
}

/// MPI_T_event_handle_free: no more deliveries to it (pending instances are discarded).
pub fn handle_free(reg: u64) -> Result<(), ToolError> {
    with(|r| {
        r.regs.remove(&reg).ok_or(ToolError::InvalidHandle)?;
        relisten(r);
        Ok(())
    })
}

pub fn handle_info(reg: u64) -> Result<Info, ToolError> {
    with(|r| {
        Ok(r.regs
            .get(&reg)
            .ok_or(ToolError::InvalidHandle)?
            .info
            .clone())
    })
}

pub fn set_handle_info(reg: u64, info: &Info) -> Result<(), ToolError> {
    with(|r| {
        let g = r.regs.get_mut(&reg).ok_or(ToolError::InvalidHandle)?;
        for (k, v) in info.iter() {
            g.info.set(k, v);
        }
        Ok(())
    })
}

/// MPI_T_event_register_callback (None removes the callback of that level).
pub fn register_callback(
    reg: u64,
    safety: usize,
    cb: Option<Callback>,
    info: Info,
    user: usize,
) -> Result<(), ToolError> {
    if safety >= SAFETY_LEVELS {
        return Err(ToolError::Invalid);
    }
    with(|r| {
        let g = r.regs.get_mut(&reg).ok_or(ToolError::InvalidHandle)?;
        g.callbacks[safety] = cb.map(|c| (c, info, user));
        Ok(())
    })
}

pub fn callback_info(reg: u64, safety: usize) -> Result<Info, ToolError> {
    if safety >= SAFETY_LEVELS {
        return Err(ToolError::Invalid);
    }
    with(|r| {
        let g = r.regs.get(&reg).ok_or(ToolError::InvalidHandle)?;
        Ok(g.callbacks[safety]
            .as_ref()
            .map(|(_, i, _)| i.clone())
            .unwrap_or_default())
    })
}

pub fn set_callback_info(reg: u64, safety: usize, info: &Info) -> Result<(), ToolError> {
    if safety >= SAFETY_LEVELS {
        return Err(ToolError::Invalid);
    }
    with(|r| {
        let g = r.regs.get_mut(&reg).ok_or(ToolError::InvalidHandle)?;
        // Hints for a level with no callback have nothing to apply to (MPI_T_ERR_INVALID).
        let (_, i, _) = g.callbacks[safety].as_mut().ok_or(ToolError::Invalid)?;
        for (k, v) in info.iter() {
            i.set(k, v);
        }
        Ok(())
    })
}

pub fn set_dropped_handler(reg: u64, h: Option<DroppedHandler>) -> Result<(), ToolError> {
    with(|r| {
        let g = r.regs.get_mut(&reg).ok_or(ToolError::InvalidHandle)?;
        g.dropped_handler = h;
        Ok(())
    })
}

/// Raises an event (from the engine, under its lock): queues an instance on every
/// registration for it. One atomic load when nobody listens.
#[inline]
pub fn emit(kind: Kind, a: i32, b: i32, count: i64) {
    if !LISTENED[kind as usize].load(Ordering::Acquire) {
        return;
    }
    emit_slow(kind, a, b, count);
}

#[cold]
fn emit_slow(kind: Kind, a: i32, b: i32, count: i64) {
    let mut data = [0u8; 16];
    data[0..4].copy_from_slice(&a.to_ne_bytes());
    data[4..8].copy_from_slice(&b.to_ne_bytes());
    data[8..16].copy_from_slice(&count.to_ne_bytes());
    let inst = Instance {
        event: kind as usize,
        timestamp: now(),
        source: 0,
        data,
    };
    let _ = with(|r| {
        for g in r.regs.values_mut().filter(|g| g.event == kind as usize) {
            if g.pending.len() < QUEUE_MAX {
                g.pending.push_back(inst.clone());
            } else {
                g.dropped += 1;
            }
        }
        Ok(())
    });
    PENDING.store(true, Ordering::Release);
}

/// True if [`deliver`] has work (one atomic load: called at the end of every MPI call).
#[inline]
pub fn pending() -> bool {
    PENDING.load(Ordering::Acquire)
}

thread_local! {
    /// Instances whose callbacks are running in this thread (MPI_T_event_read & co. are
    /// valid only inside the callback).
    static CURRENT: RefCell<HashMap<u64, Instance>> = RefCell::new(HashMap::new());
}

/// Runs `f` on the live instance `id` (inside its callback).
pub fn with_instance<R>(id: u64, f: impl FnOnce(&Instance) -> R) -> Result<R, ToolError> {
    CURRENT.with(|c| c.borrow().get(&id).map(f).ok_or(ToolError::InvalidHandle))
}

/// Delivers queued instances and drop counts: callbacks run here, with no lock held.
pub fn deliver() {
    if !PENDING.swap(false, Ordering::AcqRel) {
        return;
    }
    // Take the work out under the lock, call out without it.
    // Per registration: its id, the callback to call with its user value, the dropped
    // handler, how many instances were dropped, and the instances.
    type Work = (
        u64,
        Option<(Callback, usize)>,
        Option<DroppedHandler>,
        u64,
        Vec<Instance>,
    );
    let work: Vec<Work> = with(|r| {
        Ok(r.regs
            .iter_mut()
            .filter(|(_, g)| !g.pending.is_empty() || g.dropped > 0)
            .map(|(&id, g)| {
                let cb = g
                    .callbacks
                    .iter()
                    .enumerate()
                    .find_map(|(_, c)| c.as_ref().map(|(f, _, user)| (f.clone(), *user)));
                let dropped = std::mem::take(&mut g.dropped);
                let insts: Vec<Instance> = g.pending.drain(..).collect();
                (id, cb, g.dropped_handler.clone(), dropped, insts)
            })
            .collect())
    })
    .unwrap_or_default();
    // The context guarantees every level, so callbacks are told MPI_T_CB_REQUIRE_NONE (0).
    for (reg, cb, dh, dropped, insts) in work {
        if dropped > 0 {
            if let Some(h) = dh {
                h(dropped, reg, 0, 0, cb.as_ref().map_or(0, |(_, user)| *user));
            }
        }
        let Some((cb, _)) = cb else { continue };
        for inst in insts {
            let id = NEXT_ID.fetch_add(16, Ordering::Relaxed);
            CURRENT.with(|c| c.borrow_mut().insert(id, inst));
            cb(id, reg, 0);
            CURRENT.with(|c| c.borrow_mut().remove(&id));
        }
    }
}

/// The last MPI_T_finalize: every registration goes.
pub(super) fn clear() {
    *REGISTRY.lock() = None;
    for l in &LISTENED {
        l.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn queued_then_delivered_with_data() {
        let seen = Arc::new(AtomicUsize::new(0));
        let reg = handle_alloc(Kind::RendezvousStart as usize, Info::new()).unwrap();
        let s = seen.clone();
        let cb: Callback = Arc::new(move |inst, _reg, safety| {
            assert_eq!(safety, 0);
            let bytes = with_instance(inst, |i| i.element(2).unwrap().to_vec()).unwrap();
            assert_eq!(i64::from_ne_bytes(bytes.try_into().unwrap()), 1 << 20);
            s.fetch_add(1, Ordering::SeqCst);
        });
        register_callback(reg, 1, Some(cb), Info::new(), 0).unwrap();
        emit(Kind::RendezvousStart, 3, 7, 1 << 20);
        emit(Kind::Unexpected, 0, 0, 1); // nobody listens: not queued anywhere
        assert!(pending());
        deliver();
        assert_eq!(seen.load(Ordering::SeqCst), 1);
        handle_free(reg).unwrap();
        assert_eq!(handle_free(reg), Err(ToolError::InvalidHandle));
    }
}
