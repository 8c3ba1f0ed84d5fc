//! Persistent point-to-point requests: MPI_(B/S/R)send_init and MPI_Recv_init, with their
//! `_c` forms.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

fn send_init(ctx: &mut Ctx, m: Msg, mode: Mode, req: ReqOut) -> Result<(), MpiError> {
    let s = send_spec(ctx, m)?;
    let ep = s.ep.unwrap_or(u32::MAX);
    set_req(req, rt()?.engine.send_init(s.args(ep, mode)))
}

/// A persistent receive keeps MPI_PROC_NULL as its source: each start completes at once.
fn recv_init(ctx: &mut Ctx, m: Msg, req: ReqOut) -> Result<(), MpiError> {
    let c = comm::get(ctx, m.comm)?;
    let data = msg_data(m.buf, m.count, m.dt)?;
    let tag = recv_tag(m.tag)?;
    let src = source(&c, m.peer)?;
    let id = rt()?.engine.recv_init(RecvArgs {
        ctx: c.context_id,
        src,
        tag,
        data,
        owner: m.comm,
    });
    set_req(req, id)
}

/// The persistent sends (`$mode`) and MPI_Recv_init (`recv`), with their `_c` forms.
macro_rules! init_fns {
    ($($m:ident $p:ident $cnt:ty, $mode:expr;)*) => {$(
        mpi_fn!($m, $p, (buf: *const c_void, count: $cnt, datatype: c_int, peer: c_int, tag: c_int, comm: c_int, request: *mut c_int), |ctx| {
            // SAFETY: `request` is the C caller's output argument (MPI contract).
            let req = unsafe { req_out(request) }?;
            let m = Msg::new(buf, count as Count, datatype, peer, tag, comm);
            match $mode {
                Some(mode) => send_init(ctx, m, mode, req),
                None => recv_init(ctx, m, req),
            }
        });
    )*};
}
// (`None`: the receive.)
init_fns! {
    MPI_Send_init PMPI_Send_init c_int, Some(Mode::Standard);
    MPI_Send_init_c PMPI_Send_init_c Count, Some(Mode::Standard);
    MPI_Ssend_init PMPI_Ssend_init c_int, Some(Mode::Sync);
    MPI_Ssend_init_c PMPI_Ssend_init_c Count, Some(Mode::Sync);
    MPI_Rsend_init PMPI_Rsend_init c_int, Some(Mode::Ready);
    MPI_Rsend_init_c PMPI_Rsend_init_c Count, Some(Mode::Ready);
    MPI_Bsend_init PMPI_Bsend_init c_int, Some(Mode::Buffered);
    MPI_Bsend_init_c PMPI_Bsend_init_c Count, Some(Mode::Buffered);
    MPI_Recv_init PMPI_Recv_init c_int, None;
    MPI_Recv_init_c PMPI_Recv_init_c Count, None;
}
