//! Predefined reductions (MPI 4.1 §6.9.2) for every (op, basic type) pair the standard
//! allows, as pure functions over byte buffers.
//!
//! The collectives, `MPI_Reduce_local` and the one-sided accumulate call [`apply`]:
//! `inout[i] = inp[i] op inout[i]` for `count` elements. Buffers may be unaligned (packed
//! streams, user memory); every element is read and written through `from_ne_bytes` /
//! `to_ne_bytes`, never through a typed reference.
//!
//! Results follow MPICH bit for bit where the standard is silent, so that a program moving
//! from MPICH sees the same numbers:
//! * MAX/MIN on floats: `inout = inout > in ? inout : in` (resp. `<`). A NaN in `in` wins,
//!   a NaN in `inout` loses (no IEEE maxNum).
//! * MINLOC/MAXLOC: equal values keep the smaller index; NaN values never compare.
//! * Integer arithmetic wraps; logical ops yield 0 or 1 (LOGICAL: 1 is `.TRUE.`).
//! * Long double (x87) arithmetic is done by the x87 unit itself ([`x87`]), as C does it.

mod half;
mod kernels;
pub mod logical;
mod pairs;
pub mod user;
#[cfg(target_arch = "x86_64")]
mod x87;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pairs;

use std::fmt;

use crate::datatype::Basic;
use crate::error::{class, MpiError};

/// The predefined operations, with MPICH's handle values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PredefOp {
    Max,
    Min,
    Sum,
    Prod,
    Land,
    Band,
    Lor,
    Bor,
    Lxor,
    Bxor,
    Minloc,
    Maxloc,
    Replace,
    NoOp,
}

impl PredefOp {
    /// Every predefined op, in handle order.
    pub const ALL: [PredefOp; 14] = [
        PredefOp::Max,
        PredefOp::Min,
        PredefOp::Sum,
        PredefOp::Prod,
        PredefOp::Land,
        PredefOp::Band,
        PredefOp::Lor,
        PredefOp::Bor,
        PredefOp::Lxor,
        PredefOp::Bxor,
        PredefOp::Minloc,
        PredefOp::Maxloc,
        PredefOp::Replace,
        PredefOp::NoOp,
    ];

    /// The standard name, e.g. "MPI_SUM".
    pub fn name(&self) -> &'static str {
        match self {
            PredefOp::Max => "MPI_MAX",
            PredefOp::Min => "MPI_MIN",
            PredefOp::Sum => "MPI_SUM",
            PredefOp::Prod => "MPI_PROD",
            PredefOp::Land => "MPI_LAND",
            PredefOp::Band => "MPI_BAND",
            PredefOp::Lor => "MPI_LOR",
            PredefOp::Bor => "MPI_BOR",
            PredefOp::Lxor => "MPI_LXOR",
            PredefOp::Bxor => "MPI_BXOR",
            PredefOp::Minloc => "MPI_MINLOC",
            PredefOp::Maxloc => "MPI_MAXLOC",
            PredefOp::Replace => "MPI_REPLACE",
            PredefOp::NoOp => "MPI_NO_OP",
        }
    }

    /// MPI_REPLACE and MPI_NO_OP are defined only for the accumulate functions (one-sided
    /// and MPI_Reduce_local aside, a reduction with them is MPI_ERR_OP); `allowed` accepts
    /// them on every type, so reductions must check this too.
    pub fn is_accumulate_only(self) -> bool {
        matches!(self, PredefOp::Replace | PredefOp::NoOp)
    }

    /// Every predefined op is commutative (and treated as associative).
    pub fn is_commutative(self) -> bool {
        true
    }
}

/// How the elements of a pair type (MPI_DOUBLE_INT, ...) sit in the buffers. For every
/// other type both layouts are the same: `count` elements of `size` bytes back to back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Packed stream (what `Datatype::pack` produces): value then index, no padding,
    /// stride = type size (MPI_DOUBLE_INT: 12 bytes, MPI_SHORT_INT: 6).
    Packed,
    /// The C struct in user memory: the index aligned, stride = type extent
    /// (MPI_DOUBLE_INT: 16 bytes, MPI_SHORT_INT: 8 with the int at offset 4).
    Memory,
}

/// Why a reduction could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpError {
    /// The standard does not define `op` on `t` (MPI_ERR_OP).
    NotAllowed { op: PredefOp, t: Basic },
    /// A buffer is shorter than `count` elements (a bug of the caller).
    ShortBuffer {
        need: usize,
        inp: usize,
        inout: usize,
    },
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpError::NotAllowed { op, t } => {
                write!(f, "{} is not defined for datatype kind {:?}", op.name(), t)
            }
            OpError::ShortBuffer { need, inp, inout } => write!(
                f,
                "reduction needs {need} bytes, got input {inp} and inout {inout}"
            ),
        }
    }
}

impl std::error::Error for OpError {}

impl From<OpError> for MpiError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::NotAllowed { .. } => MpiError::new(class::ERR_OP, e.to_string()),
            OpError::ShortBuffer { .. } => MpiError::intern(e),
        }
    }
}

/// The groups of basic types that decide which ops apply, as MPICH draws them (its
/// `MPIR_<op>_check_dtype`): the standard's groups of §6.9.2, as far as `Basic` tells them
/// apart (C and Fortran integers share kinds; C and Fortran reals too), plus MPICH's
/// extensions: MPI_CHAR and MPI_CHARACTER count as integers (signed 8-bit), and the
/// logical ops also take floating-point types.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Integer,
    Float,
    Complex,
    Logical,
    Byte,
    Pair,
    /// MPI_WCHAR, MPI_PACKED, MPI_LB/UB: no reduction at all.
    Other,
}

fn group(t: Basic) -> Group {
    use Basic::*;
    match t {
        // MPICH reduces MPI_CHAR (and MPI_CHARACTER) as a signed char (OSU's
        // osu_allreduce uses MPI_CHAR by default); the standard lists no char type.
        Char | I8 | I16 | I32 | I64 | U8 | U16 | U32 | U64 => Group::Integer,
        F16 | F32 | F64 | F80 => Group::Float,
        C32 | C64 | C80 => Group::Complex,
        Bool | Logical => Group::Logical,
        Byte => Group::Byte,
        PairF32I32 | PairF64I32 | PairI64I32 | PairI16I32 | PairI32I32 | PairF80I32
        | PairF32F32 | PairF64F64 => Group::Pair,
        WChar | Packed | Marker => Group::Other,
    }
}

/// True when the long double kinds can be computed here (x87 extended precision).
fn uses_x87(t: Basic) -> bool {
    matches!(t, Basic::F80 | Basic::C80 | Basic::PairF80I32)
}

/// Whether MPI defines `op` on basic type `t`: check before communicating, so a bad
/// pair fails with MPI_ERR_OP on every rank instead of midway.
pub fn allowed(op: PredefOp, t: Basic) -> bool {
    use PredefOp::*;
    if op.is_accumulate_only() {
        return true;
    }
    if uses_x87(t) && !cfg!(target_arch = "x86_64") {
        return false;
    }
    let g = group(t);
    match op {
        Max | Min => matches!(g, Group::Integer | Group::Float),
        Sum | Prod => matches!(g, Group::Integer | Group::Float | Group::Complex),
        // MPICH also accepts the logical ops on floating-point types (MPI_FLOAT,
        // MPI_REAL, ...): nonzero is true, the result is 1.0 or 0.0 in the same type.
        Land | Lor | Lxor => matches!(g, Group::Integer | Group::Logical | Group::Float),
        Band | Bor | Bxor => matches!(g, Group::Integer | Group::Byte),
        Minloc | Maxloc => g == Group::Pair,
        Replace | NoOp => true,
    }
}

/// Bytes one element of `t` occupies in a buffer laid out as `layout`.
pub fn elem_size(t: Basic, layout: Layout) -> usize {
    use Basic::*;
    match t {
        Marker => 0,
        Char | Byte | Packed | Bool | I8 | U8 => 1,
        I16 | U16 | F16 => 2,
        I32 | U32 | F32 | Logical | WChar => 4,
        I64 | U64 | F64 | C32 => 8,
        F80 | C64 => 16,
        C80 => 32,
        _ => pairs::geometry(t, layout).map_or(0, |g| g.stride),
    }
}

/// `inout[i] = inp[i] op inout[i]` for `count` elements of `t`, both buffers packed
/// (see [`Layout::Packed`]). Bytes past `count` elements are not touched.
pub fn apply(
    op: PredefOp,
    t: Basic,
    inp: &[u8],
    inout: &mut [u8],
    count: usize,
) -> Result<(), OpError> {
    apply_layout(op, t, inp, inout, count, Layout::Packed)
}

/// As [`apply`], with both buffers in `layout` (use [`Layout::Memory`] to reduce pair
/// types in place in user buffers, e.g. for MPI_Reduce_local).
pub fn apply_layout(
    op: PredefOp,
    t: Basic,
    inp: &[u8],
    inout: &mut [u8],
    count: usize,
    layout: Layout,
) -> Result<(), OpError> {
    if !allowed(op, t) {
        return Err(OpError::NotAllowed { op, t });
    }
    let need = count.checked_mul(elem_size(t, layout));
    let (inp, inout) = match need {
        Some(n) if inp.len() >= n && inout.len() >= n => (&inp[..n], &mut inout[..n]),
        _ => {
            return Err(OpError::ShortBuffer {
                need: need.unwrap_or(usize::MAX),
                inp: inp.len(),
                inout: inout.len(),
            })
        }
    };
    if op == PredefOp::NoOp {
        return Ok(());
    }
    let done = match group(t) {
        Group::Pair => pairs::apply(op, t, inp, inout, layout),
        _ if op == PredefOp::Replace => {
            inout.copy_from_slice(inp);
            true
        }
        _ => kernels::apply(op, t, inp, inout),
    };
    if done {
        Ok(())
    } else {
        // `allowed` said yes but no kernel took the pair: the two tables disagree. The
        // tests check every pair, so this is a bug here, reported rather than hidden.
        Err(OpError::NotAllowed { op, t })
    }
}
