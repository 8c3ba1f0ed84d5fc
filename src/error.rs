//! MPI errors below the C surface: an error class plus a message that names the argument
//! and the reason. `abi` turns an `MpiError` into an error code and dispatches it through
//! the errhandler of the object involved.

use std::fmt;

/// MPI error classes, with MPICH's values (they are part of the ABI).
pub mod class {
    pub const SUCCESS: i32 = 0;
    pub const ERR_BUFFER: i32 = 1;
    pub const ERR_COUNT: i32 = 2;
    pub const ERR_TYPE: i32 = 3;
    pub const ERR_TAG: i32 = 4;
    pub const ERR_COMM: i32 = 5;
    pub const ERR_RANK: i32 = 6;
    pub const ERR_ROOT: i32 = 7;
    pub const ERR_GROUP: i32 = 8;
    pub const ERR_OP: i32 = 9;
    pub const ERR_TOPOLOGY: i32 = 10;
    pub const ERR_DIMS: i32 = 11;
    pub const ERR_ARG: i32 = 12;
    pub const ERR_UNKNOWN: i32 = 13;
    pub const ERR_TRUNCATE: i32 = 14;
    pub const ERR_OTHER: i32 = 15;
    pub const ERR_INTERN: i32 = 16;
    pub const ERR_IN_STATUS: i32 = 17;
    pub const ERR_PENDING: i32 = 18;
    pub const ERR_REQUEST: i32 = 19;
    pub const ERR_ACCESS: i32 = 20;
    pub const ERR_AMODE: i32 = 21;
    pub const ERR_BAD_FILE: i32 = 22;
    pub const ERR_CONVERSION: i32 = 23;
    pub const ERR_DUP_DATAREP: i32 = 24;
    pub const ERR_FILE_EXISTS: i32 = 25;
    pub const ERR_FILE_IN_USE: i32 = 26;
    pub const ERR_FILE: i32 = 27;
    pub const ERR_INFO: i32 = 28;
    pub const ERR_INFO_KEY: i32 = 29;
    pub const ERR_INFO_VALUE: i32 = 30;
    pub const ERR_INFO_NOKEY: i32 = 31;
    pub const ERR_IO: i32 = 32;
    pub const ERR_NAME: i32 = 33;
    pub const ERR_NO_MEM: i32 = 34;
    pub const ERR_NOT_SAME: i32 = 35;
    pub const ERR_NO_SPACE: i32 = 36;
    pub const ERR_NO_SUCH_FILE: i32 = 37;
    pub const ERR_PORT: i32 = 38;
    pub const ERR_QUOTA: i32 = 39;
    pub const ERR_READ_ONLY: i32 = 40;
    pub const ERR_SERVICE: i32 = 41;
    pub const ERR_SPAWN: i32 = 42;
    pub const ERR_UNSUPPORTED_DATAREP: i32 = 43;
    pub const ERR_UNSUPPORTED_OPERATION: i32 = 44;
    pub const ERR_WIN: i32 = 45;
    pub const ERR_BASE: i32 = 46;
    pub const ERR_LOCKTYPE: i32 = 47;
    pub const ERR_KEYVAL: i32 = 48;
    pub const ERR_RMA_CONFLICT: i32 = 49;
    pub const ERR_RMA_SYNC: i32 = 50;
    pub const ERR_SIZE: i32 = 51;
    pub const ERR_DISP: i32 = 52;
    pub const ERR_ASSERT: i32 = 53;
    pub const ERR_RMA_RANGE: i32 = 55;
    pub const ERR_RMA_ATTACH: i32 = 56;
    pub const ERR_RMA_SHARED: i32 = 57;
    pub const ERR_RMA_FLAVOR: i32 = 58;
    pub const T_ERR_MEMORY: i32 = 59;
    pub const T_ERR_NOT_INITIALIZED: i32 = 60;
    pub const T_ERR_CANNOT_INIT: i32 = 61;
    pub const T_ERR_INVALID_INDEX: i32 = 62;
    pub const T_ERR_INVALID_ITEM: i32 = 63;
    pub const T_ERR_INVALID_HANDLE: i32 = 64;
    pub const T_ERR_OUT_OF_HANDLES: i32 = 65;
    pub const T_ERR_OUT_OF_SESSIONS: i32 = 66;
    pub const T_ERR_INVALID_SESSION: i32 = 67;
    pub const T_ERR_CVAR_SET_NOT_NOW: i32 = 68;
    pub const T_ERR_CVAR_SET_NEVER: i32 = 69;
    pub const T_ERR_PVAR_NO_STARTSTOP: i32 = 70;
    pub const T_ERR_PVAR_NO_WRITE: i32 = 71;
    pub const T_ERR_PVAR_NO_ATOMIC: i32 = 72;
    pub const T_ERR_INVALID_NAME: i32 = 73;
    pub const T_ERR_INVALID: i32 = 74;
    pub const ERR_SESSION: i32 = 75;
    pub const ERR_PROC_ABORTED: i32 = 76;
    pub const ERR_VALUE_TOO_LARGE: i32 = 77;
    pub const T_ERR_NOT_SUPPORTED: i32 = 78;
    pub const T_ERR_NOT_ACCESSIBLE: i32 = 79;
    pub const ERR_ERRHANDLER: i32 = 80;
    pub const ERR_ABI: i32 = 81;
    /// The last predefined class of the standard.
    pub const LAST_CLASS: i32 = 81;
    /// MPICH's MPIX_ classes (MPICH_ERR_FIRST_MPIX + 1 ..= + 5): ULFM's.
    pub const ERR_PROC_FAILED: i32 = 101;
    pub const ERR_PROC_FAILED_PENDING: i32 = 102;
    pub const ERR_REVOKED: i32 = 103;
    pub const ERR_EAGAIN: i32 = 104;
    pub const ERR_NOREQ: i32 = 105;
    /// The range of the MPIX_ classes.
    pub const MPIX_CLASSES: std::ops::RangeInclusive<i32> = 101..=105;
    /// MPI_ERR_LASTCODE as MPICH defines it.
    pub const ERR_LASTCODE: i32 = 0x3fff_ffff;
}

/// The standard text of each predefined error class.
pub fn class_string(c: i32) -> &'static str {
    use class::*;
    match c {
        SUCCESS => "No MPI error",
        ERR_BUFFER => "Invalid buffer pointer",
        ERR_COUNT => "Invalid count",
        ERR_TYPE => "Invalid datatype",
        ERR_TAG => "Invalid tag",
        ERR_COMM => "Invalid communicator",
        ERR_RANK => "Invalid rank",
        ERR_ROOT => "Invalid root",
        ERR_GROUP => "Invalid group",
        ERR_OP => "Invalid MPI_Op",
        ERR_TOPOLOGY => "Invalid topology",
        ERR_DIMS => "Invalid dimension argument",
        ERR_ARG => "Invalid argument",
        ERR_UNKNOWN => "Unknown error",
        ERR_TRUNCATE => "Message truncated",
        ERR_OTHER => "Other MPI error",
        ERR_INTERN => "Internal MPI error",
        ERR_IN_STATUS => "See the MPI_ERROR field in MPI_Status for the error code",
        ERR_PENDING => "Pending request (no error)",
        ERR_REQUEST => "Invalid MPI_Request",
        ERR_ACCESS => "Access denied to file",
        ERR_AMODE => "Invalid amode value in MPI_File_open",
        ERR_BAD_FILE => "Invalid file name",
        ERR_CONVERSION => "An error occurred in a user-defined data conversion function",
        ERR_DUP_DATAREP => "The requested datarep name has already been specified",
        ERR_FILE_EXISTS => "File exists",
        ERR_FILE_IN_USE => "File in use by some process",
        ERR_FILE => "Invalid MPI_File",
        ERR_INFO => "Invalid MPI_Info",
        ERR_INFO_KEY => "Invalid key for MPI_Info",
        ERR_INFO_VALUE => "Invalid MPI_Info value",
        ERR_INFO_NOKEY => "MPI_Info key is not defined",
        ERR_IO => "Other I/O error",
        ERR_NAME => "Invalid service name (see MPI_Publish_name)",
        ERR_NO_MEM => "Alloc_mem could not allocate memory",
        ERR_NOT_SAME => "Collective argument not identical on all processes",
        ERR_NO_SPACE => "Not enough space for file",
        ERR_NO_SUCH_FILE => "File does not exist",
        ERR_PORT => "Invalid port",
        ERR_QUOTA => "Quota exceeded for files",
        ERR_READ_ONLY => "Read-only file or filesystem name",
        ERR_SERVICE => "Attempt to lookup an unknown service name",
        ERR_SPAWN => "Error in spawn call",
        ERR_UNSUPPORTED_DATAREP => "Unsupported datarep passed to MPI_File_set_view",
        ERR_UNSUPPORTED_OPERATION => {
            "Unsupported operation, such as seeking on a file that supports only sequential access"
        }
        ERR_WIN => "Invalid MPI_Win",
        ERR_BASE => "Invalid base address",
        ERR_LOCKTYPE => "Invalid lock type",
        ERR_KEYVAL => "Invalid keyval",
        ERR_RMA_CONFLICT => "Conflicting accesses to window",
        ERR_RMA_SYNC => "Wrong synchronization of RMA calls",
        ERR_SIZE => "Invalid size argument",
        ERR_DISP => "Invalid displacement argument",
        ERR_ASSERT => "Invalid assert argument",
        ERR_RMA_RANGE => "Target memory is not part of the window",
        ERR_RMA_ATTACH => "Memory cannot be attached",
        ERR_RMA_SHARED => "Memory cannot be shared",
        ERR_RMA_FLAVOR => "Passed window has incorrect flavor for the called function",
        T_ERR_MEMORY => "Out of memory",
        T_ERR_NOT_INITIALIZED => "Interface not initialized",
        T_ERR_CANNOT_INIT => "Interface not in the state to be initialized",
        T_ERR_INVALID_INDEX => "The index is invalid or has been deleted",
        T_ERR_INVALID_ITEM => "Item index queried is out of range",
        T_ERR_INVALID_HANDLE => "The handle is invalid",
        T_ERR_OUT_OF_HANDLES => "No more handles available",
        T_ERR_OUT_OF_SESSIONS => "No more sessions available",
        T_ERR_INVALID_SESSION => "Session argument is not a valid session",
        T_ERR_CVAR_SET_NOT_NOW => "Variable cannot be set at this moment",
        T_ERR_CVAR_SET_NEVER => "Variable cannot be set until end of execution",
        T_ERR_PVAR_NO_STARTSTOP => "Variable cannot be started or stopped",
        T_ERR_PVAR_NO_WRITE => "Variable cannot be written or reset",
        T_ERR_PVAR_NO_ATOMIC => "Variable cannot be read and written atomically",
        T_ERR_INVALID_NAME => "Name is invalid",
        T_ERR_INVALID => "Invalid use of the interface or bad parameter values",
        ERR_SESSION => "Invalid session",
        ERR_PROC_ABORTED => "Trying to communicate with an aborted process",
        ERR_VALUE_TOO_LARGE => "Value is too large to store",
        T_ERR_NOT_SUPPORTED => "Requested functionality not supported",
        T_ERR_NOT_ACCESSIBLE => "Requested functionality not accessible",
        ERR_ERRHANDLER => "Invalid errhandler",
        ERR_ABI => "ABI mismatch",
        ERR_PROC_FAILED => "Process failed",
        ERR_PROC_FAILED_PENDING => "A failure has caused this request to be pending",
        ERR_REVOKED => "The communication object has been revoked",
        ERR_EAGAIN => "Operation could not be issued (try again)",
        ERR_NOREQ => "Cannot allocate request",
        _ => "Unknown error class",
    }
}

/// An MPI error as the core reports it: the class, and a message naming the argument and
/// the reason (without the function name, which the C surface adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpiError {
    pub class: i32,
    pub message: String,
}

pub type MpiResult<T> = Result<T, MpiError>;

impl MpiError {
    pub fn new(class: i32, message: impl Into<String>) -> Self {
        MpiError {
            class,
            message: message.into(),
        }
    }

    /// An error about one named argument: "argument dest: invalid rank 7 (size 4)".
    pub fn arg(class: i32, arg: &str, reason: impl fmt::Display) -> Self {
        MpiError {
            class,
            message: format!("argument {arg}: {reason}"),
        }
    }

    pub fn intern(reason: impl fmt::Display) -> Self {
        MpiError {
            class: class::ERR_INTERN,
            message: format!("internal error: {reason}"),
        }
    }
}

impl fmt::Display for MpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, class_string(self.class))
    }
}

impl std::error::Error for MpiError {}
