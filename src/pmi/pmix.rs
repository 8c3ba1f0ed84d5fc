//! The PMIx client (`srun --mpi=pmix`, Open MPI's `prterun`/`mpirun`): the real libpmix,
//! loaded at run time by `transport::pmix` only when the environment says a PMIx server
//! started this process.
//!
//! PMI's key-value space maps onto PMIx as: put = `PMIx_Put(GLOBAL)`, barrier = commit plus
//! a fence that collects the data, get = `PMIx_Get` from the process that put the key. PMI
//! keys are global while PMIx files them per process (and PMIx 4's `PMIX_RANK_UNDEF`, "any
//! process", is not served by its shared-memory store: the get waits until it times out), so
//! the writer is read from the key: OxiMPI's keys end in `-<rank of the writer>` (the
//! runtime's `oximpi-shm-<rank>`); a key without that suffix is read from rank 0.

use super::error::PmiError;
use crate::transport::pmix::{Datum, Pmix, PmixFailure, RANK_WILDCARD};

/// The library opened when `OXIMPI_PMIX_LIBRARY` does not name another.
pub const DEFAULT_LIBRARY: &str = "libpmix.so.2";

/// A PMIx connection to the process manager.
pub struct PmixClient {
    lib: Pmix,
    size: u32,
    appnum: i32,
    universe_size: i32,
    node_map: Option<Vec<u32>>,
    finalized: bool,
}

/// The rank named by a key's final `-<rank>`, if it has one.
fn writer_of(key: &str) -> Option<u32> {
    let (_, tail) = key.rsplit_once('-')?;
    if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    tail.parse().ok()
}

fn failed(e: PmixFailure) -> PmiError {
    PmiError::Library(e.to_string())
}

impl PmixClient {
    /// Loads libpmix (`OXIMPI_PMIX_LIBRARY`, else `libpmix.so.2`) and initialises it.
    /// `announced` is the variable that told us PMIx started this process, for the error.
    pub(super) fn connect(announced: &str) -> Result<PmixClient, PmiError> {
        let knob = &crate::settings::PMIX_LIBRARY;
        let lib_name = knob
            .get_text()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_LIBRARY.to_string());
        knob.set_effective(crate::settings::Value::Text(lib_name.clone()));
        let lib = Pmix::open(&lib_name).map_err(|e| {
            PmiError::Library(format!(
                "{announced} says a PMIx server started this process, but {e}; install \
                 Debian's libpmix2 or set OXIMPI_PMIX_LIBRARY to the path of libpmix.so.2 \
                 (OxiMPI will not run the ranks as unrelated singletons)"
            ))
        })?;
        let size = lib
            .get(RANK_WILDCARD, "pmix.job.size", true)
            .map_err(failed)?
            .and_then(|d| d.as_u64())
            .and_then(|v| u32::try_from(v).ok())
            .filter(|&s| s > 0)
            .ok_or_else(|| PmiError::Library("the server gave no pmix.job.size".into()))?;
        if lib.rank() >= size {
            return Err(PmiError::Protocol(format!(
                "PMIx rank {} of size {size}",
                lib.rank()
            )));
        }
        let number = |rank: u32, key: &str| -> Result<Option<u64>, PmiError> {
            Ok(lib
                .get(rank, key, true)
                .map_err(failed)?
                .and_then(|d| d.as_u64()))
        };
        let appnum = number(lib.rank(), "pmix.appnum")?.unwrap_or(0) as i32;
        let universe_size = number(RANK_WILDCARD, "pmix.univ.size")?
            .and_then(|v| i32::try_from(v).ok())
            .unwrap_or(size as i32);
        Ok(PmixClient {
            lib,
            size,
            appnum,
            universe_size,
            node_map: None,
            finalized: false,
        })
    }

    pub fn rank(&self) -> u32 {
        self.lib.rank()
    }
    pub fn size(&self) -> u32 {
        self.size
    }
    pub fn appnum(&self) -> i32 {
        self.appnum
    }
    pub fn universe_size(&self) -> i32 {
        self.universe_size
    }
    pub fn kvsname(&self) -> &str {
        self.lib.nspace()
    }

    /// The node of every rank: `pmix.nodeid` of each; where the server does not give
    /// node ids, the local peers (`pmix.lpeers`) share node 0 and everyone else is node 1,
    /// which is all that locality needs from a single rank's point of view.
    pub fn node_map(&mut self) -> Result<Vec<u32>, PmiError> {
        if let Some(m) = &self.node_map {
            return Ok(m.clone());
        }
        let mut map = Vec::with_capacity(self.size as usize);
        for r in 0..self.size {
            match self.lib.get(r, "pmix.nodeid", true).map_err(failed)? {
                Some(d) => match d.as_u64().and_then(|v| u32::try_from(v).ok()) {
                    Some(n) => map.push(n),
                    None => break,
                },
                None => break,
            }
        }
        if map.len() != self.size as usize {
            map = self.map_from_local_peers()?;
        }
        self.node_map = Some(map.clone());
        Ok(map)
    }

    fn map_from_local_peers(&self) -> Result<Vec<u32>, PmiError> {
        let peers = match self
            .lib
            .get(RANK_WILDCARD, "pmix.lpeers", true)
            .map_err(failed)?
        {
            Some(Datum::Text(t)) => t,
            _ => return Err(PmiError::KeyNotFound("pmix.lpeers".into())),
        };
        let mut map = vec![1u32; self.size as usize];
        for p in peers.split(',').filter(|p| !p.trim().is_empty()) {
            let r: usize = p
                .trim()
                .parse()
                .map_err(|_| PmiError::Protocol(format!("pmix.lpeers={peers:?}")))?;
            *map.get_mut(r)
                .ok_or_else(|| PmiError::Protocol(format!("pmix.lpeers={peers:?}")))? = 0;
        }
        map[self.rank() as usize] = 0;
        Ok(map)
    }

    pub fn put(&mut self, key: &str, val: &str) -> Result<(), PmiError> {
        self.check_open()?;
        self.lib.put(key, val).map_err(failed)
    }

    pub fn get(&mut self, key: &str) -> Result<String, PmiError> {
        self.check_open()?;
        let writer = writer_of(key).filter(|&r| r < self.size).unwrap_or(0);
        match self.lib.get(writer, key, false).map_err(failed)? {
            Some(Datum::Text(t)) => Ok(t),
            Some(other) => Err(PmiError::Protocol(format!(
                "PMIx key {key:?} holds {other:?}, not a string"
            ))),
            None => Err(PmiError::KeyNotFound(key.into())),
        }
    }

    pub fn barrier(&mut self) -> Result<(), PmiError> {
        self.check_open()?;
        self.lib.commit_and_fence().map_err(failed)
    }

    pub fn abort(&mut self, code: i32, msg: &str) -> ! {
        // The PMIx server may not show the message; print it so it is not lost.
        if !msg.is_empty() {
            eprintln!("Abort({code}) on rank {}: {msg}", self.rank());
        }
        self.lib.abort(code, msg);
        crate::transport::process::exit_now(code)
    }

    pub fn finalize(&mut self) -> Result<(), PmiError> {
        self.check_open()?;
        self.finalized = true;
        self.lib.finalize().map_err(failed)
    }

    fn check_open(&self) -> Result<(), PmiError> {
        if self.finalized {
            return Err(PmiError::WrongState("PMI already finalized"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_is_read_from_the_key() {
        assert_eq!(writer_of("oximpi-shm-3"), Some(3));
        assert_eq!(writer_of("oximpi-shm-12"), Some(12));
        assert_eq!(writer_of("PARENT_ROOT_PORT_NAME"), None);
        assert_eq!(writer_of("a-"), None);
        assert_eq!(writer_of("a-1x"), None);
        assert_eq!(writer_of("a-+1"), None);
    }
}
