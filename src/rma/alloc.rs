//! MPI_Alloc_mem / MPI_Free_mem: page-aligned, zero-filled mappings, remembered by address
//! so MPI_Free_mem can check what it is given.

use crate::error::{class, MpiError};
use crate::transport::shared_map::Mapping;
use parking_lot::Mutex;
use std::collections::HashMap;

static BLOCKS: Mutex<Option<HashMap<usize, Mapping>>> = Mutex::new(None);

/// A new block of `size` bytes; its address.
pub fn alloc(size: usize) -> Result<usize, MpiError> {
    let m = Mapping::anonymous(size).map_err(|e| {
        MpiError::new(
            class::ERR_NO_MEM,
            format!("cannot allocate {size} bytes: {e}"),
        )
    })?;
    let addr = m.addr();
    BLOCKS
        .lock()
        .get_or_insert_with(HashMap::new)
        .insert(addr, m);
    Ok(addr)
}

/// Frees the block at `addr` (which MPI_Alloc_mem returned).
pub fn free(addr: usize) -> Result<(), MpiError> {
    let m = BLOCKS.lock().as_mut().and_then(|b| b.remove(&addr));
    match m {
        Some(_) => Ok(()),
        None => Err(MpiError::arg(
            class::ERR_BASE,
            "base",
            format!("{addr:#x} was not returned by MPI_Alloc_mem"),
        )),
    }
}
