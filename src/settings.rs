//! The library's tuning knobs: every `OXIMPI_*` setting a rank reads, in one table.
//!
//! Each knob is read from its environment variable, or from a value a tool wrote through
//! MPI_T (`MPI_T_cvar_write`) before the layer that uses it started. The layer that uses a
//! knob reads it once, at start-up, with [`Knob::get`], and records what it really uses with
//! [`Knob::set_effective`] (an eager limit is capped by the cell size, a spin time depends on
//! the load), so a tool reading the control variable afterwards sees the value in force.
//! After that a write is refused with "not now" (the layer will not look again).
//!
//! Launcher settings (`MPIEXEC_TIMEOUT`, `MPIEXEC_UNIVERSE_SIZE`, `OXIMPI_NAMESERVER`) belong
//! to mpiexec, not to a rank, and are not here.

use parking_lot::Mutex;

/// The type of a knob's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A non-negative integer.
    Unsigned,
    /// On or off ("0" is off; anything else is on).
    Switch,
    /// Text (a path, a socket address).
    Text,
}

/// A knob's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Unsigned(u64),
    Switch(bool),
    Text(String),
}

/// One setting.
pub struct Knob {
    /// The environment variable, which is also the MPI_T control variable's name.
    pub name: &'static str,
    pub desc: &'static str,
    pub kind: Kind,
    /// What the library uses when nothing sets the knob (`None`: decided at start-up, see
    /// the description).
    pub default: Option<Value>,
    /// The category (a group of related knobs and counters; see `tool::category`).
    pub category: &'static str,
    state: Mutex<KnobState>,
}

#[derive(Default)]
struct KnobState {
    /// Written through MPI_T before the layer read it.
    written: Option<Value>,
    /// What the layer uses, once it has read the knob.
    effective: Option<Value>,
}

/// The longest text value a knob holds (a path or socket address), NUL included: the element
/// count of a text control variable.
pub const TEXT_MAX: usize = 4096;

/// Why a write was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The layer that uses the knob already read it.
    NotNow,
    /// The value does not fit the knob's kind.
    BadValue,
}

impl Knob {
    const fn new(
        name: &'static str,
        kind: Kind,
        default: Option<Value>,
        category: &'static str,
        desc: &'static str,
    ) -> Knob {
        Knob {
            name,
            desc,
            kind,
            default,
            category,
            state: Mutex::new(KnobState {
                written: None,
                effective: None,
            }),
        }
    }

    /// The value the user asked for: written through MPI_T, else the environment, else none
    /// (the layer then uses its default). A malformed environment value is reported on
    /// stderr and ignored.
    pub fn get(&self) -> Option<Value> {
        if let Some(v) = self.state.lock().written.clone() {
            return Some(v);
        }
        let s = std::env::var(self.name).ok()?;
        let v = parse(self.kind, &s);
        if v.is_none() {
            eprintln!("oximpi: ignoring {}={s:?} (not a valid value)", self.name);
        }
        v
    }

    /// [`get`](Self::get) as a number (for `Unsigned` knobs).
    pub fn get_u64(&self) -> Option<u64> {
        match self.get()? {
            Value::Unsigned(n) => Some(n),
            _ => None,
        }
    }

    /// [`get`](Self::get) as on/off (for `Switch` knobs).
    pub fn get_switch(&self) -> Option<bool> {
        match self.get()? {
            Value::Switch(b) => Some(b),
            _ => None,
        }
    }

    /// [`get`](Self::get) as text (for `Text` knobs).
    pub fn get_text(&self) -> Option<String> {
        match self.get()? {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Records the value the layer really uses; writes are refused from now on.
    pub fn set_effective(&self, v: Value) {
        self.state.lock().effective = Some(v);
    }

    /// The value in force: the effective one once the layer started, else what the user
    /// asked for, else the default.
    pub fn current(&self) -> Option<Value> {
        let st = self.state.lock();
        if let Some(v) = &st.effective {
            return Some(v.clone());
        }
        drop(st);
        self.get().or_else(|| self.default.clone())
    }

    /// True while a write can still take effect.
    pub fn writable(&self) -> bool {
        self.state.lock().effective.is_none()
    }

    /// MPI_T_cvar_write: sets the value the layer will read at start-up.
    pub fn write(&self, v: Value) -> Result<(), WriteError> {
        let ok = match (self.kind, &v) {
            (Kind::Unsigned, Value::Unsigned(_)) | (Kind::Switch, Value::Switch(_)) => true,
            (Kind::Text, Value::Text(t)) => t.len() < TEXT_MAX,
            _ => false,
        };
        if !ok {
            return Err(WriteError::BadValue);
        }
        let mut st = self.state.lock();
        if st.effective.is_some() {
            return Err(WriteError::NotNow);
        }
        st.written = Some(v);
        Ok(())
    }
}

/// Parses an environment value: numbers accept a k/K, m/M or g/G suffix (powers of 1024).
pub fn parse(kind: Kind, s: &str) -> Option<Value> {
    let s = s.trim();
    match kind {
        Kind::Unsigned => parse_size(s).map(Value::Unsigned),
        Kind::Switch => Some(Value::Switch(s != "0")),
        Kind::Text => Some(Value::Text(s.to_string())),
    }
}

/// "4096", "32k", "1M", "2g" as a number of units.
pub fn parse_size(s: &str) -> Option<u64> {
    let (digits, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// Largest message sent eagerly (read by the point-to-point engine at start-up).
pub static EAGER_LIMIT: Knob = Knob::new(
    "OXIMPI_EAGER_LIMIT",
    Kind::Unsigned,
    None,
    "p2p",
    "Largest message, in bytes, sent eagerly (in shared-memory cells); larger ones use \
     rendezvous. Default and maximum: the cell payload size.",
);

/// Single-copy transfers through process_vm_readv.
pub static CMA: Knob = Knob::new(
    "OXIMPI_CMA",
    Kind::Switch,
    Some(Value::Switch(true)),
    "p2p",
    "Single-copy transfers of large messages (process_vm_readv); 0 uses the pipelined copy \
     through shared memory. Also off when the kernel forbids it.",
);

/// The smallest rendezvous message read in one copy (read by the point-to-point engine at
/// start-up, `Engine::new`, where the default is chosen and explained).
pub static CMA_MIN: Knob = Knob::new(
    "OXIMPI_CMA_MIN",
    Kind::Unsigned,
    None,
    "p2p",
    "Smallest message, in bytes (k/M suffixes accepted), that a process on the same host \
     reads in one copy from the sender's memory (process_vm_readv); larger-than-eager \
     messages below it stream through shared-memory cells (two copies, pipelined) when no \
     other such message is streaming (behind one, a burst, they are read too). Default \
     64 KiB, or 0 (every rendezvous message single-copy) when the processes on \
     this host outnumber its cores. Decided by the sender.",
);

/// The smallest single-copy message whose copy the sender shares (read by the
/// point-to-point engine at start-up, `Engine::new`, where the default is chosen and
/// explained; the protocol is `p2p::engine::rendezvous`'s split copy).
pub static CMA_SPLIT: Knob = Knob::new(
    "OXIMPI_CMA_SPLIT",
    Kind::Unsigned,
    None,
    "p2p",
    "Smallest single-copy message, in bytes (k/M suffixes accepted), that a process on the \
     same host copies together with its sender: the receiver reads the first half from the \
     sender's memory (process_vm_readv) while the sender writes the second half into the \
     receiver's (process_vm_writev). 0 turns it off: the receiver copies alone. Default \
     64 KiB, or 0 when the processes on this host outnumber its cores. Decided by the \
     receiver.",
);

/// How long a blocked call polls before it yields and then sleeps.
pub static SPIN: Knob = Knob::new(
    "OXIMPI_SPIN",
    Kind::Unsigned,
    None,
    "progress",
    "Microseconds a blocked call polls before it yields and then sleeps on its doorbell. \
     Default 1000, or 0 when the processes on this host outnumber its cores.",
);

/// Shared-memory cells per rank.
pub static SHM_CELLS: Knob = Knob::new(
    "OXIMPI_SHM_CELLS",
    Kind::Unsigned,
    Some(Value::Unsigned(64)),
    "shm",
    "Shared-memory cells per rank (the depth of the small-message queue). Under mpiexec the \
     launcher's value is used.",
);

/// Payload bytes of one shared-memory cell.
pub static SHM_CELL_SIZE: Knob = Knob::new(
    "OXIMPI_SHM_CELL_SIZE",
    Kind::Unsigned,
    Some(Value::Unsigned(32 * 1024)),
    "shm",
    "Payload bytes of one shared-memory cell (k/M suffixes accepted). Under mpiexec the \
     launcher's value is used.",
);

/// The launcher a program started without one runs when it needs one (to spawn).
pub static MPIEXEC: Knob = Knob::new(
    "OXIMPI_MPIEXEC",
    Kind::Text,
    None,
    "dpm",
    "The mpiexec a singleton starts when it spawns; default <libdir>/../bin/mpiexec, else \
     mpiexec on PATH.",
);

/// Which transport reaches the other ranks of the job (read by `runtime` at start-up).
pub static TRANSPORT: Knob = Knob::new(
    "OXIMPI_TRANSPORT",
    Kind::Text,
    Some(Value::Text(String::new())),
    "p2p",
    "How ranks reach each other: empty or \"auto\" uses shared memory on a host and TCP \
     between hosts; \"tcp\" sends to every other rank over TCP, also on one host (shared \
     memory stays for messages to oneself). Every rank of a job must have the same value.",
);

/// The interface TCP listens on (read by `runtime` at start-up, see `transport::tcp::addr`).
pub static TCP_IFACE: Knob = Knob::new(
    "OXIMPI_TCP_IFACE",
    Kind::Text,
    None,
    "p2p",
    "Network interface (or IPv4 address) the TCP transport listens on; default the address \
     of the host's name, else the first non-loopback interface, else loopback.",
);

/// The PMIx library loaded when a PMIx server started the process (read by `pmi::pmix`).
pub static PMIX_LIBRARY: Knob = Knob::new(
    "OXIMPI_PMIX_LIBRARY",
    Kind::Text,
    Some(Value::Text(String::new())),
    "launch",
    "The PMIx client library loaded (at MPI_Init) when the environment says a PMIx server \
     started the process (srun --mpi=pmix, prterun); empty means libpmix.so.2.",
);

/// A fault-tolerant run (ULFM, read by `runtime` at start-up): set by mpiexec
/// -disable-auto-cleanup; under hydra's own -disable-auto-cleanup the user sets it.
pub static FT: Knob = Knob::new(
    "OXIMPI_FT",
    Kind::Switch,
    Some(Value::Switch(false)),
    "launch",
    "Fault-tolerant run (ULFM): the launcher keeps the job going when a rank dies and \
     announces the death (SIGUSR1 and the PMI key PMI_dead_processes); operations on a \
     failed peer end with MPIX_ERR_PROC_FAILED. Set by mpiexec -disable-auto-cleanup.",
);

/// The locking of the engine and the segment's process-local state (read by `runtime` at
/// MPI_Init, see `transport::exclusive`).
pub static LOCKS: Knob = Knob::new(
    "OXIMPI_LOCKS",
    Kind::Text,
    Some(Value::Text(String::new())),
    "progress",
    "Locking of the library's state: empty or \"exclusive\" takes no locked instruction \
     when MPI_Init gives less than MPI_THREAD_MULTIPLE (the program promises one thread in \
     MPI at a time) and real locks otherwise; \"shared\" keeps real locks at every level.",
);

/// Every knob, in the order MPI_T numbers the control variables.
pub static ALL: [&Knob; 13] = [
    &EAGER_LIMIT,
    &CMA,
    &SPIN,
    &SHM_CELLS,
    &SHM_CELL_SIZE,
    &MPIEXEC,
    &TRANSPORT,
    &TCP_IFACE,
    &PMIX_LIBRARY,
    &FT,
    &LOCKS,
    &CMA_MIN,
    &CMA_SPLIT,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("32k"), Some(32 << 10));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn write_until_effective() {
        let k = Knob::new(
            "OXIMPI_TEST_KNOB_UNSET",
            Kind::Unsigned,
            None,
            "p2p",
            "test",
        );
        assert_eq!(k.current(), None);
        assert_eq!(k.write(Value::Switch(true)), Err(WriteError::BadValue));
        k.write(Value::Unsigned(5)).unwrap();
        assert_eq!(k.get_u64(), Some(5));
        k.set_effective(Value::Unsigned(4));
        assert_eq!(k.current(), Some(Value::Unsigned(4)));
        assert_eq!(k.write(Value::Unsigned(6)), Err(WriteError::NotNow));
        assert!(!k.writable());
    }
}
