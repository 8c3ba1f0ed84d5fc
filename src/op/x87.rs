//! x87 extended precision (C `long double` on x86_64), computed by the x87 unit.
//!
//! Rust has no 80-bit float. The x87 instructions give exactly what a C compiler gives
//! for `long double` (rounding under the current x87 control word, which is 64-bit
//! precision, round-to-nearest-even on Linux), including NaN, infinities, denormals and
//! the odd encodings, in a few lines. Each operation is one asm block that loads its
//! operands from memory, computes, and stores the result; the x87 register stack is
//! empty before and after each block, as the SysV ABI requires, and every x87 register
//! is declared clobbered.
//!
//! This is the only `unsafe` of `op` (asm cannot be written without it); the lead
//! decides whether it moves next to the other unsafe code.

use std::arch::asm;
use std::cmp::Ordering;

use super::kernels::{Arith, Scalar};

/// An x87 value: the 10 significant bytes of a 16-byte `long double` slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct X87(pub [u8; 10]);

impl Scalar for X87 {
    /// A `long double` occupies 16 bytes; the last 6 are padding, left untouched on store.
    const SIZE: usize = 16;
    #[inline(always)]
    fn load(b: &[u8]) -> Self {
        let mut a = [0u8; 10];
        a.copy_from_slice(&b[..10]);
        X87(a)
    }
    #[inline(always)]
    fn store(self, b: &mut [u8]) {
        b[..10].copy_from_slice(&self.0);
    }
}

/// Which arithmetic instruction `binary` runs on (st1 = a, st0 = b).
#[derive(Clone, Copy)]
enum BinOp {
    Add,
    Mul,
}

fn binary(op: BinOp, a: &[u8; 10], b: &[u8; 10]) -> [u8; 10] {
    let mut out = [0u8; 10];
    match op {
        // SAFETY: `fld`/`fstp tbyte` read/write exactly 10 bytes at each pointer, and
        // each pointer is a live [u8; 10] (the x87 has no alignment requirement). The
        // block pushes two values and leaves the stack empty; all st registers are
        // declared clobbered. No stack memory is used; FP exceptions are masked by
        // default, so invalid inputs produce NaN rather than a trap, as in C.
        BinOp::Add => unsafe {
            asm!(
                "fld tbyte ptr [{a}]",
                "fld tbyte ptr [{b}]",
                "faddp",
                "fstp tbyte ptr [{o}]",
                a = in(reg) a.as_ptr(),
                b = in(reg) b.as_ptr(),
                o = in(reg) out.as_mut_ptr(),
                out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                options(nostack),
            )
        },
        // SAFETY: as for Add; `fmulp` instead of `faddp`.
        BinOp::Mul => unsafe {
            asm!(
                "fld tbyte ptr [{a}]",
                "fld tbyte ptr [{b}]",
                "fmulp",
                "fstp tbyte ptr [{o}]",
                a = in(reg) a.as_ptr(),
                b = in(reg) b.as_ptr(),
                o = in(reg) out.as_mut_ptr(),
                out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                options(nostack),
            )
        },
    }
    out
}

/// Compares two long doubles as C's `<`, `==`, `>` do: None when either is a NaN (or an
/// encoding the x87 rejects, which it treats the same way); +0 equals -0.
pub(super) fn compare(a: &X87, b: &X87) -> Option<Ordering> {
    let (above, below, unordered): (u8, u8, u8);
    // SAFETY: loads 10 bytes from each live [u8; 10]; `fucomip` compares st0 = a with
    // st1 = b and pops one, `fstp st(0)` pops the other, so the stack ends empty. The
    // flags it sets (a > b: none; a < b: CF; a == b: ZF; unordered: ZF, PF, CF) are read
    // by setcc into byte registers. All st registers are declared clobbered.
    unsafe {
        asm!(
            "fld tbyte ptr [{b}]",
            "fld tbyte ptr [{a}]",
            "fucomip st, st(1)",
            "fstp st(0)",
            "seta {above}",
            "setb {below}",
            "setp {unord}",
            a = in(reg) a.0.as_ptr(),
            b = in(reg) b.0.as_ptr(),
            above = out(reg_byte) above,
            below = out(reg_byte) below,
            unord = out(reg_byte) unordered,
            out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
            out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
            options(nostack),
        )
    };
    if unordered != 0 {
        None
    } else if above != 0 {
        Some(Ordering::Greater)
    } else if below != 0 {
        Some(Ordering::Less)
    } else {
        Some(Ordering::Equal)
    }
}

impl X87 {
    /// Flips the sign bit (bit 79): exact negation, as `-x` in C.
    fn neg(mut self) -> Self {
        self.0[9] ^= 0x80;
        self
    }
}

impl Arith for X87 {
    const ZERO: Self = X87([0; 10]);
    /// Mantissa 1.0 (explicit integer bit), biased exponent 0x3fff.
    const ONE: Self = X87([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]);
    fn is_zero(self) -> bool {
        compare(&self, &Self::ZERO) == Some(Ordering::Equal)
    }
    fn add(self, o: Self) -> Self {
        X87(binary(BinOp::Add, &self.0, &o.0))
    }
    fn sub(self, o: Self) -> Self {
        // a - b == a + (-b) exactly, signed zeros included, under round-to-nearest.
        X87(binary(BinOp::Add, &self.0, &o.neg().0))
    }
    fn mul(self, o: Self) -> Self {
        X87(binary(BinOp::Mul, &self.0, &o.0))
    }
    fn gt(self, o: Self) -> bool {
        compare(&self, &o) == Some(Ordering::Greater)
    }
    fn lt(self, o: Self) -> bool {
        compare(&self, &o) == Some(Ordering::Less)
    }
}
