//! The communication calls: put, get, accumulate, get_accumulate (fetch_and_op), and
//! compare_and_swap. Each describes the target bytes as runs the target can apply without
//! knowing the datatype, packs the origin data, and hands the request to `origin::issue`.

use super::origin::issue;
use super::win::{Flavor, Win};
use super::wire::{self, kind, Request};
use crate::datatype::Basic;
use crate::error::{class, MpiError};
use crate::op::{self, PredefOp};
use crate::p2p::{Data, ReqId, TypeKeep};

/// The target side of an operation: rank, displacement, count and datatype.
pub struct TargetSpec {
    pub rank: usize,
    pub disp: i64,
    pub count: u64,
    pub dt: TypeKeep,
}

impl TargetSpec {
    fn bytes(&self) -> u64 {
        self.count * self.dt.size()
    }
}

/// The target's byte runs, from its window base (an address for a dynamic window),
/// checked against the target's size where the origin knows it.
fn runs(win: &Win, t: &TargetSpec) -> Result<Vec<(i64, u64)>, MpiError> {
    if t.disp < 0 {
        return Err(MpiError::arg(
            class::ERR_DISP,
            "target_disp",
            format!("negative target displacement {}", t.disp),
        ));
    }
    let peer = win.peers[t.rank];
    let dynamic = win.flavor == Flavor::Dynamic;
    let start = if dynamic {
        t.disp
    } else {
        t.disp.checked_mul(peer.disp_unit).ok_or_else(|| {
            MpiError::arg(class::ERR_DISP, "target_disp", "displacement overflows")
        })?
    };
    let mut out: Vec<(i64, u64)> = Vec::new();
    t.dt.walk(t.count, 0, t.bytes(), |off, len, _| {
        out.push((start + off, len))
    });
    if !dynamic {
        for &(o, l) in &out {
            if o < 0 || (o as u64).saturating_add(l) > peer.size {
                return Err(MpiError::arg(
                    class::ERR_RMA_RANGE,
                    "target_disp",
                    format!(
                        "target bytes [{o}, {}) lie outside rank {}'s window of {} bytes",
                        o + l as i64,
                        t.rank,
                        peer.size
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn packed(d: &Data) -> Vec<u8> {
    let mut v = vec![0u8; d.bytes() as usize];
    d.pack(0, &mut v);
    v
}

fn same_size(origin: u64, target: u64) -> Result<(), MpiError> {
    if origin != target {
        return Err(MpiError::arg(
            class::ERR_TYPE,
            "target_datatype",
            format!("origin describes {origin} bytes, target {target}: the type signatures differ"),
        ));
    }
    Ok(())
}

fn request(kind: u8, runs: Vec<(i64, u64)>, payload: Vec<u8>) -> Request {
    Request {
        kind,
        basic: 0,
        op: 0,
        lock: 0,
        reply_tag: 0,
        runs,
        payload,
    }
}

/// MPI_Put / MPI_Rput (`user`: return a request).
pub fn put(win: &Win, origin: Data, t: TargetSpec, user: bool) -> Result<Option<ReqId>, MpiError> {
    same_size(origin.bytes(), t.bytes())?;
    let r = request(kind::PUT, runs(win, &t)?, packed(&origin));
    issue(win, t.rank, r, None, user)
}

/// MPI_Get / MPI_Rget: the reply lands in `origin`.
pub fn get(win: &Win, origin: Data, t: TargetSpec, user: bool) -> Result<Option<ReqId>, MpiError> {
    same_size(origin.bytes(), t.bytes())?;
    let r = request(kind::GET, runs(win, &t)?, Vec::new());
    issue(win, t.rank, r, Some(origin), user)
}

/// The basic type of an accumulate: the target type's, which the origin type must share;
/// and the op must be defined on it.
fn reduction(
    op: i32,
    origin: Option<&Data>,
    t: &TargetSpec,
) -> Result<(PredefOp, Basic), MpiError> {
    let op = PredefOp::from_handle(op).ok_or_else(|| {
        MpiError::arg(
            class::ERR_OP,
            "op",
            "one-sided accumulates take only predefined operations",
        )
    })?;
    let basic = t.dt.basic.ok_or_else(|| {
        MpiError::arg(
            class::ERR_TYPE,
            "target_datatype",
            "accumulate needs a target type made of one predefined type",
        )
    })?;
    if let Some(o) = origin {
        if o.count > 0 && o.dt.size() > 0 && o.dt.basic != Some(basic) {
            return Err(MpiError::arg(
                class::ERR_TYPE,
                "origin_datatype",
                "origin and target types of an accumulate are built from different types",
            ));
        }
    }
    // (An empty accumulate touches nothing: any op goes, as in MPICH.)
    if t.count > 0 && !op::allowed(op, basic) {
        return Err(MpiError::arg(
            class::ERR_OP,
            "op",
            format!("{} is not defined on the target type", op.name()),
        ));
    }
    Ok((op, basic))
}

fn acc_request(
    kind: u8,
    op: PredefOp,
    basic: Basic,
    runs: Vec<(i64, u64)>,
    payload: Vec<u8>,
) -> Request {
    let mut r = request(kind, runs, payload);
    r.op = op as u8;
    r.basic = wire::basic_code(basic);
    r
}

/// MPI_Accumulate / MPI_Raccumulate.
pub fn accumulate(
    win: &Win,
    origin: Data,
    t: TargetSpec,
    op: i32,
    user: bool,
) -> Result<Option<ReqId>, MpiError> {
    let (op, basic) = reduction(op, Some(&origin), &t)?;
    same_size(origin.bytes(), t.bytes())?;
    let r = acc_request(kind::ACC, op, basic, runs(win, &t)?, packed(&origin));
    issue(win, t.rank, r, None, user)
}

/// MPI_Get_accumulate / MPI_Rget_accumulate / MPI_Fetch_and_op: the old target data lands
/// in `result`. The origin data is ignored with MPI_NO_OP.
pub fn get_accumulate(
    win: &Win,
    origin: Data,
    result: Data,
    t: TargetSpec,
    op: i32,
    user: bool,
) -> Result<Option<ReqId>, MpiError> {
    let no_op = PredefOp::from_handle(op) == Some(PredefOp::NoOp);
    let (op, basic) = reduction(op, (!no_op).then_some(&origin), &t)?;
    same_size(result.bytes(), t.bytes())?;
    let payload = if no_op {
        Vec::new()
    } else {
        same_size(origin.bytes(), t.bytes())?;
        packed(&origin)
    };
    let r = acc_request(kind::GACC, op, basic, runs(win, &t)?, payload);
    issue(win, t.rank, r, Some(result), user)
}

/// MPI_Compare_and_swap: one element; `origin` replaces the target's if the target's
/// equals `compare`; the old value lands in `result`.
pub fn compare_and_swap(
    win: &Win,
    origin: Data,
    compare: Data,
    result: Data,
    t: TargetSpec,
) -> Result<(), MpiError> {
    if t.dt.basic.is_none() || !t.dt.is_predefined() {
        return Err(MpiError::arg(
            class::ERR_TYPE,
            "datatype",
            "compare-and-swap needs a predefined datatype",
        ));
    }
    let mut payload = packed(&origin);
    payload.extend_from_slice(&packed(&compare));
    let r = request(kind::CAS, runs(win, &t)?, payload);
    issue(win, t.rank, r, Some(result), false).map(|_| ())
}
