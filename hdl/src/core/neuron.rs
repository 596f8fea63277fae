//! The LIF neuron update of spec §2.4, for one neuron.
//!
//! The update is split into combinational parts, one per pipeline stage of
//! [`NeuronUpdatePipe`]:
//!
//! 1. [`NeuronLeak`]: the two decays, `decay(i, α_i)` and `decay(v − v_rest, α_v)`, up to
//!    their products `|x| · α` (the multipliers); beside them [`NeuronPrep`]: `v_rest − v_th`
//!    and the refractory pre-decision ([`RefractPrep`]);
//! 2. [`NeuronSum`]: the decays' `>> 15` and sign, folded into the sums `i_new =
//!    sat16(decay(i) + acc)`, `v_leak = v_rest + dv` and the threshold margin `v_leak − v_th`;
//! 3. [`NeuronFire`]: `v_leak + i_new` and, in parallel, `v_leak + i_new − v_th` (two
//!    adds); saturation, threshold and refractory muxes ([`FireDecide`]).
//!
//! [`NeuronUpdate`] chains them combinationally (the functional reference, zero cycles);
//! [`NeuronUpdatePipe`] registers between them and registers the outputs (latency 3, one
//! neuron per clock).
//!
//! The threshold compare `sat16(v_leak + i_new) >= v_th` is not done on the saturated sum:
//! it is the sign of `v_leak + i_new − v_th` (18 bits, exact), computed beside the sum
//! from the margin `v_leak − v_th` of stage 2, except that a sum below −32768 saturates to
//! −32768, which fires iff `v_th = −32768` (`th_min`, from stage 1). So stage 3 is two
//! parallel carry chains and a few LUT levels, and the 30-bit current sum has a stage of
//! its own (stage 2) instead of preceding the membrane sum.

use rust_hdl::prelude::*;

use super::arith::{
    AbsDiff, AddCarry, ClampAlpha, Complement, DecayQuotient, Narrow, Sat16, SignExtend, SignMag,
    ZeroExtend,
};
use super::{ACC_W, ALPHA_W, CURRENT_SUM_W, DIFF_W, MARGIN_W, MUL_W, PROD_W, REFRACT_W, STATE_W};
use crate::constant;
use crate::widgets::LoadReg;

/// Stage 1 of §2.4: the two decays up to their products (the multipliers). Combinational.
///
/// * `v`, `i`, `v_rest`: signed 16-bit; `alpha_v`, `alpha_i`: Q1.15, ≤ 32768 (a larger
///   value acts as 32768, [`ClampAlpha`]).
/// * `neg_v = v < v_rest`, `prod_v = |v − v_rest| · α_v` (32 bits, < 2^31);
/// * `neg_i = i < 0`, `prod_i = |i| · α_i`.
///
/// [`NeuronSum`] finishes the decays (spec §2.2: `decay = ±floor(prod / 2^15)`) inside its
/// sums. The split is at the product so that the pipeline register after this stage is
/// the `SB_MAC16` output register on iCE40 UltraPlus ([`NeuronUpdatePipe`]).
#[derive(LogicBlock, Default)]
pub struct NeuronLeak {
    pub v: Signal<In, Signed<STATE_W>>,
    pub i: Signal<In, Signed<STATE_W>>,
    pub v_rest: Signal<In, Signed<STATE_W>>,
    pub alpha_v: Signal<In, Bits<ALPHA_W>>,
    pub alpha_i: Signal<In, Bits<ALPHA_W>>,
    pub neg_v: Signal<Out, Bit>,
    pub prod_v: Signal<Out, Bits<PROD_W>>,
    pub neg_i: Signal<Out, Bit>,
    pub prod_i: Signal<Out, Bits<PROD_W>>,
    ext_v: SignExtend<STATE_W, DIFF_W>,
    ext_rest: SignExtend<STATE_W, DIFF_W>,
    ext_i: SignExtend<STATE_W, DIFF_W>,
    abs_v: AbsDiff,
    sign_mag_i: SignMag,
    // |i| <= 2^15: bit 16 of the magnitude is 0.
    mag_i: Narrow<DIFF_W, MUL_W>,
    clamp_v: ClampAlpha,
    clamp_i: ClampAlpha,
}

impl Logic for NeuronLeak {
    #[hdl_gen]
    fn update(&mut self) {
        self.ext_v.x.next = unsigned_cast(self.v.val());
        self.ext_rest.x.next = unsigned_cast(self.v_rest.val());
        self.ext_i.x.next = unsigned_cast(self.i.val());
        // |v − v_rest| <= 65535: 16 bits.
        self.abs_v.a.next = self.ext_v.y.val();
        self.abs_v.b.next = self.ext_rest.y.val();
        self.clamp_v.alpha.next = self.alpha_v.val();
        self.neg_v.next = self.abs_v.neg.val();
        self.prod_v.next = self.abs_v.mag.val() * self.clamp_v.y.val();
        self.sign_mag_i.x.next = signed_cast(self.ext_i.y.val());
        self.mag_i.x.next = self.sign_mag_i.mag.val();
        self.clamp_i.alpha.next = self.alpha_i.val();
        self.neg_i.next = self.sign_mag_i.neg.val();
        self.prod_i.next = self.mag_i.y.val() * self.clamp_i.y.val();
    }
}

/// Refractory and threshold pre-decisions of §2.4 (leaf, stage 1):
/// `held = r > 0`, `r_next = r > 0 ? r − 1 : t_ref` (the new `r` if the neuron is held or
/// fires), `th_min = (v_th == −32768)`.
#[derive(LogicBlock)]
pub struct RefractPrep {
    pub r: Signal<In, Bits<REFRACT_W>>,
    pub t_ref: Signal<In, Bits<REFRACT_W>>,
    pub v_th: Signal<In, Signed<STATE_W>>,
    pub held: Signal<Out, Bit>,
    pub r_next: Signal<Out, Bits<REFRACT_W>>,
    pub th_min: Signal<Out, Bit>,
    one: Constant<Bits<REFRACT_W>>,
    min: Constant<Bits<STATE_W>>,
}

impl Default for RefractPrep {
    fn default() -> Self {
        Self {
            r: Default::default(),
            t_ref: Default::default(),
            v_th: Default::default(),
            held: Default::default(),
            r_next: Default::default(),
            th_min: Default::default(),
            one: constant(1),
            min: constant(1 << (STATE_W - 1)),
        }
    }
}

impl Logic for RefractPrep {
    #[hdl_gen]
    fn update(&mut self) {
        self.held.next = self.r.val().any();
        if self.r.val().any() {
            self.r_next.next = self.r.val() - self.one.val();
        } else {
            self.r_next.next = self.t_ref.val();
        }
        self.th_min.next = unsigned_cast(self.v_th.val()) == self.min.val();
    }
}

/// Stage 1 of §2.4 beside the decays: `rest_th = v_rest − v_th` (signed, [`MARGIN_W`]
/// bits, exact) and [`RefractPrep`]. Combinational.
#[derive(LogicBlock, Default)]
pub struct NeuronPrep {
    pub v_rest: Signal<In, Signed<STATE_W>>,
    pub v_th: Signal<In, Signed<STATE_W>>,
    pub t_ref: Signal<In, Bits<REFRACT_W>>,
    pub r: Signal<In, Bits<REFRACT_W>>,
    pub rest_th: Signal<Out, Bits<MARGIN_W>>,
    pub held: Signal<Out, Bit>,
    pub r_next: Signal<Out, Bits<REFRACT_W>>,
    pub th_min: Signal<Out, Bit>,
    ext_rest: SignExtend<STATE_W, MARGIN_W>,
    ext_th: SignExtend<STATE_W, MARGIN_W>,
    refract: RefractPrep,
}

impl Logic for NeuronPrep {
    #[hdl_gen]
    fn update(&mut self) {
        self.ext_rest.x.next = unsigned_cast(self.v_rest.val());
        self.ext_th.x.next = unsigned_cast(self.v_th.val());
        self.rest_th.next = self.ext_rest.y.val() - self.ext_th.y.val();
        self.refract.r.next = self.r.val();
        self.refract.t_ref.next = self.t_ref.val();
        self.refract.v_th.next = self.v_th.val();
        self.held.next = self.refract.held.val();
        self.r_next.next = self.refract.r_next.val();
        self.th_min.next = self.refract.th_min.val();
    }
}

/// Stage 2 of §2.4: the decays' last step and the sums. Combinational.
///
/// Inputs: `neg_v`, `prod_v`, `neg_i`, `prod_i` from [`NeuronLeak`] (for this `v_rest`),
/// `acc` (signed 29-bit), `v_rest` and `rest_th` from [`NeuronPrep`].
///
/// With `q = floor(prod / 2^15)` ([`DecayQuotient`]), `decay = neg ? −q : q =
/// (neg ? !q : q) + neg` (17-bit two's complement, [`Complement`]); the `+ neg` is the carry
/// input of each sum ([`AddCarry`]), so every output is one carry chain deep after the
/// product:
///
/// * `i_new = sat16(decay(i, α_i) + acc)` (exact in 30 bits before the saturation);
/// * `v_leak = v_rest + dv`, `dv = decay(v − v_rest, α_v)` (17 bits; it lies between
///   `v_rest` and `v`, so in the 16-bit range);
/// * `margin = v_leak − v_th = rest_th + dv` ([`MARGIN_W`] bits).
#[derive(LogicBlock, Default)]
pub struct NeuronSum {
    pub neg_v: Signal<In, Bit>,
    pub prod_v: Signal<In, Bits<PROD_W>>,
    pub neg_i: Signal<In, Bit>,
    pub prod_i: Signal<In, Bits<PROD_W>>,
    pub acc: Signal<In, Signed<ACC_W>>,
    pub v_rest: Signal<In, Signed<STATE_W>>,
    pub rest_th: Signal<In, Bits<MARGIN_W>>,
    pub i_new: Signal<Out, Signed<STATE_W>>,
    pub v_leak: Signal<Out, Bits<DIFF_W>>,
    pub margin: Signal<Out, Bits<MARGIN_W>>,
    q_v: DecayQuotient,
    q_i: DecayQuotient,
    ext_qv: ZeroExtend<MUL_W, DIFF_W>,
    ext_qi: ZeroExtend<MUL_W, DIFF_W>,
    dv_c: Complement<DIFF_W>,
    di_c: Complement<DIFF_W>,
    ext_rest: SignExtend<STATE_W, DIFF_W>,
    ext_dv: SignExtend<DIFF_W, MARGIN_W>,
    ext_di: SignExtend<DIFF_W, CURRENT_SUM_W>,
    ext_acc: SignExtend<ACC_W, CURRENT_SUM_W>,
    add_leak: AddCarry<DIFF_W>,
    add_margin: AddCarry<MARGIN_W>,
    add_i: AddCarry<CURRENT_SUM_W>,
    sat_i: Sat16<CURRENT_SUM_W>,
}

impl Logic for NeuronSum {
    #[hdl_gen]
    fn update(&mut self) {
        self.q_v.product.next = self.prod_v.val();
        self.q_i.product.next = self.prod_i.val();
        self.ext_qv.x.next = self.q_v.q.val();
        self.ext_qi.x.next = self.q_i.q.val();
        // dv_c + neg_v = dv, di_c + neg_i = decay(i, α_i) (17-bit two's complement).
        self.dv_c.x.next = self.ext_qv.y.val();
        self.dv_c.inv.next = self.neg_v.val();
        self.di_c.x.next = self.ext_qi.y.val();
        self.di_c.inv.next = self.neg_i.val();
        // i_new = sat16(decay(i, α_i) + acc), exact in 30 bits.
        self.ext_di.x.next = self.di_c.y.val();
        self.ext_acc.x.next = unsigned_cast(self.acc.val());
        self.add_i.a.next = self.ext_acc.y.val();
        self.add_i.b.next = self.ext_di.y.val();
        self.add_i.cin.next = self.neg_i.val();
        self.sat_i.x.next = self.add_i.y.val();
        self.i_new.next = signed_cast(self.sat_i.y.val());
        // v_leak = v_rest + dv, exact in 17 bits.
        self.ext_rest.x.next = unsigned_cast(self.v_rest.val());
        self.add_leak.a.next = self.ext_rest.y.val();
        self.add_leak.b.next = self.dv_c.y.val();
        self.add_leak.cin.next = self.neg_v.val();
        self.v_leak.next = self.add_leak.y.val();
        // margin = rest_th + dv.
        self.ext_dv.x.next = self.dv_c.y.val();
        self.add_margin.a.next = self.rest_th.val();
        self.add_margin.b.next = self.ext_dv.y.val();
        self.add_margin.cin.next = self.neg_v.val();
        self.margin.next = self.add_margin.y.val();
    }
}

/// Saturation, threshold and refractory decision of §2.4 (leaf, stage 3).
///
/// Inputs: `x = v_leak + i_new` (17 bits, exact), `d = x − v_th` ([`MARGIN_W`] bits,
/// exact), `th_min`, `held`, `r_next` from [`RefractPrep`], `v_reset`.
/// `v_int = sat16(x)`; it reaches the threshold iff `d >= 0`, or `x < −32768` (saturated
/// to −32768) and `v_th = −32768`. `held` (r > 0): `v_new = v_reset`, `r_new = r − 1`,
/// no spike; else threshold reached (equality fires): spike, `v_new = v_reset`,
/// `r_new = t_ref`; else `v_new = v_int`, `r_new = 0`.
#[derive(LogicBlock)]
pub struct FireDecide {
    pub x: Signal<In, Bits<DIFF_W>>,
    pub d: Signal<In, Bits<MARGIN_W>>,
    pub th_min: Signal<In, Bit>,
    pub held: Signal<In, Bit>,
    pub r_next: Signal<In, Bits<REFRACT_W>>,
    pub v_reset: Signal<In, Signed<STATE_W>>,
    pub v_new: Signal<Out, Signed<STATE_W>>,
    pub r_new: Signal<Out, Bits<REFRACT_W>>,
    pub fired: Signal<Out, Bit>,
    max: Constant<Bits<STATE_W>>,
    min: Constant<Bits<STATE_W>>,
    zero: Constant<Bits<REFRACT_W>>,
    reach: Signal<Local, Bit>,
    v_int: Signal<Local, Bits<STATE_W>>,
    /// Only the sign of `d` is used (Verilator exempts `*unused*`).
    unused_d: Signal<Local, Bit>,
}

// The leaf indexes the sign bits with literals (a Rust constant is not a Verilog name).
const _: () = assert!(DIFF_W == 17 && MARGIN_W == 18 && STATE_W == 16);

impl Default for FireDecide {
    fn default() -> Self {
        Self {
            x: Default::default(),
            d: Default::default(),
            th_min: Default::default(),
            held: Default::default(),
            r_next: Default::default(),
            v_reset: Default::default(),
            v_new: Default::default(),
            r_new: Default::default(),
            fired: Default::default(),
            max: constant(i16::MAX as u64),
            min: constant(1 << (STATE_W - 1)),
            zero: constant(0),
            reach: Default::default(),
            v_int: Default::default(),
            unused_d: Default::default(),
        }
    }
}

impl Logic for FireDecide {
    #[hdl_gen]
    fn update(&mut self) {
        self.unused_d.next = self.d.val().any();
        self.reach.next = !self.d.val().get_bit(17)
            | (self.x.val().get_bit(16) & !self.x.val().get_bit(15) & self.th_min.val());
        if self.x.val().get_bit(16) == self.x.val().get_bit(15) {
            self.v_int.next = self.x.val().get_bits::<STATE_W>(0);
        } else if self.x.val().get_bit(16) {
            self.v_int.next = self.min.val();
        } else {
            self.v_int.next = self.max.val();
        }
        self.fired.next = !self.held.val() & self.reach.val();
        if self.held.val() | self.reach.val() {
            self.v_new.next = self.v_reset.val();
            self.r_new.next = self.r_next.val();
        } else {
            self.v_new.next = signed_cast(self.v_int.val());
            self.r_new.next = self.zero.val();
        }
    }
}

/// Stage 3 of §2.4: `x = v_leak + i_new`, `d = margin + i_new` and [`FireDecide`].
/// Combinational. Outputs: `v_new` (signed 16-bit), `r_new` (u8), `fired`.
#[derive(LogicBlock, Default)]
pub struct NeuronFire {
    pub i_new: Signal<In, Signed<STATE_W>>,
    pub v_leak: Signal<In, Bits<DIFF_W>>,
    pub margin: Signal<In, Bits<MARGIN_W>>,
    pub th_min: Signal<In, Bit>,
    pub held: Signal<In, Bit>,
    pub r_next: Signal<In, Bits<REFRACT_W>>,
    pub v_reset: Signal<In, Signed<STATE_W>>,
    pub v_new: Signal<Out, Signed<STATE_W>>,
    pub r_new: Signal<Out, Bits<REFRACT_W>>,
    pub fired: Signal<Out, Bit>,
    ext_i17: SignExtend<STATE_W, DIFF_W>,
    ext_i18: SignExtend<STATE_W, MARGIN_W>,
    decide: FireDecide,
}

impl Logic for NeuronFire {
    #[hdl_gen]
    fn update(&mut self) {
        self.ext_i17.x.next = unsigned_cast(self.i_new.val());
        self.ext_i18.x.next = unsigned_cast(self.i_new.val());
        // v_leak + i_new is exact in 17 bits (v_leak in the 16-bit range).
        self.decide.x.next = self.v_leak.val() + self.ext_i17.y.val();
        self.decide.d.next = self.margin.val() + self.ext_i18.y.val();
        self.decide.th_min.next = self.th_min.val();
        self.decide.held.next = self.held.val();
        self.decide.r_next.next = self.r_next.val();
        self.decide.v_reset.next = self.v_reset.val();
        self.v_new.next = self.decide.v_new.val();
        self.r_new.next = self.decide.r_new.val();
        self.fired.next = self.decide.fired.val();
    }
}

/// The §2.4 update of one neuron, combinational (zero cycles): [`NeuronLeak`] and
/// [`NeuronPrep`], then [`NeuronSum`], then [`NeuronFire`].
///
/// | port | dir | type |
/// |---|---|---|
/// | `v_th`, `v_reset`, `v_rest` | in | signed 16 |
/// | `alpha_v`, `alpha_i` | in | unsigned 16, Q1.15 ≤ 32768 |
/// | `t_ref` | in | unsigned 8 |
/// | `v`, `i` | in | signed 16 |
/// | `r` | in | unsigned 8 |
/// | `acc` | in | signed 29 (already scaled by `2^w_shift`) |
/// | `v_new`, `i_new` | out | signed 16 |
/// | `r_new` | out | unsigned 8 |
/// | `fired` | out | 1 |
#[derive(LogicBlock, Default)]
pub struct NeuronUpdate {
    pub v_th: Signal<In, Signed<STATE_W>>,
    pub v_reset: Signal<In, Signed<STATE_W>>,
    pub v_rest: Signal<In, Signed<STATE_W>>,
    pub alpha_v: Signal<In, Bits<ALPHA_W>>,
    pub alpha_i: Signal<In, Bits<ALPHA_W>>,
    pub t_ref: Signal<In, Bits<REFRACT_W>>,
    pub v: Signal<In, Signed<STATE_W>>,
    pub i: Signal<In, Signed<STATE_W>>,
    pub r: Signal<In, Bits<REFRACT_W>>,
    pub acc: Signal<In, Signed<ACC_W>>,
    pub v_new: Signal<Out, Signed<STATE_W>>,
    pub i_new: Signal<Out, Signed<STATE_W>>,
    pub r_new: Signal<Out, Bits<REFRACT_W>>,
    pub fired: Signal<Out, Bit>,
    leak: NeuronLeak,
    prep: NeuronPrep,
    sum: NeuronSum,
    fire: NeuronFire,
}

impl Logic for NeuronUpdate {
    #[hdl_gen]
    fn update(&mut self) {
        self.leak.v.next = self.v.val();
        self.leak.i.next = self.i.val();
        self.leak.v_rest.next = self.v_rest.val();
        self.leak.alpha_v.next = self.alpha_v.val();
        self.leak.alpha_i.next = self.alpha_i.val();
        self.prep.v_rest.next = self.v_rest.val();
        self.prep.v_th.next = self.v_th.val();
        self.prep.t_ref.next = self.t_ref.val();
        self.prep.r.next = self.r.val();
        self.sum.neg_v.next = self.leak.neg_v.val();
        self.sum.prod_v.next = self.leak.prod_v.val();
        self.sum.neg_i.next = self.leak.neg_i.val();
        self.sum.prod_i.next = self.leak.prod_i.val();
        self.sum.acc.next = self.acc.val();
        self.sum.v_rest.next = self.v_rest.val();
        self.sum.rest_th.next = self.prep.rest_th.val();
        self.fire.i_new.next = self.sum.i_new.val();
        self.fire.v_leak.next = self.sum.v_leak.val();
        self.fire.margin.next = self.sum.margin.val();
        self.fire.th_min.next = self.prep.th_min.val();
        self.fire.held.next = self.prep.held.val();
        self.fire.r_next.next = self.prep.r_next.val();
        self.fire.v_reset.next = self.v_reset.val();
        self.v_new.next = self.fire.v_new.val();
        self.i_new.next = self.sum.i_new.val();
        self.r_new.next = self.fire.r_new.val();
        self.fired.next = self.fire.fired.val();
    }
}

/// [`NeuronUpdate`] as a three-stage pipeline: one neuron per clock, latency 3.
///
/// The inputs (same ports as [`NeuronUpdate`], plus `in_valid`) are sampled at a rising
/// edge: stage 1 ([`NeuronLeak`], the multipliers, and [`NeuronPrep`]) feeds registers at
/// that edge (the products' registers are the multipliers' output registers on iCE40
/// UltraPlus, see [`LoadReg`]), stage 2 ([`NeuronSum`]) at the next, stage 3
/// ([`NeuronFire`]) feeds the output registers at the one after. The outputs of the neuron
/// presented before edge k are valid after edge k+2, with `out_valid` high. Every register
/// powers up 0 except the two product registers ([`LoadReg`]), which are loaded with the
/// neuron they hold.
///
/// Two ports are off that schedule. `v_reset`: only stage 3 needs it, so it is presented
/// with that stage, two edges after the other inputs (the engine reads it from its own RAM
/// two stages later instead of carrying 2 × 16 pipeline bits, each a logic cell on iCE40).
/// And `i_new`, final after stage 2, is output one edge before the others (after edge
/// k+1), so that it needs no third register.
#[derive(LogicBlock, Default)]
pub struct NeuronUpdatePipe {
    pub clock: Signal<In, Clock>,
    pub in_valid: Signal<In, Bit>,
    pub v_th: Signal<In, Signed<STATE_W>>,
    /// Presented two edges after the other inputs (stage 3).
    pub v_reset: Signal<In, Signed<STATE_W>>,
    pub v_rest: Signal<In, Signed<STATE_W>>,
    pub alpha_v: Signal<In, Bits<ALPHA_W>>,
    pub alpha_i: Signal<In, Bits<ALPHA_W>>,
    pub t_ref: Signal<In, Bits<REFRACT_W>>,
    pub v: Signal<In, Signed<STATE_W>>,
    pub i: Signal<In, Signed<STATE_W>>,
    pub r: Signal<In, Bits<REFRACT_W>>,
    pub acc: Signal<In, Signed<ACC_W>>,
    pub out_valid: Signal<Out, Bit>,
    pub v_new: Signal<Out, Signed<STATE_W>>,
    pub i_new: Signal<Out, Signed<STATE_W>>,
    pub r_new: Signal<Out, Bits<REFRACT_W>>,
    pub fired: Signal<Out, Bit>,
    leak: NeuronLeak,
    prep: NeuronPrep,
    sum: NeuronSum,
    fire: NeuronFire,
    // Stage-1 registers.
    s1_valid: DFF<Bit>,
    // The products, loaded with in_valid: on iCE40 UltraPlus the SB_MAC16 output registers
    // (see LoadReg). Only a valid neuron's products are used.
    s1_prod_v: LoadReg<PROD_W>,
    s1_prod_i: LoadReg<PROD_W>,
    s1_neg_v: DFF<Bit>,
    s1_neg_i: DFF<Bit>,
    s1_acc: DFF<Signed<ACC_W>>,
    s1_v_rest: DFF<Signed<STATE_W>>,
    s1_rest_th: DFF<Bits<MARGIN_W>>,
    s1_th_min: DFF<Bit>,
    s1_held: DFF<Bit>,
    s1_r_next: DFF<Bits<REFRACT_W>>,
    // Stage-2 registers.
    s2_valid: DFF<Bit>,
    s2_i_new: DFF<Signed<STATE_W>>,
    s2_v_leak: DFF<Bits<DIFF_W>>,
    s2_margin: DFF<Bits<MARGIN_W>>,
    s2_th_min: DFF<Bit>,
    s2_held: DFF<Bit>,
    s2_r_next: DFF<Bits<REFRACT_W>>,
    // Output registers.
    s3_valid: DFF<Bit>,
    s3_v_new: DFF<Signed<STATE_W>>,
    s3_r_new: DFF<Bits<REFRACT_W>>,
    s3_fired: DFF<Bit>,
}

impl Logic for NeuronUpdatePipe {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, s1_valid, s1_neg_v, s1_neg_i, s1_acc, s1_v_rest, s1_rest_th, s1_th_min,
            s1_held, s1_r_next, s2_valid, s2_i_new, s2_v_leak, s2_margin, s2_th_min, s2_held,
            s2_r_next, s3_valid, s3_v_new, s3_r_new, s3_fired
        );
        // Stage 1: decays, v_rest − v_th, refractory pre-decision.
        self.leak.v.next = self.v.val();
        self.leak.i.next = self.i.val();
        self.leak.v_rest.next = self.v_rest.val();
        self.leak.alpha_v.next = self.alpha_v.val();
        self.leak.alpha_i.next = self.alpha_i.val();
        self.prep.v_rest.next = self.v_rest.val();
        self.prep.v_th.next = self.v_th.val();
        self.prep.t_ref.next = self.t_ref.val();
        self.prep.r.next = self.r.val();
        self.s1_valid.d.next = self.in_valid.val();
        self.s1_prod_v.clock.next = self.clock.val();
        self.s1_prod_v.load.next = self.in_valid.val();
        self.s1_prod_v.d.next = self.leak.prod_v.val();
        self.s1_prod_i.clock.next = self.clock.val();
        self.s1_prod_i.load.next = self.in_valid.val();
        self.s1_prod_i.d.next = self.leak.prod_i.val();
        self.s1_neg_v.d.next = self.leak.neg_v.val();
        self.s1_neg_i.d.next = self.leak.neg_i.val();
        self.s1_acc.d.next = self.acc.val();
        self.s1_v_rest.d.next = self.v_rest.val();
        self.s1_rest_th.d.next = self.prep.rest_th.val();
        self.s1_th_min.d.next = self.prep.th_min.val();
        self.s1_held.d.next = self.prep.held.val();
        self.s1_r_next.d.next = self.prep.r_next.val();
        // Stage 2: current sum and saturation, v_leak, threshold margin.
        self.sum.neg_v.next = self.s1_neg_v.q.val();
        self.sum.prod_v.next = self.s1_prod_v.q.val();
        self.sum.neg_i.next = self.s1_neg_i.q.val();
        self.sum.prod_i.next = self.s1_prod_i.q.val();
        self.sum.acc.next = self.s1_acc.q.val();
        self.sum.v_rest.next = self.s1_v_rest.q.val();
        self.sum.rest_th.next = self.s1_rest_th.q.val();
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_i_new.d.next = self.sum.i_new.val();
        self.s2_v_leak.d.next = self.sum.v_leak.val();
        self.s2_margin.d.next = self.sum.margin.val();
        self.s2_th_min.d.next = self.s1_th_min.q.val();
        self.s2_held.d.next = self.s1_held.q.val();
        self.s2_r_next.d.next = self.s1_r_next.q.val();
        // Stage 3: membrane sum, saturation, threshold, refractory.
        self.fire.i_new.next = self.s2_i_new.q.val();
        self.fire.v_leak.next = self.s2_v_leak.q.val();
        self.fire.margin.next = self.s2_margin.q.val();
        self.fire.th_min.next = self.s2_th_min.q.val();
        self.fire.held.next = self.s2_held.q.val();
        self.fire.r_next.next = self.s2_r_next.q.val();
        self.fire.v_reset.next = self.v_reset.val();
        self.s3_valid.d.next = self.s2_valid.q.val();
        self.s3_v_new.d.next = self.fire.v_new.val();
        self.s3_r_new.d.next = self.fire.r_new.val();
        self.s3_fired.d.next = self.fire.fired.val();
        self.out_valid.next = self.s3_valid.q.val();
        self.v_new.next = self.s3_v_new.q.val();
        self.i_new.next = self.s2_i_new.q.val();
        self.r_new.next = self.s3_r_new.q.val();
        self.fired.next = self.s3_fired.q.val();
    }
}
