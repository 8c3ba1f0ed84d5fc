//! Info handles and the info calls. MPI_INFO_ENV is built on first use from the process's
//! command line and environment.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::mpi_fn;
use crate::object::info::{Info, MAX_KEY, MAX_VAL};
use parking_lot::Mutex;
use std::os::raw::{c_char, c_int};
use std::sync::{Arc, OnceLock};

/// User info objects.
pub static INFOS: HandleTable<Mutex<Info>> = HandleTable::new(obj::INFO);

/// MPI_INFO_ENV: how this process was started (the keys MPI 4 §11.4 names that we know).
fn env_info() -> Arc<Mutex<Info>> {
    static ENV: OnceLock<Arc<Mutex<Info>>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut i = Info::new();
        let cmdline = std::fs::read("/proc/self/cmdline").unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if let Some(cmd) = args.first() {
            i.set("command", cmd);
        }
        if args.len() > 1 {
            i.set("argv", &args[1..].join(" "));
        }
        let size = crate::runtime::get().map(|r| r.size).unwrap_or(1);
        i.set("maxprocs", &size.to_string());
        i.set("soft", &size.to_string());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "localhost".into());
        i.set("host", &host);
        i.set("arch", std::env::consts::ARCH);
        if let Ok(d) = std::env::current_dir() {
            i.set("wdir", &d.to_string_lossy());
        }
        i.set("thread_level", "MPI_THREAD_MULTIPLE");
        Arc::new(Mutex::new(i))
    })
    .clone()
}

/// The info behind handle `h` (MPI_INFO_ENV included; MPI_INFO_NULL is an error).
pub fn get(h: c_int, arg: &str) -> Result<Arc<Mutex<Info>>, MpiError> {
    if h == predefined::INFO_ENV {
        return Ok(env_info());
    }
    INFOS.get(h).ok_or_else(|| {
        let why = if h == predefined::INFO_NULL {
            "MPI_INFO_NULL".to_string()
        } else {
            format!("invalid info handle {h:#x}")
        };
        MpiError::arg(class::ERR_INFO, arg, why)
    })
}

/// A copy of the info behind `h`; MPI_INFO_NULL gives an empty one (for the calls that
/// accept it: *_with_info, Comm_set_info, Session_init, ...).
pub fn get_or_empty(h: c_int, arg: &str) -> Result<Info, MpiError> {
    if h == predefined::INFO_NULL {
        return Ok(Info::new());
    }
    Ok(get(h, arg)?.lock().clone())
}

/// Checks an MPI_Info argument that is only validated (its hints are not used):
/// MPI_INFO_NULL or a live info handle; a freed or forged one is MPI_ERR_INFO, as MPICH's
/// MPIR_ERRTEST_INFO_OR_NULL + MPIR_Info_valid_ptr. Used by the persistent collectives,
/// partitioned calls, Dist_graph_create* and the dynamic-process calls.
pub(crate) fn check(h: c_int) -> Result<(), MpiError> {
    if h == predefined::INFO_NULL {
        return Ok(());
    }
    get(h, "info").map(|_| ())
}

/// A new info handle holding `i`.
pub fn new_handle(i: Info) -> c_int {
    INFOS.insert(Arc::new(Mutex::new(i)))
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn key_arg<'a>(key: *const c_char) -> Result<&'a str, MpiError> {
    // SAFETY: `key` is the C caller's, null or valid for this use (MPI contract).
    let k = unsafe { arg::cstr(key, "key") }?;
    if k.is_empty() || k.len() > MAX_KEY {
        return Err(MpiError::arg(
            class::ERR_INFO_KEY,
            "key",
            format!("key length {} is not in 1..={MAX_KEY}", k.len()),
        ));
    }
    Ok(k)
}

mpi_fn!(MPI_Info_create, PMPI_Info_create, (info: *mut c_int), |_ctx| {
    // SAFETY: `info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info, predefined::INFO_NULL, "info") }?;
    // SAFETY: `info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info, new_handle(Info::new()), "info") }
});

mpi_fn!(MPI_Info_create_env, PMPI_Info_create_env, (_argc: c_int, _argv: *mut *mut c_char, info: *mut c_int), |_ctx| {
    // SAFETY: `info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info, predefined::INFO_NULL, "info") }?;
    let i = env_info().lock().clone();
    // SAFETY: `info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info, new_handle(i), "info") }
});

mpi_fn!(MPI_Info_set, PMPI_Info_set, (info: c_int, key: *const c_char, value: *const c_char), |_ctx| {
    let i = get(info, "info")?;
    if info == predefined::INFO_ENV {
        return Err(MpiError::arg(class::ERR_INFO, "info", "MPI_INFO_ENV cannot be modified"));
    }
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let k = unsafe { key_arg(key) }?;
    // SAFETY: `value` is the C caller's, null or valid for this use (MPI contract).
    let v = unsafe { arg::cstr(value, "value") }?;
    if v.len() > MAX_VAL {
        return Err(MpiError::arg(class::ERR_INFO_VALUE, "value", format!("value length {} exceeds MPI_MAX_INFO_VAL ({MAX_VAL})", v.len())));
    }
    i.lock().set(k, v);
    Ok(())
});

mpi_fn!(MPI_Info_delete, PMPI_Info_delete, (info: c_int, key: *const c_char), |_ctx| {
    let i = get(info, "info")?;
    if info == predefined::INFO_ENV {
        return Err(MpiError::arg(class::ERR_INFO, "info", "MPI_INFO_ENV cannot be modified"));
    }
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let k = unsafe { key_arg(key) }?;
    if !i.lock().delete(k) {
        return Err(MpiError::arg(class::ERR_INFO_NOKEY, "key", format!("\"{k}\" is not set")));
    }
    Ok(())
});

mpi_fn!(MPI_Info_get, PMPI_Info_get, (info: c_int, key: *const c_char, valuelen: c_int, value: *mut c_char, flag: *mut c_int), |_ctx| {
    let i = get(info, "info")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let k = unsafe { key_arg(key) }?;
    if valuelen < 0 {
        return Err(MpiError::arg(class::ERR_ARG, "valuelen", format!("negative length {valuelen}")));
    }
    let g = i.lock();
    match g.get(k) {
        // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
        None => unsafe { arg::write(flag, 0, "flag") },
        Some(v) => {
            // MPI_Info_get copies at most valuelen characters plus the NUL.
            let n = v.len().min(valuelen as usize);
            // SAFETY: `value` is the C caller's, null or valid for this use (MPI contract).
            let out = unsafe { arg::slice_mut(value as *mut u8, n + 1, "value") }?;
            out[..n].copy_from_slice(&v.as_bytes()[..n]);
            out[n] = 0;
            // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(flag, 1, "flag") }
        }
    }
});

mpi_fn!(MPI_Info_get_valuelen, PMPI_Info_get_valuelen, (info: c_int, key: *const c_char, valuelen: *mut c_int, flag: *mut c_int), |_ctx| {
    let i = get(info, "info")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let k = unsafe { key_arg(key) }?;
    let g = i.lock();
    match g.get(k) {
        // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
        None => unsafe { arg::write(flag, 0, "flag") },
        Some(v) => {
            // SAFETY: `valuelen` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(valuelen, v.len() as c_int, "valuelen") }?;
            // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(flag, 1, "flag") }
        }
    }
});

mpi_fn!(MPI_Info_get_string, PMPI_Info_get_string, (info: c_int, key: *const c_char, buflen: *mut c_int, value: *mut c_char, flag: *mut c_int), |_ctx| {
    let i = get(info, "info")?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let k = unsafe { key_arg(key) }?;
    // SAFETY: `buflen` is the C caller's, null or valid for this use (MPI contract).
    let n = unsafe { arg::read(buflen, "buflen") }?;
    let g = i.lock();
    match g.get(k) {
        // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
        None => unsafe { arg::write(flag, 0, "flag") },
        Some(v) => {
            // buflen in: room in value; out: the length the value needs including the NUL.
            if n > 0 {
                let room = n as usize - 1;
                let c = v.len().min(room);
                // SAFETY: `value` is the C caller's, null or valid for this use (MPI contract).
                let out = unsafe { arg::slice_mut(value as *mut u8, c + 1, "value") }?;
                out[..c].copy_from_slice(&v.as_bytes()[..c]);
                out[c] = 0;
            }
            // SAFETY: `buflen` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(buflen, v.len() as c_int + 1, "buflen") }?;
            // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(flag, 1, "flag") }
        }
    }
});

mpi_fn!(MPI_Info_get_nkeys, PMPI_Info_get_nkeys, (info: c_int, nkeys: *mut c_int), |_ctx| {
    let i = get(info, "info")?;
    let n = i.lock().len();
    // SAFETY: `nkeys` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(nkeys, n as c_int, "nkeys") }
});

mpi_fn!(MPI_Info_get_nthkey, PMPI_Info_get_nthkey, (info: c_int, n: c_int, key: *mut c_char), |_ctx| {
    let i = get(info, "info")?;
    let g = i.lock();
    let k = (n >= 0).then(|| g.nth_key(n as usize)).flatten().ok_or_else(|| {
        MpiError::arg(class::ERR_ARG, "n", format!("{n} is not in 0..{}", g.len()))
    })?;
    // SAFETY: `key` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write_str(key, MAX_KEY + 1, k, std::ptr::null_mut(), "key") }
});

mpi_fn!(MPI_Info_dup, PMPI_Info_dup, (info: c_int, newinfo: *mut c_int), |_ctx| {
    let i = get(info, "info")?.lock().clone();
    // SAFETY: `newinfo` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newinfo, predefined::INFO_NULL, "newinfo") }?;
    // SAFETY: `newinfo` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newinfo, new_handle(i), "newinfo") }
});

mpi_fn!(MPI_Info_free, PMPI_Info_free, (info: *mut c_int), |_ctx| {
    // SAFETY: `info` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(info, "info") }?;
    if h == predefined::INFO_ENV {
        return Err(MpiError::arg(class::ERR_INFO, "info", "MPI_INFO_ENV cannot be freed"));
    }
    if INFOS.remove(h).is_none() {
        let why = if h == predefined::INFO_NULL { "MPI_INFO_NULL".to_string() } else { format!("invalid info handle {h:#x}") };
        return Err(MpiError::arg(class::ERR_INFO, "info", why));
    }
    // SAFETY: `info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info, predefined::INFO_NULL, "info") }
});
