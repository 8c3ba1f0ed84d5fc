//! Types chosen by numeric properties: MPI_Type_create_f90_{integer,real,complex},
//! MPI_Type_match_size and MPI_Type_get_value_index. They all answer with a predefined
//! type; the f90 constructors wrap it in a type whose envelope names the f90 combiner.

use super::{Contents, Datatype, TypeRef};
use crate::error::{class, MpiError, MpiResult};

pub const TYPECLASS_REAL: i32 = 1;
pub const TYPECLASS_INTEGER: i32 = 2;
pub const TYPECLASS_COMPLEX: i32 = 3;
const UNDEFINED: i32 = -32766;

use super::Builtin;
use Builtin::{
    Complex16, Complex32, Complex8, Integer1, Integer2, Integer4, Integer8, Real16, Real4, Real8,
};

fn no_type(arg: &str, why: String) -> MpiError {
    MpiError::arg(class::ERR_ARG, arg, why)
}

/// The integer kind holding `r` decimal digits (Fortran's SELECTED_INT_KIND).
pub fn f90_integer_base(r: i32) -> MpiResult<Builtin> {
    match r {
        UNDEFINED => Ok(Integer4),
        i32::MIN..=2 => Ok(Integer1),
        3..=4 => Ok(Integer2),
        5..=9 => Ok(Integer4),
        10..=18 => Ok(Integer8),
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

pub fn f90_real_base(p: i32, r: i32) -> MpiResult<Builtin> {
    Ok([Real4, Real8, Real16][real_index(p, r)?])
}

pub fn f90_complex_base(p: i32, r: i32) -> MpiResult<Builtin> {
    Ok([Complex8, Complex16, Complex32][real_index(p, r)?])
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
pub fn match_size(typeclass: i32, size: i32) -> MpiResult<Builtin> {
    let found = match (typeclass, size) {
        (TYPECLASS_REAL, 4) => Real4,
        (TYPECLASS_REAL, 8) => Real8,
        (TYPECLASS_REAL, 16) => Real16,
        (TYPECLASS_INTEGER, 1) => Integer1,
        (TYPECLASS_INTEGER, 2) => Integer2,
        (TYPECLASS_INTEGER, 4) => Integer4,
        (TYPECLASS_INTEGER, 8) => Integer8,
        (TYPECLASS_COMPLEX, 8) => Complex8,
        (TYPECLASS_COMPLEX, 16) => Complex16,
        (TYPECLASS_COMPLEX, 32) => Complex32,
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
pub fn value_index(value: Builtin, index: Builtin) -> Option<Builtin> {
    use Builtin::*;
    Some(match (value, index) {
        (Float, Int) => FloatInt,
        (Double, Int) => DoubleInt,
        (Long, Int) => LongInt,
        (Short, Int) => ShortInt,
        (Int, Int) => TwoInt,
        (LongDouble, Int) => LongDoubleInt,
        (Integer, Integer) => TwoInteger,
        (Real, Real) => TwoReal,
        (DoublePrecision, DoublePrecision) => TwoDoublePrecision,
        _ => return None,
    })
}
