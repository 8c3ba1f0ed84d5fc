//! Types chosen by numeric properties: MPI_Type_create_f90_{integer,real,complex},
//! MPI_Type_match_size and MPI_Type_get_value_index. They all answer with a predefined
//! type; the f90 constructors wrap it in a type whose envelope names the f90 combiner.

use super::{Contents, Datatype, TypeRef};
use crate::error::{class, MpiError, MpiResult};

/// The type classes of MPI_Type_match_size (the C surface maps MPI_TYPECLASS_* to these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeClass {
    Real,
    Integer,
    Complex,
}

use super::Builtin;
use Builtin::{
    Complex16, Complex32, Complex8, Integer1, Integer2, Integer4, Integer8, Real16, Real4, Real8,
};

fn no_type(arg: &str, why: String) -> MpiError {
    MpiError::arg(class::ERR_ARG, arg, why)
}

/// The integer kind holding `r` decimal digits (Fortran's SELECTED_INT_KIND); None
/// (MPI_UNDEFINED) gives the default integer.
pub fn f90_integer_base(r: Option<i32>) -> MpiResult<Builtin> {
    let Some(r) = r else {
        return Ok(Integer4);
    };
    match r {
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
/// may be None (MPI_UNDEFINED: no requirement). Index 0, 1, 2: 4, 8, 16 bytes (16: x87
/// extended).
fn real_index(p: Option<i32>, r: Option<i32>) -> MpiResult<usize> {
    let (p, r) = (p.unwrap_or(0), r.unwrap_or(0));
    const LIMITS: [(i32, i32); 3] = [(6, 37), (15, 307), (18, 4931)];
    LIMITS
        .iter()
        .position(|&(mp, mr)| p <= mp && r <= mr)
        .ok_or_else(|| no_type("p", format!("no real type has precision {p} and range {r}")))
}

pub fn f90_real_base(p: Option<i32>, r: Option<i32>) -> MpiResult<Builtin> {
    Ok([Real4, Real8, Real16][real_index(p, r)?])
}

pub fn f90_complex_base(p: Option<i32>, r: Option<i32>) -> MpiResult<Builtin> {
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
pub fn match_size(class: TypeClass, size: i32) -> MpiResult<Builtin> {
    use TypeClass::*;
    Ok(match (class, size) {
        (Real, 4) => Real4,
        (Real, 8) => Real8,
        (Real, 16) => Real16,
        (Integer, 1) => Integer1,
        (Integer, 2) => Integer2,
        (Integer, 4) => Integer4,
        (Integer, 8) => Integer8,
        (Complex, 8) => Complex8,
        (Complex, 16) => Complex16,
        (Complex, 32) => Complex32,
        _ => {
            return Err(no_type(
                "size",
                format!("no type of class {class:?} has {size} bytes"),
            ))
        }
    })
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
