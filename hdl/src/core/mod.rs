//! The arithmetic datapath of the neurofab core (docs/core-spec.md §2.2, §2.4, §4).
//!
//! * [`arith`]: width adapters ([`SignExtend`], [`ZeroExtend`], [`Narrow`]), the decay primitive
//!   ([`UDecay`], [`Decay`]) and [`Sat16`].
//! * [`neuron`]: the LIF update of one neuron, combinational ([`NeuronUpdate`]) and as a
//!   three-stage pipeline ([`NeuronUpdatePipe`]).
//! * [`stdp`]: the clamped weight update ([`WeightUpdate`]) and the trace step
//!   ([`TraceUpdate`]).
//!
//! Every block is bit-exact against the reference model (`neurofab_sim::model`), checked
//! by `hdl/tests/core_*.rs`.
//!
//! ## How the kernels do signed arithmetic
//!
//! rust-hdl 0.46 has no arithmetic shift and no concatenation, its `Signed` multiply is
//! 16 × 16 only, `bit_cast` widens with a 32-bit mask (Verilator WIDTH warnings) and
//! Verilog silently turns a slice of a signed value into an unsigned one. So, inside the
//! kernels:
//!
//! * ports are `Signed<N>` where the spec says "signed", but all arithmetic is done on
//!   `Bits<N>` two's complement patterns (`unsigned_cast` / `signed_cast` at the ports,
//!   same width, so `$unsigned`/`$signed` only re-label the bits);
//! * `+`/`-` are only used between operands of one width, which wrap identically in
//!   rust-hdl and Verilog; every sum is first widened so that it is exact, and only
//!   [`Sat16`] or a clamp narrows it again;
//! * widening goes through [`SignExtend`] / [`ZeroExtend`], leaf blocks whose Verilog is
//!   a replication-concatenation (`{{k{x[m-1]}}, x}`); narrowing that drops provably
//!   redundant bits goes through [`Narrow`];
//! * signed comparisons flip the sign bit (`a ^ 2^(N-1)`) and compare unsigned;
//! * `trunc(x·α / 2^15)` is computed in sign-magnitude: `|x|·α` on the unsigned 16 × 16
//!   multiplier, `>> 15` (floor of a non-negative value), then negated again if `x < 0`
//!   (as `!q + 1`, the `+ 1` being the carry input of the adder that uses the decay).
//!   Floor of the magnitude is truncation toward zero of the signed value.
//!
//! ## Block structure (why there are small leaf blocks)
//!
//! rust-hdl emits one `always @(*)` per kernel. When a kernel both drives a sub-block's
//! input and, in an `if`, reads that sub-block's output, Verilator cannot split the
//! block and reports a false combinational loop (UNOPTFLAT). So every `if` lives in a
//! leaf block without sub-blocks ([`SignMag`], [`AbsDiff`], [`Complement`], [`ClampAlpha`], [`Sat16`],
//! `RefractPrep`, `FireDecide`, `WeightOperand`, `ClampPick`, `TraceSat`), and the composite blocks only wire with plain
//! assignments. With that, every block lints with `verilator --lint-only -Wall` with
//! zero warnings and no `-Wno-…` option (tests/core_lint.rs).

pub mod arith;
pub mod engine;
pub mod executor;
pub mod neuron;
pub mod stdp;
pub mod weight_memory;

pub use arith::{
    AbsDiff, AddCarry, ClampAlpha, Complement, Decay, DecayQuotient, Narrow, Sat16, SignExtend,
    SignMag, UDecay, ZeroExtend,
};
pub use engine::{Engine, LanePattern};
pub use executor::{ExecFsm, Executor};
pub use neuron::{
    FireDecide, NeuronFire, NeuronLeak, NeuronPrep, NeuronSum, NeuronUpdate, NeuronUpdatePipe,
    RefractPrep,
};
pub use stdp::{
    ClampPick, TraceSat, TraceUpdate, WeightAmp, WeightApply, WeightClamp, WeightOperand,
    WeightSum, WeightUpdate,
};
pub use weight_memory::{WeightBank, WeightUnpack};

use neurofab_proto::{
    ALPHA_FRAC_BITS, ETA_SHIFT, MAX_INPUTS, MAX_NEURONS, MAX_WEIGHT_BITS, STATE_BITS, TRACE_BITS,
};
use rust_hdl::prelude::*;

/// `v`, `i`, `v_th`, `v_reset`, `v_rest` (spec §2.1, §2.3): signed 16-bit.
pub const STATE_W: usize = STATE_BITS as usize;
/// `v − v_rest` and the signed decay operand (spec §2.4: "needs 17 bits").
pub const DIFF_W: usize = STATE_W + 1;
/// Fraction bits of a Q1.15 decay factor (spec §2.2).
pub const ALPHA_FRAC: usize = ALPHA_FRAC_BITS as usize;
/// A Q1.15 factor 0 ..= 32768 as an unsigned port.
pub const ALPHA_W: usize = ALPHA_FRAC + 1;
/// Operand width of the only multiplier rust-hdl offers (`Bits<16> * Bits<16>`).
pub const MUL_W: usize = 16;
/// Its product width.
pub const PROD_W: usize = 2 * MUL_W;
/// `v_rest − v_th + dv` and `v_leak + i_new − v_th`: the threshold margin, exact for
/// 16-bit `v_rest`, `v_th`, `i_new` and `v_leak = v_rest + dv` (16-bit range).
pub const MARGIN_W: usize = DIFF_W + 1;
/// Presynaptic sources at most (spec §1: M + N).
pub const MAX_SOURCES: u32 = MAX_INPUTS as u32 + MAX_NEURONS as u32;
/// `acc` (spec §2.4): up to MAX_SOURCES terms in [−2^15, 2^15): 16 + log2(8192) = 29 bits.
pub const ACC_W: usize = STATE_W + MAX_SOURCES.next_power_of_two().ilog2() as usize;
/// `decay(i, α_i) + acc`, exact for every 16-bit decay and every `ACC_W`-bit acc.
pub const CURRENT_SUM_W: usize = ACC_W + 1;
/// STDP traces (spec §4.1): unsigned 8-bit.
pub const TRACE_W: usize = TRACE_BITS as usize;
/// `eta_plus` / `eta_minus` (spec §4.2): u8.
pub const ETA_W: usize = u8::BITS as usize;
/// `Δw = (trace · eta) >> 8` (spec §4.2).
pub const ETA_SHR: usize = ETA_SHIFT as usize;
/// Width of the amplitude `Δw` (0 ..= 254).
pub const AMP_W: usize = TRACE_W + ETA_W - ETA_SHR;
/// `r` and `t_ref` (spec §2.1, §2.3): u8.
pub const REFRACT_W: usize = u8::BITS as usize;
/// `w ± Δw` before the clamp (spec §4.3: "at least 18 bits signed").
pub const WEIGHT_SUM_W: usize = MAX_WEIGHT_BITS as usize + 2;
/// The clamp's differences `x − w_min`, `w_max − x` (`x`: [`WEIGHT_SUM_W`] bits).
pub const CLAMP_W: usize = WEIGHT_SUM_W + 1;

const _: () = {
    assert!(ALPHA_W <= MUL_W && STATE_W <= MUL_W && TRACE_W + ETA_W <= MUL_W);
    // acc's bound (spec §2.4): MAX_SOURCES · 2^15 <= 2^(ACC_W − 1).
    assert!((MAX_SOURCES as u64) << (STATE_W - 1) <= 1u64 << (ACC_W - 1));
    assert!(WEIGHT_SUM_W > MAX_WEIGHT_BITS as usize && AMP_W < WEIGHT_SUM_W);
};

/// Propagates input changes through a combinational block until it is stable (the
/// delta loop rust-hdl's simulator runs after every testbench step). Call
/// [`Block::connect_all`] once before the first use. Panics if the block oscillates.
pub fn settle<B: Block>(uut: &mut B) {
    for _ in 0..100 {
        uut.update_all();
        if !uut.has_changed() {
            return;
        }
    }
    panic!("combinational block failed to converge");
}

/// The Verilog of `uut` as a top module named `top` (connects it first).
pub fn verilog_of<B: Block>(mut uut: B) -> String {
    uut.connect_all();
    generate_verilog(&uut)
}
