//! The predefined datatypes: the model's id for each, its name, size and layout.

use super::external32::Ext;
use super::layout::{Elem, Node};
use super::{Basic, Contents, Datatype, Shape};

/// One predefined datatype: its id, standard name, and what it holds.
pub struct BuiltinDef {
    pub id: Builtin,
    pub name: &'static str,
    pub basic: Basic,
    /// Byte size of the data.
    pub size: u64,
    /// For the pair types (value, int): offset of the int and the padded extent.
    pub pair: Option<(u64, u64)>,
}

macro_rules! b {
    ($id:expr, $n:expr, $basic:expr, $size:expr) => {
        BuiltinDef {
            id: $id,
            name: $n,
            basic: $basic,
            size: $size,
            pair: None,
        }
    };
    ($id:expr, $n:expr, $basic:expr, $size:expr, $ioff:expr, $ext:expr) => {
        BuiltinDef {
            id: $id,
            name: $n,
            basic: $basic,
            size: $size,
            pair: Some(($ioff, $ext)),
        }
    };
}

use Basic::*;

/// The predefined datatypes, named by the model's own ids. Which C handle names which
/// builtin is the C surface's business (`abi::datatype::builtins` maps MPICH's handles, and
/// through them the standard ABI's); below abi a builtin is only ever this id. The order
/// is that of [`BUILTINS`], which the id indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Builtin {
    /// MPI_CHAR
    Char,
    /// MPI_SIGNED_CHAR
    SignedChar,
    /// MPI_UNSIGNED_CHAR
    UnsignedChar,
    /// MPI_BYTE
    Byte,
    /// MPI_WCHAR
    WChar,
    /// MPI_SHORT
    Short,
    /// MPI_UNSIGNED_SHORT
    UnsignedShort,
    /// MPI_INT
    Int,
    /// MPI_UNSIGNED
    Unsigned,
    /// MPI_LONG
    Long,
    /// MPI_UNSIGNED_LONG
    UnsignedLong,
    /// MPI_FLOAT
    Float,
    /// MPI_DOUBLE
    Double,
    /// MPI_LONG_DOUBLE
    LongDouble,
    /// MPI_LONG_LONG_INT
    LongLongInt,
    /// MPI_UNSIGNED_LONG_LONG
    UnsignedLongLong,
    /// MPI_PACKED
    Packed,
    /// MPI_LB
    Lb,
    /// MPI_UB
    Ub,
    /// MPI_FLOAT_INT
    FloatInt,
    /// MPI_DOUBLE_INT
    DoubleInt,
    /// MPI_LONG_INT
    LongInt,
    /// MPI_SHORT_INT
    ShortInt,
    /// MPI_2INT
    TwoInt,
    /// MPI_LONG_DOUBLE_INT
    LongDoubleInt,
    /// MPI_COMPLEX
    Complex,
    /// MPI_DOUBLE_COMPLEX
    DoubleComplex,
    /// MPI_LOGICAL
    Logical,
    /// MPI_REAL
    Real,
    /// MPI_DOUBLE_PRECISION
    DoublePrecision,
    /// MPI_INTEGER
    Integer,
    /// MPI_2INTEGER
    TwoInteger,
    /// MPI_2REAL
    TwoReal,
    /// MPI_2DOUBLE_PRECISION
    TwoDoublePrecision,
    /// MPI_CHARACTER
    Character,
    /// MPI_REAL4
    Real4,
    /// MPI_REAL8
    Real8,
    /// MPI_REAL16
    Real16,
    /// MPI_COMPLEX8
    Complex8,
    /// MPI_COMPLEX16
    Complex16,
    /// MPI_COMPLEX32
    Complex32,
    /// MPI_INTEGER1
    Integer1,
    /// MPI_INTEGER2
    Integer2,
    /// MPI_INTEGER4
    Integer4,
    /// MPI_INTEGER8
    Integer8,
    /// MPI_INT8_T
    Int8T,
    /// MPI_INT16_T
    Int16T,
    /// MPI_INT32_T
    Int32T,
    /// MPI_INT64_T
    Int64T,
    /// MPI_UINT8_T
    Uint8T,
    /// MPI_UINT16_T
    Uint16T,
    /// MPI_UINT32_T
    Uint32T,
    /// MPI_UINT64_T
    Uint64T,
    /// MPI_C_BOOL
    CBool,
    /// MPI_C_COMPLEX
    CComplex,
    /// MPI_C_DOUBLE_COMPLEX
    CDoubleComplex,
    /// MPI_C_LONG_DOUBLE_COMPLEX
    CLongDoubleComplex,
    /// MPIX_C_FLOAT16
    CFloat16,
    /// MPI_AINT
    Aint,
    /// MPI_OFFSET
    Offset,
    /// MPI_COUNT
    Count,
    /// MPI_CXX_BOOL
    CxxBool,
    /// MPI_CXX_FLOAT_COMPLEX
    CxxFloatComplex,
    /// MPI_CXX_DOUBLE_COMPLEX
    CxxDoubleComplex,
    /// MPI_CXX_LONG_DOUBLE_COMPLEX
    CxxLongDoubleComplex,
}

impl Builtin {
    /// Every builtin, in id order.
    pub const ALL: [Builtin; 65] = [
        Builtin::Char,
        Builtin::SignedChar,
        Builtin::UnsignedChar,
        Builtin::Byte,
        Builtin::WChar,
        Builtin::Short,
        Builtin::UnsignedShort,
        Builtin::Int,
        Builtin::Unsigned,
        Builtin::Long,
        Builtin::UnsignedLong,
        Builtin::Float,
        Builtin::Double,
        Builtin::LongDouble,
        Builtin::LongLongInt,
        Builtin::UnsignedLongLong,
        Builtin::Packed,
        Builtin::Lb,
        Builtin::Ub,
        Builtin::FloatInt,
        Builtin::DoubleInt,
        Builtin::LongInt,
        Builtin::ShortInt,
        Builtin::TwoInt,
        Builtin::LongDoubleInt,
        Builtin::Complex,
        Builtin::DoubleComplex,
        Builtin::Logical,
        Builtin::Real,
        Builtin::DoublePrecision,
        Builtin::Integer,
        Builtin::TwoInteger,
        Builtin::TwoReal,
        Builtin::TwoDoublePrecision,
        Builtin::Character,
        Builtin::Real4,
        Builtin::Real8,
        Builtin::Real16,
        Builtin::Complex8,
        Builtin::Complex16,
        Builtin::Complex32,
        Builtin::Integer1,
        Builtin::Integer2,
        Builtin::Integer4,
        Builtin::Integer8,
        Builtin::Int8T,
        Builtin::Int16T,
        Builtin::Int32T,
        Builtin::Int64T,
        Builtin::Uint8T,
        Builtin::Uint16T,
        Builtin::Uint32T,
        Builtin::Uint64T,
        Builtin::CBool,
        Builtin::CComplex,
        Builtin::CDoubleComplex,
        Builtin::CLongDoubleComplex,
        Builtin::CFloat16,
        Builtin::Aint,
        Builtin::Offset,
        Builtin::Count,
        Builtin::CxxBool,
        Builtin::CxxFloatComplex,
        Builtin::CxxDoubleComplex,
        Builtin::CxxLongDoubleComplex,
    ];
}

/// Every predefined datatype (x86_64 sizes), in [`Builtin`] order.
pub static BUILTINS: &[BuiltinDef] = &[
    b!(Builtin::Char, "MPI_CHAR", Char, 1),
    b!(Builtin::SignedChar, "MPI_SIGNED_CHAR", I8, 1),
    b!(Builtin::UnsignedChar, "MPI_UNSIGNED_CHAR", U8, 1),
    b!(Builtin::Byte, "MPI_BYTE", Byte, 1),
    b!(Builtin::WChar, "MPI_WCHAR", WChar, 4),
    b!(Builtin::Short, "MPI_SHORT", I16, 2),
    b!(Builtin::UnsignedShort, "MPI_UNSIGNED_SHORT", U16, 2),
    b!(Builtin::Int, "MPI_INT", I32, 4),
    b!(Builtin::Unsigned, "MPI_UNSIGNED", U32, 4),
    b!(Builtin::Long, "MPI_LONG", I64, 8),
    b!(Builtin::UnsignedLong, "MPI_UNSIGNED_LONG", U64, 8),
    b!(Builtin::Float, "MPI_FLOAT", F32, 4),
    b!(Builtin::Double, "MPI_DOUBLE", F64, 8),
    b!(Builtin::LongDouble, "MPI_LONG_DOUBLE", F80, 16),
    b!(Builtin::LongLongInt, "MPI_LONG_LONG_INT", I64, 8),
    b!(Builtin::UnsignedLongLong, "MPI_UNSIGNED_LONG_LONG", U64, 8),
    b!(Builtin::Packed, "MPI_PACKED", Packed, 1),
    b!(Builtin::Lb, "MPI_LB", Marker, 0),
    b!(Builtin::Ub, "MPI_UB", Marker, 0),
    b!(Builtin::FloatInt, "MPI_FLOAT_INT", PairF32I32, 8, 4, 8),
    b!(Builtin::DoubleInt, "MPI_DOUBLE_INT", PairF64I32, 12, 8, 16),
    b!(Builtin::LongInt, "MPI_LONG_INT", PairI64I32, 12, 8, 16),
    b!(Builtin::ShortInt, "MPI_SHORT_INT", PairI16I32, 6, 4, 8),
    b!(Builtin::TwoInt, "MPI_2INT", PairI32I32, 8, 4, 8),
    b!(
        Builtin::LongDoubleInt,
        "MPI_LONG_DOUBLE_INT",
        PairF80I32,
        20,
        16,
        32
    ),
    b!(Builtin::Complex, "MPI_COMPLEX", C32, 8),
    b!(Builtin::DoubleComplex, "MPI_DOUBLE_COMPLEX", C64, 16),
    b!(Builtin::Logical, "MPI_LOGICAL", Logical, 4),
    b!(Builtin::Real, "MPI_REAL", F32, 4),
    b!(Builtin::DoublePrecision, "MPI_DOUBLE_PRECISION", F64, 8),
    b!(Builtin::Integer, "MPI_INTEGER", I32, 4),
    b!(Builtin::TwoInteger, "MPI_2INTEGER", PairI32I32, 8, 4, 8),
    b!(Builtin::TwoReal, "MPI_2REAL", PairF32F32, 8, 4, 8),
    b!(
        Builtin::TwoDoublePrecision,
        "MPI_2DOUBLE_PRECISION",
        PairF64F64,
        16,
        8,
        16
    ),
    b!(Builtin::Character, "MPI_CHARACTER", Char, 1),
    b!(Builtin::Real4, "MPI_REAL4", F32, 4),
    b!(Builtin::Real8, "MPI_REAL8", F64, 8),
    b!(Builtin::Real16, "MPI_REAL16", F80, 16),
    b!(Builtin::Complex8, "MPI_COMPLEX8", C32, 8),
    b!(Builtin::Complex16, "MPI_COMPLEX16", C64, 16),
    b!(Builtin::Complex32, "MPI_COMPLEX32", C80, 32),
    b!(Builtin::Integer1, "MPI_INTEGER1", I8, 1),
    b!(Builtin::Integer2, "MPI_INTEGER2", I16, 2),
    b!(Builtin::Integer4, "MPI_INTEGER4", I32, 4),
    b!(Builtin::Integer8, "MPI_INTEGER8", I64, 8),
    b!(Builtin::Int8T, "MPI_INT8_T", I8, 1),
    b!(Builtin::Int16T, "MPI_INT16_T", I16, 2),
    b!(Builtin::Int32T, "MPI_INT32_T", I32, 4),
    b!(Builtin::Int64T, "MPI_INT64_T", I64, 8),
    b!(Builtin::Uint8T, "MPI_UINT8_T", U8, 1),
    b!(Builtin::Uint16T, "MPI_UINT16_T", U16, 2),
    b!(Builtin::Uint32T, "MPI_UINT32_T", U32, 4),
    b!(Builtin::Uint64T, "MPI_UINT64_T", U64, 8),
    b!(Builtin::CBool, "MPI_C_BOOL", Bool, 1),
    b!(Builtin::CComplex, "MPI_C_COMPLEX", C32, 8),
    b!(Builtin::CDoubleComplex, "MPI_C_DOUBLE_COMPLEX", C64, 16),
    b!(
        Builtin::CLongDoubleComplex,
        "MPI_C_LONG_DOUBLE_COMPLEX",
        C80,
        32
    ),
    b!(Builtin::CFloat16, "MPIX_C_FLOAT16", F16, 2),
    b!(Builtin::Aint, "MPI_AINT", I64, 8),
    b!(Builtin::Offset, "MPI_OFFSET", I64, 8),
    b!(Builtin::Count, "MPI_COUNT", I64, 8),
    b!(Builtin::CxxBool, "MPI_CXX_BOOL", Bool, 1),
    b!(Builtin::CxxFloatComplex, "MPI_CXX_FLOAT_COMPLEX", C32, 8),
    b!(Builtin::CxxDoubleComplex, "MPI_CXX_DOUBLE_COMPLEX", C64, 16),
    b!(
        Builtin::CxxLongDoubleComplex,
        "MPI_CXX_LONG_DOUBLE_COMPLEX",
        C80,
        32
    ),
];

/// How one basic element of `basic` converts to external32. MPI_LONG, MPI_UNSIGNED_LONG
/// and MPI_WCHAR are the predefined types whose external32 size differs from x86_64's.
fn ext_of(basic: Basic, name: &str) -> Ext {
    let int = |n: u8, signed: bool| Ext::Int {
        native: n,
        ext: n,
        signed,
    };
    match (basic, name) {
        (_, "MPI_LONG") => Ext::Int {
            native: 8,
            ext: 4,
            signed: true,
        },
        (_, "MPI_UNSIGNED_LONG") => Ext::Int {
            native: 8,
            ext: 4,
            signed: false,
        },
        (_, "MPI_WCHAR") => Ext::Int {
            native: 4,
            ext: 2,
            signed: false,
        },
        (Char | Byte | Packed | Marker | Bool, _) => Ext::Raw,
        (Logical, _) => int(4, true),
        (I8, _) => int(1, true),
        (I16, _) => int(2, true),
        (I32, _) => int(4, true),
        (I64, _) => int(8, true),
        (U8, _) => int(1, false),
        (U16, _) => int(2, false),
        (U32, _) => int(4, false),
        (U64, _) => int(8, false),
        (F16, _) => Ext::Float { n: 2 },
        (F32, _) => Ext::Float { n: 4 },
        (F64, _) => Ext::Float { n: 8 },
        (F80, _) => Ext::LongDouble,
        (C32, _) => Ext::Complex { half: 4 },
        (C64, _) => Ext::Complex { half: 8 },
        (C80, _) => Ext::LongDoubleComplex,
        // Pairs are built from their components (see `make`).
        _ => Ext::Raw,
    }
}

/// The (value, int) components of a pair type: the value's basic kind, its size and
/// external32 form.
fn pair_value(basic: Basic) -> (Basic, u32, Ext) {
    match basic {
        PairF32I32 | PairF32F32 => (F32, 4, Ext::Float { n: 4 }),
        PairF64I32 | PairF64F64 => (F64, 8, Ext::Float { n: 8 }),
        PairI64I32 => (
            I64,
            8,
            Ext::Int {
                native: 8,
                ext: 4,
                signed: true,
            },
        ),
        PairI16I32 => (I16, 2, ext_of(I16, "")),
        PairF80I32 => (F80, 16, Ext::LongDouble),
        _ => (I32, 4, ext_of(I32, "")),
    }
}

/// Builds the `Datatype` object for one predefined type.
pub fn make(def: &BuiltinDef) -> Datatype {
    let (layout, elements, align) = match def.pair {
        None => {
            let elem = Elem {
                size: def.size as u32,
                ext: ext_of(def.basic, def.name),
            };
            let align = match def.basic {
                C32 | C64 | C80 => def.size / 2,
                _ => def.size.max(1),
            };
            let n = if def.basic == Marker { 0 } else { 1 };
            (Node::block(0, def.size, elem), n, align)
        }
        Some((second_off, _)) => {
            let (_, vsize, vext) = pair_value(def.basic);
            let second = match def.basic {
                PairF32F32 | PairF64F64 => Elem {
                    size: vsize,
                    ext: vext,
                },
                _ => Elem {
                    size: 4,
                    ext: ext_of(I32, ""),
                },
            };
            let value = Elem {
                size: vsize,
                ext: vext,
            };
            let layout = Node::seq(vec![
                Node::block(0, vsize as u64, value),
                Node::block(second_off as i64, second.size as u64, second),
            ]);
            (layout, 2, (vsize as u64).max(4))
        }
    };
    let (extent, size) = match def.pair {
        None => (def.size, def.size),
        Some((_, ext)) => (ext, def.size),
    };
    let shape = Shape {
        size,
        lb: 0,
        ub: extent as i64,
        true_lb: 0,
        true_ub: layout_end(&layout),
        basic: Some(def.basic),
        elements,
        align,
        layout,
    };
    let dt = Datatype::from_shape(shape, Contents::named());
    *dt.name.lock() = def.name.to_string();
    dt.commit();
    dt
}

fn layout_end(n: &Node) -> i64 {
    let mut end = 0;
    n.walk(0, 0, n.size, 0, &mut |o, l, _, _| {
        end = end.max(o + l as i64)
    });
    end
}
