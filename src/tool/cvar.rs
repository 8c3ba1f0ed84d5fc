//! Control variables (MPI 4.1 §15.3.6): the library's settings (`crate::settings`) as MPI_T
//! shows them. A control variable is bound to no object and local to the process; it can
//! be written until the layer that uses it has read it (then "not now"). `OXIMPI_CMA` is
//! an enumeration (off/on), to give tools the names of its values.

use super::ToolError;
use crate::settings::{self, Kind, Knob, Value, WriteError};

pub fn count() -> usize {
    settings::ALL.len()
}

pub fn get(i: usize) -> Result<&'static Knob, ToolError> {
    settings::ALL.get(i).copied().ok_or(ToolError::InvalidIndex)
}

pub fn index(name: &str) -> Result<usize, ToolError> {
    settings::ALL
        .iter()
        .position(|k| k.name == name)
        .ok_or(ToolError::InvalidName)
}

/// How many elements a handle on this variable reads or writes: 1, or for text the
/// buffer size a read needs (the longest value it may hold, plus the NUL).
pub fn element_count(k: &Knob) -> usize {
    match k.kind {
        Kind::Text => crate::settings::TEXT_MAX,
        _ => 1,
    }
}

/// The value in force (text knobs with no value read as "").
pub fn read(k: &Knob) -> Value {
    k.current().unwrap_or(match k.kind {
        Kind::Unsigned => Value::Unsigned(0),
        Kind::Switch => Value::Switch(false),
        Kind::Text => Value::Text(String::new()),
    })
}

pub fn write(k: &Knob, v: Value) -> Result<(), ToolError> {
    k.write(v).map_err(|e| match e {
        WriteError::NotNow => ToolError::CvarSetNotNow,
        WriteError::BadValue => ToolError::Invalid,
    })
}

/// The one enumeration: the values of a switch.
pub const SWITCH_ITEMS: [(&str, i32); 2] = [("off", 0), ("on", 1)];
pub const SWITCH_ENUM_NAME: &str = "oximpi_switch";

// Handles: an id per MPI_T_cvar_handle_alloc, naming the variable.
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

static HANDLES: Mutex<Option<HashMap<u64, usize>>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(16);

/// MPI_T_cvar_handle_alloc: (handle, element count).
pub fn handle_alloc(i: usize) -> Result<(u64, usize), ToolError> {
    let k = get(i)?;
    let id = NEXT_ID.fetch_add(16, Ordering::Relaxed);
    HANDLES
        .lock()
        .get_or_insert_with(HashMap::new)
        .insert(id, i);
    Ok((id, element_count(k)))
}

pub fn handle_free(id: u64) -> Result<(), ToolError> {
    HANDLES
        .lock()
        .get_or_insert_with(HashMap::new)
        .remove(&id)
        .map(|_| ())
        .ok_or(ToolError::InvalidHandle)
}

/// The variable a handle names.
pub fn handle_knob(id: u64) -> Result<&'static Knob, ToolError> {
    let i = *HANDLES
        .lock()
        .get_or_insert_with(HashMap::new)
        .get(&id)
        .ok_or(ToolError::InvalidHandle)?;
    get(i)
}

/// The last MPI_T_finalize frees every handle.
pub(super) fn clear() {
    *HANDLES.lock() = None;
}
