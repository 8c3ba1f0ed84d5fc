//! The C handles of the predefined datatypes: MPICH's handle for each [`Builtin`] of the
//! datatype model, both ways. The standard ABI's handles reach these through its own
//! tables (MPICH handle <-> standard handle, `abi::std::tables`).
//!
//! MPICH lays a builtin datatype handle out as 0x4c00ssii (size ss, index ii) and a pair
//! type's as 0x8c0000ii, so the low byte and the top bit find one in a single step.

use crate::datatype::Builtin;
use std::os::raw::c_int;

/// MPICH 4's mpi.h handle of every builtin, in [`Builtin`] order.
const MPICH: [(c_int, Builtin); 65] = [
    (0x4c000101u32 as c_int, Builtin::Char),
    (0x4c000118u32 as c_int, Builtin::SignedChar),
    (0x4c000102u32 as c_int, Builtin::UnsignedChar),
    (0x4c00010du32 as c_int, Builtin::Byte),
    (0x4c00040eu32 as c_int, Builtin::WChar),
    (0x4c000203u32 as c_int, Builtin::Short),
    (0x4c000204u32 as c_int, Builtin::UnsignedShort),
    (0x4c000405u32 as c_int, Builtin::Int),
    (0x4c000406u32 as c_int, Builtin::Unsigned),
    (0x4c000807u32 as c_int, Builtin::Long),
    (0x4c000808u32 as c_int, Builtin::UnsignedLong),
    (0x4c00040au32 as c_int, Builtin::Float),
    (0x4c00080bu32 as c_int, Builtin::Double),
    (0x4c00100cu32 as c_int, Builtin::LongDouble),
    (0x4c000809u32 as c_int, Builtin::LongLongInt),
    (0x4c000819u32 as c_int, Builtin::UnsignedLongLong),
    (0x4c00010fu32 as c_int, Builtin::Packed),
    (0x4c000010u32 as c_int, Builtin::Lb),
    (0x4c000011u32 as c_int, Builtin::Ub),
    (0x8c000000u32 as c_int, Builtin::FloatInt),
    (0x8c000001u32 as c_int, Builtin::DoubleInt),
    (0x8c000002u32 as c_int, Builtin::LongInt),
    (0x8c000003u32 as c_int, Builtin::ShortInt),
    (0x4c000816u32 as c_int, Builtin::TwoInt),
    (0x8c000004u32 as c_int, Builtin::LongDoubleInt),
    (0x4c00081eu32 as c_int, Builtin::Complex),
    (0x4c001022u32 as c_int, Builtin::DoubleComplex),
    (0x4c00041du32 as c_int, Builtin::Logical),
    (0x4c00041cu32 as c_int, Builtin::Real),
    (0x4c00081fu32 as c_int, Builtin::DoublePrecision),
    (0x4c00041bu32 as c_int, Builtin::Integer),
    (0x4c000820u32 as c_int, Builtin::TwoInteger),
    (0x4c000821u32 as c_int, Builtin::TwoReal),
    (0x4c001023u32 as c_int, Builtin::TwoDoublePrecision),
    (0x4c00011au32 as c_int, Builtin::Character),
    (0x4c000427u32 as c_int, Builtin::Real4),
    (0x4c000829u32 as c_int, Builtin::Real8),
    (0x4c00102bu32 as c_int, Builtin::Real16),
    (0x4c000828u32 as c_int, Builtin::Complex8),
    (0x4c00102au32 as c_int, Builtin::Complex16),
    (0x4c00202cu32 as c_int, Builtin::Complex32),
    (0x4c00012du32 as c_int, Builtin::Integer1),
    (0x4c00022fu32 as c_int, Builtin::Integer2),
    (0x4c000430u32 as c_int, Builtin::Integer4),
    (0x4c000831u32 as c_int, Builtin::Integer8),
    (0x4c000137u32 as c_int, Builtin::Int8T),
    (0x4c000238u32 as c_int, Builtin::Int16T),
    (0x4c000439u32 as c_int, Builtin::Int32T),
    (0x4c00083au32 as c_int, Builtin::Int64T),
    (0x4c00013bu32 as c_int, Builtin::Uint8T),
    (0x4c00023cu32 as c_int, Builtin::Uint16T),
    (0x4c00043du32 as c_int, Builtin::Uint32T),
    (0x4c00083eu32 as c_int, Builtin::Uint64T),
    (0x4c00013fu32 as c_int, Builtin::CBool),
    (0x4c000840u32 as c_int, Builtin::CComplex),
    (0x4c001041u32 as c_int, Builtin::CDoubleComplex),
    (0x4c002042u32 as c_int, Builtin::CLongDoubleComplex),
    (0x4c000246u32 as c_int, Builtin::CFloat16),
    (0x4c000843u32 as c_int, Builtin::Aint),
    (0x4c000844u32 as c_int, Builtin::Offset),
    (0x4c000845u32 as c_int, Builtin::Count),
    (0x4c000133u32 as c_int, Builtin::CxxBool),
    (0x4c000834u32 as c_int, Builtin::CxxFloatComplex),
    (0x4c001035u32 as c_int, Builtin::CxxDoubleComplex),
    (0x4c002036u32 as c_int, Builtin::CxxLongDoubleComplex),
];

/// Builtin position by (top bit, low byte) of the handle; `NONE` where no builtin is.
const NONE: u8 = u8::MAX;
static INDEX: [[u8; 256]; 2] = {
    let mut index = [[NONE; 256]; 2];
    let mut i = 0;
    while i < MPICH.len() {
        let h = MPICH[i].0 as u32;
        index[(h >> 31) as usize][(h & 0xff) as usize] = i as u8;
        i += 1;
    }
    index
};

/// Bytes per element of `dt` when it is a predefined datatype of MPICH's builtin kind
/// (handle 0x4c00ssii): every such type is contiguous from offset 0 and its size is the
/// handle's bits 8..16 (`ss`), so the small sends' straight line needs no datatype object (issue 13; the
/// unit test `builtin_kind_types_are_runs_of_their_size` below holds the model to it). None for
/// anything else, the pair types (0x8c0000ii, kind direct: some have holes) included.
#[inline(always)]
pub fn run_size(dt: c_int) -> Option<usize> {
    let h = dt as u32;
    if h >> 30 != 1 {
        return None;
    }
    // A real builtin, not just its kind bits.
    builtin_of(dt)?;
    Some(((h >> 8) & 0xff) as usize)
}

/// The builtin an MPICH handle names, or None for any other value.
#[inline]
pub fn builtin_of(handle: c_int) -> Option<Builtin> {
    let h = handle as u32;
    if h & 0x3c00_0000 != 0x0c00_0000 {
        return None;
    }
    let (mpich, id) = *MPICH.get(INDEX[(h >> 31) as usize][(h & 0xff) as usize] as usize)?;
    (mpich == handle).then_some(id)
}

/// MPICH's handle of builtin `id` (what MPI_Type_get_contents and the datarep callbacks
/// hand back to C).
#[inline]
pub const fn handle_of(id: Builtin) -> c_int {
    MPICH[id as usize].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datatype::{builtin, BUILTINS};

    #[test]
    fn table_follows_the_model_order() {
        for (i, &(h, id)) in MPICH.iter().enumerate() {
            assert_eq!(id as usize, i);
            assert_eq!(BUILTINS[i].id, id);
            assert_eq!(builtin_of(h), Some(id));
            assert_eq!(handle_of(id), h);
        }
        assert_eq!(MPICH.len(), Builtin::ALL.len());
    }

    #[test]
    fn sizes_match_handle_bits() {
        for &(h, id) in &MPICH {
            let h = h as u32;
            if h >> 30 == 1 {
                assert_eq!(((h >> 8) & 0xff) as u64, builtin(id).size(), "{id:?}");
            }
        }
        assert_eq!(builtin_of(0x4c00080b), Some(Builtin::Double));
        assert_eq!(builtin_of(0x4c00080a), None);
        assert_eq!(builtin_of(0x0c000000), None);
        assert_eq!(builtin_of(0x8c000005u32 as c_int), None);
        assert_eq!(builtin_of(0x4c000816), Some(Builtin::TwoInt));
    }

    /// `run_size`, the small sends' reading of a datatype handle, agrees with the
    /// datatype model: every builtin-kind type is one run of its size from offset 0; the
    /// pair types and anything not a builtin are left to the general path.
    #[test]
    fn builtin_kind_types_are_runs_of_their_size() {
        let mut covered = 0;
        for &id in Builtin::ALL.iter() {
            let h = handle_of(id);
            let d = builtin(id);
            match run_size(h) {
                Some(size) => {
                    covered += 1;
                    assert_eq!(size as u64, d.size(), "{id:?}");
                    for count in [1, 2, 7, 2048] {
                        assert_eq!(d.contiguous_run(count), Some(0), "{id:?} x {count}");
                    }
                }
                None => assert_eq!((h as u32) >> 30, 2, "{id:?} left out"),
            }
        }
        // All but the five pair types of MPI_MINLOC/MPI_MAXLOC (MPI_2INT is builtin kind).
        assert_eq!(covered, Builtin::ALL.len() - 5);
        for bad in [
            0x4c00080a,
            0x0c000000,
            0x4c000000,
            -1,
            0,
            0x8c000001u32 as c_int,
        ] {
            assert_eq!(run_size(bad), None, "{bad:#x}");
        }
    }
}
