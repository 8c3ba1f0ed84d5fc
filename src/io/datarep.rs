//! Data representations (MPI 4.1 §14.5): how the typed data of a user buffer becomes the
//! bytes of the file. "native" and "internal" store the memory bytes; "external32" the
//! portable big-endian form of `datatype::external32`; a user representation
//! (MPI_Register_datarep) calls the user's conversion and extent functions, which the C
//! layer wraps in a [`UserRep`].

use crate::datatype::{Builtin, Datatype, TypeRef};
use crate::error::{class, MpiError};
use crate::p2p::Data;
use std::sync::Arc;

/// A data representation registered by the user (implemented by the C layer, which holds
/// the function pointers). The conversion functions get the datatype as the caller named
/// it: `handle` is the C layer's own value, carried through this layer untouched.
pub trait UserRep: Send + Sync {
    fn name(&self) -> &str;
    /// File extent of one element of the predefined datatype `basic`.
    fn extent(&self, basic: Builtin) -> Result<u64, MpiError>;
    /// Writes `count` items of datatype `handle` from `data` into `file` (its file size).
    fn write(&self, data: &Data, handle: i32, count: u64, file: &mut [u8]) -> Result<(), MpiError>;
    /// Reads `count` items of datatype `handle` from `file` into `data`.
    fn read(&self, data: &Data, handle: i32, count: u64, file: &[u8]) -> Result<(), MpiError>;
}

#[derive(Clone)]
pub enum Rep {
    Native,
    Internal,
    External32,
    User(Arc<dyn UserRep>),
}

impl Rep {
    /// The representation called `name`; `user` finds registered ones.
    pub fn by_name(
        name: &str,
        user: impl Fn(&str) -> Option<Arc<dyn UserRep>>,
    ) -> Result<Rep, MpiError> {
        match name {
            "native" => Ok(Rep::Native),
            "internal" => Ok(Rep::Internal),
            "external32" => Ok(Rep::External32),
            _ => user(name).map(Rep::User).ok_or_else(|| {
                MpiError::arg(
                    class::ERR_UNSUPPORTED_DATAREP,
                    "datarep",
                    format!("unknown data representation \"{name}\""),
                )
            }),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Rep::Native => "native".into(),
            Rep::Internal => "internal".into(),
            Rep::External32 => "external32".into(),
            Rep::User(u) => u.name().to_string(),
        }
    }

    /// True when file bytes are memory bytes.
    pub fn is_native(&self) -> bool {
        matches!(self, Rep::Native | Rep::Internal)
    }

    /// Bytes `count` elements of `dt` take in the file.
    pub fn file_size(&self, dt: &Datatype, count: u64) -> Result<u64, MpiError> {
        match self {
            Rep::Native | Rep::Internal => Ok(dt.size() * count),
            Rep::External32 => Ok(dt.external32_size(count)),
            Rep::User(u) => {
                if dt.size() == 0 {
                    return Ok(0);
                }
                let (b, bsize) = basic_of(dt).ok_or_else(|| {
                    MpiError::arg(
                        class::ERR_UNSUPPORTED_DATAREP,
                        "datatype",
                        format!(
                            "data representation \"{}\" needs datatypes built from one predefined type",
                            u.name()
                        ),
                    )
                })?;
                Ok(dt.size() / bsize * u.extent(b)? * count)
            }
        }
    }

    /// The file bytes of all of `data` (`h`: the caller's handle of its datatype, for a
    /// user representation's conversion function).
    pub fn encode(&self, data: &Data, h: i32) -> Result<Vec<u8>, MpiError> {
        let n = self.file_size(&data.dt, data.count)? as usize;
        let mut out = vec![0u8; n];
        match self {
            Rep::Native | Rep::Internal => {
                data.pack(0, &mut out);
            }
            Rep::External32 => {
                data.dt.pack_external32(data.ptr, data.count, &mut out);
            }
            Rep::User(u) => u.write(data, h, data.count, &mut out)?,
        }
        Ok(out)
    }

    /// Converts file bytes `inp` (the first `inp.len()` bytes of the file form of `data`,
    /// fewer than all at the end of the file) into `data`. Returns the memory bytes filled:
    /// everything read for native data; whole elements for converted representations.
    pub fn decode(&self, data: &Data, h: i32, inp: &[u8]) -> Result<u64, MpiError> {
        match self {
            Rep::Native | Rep::Internal => Ok(data.unpack(0, inp) as u64),
            Rep::External32 | Rep::User(_) => {
                let one = self.file_size(&data.dt, 1)?;
                if one == 0 {
                    return Ok(0);
                }
                let k = (inp.len() as u64 / one).min(data.count);
                let used = &inp[..(k * one) as usize];
                match self {
                    Rep::User(u) => u.read(data, h, k, used)?,
                    _ => {
                        data.dt.unpack_external32(data.ptr, k, used);
                    }
                }
                Ok(k * data.dt.size())
            }
        }
    }
}

/// The one predefined type `dt` is built from, with its size (None if several or none).
fn basic_of(dt: &Datatype) -> Option<(Builtin, u64)> {
    if let Some(id) = dt.builtin_id() {
        return Some((id, dt.size()));
    }
    let mut found: Option<(Builtin, u64)> = None;
    fn visit(dt: &Datatype, found: &mut Option<(Builtin, u64)>, ok: &mut bool) {
        for t in &dt.contents.types {
            match t {
                TypeRef::Predefined(h, d) => {
                    if d.size() == 0 {
                        continue;
                    }
                    match found {
                        Some((f, _)) if *f != *h => *ok = false,
                        _ => *found = Some((*h, d.size())),
                    }
                }
                TypeRef::Derived(d) => visit(d, found, ok),
            }
        }
    }
    let mut ok = true;
    visit(dt, &mut found, &mut ok);
    if ok {
        found
    } else {
        None
    }
}
