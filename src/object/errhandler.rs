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
    /// Never set (MPICH keeps no handler on such an object): the handler is chosen at the
    /// time of each error, as MPICH's errutil.c does — MPI_COMM_SELF's if the program set
    /// one, else MPI_COMM_WORLD's, else MPI_ERRORS_ARE_FATAL (`abi::errors` resolves it).
    /// A communicator made before `MPI_Comm_set_errhandler(MPI_COMM_WORLD, ..)` thereby
    /// follows it, which programs written for MPI <= 3.1 rely on. Queries report it as
    /// MPI_ERRORS_ARE_FATAL, as MPICH does.
    Unset,
    /// MPI_ERRORS_ARE_FATAL: print one line and end the whole job.
    Fatal,
    /// MPI_ERRORS_ABORT: end the processes of the communicator (we end the job).
    Abort,
    /// MPI_ERRORS_RETURN: hand the code back to the caller.
    Return,
    /// A user function for one kind of object, called with (handle*, code*).
    User { kind: ErrhandlerKind, func: usize },
}
