//! STDP datapath (spec §4): the clamped weight update of phases 2 and 5 and the trace
//! step of phases 4 and 6. Both combinational.

use rust_hdl::prelude::*;

use super::arith::{Complement, Narrow, SignExtend, UDecay, ZeroExtend};
use super::{ALPHA_W, CLAMP_W, ETA_SHR, ETA_W, MUL_W, PROD_W, TRACE_W, WEIGHT_SUM_W};
use crate::constant;

/// `Δw = (trace · eta) >> 8` (spec §4.3), zero-extended to the weight-sum width: the
/// multiplier half of [`WeightUpdate`]. The engine registers its output, so the multiply
/// and the add/clamp of [`WeightApply`] sit in different clock cycles.
#[derive(LogicBlock)]
pub struct WeightAmp {
    pub trace: Signal<In, Bits<TRACE_W>>,
    pub eta: Signal<In, Bits<ETA_W>>,
    pub amp: Signal<Out, Bits<WEIGHT_SUM_W>>,
    ext_trace: ZeroExtend<TRACE_W, MUL_W>,
    ext_eta: ZeroExtend<ETA_W, MUL_W>,
    // (trace · eta) >> 8 < 2^8: the dropped bits are 0, so this also zero-extends Δw.
    narrow: Narrow<PROD_W, WEIGHT_SUM_W>,
    shift: Constant<Bits<MUL_W>>,
}

impl Default for WeightAmp {
    fn default() -> Self {
        Self {
            trace: Default::default(),
            eta: Default::default(),
            amp: Default::default(),
            ext_trace: Default::default(),
            ext_eta: Default::default(),
            narrow: Default::default(),
            shift: constant(ETA_SHR as u64),
        }
    }
}

impl Logic for WeightAmp {
    #[hdl_gen]
    fn update(&mut self) {
        // Δw = (trace · eta) >> 8, 0 ..= 254.
        self.ext_trace.x.next = self.trace.val();
        self.ext_eta.x.next = self.eta.val();
        self.narrow.x.next = (self.ext_trace.y.val() * self.ext_eta.y.val()) >> self.shift.val();
        self.amp.next = self.narrow.y.val();
    }
}

/// The operands of the shared weight adder (leaf): `w = pot ? w_pot : !w_dep`,
/// `amp = pot ? amp_pot : amp_dep`.
///
/// Depression is computed as `w − Δw = !(!w + Δw)`, so potentiation and depression share
/// one adder: [`WeightSum`] adds `amp` to the (conditionally inverted) weight, and
/// [`WeightClamp`] inverts the sum back (`neg`) where it compares it. The engine feeds
/// this block from its depression and potentiation stage registers (never both valid in
/// the same cycle) with `pot` = "the potentiation stage is valid".
#[derive(LogicBlock, Default)]
pub struct WeightOperand<const W: usize> {
    pub pot: Signal<In, Bit>,
    pub w_dep: Signal<In, Bits<W>>,
    pub w_pot: Signal<In, Bits<W>>,
    pub amp_dep: Signal<In, Bits<WEIGHT_SUM_W>>,
    pub amp_pot: Signal<In, Bits<WEIGHT_SUM_W>>,
    pub w: Signal<Out, Bits<W>>,
    pub amp: Signal<Out, Bits<WEIGHT_SUM_W>>,
}

impl<const W: usize> Logic for WeightOperand<W> {
    #[hdl_gen]
    fn update(&mut self) {
        if self.pot.val() {
            self.w.next = self.w_pot.val();
            self.amp.next = self.amp_pot.val();
        } else {
            self.w.next = !self.w_dep.val();
            self.amp.next = self.amp_dep.val();
        }
    }
}

/// `t = sext(w) + amp` on [`WEIGHT_SUM_W`] bits: the adder of the weight update, `w` from
/// [`WeightOperand`] (the weight for potentiation, its complement for depression).
/// Exact: `|w| <= 2^15`, `amp <= 254`.
#[derive(LogicBlock, Default)]
pub struct WeightSum<const W: usize> {
    pub w: Signal<In, Bits<W>>,
    pub amp: Signal<In, Bits<WEIGHT_SUM_W>>,
    pub t: Signal<Out, Bits<WEIGHT_SUM_W>>,
    ext_w: SignExtend<W, WEIGHT_SUM_W>,
}

impl<const W: usize> Logic for WeightSum<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.ext_w.x.next = self.w.val();
        self.t.next = self.ext_w.y.val() + self.amp.val();
    }
}

/// `w_new = clamp(neg ? !t : t, w_min, w_max)` for `W`-bit signed bounds: the clamp of
/// the weight update, `t` from [`WeightSum`] (`neg` for depression, where `!t = w − Δw`).
/// The clamped value lies in `[w_min, w_max]` (or is `w_max`): it fits `W` bits.
///
/// The compares are the signs of two [`CLAMP_W`]-bit differences, `x − w_min` and
/// `w_max − x`, on carry chains (the flow maps `<`/`>` to LUT trees, which at 18 bits
/// are about 14 LUT levels deep on an iCE40); [`ClampPick`] muxes.
#[derive(LogicBlock)]
pub struct WeightClamp<const W: usize> {
    pub t: Signal<In, Bits<WEIGHT_SUM_W>>,
    pub neg: Signal<In, Bit>,
    pub w_min: Signal<In, Signed<W>>,
    pub w_max: Signal<In, Signed<W>>,
    pub w_new: Signal<Out, Signed<W>>,
    sign: Complement<WEIGHT_SUM_W>,
    ext_x: SignExtend<WEIGHT_SUM_W, CLAMP_W>,
    ext_min: SignExtend<W, CLAMP_W>,
    ext_max: SignExtend<W, CLAMP_W>,
    pick: ClampPick,
    narrow: Narrow<CLAMP_W, W>,
}

impl<const W: usize> Default for WeightClamp<W> {
    fn default() -> Self {
        const {
            assert!(
                W >= neurofab_proto::MIN_WEIGHT_BITS as usize
                    && W <= neurofab_proto::MAX_WEIGHT_BITS as usize
            )
        };
        Self {
            t: Default::default(),
            neg: Default::default(),
            w_min: Default::default(),
            w_max: Default::default(),
            w_new: Default::default(),
            sign: Default::default(),
            ext_x: Default::default(),
            ext_min: Default::default(),
            ext_max: Default::default(),
            pick: Default::default(),
            narrow: Default::default(),
        }
    }
}

impl<const W: usize> Logic for WeightClamp<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.sign.x.next = self.t.val();
        self.sign.inv.next = self.neg.val();
        self.ext_x.x.next = self.sign.y.val();
        self.ext_min.x.next = unsigned_cast(self.w_min.val());
        self.ext_max.x.next = unsigned_cast(self.w_max.val());
        self.pick.x.next = self.ext_x.y.val();
        self.pick.lo.next = self.ext_min.y.val();
        self.pick.hi.next = self.ext_max.y.val();
        self.pick.d_lo.next = self.ext_x.y.val() - self.ext_min.y.val();
        self.pick.d_hi.next = self.ext_max.y.val() - self.ext_x.y.val();
        self.pick.d_lh.next = self.ext_max.y.val() - self.ext_min.y.val();
        self.narrow.x.next = self.pick.y.val();
        self.w_new.next = signed_cast(self.narrow.y.val());
    }
}

/// `w_new = clamp(w ± amp, w_min, w_max)` for `W`-bit signed weights, `amp` from
/// [`WeightAmp`]: [`WeightOperand`], [`WeightSum`] and [`WeightClamp`] in series,
/// combinational (the engine registers `t` between the sum and the clamp).
#[derive(LogicBlock)]
pub struct WeightApply<const W: usize> {
    pub w: Signal<In, Signed<W>>,
    pub amp: Signal<In, Bits<WEIGHT_SUM_W>>,
    pub potentiate: Signal<In, Bit>,
    pub w_min: Signal<In, Signed<W>>,
    pub w_max: Signal<In, Signed<W>>,
    pub w_new: Signal<Out, Signed<W>>,
    operand: WeightOperand<W>,
    sum: WeightSum<W>,
    clamp: WeightClamp<W>,
}

impl<const W: usize> Default for WeightApply<W> {
    fn default() -> Self {
        Self {
            w: Default::default(),
            amp: Default::default(),
            potentiate: Default::default(),
            w_min: Default::default(),
            w_max: Default::default(),
            w_new: Default::default(),
            operand: Default::default(),
            sum: Default::default(),
            clamp: Default::default(),
        }
    }
}

impl<const W: usize> Logic for WeightApply<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.operand.pot.next = self.potentiate.val();
        self.operand.w_dep.next = unsigned_cast(self.w.val());
        self.operand.w_pot.next = unsigned_cast(self.w.val());
        self.operand.amp_dep.next = self.amp.val();
        self.operand.amp_pot.next = self.amp.val();
        self.sum.w.next = self.operand.w.val();
        self.sum.amp.next = self.operand.amp.val();
        self.clamp.t.next = self.sum.t.val();
        self.clamp.neg.next = !self.potentiate.val();
        self.clamp.w_min.next = self.w_min.val();
        self.clamp.w_max.next = self.w_max.val();
        self.w_new.next = self.clamp.w_new.val();
    }
}

/// `w_new = clamp(w ± ((trace · eta) >> 8), w_min, w_max)` (spec §3 phases 2 and 5, §4.3)
/// for `W`-bit signed weights, `2 <= W <= 16`: [`WeightAmp`] followed by [`WeightApply`],
/// combinational (the functional reference of the engine's two-stage use of them).
///
/// | port | dir | type |
/// |---|---|---|
/// | `w` | in | signed W |
/// | `trace` | in | unsigned 8 (`y[n]` for depression, `x[s]` for potentiation) |
/// | `eta` | in | unsigned 8 (`eta_minus` / `eta_plus`) |
/// | `potentiate` | in | 1: `w + Δw`; 0: `w − Δw` |
/// | `w_min`, `w_max` | in | signed W |
/// | `w_new` | out | signed W |
///
/// `w ± Δw` is exact in 18 bits; the clamp is `min(max(x, w_min), w_max)` literally (so
/// with `w_min > w_max`, which the parameter check refuses, the result is `w_max`). Signed
/// compares flip the sign bit and compare unsigned. Depth: 8 × 8 multiply → operand mux
/// → 18-bit add → two 19-bit subtractions in parallel (their signs) → mux.
#[derive(LogicBlock)]
pub struct WeightUpdate<const W: usize> {
    pub w: Signal<In, Signed<W>>,
    pub trace: Signal<In, Bits<TRACE_W>>,
    pub eta: Signal<In, Bits<ETA_W>>,
    pub potentiate: Signal<In, Bit>,
    pub w_min: Signal<In, Signed<W>>,
    pub w_max: Signal<In, Signed<W>>,
    pub w_new: Signal<Out, Signed<W>>,
    delta: WeightAmp,
    apply: WeightApply<W>,
}

impl<const W: usize> Default for WeightUpdate<W> {
    fn default() -> Self {
        Self {
            w: Default::default(),
            trace: Default::default(),
            eta: Default::default(),
            potentiate: Default::default(),
            w_min: Default::default(),
            w_max: Default::default(),
            w_new: Default::default(),
            delta: Default::default(),
            apply: Default::default(),
        }
    }
}

impl<const W: usize> Logic for WeightUpdate<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.delta.trace.next = self.trace.val();
        self.delta.eta.next = self.eta.val();
        self.apply.w.next = self.w.val();
        self.apply.amp.next = self.delta.amp.val();
        self.apply.potentiate.next = self.potentiate.val();
        self.apply.w_min.next = self.w_min.val();
        self.apply.w_max.next = self.w_max.val();
        self.w_new.next = self.apply.w_new.val();
    }
}

/// `min(max(x, lo), hi)` on [`CLAMP_W`]-bit two's complement values from the differences
/// `d_lo = x − lo`, `d_hi = hi − x`, `d_lh = hi − lo` (exact: `x` is 18-bit, the bounds
/// 16-bit; leaf of [`WeightClamp`]): `x < lo ? min(lo, hi) : (x > hi ? hi : x)`, which is
/// `min(max(x, lo), hi)` literally (so with `lo > hi`, which the parameter check refuses,
/// the result is `hi`). Only the differences' sign bits are read.
#[derive(LogicBlock)]
pub struct ClampPick {
    pub x: Signal<In, Bits<CLAMP_W>>,
    pub lo: Signal<In, Bits<CLAMP_W>>,
    pub hi: Signal<In, Bits<CLAMP_W>>,
    pub d_lo: Signal<In, Bits<CLAMP_W>>,
    pub d_hi: Signal<In, Bits<CLAMP_W>>,
    pub d_lh: Signal<In, Bits<CLAMP_W>>,
    pub y: Signal<Out, Bits<CLAMP_W>>,
    sign: Constant<Bits<CLAMP_W>>,
    lo_hi: Signal<Local, Bits<CLAMP_W>>,
    /// The differences' magnitude bits (Verilator exempts `*unused*`).
    unused_d: Signal<Local, Bits<CLAMP_W>>,
}

impl Default for ClampPick {
    fn default() -> Self {
        Self {
            x: Default::default(),
            lo: Default::default(),
            hi: Default::default(),
            d_lo: Default::default(),
            d_hi: Default::default(),
            d_lh: Default::default(),
            y: Default::default(),
            sign: constant(1 << (CLAMP_W - 1)),
            lo_hi: Default::default(),
            unused_d: Default::default(),
        }
    }
}

impl Logic for ClampPick {
    #[hdl_gen]
    fn update(&mut self) {
        self.unused_d.next = self.d_lo.val() ^ self.d_hi.val() ^ self.d_lh.val();
        // min(lo, hi): from the STDP record only, off the x path.
        if (self.d_lh.val() & self.sign.val()).any() {
            self.lo_hi.next = self.hi.val();
        } else {
            self.lo_hi.next = self.lo.val();
        }
        if (self.d_lo.val() & self.sign.val()).any() {
            self.y.next = self.lo_hi.val();
        } else if (self.d_hi.val() & self.sign.val()).any() {
            self.y.next = self.hi.val();
        } else {
            self.y.next = self.x.val();
        }
    }
}

/// Trace step (spec §4.1, §3 phases 4 and 6):
/// `x_new = spike ? min(decay(x, α) + inc, 255) : decay(x, α)`.
///
/// | port | dir | type |
/// |---|---|---|
/// | `x` | in | unsigned 8 |
/// | `alpha` | in | unsigned 16, Q1.15 ≤ 32768, already clamped ([`super::ClampAlpha`]) |
/// | `spike` | in | 1 |
/// | `inc` | in | unsigned 8 |
/// | `x_new` | out | unsigned 8 |
///
/// Depth: 16 × 16 multiply ([`UDecay`], 8 × 16 after constant propagation) → 9-bit add →
/// 8-bit saturation mux → spike mux.
#[derive(LogicBlock, Default)]
pub struct TraceUpdate {
    pub x: Signal<In, Bits<TRACE_W>>,
    pub alpha: Signal<In, Bits<ALPHA_W>>,
    pub spike: Signal<In, Bit>,
    pub inc: Signal<In, Bits<TRACE_W>>,
    pub x_new: Signal<Out, Bits<TRACE_W>>,
    ext_x: ZeroExtend<TRACE_W, MUL_W>,
    decay: UDecay,
    // decay(x) <= x < 2^8: the dropped bits are 0.
    narrow: Narrow<MUL_W, { TRACE_W + 1 }>,
    ext_inc: ZeroExtend<TRACE_W, { TRACE_W + 1 }>,
    sat: TraceSat,
}

impl Logic for TraceUpdate {
    #[hdl_gen]
    fn update(&mut self) {
        self.ext_x.x.next = self.x.val();
        self.decay.x.next = self.ext_x.y.val();
        self.decay.alpha.next = self.alpha.val();
        self.narrow.x.next = self.decay.y.val();
        self.ext_inc.x.next = self.inc.val();
        self.sat.d.next = self.narrow.y.val();
        self.sat.inc.next = self.ext_inc.y.val();
        self.sat.spike.next = self.spike.val();
        self.x_new.next = self.sat.y.val();
    }
}

/// `spike ? min(d + inc, 255) : d` on 9-bit zero-extended operands (leaf of
/// [`TraceUpdate`]; `d`, `inc` < 2^8, so `d + inc` is exact in 9 bits).
#[derive(LogicBlock)]
pub struct TraceSat {
    pub d: Signal<In, Bits<{ TRACE_W + 1 }>>,
    pub inc: Signal<In, Bits<{ TRACE_W + 1 }>>,
    pub spike: Signal<In, Bit>,
    pub y: Signal<Out, Bits<TRACE_W>>,
    full: Constant<Bits<{ TRACE_W + 1 }>>,
    max: Constant<Bits<TRACE_W>>,
    sum: Signal<Local, Bits<{ TRACE_W + 1 }>>,
}

impl Default for TraceSat {
    fn default() -> Self {
        Self {
            d: Default::default(),
            inc: Default::default(),
            spike: Default::default(),
            y: Default::default(),
            full: constant(1 << TRACE_W),
            max: constant((1 << TRACE_W) - 1),
            sum: Default::default(),
        }
    }
}

impl Logic for TraceSat {
    #[hdl_gen]
    fn update(&mut self) {
        self.sum.next = self.d.val() + self.inc.val();
        if !self.spike.val() {
            self.y.next = self.d.val().get_bits::<TRACE_W>(0);
        } else if self.sum.val() >= self.full.val() {
            self.y.next = self.max.val();
        } else {
            self.y.next = self.sum.val().get_bits::<TRACE_W>(0);
        }
    }
}
