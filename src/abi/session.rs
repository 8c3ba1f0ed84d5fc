//! Sessions (MPI 4): init/finalize, process sets, session errhandlers and info, and the
//! groups of psets that MPI_Comm_create_from_group turns into communicators.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::Ctx;
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::mpi_fn;
use crate::object::info::Info;
use crate::object::session::{pset_group, Session, PSETS};
use crate::runtime;
use std::os::raw::{c_char, c_int};
use std::sync::Arc;

/// Open sessions.
pub static SESSIONS: HandleTable<Session> = HandleTable::new(obj::SESSION);

/// Resolves argument `session`; errors raised after this go to its errhandler.
pub fn get(ctx: &mut Ctx, h: c_int) -> Result<Arc<Session>, MpiError> {
    match SESSIONS.get(h) {
        Some(s) => {
            ctx.on_session(h);
            Ok(s)
        }
        None => Err(MpiError::arg(
            class::ERR_SESSION,
            "session",
            if h == predefined::SESSION_NULL {
                "MPI_SESSION_NULL".to_string()
            } else {
                format!("invalid session handle {h:#x}")
            },
        )),
    }
}

/// Registered with atexit by the first MPI_Session_init: a process whose sessions all ended
/// (the engine idle, see runtime) tells the launcher it is done when it exits.
extern "C" fn at_exit() {
    // Nothing may unwind out of an atexit handler.
    let _ = std::panic::catch_unwind(runtime::at_exit);
}

fn register_exit_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `at_exit` is an extern "C" fn taking nothing that never unwinds; atexit
        // only stores its address, and the library stays loaded until exit.
        unsafe {
            libc::atexit(at_exit);
        }
    });
}

/// MPI_Session_init's errors go to its `errhandler` argument (MPI 4.1 section 11.3.1, and
/// MPICH from 4.1 on; MPICH 4.0.2 aborts whatever it is). The session object is made first,
/// carrying that errhandler, so the usual dispatch finds it; if the call fails it is
/// removed again once the errhandler has run. An invalid `errhandler` itself is reported as
/// any error outside an object is.
// In the standard-ABI library the standard face exports MPI_Session_init and calls this one
// under its internal name (see mpi_fn!).
#[cfg_attr(not(feature = "std-abi"), no_mangle)]
#[cfg_attr(
    feature = "std-abi",
    export_name = "OXIMPI_MPICH_PMPI_Session_init",
    allow(non_snake_case)
)]
pub unsafe extern "C" fn PMPI_Session_init(
    info: c_int,
    errhandler: c_int,
    session: *mut c_int,
) -> c_int {
    let mut made = None;
    let rc = super::run("MPI_Session_init", |ctx| {
        // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
        unsafe { session_init(ctx, info, errhandler, session, &mut made) }
    });
    if rc != 0 {
        if let Some(h) = made {
            // Undone only now: while the errhandler ran, the session and the engine it
            // counts on had to be there.
            SESSIONS.remove(h);
            let _ = runtime::session_finalize();
        }
    }
    rc
}

#[cfg_attr(not(feature = "std-abi"), no_mangle)]
#[cfg_attr(feature = "std-abi", allow(dead_code, non_snake_case))]
pub unsafe extern "C" fn MPI_Session_init(
    info: c_int,
    errhandler: c_int,
    session: *mut c_int,
) -> c_int {
    // SAFETY: same contract as the PMPI_ function it forwards to.
    unsafe { PMPI_Session_init(info, errhandler, session) }
}

/// The info keys that carry a session's thread level: `thread_level`, MPI 4.0's name (its
/// example 11.9) and MPICH's, and `mpi_thread_support_level`, MPI 4.1's and Open MPI's.
/// MPI_Session_init reads either; MPI_Session_get_info returns the level under both.
const THREAD_LEVEL_KEYS: [&str; 2] = ["thread_level", "mpi_thread_support_level"];

/// The thread level a session asks for in its info (MPI_THREAD_MULTIPLE if it names none).
/// The engine always runs with the locks of MPI_THREAD_MULTIPLE once a session exists (see
/// `runtime::session_init`), so every level asked for is given and reported back as asked,
/// as MPICH 4.0 reports it. A value that names no level is an error of class MPI_ERR_OTHER,
/// as in MPICH, naming the key and the value; two keys naming different levels likewise.
fn requested_thread_level(info: &Info) -> Result<i32, MpiError> {
    let mut level = None;
    for key in THREAD_LEVEL_KEYS {
        let Some(v) = info.get(key) else { continue };
        let asked = runtime::thread_level_named(v).ok_or_else(|| {
            MpiError::arg(
                class::ERR_OTHER,
                "info",
                format!(
                    "{key}={v:?} is not a thread level (MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED, \
                     MPI_THREAD_SERIALIZED or MPI_THREAD_MULTIPLE)"
                ),
            )
        })?;
        if let Some((first, l)) = level.filter(|&(_, l)| l != asked) {
            return Err(MpiError::arg(
                class::ERR_OTHER,
                "info",
                format!(
                    "{first} asks for {} and {key} for {}",
                    runtime::thread_level_name(l),
                    runtime::thread_level_name(asked)
                ),
            ));
        }
        level = Some((key, asked));
    }
    Ok(level.map_or(runtime::thread_level::THREAD_MULTIPLE, |(_, l)| l))
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn session_init(
    ctx: &mut Ctx,
    info: c_int,
    errhandler: c_int,
    session: *mut c_int,
    made: &mut Option<c_int>,
) -> Result<(), MpiError> {
    let e = super::comm::errhandler_of(errhandler)?;
    register_exit_hook();
    runtime::session_init()?;
    let s = Arc::new(Session::new(e, Info::new()));
    let h = SESSIONS.insert(s.clone());
    *made = Some(h);
    ctx.on_session(h);
    let mut i = super::info::get_or_empty(info, "info")?;
    // SAFETY: `session` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(session, predefined::SESSION_NULL, "session") }?;
    let level = requested_thread_level(&i)?;
    for key in THREAD_LEVEL_KEYS {
        i.set(key, runtime::thread_level_name(level));
    }
    *s.info.lock() = i;
    // SAFETY: `session` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(session, h, "session") }
}

mpi_fn!(MPI_Session_finalize, PMPI_Session_finalize, (session: *mut c_int), |ctx| {
    // SAFETY: `session` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(session, "session") }?;
    get(ctx, h)?;
    SESSIONS.remove(h);
    // SAFETY: `session` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(session, predefined::SESSION_NULL, "session") }?;
    runtime::session_finalize()
});

mpi_fn!(MPI_Session_get_num_psets, PMPI_Session_get_num_psets, (session: c_int, _info: c_int, npset_names: *mut c_int), |ctx| {
    get(ctx, session)?;
    // SAFETY: `npset_names` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(npset_names, PSETS.len() as c_int, "npset_names") }
});

mpi_fn!(MPI_Session_get_nth_pset, PMPI_Session_get_nth_pset, (session: c_int, _info: c_int, n: c_int, pset_len: *mut c_int, pset_name: *mut c_char), |ctx| {
    get(ctx, session)?;
    let name = usize::try_from(n).ok().and_then(|i| PSETS.get(i)).ok_or_else(|| {
        MpiError::arg(class::ERR_ARG, "n", format!("{n} is not in 0..{}", PSETS.len()))
    })?;
    // SAFETY: `pset_len` is the C caller's, null or valid for this use (MPI contract).
    let room = unsafe { arg::read(pset_len, "pset_len") }?;
    // A zero length asks for the length needed (including the NUL).
    if room > 0 {
        // SAFETY: `pset_name` is the C caller's, null or valid for this use (MPI contract).
        unsafe { arg::write_str(pset_name, room as usize, name, std::ptr::null_mut(), "pset_name") }?;
    }
    // SAFETY: `pset_len` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(pset_len, name.len() as c_int + 1, "pset_len") }
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn pset_arg(name: *const c_char) -> Result<crate::object::group::Group, MpiError> {
    let rt = runtime::rt()?;
    // SAFETY: `name` is the C caller's, null or valid for this use (MPI contract).
    let n = unsafe { arg::cstr(name, "pset_name") }?;
    pset_group(n, rt.rank, rt.size).ok_or_else(|| {
        MpiError::arg(
            class::ERR_ARG,
            "pset_name",
            format!("unknown process set \"{n}\""),
        )
    })
}

mpi_fn!(MPI_Session_get_pset_info, PMPI_Session_get_pset_info, (session: c_int, pset_name: *const c_char, info: *mut c_int), |ctx| {
    get(ctx, session)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let g = unsafe { pset_arg(pset_name) }?;
    let mut i = Info::new();
    i.set("mpi_size", &g.size().to_string());
    // SAFETY: `info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info, predefined::INFO_NULL, "info") }?;
    // SAFETY: `info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info, super::info::new_handle(i), "info") }
});

mpi_fn!(MPI_Session_get_info, PMPI_Session_get_info, (session: c_int, info_used: *mut c_int), |ctx| {
    let s = get(ctx, session)?;
    // SAFETY: `info_used` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info_used, predefined::INFO_NULL, "info_used") }?;
    let i = s.info.lock().clone();
    // SAFETY: `info_used` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info_used, super::info::new_handle(i), "info_used") }
});

mpi_fn!(MPI_Session_set_errhandler, PMPI_Session_set_errhandler, (session: c_int, errhandler: c_int), |ctx| {
    let s = get(ctx, session)?;
    let e = super::comm::errhandler_of(errhandler)?;
    if let crate::object::errhandler::Errhandler::User { kind, .. } = e {
        if kind != crate::object::errhandler::ErrhandlerKind::Session {
            return Err(MpiError::arg(class::ERR_ARG, "errhandler", "not a session errhandler"));
        }
    }
    *s.errhandler.lock() = e;
    Ok(())
});

mpi_fn!(MPI_Session_get_errhandler, PMPI_Session_get_errhandler, (session: c_int, errhandler: *mut c_int), |ctx| {
    let s = get(ctx, session)?;
    let e = s.errhandler.lock().clone();
    // SAFETY: `errhandler` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(errhandler, super::comm::errhandler_handle(&e), "errhandler") }
});

mpi_fn!(MPI_Group_from_session_pset, PMPI_Group_from_session_pset, (session: c_int, pset_name: *const c_char, newgroup: *mut c_int), |ctx| {
    get(ctx, session)?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let g = unsafe { pset_arg(pset_name) }?;
    // SAFETY: `newgroup` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newgroup, predefined::GROUP_NULL, "newgroup") }?;
    let h = super::group::handle_of(g);
    if let Ok(g) = super::group::get(h, "newgroup") {
        let mut m = GROUP_SESSION.lock();
        m.retain(|(w, _)| w.strong_count() > 0);
        m.push((std::sync::Arc::downgrade(&g), session));
    }
    // SAFETY: `newgroup` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newgroup, h, "newgroup") }
});

/// Groups made by MPI_Group_from_session_pset and their session: communicators created from
/// them belong to that session (its attached buffer serves their buffered sends).
static GROUP_SESSION: parking_lot::Mutex<
    Vec<(std::sync::Weak<crate::object::group::Group>, c_int)>,
> = parking_lot::Mutex::new(Vec::new());

/// The session `g` was made from, if any.
pub fn session_of_group(g: &std::sync::Arc<crate::object::group::Group>) -> Option<c_int> {
    GROUP_SESSION
        .lock()
        .iter()
        .find(|(w, _)| w.upgrade().is_some_and(|x| std::sync::Arc::ptr_eq(&x, g)))
        .map(|(_, s)| *s)
}
