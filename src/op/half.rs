//! IEEE binary16 (MPIX_C_FLOAT16) through f32: every f16 is exact in f32, and an f32 sum
//! or product of two f16 values rounded once more to f16 is the correctly rounded f16
//! result (f32 has more than 2·11+2 bits, so the double rounding is innocuous).

use super::kernels::{Arith, Scalar};

/// An f16 kept as its bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct H16(pub u16);

/// Exact widening of binary16 bits to f32.
pub(super) fn to_f32(h: u16) -> f32 {
    let sign = ((h as u32) & 0x8000) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match exp {
        0 => {
            // Zero or subnormal: man · 2^-24, exact in f32.
            let mag = man as f32 * (1.0 / 16_777_216.0);
            return f32::from_bits(sign | mag.to_bits());
        }
        0x1f => sign | 0x7f80_0000 | (man << 13), // inf, NaN (payload kept)
        _ => sign | ((exp + 112) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

/// Rounds `m >> shift` to nearest, ties to even (`shift` in 1..=31).
fn round_shift(m: u32, shift: u32) -> u32 {
    let q = m >> shift;
    let rem = m & ((1 << shift) - 1);
    let half = 1 << (shift - 1);
    if rem > half || (rem == half && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

/// f32 to binary16 bits, rounded to nearest-even; overflow gives infinity.
pub(super) fn from_f32(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x7f_ffff;
    if exp == 0xff {
        if man == 0 {
            return sign | 0x7c00;
        }
        // NaN stays NaN: keep the top payload bits and force the quiet bit.
        return sign | 0x7e00 | (man >> 13) as u16;
    }
    let e = exp - 127 + 15; // biased f16 exponent
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        // Subnormal (or underflow to zero); a carry into 0x400 is the smallest normal.
        if e < -10 {
            return sign;
        }
        let m = man | 0x80_0000;
        return sign | round_shift(m, (14 - e) as u32) as u16;
    }
    // Normal; a carry out of the mantissa bumps the exponent (up to infinity), correctly.
    sign | round_shift(((e as u32) << 23) | man, 13) as u16
}

impl Scalar for H16 {
    const SIZE: usize = 2;
    #[inline(always)]
    fn load(b: &[u8]) -> Self {
        H16(u16::load(b))
    }
    #[inline(always)]
    fn store(self, b: &mut [u8]) {
        self.0.store(b)
    }
}

impl Arith for H16 {
    const ZERO: Self = H16(0);
    const ONE: Self = H16(0x3c00);
    fn is_zero(self) -> bool {
        self.0 & 0x7fff == 0
    }
    fn add(self, o: Self) -> Self {
        H16(from_f32(to_f32(self.0) + to_f32(o.0)))
    }
    fn sub(self, o: Self) -> Self {
        H16(from_f32(to_f32(self.0) - to_f32(o.0)))
    }
    fn mul(self, o: Self) -> Self {
        H16(from_f32(to_f32(self.0) * to_f32(o.0)))
    }
    fn gt(self, o: Self) -> bool {
        to_f32(self.0) > to_f32(o.0)
    }
    fn lt(self, o: Self) -> bool {
        to_f32(self.0) < to_f32(o.0)
    }
}
