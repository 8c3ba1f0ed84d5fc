//! MPI_Comm_join: two processes joined by a socket the user connected. Each side is its own
//! MPI_COMM_SELF meeting the other (`connect::establish`); the socket carries the roots'
//! exchange and is left open and untouched afterwards, as the standard requires.

use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::runtime::Runtime;
use crate::transport::links;

pub fn join(rt: &'static Runtime, fd: i32) -> Result<Comm, MpiError> {
    let sock = links::borrow_user_socket(fd)
        .map_err(|e| MpiError::arg(class::ERR_ARG, "fd", format!("not a connected socket: {e}")))?;
    let mut link = Some(sock);
    let mut give = || -> Result<Box<super::connect::Link>, MpiError> {
        link.take()
            .ok_or_else(|| MpiError::intern("join: socket used twice"))
    };
    super::connect::establish(rt, &rt.self_comm, 0, Some(&mut give))
}
