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
/// * `alpha`: Q1.15, 0 ..= 32768, already clamped ([`ClampAlpha`]): the caller clamps, so
///   that it can register the clamped factor (the trace factors are registered in the
///   engine, and a register on a multiplier input costs no logic cell on iCE40).
/// * `y`: unsigned 16-bit, `y <= x` (α = 32768 gives `x` exactly).
///
/// Datapath: the 16 × 16 multiplier, then [`DecayQuotient`].
#[derive(LogicBlock, Default)]
pub struct UDecay {
    pub x: Signal<In, Bits<MUL_W>>,
    pub alpha: Signal<In, Bits<ALPHA_W>>,
    pub y: Signal<Out, Bits<MUL_W>>,
    quotient: DecayQuotient,
}

impl Logic for UDecay {
    #[hdl_gen]
    fn update(&mut self) {
        self.quotient.product.next = self.x.val() * self.alpha.val();
        self.y.next = self.quotient.q.val();
    }
}

/// `q = floor(product / 2^15)`, 16 bits, of a product `|x| · α` with `|x| < 2^16` and
/// `α <= 2^15`: `product < 2^31`, so the dropped high bits are 0. Leaf wiring.
///
/// The product arrives whole (32 bits) so that a register on it is one yosys can move into
/// the `SB_MAC16` (its output register takes the whole product, not a slice).
#[derive(LogicBlock)]
pub struct DecayQuotient {
    pub product: Signal<In, Bits<PROD_W>>,
    pub q: Signal<Out, Bits<MUL_W>>,
    narrow: Narrow<PROD_W, MUL_W>,
    shift: Constant<Bits<ALPHA_W>>,
}

impl Default for DecayQuotient {
    fn default() -> Self {
        Self {
            product: Default::default(),
            q: Default::default(),
            narrow: Default::default(),
            shift: constant(ALPHA_FRAC as u64),
        }
    }
}

impl Logic for DecayQuotient {
    #[hdl_gen]
    fn update(&mut self) {
        self.narrow.x.next = self.product.val() >> self.shift.val();
        self.q.next = self.narrow.y.val();
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

/// Sign and magnitude of `a − b` for 16-bit signed `a`, `b`: `neg = a < b`,
/// `mag = |a − b|` (16 bits: `|a − b| <= 65535`). Leaf.
///
/// Both differences `a − b` and `b − a` are formed side by side (two 17-bit carry chains)
/// and the sign of the first picks one, so the magnitude is one carry chain and a mux
/// deep, not two chains in series as `0 − (a − b)` would be.
#[derive(LogicBlock, Default)]
pub struct AbsDiff {
    pub a: Signal<In, Bits<DIFF_W>>,
    pub b: Signal<In, Bits<DIFF_W>>,
    pub neg: Signal<Out, Bit>,
    pub mag: Signal<Out, Bits<MUL_W>>,
    ab: Signal<Local, Bits<DIFF_W>>,
    ba: Signal<Local, Bits<DIFF_W>>,
    /// Bit 16 of a difference's magnitude is 0 (Verilator exempts `*unused*`).
    unused_top: Signal<Local, Bit>,
}

// The leaf indexes the sign bit with a literal (a Rust constant is not a Verilog name).
const _: () = assert!(DIFF_W == 17 && MUL_W == 16);

impl Logic for AbsDiff {
    #[hdl_gen]
    fn update(&mut self) {
        // `a`, `b` are the sign-extended 16-bit operands: both differences are exact.
        self.ab.next = self.a.val() - self.b.val();
        self.ba.next = self.b.val() - self.a.val();
        self.neg.next = self.ab.val().get_bit(16);
        self.unused_top.next = self.ba.val().get_bit(16);
        if self.ab.val().get_bit(16) {
            self.mag.next = self.ba.val().get_bits::<MUL_W>(0);
        } else {
            self.mag.next = self.ab.val().get_bits::<MUL_W>(0);
        }
    }
}

/// `y = inv ? !x : x` (ones' complement on request). Leaf.
///
/// With `d = ±q` wanted: `inv ? −q : q = (inv ? !q : q) + inv`, and the `+ inv` goes into
/// the carry input of the adder that consumes `d` ([`AddCarry`]), so a signed decay costs
/// no negation chain of its own. The STDP weight update uses it to subtract by adding
/// (`!(!w + Δw) = w − Δw`, [`crate::core::WeightClamp`]).
#[derive(LogicBlock, Default)]
pub struct Complement<const N: usize> {
    pub x: Signal<In, Bits<N>>,
    pub inv: Signal<In, Bit>,
    pub y: Signal<Out, Bits<N>>,
}

impl<const N: usize> Logic for Complement<N> {
    #[hdl_gen]
    fn update(&mut self) {
        if self.inv.val() {
            self.y.next = !self.x.val();
        } else {
            self.y.next = self.x.val();
        }
    }
}

/// `y = a + b + cin` modulo `2^N`: one carry chain with `cin` as its carry input (yosys
/// maps `a + b + {0, cin}` to a single `$alu`). Leaf.
#[derive(LogicBlock, Default)]
pub struct AddCarry<const N: usize> {
    pub a: Signal<In, Bits<N>>,
    pub b: Signal<In, Bits<N>>,
    pub cin: Signal<In, Bit>,
    pub y: Signal<Out, Bits<N>>,
}

impl<const N: usize> Logic for AddCarry<N> {
    fn update(&mut self) {
        const { assert!(N >= 2 && N <= 63) };
        let sum = self.a.val().to_u64() + self.b.val().to_u64() + self.cin.val() as u64;
        self.y.next = (sum & ((1u64 << N) - 1)).to_bits();
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "always @(*) y = a + b + {{{k}'b0, cin}};",
            k = N - 1
        ))
    }
}

/// Signed decay `y = trunc(x · α / 2^15)` (spec §2.2), rounding toward zero, for
/// `|x| <= 65535` (every `v − v_rest` of 16-bit values; 16-bit currents are sign-extended
/// into it). Combinational; the neuron uses the same leaves, split at the product
/// register ([`crate::core::NeuronLeak`] | [`crate::core::NeuronSum`]).
///
/// * `x`: signed 17-bit, −65535 ..= 65535 (−65536 is outside the contract: its magnitude
///   needs 17 bits).
/// * `alpha`: Q1.15, 0 ..= 32768 (a larger value acts as 32768, [`ClampAlpha`]).
/// * `y`: signed 17-bit; `|y| <= |x|` and `y` has the sign of `x` or is 0.
///
/// Sign-magnitude ([`SignMag`]): floor of the magnitude (product, [`DecayQuotient`]) is
/// trunc of the signed value; the sign goes back on as `(neg ? !q : q) + neg`
/// ([`Complement`], [`AddCarry`]). Equivalent to the spec's hardware recipe (`p >>> 15`,
/// `+1` if `p < 0` and `p mod 2^15 ≠ 0`).
#[derive(LogicBlock)]
pub struct Decay {
    pub x: Signal<In, Signed<DIFF_W>>,
    pub alpha: Signal<In, Bits<ALPHA_W>>,
    pub y: Signal<Out, Signed<DIFF_W>>,
    sign_mag: SignMag,
    // |x| <= 65535: bit 16 of the magnitude is 0.
    mag: Narrow<DIFF_W, MUL_W>,
    clamp: ClampAlpha,
    quotient: DecayQuotient,
    q_ext: ZeroExtend<MUL_W, DIFF_W>,
    apply_sign: Complement<DIFF_W>,
    add: AddCarry<DIFF_W>,
    zero: Constant<Bits<DIFF_W>>,
}

impl Default for Decay {
    fn default() -> Self {
        Self {
            x: Default::default(),
            alpha: Default::default(),
            y: Default::default(),
            sign_mag: Default::default(),
            mag: Default::default(),
            clamp: Default::default(),
            quotient: Default::default(),
            q_ext: Default::default(),
            apply_sign: Default::default(),
            add: Default::default(),
            zero: constant(0),
        }
    }
}

impl Logic for Decay {
    #[hdl_gen]
    fn update(&mut self) {
        self.sign_mag.x.next = self.x.val();
        self.mag.x.next = self.sign_mag.mag.val();
        self.clamp.alpha.next = self.alpha.val();
        self.quotient.product.next = self.mag.y.val() * self.clamp.y.val();
        self.q_ext.x.next = self.quotient.q.val();
        self.apply_sign.x.next = self.q_ext.y.val();
        self.apply_sign.inv.next = self.sign_mag.neg.val();
        self.add.a.next = self.zero.val();
        self.add.b.next = self.apply_sign.y.val();
        self.add.cin.next = self.sign_mag.neg.val();
        self.y.next = signed_cast(self.add.y.val());
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
