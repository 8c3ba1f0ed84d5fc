//! The meeting of two groups that become the two sides of an intercommunicator: each side
//! is a `GroupNet` with its leader as member 0, and the leaders talk over a link — a
//! message channel through a common communicator (MPI_Intercomm_create), or a socket
//! between two jobs (MPI_Comm_accept/connect, MPI_Comm_join, spawn).
//!
//! 1. The leaders swap their groups (as process ids any job understands, see
//!    `dpm::endpoints`) and broadcast the other side's to their members.
//! 2. Both groups agree on a context id free in all members of both: each side takes the
//!    largest of its members' lowest free ids, the leaders swap and keep the larger, every
//!    member tries to take it, and the leaders swap whether anybody failed (then all retry
//!    above it).
//! A leader whose link fails broadcasts the error, so every member fails the same way.

use super::group_net::GroupNet;
use crate::dpm::endpoints;
use crate::error::MpiError;
use crate::object::context::STRIDE;

/// The leaders' channel: sends `mine`, returns the other leader's message of the same step.
pub trait Exchange {
    fn exchange(&mut self, mine: &[u8]) -> Result<Vec<u8>, MpiError>;
}

/// A link that could not be made: every exchange reports why.
pub struct Broken(pub MpiError);

impl Exchange for Broken {
    fn exchange(&mut self, _: &[u8]) -> Result<Vec<u8>, MpiError> {
        Err(self.0.clone())
    }
}

fn u32_of(b: Vec<u8>) -> Result<u32, MpiError> {
    b.try_into()
        .map(u32::from_le_bytes)
        .map_err(|_| MpiError::intern("malformed value from the other side"))
}

/// The leaders combine their sides' `v` (larger wins); every member gets the result.
fn swap_max(net: &GroupNet, link: &mut Option<&mut dyn Exchange>, v: u32) -> Result<u32, MpiError> {
    let outcome = link.as_mut().map(|l| {
        let theirs = u32_of(l.exchange(&v.to_le_bytes())?)?;
        Ok(v.max(theirs).to_le_bytes().to_vec())
    });
    u32_of(net.bcast_result(outcome)?)
}

/// Runs the meeting for my side (`my_procs` in rank order; `link` at the leader only).
/// Returns the context id (taken) and the other side's endpoints in rank order.
pub fn meet(
    net: &GroupNet,
    my_procs: &[u32],
    mut link: Option<&mut dyn Exchange>,
) -> Result<(u32, Vec<u32>), MpiError> {
    let rt = net.rt;
    let outcome = link
        .as_mut()
        .map(|l| endpoints::encode(rt, my_procs).and_then(|b| l.exchange(&b)));
    let remote = net.bcast_result(outcome)?;
    let mut floor = 0;
    let ctx = loop {
        let mine = rt.contexts.lock().lowest_free(floor);
        let c = crate::object::context::agreed(swap_max(
            net,
            &mut link,
            net.allreduce_max_u32(mine)?,
        )?)?;
        let took = rt.contexts.lock().try_take(c);
        let failed_here = net.allreduce_max_u32((!took) as u32)?;
        if swap_max(net, &mut link, failed_here)? == 0 {
            break c;
        }
        if took {
            rt.contexts.lock().release(c);
        }
        floor = c + STRIDE;
    };
    match endpoints::decode(rt, &remote) {
        Ok(r) => Ok((ctx, r)),
        Err(e) => {
            rt.contexts.lock().release(ctx);
            Err(e)
        }
    }
}
