//! Start-up, time, MPI_Pcontrol, MPI_F_sync_reg, MPI_Info_create_env: the bindings
//! whose C form takes argc/argv or returns a value.

use super::fort;
use super::rt::*;
use crate::abi::{info::*, init::*};
use std::os::raw::c_void;

// Start-up, time, addresses.

fort! { [pmpi_init, pmpi_init__, PMPI_INIT, mpi_init, mpi_init_, mpi_init__, MPI_INIT]
pmpi_init_ (ierror: *mut Fint) {
    specials();
    set_ierr(ierror, PMPI_Init(std::ptr::null_mut(), std::ptr::null_mut()));
} }

fort! { [pmpi_init_thread, pmpi_init_thread__, PMPI_INIT_THREAD, mpi_init_thread,
    mpi_init_thread_, mpi_init_thread__, MPI_INIT_THREAD]
pmpi_init_thread_ (required: *const Fint, provided: *mut Fint, ierror: *mut Fint) {
    specials();
    set_ierr(ierror, PMPI_Init_thread(std::ptr::null_mut(), std::ptr::null_mut(), rd(required), provided));
} }

fort! { [pmpi_wtime, pmpi_wtime__, PMPI_WTIME, mpi_wtime, mpi_wtime_, mpi_wtime__, MPI_WTIME]
pmpi_wtime_ () -> f64 { PMPI_Wtime() } }

fort! { [pmpi_wtick, pmpi_wtick__, PMPI_WTICK, mpi_wtick, mpi_wtick_, mpi_wtick__, MPI_WTICK]
pmpi_wtick_ () -> f64 { PMPI_Wtick() } }

fort! { [pmpi_aint_add, pmpi_aint_add__, PMPI_AINT_ADD, mpi_aint_add, mpi_aint_add_,
    mpi_aint_add__, MPI_AINT_ADD]
pmpi_aint_add_ (base: *const i64, disp: *const i64) -> i64 {
    rd(base).wrapping_add(rd(disp))
} }

fort! { [pmpi_aint_diff, pmpi_aint_diff__, PMPI_AINT_DIFF, mpi_aint_diff, mpi_aint_diff_,
    mpi_aint_diff__, MPI_AINT_DIFF]
pmpi_aint_diff_ (addr1: *const i64, addr2: *const i64) -> i64 {
    rd(addr1).wrapping_sub(rd(addr2))
} }

// MPI_PCONTROL(LEVEL): no ierror (MPICH's binding has none either).
fort! { [pmpi_pcontrol, pmpi_pcontrol__, PMPI_PCONTROL, mpi_pcontrol, mpi_pcontrol_,
    mpi_pcontrol__, MPI_PCONTROL]
pmpi_pcontrol_ (level: *const Fint) {
    crate::abi::comm::PMPI_Pcontrol(rd(level));
} }

// MPI_F_SYNC_REG(BUF): its only job is to be an opaque call the compiler cannot move
// register-held copies of BUF across (MPI 4.1 section 19.1.17); the call itself is that.
fort! { [pmpi_f_sync_reg, pmpi_f_sync_reg__, PMPI_F_SYNC_REG, mpi_f_sync_reg, mpi_f_sync_reg_,
    mpi_f_sync_reg__, MPI_F_SYNC_REG]
pmpi_f_sync_reg_ (buf: *mut c_void) {
    std::hint::black_box(buf);
} }

fort! { [pmpi_info_create_env, pmpi_info_create_env__, PMPI_INFO_CREATE_ENV, mpi_info_create_env,
    mpi_info_create_env_, mpi_info_create_env__, MPI_INFO_CREATE_ENV]
pmpi_info_create_env_ (info: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Info_create_env(0, std::ptr::null_mut(), info));
} }
