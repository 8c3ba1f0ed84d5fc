//! The open file: its descriptor, its group (a private communicator), the view, the
//! individual file pointer, atomicity, hints, and the calls that act on the whole file
//! (size, preallocation, sync, views, pointers).

use super::agree;
use super::datarep::Rep;
use super::mode;
use super::open::io_err;
use super::shared::SharedPtr;
use super::view::View;
use super::whence;
use crate::datatype::TypeRef;
use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::object::errhandler::Errhandler;
use crate::object::info::Info;
use crate::p2p::NodeEngine;
use crate::p2p::Status;
use parking_lot::Mutex;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

/// A split collective begun and not yet ended: what its _end call reports. (A _begin
/// that fails returns its error at once and leaves nothing active.)
pub struct Split {
    /// The MPI function that began it (the _end must be its partner).
    pub begun_by: &'static str,
    pub status: Status,
}

pub struct State {
    pub view: Arc<View>,
    /// The individual file pointer, in etypes of the view.
    pub pos: u64,
    pub atomic: bool,
    pub info: Info,
    pub split: Option<Split>,
}

pub struct File {
    /// The engine the file's agreements run on (handed down at open).
    pub engine: &'static NodeEngine,
    /// A private dup of the communicator given to open: the file's group.
    pub comm: Comm,
    pub path: PathBuf,
    pub fd: std::fs::File,
    pub amode: i32,
    /// Inherited at open from the errhandler of MPI_FILE_NULL.
    pub errhandler: Mutex<Errhandler>,
    pub state: Mutex<State>,
    pub shared: SharedPtr,
    /// Serialises this process's accesses in atomic mode (a file lock does not exclude
    /// threads that share the descriptor).
    pub atomic_lock: Mutex<()>,
}

fn size_of(fd: &std::fs::File) -> Result<u64, MpiError> {
    Ok(fd
        .metadata()
        .map_err(|e| io_err(&e, "reading the file size"))?
        .len())
}

impl File {
    pub(super) fn new(
        engine: &'static NodeEngine,
        comm: Comm,
        path: PathBuf,
        fd: std::fs::File,
        amode: i32,
        info: Info,
        shared: SharedPtr,
    ) -> Result<File, MpiError> {
        // MPI_MODE_APPEND: the individual pointers start at the end (the shared one was
        // created there by rank 0).
        let pos = if amode & mode::APPEND != 0 {
            size_of(&fd)?
        } else {
            0
        };
        Ok(File {
            engine,
            comm,
            path,
            fd,
            amode,
            errhandler: Mutex::new(crate::object::errhandler::Errhandler::Return),
            state: Mutex::new(State {
                view: Arc::new(View::default_view()),
                pos,
                atomic: false,
                info,
                split: None,
            }),
            shared,
            atomic_lock: Mutex::new(()),
        })
    }

    pub fn view(&self) -> Arc<View> {
        self.state.lock().view.clone()
    }

    pub fn size(&self) -> Result<u64, MpiError> {
        size_of(&self.fd)
    }

    fn writable(&self) -> Result<(), MpiError> {
        if self.amode & mode::RDONLY != 0 {
            return Err(MpiError::new(
                class::ERR_READ_ONLY,
                "the file was opened with MPI_MODE_RDONLY",
            ));
        }
        Ok(())
    }

    /// Fails unless every rank passed the same `v` (for arguments the standard requires
    /// to be equal on all processes).
    fn same(&self, v: u64, arg: &str) -> Result<(), MpiError> {
        let all = agree::allgather_u64(self.engine, &self.comm, v)?;
        if all.iter().any(|&x| x != all[0]) {
            return Err(MpiError::arg(
                class::ERR_NOT_SAME,
                arg,
                "the processes passed different values",
            ));
        }
        Ok(())
    }

    /// MPI_File_set_size (collective): rank 0 truncates or extends.
    pub fn set_size(&self, size: u64) -> Result<(), MpiError> {
        agree::all_ok(self.engine, &self.comm, self.writable())?;
        self.same(size, "size")?;
        let r = if self.comm.rank == 0 {
            self.fd
                .set_len(size)
                .map_err(|e| io_err(&e, "setting the file size"))
        } else {
            Ok(())
        };
        agree::all_ok(self.engine, &self.comm, r)
    }

    /// MPI_File_preallocate (collective): rank 0 writes zeros over the bytes past the
    /// end, so the storage is really reserved (and a full disk is reported now); the data
    /// before `size` and a larger file are left alone.
    pub fn preallocate(&self, size: u64) -> Result<(), MpiError> {
        agree::all_ok(self.engine, &self.comm, self.writable())?;
        self.same(size, "size")?;
        let r = if self.comm.rank == 0 {
            (|| {
                let mut at = self.size()?;
                let zeros = vec![0u8; 1 << 20];
                while at < size {
                    let n = (size - at).min(zeros.len() as u64) as usize;
                    self.fd
                        .write_all_at(&zeros[..n], at)
                        .map_err(|e| io_err(&e, "preallocating"))?;
                    at += n as u64;
                }
                Ok(())
            })()
        } else {
            Ok(())
        };
        agree::all_ok(self.engine, &self.comm, r)
    }

    /// MPI_File_sync (collective): this process's writes reach the storage device.
    pub fn sync(&self) -> Result<(), MpiError> {
        let r = if self.amode & mode::RDONLY != 0 {
            Ok(())
        } else {
            self.fd
                .sync_all()
                .map_err(|e| io_err(&e, "synchronising the file"))
        };
        agree::all_ok(self.engine, &self.comm, r)
    }

    /// MPI_File_set_atomicity (collective).
    pub fn set_atomicity(&self, flag: bool) -> Result<(), MpiError> {
        self.same(flag as u64, "flag")?;
        self.state.lock().atomic = flag;
        Ok(())
    }

    pub fn atomicity(&self) -> bool {
        self.state.lock().atomic
    }

    /// MPI_File_set_view (collective). `disp` None is MPI_DISPLACEMENT_CURRENT (sequential
    /// files only): the byte offset of the shared file pointer. Both file pointers go back
    /// to 0.
    pub fn set_view(
        &self,
        disp: Option<u64>,
        etype: TypeRef,
        filetype: TypeRef,
        rep: Rep,
    ) -> Result<(), MpiError> {
        let local = (|| {
            let disp = match disp {
                Some(d) => d,
                None if self.amode & mode::SEQUENTIAL != 0 => {
                    let old = self.view();
                    old.byte_offset(self.shared.get()? * old.esize)
                }
                None => {
                    return Err(MpiError::arg(
                        class::ERR_ARG,
                        "disp",
                        "MPI_DISPLACEMENT_CURRENT needs a file opened with MPI_MODE_SEQUENTIAL",
                    ))
                }
            };
            View::new(disp, etype, filetype, rep)
        })();
        // Everyone has finished its accesses through the old view once this returns.
        let view = agree::all_ok(self.engine, &self.comm, local)?;
        let reset = if self.comm.rank == 0 {
            self.shared.set(0)
        } else {
            Ok(())
        };
        agree::all_ok(self.engine, &self.comm, reset)?;
        let mut st = self.state.lock();
        st.view = Arc::new(view);
        st.pos = 0;
        // (No hint of a view is acted on, so none joins the hints in use.)
        Ok(())
    }

    fn no_sequential(&self) -> Result<(), MpiError> {
        if self.amode & mode::SEQUENTIAL != 0 {
            return Err(MpiError::new(
                class::ERR_UNSUPPORTED_OPERATION,
                "the file was opened with MPI_MODE_SEQUENTIAL: only shared file pointer \
                 operations are allowed",
            ));
        }
        Ok(())
    }

    /// The new value of a pointer at `cur` moved by (`offset`, `whence`).
    fn moved(&self, view: &View, cur: u64, offset: i64, how: i32) -> Result<u64, MpiError> {
        let base = match how {
            whence::SET => 0,
            whence::CUR => cur as i64,
            whence::END => view.end_offset(self.size()?) as i64,
            _ => {
                return Err(MpiError::arg(
                    class::ERR_ARG,
                    "whence",
                    format!("{how} is not MPI_SEEK_SET, MPI_SEEK_CUR or MPI_SEEK_END"),
                ))
            }
        };
        let to = base
            .checked_add(offset)
            .filter(|&t| t >= 0)
            .ok_or_else(|| {
                MpiError::arg(
                    class::ERR_ARG,
                    "offset",
                    format!("the file pointer would move to a negative offset ({base} + {offset})"),
                )
            })?;
        Ok(to as u64)
    }

    /// MPI_File_seek.
    pub fn seek(&self, offset: i64, how: i32) -> Result<(), MpiError> {
        self.no_sequential()?;
        let (view, cur) = {
            let st = self.state.lock();
            (st.view.clone(), st.pos)
        };
        let to = self.moved(&view, cur, offset, how)?;
        self.state.lock().pos = to;
        Ok(())
    }

    /// MPI_File_get_position.
    pub fn position(&self) -> Result<u64, MpiError> {
        self.no_sequential()?;
        Ok(self.state.lock().pos)
    }

    /// MPI_File_seek_shared (collective; every rank passes the same arguments).
    pub fn seek_shared(&self, offset: i64, how: i32) -> Result<(), MpiError> {
        self.same(offset as u64, "offset")?;
        self.same(how as u32 as u64, "whence")?;
        let r = if self.comm.rank == 0 {
            let view = self.view();
            self.shared.get().and_then(|cur| {
                let to = self.moved(&view, cur, offset, how)?;
                self.shared.set(to)
            })
        } else {
            Ok(())
        };
        agree::all_ok(self.engine, &self.comm, r)
    }

    /// MPI_File_get_position_shared.
    pub fn position_shared(&self) -> Result<u64, MpiError> {
        self.shared.get()
    }

    /// MPI_File_get_byte_offset: the absolute byte of etype offset `offset` of the view.
    pub fn byte_offset(&self, offset: u64) -> Result<u64, MpiError> {
        self.no_sequential()?;
        let v = self.view();
        Ok(v.byte_offset(offset * v.esize))
    }

    pub(super) fn check_sequential(&self) -> Result<(), MpiError> {
        self.no_sequential()
    }
}
