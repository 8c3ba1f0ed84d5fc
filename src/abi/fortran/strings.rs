//! Info keys and values whose length argument has a Fortran meaning, and the argv
//! arrays of MPI_Comm_spawn(_multiple) (CHARACTER arrays ended by a blank element).

use super::fort;
use super::rt::*;
use crate::abi::{info::*, session::*, spawn::*};
use std::os::raw::{c_char, c_int};

// Info strings whose length argument has a Fortran meaning.

fort! { [pmpi_info_get, pmpi_info_get__, PMPI_INFO_GET, mpi_info_get, mpi_info_get_, mpi_info_get__, MPI_INFO_GET]
pmpi_info_get_ (info: *const Fint, key: *const c_char, valuelen: *const Fint, value: *mut c_char,
    flag: *mut Fint, ierror: *mut Fint, key_len: usize, value_len: usize) {
    let k = str_in(key, key_len);
    let mut v = StrOut::new(value_len);
    let n = rd(valuelen).min(value_len as Fint);
    let r = PMPI_Info_get(rd(info), k.as_ptr() as _, n, v.ptr(), flag);
    if r == MPI_SUCCESS && rd(flag) != 0 {
        v.copy_to(value, value_len);
    }
    set_ierr(ierror, r);
} }

// MPI_INFO_GET_STRING: BUFLEN counts characters without the C terminator on both sides.
fort! { [pmpi_info_get_string, pmpi_info_get_string__, PMPI_INFO_GET_STRING, mpi_info_get_string,
    mpi_info_get_string_, mpi_info_get_string__, MPI_INFO_GET_STRING]
pmpi_info_get_string_ (info: *const Fint, key: *const c_char, buflen: *mut Fint, value: *mut c_char,
    flag: *mut Fint, ierror: *mut Fint, key_len: usize, value_len: usize) {
    let k = str_in(key, key_len);
    let mut v = StrOut::new(value_len);
    let asked = rd(buflen);
    let mut n: c_int = if asked > 0 { asked + 1 } else { 0 };
    let r = PMPI_Info_get_string(rd(info), k.as_ptr() as _, &mut n, v.ptr(), flag);
    if r == MPI_SUCCESS {
        wr(buflen, if n > 0 { n - 1 } else { 0 });
        if rd(flag) != 0 && asked > 0 {
            v.copy_to(value, value_len);
        }
    }
    set_ierr(ierror, r);
} }

fort! { [pmpi_info_get_valuelen, pmpi_info_get_valuelen__, PMPI_INFO_GET_VALUELEN,
    mpi_info_get_valuelen, mpi_info_get_valuelen_, mpi_info_get_valuelen__, MPI_INFO_GET_VALUELEN]
pmpi_info_get_valuelen_ (info: *const Fint, key: *const c_char, valuelen: *mut Fint, flag: *mut Fint,
    ierror: *mut Fint, key_len: usize) {
    let k = str_in(key, key_len);
    set_ierr(ierror, PMPI_Info_get_valuelen(rd(info), k.as_ptr() as _, valuelen, flag));
} }

// MPI_SESSION_GET_NTH_PSET: PSET_LEN in/out without the terminator, as MPI_INFO_GET_STRING.
fort! { [pmpi_session_get_nth_pset, pmpi_session_get_nth_pset__, PMPI_SESSION_GET_NTH_PSET,
    mpi_session_get_nth_pset, mpi_session_get_nth_pset_, mpi_session_get_nth_pset__,
    MPI_SESSION_GET_NTH_PSET]
pmpi_session_get_nth_pset_ (session: *const Fint, info: *const Fint, n: *const Fint,
    pset_len: *mut Fint, pset_name: *mut c_char, ierror: *mut Fint, pset_name_len: usize) {
    let mut v = StrOut::new(pset_name_len);
    let asked = rd(pset_len);
    let mut len: c_int = if asked > 0 { asked + 1 } else { 0 };
    let r = PMPI_Session_get_nth_pset(rd(session), rd(info), rd(n), &mut len, v.ptr());
    if r == MPI_SUCCESS {
        wr(pset_len, if len > 0 { len - 1 } else { 0 });
        if asked > 0 {
            v.copy_to(pset_name, pset_name_len);
        }
    }
    set_ierr(ierror, r);
} }

// ---------------------------------------------------------------------------------------
// Spawn: argv arrays are CHARACTER arrays ended by a blank element.

fort! { [pmpi_comm_spawn, pmpi_comm_spawn__, PMPI_COMM_SPAWN, mpi_comm_spawn, mpi_comm_spawn_,
    mpi_comm_spawn__, MPI_COMM_SPAWN]
pmpi_comm_spawn_ (command: *const c_char, argv: *const c_char, maxprocs: *const Fint, info: *const Fint,
    root: *const Fint, comm: *const Fint, intercomm: *mut Fint, codes: *mut Fint, ierror: *mut Fint,
    command_len: usize, argv_len: usize) {
    let cmd = str_in(command, command_len);
    let mut args = if is(argv as _, &specials().argv_null) {
        Vec::new()
    } else {
        str_array(argv, argv_len, argv_len, None)
    };
    let mut cargv = c_argv(&mut args);
    let argv_c = if is(argv as _, &specials().argv_null) { std::ptr::null_mut() } else { cargv.as_mut_ptr() };
    set_ierr(ierror, PMPI_Comm_spawn(cmd.as_ptr() as _, argv_c, rd(maxprocs), rd(info), rd(root), rd(comm),
        intercomm, errcodes(codes)));
} }

// ARRAY_OF_ARGV(COUNT, *) is column-major: the j-th argument of command i is at (i, j).
fort! { [pmpi_comm_spawn_multiple, pmpi_comm_spawn_multiple__, PMPI_COMM_SPAWN_MULTIPLE,
    mpi_comm_spawn_multiple, mpi_comm_spawn_multiple_, mpi_comm_spawn_multiple__,
    MPI_COMM_SPAWN_MULTIPLE]
pmpi_comm_spawn_multiple_ (count: *const Fint, commands: *const c_char, argvs: *const c_char,
    maxprocs: *const Fint, infos: *const Fint, root: *const Fint, comm: *const Fint,
    intercomm: *mut Fint, errcodes_: *mut Fint, ierror: *mut Fint, commands_len: usize, argvs_len: usize) {
    let n = rd(count).max(0) as usize;
    let mut cmds = str_array(commands, commands_len, commands_len, Some(n));
    let mut cmd_ptrs: Vec<*mut c_char> = cmds.iter_mut().map(|s| s.as_mut_ptr() as *mut c_char).collect();
    let argvs_null = is(argvs as _, &specials().argvs_null);
    let mut each: Vec<Vec<Vec<u8>>> = (0..n)
        .map(|i| if argvs_null { Vec::new() } else { str_array(argvs.add(i * argvs_len), argvs_len, n * argvs_len, None) })
        .collect();
    let mut each_c: Vec<Vec<*mut c_char>> = each.iter_mut().map(|a| c_argv(a)).collect();
    let mut all: Vec<*mut *mut c_char> = each_c.iter_mut().map(|a| a.as_mut_ptr()).collect();
    let all_c = if argvs_null { std::ptr::null_mut() } else { all.as_mut_ptr() };
    set_ierr(ierror, PMPI_Comm_spawn_multiple(rd(count), cmd_ptrs.as_mut_ptr(), all_c, maxprocs as _,
        infos as _, rd(root), rd(comm), intercomm, errcodes(errcodes_)));
} }
