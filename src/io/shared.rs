//! The shared file pointer (MPI 4.1 §14.4.4): one etype offset shared by every process of
//! the file. As ROMIO does, it lives in a small hidden sidecar file next to the data file
//! (or in the temporary directory when that one is not writable), read and updated under
//! an exclusive `flock`, so processes need no progress from each other to use it. Rank 0
//! creates it at open and removes it at close.

use super::open::io_err;
use crate::error::{class, MpiError};
use parking_lot::Mutex;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub struct SharedPtr {
    path: Option<PathBuf>,
    /// The sidecar, opened on first use. The mutex also keeps this process's threads
    /// apart: a `flock` does not exclude threads sharing one descriptor.
    fd: Mutex<Option<File>>,
}

impl SharedPtr {
    /// Creates the sidecar for data file `data` holding `initial` (rank 0, at open).
    /// Returns its path, or None if no directory would take it.
    pub fn create(data: &Path, initial: u64) -> Option<PathBuf> {
        let base = data
            .file_name()
            .map(|b| b.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!(".{base}.{}.{stamp}.oximpi-shfp", std::process::id());
        let dirs = [
            data.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
            std::env::temp_dir(),
        ];
        for d in dirs {
            let p = d.join(&name);
            let made = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&p)
                .and_then(|f| f.write_all_at(&initial.to_le_bytes(), 0));
            if made.is_ok() {
                return Some(p);
            }
        }
        None
    }

    pub fn new(path: Option<PathBuf>) -> SharedPtr {
        SharedPtr {
            path,
            fd: Mutex::new(None),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` on the pointer's value under the lock; stores what `f` leaves there.
    fn update<R>(&self, f: impl FnOnce(&mut u64) -> Result<R, MpiError>) -> Result<R, MpiError> {
        let path = self.path.as_ref().ok_or_else(|| {
            MpiError::new(
                class::ERR_IO,
                "the shared file pointer is unavailable: no directory accepted its sidecar file",
            )
        })?;
        let mut slot = self.fd.lock();
        if slot.is_none() {
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(|e| io_err(&e, "opening the shared file pointer"))?;
            *slot = Some(f);
        }
        let fd = slot.as_ref().expect("opened above");
        fd.lock()
            .map_err(|e| io_err(&e, "locking the shared file pointer"))?;
        let r = (|| {
            let mut b = [0u8; 8];
            fd.read_exact_at(&mut b, 0)
                .map_err(|e| io_err(&e, "reading the shared file pointer"))?;
            let mut v = u64::from_le_bytes(b);
            let old = v;
            let r = f(&mut v)?;
            if v != old {
                fd.write_all_at(&v.to_le_bytes(), 0)
                    .map_err(|e| io_err(&e, "updating the shared file pointer"))?;
            }
            Ok(r)
        })();
        let _ = fd.unlock();
        r
    }

    /// Adds `n` etypes and returns the old value.
    pub fn fetch_add(&self, n: u64) -> Result<u64, MpiError> {
        self.update(|v| {
            let old = *v;
            *v += n;
            Ok(old)
        })
    }

    pub fn get(&self) -> Result<u64, MpiError> {
        self.update(|v| Ok(*v))
    }

    pub fn set(&self, n: u64) -> Result<(), MpiError> {
        self.update(|v| {
            *v = n;
            Ok(())
        })
    }

    /// Removes the sidecar (rank 0, at close).
    pub fn remove(&self) {
        *self.fd.lock() = None;
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}
