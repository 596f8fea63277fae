//! Width adapters, the decay primitive (spec §2.2) and 16-bit saturation (spec notation
//! `sat16`). All blocks here are combinational (zero cycles).

use rust_hdl::prelude::*;

use super::{ALPHA_FRAC, ALPHA_W, DIFF_W, MUL_W, PROD_W, STATE_W};
use crate::constant;

/// `M`-bit pattern of `value` (two's complement for negative values).
fn pattern<const M: usize>(value: i64) -> Bits<M> {
    let mask = if M >= 64 { u64::MAX } else { (1u64 << M) - 1 };
    ((value as u64) & mask).to_bits()
}

/// Sign extension `Bits<M>` → `Bits<N>` (`M <= N`), both two's complement.
///
/// Verilog: `{{N-M{x[M-1]}}, x}`. rust-hdl kernels have no concatenation and `bit_cast`
/// zero-extends, so this leaf block is the one place a signed value is widened.
#[derive(LogicBlock, Default)]
pub struct SignExtend<const M: usize, const N: usize> {
    pub x: Signal<In, Bits<M>>,
    pub y: Signal<Out, Bits<N>>,
}

impl<const M: usize, const N: usize> Logic for SignExtend<M, N> {
    fn update(&mut self) {
        const { assert!(M >= 1 && M <= N && N <= 64) };
        let x = self.x.val().to_u64();
        let value = if x >> (M - 1) & 1 == 1 && M < 64 {
            (x | (u64::MAX << M)) as i64
        } else {
            x as i64
        };
        self.y.next = pattern::<N>(value);
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(if N == M {
            "always @(*) y = x;".to_string()
        } else {
            format!(
                "always @(*) y = {{{{{k}{{x[{s}]}}}}, x}};",
                k = N - M,
                s = M - 1
            )
        })
    }
}

/// Zero extension `Bits<M>` → `Bits<N>` (`M <= N`). Verilog: `{{N-M}'b0, x}` (no WIDTH
/// warning, unlike `bit_cast`'s `x & N'h…`).
#[derive(LogicBlock, Default)]
pub struct ZeroExtend<const M: usize, const N: usize> {
    pub x: Signal<In, Bits<M>>,
    pub y: Signal<Out, Bits<N>>,
}

impl<const M: usize, const N: usize> Logic for ZeroExtend<M, N> {
    fn update(&mut self) {
        const { assert!(M >= 1 && M <= N && N <= 64) };
        self.y.next = self.x.val().to_u64().to_bits();
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(if N == M {
            "always @(*) y = x;".to_string()
        } else {
            format!("always @(*) y = {{{k}'b0, x}};", k = N - M)
        })
    }
}

/// Bit selection `Bits<M>` → `Bits<N>` (`N <= M`): `y = x[N-1:0]`.
///
/// Used only where the dropped bits are provably zero or copies of the sign (each use
/// says why). The dropped bits feed a wire named `unused_hi`, which Verilator's default
/// `--unused-regexp "*unused*"` exempts from UNUSEDSIGNAL: that is how a deliberate
/// truncation is marked without a `-Wno-…` waiver.
#[derive(LogicBlock, Default)]
pub struct Narrow<const M: usize, const N: usize> {
    pub x: Signal<In, Bits<M>>,
    pub y: Signal<Out, Bits<N>>,
}

impl<const M: usize, const N: usize> Logic for Narrow<M, N> {
    fn update(&mut self) {
        const { assert!(N >= 1 && N <= M && M <= 64) };
        let mask = if N >= 64 { u64::MAX } else { (1u64 << N) - 1 };
        self.y.next = (self.x.val().to_u64() & mask).to_bits();
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(if N == M {
            "always @(*) y = x;".to_string()
        } else {
            format!(
                "always @(*) y = x[{n1}:0];\nwire unused_hi = ^x[{m1}:{n}];",
                n1 = N - 1,
                m1 = M - 1,
                n = N
            )
        })
    }
}

/// `min(alpha, 32768)` by one bit: a Q1.15 factor with bit 15 set becomes exactly 1.0.
/// A factor above 32768 is invalid (spec §2.2: the device refuses it); this keeps the
/// decay from ever growing a value even then. Leaf (16 × AND/OR).
#[derive(LogicBlock)]
pub struct ClampAlpha {
    pub alpha: Signal<In, Bits<ALPHA_W>>,
    pub y: Signal<Out, Bits<ALPHA_W>>,
    one: Constant<Bits<ALPHA_W>>,
}

impl Default for ClampAlpha {
    fn default() -> Self {
        Self {
            alpha: Default::default(),
            y: Default::default(),
            one: constant(1 << ALPHA_FRAC),
        }
    }
}

impl Logic for ClampAlpha {
    #[hdl_gen]
    fn update(&mut self) {
        if (self.alpha.val() & self.one.val()).any() {
            self.y.next = self.one.val();
        } else {
            self.y.next = self.alpha.val();
        }
    }
}

/// Unsigned decay `y = floor(x · α / 2^15)` of a 16-bit magnitude (spec §2.2 for `x >= 0`,
/// where floor is trunc).
///
/// * `x`: unsigned 16-bit.
/// * `alpha`: Q1.15, 0 ..= 32768 (a larger value acts as 32768, see [`ClampAlpha`]).
/// * `y`: unsigned 16-bit, `y <= x` (α = 32768 gives `x` exactly).
///
/// Datapath: the 16 × 16 multiplier, `>> 15`, keep 16 bits (`x · α <= x · 2^15 < 2^31`,
/// so the dropped bits are 0).
#[derive(LogicBlock)]
pub struct UDecay {
    pub x: Signal<In, Bits<MUL_W>>,
    pub alpha: Signal<In, Bits<ALPHA_W>>,
    pub y: Signal<Out, Bits<MUL_W>>,
    clamp: ClampAlpha,
    narrow: Narrow<PROD_W, MUL_W>,
    shift: Constant<Bits<ALPHA_W>>,
}

impl Default for UDecay {
    fn default() -> Self {
        Self {
            x: Default::default(),
            alpha: Default::default(),
            y: Default::default(),
            clamp: Default::default(),
            narrow: Default::default(),
            shift: constant(ALPHA_FRAC as u64),
        }
    }
}

impl Logic for UDecay {
    #[hdl_gen]
    fn update(&mut self) {
        self.clamp.alpha.next = self.alpha.val();
        self.narrow.x.next = (self.x.val() * self.clamp.y.val()) >> self.shift.val();
        self.y.next = self.narrow.y.val();
    }
}

/// Sign and magnitude of a 17-bit two's complement value: `neg = x < 0`, `mag = |x|`
/// (17 bits: `|−2^16| = 2^16`). Leaf.
#[derive(LogicBlock)]
pub struct SignMag {
    pub x: Signal<In, Signed<DIFF_W>>,
    pub neg: Signal<Out, Bit>,
    pub mag: Signal<Out, Bits<DIFF_W>>,
    sign: Constant<Bits<DIFF_W>>,
    zero: Constant<Bits<DIFF_W>>,
    xb: Signal<Local, Bits<DIFF_W>>,
}

impl Default for SignMag {
    fn default() -> Self {
        Self {
            x: Default::default(),
            neg: Default::default(),
            mag: Default::default(),
            sign: constant(1 << (DIFF_W - 1)),
            zero: constant(0),
            xb: Default::default(),
        }
    }
}

impl Logic for SignMag {
    #[hdl_gen]
    fn update(&mut self) {
        self.xb.next = unsigned_cast(self.x.val());
        if (self.xb.val() & self.sign.val()).any() {
            self.neg.next = true;
            self.mag.next = self.zero.val() - self.xb.val();
        } else {
            self.neg.next = false;
            self.mag.next = self.xb.val();
        }
    }
}

/// Last step of [`Decay`]: picks the magnitude of the result and re-applies the sign.
/// Leaf.
///
/// * `mag`: `|x|` (17 bits); `q`: `floor((mag mod 2^16) · α / 2^15)` zero-extended;
///   `alpha`: the factor zero-extended to 17 bits; `neg`: `x < 0`.
/// * `y = ±r`, `r = q` unless `mag = 2^16` (only `x = −2^16`): then `r = 2^16 · α / 2^15`,
///   i.e. `mag` for α >= 32768 (1.0) and `2α` otherwise.
#[derive(LogicBlock)]
pub struct DecayJoin {
    pub neg: Signal<In, Bit>,
    pub mag: Signal<In, Bits<DIFF_W>>,
    pub q: Signal<In, Bits<DIFF_W>>,
    pub alpha: Signal<In, Bits<DIFF_W>>,
    pub y: Signal<Out, Signed<DIFF_W>>,
    top: Constant<Bits<DIFF_W>>,
    one: Constant<Bits<DIFF_W>>,
    zero: Constant<Bits<DIFF_W>>,
    r: Signal<Local, Bits<DIFF_W>>,
}

impl Default for DecayJoin {
    fn default() -> Self {
        Self {
            neg: Default::default(),
            mag: Default::default(),
            q: Default::default(),
            alpha: Default::default(),
            y: Default::default(),
            top: constant(1 << (DIFF_W - 1)),
            one: constant(1 << ALPHA_FRAC),
            zero: constant(0),
            r: Default::default(),
        }
    }
}

impl Logic for DecayJoin {
    #[hdl_gen]
    fn update(&mut self) {
        if (self.mag.val() & self.top.val()).any() {
            if (self.alpha.val() & self.one.val()).any() {
                self.r.next = self.mag.val();
            } else {
                self.r.next = self.alpha.val() << 1;
            }
        } else {
            self.r.next = self.q.val();
        }
        if self.neg.val() {
            self.y.next = signed_cast(self.zero.val() - self.r.val());
        } else {
            self.y.next = signed_cast(self.r.val());
        }
    }
}

/// Signed decay `y = trunc(x · α / 2^15)` (spec §2.2), rounding toward zero, for every
/// 17-bit `x` (the width of `v − v_rest`; 16-bit currents are sign-extended into it).
///
/// * `x`: signed 17-bit, −65536 ..= 65535.
/// * `alpha`: Q1.15, 0 ..= 32768 (a larger value acts as 32768).
/// * `y`: signed 17-bit; `|y| <= |x|` and `y` has the sign of `x` or is 0.
///
/// Sign-magnitude ([`SignMag`]): floor of the magnitude ([`UDecay`]) is trunc of the
/// signed value; [`DecayJoin`] negates back. Equivalent to the spec's hardware recipe
/// (`p >>> 15`, `+1` if `p < 0` and `p mod 2^15 ≠ 0`).
///
/// Combinational depth: 17-bit negate → 16 × 16 multiply → 17-bit 3:1 mux → 17-bit negate.
#[derive(LogicBlock, Default)]
pub struct Decay {
    pub x: Signal<In, Signed<DIFF_W>>,
    pub alpha: Signal<In, Bits<ALPHA_W>>,
    pub y: Signal<Out, Signed<DIFF_W>>,
    sign_mag: SignMag,
    core: UDecay,
    q_ext: ZeroExtend<MUL_W, DIFF_W>,
    alpha_ext: ZeroExtend<ALPHA_W, DIFF_W>,
    merge: DecayJoin,
}

impl Logic for Decay {
    #[hdl_gen]
    fn update(&mut self) {
        self.sign_mag.x.next = self.x.val();
        // For mag = 2^16 the low 16 bits are 0 and DecayJoin ignores q.
        self.core.x.next = self.sign_mag.mag.val().get_bits::<MUL_W>(0);
        self.core.alpha.next = self.alpha.val();
        self.q_ext.x.next = self.core.y.val();
        self.alpha_ext.x.next = self.alpha.val();
        self.merge.neg.next = self.sign_mag.neg.val();
        self.merge.mag.next = self.sign_mag.mag.val();
        self.merge.q.next = self.q_ext.y.val();
        self.merge.alpha.next = self.alpha_ext.y.val();
        self.y.next = self.merge.y.val();
    }
}

/// `sat16(x) = min(max(x, −32768), 32767)` of an `N`-bit two's complement value
/// (`17 <= N <= 32`). Output: the 16-bit pattern.
///
/// `x` fits 16 bits iff its bits `N−1 ..= 15` are all equal (all 0 or all 1); otherwise
/// the sign of `x` picks the bound. Depth: two (N−15)-bit equality trees in parallel, a
/// 16-bit 3:1 mux (no carry chain).
#[derive(LogicBlock)]
pub struct Sat16<const N: usize> {
    pub x: Signal<In, Bits<N>>,
    pub y: Signal<Out, Bits<STATE_W>>,
    shift: Constant<Bits<N>>,
    ones: Constant<Bits<N>>,
    zero: Constant<Bits<N>>,
    half: Constant<Bits<N>>,
    max: Constant<Bits<STATE_W>>,
    min: Constant<Bits<STATE_W>>,
    high: Signal<Local, Bits<N>>,
}

impl<const N: usize> Default for Sat16<N> {
    fn default() -> Self {
        const { assert!(N > STATE_W && N <= 32) };
        Self {
            x: Default::default(),
            y: Default::default(),
            shift: constant((STATE_W - 1) as u64),
            ones: constant((1 << (N - STATE_W + 1)) - 1),
            zero: constant(0),
            half: constant(1 << (N - 1)),
            max: constant(i16::MAX as u64),
            min: constant(1 << (STATE_W - 1)),
            high: Default::default(),
        }
    }
}

impl<const N: usize> Logic for Sat16<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.high.next = self.x.val() >> self.shift.val();
        if (self.high.val() == self.zero.val()) | (self.high.val() == self.ones.val()) {
            self.y.next = self.x.val().get_bits::<STATE_W>(0);
        } else if self.x.val() >= self.half.val() {
            self.y.next = self.min.val();
        } else {
            self.y.next = self.max.val();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_wraps_to_width() {
        assert_eq!(pattern::<17>(-1).to_u64(), 0x1_ffff);
        assert_eq!(pattern::<8>(5).to_u64(), 5);
    }
}
