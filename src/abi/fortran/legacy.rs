//! MPI-1 routines whose addresses are Fortran INTEGERs, and MPI_SIZEOF of `use mpi`.

use super::fort;
use super::rt::*;
use std::os::raw::{c_int, c_void};

// MPI-1 routines whose addresses are Fortran INTEGERs (mpif.h: INTEGER, not
// INTEGER(KIND=MPI_ADDRESS_KIND)), as in MPICH's bindings. An address that does not fit is
// an error, reported through the default errhandler.

/// Stores an address into an INTEGER, or raises MPI_ERR_OTHER naming the function.
unsafe fn aint_out(func: &'static str, r: c_int, v: i64, out: *mut Fint) -> c_int {
    if r != MPI_SUCCESS {
        return r;
    }
    match Fint::try_from(v) {
        Ok(x) => {
            wr(out, x);
            MPI_SUCCESS
        }
        Err(_) => crate::abi::errors::raise(
            &crate::abi::Ctx { func, target: crate::abi::Target::Default },
            crate::error::MpiError::arg(
                crate::error::class::ERR_OTHER,
                "address",
                "the value does not fit in a Fortran INTEGER (use the INTEGER(KIND=MPI_ADDRESS_KIND) routine)",
            ),
        ),
    }
}

fort! { [pmpi_address, pmpi_address__, PMPI_ADDRESS, mpi_address, mpi_address_, mpi_address__, MPI_ADDRESS]
pmpi_address_ (location: *mut c_void, address: *mut Fint, ierror: *mut Fint) {
    let mut a: i64 = 0;
    let r = crate::abi::datatype::PMPI_Get_address(buf(location) as _, &mut a as *mut i64 as _);
    set_ierr(ierror, aint_out("MPI_Address", r, a, address));
} }

macro_rules! aint_query_binding {
    ([$($alias:ident),*] $imp:ident, $c:ident, $name:literal) => {
        fort! { [$($alias),*] $imp (datatype: *const Fint, out: *mut Fint, ierror: *mut Fint) {
            let mut a: i64 = 0;
            let r = crate::abi::datatype::$c(rd(datatype), &mut a as *mut i64 as _);
            set_ierr(ierror, aint_out($name, r, a, out));
        } }
    };
}
aint_query_binding!([pmpi_type_extent, pmpi_type_extent__, PMPI_TYPE_EXTENT, mpi_type_extent, mpi_type_extent_,
    mpi_type_extent__, MPI_TYPE_EXTENT] pmpi_type_extent_, PMPI_Type_extent, "MPI_Type_extent");
aint_query_binding!([pmpi_type_lb, pmpi_type_lb__, PMPI_TYPE_LB, mpi_type_lb, mpi_type_lb_,
    mpi_type_lb__, MPI_TYPE_LB] pmpi_type_lb_, PMPI_Type_lb, "MPI_Type_lb");
aint_query_binding!([pmpi_type_ub, pmpi_type_ub__, PMPI_TYPE_UB, mpi_type_ub, mpi_type_ub_,
    mpi_type_ub__, MPI_TYPE_UB] pmpi_type_ub_, PMPI_Type_ub, "MPI_Type_ub");

fort! { [pmpi_type_hvector, pmpi_type_hvector__, PMPI_TYPE_HVECTOR, mpi_type_hvector, mpi_type_hvector_,
    mpi_type_hvector__, MPI_TYPE_HVECTOR]
pmpi_type_hvector_ (count: *const Fint, blocklength: *const Fint, stride: *const Fint, oldtype: *const Fint,
    newtype: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, crate::abi::datatype::PMPI_Type_hvector(rd(count), rd(blocklength), rd(stride) as _,
        rd(oldtype), newtype as _));
} }

/// The INTEGER displacements of a count-long Fortran array, widened.
unsafe fn widen(count: Fint, p: *const Fint) -> Vec<i64> {
    if p.is_null() || count <= 0 {
        return Vec::new();
    }
    std::slice::from_raw_parts(p, count as usize)
        .iter()
        .map(|&x| x as i64)
        .collect()
}

fort! { [pmpi_type_hindexed, pmpi_type_hindexed__, PMPI_TYPE_HINDEXED, mpi_type_hindexed, mpi_type_hindexed_,
    mpi_type_hindexed__, MPI_TYPE_HINDEXED]
pmpi_type_hindexed_ (count: *const Fint, blocklengths: *mut Fint, displacements: *const Fint, oldtype: *const Fint,
    newtype: *mut Fint, ierror: *mut Fint) {
    let mut d = widen(rd(count), displacements);
    let dp = if d.is_empty() { displacements as *mut i64 } else { d.as_mut_ptr() };
    set_ierr(ierror, crate::abi::datatype::PMPI_Type_hindexed(rd(count), blocklengths as _, dp as _, rd(oldtype),
        newtype as _));
} }

fort! { [pmpi_type_struct, pmpi_type_struct__, PMPI_TYPE_STRUCT, mpi_type_struct, mpi_type_struct_,
    mpi_type_struct__, MPI_TYPE_STRUCT]
pmpi_type_struct_ (count: *const Fint, blocklengths: *mut Fint, displacements: *const Fint, types: *mut Fint,
    newtype: *mut Fint, ierror: *mut Fint) {
    let mut d = widen(rd(count), displacements);
    let dp = if d.is_empty() { displacements as *mut i64 } else { d.as_mut_ptr() };
    set_ierr(ierror, crate::abi::datatype::PMPI_Type_struct(rd(count), blocklengths as _, dp as _, types as _,
        newtype as _));
} }

// ---------------------------------------------------------------------------------------
// MPI_SIZEOF (`use mpi` only): the size in bytes of one element of the argument's type. Our
// module's generic interface names the `mpi_sizeof_<t>_` procedures; programs built with
// MPICH's module call its module procedures (`__mpi_sizeofs_MOD_mpi_sizeof_<t>`), so both
// names are here. The argument itself is not read (for CHARACTER, nor its hidden length).
macro_rules! sizeof_bindings {
    ($($ours:ident $mpich:ident $size:literal;)*) => {$(
        #[no_mangle]
        pub unsafe extern "C" fn $ours(_x: *const c_void, size: *mut Fint, ierror: *mut Fint) {
            // SAFETY: Fortran passes SIZE by reference; IERROR too (or null if absent).
            unsafe { wr(size, $size) };
            set_ierr(ierror, MPI_SUCCESS);
        }
        #[no_mangle]
        pub unsafe extern "C" fn $mpich(x: *const c_void, size: *mut Fint, ierror: *mut Fint) {
            // SAFETY: same contract as the procedure it forwards to.
            unsafe { $ours(x, size, ierror) }
        }
    )*};
}
sizeof_bindings! {
    mpi_sizeof_i_ __mpi_sizeofs_MOD_mpi_sizeof_i 4;
    mpi_sizeof_iv_ __mpi_sizeofs_MOD_mpi_sizeof_iv 4;
    mpi_sizeof_i1_ __mpi_sizeofs_MOD_mpi_sizeof_i1 1;
    mpi_sizeof_i1v_ __mpi_sizeofs_MOD_mpi_sizeof_i1v 1;
    mpi_sizeof_i2_ __mpi_sizeofs_MOD_mpi_sizeof_i2 2;
    mpi_sizeof_i2v_ __mpi_sizeofs_MOD_mpi_sizeof_i2v 2;
    mpi_sizeof_i8_ __mpi_sizeofs_MOD_mpi_sizeof_i8 8;
    mpi_sizeof_i8v_ __mpi_sizeofs_MOD_mpi_sizeof_i8v 8;
    mpi_sizeof_r_ __mpi_sizeofs_MOD_mpi_sizeof_r 4;
    mpi_sizeof_rv_ __mpi_sizeofs_MOD_mpi_sizeof_rv 4;
    mpi_sizeof_d_ __mpi_sizeofs_MOD_mpi_sizeof_d 8;
    mpi_sizeof_dv_ __mpi_sizeofs_MOD_mpi_sizeof_dv 8;
    mpi_sizeof_l_ __mpi_sizeofs_MOD_mpi_sizeof_l 4;
    mpi_sizeof_lv_ __mpi_sizeofs_MOD_mpi_sizeof_lv 4;
    mpi_sizeof_ch_ __mpi_sizeofs_MOD_mpi_sizeof_ch 1;
    mpi_sizeof_chv_ __mpi_sizeofs_MOD_mpi_sizeof_chv 1;
    mpi_sizeof_cx_ __mpi_sizeofs_MOD_mpi_sizeof_cx 8;
    mpi_sizeof_cxv_ __mpi_sizeofs_MOD_mpi_sizeof_cxv 8;
}
