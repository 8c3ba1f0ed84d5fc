//! The "external32" data representation: big-endian, IEEE formats, and the standard's
//! fixed sizes (MPI 4.0 table 13.2: MPI_LONG and MPI_UNSIGNED_LONG are 4 bytes, MPI_WCHAR
//! 2, MPI_LONG_DOUBLE a 16-byte IEEE binary128, ...).
//!
//! Conversion runs element by element over the typed walk of the native layout, so it
//! works for any derived type.

use super::Datatype;
use crate::error::{class, MpiError};
use crate::transport::mem::UserPtr;

/// How one basic element converts between native (x86_64) and external32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ext {
    /// Bytes copied unchanged (char, byte, packed, bool).
    Raw,
    /// A two's-complement integer of `native` bytes stored in `ext` bytes.
    Int { native: u8, ext: u8, signed: bool },
    /// An IEEE float (or one complex component) of `n` bytes: byte-swapped.
    Float { n: u8 },
    /// A complex of two IEEE floats of `half` bytes each.
    Complex { half: u8 },
    /// x87 80-bit extended (in 16 bytes) <-> IEEE binary128.
    LongDouble,
    /// Two LongDouble.
    LongDoubleComplex,
}

impl Ext {
    /// External32 size of one element whose native size is `native`.
    pub fn ext_size(self, native: u32) -> u64 {
        match self {
            Ext::Int { ext, .. } => ext as u64,
            _ => native as u64,
        }
    }

    /// Converts one native element `src` into external32 `dst`.
    fn encode(self, src: &[u8], dst: &mut [u8]) {
        match self {
            Ext::Raw => dst.copy_from_slice(src),
            Ext::Int { ext, .. } => {
                // Little-endian native: the low `ext` bytes, reversed.
                for (k, d) in dst.iter_mut().enumerate() {
                    *d = src[ext as usize - 1 - k];
                }
            }
            Ext::Float { .. } => swap_into(src, dst),
            Ext::Complex { half } => {
                let h = half as usize;
                swap_into(&src[..h], &mut dst[..h]);
                swap_into(&src[h..], &mut dst[h..]);
            }
            Ext::LongDouble => x87_to_quad(src, dst),
            Ext::LongDoubleComplex => {
                x87_to_quad(&src[..16], &mut dst[..16]);
                x87_to_quad(&src[16..], &mut dst[16..]);
            }
        }
    }

    /// Converts one external32 element `src` into native `dst`.
    fn decode(self, src: &[u8], dst: &mut [u8]) {
        match self {
            Ext::Raw => dst.copy_from_slice(src),
            Ext::Int {
                native,
                ext,
                signed,
            } => {
                let (n, e) = (native as usize, ext as usize);
                for k in 0..e {
                    dst[k] = src[e - 1 - k];
                }
                let fill = if signed && src[0] & 0x80 != 0 {
                    0xff
                } else {
                    0
                };
                for d in dst.iter_mut().take(n).skip(e) {
                    *d = fill;
                }
            }
            Ext::Float { .. } => swap_into(src, dst),
            Ext::Complex { half } => {
                let h = half as usize;
                swap_into(&src[..h], &mut dst[..h]);
                swap_into(&src[h..], &mut dst[h..]);
            }
            Ext::LongDouble => quad_to_x87(src, dst),
            Ext::LongDoubleComplex => {
                quad_to_x87(&src[..16], &mut dst[..16]);
                quad_to_x87(&src[16..], &mut dst[16..]);
            }
        }
    }
}

fn swap_into(src: &[u8], dst: &mut [u8]) {
    for (d, s) in dst.iter_mut().zip(src.iter().rev()) {
        *d = *s;
    }
}

/// x87 extended: 64-bit significand with an explicit integer bit, then sign and 15-bit
/// exponent. binary128 has the same exponent bias and an implicit integer bit, so the
/// fraction is the significand without that bit, shifted to the top of 112 bits; the
/// mapping holds for normals, denormals, infinities and NaNs alike.
fn x87_to_quad(src: &[u8], dst: &mut [u8]) {
    let mut m = [0u8; 8];
    m.copy_from_slice(&src[..8]);
    let mant = u64::from_le_bytes(m) & !(1u64 << 63);
    let se = u16::from_le_bytes([src[8], src[9]]) as u128;
    let q = (se << 112) | ((mant as u128) << 49);
    dst[..16].copy_from_slice(&q.to_be_bytes());
}

/// The inverse of `x87_to_quad`; the 49 low fraction bits x87 cannot hold are truncated.
fn quad_to_x87(src: &[u8], dst: &mut [u8]) {
    let mut b = [0u8; 16];
    b.copy_from_slice(&src[..16]);
    let q = u128::from_be_bytes(b);
    let se = (q >> 112) as u16;
    let mut mant = ((q >> 49) as u64) & !(1u64 << 63);
    if se & 0x7fff != 0 {
        mant |= 1u64 << 63;
    }
    dst[..8].copy_from_slice(&mant.to_le_bytes());
    dst[8..10].copy_from_slice(&se.to_le_bytes());
    for d in dst[10..16].iter_mut() {
        *d = 0;
    }
}

/// The only data representation these functions accept.
pub fn check_datarep(rep: &str) -> Result<(), MpiError> {
    if rep == "external32" {
        Ok(())
    } else {
        Err(MpiError::arg(
            class::ERR_ARG,
            "datarep",
            format!("unsupported data representation \"{rep}\" (only \"external32\")"),
        ))
    }
}

impl Datatype {
    /// Bytes `count` elements take in external32.
    pub fn external32_size(&self, count: u64) -> u64 {
        let mut one = 0u64;
        self.walk_typed(1, 0, self.size, |_, len, _, e| {
            one += len / e.size as u64 * e.ext.ext_size(e.size)
        });
        one * count
    }

    /// Converts `count` elements at `buf` into external32 at the start of `out`, which
    /// must hold `external32_size(count)` bytes. Returns the bytes written.
    ///
    pub fn pack_external32(&self, buf: UserPtr, count: u64, out: &mut [u8]) -> usize {
        let mut w = 0usize;
        self.walk_typed(count, 0, self.size * count, |off, len, _, e| {
            let n = e.size as usize;
            let x = e.ext.ext_size(e.size) as usize;
            for k in 0..(len as usize / n) {
                buf.with_slice(off + (k * n) as i64, n, |src| {
                    e.ext.encode(src, &mut out[w..w + x])
                });
                w += x;
            }
        });
        w
    }

    /// Converts external32 data at the start of `inp` into `count` elements at `buf`.
    /// `inp` must hold `external32_size(count)` bytes. Returns the bytes consumed.
    ///
    pub fn unpack_external32(&self, buf: UserPtr, count: u64, inp: &[u8]) -> usize {
        let mut r = 0usize;
        self.walk_typed(count, 0, self.size * count, |off, len, _, e| {
            let n = e.size as usize;
            let x = e.ext.ext_size(e.size) as usize;
            for k in 0..(len as usize / n) {
                buf.with_slice_mut(off + (k * n) as i64, n, |dst| {
                    e.ext.decode(&inp[r..r + x], dst)
                });
                r += x;
            }
        });
        r
    }
}

#[cfg(test)]
mod tests {
    use crate::datatype::builtin;
    use crate::datatype::Builtin::{self, Double as DOUBLE, Int as INT, Long as LONG};
    use crate::datatype::Builtin::{LongDouble as LONG_DOUBLE, WChar as WCHAR};
    use crate::transport::mem::OwnedBytes;

    /// Packs `native` (elements of `id` in this machine's format) to external32, checks the
    /// stream against `expect`, and unpacks it back over clobbered memory.
    fn roundtrip(id: Builtin, native: &[u8], expect: &[u8]) {
        let dt = builtin(id);
        let n = native.len() as u64 / dt.size();
        assert_eq!(dt.external32_size(n), expect.len() as u64);
        let mut out = vec![0u8; expect.len()];
        let src = OwnedBytes::new(native.to_vec());
        let w = dt.pack_external32(src.ptr(), n, &mut out);
        assert_eq!(w, expect.len());
        assert_eq!(out, expect);
        // Decode over clobbered memory.
        let mut back = OwnedBytes::new(vec![0x5a; native.len()]);
        let r = dt.unpack_external32(back.ptr(), n, &out);
        assert_eq!(r, expect.len());
        assert_eq!(back.to_vec().unwrap(), native);
    }

    /// The native bytes of a list of values.
    fn ne<const N: usize>(vals: &[[u8; N]]) -> Vec<u8> {
        vals.concat()
    }

    #[test]
    fn integers_are_big_endian_with_standard_sizes() {
        roundtrip(
            INT,
            &ne(&[0x01020304i32.to_ne_bytes(), (-2i32).to_ne_bytes()]),
            &[1, 2, 3, 4, 0xff, 0xff, 0xff, 0xfe],
        );
        // MPI_LONG is 4 bytes in external32; negative values sign-extend back.
        roundtrip(
            LONG,
            &ne(&[0x0a0b0c0di64.to_ne_bytes(), (-3i64).to_ne_bytes()]),
            &[0x0a, 0x0b, 0x0c, 0x0d, 0xff, 0xff, 0xff, 0xfd],
        );
        roundtrip(
            WCHAR,
            &ne(&[0x41u32.to_ne_bytes(), 0x263au32.to_ne_bytes()]),
            &[0, 0x41, 0x26, 0x3a],
        );
    }

    #[test]
    fn doubles_and_long_doubles_are_ieee_big_endian() {
        roundtrip(
            DOUBLE,
            &1.0f64.to_ne_bytes(),
            &[0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
        );
        // 1.0 as x87 extended: significand 0x8000000000000000, exponent 0x3fff.
        let mut x87 = [0u8; 16];
        x87[7] = 0x80;
        x87[8] = 0xff;
        x87[9] = 0x3f;
        let mut quad = [0u8; 16];
        quad[0] = 0x3f;
        quad[1] = 0xff;
        roundtrip(LONG_DOUBLE, &x87, &quad);
        // -2.5: significand 0xA000000000000000, exponent 0x4000, sign set.
        let mut x87 = [0u8; 16];
        x87[7] = 0xa0;
        x87[8] = 0x00;
        x87[9] = 0xc0;
        let mut quad = [0u8; 16];
        quad[0] = 0xc0;
        quad[1] = 0x00;
        quad[2] = 0x40;
        roundtrip(LONG_DOUBLE, &x87, &quad);
    }
}
