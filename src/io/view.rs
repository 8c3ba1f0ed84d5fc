//! File views (MPI 4.1 §14.3): the data a process sees is the filetype's data, tiled from
//! the displacement every `extent` bytes. A view is kept as the (offset, length) runs of
//! one tile, in file bytes, so mapping a position of the data stream to file offsets is a
//! division and a binary search.
//!
//! Positions here are bytes of the data stream in the file's representation (an etype
//! offset times the etype's file size).

use super::datarep::Rep;
use crate::datatype::TypeRef;
use crate::error::{class, MpiError};

#[derive(Clone)]
pub struct View {
    pub disp: u64,
    pub etype: TypeRef,
    pub filetype: TypeRef,
    pub rep: Rep,
    /// Size of one etype in the file.
    pub esize: u64,
    /// File bytes from one tile to the next.
    tile_extent: u64,
    /// Data bytes of one tile.
    tile_data: u64,
    /// The data runs of a tile: (offset from the tile start, length).
    runs: Vec<(u64, u64)>,
    /// Data position (within the tile) where each run starts.
    starts: Vec<u64>,
}

fn type_err(arg: &str, why: impl std::fmt::Display) -> MpiError {
    MpiError::arg(class::ERR_TYPE, arg, why)
}

impl View {
    /// The view of a newly opened file: displacement 0, etype and filetype MPI_BYTE,
    /// "native".
    pub fn default_view() -> View {
        let byte = crate::datatype::construct::predef(crate::datatype::Builtin::Byte);
        View::new(0, byte.clone(), byte, Rep::Native).expect("the default view is valid")
    }

    pub fn new(disp: u64, etype: TypeRef, filetype: TypeRef, rep: Rep) -> Result<View, MpiError> {
        let (e, f) = (etype.dt(), filetype.dt());
        if e.size() == 0 {
            return Err(type_err("etype", "etype has size 0"));
        }
        if f.size() == 0 {
            return Err(type_err("filetype", "filetype holds no data"));
        }
        if f.size() % e.size() != 0 {
            return Err(type_err(
                "filetype",
                format!(
                    "filetype size {} is not a multiple of the etype size {}",
                    f.size(),
                    e.size()
                ),
            ));
        }
        if f.extent() <= 0 {
            return Err(type_err("filetype", "filetype extent must be positive"));
        }
        let mut runs: Vec<(u64, u64)> = Vec::new();
        let mut bad = None;
        f.walk(1, 0, f.size(), |off, len, _| {
            if off < 0 {
                bad = Some("filetype displacements must be non-negative");
                return;
            }
            let off = off as u64;
            if let Some(&(po, _)) = runs.last() {
                if off < po {
                    bad = Some("filetype displacements must be monotonically non-decreasing");
                }
            }
            runs.push((off, len));
        });
        if let Some(why) = bad {
            return Err(type_err("filetype", why));
        }
        let mut tile_extent = f.extent() as u64;
        let esize = rep.file_size(e, 1)?;
        if !rep.is_native() {
            let fsize = rep.file_size(f, 1)?;
            let dense = f.is_contiguous() && f.true_lb == 0 && f.extent() as u64 == f.size();
            if dense {
                // A dense filetype is a plain stream in any representation.
                tile_extent = fsize;
                runs = vec![(0, fsize)];
            } else if fsize != f.size() || esize != e.size() {
                return Err(MpiError::arg(
                    class::ERR_UNSUPPORTED_DATAREP,
                    "datarep",
                    format!(
                        "\"{}\" changes element sizes; only contiguous filetypes can use it",
                        rep.name()
                    ),
                ));
            }
        }
        let mut starts = Vec::with_capacity(runs.len());
        let mut at = 0;
        for &(_, l) in &runs {
            starts.push(at);
            at += l;
        }
        Ok(View {
            disp,
            etype,
            filetype,
            rep,
            esize,
            tile_extent,
            tile_data: at,
            runs,
            starts,
        })
    }

    /// Calls `f(file_offset, len, data_offset)` for the file pieces holding data bytes
    /// `[pos, pos + len)`, in order, with touching pieces merged; `data_offset` counts from
    /// `pos`. `f` returns false to stop early (end of file).
    pub fn pieces(
        &self,
        pos: u64,
        len: u64,
        mut f: impl FnMut(u64, u64, u64) -> Result<bool, MpiError>,
    ) -> Result<(), MpiError> {
        if len == 0 {
            return Ok(());
        }
        let mut tile = pos / self.tile_data;
        let within = pos % self.tile_data;
        let mut idx = self.starts.partition_point(|&s| s <= within) - 1;
        let mut skip = within - self.starts[idx];
        let mut done = 0u64;
        let mut pend: Option<(u64, u64, u64)> = None;
        while done < len {
            let (off, rlen) = self.runs[idx];
            let take = (rlen - skip).min(len - done);
            let at = self.disp + tile * self.tile_extent + off + skip;
            match &mut pend {
                Some((po, pl, _)) if *po + *pl == at => *pl += take,
                _ => {
                    if let Some((po, pl, pd)) = pend.replace((at, take, done)) {
                        if !f(po, pl, pd)? {
                            return Ok(());
                        }
                    }
                }
            }
            done += take;
            skip = 0;
            idx += 1;
            if idx == self.runs.len() {
                idx = 0;
                tile += 1;
            }
        }
        if let Some((po, pl, pd)) = pend {
            f(po, pl, pd)?;
        }
        Ok(())
    }

    /// The absolute file offset of data position `pos` (MPI_File_get_byte_offset).
    pub fn byte_offset(&self, pos: u64) -> u64 {
        let mut at = self.disp;
        let _ = self.pieces(pos, 1, |o, _, _| {
            at = o;
            Ok(false)
        });
        at
    }

    /// Data bytes of the view that lie below file offset `size` (where the view's data
    /// ends in a file of that size).
    pub fn data_below(&self, size: u64) -> u64 {
        if size <= self.disp {
            return 0;
        }
        let rel = size - self.disp;
        let tiles = rel / self.tile_extent;
        let r = rel % self.tile_extent;
        let part: u64 = self
            .runs
            .iter()
            .map(|&(o, l)| r.saturating_sub(o).min(l))
            .sum();
        tiles * self.tile_data + part
    }

    /// The etype offset of the end of a file of `size` bytes (MPI_SEEK_END's origin):
    /// a partial etype at the end counts as one.
    pub fn end_offset(&self, size: u64) -> u64 {
        self.data_below(size).div_ceil(self.esize)
    }

    /// Extent of `dt` in this view's representation (MPI_File_get_type_extent).
    pub fn type_extent(&self, dt: &crate::datatype::Datatype) -> Result<i64, MpiError> {
        if self.rep.is_native() {
            return Ok(dt.extent());
        }
        let dense = dt.is_contiguous() && dt.true_lb == 0 && dt.extent() as u64 == dt.size();
        if dense {
            Ok(self.rep.file_size(dt, 1)? as i64)
        } else {
            Ok(dt.extent())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datatype::construct;
    use crate::datatype::Builtin;
    use std::sync::Arc;

    fn vector(count: i64, bl: i64, stride: i64) -> TypeRef {
        let d =
            construct::vector(count, bl, stride, &construct::predef(Builtin::Int), false).unwrap();
        d.commit();
        TypeRef::Derived(Arc::new(d))
    }

    #[test]
    fn strided_view_maps_runs_and_tiles() {
        let v = View::new(
            100,
            construct::predef(Builtin::Int),
            vector(2, 1, 3),
            Rep::Native,
        )
        .unwrap();
        let mut got = vec![];
        v.pieces(0, 16, |o, l, d| {
            got.push((o, l, d));
            Ok(true)
        })
        .unwrap();
        // extent of vector(2,1,3) of int = (1*3+1)*4 = 16: data at 0 and 12, tiles of 16.
        assert_eq!(got, vec![(100, 4, 0), (112, 8, 4), (128, 4, 12)]);
        assert_eq!(v.byte_offset(4), 112);
        assert_eq!(v.data_below(100 + 16), 8);
        assert_eq!(v.end_offset(100 + 14), 2);
    }

    #[test]
    fn contiguous_view_merges_tiles() {
        let v = View::new(
            3,
            construct::predef(Builtin::Int),
            construct::predef(Builtin::Int),
            Rep::Native,
        )
        .unwrap();
        let mut got = vec![];
        v.pieces(4, 40, |o, l, d| {
            got.push((o, l, d));
            Ok(true)
        })
        .unwrap();
        assert_eq!(got, vec![(7, 40, 0)]);
    }
}
