//! The communication calls: put, get, accumulate, get_accumulate (fetch_and_op), and
//! compare_and_swap. Each describes the target bytes as runs the target can apply without
//! knowing the datatype, packs the origin data, and hands the request to `origin::issue`.

use super::origin::issue;
use super::win::{Flavor, Win};
use super::wire::{self, kind, Request};
use crate::datatype::{self, combiner, Basic, Datatype};
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
    fn bytes(&self) -> Result<u64, MpiError> {
        self.count.checked_mul(self.dt.size()).ok_or_else(|| {
            MpiError::arg(
                class::ERR_COUNT,
                "target_count",
                format!(
                    "{} elements of the target type overflow the byte count",
                    self.count
                ),
            )
        })
    }
}

fn out_of_range(t: &TargetSpec, lo: i128, hi: i128, size: u64) -> MpiError {
    MpiError::arg(
        class::ERR_RMA_RANGE,
        "target_disp",
        format!(
            "target bytes [{lo}, {hi}) lie outside rank {}'s window of {size} bytes",
            t.rank
        ),
    )
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
    let bytes = t.bytes()?;
    let peer = win.peers[t.rank];
    let dynamic = win.flavor == Flavor::Dynamic;
    let start = if dynamic {
        t.disp
    } else {
        t.disp.checked_mul(peer.disp_unit).ok_or_else(|| {
            MpiError::arg(class::ERR_DISP, "target_disp", "displacement overflows")
        })?
    };
    if !dynamic && bytes > 0 {
        // The lowest and highest data bytes of `count` elements, from the type's true
        // bounds: refused here before any walk, so an absurd count cannot take the origin
        // down (the type map is walked only over bytes that exist at the target).
        let last = (t.count as i128 - 1) * t.dt.extent() as i128;
        let lo = start as i128 + t.dt.true_lb as i128 + last.min(0);
        let hi = start as i128 + t.dt.true_ub as i128 + last.max(0);
        if lo < 0 || hi > peer.size as i128 {
            return Err(out_of_range(t, lo, hi, peer.size));
        }
    }
    let mut out: Vec<(i64, u64)> = Vec::new();
    let mut wrapped = false;
    t.dt.walk(t.count, 0, bytes, |off, len, _| {
        match start.checked_add(off) {
            Some(o) => out.push((o, len)),
            None => wrapped = true,
        }
    });
    if wrapped {
        return Err(MpiError::arg(
            class::ERR_RMA_RANGE,
            "target_disp",
            "the target address overflows",
        ));
    }
    if !dynamic {
        for &(o, l) in &out {
            if o < 0 || (o as u64).saturating_add(l) > peer.size {
                return Err(out_of_range(t, o as i128, o as i128 + l as i128, peer.size));
            }
        }
    }
    Ok(out)
}

/// The origin data, packed; MPI_ERR_NO_MEM (not an abort) when it cannot be held.
fn packed(d: &Data) -> Result<Vec<u8>, MpiError> {
    let n = d.bytes() as usize;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        MpiError::new(
            class::ERR_NO_MEM,
            format!("cannot hold the {n} bytes of origin data"),
        )
    })?;
    v.resize(n, 0);
    d.pack(0, &mut v);
    Ok(v)
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
    same_size(origin.bytes(), t.bytes()?)?;
    let r = request(kind::PUT, runs(win, &t)?, packed(&origin)?);
    issue(win, t.rank, r, None, user)
}

/// MPI_Get / MPI_Rget: the reply lands in `origin`.
pub fn get(win: &Win, origin: Data, t: TargetSpec, user: bool) -> Result<Option<ReqId>, MpiError> {
    same_size(origin.bytes(), t.bytes()?)?;
    let r = request(kind::GET, runs(win, &t)?, Vec::new());
    issue(win, t.rank, r, Some(origin), user)
}

/// The basic type of an accumulate: the target type's, which the origin type must share;
/// and the op must be defined on it.
fn reduction(
    op: PredefOp,
    origin: Option<&Data>,
    t: &TargetSpec,
) -> Result<(PredefOp, Basic), MpiError> {
    if op == PredefOp::NoOp {
        // Only reads the target (MPI_Get_accumulate, MPI_Fetch_and_op): like MPICH, any
        // target type goes, as for MPI_Get; the basic type is not used.
        return Ok((op, t.dt.basic.unwrap_or(Basic::Byte)));
    }
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
    op: PredefOp,
    user: bool,
) -> Result<Option<ReqId>, MpiError> {
    let (op, basic) = reduction(op, Some(&origin), &t)?;
    same_size(origin.bytes(), t.bytes()?)?;
    let r = acc_request(kind::ACC, op, basic, runs(win, &t)?, packed(&origin)?);
    issue(win, t.rank, r, None, user)
}

/// MPI_Get_accumulate / MPI_Rget_accumulate / MPI_Fetch_and_op: the old target data lands
/// in `result`. The origin data is ignored with MPI_NO_OP.
pub fn get_accumulate(
    win: &Win,
    origin: Data,
    result: Data,
    t: TargetSpec,
    op: PredefOp,
    user: bool,
) -> Result<Option<ReqId>, MpiError> {
    let no_op = op == PredefOp::NoOp;
    let (op, basic) = reduction(op, (!no_op).then_some(&origin), &t)?;
    same_size(result.bytes(), t.bytes()?)?;
    let payload = if no_op {
        Vec::new()
    } else {
        same_size(origin.bytes(), t.bytes()?)?;
        packed(&origin)?
    };
    let r = acc_request(kind::GACC, op, basic, runs(win, &t)?, payload);
    issue(win, t.rank, r, Some(result), user)
}

/// The predefined (named) datatype `dt` is, if it is one: not a user type, not even a
/// duplicate of a predefined one or a cached MPI_Type_create_f90_* type (MPICH's test).
fn named(dt: &TypeKeep) -> Option<&'static Datatype> {
    match dt {
        TypeKeep::Static(d) if d.contents.combiner == combiner::NAMED => Some(d),
        _ => None,
    }
}

/// MPI_Compare_and_swap's `datatype` must be one of the standard's list: the C integer,
/// Fortran integer, logical, multi-language and byte types. As in MPICH this includes
/// MPI_CHAR, MPI_CHARACTER and the sized integers, and excludes MPI_WCHAR.
pub fn check_cas_type(dt: &TypeKeep) -> Result<(), MpiError> {
    use Basic::*;
    let ok = named(dt).is_some_and(|d| {
        // MPI_WCHAR is stored as a 32-bit integer, but is a character type for the atomics.
        d.builtin_id() != Some(datatype::Builtin::WChar)
            && matches!(
                d.basic,
                Some(Char | Byte | Bool | Logical | I8 | I16 | I32 | I64 | U8 | U16 | U32 | U64)
            )
    });
    if ok {
        return Ok(());
    }
    let name = dt.name.lock().clone();
    Err(MpiError::arg(
        class::ERR_TYPE,
        "datatype",
        format!(
            "compare-and-swap takes only a predefined integer, logical or byte type, not {}",
            if name.is_empty() {
                "a derived datatype"
            } else {
                &name
            }
        ),
    ))
}

/// MPI_Fetch_and_op's `datatype` must be predefined (any one: the op decides the rest).
pub fn check_fetch_and_op_type(dt: &TypeKeep) -> Result<(), MpiError> {
    match named(dt) {
        Some(_) => Ok(()),
        None => Err(MpiError::arg(
            class::ERR_TYPE,
            "datatype",
            "fetch-and-op takes only a predefined datatype, not a derived one",
        )),
    }
}

/// MPI_Compare_and_swap (its type checked by [`check_cas_type`]): one element; `origin`
/// replaces the target's if the target's equals `compare`; the old value lands in `result`.
pub fn compare_and_swap(
    win: &Win,
    origin: Data,
    compare: Data,
    result: Data,
    t: TargetSpec,
) -> Result<(), MpiError> {
    let mut payload = packed(&origin)?;
    payload.extend_from_slice(&packed(&compare)?);
    let r = request(kind::CAS, runs(win, &t)?, payload);
    issue(win, t.rank, r, Some(result), false).map(|_| ())
}
