//! The MPI_T calls of the standard face that need more than argument-by-argument
//! translation: the object handle of a bound variable (its kind comes from the variable's
//! bind), the datatype array of an event type, and the event callbacks, which receive the
//! standard's MPI_T_cb_safety. Event callbacks go through trampoline pools (callbacks.rs)
//! so that `user_data` reaches the user's function unchanged.

use super::callbacks::{face, trampolines, Pool, POOL_SIZE};
use super::handles as h;
use super::mpich as imp;
use super::tables as t;
use super::values as v;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr::null_mut;

/// The MPICH handle an object handle of kind `bind` (MPICH's MPI_T_BIND_* value) points to,
/// stored in `local`; the pointer to hand on. NULL and unbound variables pass unchanged.
///
/// # Safety
/// `obj` is NULL or points to a standard handle of the bound kind.
unsafe fn obj_in(bind: c_int, obj: *mut c_void, local: &mut [usize; 1]) -> *mut c_void {
    if obj.is_null() {
        return obj;
    }
    // SAFETY: a handle of the bound kind by the caller's contract.
    let std_h = unsafe { *(obj as *const usize) };
    let conv: fn(usize) -> c_int = match t::t_bind_out(bind) {
        2 => h::comm_in,
        3 => h::dtype_in,
        4 => h::errh_in,
        5 => {
            local[0] = h::file_in(std_h);
            return local.as_mut_ptr() as *mut c_void;
        }
        6 => h::group_in,
        7 => h::op_in,
        8 => h::req_in,
        9 => h::win_in,
        10 => h::msg_in,
        11 => h::info_in,
        12 => h::session_in,
        _ => return obj,
    };
    let p = local.as_mut_ptr() as *mut c_int;
    // SAFETY: local has room for an int.
    unsafe { *p = conv(std_h) };
    p as *mut c_void
}

face!(MPI_T_cvar_handle_alloc, PMPI_T_cvar_handle_alloc, (cvar_index: c_int, obj_handle: *mut c_void, handle: *mut usize, count: *mut c_int) {
    let mut bind = 0;
    let n = null_mut();
    let rc = imp::PMPI_T_cvar_get_info(cvar_index, n, null_mut(), null_mut(), null_mut(), null_mut(), n, null_mut(), &mut bind, null_mut());
    if rc != 0 {
        return v::err_out(rc);
    }
    let mut local = [0usize; 1];
    v::err_out(imp::PMPI_T_cvar_handle_alloc(cvar_index, obj_in(bind, obj_handle, &mut local), handle, count))
});

face!(MPI_T_pvar_handle_alloc, PMPI_T_pvar_handle_alloc, (session: usize, pvar_index: c_int, obj_handle: *mut c_void, handle: *mut usize, count: *mut c_int) {
    let mut bind = 0;
    let n = null_mut();
    let z = null_mut();
    let rc = imp::PMPI_T_pvar_get_info(pvar_index, n, z, z, z, z, null_mut(), n, z, &mut bind, z, z, z);
    if rc != 0 {
        return v::err_out(rc);
    }
    let mut local = [0usize; 1];
    v::err_out(imp::PMPI_T_pvar_handle_alloc(session, pvar_index, obj_in(bind, obj_handle, &mut local), handle, count))
});

face!(MPI_T_event_handle_alloc, PMPI_T_event_handle_alloc, (event_index: c_int, obj_handle: *mut c_void, info: usize, event_registration: *mut usize) {
    let mut bind = 0;
    let n = null_mut();
    let z = null_mut();
    let rc = imp::PMPI_T_event_get_info(event_index, n, z, z, z, null_mut(), z, null_mut(), z, n, z, &mut bind);
    if rc != 0 {
        return v::err_out(rc);
    }
    let mut local = [0usize; 1];
    v::err_out(imp::PMPI_T_event_handle_alloc(event_index, obj_in(bind, obj_handle, &mut local), h::info_in(info), event_registration))
});

face!(MPI_T_event_get_info, PMPI_T_event_get_info, (event_index: c_int, name: *mut c_char, name_len: *mut c_int, verbosity: *mut c_int, array_of_datatypes: *mut usize, array_of_displacements: *mut isize, num_elements: *mut c_int, enumtype: *mut usize, info: *mut usize, desc: *mut c_char, desc_len: *mut c_int, bind: *mut c_int) {
    // The datatype array holds *num_elements entries (on input: its length).
    let cap = if num_elements.is_null() { 0 } else { (*num_elements).max(0) as usize };
    let mut types = vec![0 as c_int; cap];
    let tp = if array_of_datatypes.is_null() { null_mut() } else { types.as_mut_ptr() };
    let mut info_m: c_int = 0;
    let ip = if info.is_null() { null_mut() } else { &mut info_m as *mut c_int };
    let rc = imp::PMPI_T_event_get_info(event_index, name, name_len, verbosity, tp, array_of_displacements, num_elements, enumtype, ip, desc, desc_len, bind);
    if rc == 0 {
        if !array_of_datatypes.is_null() && !num_elements.is_null() {
            let n = ((*num_elements).max(0) as usize).min(cap);
            for (i, &d) in types.iter().take(n).enumerate() {
                *array_of_datatypes.add(i) = h::dtype_out(d);
            }
        }
        if !info.is_null() {
            *info = h::info_out(info_m);
        }
        if !verbosity.is_null() {
            *verbosity = t::t_verbosity_out(*verbosity);
        }
        if !bind.is_null() {
            *bind = t::t_bind_out(*bind);
        }
    }
    v::err_out(rc)
});

// ---------------------------------------------------------------------------------------
// Event callbacks
// ---------------------------------------------------------------------------------------

type StdEventCb = unsafe extern "C" fn(usize, usize, c_int, *mut c_void);
type StdFreeCb = unsafe extern "C" fn(usize, c_int, *mut c_void);
type StdDroppedCb = unsafe extern "C" fn(i64, usize, c_int, c_int, *mut c_void);

static EVENT_CBS: Pool = Pool::new();
static FREE_CBS: Pool = Pool::new();
static DROPPED_CBS: Pool = Pool::new();

unsafe extern "C" fn event_tramp<const N: usize>(
    inst: usize,
    reg: usize,
    safety: c_int,
    user: *mut c_void,
) {
    // SAFETY: slot N holds the user's MPI_T_event_cb_function.
    unsafe {
        let f: StdEventCb = std::mem::transmute(EVENT_CBS.get(N));
        f(inst, reg, t::t_cb_safety_out(safety), user);
    }
}
unsafe extern "C" fn free_tramp<const N: usize>(reg: usize, safety: c_int, user: *mut c_void) {
    // SAFETY: slot N holds the user's MPI_T_event_free_cb_function.
    unsafe {
        let f: StdFreeCb = std::mem::transmute(FREE_CBS.get(N));
        f(reg, t::t_cb_safety_out(safety), user);
    }
}
unsafe extern "C" fn dropped_tramp<const N: usize>(
    count: i64,
    reg: usize,
    source: c_int,
    safety: c_int,
    user: *mut c_void,
) {
    // SAFETY: slot N holds the user's MPI_T_event_dropped_cb_function.
    unsafe {
        let f: StdDroppedCb = std::mem::transmute(DROPPED_CBS.get(N));
        f(count, reg, source, t::t_cb_safety_out(safety), user);
    }
}

type EventTramp = unsafe extern "C" fn(usize, usize, c_int, *mut c_void);
type FreeTramp = unsafe extern "C" fn(usize, c_int, *mut c_void);
type DroppedTramp = unsafe extern "C" fn(i64, usize, c_int, c_int, *mut c_void);
const EVENT_TRAMPS: [EventTramp; POOL_SIZE] = trampolines!(event_tramp as EventTramp);
const FREE_TRAMPS: [FreeTramp; POOL_SIZE] = trampolines!(free_tramp as FreeTramp);
const DROPPED_TRAMPS: [DroppedTramp; POOL_SIZE] = trampolines!(dropped_tramp as DroppedTramp);

face!(MPI_T_event_register_callback, PMPI_T_event_register_callback, (event_registration: usize, cb_safety: c_int, info: usize, user_data: *mut c_void, event_cb_function: usize) {
    let t = match super::callbacks::pooled("MPI_T_event_register_callback", &EVENT_CBS, event_cb_function, |i| EVENT_TRAMPS[i] as usize) {
        Ok(t) => t,
        Err(rc) => return rc,
    };
    v::err_out(imp::PMPI_T_event_register_callback(event_registration, t::t_cb_safety_in(cb_safety), h::info_in(info), user_data, t))
});

face!(MPI_T_event_handle_free, PMPI_T_event_handle_free, (event_registration: usize, user_data: *mut c_void, free_cb_function: usize) {
    let t = match super::callbacks::pooled("MPI_T_event_handle_free", &FREE_CBS, free_cb_function, |i| FREE_TRAMPS[i] as usize) {
        Ok(t) => t,
        Err(rc) => return rc,
    };
    v::err_out(imp::PMPI_T_event_handle_free(event_registration, user_data, t))
});

face!(MPI_T_event_set_dropped_handler, PMPI_T_event_set_dropped_handler, (event_registration: usize, dropped_cb_function: usize) {
    let t = match super::callbacks::pooled("MPI_T_event_set_dropped_handler", &DROPPED_CBS, dropped_cb_function, |i| DROPPED_TRAMPS[i] as usize) {
        Ok(t) => t,
        Err(rc) => return rc,
    };
    v::err_out(imp::PMPI_T_event_set_dropped_handler(event_registration, t))
});
