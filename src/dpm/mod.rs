//! Dynamic processes (MPI 4.1 chapter 11): processes of different jobs meeting — spawned
//! children and their parents, MPI_Comm_connect/accept through ports, MPI_Comm_join over
//! a user's socket.
//!
//! Every such meeting is the same act (`connect::establish`): the two roots exchange their
//! groups' process ids over one socket, the two groups agree on a context id free in all of
//! them, and each side builds the intercommunicator. Afterwards traffic flows through the
//! ordinary engine: processes of other jobs are endpoints beyond our world ranks, reached
//! over the socket transport (`transport::sock`), and single-copy reads work across jobs on
//! one host as they do within one.

pub mod connect;
pub mod disconnect;
pub mod endpoints;
pub mod join;
pub mod names;
pub mod port;
pub mod spawn;
