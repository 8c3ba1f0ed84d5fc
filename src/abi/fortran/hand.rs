//! The Fortran bindings that do not follow the regular rules of tools/gen-fortran.py.

use super::fort;
use super::rt::*;
use crate::abi::{
    attr::*, errhandler::*, info::*, init::*, io::datarep::*, io::*, op::*, request::*, session::*,
    spawn::*,
};
use std::mem::transmute;
use std::os::raw::{c_char, c_int, c_void};

const MPI_SUCCESS: c_int = 0;
const MPI_UNDEFINED: c_int = -32766;
const MPI_ERR_OTHER: c_int = 15;

// ---------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------
// Completion with indices: Fortran indices start at 1.

/// Adds 1 to an index the C call returned, unless it is MPI_UNDEFINED.
unsafe fn index_out(r: c_int, index: *mut Fint) {
    if r == MPI_SUCCESS && rd(index) != MPI_UNDEFINED && rd(index) >= 0 {
        wr(index, rd(index) + 1);
    }
}

unsafe fn indices_out(r: c_int, outcount: *const Fint, indices: *mut Fint) {
    if r == MPI_SUCCESS && rd(outcount) != MPI_UNDEFINED {
        for i in 0..rd(outcount).max(0) as usize {
            *indices.add(i) += 1;
        }
    }
}

fort! { [pmpi_waitany, pmpi_waitany__, PMPI_WAITANY, mpi_waitany, mpi_waitany_, mpi_waitany__, MPI_WAITANY]
pmpi_waitany_ (count: *const Fint, reqs: *mut Fint, index: *mut Fint, st: *mut Fint, ierror: *mut Fint) {
    let r = PMPI_Waitany(rd(count), reqs as _, index, status(st) as _);
    index_out(r, index);
    set_ierr(ierror, r);
} }

fort! { [pmpi_testany, pmpi_testany__, PMPI_TESTANY, mpi_testany, mpi_testany_, mpi_testany__, MPI_TESTANY]
pmpi_testany_ (count: *const Fint, reqs: *mut Fint, index: *mut Fint, flag: *mut Fint, st: *mut Fint,
    ierror: *mut Fint) {
    let r = PMPI_Testany(rd(count), reqs as _, index, flag, status(st) as _);
    index_out(r, index);
    set_ierr(ierror, r);
} }

fort! { [pmpi_request_get_status_any, pmpi_request_get_status_any__, PMPI_REQUEST_GET_STATUS_ANY,
    mpi_request_get_status_any, mpi_request_get_status_any_, mpi_request_get_status_any__,
    MPI_REQUEST_GET_STATUS_ANY]
pmpi_request_get_status_any_ (count: *const Fint, reqs: *mut Fint, index: *mut Fint, flag: *mut Fint,
    st: *mut Fint, ierror: *mut Fint) {
    let r = PMPI_Request_get_status_any(rd(count), reqs as _, index, flag, status(st) as _);
    index_out(r, index);
    set_ierr(ierror, r);
} }

fort! { [pmpi_waitsome, pmpi_waitsome__, PMPI_WAITSOME, mpi_waitsome, mpi_waitsome_, mpi_waitsome__, MPI_WAITSOME]
pmpi_waitsome_ (incount: *const Fint, reqs: *mut Fint, outcount: *mut Fint, indices: *mut Fint,
    sts: *mut Fint, ierror: *mut Fint) {
    let r = PMPI_Waitsome(rd(incount), reqs as _, outcount, indices, statuses(sts) as _);
    indices_out(r, outcount, indices);
    set_ierr(ierror, r);
} }

fort! { [pmpi_testsome, pmpi_testsome__, PMPI_TESTSOME, mpi_testsome, mpi_testsome_, mpi_testsome__, MPI_TESTSOME]
pmpi_testsome_ (incount: *const Fint, reqs: *mut Fint, outcount: *mut Fint, indices: *mut Fint,
    sts: *mut Fint, ierror: *mut Fint) {
    let r = PMPI_Testsome(rd(incount), reqs as _, outcount, indices, statuses(sts) as _);
    indices_out(r, outcount, indices);
    set_ierr(ierror, r);
} }

fort! { [pmpi_request_get_status_some, pmpi_request_get_status_some__, PMPI_REQUEST_GET_STATUS_SOME,
    mpi_request_get_status_some, mpi_request_get_status_some_, mpi_request_get_status_some__,
    MPI_REQUEST_GET_STATUS_SOME]
pmpi_request_get_status_some_ (incount: *const Fint, reqs: *mut Fint, outcount: *mut Fint,
    indices: *mut Fint, sts: *mut Fint, ierror: *mut Fint) {
    let r = PMPI_Request_get_status_some(rd(incount), reqs as _, outcount, indices, statuses(sts) as _);
    indices_out(r, outcount, indices);
    set_ierr(ierror, r);
} }

// ---------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------
// Callbacks with the same calling convention in C and Fortran (handles are the C ints, all
// arguments by reference): user ops and communicator/window/session errhandlers are given
// to the C layer as they are, as MPICH does.

fort! { [pmpi_op_create, pmpi_op_create__, PMPI_OP_CREATE, mpi_op_create, mpi_op_create_,
    mpi_op_create__, MPI_OP_CREATE]
pmpi_op_create_ (user_fn: *const c_void, commute: *const Fint, op: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Op_create(transmute::<*const c_void, _>(user_fn), rd(commute), op));
} }

fort! { [pmpi_comm_create_errhandler, pmpi_comm_create_errhandler__, PMPI_COMM_CREATE_ERRHANDLER,
    mpi_comm_create_errhandler, mpi_comm_create_errhandler_, mpi_comm_create_errhandler__,
    MPI_COMM_CREATE_ERRHANDLER]
pmpi_comm_create_errhandler_ (f: *const c_void, errhandler: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Comm_create_errhandler(transmute::<*const c_void, _>(f), errhandler));
} }

fort! { [pmpi_errhandler_create, pmpi_errhandler_create__, PMPI_ERRHANDLER_CREATE,
    mpi_errhandler_create, mpi_errhandler_create_, mpi_errhandler_create__, MPI_ERRHANDLER_CREATE]
pmpi_errhandler_create_ (f: *const c_void, errhandler: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Comm_create_errhandler(transmute::<*const c_void, _>(f), errhandler));
} }

fort! { [pmpi_win_create_errhandler, pmpi_win_create_errhandler__, PMPI_WIN_CREATE_ERRHANDLER,
    mpi_win_create_errhandler, mpi_win_create_errhandler_, mpi_win_create_errhandler__,
    MPI_WIN_CREATE_ERRHANDLER]
pmpi_win_create_errhandler_ (f: *const c_void, errhandler: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Win_create_errhandler(transmute::<*const c_void, _>(f), errhandler));
} }

fort! { [pmpi_session_create_errhandler, pmpi_session_create_errhandler__,
    PMPI_SESSION_CREATE_ERRHANDLER, mpi_session_create_errhandler, mpi_session_create_errhandler_,
    mpi_session_create_errhandler__, MPI_SESSION_CREATE_ERRHANDLER]
pmpi_session_create_errhandler_ (f: *const c_void, errhandler: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Session_create_errhandler(transmute::<*const c_void, _>(f), errhandler));
} }

// A file errhandler gets the file as an INTEGER in Fortran but as an MPI_File (pointer
// sized) in C, so each Fortran handler gets a C trampoline: a fixed set of slots, each
// remembering one Fortran function (MPICH needs none because its proxy is in the core).
type FileErrF = unsafe extern "C" fn(*mut Fint, *mut Fint);
const FILE_ERR_SLOTS: usize = 32;
static FILE_ERR_FNS: [std::sync::atomic::AtomicUsize; FILE_ERR_SLOTS] =
    [const { std::sync::atomic::AtomicUsize::new(0) }; FILE_ERR_SLOTS];

unsafe extern "C" fn file_err_tramp<const I: usize>(file: *mut usize, code: *mut c_int) {
    let f = FILE_ERR_FNS[I].load(std::sync::atomic::Ordering::Acquire);
    if f != 0 {
        let ff: FileErrF = transmute::<usize, FileErrF>(f);
        let mut fh = PMPI_File_c2f(rd(file));
        ff(&mut fh, code);
    }
}

macro_rules! tramps {
    ($($i:literal)*) => { [$(file_err_tramp::<$i> as unsafe extern "C" fn(*mut usize, *mut c_int)),*] };
}
static FILE_ERR_TRAMPS: [unsafe extern "C" fn(*mut usize, *mut c_int); FILE_ERR_SLOTS] =
    tramps!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);

fort! { [pmpi_file_create_errhandler, pmpi_file_create_errhandler__, PMPI_FILE_CREATE_ERRHANDLER,
    mpi_file_create_errhandler, mpi_file_create_errhandler_, mpi_file_create_errhandler__,
    MPI_FILE_CREATE_ERRHANDLER]
pmpi_file_create_errhandler_ (f: *const c_void, errhandler: *mut Fint, ierror: *mut Fint) {
    use std::sync::atomic::Ordering;
    // The same Fortran function reuses its slot.
    let key = f as usize;
    let slot = (0..FILE_ERR_SLOTS).find(|&i| FILE_ERR_FNS[i].load(Ordering::Acquire) == key).or_else(|| {
        (0..FILE_ERR_SLOTS)
            .find(|&i| FILE_ERR_FNS[i].compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire).is_ok())
    });
    let r = match slot {
        Some(i) => PMPI_File_create_errhandler(transmute::<*const c_void, _>(FILE_ERR_TRAMPS[i] as *const c_void),
            errhandler),
        // More distinct Fortran file errhandler functions than slots: reported as an error
        // of the call, through the default file errhandler like any bad argument.
        None => crate::abi::errors::raise(
            &crate::abi::Ctx { func: "MPI_File_create_errhandler", target: crate::abi::Target::File(0) },
            crate::error::MpiError::arg(crate::error::class::ERR_OTHER, "function",
                "more than 32 distinct Fortran file errhandler functions"),
        ),
    };
    set_ierr(ierror, r);
} }

// ---------------------------------------------------------------------------------------
// Attributes. Fortran attribute values are INTEGER(KIND=MPI_ADDRESS_KIND) (INTEGER for the
// MPI-1 MPI_ATTR_PUT/GET); the C layer stores them as the pointer value, so a value set in
// Fortran reads back unchanged in Fortran and as `(void *)value` in C. The predefined
// attributes are read through their Fortran keyvals (C keyval + 1, MPICH's values), which
// give the value itself where C gives a pointer to it.

/// C keyvals of the predefined attributes (mpi.h) and how their C value is stored.
enum Predef {
    Int,
    Aint,
    Pointer,
}
fn predefined(fortran_keyval: Fint) -> Option<(c_int, Predef)> {
    let c = fortran_keyval.wrapping_sub(1);
    let kind = match c {
        // MPI_TAG_UB, MPI_HOST, MPI_IO, MPI_WTIME_IS_GLOBAL, MPI_UNIVERSE_SIZE,
        // MPI_LASTUSEDCODE, MPI_APPNUM.
        0x6440_0001 | 0x6440_0003 | 0x6440_0005 | 0x6440_0007 | 0x6440_0009 | 0x6440_000b
        | 0x6440_000d => Predef::Int,
        0x6600_0001 => Predef::Pointer, // MPI_WIN_BASE
        0x6600_0003 => Predef::Aint,    // MPI_WIN_SIZE
        // MPI_WIN_DISP_UNIT, MPI_WIN_CREATE_FLAVOR, MPI_WIN_MODEL.
        0x6600_0005 | 0x6600_0007 | 0x6600_0009 => Predef::Int,
        _ => return None,
    };
    Some((c, kind))
}

pub(super) type GetAttr = unsafe extern "C" fn(c_int, c_int, *mut c_void, *mut c_int) -> c_int;

/// Reads an attribute for Fortran: (error code, value if set). Also serves MPICH's
/// libmpifort through `MPII_*_get_attr` (mpich.rs).
pub(super) unsafe fn get_attr_value(
    getter: GetAttr,
    obj: Fint,
    keyval: Fint,
    flag: *mut Fint,
) -> (c_int, i64) {
    let mut v: *mut c_void = std::ptr::null_mut();
    let (kv, kind) = match predefined(keyval) {
        Some((c, k)) => (c, Some(k)),
        None => (keyval, None),
    };
    let r = getter(obj, kv, &mut v as *mut *mut c_void as *mut c_void, flag);
    if r != MPI_SUCCESS || rd(flag) == 0 {
        return (r, 0);
    }
    let value = match kind {
        None | Some(Predef::Pointer) => v as i64,
        Some(Predef::Int) if !v.is_null() => rd(v as *const c_int) as i64,
        Some(Predef::Aint) if !v.is_null() => rd(v as *const i64),
        Some(_) => 0,
    };
    (r, value)
}

macro_rules! attr_get_binding {
    ([$($alias:ident),*] $imp:ident, $c:ident) => {
        fort! { [$($alias),*] $imp (obj: *const Fint, keyval: *const Fint, value: *mut i64, flag: *mut Fint,
            ierror: *mut Fint) {
            let (r, v) = get_attr_value($c, rd(obj), rd(keyval), flag);
            if r == MPI_SUCCESS {
                wr(value, v);
            }
            set_ierr(ierror, r);
        } }
    };
}
attr_get_binding!([pmpi_comm_get_attr, pmpi_comm_get_attr__, PMPI_COMM_GET_ATTR, mpi_comm_get_attr,
    mpi_comm_get_attr_, mpi_comm_get_attr__, MPI_COMM_GET_ATTR] pmpi_comm_get_attr_, PMPI_Comm_get_attr);
attr_get_binding!([pmpi_type_get_attr, pmpi_type_get_attr__, PMPI_TYPE_GET_ATTR, mpi_type_get_attr,
    mpi_type_get_attr_, mpi_type_get_attr__, MPI_TYPE_GET_ATTR] pmpi_type_get_attr_, PMPI_Type_get_attr);
attr_get_binding!([pmpi_win_get_attr, pmpi_win_get_attr__, PMPI_WIN_GET_ATTR, mpi_win_get_attr,
    mpi_win_get_attr_, mpi_win_get_attr__, MPI_WIN_GET_ATTR] pmpi_win_get_attr_, PMPI_Win_get_attr);

fort! { [pmpi_attr_get, pmpi_attr_get__, PMPI_ATTR_GET, mpi_attr_get, mpi_attr_get_, mpi_attr_get__, MPI_ATTR_GET]
pmpi_attr_get_ (comm: *const Fint, keyval: *const Fint, value: *mut Fint, flag: *mut Fint, ierror: *mut Fint) {
    let (r, v) = get_attr_value(PMPI_Comm_get_attr, rd(comm), rd(keyval), flag);
    if r == MPI_SUCCESS {
        wr(value, v as Fint);
    }
    set_ierr(ierror, r);
} }

macro_rules! attr_set_binding {
    ([$($alias:ident),*] $imp:ident, $c:ident) => {
        fort! { [$($alias),*] $imp (obj: *const Fint, keyval: *const Fint, value: *const i64, ierror: *mut Fint) {
            set_ierr(ierror, $c(rd(obj), rd(keyval), rd(value) as isize as *mut c_void));
        } }
    };
}
attr_set_binding!([pmpi_comm_set_attr, pmpi_comm_set_attr__, PMPI_COMM_SET_ATTR, mpi_comm_set_attr,
    mpi_comm_set_attr_, mpi_comm_set_attr__, MPI_COMM_SET_ATTR] pmpi_comm_set_attr_, PMPI_Comm_set_attr);
attr_set_binding!([pmpi_type_set_attr, pmpi_type_set_attr__, PMPI_TYPE_SET_ATTR, mpi_type_set_attr,
    mpi_type_set_attr_, mpi_type_set_attr__, MPI_TYPE_SET_ATTR] pmpi_type_set_attr_, PMPI_Type_set_attr);
attr_set_binding!([pmpi_win_set_attr, pmpi_win_set_attr__, PMPI_WIN_SET_ATTR, mpi_win_set_attr,
    mpi_win_set_attr_, mpi_win_set_attr__, MPI_WIN_SET_ATTR] pmpi_win_set_attr_, PMPI_Win_set_attr);

fort! { [pmpi_attr_put, pmpi_attr_put__, PMPI_ATTR_PUT, mpi_attr_put, mpi_attr_put_, mpi_attr_put__, MPI_ATTR_PUT]
pmpi_attr_put_ (comm: *const Fint, keyval: *const Fint, value: *const Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Comm_set_attr(rd(comm), rd(keyval), rd(value) as isize as *mut c_void));
} }

// Keyvals with Fortran copy/delete functions: the C layer gets trampolines, and the extra
// state it hands them is a record of the Fortran functions and the user's extra state. The
// record lives as long as the program: attributes may outlive MPI_*_FREE_KEYVAL and still
// need their delete function.
type CopyF = unsafe extern "C" fn(
    *const Fint,
    *const Fint,
    *const i64,
    *const i64,
    *mut i64,
    *mut Fint,
    *mut Fint,
);
type DeleteF = unsafe extern "C" fn(*const Fint, *const Fint, *const i64, *const i64, *mut Fint);
type CopyF77 = unsafe extern "C" fn(
    *const Fint,
    *const Fint,
    *const Fint,
    *const Fint,
    *mut Fint,
    *mut Fint,
    *mut Fint,
);
type DeleteF77 =
    unsafe extern "C" fn(*const Fint, *const Fint, *const Fint, *const Fint, *mut Fint);

struct Keyval {
    copy: usize,
    delete: usize,
    extra: i64,
    /// MPI_KEYVAL_CREATE: INTEGER values and extra state instead of address-sized ones.
    f77: bool,
}

unsafe extern "C" fn copy_tramp(
    old: c_int,
    keyval: c_int,
    extra: *mut c_void,
    attr_in: *mut c_void,
    attr_out: *mut c_void,
    flag: *mut c_int,
) -> c_int {
    let k = &*(extra as *const Keyval);
    let mut ierr: Fint = MPI_SUCCESS;
    let mut fl: Fint = 0;
    let out: i64;
    if k.f77 {
        let f = transmute::<usize, CopyF77>(k.copy);
        let (e, vin) = (k.extra as Fint, attr_in as isize as Fint);
        let mut vout: Fint = 0;
        f(&old, &keyval, &e, &vin, &mut vout, &mut fl, &mut ierr);
        out = vout as i64;
    } else {
        let f = transmute::<usize, CopyF>(k.copy);
        let vin = attr_in as isize as i64;
        let mut vout: i64 = 0;
        f(&old, &keyval, &k.extra, &vin, &mut vout, &mut fl, &mut ierr);
        out = vout;
    }
    *flag = (fl != 0) as c_int;
    if fl != 0 {
        *(attr_out as *mut *mut c_void) = out as isize as *mut c_void;
    }
    ierr
}

unsafe extern "C" fn delete_tramp(
    obj: c_int,
    keyval: c_int,
    attr: *mut c_void,
    extra: *mut c_void,
) -> c_int {
    let k = &*(extra as *const Keyval);
    let mut ierr: Fint = MPI_SUCCESS;
    if k.f77 {
        let f = transmute::<usize, DeleteF77>(k.delete);
        f(
            &obj,
            &keyval,
            &(attr as isize as Fint),
            &(k.extra as Fint),
            &mut ierr,
        );
    } else {
        let f = transmute::<usize, DeleteF>(k.delete);
        f(&obj, &keyval, &(attr as isize as i64), &k.extra, &mut ierr);
    }
    ierr
}

type CreateKeyval = unsafe extern "C" fn(usize, usize, *mut c_int, *mut c_void) -> c_int;

unsafe fn create_keyval(
    create: usize,
    copy: *const c_void,
    delete: *const c_void,
    keyval: *mut Fint,
    extra: i64,
    f77: bool,
) -> c_int {
    let rec = Box::into_raw(Box::new(Keyval {
        copy: copy as usize,
        delete: delete as usize,
        extra,
        f77,
    }));
    let create = transmute::<usize, CreateKeyval>(create);
    let r = create(
        copy_tramp as *const () as usize,
        delete_tramp as *const () as usize,
        keyval,
        rec as *mut c_void,
    );
    if r != MPI_SUCCESS {
        drop(Box::from_raw(rec));
    }
    r
}

macro_rules! keyval_binding {
    ([$($alias:ident),*] $imp:ident, $c:ident) => {
        fort! { [$($alias),*] $imp (copy: *const c_void, delete: *const c_void, keyval: *mut Fint,
            extra: *const i64, ierror: *mut Fint) {
            set_ierr(ierror, create_keyval($c as *const () as usize, copy, delete, keyval, rd(extra), false));
        } }
    };
}
keyval_binding!([pmpi_comm_create_keyval, pmpi_comm_create_keyval__, PMPI_COMM_CREATE_KEYVAL,
    mpi_comm_create_keyval, mpi_comm_create_keyval_, mpi_comm_create_keyval__, MPI_COMM_CREATE_KEYVAL]
    pmpi_comm_create_keyval_, PMPI_Comm_create_keyval);
keyval_binding!([pmpi_type_create_keyval, pmpi_type_create_keyval__, PMPI_TYPE_CREATE_KEYVAL,
    mpi_type_create_keyval, mpi_type_create_keyval_, mpi_type_create_keyval__, MPI_TYPE_CREATE_KEYVAL]
    pmpi_type_create_keyval_, PMPI_Type_create_keyval);
keyval_binding!([pmpi_win_create_keyval, pmpi_win_create_keyval__, PMPI_WIN_CREATE_KEYVAL,
    mpi_win_create_keyval, mpi_win_create_keyval_, mpi_win_create_keyval__, MPI_WIN_CREATE_KEYVAL]
    pmpi_win_create_keyval_, PMPI_Win_create_keyval);

fort! { [pmpi_keyval_create, pmpi_keyval_create__, PMPI_KEYVAL_CREATE, mpi_keyval_create,
    mpi_keyval_create_, mpi_keyval_create__, MPI_KEYVAL_CREATE]
pmpi_keyval_create_ (copy: *const c_void, delete: *const c_void, keyval: *mut Fint, extra: *const Fint,
    ierror: *mut Fint) {
    set_ierr(ierror, create_keyval(PMPI_Comm_create_keyval as *const () as usize, copy, delete, keyval, rd(extra) as i64, true));
} }

// The predefined copy and delete functions, callable from Fortran (mpif.h declares them
// EXTERNAL). Address-sized values for the MPI-2 names, INTEGER ones for the MPI-1 names.
macro_rules! null_copy {
    ([$($alias:ident),*] $imp:ident, $t:ty) => {
        fort! { [$($alias),*] $imp (_old: *const Fint, _keyval: *const Fint, _extra: *const $t,
            _vin: *const $t, _vout: *mut $t, flag: *mut Fint, ierror: *mut Fint) {
            wr(flag, 0);
            set_ierr(ierror, MPI_SUCCESS);
        } }
    };
}
macro_rules! dup_copy {
    ([$($alias:ident),*] $imp:ident, $t:ty) => {
        fort! { [$($alias),*] $imp (_old: *const Fint, _keyval: *const Fint, _extra: *const $t,
            vin: *const $t, vout: *mut $t, flag: *mut Fint, ierror: *mut Fint) {
            wr(vout, rd(vin));
            wr(flag, 1);
            set_ierr(ierror, MPI_SUCCESS);
        } }
    };
}
macro_rules! null_delete {
    ([$($alias:ident),*] $imp:ident, $t:ty) => {
        fort! { [$($alias),*] $imp (_obj: *const Fint, _keyval: *const Fint, _v: *const $t,
            _extra: *const $t, ierror: *mut Fint) {
            set_ierr(ierror, MPI_SUCCESS);
        } }
    };
}
null_copy!([pmpi_comm_null_copy_fn, pmpi_comm_null_copy_fn__, PMPI_COMM_NULL_COPY_FN, mpi_comm_null_copy_fn,
    mpi_comm_null_copy_fn_, mpi_comm_null_copy_fn__, MPI_COMM_NULL_COPY_FN] pmpi_comm_null_copy_fn_, i64);
null_copy!([pmpi_type_null_copy_fn, pmpi_type_null_copy_fn__, PMPI_TYPE_NULL_COPY_FN, mpi_type_null_copy_fn,
    mpi_type_null_copy_fn_, mpi_type_null_copy_fn__, MPI_TYPE_NULL_COPY_FN] pmpi_type_null_copy_fn_, i64);
null_copy!([pmpi_win_null_copy_fn, pmpi_win_null_copy_fn__, PMPI_WIN_NULL_COPY_FN, mpi_win_null_copy_fn,
    mpi_win_null_copy_fn_, mpi_win_null_copy_fn__, MPI_WIN_NULL_COPY_FN] pmpi_win_null_copy_fn_, i64);
null_copy!([pmpi_null_copy_fn, pmpi_null_copy_fn__, PMPI_NULL_COPY_FN, mpi_null_copy_fn,
    mpi_null_copy_fn_, mpi_null_copy_fn__, MPI_NULL_COPY_FN] pmpi_null_copy_fn_, Fint);
dup_copy!([pmpi_comm_dup_fn, pmpi_comm_dup_fn__, PMPI_COMM_DUP_FN, mpi_comm_dup_fn,
    mpi_comm_dup_fn_, mpi_comm_dup_fn__, MPI_COMM_DUP_FN] pmpi_comm_dup_fn_, i64);
dup_copy!([pmpi_type_dup_fn, pmpi_type_dup_fn__, PMPI_TYPE_DUP_FN, mpi_type_dup_fn,
    mpi_type_dup_fn_, mpi_type_dup_fn__, MPI_TYPE_DUP_FN] pmpi_type_dup_fn_, i64);
dup_copy!([pmpi_win_dup_fn, pmpi_win_dup_fn__, PMPI_WIN_DUP_FN, mpi_win_dup_fn,
    mpi_win_dup_fn_, mpi_win_dup_fn__, MPI_WIN_DUP_FN] pmpi_win_dup_fn_, i64);
dup_copy!([pmpi_dup_fn, pmpi_dup_fn__, PMPI_DUP_FN, mpi_dup_fn,
    mpi_dup_fn_, mpi_dup_fn__, MPI_DUP_FN] pmpi_dup_fn_, Fint);
null_delete!([pmpi_comm_null_delete_fn, pmpi_comm_null_delete_fn__, PMPI_COMM_NULL_DELETE_FN,
    mpi_comm_null_delete_fn, mpi_comm_null_delete_fn_, mpi_comm_null_delete_fn__, MPI_COMM_NULL_DELETE_FN]
    pmpi_comm_null_delete_fn_, i64);
null_delete!([pmpi_type_null_delete_fn, pmpi_type_null_delete_fn__, PMPI_TYPE_NULL_DELETE_FN,
    mpi_type_null_delete_fn, mpi_type_null_delete_fn_, mpi_type_null_delete_fn__, MPI_TYPE_NULL_DELETE_FN]
    pmpi_type_null_delete_fn_, i64);
null_delete!([pmpi_win_null_delete_fn, pmpi_win_null_delete_fn__, PMPI_WIN_NULL_DELETE_FN,
    mpi_win_null_delete_fn, mpi_win_null_delete_fn_, mpi_win_null_delete_fn__, MPI_WIN_NULL_DELETE_FN]
    pmpi_win_null_delete_fn_, i64);
null_delete!([pmpi_null_delete_fn, pmpi_null_delete_fn__, PMPI_NULL_DELETE_FN, mpi_null_delete_fn,
    mpi_null_delete_fn_, mpi_null_delete_fn__, MPI_NULL_DELETE_FN] pmpi_null_delete_fn_, Fint);

// ---------------------------------------------------------------------------------------
// Generalized requests: the extra state becomes a record of the three Fortran functions,
// freed after the free function ran (the C layer calls it exactly once).

type QueryF = unsafe extern "C" fn(*const i64, *mut Fint, *mut Fint);
type FreeF = unsafe extern "C" fn(*const i64, *mut Fint);
type CancelF = unsafe extern "C" fn(*const i64, *const Fint, *mut Fint);

struct Grequest {
    query: QueryF,
    free: FreeF,
    cancel: CancelF,
    extra: i64,
}

unsafe extern "C" fn greq_query(extra: *mut c_void, st: *mut c_void) -> c_int {
    let g = &*(extra as *const Grequest);
    let mut ierr = MPI_SUCCESS;
    (g.query)(&g.extra, st as *mut Fint, &mut ierr);
    ierr
}
unsafe extern "C" fn greq_free(extra: *mut c_void) -> c_int {
    let g = Box::from_raw(extra as *mut Grequest);
    let mut ierr = MPI_SUCCESS;
    (g.free)(&g.extra, &mut ierr);
    ierr
}
unsafe extern "C" fn greq_cancel(extra: *mut c_void, complete: c_int) -> c_int {
    let g = &*(extra as *const Grequest);
    let mut ierr = MPI_SUCCESS;
    // LOGICAL: gfortran's .TRUE. is 1.
    let c: Fint = (complete != 0) as Fint;
    (g.cancel)(&g.extra, &c, &mut ierr);
    ierr
}

fort! { [pmpi_grequest_start, pmpi_grequest_start__, PMPI_GREQUEST_START, mpi_grequest_start,
    mpi_grequest_start_, mpi_grequest_start__, MPI_GREQUEST_START]
pmpi_grequest_start_ (query: *const c_void, free: *const c_void, cancel: *const c_void, extra: *const i64,
    request: *mut Fint, ierror: *mut Fint) {
    if query.is_null() || free.is_null() || cancel.is_null() {
        // Let the C layer report the null function.
        set_ierr(ierror, PMPI_Grequest_start(0, 0, 0, std::ptr::null_mut(), request));
        return;
    }
    let rec = Box::into_raw(Box::new(Grequest {
        query: transmute::<*const c_void, QueryF>(query),
        free: transmute::<*const c_void, FreeF>(free),
        cancel: transmute::<*const c_void, CancelF>(cancel),
        extra: rd(extra),
    }));
    let r = PMPI_Grequest_start(greq_query as *const () as usize, greq_free as *const () as usize, greq_cancel as *const () as usize,
        rec as *mut c_void, request);
    if r != MPI_SUCCESS {
        drop(Box::from_raw(rec));
    }
    set_ierr(ierror, r);
} }

// ---------------------------------------------------------------------------------------
// User data representations: conversion and extent functions with Fortran conventions.

type ConvF = unsafe extern "C" fn(
    *mut c_void,
    *const Fint,
    *const Fint,
    *mut c_void,
    *const i64,
    *const i64,
    *mut Fint,
);
type ExtentF = unsafe extern "C" fn(*const Fint, *mut i64, *const i64, *mut Fint);

struct Datarep {
    read: Option<ConvF>,
    write: Option<ConvF>,
    extent: ExtentF,
    extra: i64,
}

unsafe fn conv(
    f: ConvF,
    userbuf: *mut c_void,
    dt: c_int,
    count: c_int,
    filebuf: *mut c_void,
    pos: i64,
    extra: i64,
) -> c_int {
    let mut ierr = MPI_SUCCESS;
    f(userbuf, &dt, &count, filebuf, &pos, &extra, &mut ierr);
    ierr
}
unsafe extern "C" fn datarep_read(
    userbuf: *mut c_void,
    dt: c_int,
    count: c_int,
    filebuf: *mut c_void,
    pos: i64,
    extra: *mut c_void,
) -> c_int {
    let d = &*(extra as *const Datarep);
    match d.read {
        Some(f) => conv(f, userbuf, dt, count, filebuf, pos, d.extra),
        None => MPI_ERR_OTHER,
    }
}
unsafe extern "C" fn datarep_write(
    userbuf: *mut c_void,
    dt: c_int,
    count: c_int,
    filebuf: *mut c_void,
    pos: i64,
    extra: *mut c_void,
) -> c_int {
    let d = &*(extra as *const Datarep);
    match d.write {
        Some(f) => conv(f, userbuf, dt, count, filebuf, pos, d.extra),
        None => MPI_ERR_OTHER,
    }
}
unsafe extern "C" fn datarep_extent(dt: c_int, extent: *mut i64, extra: *mut c_void) -> c_int {
    let d = &*(extra as *const Datarep);
    let mut ierr = MPI_SUCCESS;
    (d.extent)(&dt, extent, &d.extra, &mut ierr);
    ierr
}

// MPI_CONVERSION_FN_NULL (mpif.h declares it EXTERNAL): its address means "no conversion";
// it is never called by the library.
fort! { [pmpi_conversion_fn_null, pmpi_conversion_fn_null__, PMPI_CONVERSION_FN_NULL,
    mpi_conversion_fn_null, mpi_conversion_fn_null_, mpi_conversion_fn_null__, MPI_CONVERSION_FN_NULL]
pmpi_conversion_fn_null_ (_userbuf: *mut c_void, _dt: *const Fint, _count: *const Fint, _filebuf: *mut c_void,
    _pos: *const i64, _extra: *const i64, ierror: *mut Fint) {
    set_ierr(ierror, MPI_SUCCESS);
} }

fn is_conversion_null(f: *const c_void) -> bool {
    f.is_null()
        || [
            pmpi_conversion_fn_null_ as *const () as usize,
            mpi_conversion_fn_null_ as *const () as usize,
            mpi_conversion_fn_null as *const () as usize,
            mpi_conversion_fn_null__ as *const () as usize,
            MPI_CONVERSION_FN_NULL as *const () as usize,
        ]
        .contains(&(f as usize))
}

fort! { [pmpi_register_datarep, pmpi_register_datarep__, PMPI_REGISTER_DATAREP, mpi_register_datarep,
    mpi_register_datarep_, mpi_register_datarep__, MPI_REGISTER_DATAREP]
pmpi_register_datarep_ (datarep: *const c_char, read: *const c_void, write: *const c_void,
    extent: *const c_void, extra: *const i64, ierror: *mut Fint, datarep_len: usize) {
    let name = str_in(datarep, datarep_len);
    let conv_of = |f: *const c_void| if is_conversion_null(f) { None } else { Some(transmute::<*const c_void, ConvF>(f)) };
    let (rf, wf) = (conv_of(read), conv_of(write));
    if extent.is_null() {
        set_ierr(ierror, PMPI_Register_datarep(name.as_ptr() as _, transmute::<usize, _>(0usize),
            transmute::<usize, _>(0usize), transmute::<usize, _>(0usize), std::ptr::null_mut()));
        return;
    }
    // A representation stays registered for the life of the program, and so does this record.
    let rec = Box::into_raw(Box::new(Datarep { read: rf, write: wf, extent: transmute::<*const c_void, ExtentF>(extent),
        extra: rd(extra) }));
    let rd_c = if rf.is_some() { datarep_read as *const () as usize } else { 0 };
    let wr_c = if wf.is_some() { datarep_write as *const () as usize } else { 0 };
    let r = PMPI_Register_datarep(name.as_ptr() as _, transmute::<usize, _>(rd_c), transmute::<usize, _>(wr_c),
        transmute::<usize, _>(datarep_extent as *const () as usize), rec as *mut c_void);
    if r != MPI_SUCCESS {
        drop(Box::from_raw(rec));
    }
    set_ierr(ierror, r);
} }

// ---------------------------------------------------------------------------------------
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
