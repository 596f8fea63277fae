//! The LIF neuron update of spec §2.4, for one neuron.
//!
//! The update is split at the multipliers into two combinational halves:
//!
//! * [`NeuronLeak`]: the two decays, `decay(i, α_i)` and `decay(v − v_rest, α_v)`;
//! * [`NeuronFinish`]: the sums, saturations, threshold and refractory logic.
//!
//! [`NeuronUpdate`] chains them combinationally (the functional reference, zero cycles);
//! [`NeuronUpdatePipe`] registers the leak results and the operands the finish stage needs,
//! and registers the outputs (latency 2, one neuron per clock).
//!
//! Critical path of [`NeuronUpdate`] (operand widths in bits):
//! `v − v_rest` (17-bit sub) → `|·|` (17-bit negate) → multiply (16 × 16, α clamped
//! to ≤ 2^15) → magnitude mux and sign (17-bit negate) → `v_rest + dv + i_new` (two 17-bit
//! adds) → `sat16` (17-bit add, compare, mux) → `>= v_th` (16-bit compare) → output mux.
//! The current path (negate, multiply, negate, 30-bit add, `sat16`) runs in parallel with
//! the membrane decay and joins at `+ i_new`. yosys `synth_ice40` (0.23, LUTs only):
//! about 1770 LUT4 + 234 carries, longest path 97 cells; with `-dsp`: 2 SB_MAC16 +
//! about 500 LUT4. nextpnr-ice40 on an HX8K: about 52 ns input to output (≈ 19 MHz).
//! [`NeuronUpdatePipe`] cuts after the multiplies and negations: about 28 ns for stage 1
//! and 39 MHz register to register for stage 2 on the same part (LUT multipliers).

use rust_hdl::prelude::*;

use super::arith::{Decay, Narrow, Sat16, SignExtend};
use super::{ACC_W, ALPHA_W, CURRENT_SUM_W, DIFF_W, REFRACT_W, STATE_W};
use crate::constant;

/// First half of §2.4: the two decays (multipliers). Combinational.
///
/// * `v`, `i`, `v_rest`: signed 16-bit; `alpha_v`, `alpha_i`: Q1.15, ≤ 32768.
/// * `di = decay(i, α_i)`: signed 16-bit (exact: `|di| <= |i|`).
/// * `dv = decay(v − v_rest, α_v)`: signed 17-bit.
#[derive(LogicBlock, Default)]
pub struct NeuronLeak {
    pub v: Signal<In, Signed<STATE_W>>,
    pub i: Signal<In, Signed<STATE_W>>,
    pub v_rest: Signal<In, Signed<STATE_W>>,
    pub alpha_v: Signal<In, Bits<ALPHA_W>>,
    pub alpha_i: Signal<In, Bits<ALPHA_W>>,
    pub di: Signal<Out, Signed<STATE_W>>,
    pub dv: Signal<Out, Signed<DIFF_W>>,
    ext_v: SignExtend<STATE_W, DIFF_W>,
    ext_rest: SignExtend<STATE_W, DIFF_W>,
    ext_i: SignExtend<STATE_W, DIFF_W>,
    decay_v: Decay,
    decay_i: Decay,
    di_narrow: Narrow<DIFF_W, STATE_W>,
}

impl Logic for NeuronLeak {
    #[hdl_gen]
    fn update(&mut self) {
        self.ext_v.x.next = unsigned_cast(self.v.val());
        self.ext_rest.x.next = unsigned_cast(self.v_rest.val());
        self.ext_i.x.next = unsigned_cast(self.i.val());
        // v − v_rest is exact in 17 bits.
        self.decay_v.x.next = signed_cast(self.ext_v.y.val() - self.ext_rest.y.val());
        self.decay_v.alpha.next = self.alpha_v.val();
        self.decay_i.x.next = signed_cast(self.ext_i.y.val());
        self.decay_i.alpha.next = self.alpha_i.val();
        self.dv.next = self.decay_v.y.val();
        // |decay(i)| <= |i| <= 2^15: the low 16 bits are the exact value.
        self.di_narrow.x.next = unsigned_cast(self.decay_i.y.val());
        self.di.next = signed_cast(self.di_narrow.y.val());
    }
}

/// Threshold and refractory decision of §2.4 (leaf).
///
/// `r > 0`: `r_new = r − 1`, `v_new = v_reset`, no spike. Otherwise `v_int >= v_th`
/// (signed, equality fires): spike, `v_new = v_reset`, `r_new = t_ref`; else
/// `v_new = v_int`, `r_new = 0`. The signed compare flips both sign bits and compares
/// unsigned.
#[derive(LogicBlock)]
pub struct FireLogic {
    pub v_int: Signal<In, Bits<STATE_W>>,
    pub v_th: Signal<In, Signed<STATE_W>>,
    pub v_reset: Signal<In, Signed<STATE_W>>,
    pub t_ref: Signal<In, Bits<REFRACT_W>>,
    pub r: Signal<In, Bits<REFRACT_W>>,
    pub v_new: Signal<Out, Signed<STATE_W>>,
    pub r_new: Signal<Out, Bits<REFRACT_W>>,
    pub fired: Signal<Out, Bit>,
    half: Constant<Bits<STATE_W>>,
    one: Constant<Bits<REFRACT_W>>,
    zero: Constant<Bits<REFRACT_W>>,
    v_int_key: Signal<Local, Bits<STATE_W>>,
    v_th_key: Signal<Local, Bits<STATE_W>>,
}

impl Default for FireLogic {
    fn default() -> Self {
        Self {
            v_int: Default::default(),
            v_th: Default::default(),
            v_reset: Default::default(),
            t_ref: Default::default(),
            r: Default::default(),
            v_new: Default::default(),
            r_new: Default::default(),
            fired: Default::default(),
            half: constant(1 << (STATE_W - 1)),
            one: constant(1),
            zero: constant(0),
            v_int_key: Default::default(),
            v_th_key: Default::default(),
        }
    }
}

impl Logic for FireLogic {
    #[hdl_gen]
    fn update(&mut self) {
        self.v_int_key.next = self.v_int.val() ^ self.half.val();
        self.v_th_key.next = unsigned_cast(self.v_th.val()) ^ self.half.val();
        if self.r.val().any() {
            // Refractory: hold v_reset, count down, cannot fire.
            self.r_new.next = self.r.val() - self.one.val();
            self.v_new.next = self.v_reset.val();
            self.fired.next = false;
        } else if self.v_int_key.val() >= self.v_th_key.val() {
            self.r_new.next = self.t_ref.val();
            self.v_new.next = self.v_reset.val();
            self.fired.next = true;
        } else {
            self.r_new.next = self.zero.val();
            self.v_new.next = signed_cast(self.v_int.val());
            self.fired.next = false;
        }
    }
}

/// Second half of §2.4: current sum, leak, threshold, refractory. Combinational.
///
/// Inputs: `di`, `dv` from [`NeuronLeak`] (`dv` must be `decay(v − v_rest, ·)` for this
/// `v_rest`, so that `v_rest + dv` lies between `v_rest` and `v`), `acc` (signed 29-bit),
/// the parameters `v_rest`, `v_th`, `v_reset` (signed 16-bit), `t_ref` (u8) and the state
/// `r` (u8). Outputs: `i_new`, `v_new` (signed 16-bit), `r_new` (u8), `fired`.
#[derive(LogicBlock, Default)]
pub struct NeuronFinish {
    pub di: Signal<In, Signed<STATE_W>>,
    pub dv: Signal<In, Signed<DIFF_W>>,
    pub acc: Signal<In, Signed<ACC_W>>,
    pub v_rest: Signal<In, Signed<STATE_W>>,
    pub v_th: Signal<In, Signed<STATE_W>>,
    pub v_reset: Signal<In, Signed<STATE_W>>,
    pub t_ref: Signal<In, Bits<REFRACT_W>>,
    pub r: Signal<In, Bits<REFRACT_W>>,
    pub i_new: Signal<Out, Signed<STATE_W>>,
    pub v_new: Signal<Out, Signed<STATE_W>>,
    pub r_new: Signal<Out, Bits<REFRACT_W>>,
    pub fired: Signal<Out, Bit>,
    ext_di: SignExtend<STATE_W, CURRENT_SUM_W>,
    ext_acc: SignExtend<ACC_W, CURRENT_SUM_W>,
    sat_i: Sat16<CURRENT_SUM_W>,
    ext_rest: SignExtend<STATE_W, DIFF_W>,
    ext_inew: SignExtend<STATE_W, DIFF_W>,
    sat_v: Sat16<DIFF_W>,
    fire: FireLogic,
}

impl Logic for NeuronFinish {
    #[hdl_gen]
    fn update(&mut self) {
        // i_new = sat16(decay(i, α_i) + acc), exact in 30 bits.
        self.ext_di.x.next = unsigned_cast(self.di.val());
        self.ext_acc.x.next = unsigned_cast(self.acc.val());
        self.sat_i.x.next = self.ext_di.y.val() + self.ext_acc.y.val();
        self.i_new.next = signed_cast(self.sat_i.y.val());
        // v_leak = v_rest + dv lies between v_rest and v, so v_leak + i_new is exact in
        // 17 bits; v_int = sat16 of it.
        self.ext_rest.x.next = unsigned_cast(self.v_rest.val());
        self.ext_inew.x.next = self.sat_i.y.val();
        self.sat_v.x.next =
            self.ext_rest.y.val() + unsigned_cast(self.dv.val()) + self.ext_inew.y.val();
        self.fire.v_int.next = self.sat_v.y.val();
        self.fire.v_th.next = self.v_th.val();
        self.fire.v_reset.next = self.v_reset.val();
        self.fire.t_ref.next = self.t_ref.val();
        self.fire.r.next = self.r.val();
        self.v_new.next = self.fire.v_new.val();
        self.r_new.next = self.fire.r_new.val();
        self.fired.next = self.fire.fired.val();
    }
}

/// The §2.4 update of one neuron, combinational (zero cycles): [`NeuronLeak`] followed by
/// [`NeuronFinish`].
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
    finish: NeuronFinish,
}

impl Logic for NeuronUpdate {
    #[hdl_gen]
    fn update(&mut self) {
        self.leak.v.next = self.v.val();
        self.leak.i.next = self.i.val();
        self.leak.v_rest.next = self.v_rest.val();
        self.leak.alpha_v.next = self.alpha_v.val();
        self.leak.alpha_i.next = self.alpha_i.val();
        self.finish.di.next = self.leak.di.val();
        self.finish.dv.next = self.leak.dv.val();
        self.finish.acc.next = self.acc.val();
        self.finish.v_rest.next = self.v_rest.val();
        self.finish.v_th.next = self.v_th.val();
        self.finish.v_reset.next = self.v_reset.val();
        self.finish.t_ref.next = self.t_ref.val();
        self.finish.r.next = self.r.val();
        self.v_new.next = self.finish.v_new.val();
        self.i_new.next = self.finish.i_new.val();
        self.r_new.next = self.finish.r_new.val();
        self.fired.next = self.finish.fired.val();
    }
}

/// [`NeuronUpdate`] as a two-stage pipeline: one neuron per clock, latency 2.
///
/// The inputs (same ports as [`NeuronUpdate`], plus `in_valid`) are sampled at a rising
/// edge; stage 1 ([`NeuronLeak`], the multipliers) feeds registers at that edge, stage 2
/// ([`NeuronFinish`]) feeds the output registers at the next edge. The outputs of the
/// neuron presented before edge k are valid after edge k+1, with `out_valid` high.
/// Every register powers up 0.
#[derive(LogicBlock, Default)]
pub struct NeuronUpdatePipe {
    pub clock: Signal<In, Clock>,
    pub in_valid: Signal<In, Bit>,
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
    pub out_valid: Signal<Out, Bit>,
    pub v_new: Signal<Out, Signed<STATE_W>>,
    pub i_new: Signal<Out, Signed<STATE_W>>,
    pub r_new: Signal<Out, Bits<REFRACT_W>>,
    pub fired: Signal<Out, Bit>,
    leak: NeuronLeak,
    finish: NeuronFinish,
    // Stage-1 registers.
    s1_valid: DFF<Bit>,
    s1_di: DFF<Signed<STATE_W>>,
    s1_dv: DFF<Signed<DIFF_W>>,
    s1_acc: DFF<Signed<ACC_W>>,
    s1_v_rest: DFF<Signed<STATE_W>>,
    s1_v_th: DFF<Signed<STATE_W>>,
    s1_v_reset: DFF<Signed<STATE_W>>,
    s1_t_ref: DFF<Bits<REFRACT_W>>,
    s1_r: DFF<Bits<REFRACT_W>>,
    // Output registers.
    s2_valid: DFF<Bit>,
    s2_v_new: DFF<Signed<STATE_W>>,
    s2_i_new: DFF<Signed<STATE_W>>,
    s2_r_new: DFF<Bits<REFRACT_W>>,
    s2_fired: DFF<Bit>,
}

impl Logic for NeuronUpdatePipe {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, s1_valid, s1_di, s1_dv, s1_acc, s1_v_rest, s1_v_th, s1_v_reset, s1_t_ref,
            s1_r, s2_valid, s2_v_new, s2_i_new, s2_r_new, s2_fired
        );
        // Stage 1: decays.
        self.leak.v.next = self.v.val();
        self.leak.i.next = self.i.val();
        self.leak.v_rest.next = self.v_rest.val();
        self.leak.alpha_v.next = self.alpha_v.val();
        self.leak.alpha_i.next = self.alpha_i.val();
        self.s1_valid.d.next = self.in_valid.val();
        self.s1_di.d.next = self.leak.di.val();
        self.s1_dv.d.next = self.leak.dv.val();
        self.s1_acc.d.next = self.acc.val();
        self.s1_v_rest.d.next = self.v_rest.val();
        self.s1_v_th.d.next = self.v_th.val();
        self.s1_v_reset.d.next = self.v_reset.val();
        self.s1_t_ref.d.next = self.t_ref.val();
        self.s1_r.d.next = self.r.val();
        // Stage 2: sums, saturation, threshold.
        self.finish.di.next = self.s1_di.q.val();
        self.finish.dv.next = self.s1_dv.q.val();
        self.finish.acc.next = self.s1_acc.q.val();
        self.finish.v_rest.next = self.s1_v_rest.q.val();
        self.finish.v_th.next = self.s1_v_th.q.val();
        self.finish.v_reset.next = self.s1_v_reset.q.val();
        self.finish.t_ref.next = self.s1_t_ref.q.val();
        self.finish.r.next = self.s1_r.q.val();
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_v_new.d.next = self.finish.v_new.val();
        self.s2_i_new.d.next = self.finish.i_new.val();
        self.s2_r_new.d.next = self.finish.r_new.val();
        self.s2_fired.d.next = self.finish.fired.val();
        self.out_valid.next = self.s2_valid.q.val();
        self.v_new.next = self.s2_v_new.q.val();
        self.i_new.next = self.s2_i_new.q.val();
        self.r_new.next = self.s2_r_new.q.val();
        self.fired.next = self.s2_fired.q.val();
    }
}
