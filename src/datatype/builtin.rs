//! The predefined datatypes of MPICH's ABI: handle value, name, size and layout.

use super::{Basic, Datatype};

/// One predefined datatype: its MPICH handle, standard name, and what it holds.
pub struct BuiltinDef {
    pub handle: i32,
    pub name: &'static str,
    pub basic: Basic,
    /// Byte size of the data.
    pub size: u64,
    /// For the pair types (value, int): offset of the int and the padded extent.
    pub pair: Option<(u64, u64)>,
}

macro_rules! b {
    ($h:expr, $n:expr, $basic:expr, $size:expr) => {
        BuiltinDef {
            handle: $h as i32,
            name: $n,
            basic: $basic,
            size: $size,
            pair: None,
        }
    };
    ($h:expr, $n:expr, $basic:expr, $size:expr, $ioff:expr, $ext:expr) => {
        BuiltinDef {
            handle: $h as i32,
            name: $n,
            basic: $basic,
            size: $size,
            pair: Some(($ioff, $ext)),
        }
    };
}

use Basic::*;

/// Every predefined datatype handle of MPICH 4's mpi.h (x86_64 sizes).
pub static BUILTINS: &[BuiltinDef] = &[
    b!(0x4c000101u32, "MPI_CHAR", Char, 1),
    b!(0x4c000118u32, "MPI_SIGNED_CHAR", I8, 1),
    b!(0x4c000102u32, "MPI_UNSIGNED_CHAR", U8, 1),
    b!(0x4c00010du32, "MPI_BYTE", Byte, 1),
    b!(0x4c00040eu32, "MPI_WCHAR", I32, 4),
    b!(0x4c000203u32, "MPI_SHORT", I16, 2),
    b!(0x4c000204u32, "MPI_UNSIGNED_SHORT", U16, 2),
    b!(0x4c000405u32, "MPI_INT", I32, 4),
    b!(0x4c000406u32, "MPI_UNSIGNED", U32, 4),
    b!(0x4c000807u32, "MPI_LONG", I64, 8),
    b!(0x4c000808u32, "MPI_UNSIGNED_LONG", U64, 8),
    b!(0x4c00040au32, "MPI_FLOAT", F32, 4),
    b!(0x4c00080bu32, "MPI_DOUBLE", F64, 8),
    b!(0x4c00100cu32, "MPI_LONG_DOUBLE", F80, 16),
    b!(0x4c000809u32, "MPI_LONG_LONG_INT", I64, 8),
    b!(0x4c000819u32, "MPI_UNSIGNED_LONG_LONG", U64, 8),
    b!(0x4c00010fu32, "MPI_PACKED", Packed, 1),
    b!(0x4c000010u32, "MPI_LB", Marker, 0),
    b!(0x4c000011u32, "MPI_UB", Marker, 0),
    b!(0x8c000000u32, "MPI_FLOAT_INT", PairF32I32, 8, 4, 8),
    b!(0x8c000001u32, "MPI_DOUBLE_INT", PairF64I32, 12, 8, 16),
    b!(0x8c000002u32, "MPI_LONG_INT", PairI64I32, 12, 8, 16),
    b!(0x8c000003u32, "MPI_SHORT_INT", PairI16I32, 6, 4, 8),
    b!(0x4c000816u32, "MPI_2INT", PairI32I32, 8, 4, 8),
    b!(0x8c000004u32, "MPI_LONG_DOUBLE_INT", PairF80I32, 20, 16, 32),
    b!(0x4c00081eu32, "MPI_COMPLEX", C32, 8),
    b!(0x4c001022u32, "MPI_DOUBLE_COMPLEX", C64, 16),
    b!(0x4c00041du32, "MPI_LOGICAL", Logical, 4),
    b!(0x4c00041cu32, "MPI_REAL", F32, 4),
    b!(0x4c00081fu32, "MPI_DOUBLE_PRECISION", F64, 8),
    b!(0x4c00041bu32, "MPI_INTEGER", I32, 4),
    b!(0x4c000820u32, "MPI_2INTEGER", PairI32I32, 8, 4, 8),
    b!(0x4c000821u32, "MPI_2REAL", PairF32F32, 8, 4, 8),
    b!(
        0x4c001023u32,
        "MPI_2DOUBLE_PRECISION",
        PairF64F64,
        16,
        8,
        16
    ),
    b!(0x4c00011au32, "MPI_CHARACTER", Char, 1),
    b!(0x4c000427u32, "MPI_REAL4", F32, 4),
    b!(0x4c000829u32, "MPI_REAL8", F64, 8),
    b!(0x4c00102bu32, "MPI_REAL16", F80, 16),
    b!(0x4c000828u32, "MPI_COMPLEX8", C32, 8),
    b!(0x4c00102au32, "MPI_COMPLEX16", C64, 16),
    b!(0x4c00202cu32, "MPI_COMPLEX32", C80, 32),
    b!(0x4c00012du32, "MPI_INTEGER1", I8, 1),
    b!(0x4c00022fu32, "MPI_INTEGER2", I16, 2),
    b!(0x4c000430u32, "MPI_INTEGER4", I32, 4),
    b!(0x4c000831u32, "MPI_INTEGER8", I64, 8),
    b!(0x4c000137u32, "MPI_INT8_T", I8, 1),
    b!(0x4c000238u32, "MPI_INT16_T", I16, 2),
    b!(0x4c000439u32, "MPI_INT32_T", I32, 4),
    b!(0x4c00083au32, "MPI_INT64_T", I64, 8),
    b!(0x4c00013bu32, "MPI_UINT8_T", U8, 1),
    b!(0x4c00023cu32, "MPI_UINT16_T", U16, 2),
    b!(0x4c00043du32, "MPI_UINT32_T", U32, 4),
    b!(0x4c00083eu32, "MPI_UINT64_T", U64, 8),
    b!(0x4c00013fu32, "MPI_C_BOOL", Bool, 1),
    b!(0x4c000840u32, "MPI_C_FLOAT_COMPLEX", C32, 8),
    b!(0x4c001041u32, "MPI_C_DOUBLE_COMPLEX", C64, 16),
    b!(0x4c002042u32, "MPI_C_LONG_DOUBLE_COMPLEX", C80, 32),
    b!(0x4c000246u32, "MPIX_C_FLOAT16", F16, 2),
    b!(0x4c000843u32, "MPI_AINT", I64, 8),
    b!(0x4c000844u32, "MPI_OFFSET", I64, 8),
    b!(0x4c000845u32, "MPI_COUNT", I64, 8),
    b!(0x4c000133u32, "MPI_CXX_BOOL", Bool, 1),
    b!(0x4c000834u32, "MPI_CXX_FLOAT_COMPLEX", C32, 8),
    b!(0x4c001035u32, "MPI_CXX_DOUBLE_COMPLEX", C64, 16),
    b!(0x4c002036u32, "MPI_CXX_LONG_DOUBLE_COMPLEX", C80, 32),
];

/// Builds the `Datatype` object for one predefined type.
pub fn make(def: &BuiltinDef) -> Datatype {
    match def.pair {
        None => Datatype::basic(def.basic, def.size, def.name),
        Some((int_off, extent)) => {
            let first = def.size - 4;
            Datatype::pair(def.basic, first, int_off, extent, def.name)
        }
    }
}
