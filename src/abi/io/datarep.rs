//! MPI_Register_datarep (MPI 4.1 §14.5.3): a named data representation made of the user's
//! conversion and extent functions. Registered representations live for the process.

#![deny(unsafe_op_in_unsafe_fn)]

use super::FILE_NULL;
use crate::abi::arg;
use crate::error::{class, MpiError};
use crate::io::UserRep;
use crate::mpi_fn;
use crate::p2p::Data;
use parking_lot::Mutex;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Arc;

type ConvFn =
    unsafe extern "C" fn(*mut c_void, c_int, c_int, *mut c_void, i64, *mut c_void) -> c_int;
type ConvFnC =
    unsafe extern "C" fn(*mut c_void, c_int, i64, *mut c_void, i64, *mut c_void) -> c_int;
type ExtentFn = unsafe extern "C" fn(c_int, *mut i64, *mut c_void) -> c_int;

/// A user conversion function, of either count width (None: MPI_CONVERSION_FN_NULL,
/// the file holds the native bytes).
#[derive(Clone, Copy)]
enum Conv {
    Null,
    Int(ConvFn),
    Large(ConvFnC),
}

struct CRep {
    name: String,
    read: Conv,
    write: Conv,
    extent: ExtentFn,
    extra: usize,
}

static REPS: Mutex<Vec<Arc<CRep>>> = Mutex::new(Vec::new());

/// The registered representation called `name` (for MPI_File_set_view).
pub fn lookup(name: &str) -> Option<Arc<dyn UserRep>> {
    REPS.lock()
        .iter()
        .find(|r| r.name == name)
        .map(|r| r.clone() as Arc<dyn UserRep>)
}

fn user_failed(what: &str, rc: c_int) -> MpiError {
    MpiError::new(
        class::ERR_CONVERSION,
        format!("the user's {what} function returned error {rc}"),
    )
}

impl CRep {
    /// Calls conversion `f` on `count` items at `data` and the file buffer `file`.
    fn convert(
        &self,
        f: Conv,
        data: &Data,
        h: i32,
        count: u64,
        file: *mut u8,
        what: &str,
    ) -> Result<(), MpiError> {
        let user = data.ptr.addr() as *mut c_void;
        let extra = self.extra as *mut c_void;
        let rc = match f {
            Conv::Null => return Err(MpiError::intern("no conversion function to call")),
            Conv::Int(f) => {
                let n = c_int::try_from(count).map_err(|_| {
                    MpiError::new(
                        class::ERR_VALUE_TOO_LARGE,
                        "count does not fit the int conversion function; register with MPI_Register_datarep_c",
                    )
                })?;
                // SAFETY: a conversion function registered by the user, called with the
                // user's buffer and datatype and a file buffer large enough for `count`
                // items in this representation (computed with the user's extent function).
                unsafe { f(user, h, n, file as *mut c_void, 0, extra) }
            }
            // SAFETY: as above, with an MPI_Count count.
            Conv::Large(f) => unsafe { f(user, h, count as i64, file as *mut c_void, 0, extra) },
        };
        if rc != 0 {
            return Err(user_failed(what, rc));
        }
        Ok(())
    }

    /// Without a conversion function the file holds native bytes, which only works if
    /// the representation keeps native sizes.
    fn native_sized(&self, data: &Data, len: usize) -> Result<(), MpiError> {
        if (data.count * data.dt.size()) as usize != len {
            return Err(MpiError::new(
                class::ERR_CONVERSION,
                format!(
                    "\"{}\" has no conversion function but changes the data's size",
                    self.name
                ),
            ));
        }
        Ok(())
    }
}

impl UserRep for CRep {
    fn name(&self) -> &str {
        &self.name
    }

    fn extent(&self, basic: crate::datatype::Builtin) -> Result<u64, MpiError> {
        let handle = crate::abi::datatype::builtins::handle_of(basic);
        let mut e: i64 = 0;
        // SAFETY: the user's extent function, called with a predefined datatype handle and
        // a valid output location.
        let rc = unsafe { (self.extent)(handle, &mut e, self.extra as *mut c_void) };
        if rc != 0 {
            return Err(user_failed("extent", rc));
        }
        u64::try_from(e).map_err(|_| {
            MpiError::new(
                class::ERR_CONVERSION,
                format!("the user's extent function returned {e}"),
            )
        })
    }

    fn write(&self, data: &Data, h: i32, count: u64, file: &mut [u8]) -> Result<(), MpiError> {
        if let Conv::Null = self.write {
            self.native_sized(data, file.len())?;
            data.pack(0, file);
            return Ok(());
        }
        self.convert(
            self.write,
            data,
            h,
            count,
            file.as_mut_ptr(),
            "write conversion",
        )
    }

    fn read(&self, data: &Data, h: i32, count: u64, file: &[u8]) -> Result<(), MpiError> {
        if let Conv::Null = self.read {
            let d = Data::new(data.ptr, count, data.dt.clone());
            self.native_sized(&d, file.len())?;
            d.unpack(0, file);
            return Ok(());
        }
        // The function only reads the file buffer, whatever its C prototype says.
        self.convert(
            self.read,
            data,
            h,
            count,
            file.as_ptr() as *mut u8,
            "read conversion",
        )
    }
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn register(
    name: *const c_char,
    read: Conv,
    write: Conv,
    extent: Option<ExtentFn>,
    extra: *mut c_void,
) -> Result<(), MpiError> {
    crate::runtime::rt()?;
    // SAFETY: `name` is the C caller's, null or valid for this use (MPI contract).
    let name = unsafe { arg::cstr(name, "datarep") }?;
    if name.is_empty() || name.len() >= super::manage::MAX_DATAREP_STRING {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "datarep",
            "empty or longer than MPI_MAX_DATAREP_STRING - 1",
        ));
    }
    let extent = extent.ok_or_else(|| {
        MpiError::arg(
            class::ERR_ARG,
            "dtype_file_extent_fn",
            "null function pointer",
        )
    })?;
    let mut reps = REPS.lock();
    if matches!(name, "native" | "internal" | "external32") || reps.iter().any(|r| r.name == name) {
        return Err(MpiError::arg(
            class::ERR_DUP_DATAREP,
            "datarep",
            format!("\"{name}\" is already defined"),
        ));
    }
    reps.push(Arc::new(CRep {
        name: name.to_string(),
        read,
        write,
        extent,
        extra: extra as usize,
    }));
    Ok(())
}

/// MPICH's own libmpifort, run over this library, passes its callers' Fortran procedures
/// to MPI_Register_datarep unwrapped (abi::fortran::mpich): registers Fortran trampolines
/// instead. None if the caller is not that library.
///
/// # Safety
/// As MPI_Register_datarep's arguments.
#[cfg(not(feature = "std-abi"))]
unsafe fn register_from_mpich_fortran(
    datarep: *const c_char,
    read: Option<ConvFn>,
    write: Option<ConvFn>,
    extent: Option<ExtentFn>,
    extra: *mut c_void,
) -> Option<Result<(), MpiError>> {
    use crate::abi::fortran::mpich;
    if !mpich::called_from_mpich_fortran() {
        return None;
    }
    let addr = |f: Option<ConvFn>| f.map_or(std::ptr::null(), |f| f as *const c_void);
    let extent = extent.map_or(std::ptr::null(), |f| f as *const c_void);
    // SAFETY: MPICH's binding passes Fortran datarep procedures (or null) and the address of
    // the INTEGER(MPI_ADDRESS_KIND) extra state.
    let w = unsafe { mpich::mpich_datarep(addr(read), addr(write), extent, extra as *const i64) }?;
    let conv = |f: Option<ConvFn>| f.map(Conv::Int).unwrap_or(Conv::Null);
    // SAFETY: `datarep` is the C caller's, null or valid (MPI contract); the functions and
    // record are the trampolines' own.
    let r = unsafe { register(datarep, conv(w.read), conv(w.write), Some(w.extent), w.rec) };
    if r.is_err() {
        w.discard();
    }
    Some(r)
}
/// The standard ABI library has no Fortran face.
#[cfg(feature = "std-abi")]
unsafe fn register_from_mpich_fortran(
    _datarep: *const c_char,
    _read: Option<ConvFn>,
    _write: Option<ConvFn>,
    _extent: Option<ExtentFn>,
    _extra: *mut c_void,
) -> Option<Result<(), MpiError>> {
    None
}

mpi_fn!(MPI_Register_datarep, PMPI_Register_datarep, (datarep: *const c_char, read_conversion_fn: Option<ConvFn>, write_conversion_fn: Option<ConvFn>, dtype_file_extent_fn: Option<ExtentFn>, extra_state: *mut c_void), |ctx| {
    ctx.on_file(FILE_NULL);
    // SAFETY: the C caller's arguments, null or valid for this use (MPI contract).
    if let Some(r) = unsafe { register_from_mpich_fortran(datarep, read_conversion_fn, write_conversion_fn, dtype_file_extent_fn, extra_state) } {
        return r;
    }
    let conv = |f: Option<ConvFn>| f.map(Conv::Int).unwrap_or(Conv::Null);
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { register(datarep, conv(read_conversion_fn), conv(write_conversion_fn), dtype_file_extent_fn, extra_state) }
});

mpi_fn!(MPI_Register_datarep_c, PMPI_Register_datarep_c, (datarep: *const c_char, read_conversion_fn: Option<ConvFnC>, write_conversion_fn: Option<ConvFnC>, dtype_file_extent_fn: Option<ExtentFn>, extra_state: *mut c_void), |ctx| {
    ctx.on_file(FILE_NULL);
    let conv = |f: Option<ConvFnC>| f.map(Conv::Large).unwrap_or(Conv::Null);
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { register(datarep, conv(read_conversion_fn), conv(write_conversion_fn), dtype_file_extent_fn, extra_state) }
});
