//! Error handlers. The predefined ones are behaviours; a user handler is a C function the
//! C surface calls (stored as an address so this layer stays free of C types).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrhandlerKind {
    Comm,
    Win,
    File,
    Session,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Errhandler {
    /// MPI_ERRORS_ARE_FATAL: print one line and end the whole job.
    Fatal,
    /// MPI_ERRORS_ABORT: end the processes of the communicator (we end the job).
    Abort,
    /// MPI_ERRORS_RETURN: hand the code back to the caller.
    Return,
    /// A user function for one kind of object, called with (handle*, code*).
    User { kind: ErrhandlerKind, func: usize },
}
