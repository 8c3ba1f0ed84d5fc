//! Types chosen by numeric properties: MPI_Type_create_f90_{integer,real,complex},
//! MPI_Type_match_size and MPI_Type_get_value_index. They all answer with a predefined
//! type; the f90 constructors wrap it in a type whose envelope names the f90 combiner.

use super::{Contents, Datatype, TypeRef};
use crate::error::{class, MpiError, MpiResult};

pub const TYPECLASS_REAL: i32 = 1;
pub const TYPECLASS_INTEGER: i32 = 2;
pub const TYPECLASS_COMPLEX: i32 = 3;
const UNDEFINED: i32 = -32766;

const INTEGER1: i32 = 0x4c00012d;
const INTEGER2: i32 = 0x4c00022f;
const INTEGER4: i32 = 0x4c000430;
const INTEGER8: i32 = 0x4c000831;
const REAL4: i32 = 0x4c000427;
const REAL8: i32 = 0x4c000829;
const REAL16: i32 = 0x4c00102b;
const COMPLEX8: i32 = 0x4c000828;
const COMPLEX16: i32 = 0x4c00102a;
const COMPLEX32: i32 = 0x4c00202c;

fn no_type(arg: &str, why: String) -> MpiError {
    MpiError::arg(class::ERR_ARG, arg, why)
}

/// The integer kind holding `r` decimal digits (Fortran's SELECTED_INT_KIND).
pub fn f90_integer_base(r: i32) -> MpiResult<i32> {
    match r {
        UNDEFINED => Ok(INTEGER4),
        i32::MIN..=2 => Ok(INTEGER1),
        3..=4 => Ok(INTEGER2),
        5..=9 => Ok(INTEGER4),
        10..=18 => Ok(INTEGER8),
        _ => Err(no_type(
            "r",
            format!("no integer type has {r} decimal digits"),
        )),
    }
}

/// The real kind with precision `p` and exponent range `r` (SELECTED_REAL_KIND); either
/// may be MPI_UNDEFINED. Index 0, 1, 2: 4, 8, 16 bytes (16: x87 extended).
fn real_index(p: i32, r: i32) -> MpiResult<usize> {
    let p = if p == UNDEFINED { 0 } else { p };
    let r = if r == UNDEFINED { 0 } else { r };
    const LIMITS: [(i32, i32); 3] = [(6, 37), (15, 307), (18, 4931)];
    LIMITS
        .iter()
        .position(|&(mp, mr)| p <= mp && r <= mr)
        .ok_or_else(|| no_type("p", format!("no real type has precision {p} and range {r}")))
}

pub fn f90_real_base(p: i32, r: i32) -> MpiResult<i32> {
    Ok([REAL4, REAL8, REAL16][real_index(p, r)?])
}

pub fn f90_complex_base(p: i32, r: i32) -> MpiResult<i32> {
    Ok([COMPLEX8, COMPLEX16, COMPLEX32][real_index(p, r)?])
}

/// The type an f90 constructor returns: the layout of predefined `base`, committed,
/// with envelope `combiner` and integer arguments `ints`.
pub fn f90_type(base: &TypeRef, comb: i32, ints: &[i32]) -> Datatype {
    let mut c = Contents::new(comb);
    c.ints.extend_from_slice(ints);
    let dt = Datatype::from_shape(base.dt().shape(), c);
    dt.commit();
    dt
}

/// MPI_Type_match_size: the Fortran-sized predefined type of a class and byte size (as
/// MPICH answers).
pub fn match_size(typeclass: i32, size: i32) -> MpiResult<i32> {
    let found = match (typeclass, size) {
        (TYPECLASS_REAL, 4) => REAL4,
        (TYPECLASS_REAL, 8) => REAL8,
        (TYPECLASS_REAL, 16) => REAL16,
        (TYPECLASS_INTEGER, 1) => INTEGER1,
        (TYPECLASS_INTEGER, 2) => INTEGER2,
        (TYPECLASS_INTEGER, 4) => INTEGER4,
        (TYPECLASS_INTEGER, 8) => INTEGER8,
        (TYPECLASS_COMPLEX, 8) => COMPLEX8,
        (TYPECLASS_COMPLEX, 16) => COMPLEX16,
        (TYPECLASS_COMPLEX, 32) => COMPLEX32,
        (TYPECLASS_REAL | TYPECLASS_INTEGER | TYPECLASS_COMPLEX, _) => {
            return Err(no_type(
                "size",
                format!("no type of class {typeclass} has {size} bytes"),
            ))
        }
        _ => {
            return Err(no_type(
                "typeclass",
                format!("unknown type class {typeclass}"),
            ))
        }
    };
    Ok(found)
}

/// MPI_Type_get_value_index: the predefined (value, index) pair type for MINLOC/MAXLOC,
/// or None (MPI_DATATYPE_NULL) when there is none.
pub fn value_index(value: i32, index: i32) -> Option<i32> {
    const INT: i32 = 0x4c000405;
    const INTEGER: i32 = 0x4c00041b;
    const REAL: i32 = 0x4c00041c;
    const DOUBLE_PRECISION: i32 = 0x4c00081f;
    let pair = match (value, index) {
        (0x4c00040a, INT) => 0x8c000000u32,  // MPI_FLOAT -> MPI_FLOAT_INT
        (0x4c00080b, INT) => 0x8c000001u32,  // MPI_DOUBLE -> MPI_DOUBLE_INT
        (0x4c000807, INT) => 0x8c000002u32,  // MPI_LONG -> MPI_LONG_INT
        (0x4c000203, INT) => 0x8c000003u32,  // MPI_SHORT -> MPI_SHORT_INT
        (INT, INT) => 0x4c000816u32,         // MPI_2INT
        (0x4c00100c, INT) => 0x8c000004u32,  // MPI_LONG_DOUBLE -> MPI_LONG_DOUBLE_INT
        (INTEGER, INTEGER) => 0x4c000820u32, // MPI_2INTEGER
        (REAL, REAL) => 0x4c000821u32,       // MPI_2REAL
        (DOUBLE_PRECISION, DOUBLE_PRECISION) => 0x4c001023u32, // MPI_2DOUBLE_PRECISION
        _ => return None,
    };
    Some(pair as i32)
}
