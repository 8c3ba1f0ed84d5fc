//! What the `use mpi_f08` wrappers (fortran/mpi_f08_wrappers.f90, compiled by gfortran into
//! libmpifort.so.12) need from the library beside the `use mpi` bindings they call:
//!
//! * `oxif08_buf` turns a choice buffer (`TYPE(*), DIMENSION(..)`, seen here as the
//!   TS 29113 C descriptor, `CFI_cdesc_t`) into the address and (count, datatype) the C
//!   functions take. A contiguous actual argument is its base address. A non-contiguous one
//!   (an array section such as `a(1:n:2)`, MPI_SUBARRAYS_SUPPORTED = .TRUE.) gets a derived
//!   datatype over the elements where they are, as MPICH does (its cdesc_create_datatype in
//!   src/binding/fortran/use_mpi_f08/wrappers_c/cdesc.c): never a copy, so nonblocking
//!   operations see the user's memory.
//! * `oxif08_type_free` releases such a datatype after the call (MPI lets a datatype be
//!   freed while operations that use it are pending).
//! * `oxif08_raise` reports an argument the wrapper itself rejects through the errhandler of
//!   the call's communicator, window or file.
//!
//! The datatype of a non-contiguous buffer: the elements of the section are `elem_len`
//! bytes each; when that is a whole number k of extents of the user's datatype, element i
//! holds items i*k .. i*k+k-1 of the message. The new type is then `k` items of the
//! datatype at each element, nested `hvector`s over the dimensions (stride = the
//! descriptor's byte stride) when the message covers the whole section, an
//! `hindexed_block` over the first count/k elements otherwise. Other shapes (an item that
//! straddles elements) cannot be described by a datatype and are MPI_ERR_ARG.

use super::rt::Fint;
use crate::abi::{Ctx, Target};
use crate::error::{class, MpiError};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Mutex;

/// One dimension of a TS 29113 descriptor (ISO_Fortran_binding.h: CFI_dim_t).
#[repr(C)]
pub struct CfiDim {
    pub lower_bound: isize,
    pub extent: isize,
    /// Byte stride between consecutive elements of this dimension.
    pub sm: isize,
}

/// The head of a TS 29113 descriptor (ISO_Fortran_binding.h: CFI_cdesc_t), followed by
/// `rank` CfiDim.
#[repr(C)]
pub struct CfiDesc {
    pub base_addr: *mut c_void,
    pub elem_len: usize,
    pub version: c_int,
    pub rank: i8,
    pub attribute: i8,
    pub type_: i16,
    pub dim: [CfiDim; 0],
}

use super::generated::c;

/// MPI_DATATYPE_NULL (mpi.h).
const DATATYPE_NULL: c_int = 0x0c000000;

/// The dimensions of a descriptor.
///
/// # Safety
/// `d` is a live descriptor with `rank` dimensions after its head.
unsafe fn dims<'a>(d: &'a CfiDesc) -> &'a [CfiDim] {
    // SAFETY: the caller's contract: the descriptor is followed by `rank` dimensions.
    unsafe { std::slice::from_raw_parts(d.dim.as_ptr(), d.rank.max(0) as usize) }
}

/// Whether the elements are adjacent in array element order. An assumed-size array (last
/// extent -1) is contiguous by definition.
fn contiguous(elem_len: usize, dims: &[CfiDim]) -> bool {
    let mut want = elem_len as isize;
    for (i, d) in dims.iter().enumerate() {
        if d.extent == -1 && i + 1 == dims.len() {
            return true;
        }
        if d.extent > 1 && d.sm != want {
            return false;
        }
        want *= d.extent.max(0);
    }
    true
}

/// Builds the datatype of `count` items of `dtype` laid over the elements of a
/// non-contiguous section (see the module doc). Returns the committed type.
fn section_type(
    elem_len: usize,
    dims: &[CfiDim],
    count: i64,
    dtype: c_int,
) -> Result<c_int, MpiError> {
    let (mut lb, mut ext) = (0i64, 0i64);
    // SAFETY: out-pointers to locals.
    let r = unsafe {
        c::PMPI_Type_get_extent(
            dtype,
            (&mut lb as *mut i64).cast(),
            (&mut ext as *mut i64).cast(),
        )
    };
    if r != 0 {
        return Err(MpiError::arg(r, "datatype", "not a valid datatype"));
    }
    let elem = elem_len as i64;
    if ext <= 0 || elem % ext != 0 {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "buf",
            format!(
                "a non-contiguous array section of {elem}-byte elements cannot hold items of a \
                 datatype of extent {ext} (an item would straddle elements)"
            ),
        ));
    }
    let k = elem / ext;
    let total: i64 = dims.iter().map(|d| d.extent.max(0) as i64).product();
    if count % k != 0 || count / k > total {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "count",
            format!("{count} items do not fit the {total} elements of the array section"),
        ));
    }
    let mut b = Layers {
        t: dtype,
        owned: Vec::new(),
    };
    let r = (|| {
        if k > 1 {
            // SAFETY: out-pointer to the builder's slot.
            b.wrap(|old, n| unsafe {
                c::PMPI_Type_contiguous(k as c_int, old, (n as *mut c_int).cast())
            })?;
        }
        if count / k == total {
            for d in dims {
                // SAFETY: out-pointer to the builder's slot.
                b.wrap(|old, n| unsafe {
                    c::PMPI_Type_create_hvector(
                        d.extent.max(0) as c_int,
                        1,
                        d.sm as i64,
                        old,
                        (n as *mut c_int).cast(),
                    )
                })?;
            }
        } else {
            let displs = first_elements(dims, (count / k) as usize);
            // SAFETY: displs holds the displacements it counts; out-pointer to the slot.
            b.wrap(|old, n| unsafe {
                c::PMPI_Type_create_hindexed_block(
                    displs.len() as c_int,
                    1,
                    displs.as_ptr() as *mut c_void,
                    old,
                    (n as *mut c_int).cast(),
                )
            })?;
        }
        // SAFETY: the outermost type just built.
        match unsafe { c::PMPI_Type_commit((&mut b.t as *mut c_int).cast()) } {
            0 => Ok(b.t),
            r => Err(MpiError::arg(
                r,
                "buf",
                "cannot commit the datatype of the array section",
            )),
        }
    })();
    // The intermediate types are no longer needed once the outer one exists (or failed).
    let keep = *r.as_ref().unwrap_or(&DATATYPE_NULL);
    for mut o in b.owned.into_iter().filter(|&o| o != keep) {
        // SAFETY: a type this function created.
        unsafe { c::PMPI_Type_free((&mut o as *mut c_int).cast()) };
    }
    r
}

/// The datatypes built so far for a section, each over the previous one.
struct Layers {
    t: c_int,
    owned: Vec<c_int>,
}

impl Layers {
    fn wrap(&mut self, f: impl FnOnce(c_int, &mut c_int) -> c_int) -> Result<(), MpiError> {
        let mut n = DATATYPE_NULL;
        match f(self.t, &mut n) {
            0 => {
                self.owned.push(n);
                self.t = n;
                Ok(())
            }
            r => Err(MpiError::arg(
                r,
                "buf",
                "cannot build the datatype of the array section",
            )),
        }
    }
}

/// Byte displacements of the first `n` elements of a section, in array element order.
fn first_elements(dims: &[CfiDim], n: usize) -> Vec<i64> {
    let mut displs = Vec::with_capacity(n);
    let mut idx = vec![0isize; dims.len()];
    for _ in 0..n {
        displs.push(dims.iter().zip(&idx).map(|(d, &i)| i * d.sm).sum::<isize>() as i64);
        for (j, d) in dims.iter().enumerate() {
            idx[j] += 1;
            if idx[j] < d.extent {
                break;
            }
            idx[j] = 0;
        }
    }
    displs
}

/// Resolves a choice buffer for a wrapper. `paired` = 1 when `count` items of `dtype` are
/// to be read or written there (the buffer may then be a non-contiguous section), 0 when
/// only its address matters (MPI_GET_ADDRESS, window bases, the `_END` of split collective
/// I/O) or its layout is given by count arrays (v/w collectives, which need a contiguous
/// buffer). Out: the address, the count and datatype to pass on (a new datatype with count
/// 1 for a section, to be given to `oxif08_type_free`), and an MPI error class (0: none).
///
/// # Safety
/// `desc` is the descriptor gfortran passes for an assumed-rank argument; the other
/// pointers are the wrapper's variables.
#[no_mangle]
pub unsafe extern "C" fn oxif08_buf(
    desc: *const CfiDesc,
    paired: *const Fint,
    count: *const i64,
    dtype: *const Fint,
    addr: *mut usize,
    ncount: *mut i64,
    ntype: *mut Fint,
    err: *mut Fint,
) {
    // SAFETY: the caller's contract (see above).
    unsafe {
        let d = &*desc;
        let dims = dims(d);
        *addr = d.base_addr as usize;
        *ncount = *count;
        *ntype = *dtype;
        *err = 0;
        if d.base_addr.is_null() || contiguous(d.elem_len, dims) {
            return;
        }
        if *paired == 0 {
            *err = class::ERR_BUFFER;
            return;
        }
        match section_type(d.elem_len, dims, *count, *dtype) {
            Ok(t) => {
                *ncount = 1;
                *ntype = t;
            }
            Err(e) => {
                PENDING.lock().map(|mut p| *p = Some(e)).ok();
                *err = class::ERR_ARG;
            }
        }
    }
}

/// Why the last `oxif08_buf` failed, for `oxif08_raise` (set and read by the same thread
/// in one wrapper call; a Mutex because wrappers run on any thread).
static PENDING: Mutex<Option<MpiError>> = Mutex::new(None);

/// Frees the datatype `oxif08_buf` built, if it built one.
///
/// # Safety
/// Pointers to the wrapper's variables.
#[no_mangle]
pub unsafe extern "C" fn oxif08_type_free(ntype: *mut Fint, dtype: *const Fint) {
    // SAFETY: the caller's variables.
    unsafe {
        if *ntype != *dtype && *ntype != DATATYPE_NULL {
            c::PMPI_Type_free(ntype.cast());
        }
    }
}

/// Function names interned for error contexts (`Ctx::func` is `'static`); one entry per
/// distinct name, only on error paths.
static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

fn intern(s: &str) -> &'static str {
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.iter().find(|n| **n == s) {
        return n;
    }
    let n: &'static str = Box::leak(s.to_owned().into_boxed_str());
    names.push(n);
    n
}

/// Raises the error `oxif08_buf` found, through the errhandler of the call's object:
/// `kind` 1 = communicator, 2 = window, 3 = file (Fortran handle), 0 = none. Returns the
/// code in `ierr` (when the errhandler returns).
///
/// # Safety
/// `func` has `func_len` characters; the other pointers are the wrapper's variables.
#[no_mangle]
pub unsafe extern "C" fn oxif08_raise_(
    kind: *const Fint,
    handle: *const Fint,
    class_: *const Fint,
    ierr: *mut Fint,
    func: *const c_char,
    func_len: usize,
) {
    // SAFETY: the caller's contract.
    unsafe {
        let name = super::rt::str_in(func, func_len);
        let name = intern(std::str::from_utf8(&name[..name.len() - 1]).unwrap_or("MPI_F08"));
        let target = match *kind {
            1 => Target::Comm(*handle),
            2 => Target::Win(*handle),
            3 => Target::File(c_file(*handle)),
            _ => Target::Default,
        };
        let e = PENDING
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .filter(|e| e.class == *class_)
            .unwrap_or_else(|| {
                MpiError::arg(
                    *class_,
                    "buf",
                    "the buffer must be contiguous for this call",
                )
            });
        *ierr = crate::abi::errors::raise(&Ctx { func: name, target }, e);
    }
}

fn c_file(f: Fint) -> usize {
    extern "C" {
        fn PMPI_File_f2c(file: c_int) -> usize;
    }
    // SAFETY: a handle conversion, valid for any value.
    unsafe { PMPI_File_f2c(f) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(extent: isize, sm: isize) -> CfiDim {
        CfiDim {
            lower_bound: 0,
            extent,
            sm,
        }
    }

    #[test]
    fn contiguity() {
        assert!(contiguous(4, &[]));
        assert!(contiguous(4, &[d(10, 4)]));
        assert!(!contiguous(4, &[d(10, 8)]));
        assert!(
            contiguous(4, &[d(1, 8)]),
            "one element is contiguous whatever the stride"
        );
        assert!(contiguous(8, &[d(3, 8), d(4, 24)]));
        assert!(!contiguous(8, &[d(3, 8), d(4, 32)]));
        assert!(contiguous(4, &[d(3, 4), d(-1, 12)]), "assumed size");
    }

    #[test]
    fn element_order() {
        // a(1:5:2, 1:2) of an 8-byte 10x3 array: strides 16 and 80 bytes.
        let dims = [d(3, 16), d(2, 80)];
        assert_eq!(first_elements(&dims, 4), vec![0, 16, 32, 80]);
    }
}
