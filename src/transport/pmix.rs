//! The few PMIx client calls OxiMPI needs, through the real library loaded at run time.
//!
//! The library (Debian's `libpmix.so.2`, PMIx 4.x) is opened with `dlopen` only when the
//! environment says a PMIx server started this process, so `libmpi.so.12` has no link-time
//! dependency on it. It is opened `RTLD_GLOBAL` because libpmix loads its own plugins
//! (`pmix_mca_*.so`), which resolve symbols from it, and never closed: its progress thread
//! lives until the process ends.
//!
//! Layouts are those of PMIx 4's `pmix_common.h` (standard ABI, x86-64 and aarch64 LP64):
//! `pmix_proc_t` is 256 bytes of namespace plus a `u32` rank (260 bytes), `pmix_value_t` a
//! `u16` type and an 8-aligned 24-byte union (32 bytes), `pmix_info_t` a 512-byte key, `u32`
//! flags and a value at offset 520 (552 bytes). The unit tests check the Rust sizes.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fmt;

/// `pmix_status_t` codes we look at.
pub const PMIX_SUCCESS: i32 = 0;
pub const PMIX_ERR_NOT_FOUND: i32 = -46;
/// `PMIX_RANK_WILDCARD`: the job as a whole, for job-level keys.
pub const RANK_WILDCARD: u32 = u32::MAX - 1;

const NSPACE_LEN: usize = 256;
const KEY_LEN: usize = 512;

// pmix_data_type_t values (pmix_common.h).
const T_BOOL: u16 = 1;
const T_STRING: u16 = 3;
const T_SIZE: u16 = 4;
const T_PID: u16 = 5;
const T_INT: u16 = 6;
const T_INT8: u16 = 7;
const T_INT16: u16 = 8;
const T_INT32: u16 = 9;
const T_INT64: u16 = 10;
const T_UINT: u16 = 11;
const T_UINT8: u16 = 12;
const T_UINT16: u16 = 13;
const T_UINT32: u16 = 14;
const T_UINT64: u16 = 15;
const T_PROC_RANK: u16 = 40;
/// `PMIX_GLOBAL`: a put visible to every process of the job, on every node.
const SCOPE_GLOBAL: u8 = 3;

#[repr(C)]
struct RawProc {
    nspace: [c_char; NSPACE_LEN],
    rank: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
union RawData {
    flag: bool,
    string: *mut c_char,
    size: usize,
    i8_: i8,
    i16_: i16,
    i32_: i32,
    i64_: i64,
    u8_: u8,
    u16_: u16,
    u32_: u32,
    u64_: u64,
    /// The union's full extent (its largest members are 24 bytes).
    _extent: [u64; 3],
}

#[repr(C)]
struct RawValue {
    kind: u16,
    data: RawData,
}

#[repr(C)]
struct RawInfo {
    key: [c_char; KEY_LEN],
    flags: u32,
    value: RawValue,
}

type InitFn = unsafe extern "C" fn(*mut RawProc, *mut RawInfo, usize) -> c_int;
type FinalizeFn = unsafe extern "C" fn(*const RawInfo, usize) -> c_int;
type AbortFn = unsafe extern "C" fn(c_int, *const c_char, *mut RawProc, usize) -> c_int;
type PutFn = unsafe extern "C" fn(u8, *const c_char, *mut RawValue) -> c_int;
type CommitFn = unsafe extern "C" fn() -> c_int;
type FenceFn = unsafe extern "C" fn(*const RawProc, usize, *const RawInfo, usize) -> c_int;
type GetFn = unsafe extern "C" fn(
    *const RawProc,
    *const c_char,
    *const RawInfo,
    usize,
    *mut *mut RawValue,
) -> c_int;
type ValueDestructFn = unsafe extern "C" fn(*mut RawValue);
type ErrorStringFn = unsafe extern "C" fn(c_int) -> *const c_char;

/// A value read with [`Pmix::get`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Datum {
    Text(String),
    Unsigned(u64),
    Signed(i64),
    Flag(bool),
    /// A type OxiMPI does not read (its `pmix_data_type_t`).
    Other(u16),
}

impl Datum {
    /// The value as a non-negative integer, if it is one.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Datum::Unsigned(v) => Some(*v),
            Datum::Signed(v) => u64::try_from(*v).ok(),
            Datum::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// A failed PMIx call: the function and PMIx's status with its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmixFailure {
    pub call: &'static str,
    pub status: i32,
    pub text: String,
}

impl fmt::Display for PmixFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {} ({})", self.call, self.text, self.status)
    }
}

/// The loaded library and this process's PMIx identity after `PMIx_Init`.
pub struct Pmix {
    init: InitFn,
    finalize: FinalizeFn,
    abort: AbortFn,
    put: PutFn,
    commit: CommitFn,
    fence: FenceFn,
    get: GetFn,
    value_destruct: ValueDestructFn,
    error_string: ErrorStringFn,
    nspace: String,
    rank: u32,
}

// SAFETY: the struct holds only function pointers into a library that is never unloaded and
// owned strings; PMIx's client API is thread-safe (it serialises calls through its own
// progress thread), and the callers keep the Pmix behind a mutex anyway.
unsafe impl Send for Pmix {}
// SAFETY: as above.
unsafe impl Sync for Pmix {}

/// The text of `dlerror()`, or a placeholder.
fn last_dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string valid until the next dl call
    // on this thread; it is copied at once.
    unsafe {
        let e = libc::dlerror();
        if e.is_null() {
            "unknown dlopen error".into()
        } else {
            CStr::from_ptr(e).to_string_lossy().into_owned()
        }
    }
}

/// Looks up `name` in `handle` as a function of type `F`.
///
/// # Safety
/// `F` must be the `extern "C" fn` type of the symbol's real C prototype.
unsafe fn symbol<F: Copy>(handle: *mut c_void, name: &CStr) -> Result<F, String> {
    // SAFETY: handle came from a successful dlopen; name is NUL-terminated.
    let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
    if p.is_null() {
        return Err(format!(
            "symbol {} missing: {}",
            name.to_string_lossy(),
            last_dl_error()
        ));
    }
    debug_assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: the caller guarantees F is the symbol's function type; a function pointer has
    // the size of a data pointer on every platform dlsym serves.
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) })
}

fn c_text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: PMIx returns NUL-terminated static or owned strings; copied at once.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn fill(dst: &mut [c_char], src: &str) -> Result<(), String> {
    if src.len() >= dst.len() || src.contains('\0') {
        return Err(format!(
            "{src:?} does not fit PMIx's {}-byte field",
            dst.len()
        ));
    }
    for (d, s) in dst.iter_mut().zip(src.bytes()) {
        *d = s as c_char;
    }
    dst[src.len()] = 0;
    Ok(())
}

impl Pmix {
    /// Opens the library `lib` (a soname or a path) and calls `PMIx_Init`. `Err` carries a
    /// sentence that names the library and what failed.
    pub fn open(lib: &str) -> Result<Pmix, String> {
        let name = CString::new(lib).map_err(|_| format!("bad library name {lib:?}"))?;
        // SAFETY: name is NUL-terminated; dlopen runs the library's constructors, which for
        // libpmix only set up its globals.
        let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if handle.is_null() {
            return Err(format!("cannot load {lib}: {}", last_dl_error()));
        }
        let unusable = |e: String| format!("{lib} is not a usable PMIx 4 library: {e}");
        // SAFETY: each type below is the C prototype of the named function in PMIx 4's pmix.h.
        let mut p = unsafe {
            Pmix {
                init: symbol(handle, c"PMIx_Init").map_err(unusable)?,
                finalize: symbol(handle, c"PMIx_Finalize").map_err(unusable)?,
                abort: symbol(handle, c"PMIx_Abort").map_err(unusable)?,
                put: symbol(handle, c"PMIx_Put").map_err(unusable)?,
                commit: symbol(handle, c"PMIx_Commit").map_err(unusable)?,
                fence: symbol(handle, c"PMIx_Fence").map_err(unusable)?,
                get: symbol(handle, c"PMIx_Get").map_err(unusable)?,
                value_destruct: symbol(handle, c"PMIx_Value_destruct").map_err(unusable)?,
                error_string: symbol(handle, c"PMIx_Error_string").map_err(unusable)?,
                nspace: String::new(),
                rank: 0,
            }
        };
        let mut me = RawProc {
            nspace: [0; NSPACE_LEN],
            rank: 0,
        };
        // SAFETY: `me` is a valid pmix_proc_t that PMIx_Init fills; no info array.
        let rc = unsafe { (p.init)(&mut me, std::ptr::null_mut(), 0) };
        if rc != PMIX_SUCCESS {
            return Err(p.failure("PMIx_Init", rc).to_string());
        }
        p.nspace = c_text(me.nspace.as_ptr());
        p.rank = me.rank;
        Ok(p)
    }

    pub fn nspace(&self) -> &str {
        &self.nspace
    }

    pub fn rank(&self) -> u32 {
        self.rank
    }

    fn failure(&self, call: &'static str, status: i32) -> PmixFailure {
        // SAFETY: PMIx_Error_string returns a static string for any status.
        let text = c_text(unsafe { (self.error_string)(status) });
        PmixFailure { call, status, text }
    }

    fn proc_of(&self, rank: u32) -> RawProc {
        let mut p = RawProc {
            nspace: [0; NSPACE_LEN],
            rank,
        };
        // Our own namespace came from PMIx, so it fits.
        let _ = fill(&mut p.nspace, &self.nspace);
        p
    }

    /// `PMIx_Get(key)` of process `rank` of our namespace ([`RANK_WILDCARD`] for job
    /// keys, `u32::MAX` (`PMIX_RANK_UNDEF`) for "whoever put it"). With `local_only` PMIx
    /// looks only in what this process already holds (`PMIX_OPTIONAL`): job information,
    /// or data a collecting fence brought, so a key the server lacks is `Ok(None)` at once
    /// instead of a request that waits for a put that never comes.
    pub fn get(
        &self,
        rank: u32,
        key: &str,
        local_only: bool,
    ) -> Result<Option<Datum>, PmixFailure> {
        let who = self.proc_of(rank);
        let fail = |status: i32, text: String| PmixFailure {
            call: "PMIx_Get",
            status,
            text: format!("{text} (key {key:?} of rank {})", rank_name(rank)),
        };
        let key_c = CString::new(key).map_err(|_| fail(-1, "key contains NUL".into()))?;
        let optional = bool_info("pmix.optional", true);
        let (info, ninfo) = if local_only {
            (&optional as *const RawInfo, 1)
        } else {
            (std::ptr::null(), 0)
        };
        let mut out: *mut RawValue = std::ptr::null_mut();
        // SAFETY: `who`, `key_c` and the info array (if any) are valid for the call; PMIx
        // stores a value it allocated into `out` on success.
        let rc = unsafe { (self.get)(&who, key_c.as_ptr(), info, ninfo, &mut out) };
        if rc == PMIX_ERR_NOT_FOUND {
            return Ok(None);
        }
        if rc != PMIX_SUCCESS || out.is_null() {
            return Err(fail(rc, self.failure("PMIx_Get", rc).text));
        }
        // SAFETY: on success `out` points to a pmix_value_t PMIx allocated with malloc; we
        // read it by its type tag, then PMIX_VALUE_RELEASE it (destruct, then free).
        let datum = unsafe {
            let v = &*out;
            let d = match v.kind {
                T_STRING => Datum::Text(c_text(v.data.string)),
                T_BOOL => Datum::Flag(v.data.flag),
                T_SIZE => Datum::Unsigned(v.data.size as u64),
                T_UINT8 => Datum::Unsigned(u64::from(v.data.u8_)),
                T_UINT16 => Datum::Unsigned(u64::from(v.data.u16_)),
                T_UINT32 | T_UINT | T_PROC_RANK => Datum::Unsigned(u64::from(v.data.u32_)),
                T_UINT64 => Datum::Unsigned(v.data.u64_),
                T_INT8 => Datum::Signed(i64::from(v.data.i8_)),
                T_INT16 => Datum::Signed(i64::from(v.data.i16_)),
                T_INT32 | T_INT | T_PID => Datum::Signed(i64::from(v.data.i32_)),
                T_INT64 => Datum::Signed(v.data.i64_),
                other => Datum::Other(other),
            };
            (self.value_destruct)(out);
            libc::free(out.cast());
            d
        };
        Ok(Some(datum))
    }

    /// `PMIx_Put(PMIX_GLOBAL, key, string)`; visible to others after commit and fence.
    pub fn put(&self, key: &str, value: &str) -> Result<(), PmixFailure> {
        let bad = |what: &str| PmixFailure {
            call: "PMIx_Put",
            status: -1,
            text: format!("{what} contains NUL"),
        };
        let key_c = CString::new(key).map_err(|_| bad("key"))?;
        let val_c = CString::new(value).map_err(|_| bad("value"))?;
        let mut v = RawValue {
            kind: T_STRING,
            data: RawData {
                string: val_c.as_ptr() as *mut c_char,
            },
        };
        // SAFETY: PMIx_Put copies the key and the value (it "xfer"s the pmix_value_t into
        // its own storage) before returning, so our buffers only need to live for the call.
        let rc = unsafe { (self.put)(SCOPE_GLOBAL, key_c.as_ptr(), &mut v) };
        if rc != PMIX_SUCCESS {
            return Err(self.failure("PMIx_Put", rc));
        }
        Ok(())
    }

    /// `PMIx_Commit` then `PMIx_Fence` over the whole namespace with data collection: a
    /// barrier after which every process's puts are readable.
    pub fn commit_and_fence(&self) -> Result<(), PmixFailure> {
        // SAFETY: no arguments.
        let rc = unsafe { (self.commit)() };
        if rc != PMIX_SUCCESS {
            return Err(self.failure("PMIx_Commit", rc));
        }
        let collect = bool_info("pmix.collect", true);
        // SAFETY: procs NULL with count 0 means "all of my namespace"; one valid info.
        let rc = unsafe { (self.fence)(std::ptr::null(), 0, &collect, 1) };
        if rc != PMIX_SUCCESS {
            return Err(self.failure("PMIx_Fence", rc));
        }
        Ok(())
    }

    /// `PMIx_Abort` of the whole namespace. PMIx normally does not return before the
    /// server kills us; the caller exits if it does.
    pub fn abort(&self, code: i32, msg: &str) {
        let text = CString::new(msg.replace('\0', " ")).unwrap_or_default();
        // SAFETY: a valid message string; procs NULL/0 means our whole namespace.
        unsafe { (self.abort)(code, text.as_ptr(), std::ptr::null_mut(), 0) };
    }

    /// `PMIx_Finalize`.
    pub fn finalize(&self) -> Result<(), PmixFailure> {
        // SAFETY: no info array.
        let rc = unsafe { (self.finalize)(std::ptr::null(), 0) };
        if rc != PMIX_SUCCESS {
            return Err(self.failure("PMIx_Finalize", rc));
        }
        Ok(())
    }
}

/// A `pmix_info_t` holding a boolean (`key` is one of PMIx's short attribute names).
fn bool_info(key: &str, value: bool) -> RawInfo {
    let mut info = RawInfo {
        key: [0; KEY_LEN],
        flags: 0,
        value: RawValue {
            kind: T_BOOL,
            data: RawData { _extent: [0; 3] },
        },
    };
    info.value.data.flag = value;
    // Our attribute names are short constants.
    let _ = fill(&mut info.key, key);
    info
}

/// A rank for messages, with PMIx's special values by name.
fn rank_name(rank: u32) -> String {
    match rank {
        RANK_WILDCARD => "WILDCARD".into(),
        u32::MAX => "UNDEF".into(),
        r => r.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_pmix_4() {
        assert_eq!(std::mem::size_of::<RawProc>(), 260);
        assert_eq!(std::mem::size_of::<RawValue>(), 32);
        assert_eq!(std::mem::offset_of!(RawValue, data), 8);
        assert_eq!(std::mem::size_of::<RawInfo>(), 552);
        assert_eq!(std::mem::offset_of!(RawInfo, flags), 512);
        assert_eq!(std::mem::offset_of!(RawInfo, value), 520);
    }

    #[test]
    fn a_missing_library_is_a_clear_error() {
        let e = Pmix::open("libpmix-does-not-exist.so.2").err().unwrap();
        assert!(e.contains("cannot load libpmix-does-not-exist.so.2"), "{e}");
    }

    #[test]
    fn fields_refuse_what_does_not_fit() {
        let mut key = [0 as c_char; 8];
        assert!(fill(&mut key, "pmix.ab").is_ok());
        assert_eq!(key[7], 0);
        assert!(fill(&mut key, "pmix.abc").is_err());
        assert!(fill(&mut key, "a\0b").is_err());
    }

    #[test]
    fn datum_numbers() {
        assert_eq!(Datum::Unsigned(4).as_u64(), Some(4));
        assert_eq!(Datum::Signed(-1).as_u64(), None);
        assert_eq!(Datum::Text(" 7".into()).as_u64(), Some(7));
        assert_eq!(Datum::Flag(true).as_u64(), None);
    }
}
