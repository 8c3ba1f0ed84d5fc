//! The predefined datatypes of MPICH's ABI: handle value, name, size and layout.

use super::external32::Ext;
use super::layout::{Elem, Node};
use super::{Basic, Contents, Datatype, Shape};

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
    b!(0x4c00040eu32, "MPI_WCHAR", WChar, 4),
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
    // MPI_C_COMPLEX and MPI_C_FLOAT_COMPLEX are one handle; MPICH names it MPI_C_COMPLEX.
    b!(0x4c000840u32, "MPI_C_COMPLEX", C32, 8),
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
