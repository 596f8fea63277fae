//! [`Engine`]: the core's compute engine (docs/rtl.md §4–§6): every core memory, the
//! step phases of docs/core-spec.md §3, the resets of §5 and single-item host access.
//!
//! See docs/hdl.md, section "Engine", for the memory layout (and where it deviates from
//! docs/rtl.md §5), the pipelines and the exact cycle count of every operation.
//!
//! Structure of the kernel: one FSM ([`Phase`]) issues one item per cycle ("stage A":
//! RAM read addresses come from counters); the RAMs answer one cycle later ("stage B",
//! and "stage C" for delivery, whose weight address comes from the source list). RAM
//! outputs are registered before the datapath blocks ([`NeuronUpdatePipe`], [`WeightAmp`]
//! then [`WeightSum`] and, a stage later, [`WeightClamp`], [`TraceUpdate`]) compute, and the results are written back in
//! a later stage (docs/hdl.md, "Engine pipelines": no multiplier sits between a RAM
//! output and a RAM input). Every later stage runs off its own valid bit, so a phase's
//! last items finish while the FSM has moved on.
//!
//! Lanes: `P` weight banks. A lane selection "bank b feeds lane j iff (b − j) mod P = r"
//! is written `pat.get_bit(b + 8 - j)` with `pat` = [`LanePattern`] of r: bit t of the
//! pattern is `t mod P == r mod P`, so the index only uses loop variables (rust-hdl
//! evaluates `[...]` at generation time from loop variables alone).

use neurofab_proto::records::{neuron_params as np, neuron_state as ns, stdp_params as sp};
use neurofab_proto::{CoreConfig, NeuronParams, StdpParams};
use rust_hdl::prelude::*;

use super::arith::ClampAlpha;
use super::neuron::NeuronUpdatePipe;
use super::stdp::{TraceUpdate, WeightAmp, WeightClamp, WeightOperand, WeightSum};
use super::weight_memory::WeightBank;
use super::{ACC_W, ALPHA_W, REFRACT_W, STATE_W, TRACE_W, WEIGHT_SUM_W};
use crate::widgets::{bits_for, NarrowReg, Ram, Reg};

/// Operation codes (docs/rtl.md §4).
pub mod op {
    pub const STEP: u64 = 1;
    pub const STATE_RESET: u64 = 2;
    pub const FULL_RESET: u64 = 3;
    pub const READ_WEIGHT: u64 = 4;
    pub const WRITE_WEIGHT: u64 = 5;
    pub const READ_MASK: u64 = 6;
    pub const WRITE_MASK: u64 = 7;
    pub const READ_PARAMS: u64 = 8;
    pub const WRITE_PARAMS: u64 = 9;
    pub const READ_STATE: u64 = 10;
    pub const READ_TRACE: u64 = 11;
    pub const SET_INPUT: u64 = 12;
    pub const READ_FIRED_BYTE: u64 = 13;
    pub const READ_FIRED_COUNT: u64 = 14;
    pub const WRITE_STDP: u64 = 15;
}

/// `op` port width.
pub const OP_W: usize = 4;
/// Source index (`src` port): up to 8192 sources and the count M+N itself.
pub const SRC_W: usize = 14;
/// Neuron index (`neuron` port).
pub const NEU_W: usize = 13;
/// Replay slot (`slot` port).
pub const SLOT_W: usize = 6;
/// Byte of a fired bitmap (`byte_idx` port).
pub const BYTE_W: usize = 10;
/// `wdata` / `stdp` ports: the 14-byte STDP record, the widest operand.
pub const WDATA_W: usize = 8 * sp::LEN;
/// `rdata`: the 12-byte parameter record, the widest result.
pub const RDATA_W: usize = 8 * np::LEN;
/// The stored parameter record: the 12-byte record without v_reset (bytes 0–1 and 4–11;
/// v_reset has its own RAM, `params_reset`).
pub const PSTORE_W: usize = RDATA_W - STATE_W;
/// Weight-bank address: (M+N)·G < 8192 · 4096 = 2^25.
pub const WADDR_W: usize = 25;
/// Replay address: R · ceil(N/8) <= 64 · 512 = 2^15.
pub const RADDR_W: usize = 15;
/// Weights on the lane datapath (sign-extended from W).
pub const WEIGHT_W: usize = 16;
/// v, i, r: the first five bytes of the state record.
const V_BIT: usize = 8 * ns::V;
const I_BIT: usize = 8 * ns::I;
const R_BIT: usize = 8 * ns::REFRACTORY;
const Y_BIT: usize = 8 * ns::POST_TRACE;

// The kernel slices records with literal offsets (a Rust constant is not a Verilog
// name); these asserts tie the literals to the protocol's record layouts.
const _: () = {
    assert!(np::V_TH == 0 && np::V_RESET == 2 && np::V_REST == 4);
    assert!(np::ALPHA_V == 6 && np::ALPHA_I == 8 && np::T_REF == 10 && np::W_SHIFT == 11);
    assert!(np::LEN == 12 && ns::LEN == 6);
    assert!(V_BIT == 0 && I_BIT == 16 && R_BIT == 32 && Y_BIT == 40);
    assert!(sp::FLAGS == 0 && sp::FLAG_ENABLED == 1 && sp::ETA_PLUS == 1);
    assert!(sp::ETA_MINUS == 2 && sp::INC_PRE == 3 && sp::INC_POST == 4);
    assert!(sp::W_MIN == 6 && sp::W_MAX == 8 && sp::ALPHA_PRE == 10 && sp::ALPHA_POST == 12);
    assert!(sp::LEN == 14);
    assert!(ACC_W == 29 && STATE_W == 16 && ALPHA_W == 16 && TRACE_W == 8);
    assert!(PSTORE_W == 80);
};

/// The engine's FSM state. The first variant is the power-up state: the engine starts
/// with a full reset.
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum Phase {
    /// Clear weights, masks and parameters (then `ResetState`).
    ResetFull,
    /// v = v_rest, i = r = y = x = 0, no active sources.
    ResetState,
    Idle,
    /// Host access: addresses (reads) or the write.
    HostA,
    /// Host access: read data → `rdata` (weights and masks: into `hw_r`/`hm_r`).
    HostB,
    /// Host access: a weight or mask read, `hw_r`/`hm_r` → `rdata` (the wide weight RAMs'
    /// output muxes and the result mux are in different cycles).
    HostC,
    /// Phases 1 + 4: pre-traces and the source list.
    Walk,
    /// Phase 2: delivery and depression, group by group.
    Deliver,
    /// Phases 3 + 6: neuron update, post-traces, fired list and bitmap.
    Neuron,
    /// Phase 5: next fired neuron from the list (or done).
    PotFetch,
    /// Phase 5: column set-up.
    PotSetup,
    /// Phase 5: P sources of the column per cycle.
    PotColumn,
    /// Store |F(t)| in the replay slot.
    Finish,
}

/// Bit t (0 ≤ t < 16) of `pat` is `(t mod P) == (r mod P)`. Leaf, custom Verilog.
#[derive(LogicBlock)]
pub struct LanePattern<const P: usize> {
    pub r: Signal<In, Bits<3>>,
    pub pat: Signal<Out, Bits<16>>,
}

impl<const P: usize> Default for LanePattern<P> {
    fn default() -> Self {
        assert!(matches!(P, 1 | 2 | 4 | 8), "lanes must be 1, 2, 4 or 8");
        Self {
            r: Default::default(),
            pat: Default::default(),
        }
    }
}

impl<const P: usize> Logic for LanePattern<P> {
    fn update(&mut self) {
        let r = self.r.val().to_u64() as usize % P;
        let mut pat = 0u64;
        for t in 0..16 {
            if t % P == r {
                pat |= 1 << t;
            }
        }
        self.pat.next = pat.to_bits();
    }

    fn connect(&mut self) {
        self.pat.connect();
    }

    fn hdl(&self) -> Verilog {
        let k = P.trailing_zeros() as usize;
        let mut code = String::new();
        if k == 0 {
            code.push_str("always @(*) pat = 16'hffff;\nwire unused_r = ^r;\n");
        } else {
            code.push_str("always @(*) begin\n");
            for t in 0..16 {
                code.push_str(&format!(
                    "    pat[{t}] = (r[{hi}:0] == {k}'d{v});\n",
                    hi = k - 1,
                    v = t % P
                ));
            }
            code.push_str("end\n");
            if k < 3 {
                code.push_str(&format!("wire unused_r = ^r[2:{k}];\n"));
            }
        }
        Verilog::Custom(code)
    }
}

/// `out = {0, x}`: zero extension of `M` to `N` bits, any widths (custom Verilog).
#[derive(LogicBlock, Default)]
pub struct Widen<const M: usize, const N: usize> {
    pub x: Signal<In, Bits<M>>,
    pub out: Signal<Out, Bits<N>>,
}

impl<const M: usize, const N: usize> Logic for Widen<M, N> {
    fn update(&mut self) {
        const { assert!(M >= 1 && M < N) };
        let mut y = Bits::<N>::default();
        let x = self.x.val();
        for t in 0..M {
            y = y.replace_bit(t, x.get_bit(t));
        }
        self.out.next = y;
    }

    fn connect(&mut self) {
        self.out.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!("always @(*) out = {{{}'b0, x}};", N - M))
    }
}

/// The 6-byte state record (protocol §4.3: v, i, r, y little-endian) in the low 48 bits
/// of a 96-bit result (custom Verilog).
#[derive(LogicBlock, Default)]
pub struct StatePack {
    pub v: Signal<In, Bits<STATE_W>>,
    pub i: Signal<In, Bits<STATE_W>>,
    pub r: Signal<In, Bits<REFRACT_W>>,
    pub y: Signal<In, Bits<TRACE_W>>,
    pub out: Signal<Out, Bits<RDATA_W>>,
}

impl Logic for StatePack {
    fn update(&mut self) {
        let word = self.v.val().to_u64() << V_BIT
            | self.i.val().to_u64() << I_BIT
            | self.r.val().to_u64() << R_BIT
            | self.y.val().to_u64() << Y_BIT;
        let mut y = Bits::<RDATA_W>::default();
        for t in 0..8 * ns::LEN {
            y = y.replace_bit(t, (word >> t) & 1 == 1);
        }
        self.out.next = y;
    }

    fn connect(&mut self) {
        self.out.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "always @(*) out = {{{}'b0, y, r, i, v}};",
            RDATA_W - 8 * ns::LEN
        ))
    }
}

/// The STDP record register (protocol §4.2, 112 bits on `d`/`q`), storing only the bits a
/// valid record can set: the enable flag, the four u8 fields, w_min and w_max as W-bit
/// values (sign-extended on `q`) and the two alphas; flag bits 1–7 and byte 5 read as 0.
/// The executor NACKs any other record (WRITE_STDP validation), so `q` equals the
/// record last written. At W = 8 this is 81 flip-flops instead of 112, each of them a
/// logic cell of its own on iCE40 (nothing but a copy of `d` drives it). Leaf, custom
/// Verilog.
#[derive(LogicBlock)]
pub struct StdpReg {
    pub d: Signal<In, Bits<WDATA_W>>,
    pub q: Signal<Out, Bits<WDATA_W>>,
    pub clock: Signal<In, Clock>,
    _w_bits: usize,
}

impl StdpReg {
    fn new(w_bits: usize) -> Self {
        assert!((2..=16).contains(&w_bits));
        Self {
            d: Default::default(),
            q: Default::default(),
            clock: Default::default(),
            _w_bits: w_bits,
        }
    }

    /// The record as stored and read back.
    fn keep(&self, d: Bits<WDATA_W>) -> Bits<WDATA_W> {
        let w = self._w_bits;
        let mut q = Bits::<WDATA_W>::default();
        let copy = |q: &mut Bits<WDATA_W>, from: usize, to: usize| {
            *q = q.replace_bit(to, d.get_bit(from));
        };
        copy(&mut q, 0, 0);
        for t in 8..40 {
            copy(&mut q, t, t);
        }
        for base in [48, 64] {
            for t in 0..16 {
                copy(&mut q, base + t.min(w - 1), base + t);
            }
        }
        for t in 80..112 {
            copy(&mut q, t, t);
        }
        q
    }
}

impl Logic for StdpReg {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.q.next = self.keep(self.d.val());
        }
    }

    fn connect(&mut self) {
        self.q.connect();
    }

    fn hdl(&self) -> Verilog {
        let w = self._w_bits;
        let (ext_min, ext_max, unused_w) = if w == 16 {
            ("w_min".to_string(), "w_max".to_string(), String::new())
        } else {
            (
                format!("{{{{{}{{w_min[{}]}}}}, w_min}}", 16 - w, w - 1),
                format!("{{{{{}{{w_max[{}]}}}}, w_max}}", 16 - w, w - 1),
                format!(", d[63:{}], d[79:{}]", 48 + w, 64 + w),
            )
        };
        Verilog::Wrapper(Wrapper {
            code: format!(
                "reg enabled;
                 reg [31:0] bytes_1_4;
                 reg [{w1}:0] w_min;
                 reg [{w1}:0] w_max;
                 reg [31:0] alphas;
                 initial begin enabled = 1'b0; bytes_1_4 = 32'h0; w_min = {w}'h0; w_max = {w}'h0; alphas = 32'h0; end
                 always @(posedge clock) begin
                     enabled <= d[0];
                     bytes_1_4 <= d[39:8];
                     w_min <= d[{wmin_hi}:48];
                     w_max <= d[{wmax_hi}:64];
                     alphas <= d[111:80];
                 end
                 assign q = {{alphas, {ext_max}, {ext_min}, 8'h0, bytes_1_4, 7'h0, enabled}};
                 wire unused_bits = ^{{d[7:1], d[47:40]{unused_w}}};
",
                w1 = w - 1,
                wmin_hi = 48 + w - 1,
                wmax_hi = 64 + w - 1,
            ),
            cores: String::new(),
        })
    }

    fn timing(&self) -> Vec<TimingInfo> {
        crate::widgets::reg::register_timing()
    }
}

/// The compute engine of a core with `P` weight lanes (docs/rtl.md §4).
///
/// | port | dir | type | meaning |
/// |---|---|---|---|
/// | `clock` | in | Clock | |
/// | `op` | in | Bits<4> | operation code ([`op`]) |
/// | `op_start` | in | Bit | start `op` (only while `!busy`) |
/// | `busy` | out | Bit | rises at the edge after `op_start`, falls when done |
/// | `src` | in | Bits<14> | source operand |
/// | `neuron` | in | Bits<13> | neuron operand |
/// | `slot` | in | Bits<6> | replay slot (taken mod R) |
/// | `byte_idx` | in | Bits<10> | byte of a fired bitmap |
/// | `wdata` | in | Bits<112> | write operand (weight, mask, params, STDP record); held until `busy` falls |
/// | `rdata` | out | Bits<96> | read result, valid until the next `op_start`: bytes 0–5 held in a register (0 above the result), bytes 6–11 the parameter RAM's output (only meaningful after READ_PARAMS) |
/// | `fired_count` | out | Bits<13> | \|F\| of the last STEP or READ_FIRED_COUNT |
/// | `stdp` | out | Bits<112> | the current STDP record |
#[derive(LogicBlock)]
pub struct Engine<const P: usize> {
    pub clock: Signal<In, Clock>,
    pub op: Signal<In, Bits<OP_W>>,
    pub op_start: Signal<In, Bit>,
    pub busy: Signal<Out, Bit>,
    pub src: Signal<In, Bits<SRC_W>>,
    pub neuron: Signal<In, Bits<NEU_W>>,
    pub slot: Signal<In, Bits<SLOT_W>>,
    pub byte_idx: Signal<In, Bits<BYTE_W>>,
    pub wdata: Signal<In, Bits<WDATA_W>>,
    pub rdata: Signal<Out, Bits<RDATA_W>>,
    pub fired_count: Signal<Out, Bits<NEU_W>>,
    pub stdp: Signal<Out, Bits<WDATA_W>>,

    // ---- memories ----
    wbank: [WeightBank; P],
    ybank: [Ram<NEU_W, TRACE_W>; P],
    accbank: [Ram<NEU_W, ACC_W>; P],
    xbank: [Ram<SRC_W, TRACE_W>; P],
    /// The parameter records without v_reset ([`PSTORE_W`]); v_reset has its own RAM,
    /// read two stages later than the rest (stage E), so that no register carries it down
    /// the update pipeline.
    params: Ram<NEU_W, PSTORE_W>,
    params_reset: Ram<NEU_W, STATE_W>,
    /// Stored form → record (host reads): both RAMs' outputs at record width.
    params_ext: Widen<PSTORE_W, RDATA_W>,
    reset_ext: Widen<STATE_W, RDATA_W>,
    mem_v: Ram<NEU_W, STATE_W>,
    mem_i: Ram<NEU_W, STATE_W>,
    mem_r: Ram<NEU_W, REFRACT_W>,
    active: Ram<SRC_W, 1>,
    list_src: Ram<SRC_W, 3>,
    list_base: Ram<SRC_W, WADDR_W>,
    fired_grp: Ram<NEU_W, WADDR_W>,
    fired_lane: Ram<NEU_W, 3>,
    replay: Ram<RADDR_W, 8>,
    counts: Ram<SLOT_W, NEU_W>,

    // ---- datapath ----
    nu: NeuronUpdatePipe,
    xtrace: TraceUpdate,
    ytrace: TraceUpdate,
    /// The trace factors `min(alpha_pre, 2^15)`, `min(alpha_post, 2^15)`, registered: the
    /// record only changes between steps, and a register on a multiplier input is free on
    /// iCE40 UltraPlus (the `SB_MAC16` input register) and takes the clamp off the trace
    /// path (STDP record → clamp → multiplier → sum → trace RAM was 41.8 ns at N=256).
    clamp_xa: ClampAlpha,
    clamp_ya: ClampAlpha,
    xtrace_alpha: DFF<Bits<ALPHA_W>>,
    ytrace_alpha: DFF<Bits<ALPHA_W>>,
    dep_amp: [WeightAmp; P],
    pot_amp: [WeightAmp; P],
    w_op: [WeightOperand<WEIGHT_W>; P],
    w_sum: [WeightSum<WEIGHT_W>; P],
    w_clamp: [WeightClamp<WEIGHT_W>; P],
    acc_ext: [super::arith::SignExtend<WEIGHT_W, ACC_W>; P],
    h_src16: super::arith::ZeroExtend<SRC_W, 16>,
    h_prod: super::arith::Narrow<32, WADDR_W>,
    h_grp25: super::arith::ZeroExtend<NEU_W, WADDR_W>,
    h_byte: super::arith::ZeroExtend<BYTE_W, RADDR_W>,
    h_slot: super::arith::ZeroExtend<SLOT_W, RADDR_W>,
    f_grp25: super::arith::ZeroExtend<NEU_W, WADDR_W>,
    f_src: super::arith::ZeroExtend<NEU_W, SRC_W>,
    res_w: Widen<WEIGHT_W, RDATA_W>,
    res_m: Widen<1, RDATA_W>,
    res_x: Widen<TRACE_W, RDATA_W>,
    res_byte: Widen<8, RDATA_W>,
    res_state: StatePack,
    pat_host: LanePattern<P>,
    pat_hn: LanePattern<P>,
    pat_hs: LanePattern<P>,
    pat_dl: LanePattern<P>,
    pat_pot: LanePattern<P>,
    pat_bs: LanePattern<P>,
    pat_bn: LanePattern<P>,
    pat_nc: LanePattern<P>,
    pat_wc: LanePattern<P>,
    pat_nf: LanePattern<P>,
    pat_wx: LanePattern<P>,

    // ---- FSM and registers ----
    phase: Reg<Phase>,
    h_op: DFF<Bits<OP_W>>,
    h_src: NarrowReg<SRC_W>,
    h_n: NarrowReg<NEU_W>,
    h_slot_r: DFF<Bits<SLOT_W>>,
    h_byte_r: DFF<Bits<BYTE_W>>,
    rdata_r: DFF<Bits<RDATA_W>>,
    hw_r: DFF<Bits<WEIGHT_W>>,
    hm_r: DFF<Bits<1>>,
    count_r: NarrowReg<NEU_W>,
    stdp_r: StdpReg,
    // full reset
    clr_w: NarrowReg<WADDR_W>,
    clr_n: NarrowReg<NEU_W>,
    // walk / state reset (stage A counters)
    s_cnt: NarrowReg<SRC_W>,
    s_base: NarrowReg<WADDR_W>,
    n_cnt: NarrowReg<NEU_W>,
    list_len: NarrowReg<SRC_W>,
    // walk / state reset / neuron stage B
    b_valid: DFF<Bit>,
    b_nvalid: DFF<Bit>,
    b_s: NarrowReg<SRC_W>,
    b_base: NarrowReg<WADDR_W>,
    b_n: NarrowReg<NEU_W>,
    // delivery
    g_cnt: NarrowReg<NEU_W>,
    g_25: NarrowReg<WADDR_W>,
    k_cnt: NarrowReg<SRC_W>,
    dl_v1: DFF<Bit>,
    dl_vb: DFF<Bit>,
    dl_addr_b: NarrowReg<WADDR_W>,
    dl_rot_b: DFF<Bits<3>>,
    dl_v2: DFF<Bit>,
    dl_rot: DFF<Bits<3>>,
    acc: [DFF<Bits<ACC_W>>; P],
    // neuron phase
    f_len: NarrowReg<NEU_W>,
    rbyte: DFF<Bits<8>>,
    rbit: DFF<Bits<8>>,
    rb_addr: NarrowReg<RADDR_W>,
    // potentiation
    q_cnt: NarrowReg<NEU_W>,
    col_base: NarrowReg<WADDR_W>,
    f_lane: DFF<Bits<3>>,
    c_cnt: NarrowReg<SRC_W>,
    pt_v: DFF<Bit>,
    /// Potentiation: the column address per bank (stage B); delivery: the row address
    /// (stage C).
    pt_addr: [NarrowReg<WADDR_W>; P],
    pt_lanes: DFF<Bits<8>>,
    // ---- pipeline registers for timing (docs/hdl.md, "Engine pipelines") ----
    // walk stage C: the pre-trace update from registered operands
    wc_v: DFF<Bit>,
    wc_s: NarrowReg<SRC_W>,
    wc_x: DFF<Bits<TRACE_W>>,
    wc_spike: DFF<Bit>,
    // delivery stage D: depression from registered weights and post-traces
    dd_v: DFF<Bit>,
    dd_rot: DFF<Bits<3>>,
    dd_w: [DFF<Bits<WEIGHT_W>>; P],
    dd_m: [DFF<Bit>; P],
    dd_amp: [DFF<Bits<WEIGHT_SUM_W>>; P],
    // neuron stages C (operands of the pipelined update), D, E and F (side band). With
    // `k_direct` the operands are the RAM outputs themselves, read one stage late (see
    // `Phase::Neuron`), and the operand registers have no load (synthesis removes them).
    nc_v: DFF<Bit>,
    nc_params: DFF<Bits<PSTORE_W>>,
    nc_vm: DFF<Bits<STATE_W>>,
    nc_i: DFF<Bits<STATE_W>>,
    nc_r: DFF<Bits<REFRACT_W>>,
    nc_acc: DFF<Bits<ACC_W>>,
    nc_y: DFF<Bits<TRACE_W>>,
    nc_n: NarrowReg<NEU_W>,
    nd_v: DFF<Bit>,
    nd_y: DFF<Bits<TRACE_W>>,
    nd_n: NarrowReg<NEU_W>,
    ne_v: DFF<Bit>,
    ne_y: DFF<Bits<TRACE_W>>,
    ne_n: NarrowReg<NEU_W>,
    nf_y: DFF<Bits<TRACE_W>>,
    nf_n: NarrowReg<NEU_W>,
    /// Stage C's operands (registered or direct) and stage F's post-trace.
    c_params: Signal<Local, Bits<PSTORE_W>>,
    c_acc: Signal<Local, Bits<ACC_W>>,
    /// `sel_acc << w_shift` from the parameter RAM's output: registered in stage B, or
    /// stage C's operand (direct).
    acc_shifted: Signal<Local, Bits<ACC_W>>,
    f_y: Signal<Local, Bits<TRACE_W>>,
    /// The record being written, and the one read, as stored (v_reset's bytes removed)
    /// and reassembled.
    p_store: Signal<Local, Bits<RDATA_W>>,
    p_record: Signal<Local, Bits<RDATA_W>>,
    /// w_shift and the reserved byte of stage C's parameters (acc is shifted from the RAM
    /// output or in stage B), and the bits of `p_store` above the stored form.
    unused_params: Signal<Local, Bit>,
    // potentiation stage C: potentiation from registered weights and pre-traces
    pc_v: DFF<Bit>,
    pc_addr: [NarrowReg<WADDR_W>; P],
    pc_rot: DFF<Bits<3>>,
    pc_lanes: DFF<Bits<8>>,
    pc_w: [DFF<Bits<WEIGHT_W>>; P],
    pc_m: [DFF<Bit>; P],
    pc_amp: [DFF<Bits<WEIGHT_SUM_W>>; P],
    // weight clamp stage, shared by depression (delivery stage E) and potentiation (stage
    // D): the registered sum of `WeightSum` (`neg`: depression, the sum is !(w − Δw)),
    // the lanes' write enables, the lane rotation and the banks' addresses
    wx_v: DFF<Bit>,
    wx_neg: DFF<Bit>,
    wx_rot: DFF<Bits<3>>,
    wx_t: [DFF<Bits<WEIGHT_SUM_W>>; P],
    wx_en: [DFF<Bit>; P],
    wx_addr: [NarrowReg<WADDR_W>; P],
    // Weight write-back: every writer (clear, host, depression, potentiation) sets these,
    // and the banks' write ports take them one cycle later, so the clamp and the lane
    // rotation do not share a cycle with the routing to a bank's (up to 40) block RAMs.
    wb_we: [DFF<Bit>; P],
    wb_addr: [NarrowReg<WADDR_W>; P],
    wb_data: [NarrowReg<WEIGHT_W>; P],

    // ---- locals ----
    learn: Signal<Local, Bit>,
    /// SPRAM weights with learning on: delivery and potentiation read every other cycle.
    slow: Signal<Local, Bit>,
    h_addr: Signal<Local, Bits<WADDR_W>>,
    h_raddr: Signal<Local, Bits<RADDR_W>>,
    dl_w: [Signal<Local, Bits<WEIGHT_W>>; P],
    dl_m: [Signal<Local, Bits<1>>; P],
    pt_w: [Signal<Local, Bits<WEIGHT_W>>; P],
    pt_m: [Signal<Local, Bits<1>>; P],
    sel_x: Signal<Local, Bits<TRACE_W>>,
    sel_y: Signal<Local, Bits<TRACE_W>>,
    sel_acc: Signal<Local, Bits<ACC_W>>,
    h_w: Signal<Local, Bits<WEIGHT_W>>,
    h_m: Signal<Local, Bits<1>>,
    h_x: Signal<Local, Bits<TRACE_W>>,
    h_y: Signal<Local, Bits<TRACE_W>>,
    new_byte: Signal<Local, Bits<8>>,
    /// Lane-pattern bits a configuration does not use (Verilator exempts `*unused*`).
    unused_pats: Signal<Local, Bit>,

    // ---- constants ----
    /// Weights in SPRAM (`CoreConfig::weight_memory`).
    k_spram: Constant<Bit>,
    op_step: Constant<Bits<OP_W>>,
    op_state_reset: Constant<Bits<OP_W>>,
    op_full_reset: Constant<Bits<OP_W>>,
    op_read_weight: Constant<Bits<OP_W>>,
    op_write_weight: Constant<Bits<OP_W>>,
    op_read_mask: Constant<Bits<OP_W>>,
    op_write_mask: Constant<Bits<OP_W>>,
    op_read_params: Constant<Bits<OP_W>>,
    op_write_params: Constant<Bits<OP_W>>,
    op_read_state: Constant<Bits<OP_W>>,
    op_read_trace: Constant<Bits<OP_W>>,
    op_set_input: Constant<Bits<OP_W>>,
    op_read_fired_byte: Constant<Bits<OP_W>>,
    op_read_fired_count: Constant<Bits<OP_W>>,
    op_write_stdp: Constant<Bits<OP_W>>,
    k_sources: Constant<Bits<SRC_W>>,
    k_inputs: Constant<Bits<SRC_W>>,
    k_neurons: Constant<Bits<NEU_W>>,
    k_last_neuron: Constant<Bits<NEU_W>>,
    k_last_group: Constant<Bits<NEU_W>>,
    k_chunks: Constant<Bits<SRC_W>>,
    k_last_chunk: Constant<Bits<SRC_W>>,
    k_wdepth: Constant<Bits<WADDR_W>>,
    k_g25: Constant<Bits<WADDR_W>>,
    k_pg25: Constant<Bits<WADDR_W>>,
    k_g16: Constant<Bits<16>>,
    k_lane_off: [Constant<Bits<WADDR_W>>; P],
    k_last_lanes: Constant<Bits<8>>,
    k_all_lanes: Constant<Bits<8>>,
    k_lg_p: Constant<Bits<4>>,
    k_lg_r: Constant<Bits<4>>,
    k_rmask15: Constant<Bits<RADDR_W>>,
    k_rmask6: Constant<Bits<SLOT_W>>,
    k_r15: Constant<Bits<RADDR_W>>,
    k_params_reset: Constant<Bits<RDATA_W>>,
    k_pstore_reset: Constant<Bits<PSTORE_W>>,
    /// v_th's bits, v_reset's bit offset and v_rest's.
    k_th_mask: Constant<Bits<RDATA_W>>,
    k_reset_shift: Constant<Bits<8>>,
    k_rest_shift: Constant<Bits<8>>,
    /// The `rdata` bits held in `rdata_r` (bytes 0–5).
    k_rdata_held: Constant<Bits<RDATA_W>>,
    /// Neuron operands straight from the RAM outputs ([`neuron_operands_direct`]).
    k_direct: Constant<Bit>,
    k_stdp_reset: Constant<Bits<WDATA_W>>,
    one_src: Constant<Bits<SRC_W>>,
    one_neu: Constant<Bits<NEU_W>>,
    one_w: Constant<Bits<WADDR_W>>,
    zero_src: Constant<Bits<SRC_W>>,
    zero_neu: Constant<Bits<NEU_W>>,
    zero_w: Constant<Bits<WADDR_W>>,
    zero_acc: Constant<Bits<ACC_W>>,
    zero_16: Constant<Bits<16>>,
    zero_8: Constant<Bits<8>>,
    one_8: Constant<Bits<8>>,
    bit_0: Constant<Bits<1>>,
    bit_1: Constant<Bits<1>>,
    top_8: Constant<Bits<8>>,
}

/// `value` as a constant of N bits, from a (possibly > 64-bit) little-endian byte record.
fn record_constant<const N: usize>(bytes: &[u8]) -> Constant<Bits<N>> {
    assert_eq!(bytes.len() * 8, N);
    let mut b = Bits::<N>::default();
    for (k, byte) in bytes.iter().enumerate() {
        for t in 0..8 {
            b = b.replace_bit(8 * k + t, (byte >> t) & 1 == 1);
        }
    }
    Constant::new(b)
}

/// Whether the engine's neuron update takes its operands straight from the block-RAM
/// outputs (the RAMs read one stage late) instead of from registers that copy them.
///
/// The two forms behave identically, cycle for cycle (docs/rtl.md §6). The direct form
/// saves ~220 flip-flops at N = 256, which on iCE40 are ~220 logic cells (a flip-flop that
/// copies a RAM output cannot share a cell with a LUT); the registered form keeps the
/// RAMs' clock-to-out out of the multiplier stage, which ECP5 needs (its DP16KD
/// clock-to-out is 5.8 ns: 85F N = 512 drops from 56 to 45 MHz with the direct form).
/// The direct form goes with the iCE40 UltraPlus form of the core, `weight_memory =
/// "spram"`, the one core whose logic cells are the limit.
pub fn neuron_operands_direct(cfg: &CoreConfig) -> bool {
    cfg.weight_memory == neurofab_proto::WeightMemory::Spram
}

impl<const P: usize> Engine<P> {
    /// The engine of the core `cfg` (`cfg.lanes` must equal `P`).
    pub fn new(cfg: &CoreConfig) -> Self {
        assert_eq!(cfg.lanes as usize, P, "CoreConfig::lanes must equal P");
        assert!(matches!(P, 1 | 2 | 4 | 8));
        cfg.shape.validate().expect("valid shape");
        assert!(cfg.replay_depth.is_power_of_two() && cfg.replay_depth <= 64);
        let n = cfg.neurons();
        let m = cfg.inputs();
        let s = cfg.sources();
        let g = cfg.groups();
        let w_bits = cfg.shape.weight_bits as usize;
        let chunks = s.div_ceil(P);
        let r = cfg.replay_depth as usize;
        let wdepth = s * g;
        // The largest value each kind of index/address register holds (`NarrowReg`):
        // the types are sized for the spec's maxima, the flip-flops and the logic they
        // feed for this configuration. One chunk or group past the end covers every
        // "next" value a loop computes before it stops.
        let max_waddr = ((s + P + 1) * g) as u64;
        let max_src = (s + P) as u64;
        let max_neu = (n + P) as u64;
        let max_raddr = ((n.div_ceil(8) + 1) * r) as u64;
        let last_lanes = s - (chunks - 1) * P; // 1 ..= P lanes valid in the last chunk
        let mut params_rec = [0u8; np::LEN];
        neurofab_proto::records::encode_neuron_params(&NeuronParams::RESET, &mut params_rec);
        let mut stdp_rec = [0u8; sp::LEN];
        neurofab_proto::records::encode_stdp_params(&StdpParams::reset(&cfg.shape), &mut stdp_rec);
        use crate::constant as k;
        Self {
            clock: Default::default(),
            op: Default::default(),
            op_start: Default::default(),
            busy: Default::default(),
            src: Default::default(),
            neuron: Default::default(),
            slot: Default::default(),
            byte_idx: Default::default(),
            wdata: Default::default(),
            rdata: Default::default(),
            fired_count: Default::default(),
            stdp: Default::default(),
            wbank: std::array::from_fn(|_| WeightBank::new(cfg, wdepth)),
            ybank: std::array::from_fn(|_| Ram::plain(g)),
            accbank: std::array::from_fn(|_| Ram::plain(g)),
            xbank: std::array::from_fn(|_| Ram::plain(chunks)),
            params: Ram::plain(n),
            params_reset: Ram::plain(n),
            params_ext: Default::default(),
            reset_ext: Default::default(),
            mem_v: Ram::plain(n),
            mem_i: Ram::plain(n),
            mem_r: Ram::plain(n),
            active: Ram::plain(s),
            list_src: Ram::plain(s),
            // Stored only as wide as their values (s·G and n/P; 25-bit ports), so that,
            // e.g., the fired list of N = 256 takes one block RAM instead of two.
            list_base: Ram::new(s, bits_for(((s - 1) * g) as u64), false),
            fired_grp: Ram::new(n, bits_for((g - 1) as u64), false),
            fired_lane: Ram::plain(n),
            replay: Ram::plain(r * n.div_ceil(8)),
            counts: Ram::plain(r),
            nu: Default::default(),
            xtrace: Default::default(),
            ytrace: Default::default(),
            clamp_xa: Default::default(),
            clamp_ya: Default::default(),
            xtrace_alpha: Default::default(),
            ytrace_alpha: Default::default(),
            dep_amp: std::array::from_fn(|_| Default::default()),
            pot_amp: std::array::from_fn(|_| Default::default()),
            w_op: std::array::from_fn(|_| Default::default()),
            w_sum: std::array::from_fn(|_| Default::default()),
            w_clamp: std::array::from_fn(|_| Default::default()),
            acc_ext: std::array::from_fn(|_| Default::default()),
            h_src16: Default::default(),
            h_prod: Default::default(),
            h_grp25: Default::default(),
            h_byte: Default::default(),
            h_slot: Default::default(),
            f_grp25: Default::default(),
            f_src: Default::default(),
            res_w: Default::default(),
            res_m: Default::default(),
            res_x: Default::default(),
            res_byte: Default::default(),
            res_state: Default::default(),
            pat_host: Default::default(),
            pat_hn: Default::default(),
            pat_hs: Default::default(),
            pat_dl: Default::default(),
            pat_pot: Default::default(),
            pat_bs: Default::default(),
            pat_bn: Default::default(),
            pat_nc: Default::default(),
            nc_params: Default::default(),
            nc_vm: Default::default(),
            nc_i: Default::default(),
            nc_r: Default::default(),
            nc_acc: Default::default(),
            nc_y: Default::default(),
            nd_y: Default::default(),
            ne_y: Default::default(),
            nf_y: Default::default(),
            c_params: Default::default(),
            c_acc: Default::default(),
            acc_shifted: Default::default(),
            f_y: Default::default(),
            p_store: Default::default(),
            p_record: Default::default(),
            unused_params: Default::default(),
            pat_wc: Default::default(),
            pat_nf: Default::default(),
            pat_wx: Default::default(),
            phase: Default::default(),
            h_op: Default::default(),
            h_src: NarrowReg::holding(max_src),
            h_n: NarrowReg::holding(max_neu),
            h_slot_r: Default::default(),
            h_byte_r: Default::default(),
            rdata_r: Default::default(),
            hw_r: Default::default(),
            hm_r: Default::default(),
            count_r: NarrowReg::holding(max_neu),
            stdp_r: StdpReg::new(w_bits),
            clr_w: NarrowReg::holding(max_waddr),
            clr_n: NarrowReg::holding(max_neu),
            s_cnt: NarrowReg::holding(max_src),
            s_base: NarrowReg::holding(max_waddr),
            n_cnt: NarrowReg::holding(max_neu),
            list_len: NarrowReg::holding(max_src),
            b_valid: Default::default(),
            b_nvalid: Default::default(),
            b_s: NarrowReg::holding(max_src),
            b_base: NarrowReg::holding(max_waddr),
            b_n: NarrowReg::holding(max_neu),
            g_cnt: NarrowReg::holding(max_neu),
            g_25: NarrowReg::holding(max_waddr),
            k_cnt: NarrowReg::holding(max_src),
            dl_v1: Default::default(),
            dl_vb: Default::default(),
            dl_addr_b: NarrowReg::holding(max_waddr),
            dl_rot_b: Default::default(),
            dl_v2: Default::default(),
            dl_rot: Default::default(),
            acc: std::array::from_fn(|_| Default::default()),
            f_len: NarrowReg::holding(max_neu),
            rbyte: Default::default(),
            rbit: Default::default(),
            rb_addr: NarrowReg::holding(max_raddr),
            q_cnt: NarrowReg::holding(max_neu),
            col_base: NarrowReg::holding(max_waddr),
            f_lane: Default::default(),
            c_cnt: NarrowReg::holding(max_src),
            pt_v: Default::default(),
            pt_addr: std::array::from_fn(|_| NarrowReg::holding(max_waddr)),
            pt_lanes: Default::default(),
            wc_v: Default::default(),
            wc_s: NarrowReg::holding(max_src),
            wc_x: Default::default(),
            wc_spike: Default::default(),
            dd_v: Default::default(),
            dd_rot: Default::default(),
            dd_w: std::array::from_fn(|_| Default::default()),
            dd_m: std::array::from_fn(|_| Default::default()),
            dd_amp: std::array::from_fn(|_| Default::default()),
            nc_v: Default::default(),
            nc_n: NarrowReg::holding(max_neu),
            nd_v: Default::default(),
            nd_n: NarrowReg::holding(max_neu),
            ne_v: Default::default(),
            ne_n: NarrowReg::holding(max_neu),
            nf_n: NarrowReg::holding(max_neu),
            pc_v: Default::default(),
            pc_addr: std::array::from_fn(|_| NarrowReg::holding(max_waddr)),
            pc_rot: Default::default(),
            pc_lanes: Default::default(),
            pc_w: std::array::from_fn(|_| Default::default()),
            pc_m: std::array::from_fn(|_| Default::default()),
            pc_amp: std::array::from_fn(|_| Default::default()),
            wx_v: Default::default(),
            wx_neg: Default::default(),
            wx_rot: Default::default(),
            wx_t: std::array::from_fn(|_| Default::default()),
            wx_en: std::array::from_fn(|_| Default::default()),
            wx_addr: std::array::from_fn(|_| NarrowReg::holding(max_waddr)),
            wb_we: std::array::from_fn(|_| Default::default()),
            wb_addr: std::array::from_fn(|_| NarrowReg::holding(max_waddr)),
            wb_data: std::array::from_fn(|_| NarrowReg::new(w_bits)),
            learn: Default::default(),
            slow: Default::default(),
            h_addr: Default::default(),
            h_raddr: Default::default(),
            dl_w: std::array::from_fn(|_| Default::default()),
            dl_m: std::array::from_fn(|_| Default::default()),
            pt_w: std::array::from_fn(|_| Default::default()),
            pt_m: std::array::from_fn(|_| Default::default()),
            sel_x: Default::default(),
            sel_y: Default::default(),
            sel_acc: Default::default(),
            h_w: Default::default(),
            h_m: Default::default(),
            h_x: Default::default(),
            h_y: Default::default(),
            new_byte: Default::default(),
            unused_pats: Default::default(),
            k_spram: Constant::new(cfg.weight_memory == neurofab_proto::WeightMemory::Spram),
            op_step: k(op::STEP),
            op_state_reset: k(op::STATE_RESET),
            op_full_reset: k(op::FULL_RESET),
            op_read_weight: k(op::READ_WEIGHT),
            op_write_weight: k(op::WRITE_WEIGHT),
            op_read_mask: k(op::READ_MASK),
            op_write_mask: k(op::WRITE_MASK),
            op_read_params: k(op::READ_PARAMS),
            op_write_params: k(op::WRITE_PARAMS),
            op_read_state: k(op::READ_STATE),
            op_read_trace: k(op::READ_TRACE),
            op_set_input: k(op::SET_INPUT),
            op_read_fired_byte: k(op::READ_FIRED_BYTE),
            op_read_fired_count: k(op::READ_FIRED_COUNT),
            op_write_stdp: k(op::WRITE_STDP),
            k_sources: k(s as u64),
            k_inputs: k(m as u64),
            k_neurons: k(n as u64),
            k_last_neuron: k(n as u64 - 1),
            k_last_group: k(g as u64 - 1),
            k_chunks: k(chunks as u64),
            k_last_chunk: k(chunks as u64 - 1),
            k_wdepth: k(wdepth as u64),
            k_g25: k(g as u64),
            k_pg25: k((P * g) as u64),
            k_g16: k(g as u64),
            k_lane_off: std::array::from_fn(|j| k((j * g) as u64)),
            k_last_lanes: k((1u64 << last_lanes) - 1),
            k_all_lanes: k(0xff),
            k_lg_p: k(P.trailing_zeros() as u64),
            k_lg_r: k(r.trailing_zeros() as u64),
            k_rmask15: k(r as u64 - 1),
            k_rmask6: k(r as u64 - 1),
            k_r15: k(r as u64),
            k_params_reset: record_constant(&params_rec),
            k_pstore_reset: {
                let mut stored = params_rec.to_vec();
                stored.drain(np::V_RESET..np::V_RESET + 2);
                record_constant(&stored)
            },
            k_th_mask: k((1 << STATE_W) - 1),
            k_reset_shift: k(8 * np::V_RESET as u64),
            k_rest_shift: k(8 * np::V_REST as u64),
            k_rdata_held: k((1 << (8 * ns::LEN)) - 1),
            k_direct: Constant::new(neuron_operands_direct(cfg)),
            k_stdp_reset: record_constant(&stdp_rec),
            one_src: k(1),
            one_neu: k(1),
            one_w: k(1),
            zero_src: k(0),
            zero_neu: k(0),
            zero_w: k(0),
            zero_acc: k(0),
            zero_16: k(0),
            zero_8: k(0),
            one_8: k(1),
            bit_0: k(0),
            bit_1: k(1),
            top_8: k(0x80),
        }
    }
}

impl<const P: usize> Logic for Engine<P> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            phase,
            h_op,
            h_src,
            h_n,
            h_slot_r,
            h_byte_r,
            rdata_r,
            hw_r,
            hm_r,
            count_r,
            stdp_r,
            clr_w,
            clr_n,
            s_cnt,
            s_base,
            n_cnt,
            list_len,
            b_valid,
            b_nvalid,
            b_s,
            b_base,
            b_n,
            g_cnt,
            g_25,
            k_cnt,
            dl_v1,
            dl_vb,
            dl_addr_b,
            dl_rot_b,
            dl_v2,
            dl_rot,
            f_len,
            rbyte,
            rbit,
            rb_addr,
            q_cnt,
            col_base,
            f_lane,
            c_cnt,
            pt_v,
            pt_lanes,
            wc_v,
            wc_s,
            wc_x,
            wc_spike,
            dd_v,
            dd_rot,
            nc_v,
            nc_params,
            nc_vm,
            nc_i,
            nc_r,
            nc_acc,
            nc_y,
            nc_n,
            nd_v,
            nd_y,
            nd_n,
            ne_v,
            ne_y,
            ne_n,
            nf_y,
            nf_n,
            pc_v,
            pc_rot,
            pc_lanes,
            wx_v,
            wx_neg,
            wx_rot,
            xtrace_alpha,
            ytrace_alpha
        );
        self.nu.clock.next = self.clock.val();
        for b in 0..P {
            self.wb_we[b].clock.next = self.clock.val();
            self.wb_we[b].d.next = self.wb_we[b].q.val();
            self.wb_addr[b].clock.next = self.clock.val();
            self.wb_addr[b].d.next = self.wb_addr[b].q.val();
            self.wb_data[b].clock.next = self.clock.val();
            self.wb_data[b].d.next = self.wb_data[b].q.val();
            self.wbank[b].write_enable.next = self.wb_we[b].q.val();
            self.wbank[b].write_address.next = self.wb_addr[b].q.val();
            self.wbank[b].write_data.next = self.wb_data[b].q.val();
        }
        for j in 0..P {
            self.acc[j].clock.next = self.clock.val();
            self.acc[j].d.next = self.acc[j].q.val();
            self.pt_addr[j].clock.next = self.clock.val();
            self.pt_addr[j].d.next = self.pt_addr[j].q.val();
            self.dd_w[j].clock.next = self.clock.val();
            self.dd_w[j].d.next = self.dd_w[j].q.val();
            self.dd_m[j].clock.next = self.clock.val();
            self.dd_m[j].d.next = self.dd_m[j].q.val();
            self.dd_amp[j].clock.next = self.clock.val();
            self.dd_amp[j].d.next = self.dd_amp[j].q.val();
            self.pc_addr[j].clock.next = self.clock.val();
            self.pc_addr[j].d.next = self.pc_addr[j].q.val();
            self.pc_w[j].clock.next = self.clock.val();
            self.pc_w[j].d.next = self.pc_w[j].q.val();
            self.pc_m[j].clock.next = self.clock.val();
            self.pc_m[j].d.next = self.pc_m[j].q.val();
            self.pc_amp[j].clock.next = self.clock.val();
            self.pc_amp[j].d.next = self.pc_amp[j].q.val();
            self.wx_t[j].clock.next = self.clock.val();
            self.wx_en[j].clock.next = self.clock.val();
            self.wx_addr[j].clock.next = self.clock.val();
            self.wbank[j].clock.next = self.clock.val();
            self.ybank[j].clock.next = self.clock.val();
            self.accbank[j].clock.next = self.clock.val();
            self.xbank[j].clock.next = self.clock.val();
        }
        self.params.clock.next = self.clock.val();
        self.params_reset.clock.next = self.clock.val();
        self.mem_v.clock.next = self.clock.val();
        self.mem_i.clock.next = self.clock.val();
        self.mem_r.clock.next = self.clock.val();
        self.active.clock.next = self.clock.val();
        self.list_src.clock.next = self.clock.val();
        self.list_base.clock.next = self.clock.val();
        self.fired_grp.clock.next = self.clock.val();
        self.fired_lane.clock.next = self.clock.val();
        self.replay.clock.next = self.clock.val();
        self.counts.clock.next = self.clock.val();

        // ---- outputs ----
        self.busy.next = self.phase.q.val() != Phase::Idle;
        self.fired_count.next = self.count_r.q.val();
        self.stdp.next = self.stdp_r.q.val();
        self.learn.next = self.stdp_r.q.val().get_bit(0);
        self.slow.next = self.k_spram.val() & self.learn.val();

        // ---- host address arithmetic (from the latched operands) ----
        self.h_src16.x.next = self.h_src.q.val();
        self.h_prod.x.next = self.h_src16.y.val() * self.k_g16.val();
        self.h_grp25.x.next = self.h_n.q.val() >> self.k_lg_p.val();
        self.h_addr.next = self.h_prod.y.val() + self.h_grp25.y.val();
        self.pat_host.r.next =
            self.h_src.q.val().get_bits::<3>(0) + self.h_n.q.val().get_bits::<3>(0);
        self.pat_hn.r.next = self.h_n.q.val().get_bits::<3>(0);
        self.pat_hs.r.next = self.h_src.q.val().get_bits::<3>(0);
        self.h_byte.x.next = self.h_byte_r.q.val();
        self.h_slot.x.next = self.h_slot_r.q.val();
        self.h_raddr.next = (self.h_byte.y.val() << self.k_lg_r.val())
            + (self.h_slot.y.val() & self.k_rmask15.val());

        // ---- lane patterns of the pipelines ----
        self.pat_dl.r.next = self.dl_rot.q.val();
        self.pat_pot.r.next = self.f_lane.q.val();
        self.pat_bs.r.next = self.b_s.q.val().get_bits::<3>(0);
        self.pat_bn.r.next = self.b_n.q.val().get_bits::<3>(0);
        self.pat_nc.r.next = self.nc_n.q.val().get_bits::<3>(0);
        self.pat_wc.r.next = self.wc_s.q.val().get_bits::<3>(0);
        self.pat_nf.r.next = self.nf_n.q.val().get_bits::<3>(0);
        self.pat_wx.r.next = self.wx_rot.q.val();
        self.unused_pats.next = self.pat_host.pat.val().xor()
            ^ self.pat_hn.pat.val().xor()
            ^ self.pat_hs.pat.val().xor()
            ^ self.pat_dl.pat.val().xor()
            ^ self.pat_pot.pat.val().xor()
            ^ self.pat_bs.pat.val().xor()
            ^ self.pat_bn.pat.val().xor()
            ^ self.pat_nc.pat.val().xor()
            ^ self.pat_wc.pat.val().xor()
            ^ self.pat_nf.pat.val().xor()
            ^ self.pat_wx.pat.val().xor();

        // ---- lane selections (from RAM outputs and registers only) ----
        self.sel_x.next = self.zero_8.val();
        self.sel_y.next = self.zero_8.val();
        self.sel_acc.next = self.zero_acc.val();
        self.h_w.next = self.zero_16.val();
        self.h_m.next = self.bit_0.val();
        self.h_x.next = self.zero_8.val();
        self.h_y.next = self.zero_8.val();
        for b in 0..P {
            if self.pat_bs.pat.val().get_bit(b) {
                self.sel_x.next = self.xbank[b].read_data.val();
            }
            // Stage C's (direct) or stage B's (registered) accumulator, stage F's (direct)
            // or stage B's (registered) post-trace.
            if (self.k_direct.val() & self.pat_nc.pat.val().get_bit(b))
                | (!self.k_direct.val() & self.pat_bn.pat.val().get_bit(b))
            {
                self.sel_acc.next = self.accbank[b].read_data.val();
            }
            if (self.k_direct.val() & self.pat_nf.pat.val().get_bit(b))
                | (!self.k_direct.val() & self.pat_bn.pat.val().get_bit(b))
            {
                self.sel_y.next = self.ybank[b].read_data.val();
            }
            if self.pat_host.pat.val().get_bit(b) {
                self.h_w.next = self.wbank[b].read_data.val();
                self.h_m.next = self.wbank[b].read_mask.val();
            }
            if self.pat_hs.pat.val().get_bit(b) {
                self.h_x.next = self.xbank[b].read_data.val();
            }
            if self.pat_hn.pat.val().get_bit(b) {
                self.h_y.next = self.ybank[b].read_data.val();
            }
        }
        for j in 0..P {
            self.dl_w[j].next = self.zero_16.val();
            self.dl_m[j].next = self.bit_0.val();
            self.pt_w[j].next = self.zero_16.val();
            self.pt_m[j].next = self.bit_0.val();
            for b in 0..P {
                if self.pat_dl.pat.val().get_bit(b + 8 - j) {
                    self.dl_w[j].next = self.wbank[b].read_data.val();
                    self.dl_m[j].next = self.wbank[b].read_mask.val();
                }
                if self.pat_pot.pat.val().get_bit(b + 8 - j) {
                    self.pt_w[j].next = self.wbank[b].read_data.val();
                    self.pt_m[j].next = self.wbank[b].read_mask.val();
                }
            }
        }

        // ---- read results ----
        self.hw_r.d.next = self.h_w.val();
        self.hm_r.d.next = self.h_m.val();
        self.res_w.x.next = self.hw_r.q.val();
        self.res_m.x.next = self.hm_r.q.val();
        self.res_x.x.next = self.h_x.val();
        self.res_byte.x.next = self.replay.read_data.val();
        self.res_state.v.next = self.mem_v.read_data.val();
        self.res_state.i.next = self.mem_i.read_data.val();
        self.res_state.r.next = self.mem_r.read_data.val();
        self.res_state.y.next = self.h_y.val();

        // ---- datapath inputs ----
        // Pre-trace (walk stage C, from the operands registered in stage B).
        self.wc_v.d.next = self.b_valid.q.val() & (self.phase.q.val() != Phase::ResetState);
        self.wc_s.d.next = self.b_s.q.val();
        self.wc_x.d.next = self.sel_x.val();
        self.wc_spike.d.next = self.active.read_data.val().any();
        self.xtrace.x.next = self.wc_x.q.val();
        self.clamp_xa.alpha.next = self.stdp_r.q.val().get_bits::<16>(80);
        self.xtrace_alpha.d.next = self.clamp_xa.y.val();
        self.xtrace.alpha.next = self.xtrace_alpha.q.val();
        self.xtrace.spike.next = self.wc_spike.q.val();
        self.xtrace.inc.next = self.stdp_r.q.val().get_bits::<8>(24);
        // Neuron update, stage C's operands (acc = Σw · 2^w_shift, w_shift <= 14: four
        // bits). Registered (`k_direct` 0): the RAMs are read with stage A's index and
        // stage B registers their outputs. Direct: the parameter, state and accumulator
        // RAMs are read with stage B's index, so their outputs are stage C's operands (no
        // copy registers: on iCE40 each would be a logic cell), and acc is shifted in stage
        // C, where the pipeline only registers it. The pipelined update runs in stages C, D
        // and E (v_reset, from its own RAM read with stage D's index, joins in E); its
        // registered results are written in stage F, where the post-trace y meets them
        // (direct: read with stage E's index; registered: carried from stage B).
        self.nc_v.d.next = self.b_nvalid.q.val() & (self.phase.q.val() != Phase::ResetState);
        self.nc_params.d.next = self.params.read_data.val();
        self.nc_vm.d.next = self.mem_v.read_data.val();
        self.nc_i.d.next = self.mem_i.read_data.val();
        self.nc_r.d.next = self.mem_r.read_data.val();
        self.acc_shifted.next = self.sel_acc.val() << self.params.read_data.val().get_bits::<4>(72);
        self.nc_acc.d.next = self.acc_shifted.val();
        self.nc_y.d.next = self.sel_y.val();
        self.nc_n.d.next = self.b_n.q.val();
        self.nd_v.d.next = self.nc_v.q.val();
        self.nd_y.d.next = self.nc_y.q.val();
        self.nd_n.d.next = self.nc_n.q.val();
        self.ne_v.d.next = self.nd_v.q.val();
        self.ne_y.d.next = self.nd_y.q.val();
        self.ne_n.d.next = self.nd_n.q.val();
        self.nf_y.d.next = self.ne_y.q.val();
        self.nf_n.d.next = self.ne_n.q.val();
        if self.k_direct.val() {
            self.c_params.next = self.params.read_data.val();
            self.c_acc.next = self.acc_shifted.val();
            self.nu.v.next = signed_cast(self.mem_v.read_data.val());
            self.nu.i.next = signed_cast(self.mem_i.read_data.val());
            self.nu.r.next = self.mem_r.read_data.val();
            self.f_y.next = self.sel_y.val();
        } else {
            self.c_params.next = self.nc_params.q.val();
            self.c_acc.next = self.nc_acc.q.val();
            self.nu.v.next = signed_cast(self.nc_vm.q.val());
            self.nu.i.next = signed_cast(self.nc_i.q.val());
            self.nu.r.next = self.nc_r.q.val();
            self.f_y.next = self.nf_y.q.val();
        }
        // Stage F addresses from n: its source index M + n and its group n >> lg P.
        self.f_src.x.next = self.nf_n.q.val();
        self.f_grp25.x.next = self.nf_n.q.val() >> self.k_lg_p.val();
        self.nu.in_valid.next = self.nc_v.q.val();
        // The stored record: v_th at bit 0, then the record from v_rest on, at bit 16.
        self.nu.v_th.next = signed_cast(self.c_params.val().get_bits::<16>(0));
        self.nu.v_reset.next = signed_cast(self.params_reset.read_data.val());
        self.nu.v_rest.next = signed_cast(self.c_params.val().get_bits::<16>(16));
        self.nu.alpha_v.next = self.c_params.val().get_bits::<16>(32);
        self.nu.alpha_i.next = self.c_params.val().get_bits::<16>(48);
        self.nu.t_ref.next = self.c_params.val().get_bits::<8>(64);
        self.nu.acc.next = signed_cast(self.c_acc.val());
        // Post-trace (neuron stage F).
        self.ytrace.x.next = self.f_y.val();
        self.clamp_ya.alpha.next = self.stdp_r.q.val().get_bits::<16>(96);
        self.ytrace_alpha.d.next = self.clamp_ya.y.val();
        self.ytrace.alpha.next = self.ytrace_alpha.q.val();
        self.ytrace.spike.next = self.nu.fired.val();
        self.ytrace.inc.next = self.stdp_r.q.val().get_bits::<8>(32);
        // Depression (delivery stage D) and potentiation (stage C), lane by lane, from
        // operands registered one stage earlier: one shared adder (the two stages are never
        // valid in the same cycle; depression adds Δw to !w), whose sum is registered and
        // clamped in the next stage (wx).
        self.dd_v.d.next = self.dl_v2.q.val();
        self.dd_rot.d.next = self.dl_rot.q.val();
        self.pc_v.d.next = self.pt_v.q.val();
        self.pc_rot.d.next = self.f_lane.q.val();
        self.pc_lanes.d.next = self.pt_lanes.q.val();
        self.wx_v.d.next = self.dd_v.q.val() | self.pc_v.q.val();
        self.wx_neg.d.next = !self.pc_v.q.val();
        // The weight addresses of both travel in `pt_addr` → `pc_addr` (delivery enters
        // them one stage later than potentiation: its stage C is potentiation's B).
        for j in 0..P {
            self.wx_addr[j].d.next = self.pc_addr[j].q.val();
        }
        if self.pc_v.q.val() {
            self.wx_rot.d.next = self.pc_rot.q.val();
            for j in 0..P {
                self.wx_en[j].d.next = self.pc_m[j].q.val() & self.pc_lanes.q.val().get_bit(j);
            }
        } else {
            self.wx_rot.d.next = self.dd_rot.q.val();
            for j in 0..P {
                self.wx_en[j].d.next = self.learn.val() & self.dd_m[j].q.val();
            }
        }
        for j in 0..P {
            self.dd_w[j].d.next = self.dl_w[j].val();
            self.dd_m[j].d.next = self.dl_m[j].val().any();
            self.dep_amp[j].trace.next = self.ybank[j].read_data.val();
            self.dep_amp[j].eta.next = self.stdp_r.q.val().get_bits::<8>(16);
            self.dd_amp[j].d.next = self.dep_amp[j].amp.val();
            self.pc_addr[j].d.next = self.pt_addr[j].q.val();
            self.pc_w[j].d.next = self.pt_w[j].val();
            self.pc_m[j].d.next = self.pt_m[j].val().any();
            self.pot_amp[j].trace.next = self.xbank[j].read_data.val();
            self.pot_amp[j].eta.next = self.stdp_r.q.val().get_bits::<8>(8);
            self.pc_amp[j].d.next = self.pot_amp[j].amp.val();
            self.acc_ext[j].x.next = self.dd_w[j].q.val();
            self.w_op[j].pot.next = self.pc_v.q.val();
            self.w_op[j].w_dep.next = self.dd_w[j].q.val();
            self.w_op[j].w_pot.next = self.pc_w[j].q.val();
            self.w_op[j].amp_dep.next = self.dd_amp[j].q.val();
            self.w_op[j].amp_pot.next = self.pc_amp[j].q.val();
            self.w_sum[j].w.next = self.w_op[j].w.val();
            self.w_sum[j].amp.next = self.w_op[j].amp.val();
            self.wx_t[j].d.next = self.w_sum[j].t.val();
            self.w_clamp[j].t.next = self.wx_t[j].q.val();
            self.w_clamp[j].neg.next = self.wx_neg.q.val();
            self.w_clamp[j].w_min.next = signed_cast(self.stdp_r.q.val().get_bits::<16>(48));
            self.w_clamp[j].w_max.next = signed_cast(self.stdp_r.q.val().get_bits::<16>(64));
        }

        self.new_byte.next = self.rbyte.q.val();
        if self.nu.out_valid.val() & self.nu.fired.val() {
            self.new_byte.next = self.rbyte.q.val() | self.rbit.q.val();
        }

        // ---- RAM port defaults: nothing written; reads follow the phase ----
        for b in 0..P {
            self.wb_we[b].d.next = false;
            self.wb_addr[b].d.next = self.h_addr.val();
            self.wb_data[b].d.next = self.wdata.val().get_bits::<16>(0);
            self.wbank[b].read_address.next = self.h_addr.val();
            self.wbank[b].read_enable.next = false;
            self.wbank[b].mask_write_enable.next = false;
            self.wbank[b].mask_clear.next = false;
            self.wbank[b].mask_write_address.next = self.h_addr.val();
            self.wbank[b].mask_write_data.next = self.wdata.val().get_bits::<1>(0);
            self.ybank[b].write_enable.next = false;
            self.ybank[b].write_address.next = self.b_n.q.val() >> self.k_lg_p.val();
            self.ybank[b].write_data.next = self.ytrace.x_new.val();
            self.ybank[b].read_address.next = self.h_n.q.val() >> self.k_lg_p.val();
            self.accbank[b].write_enable.next = false;
            self.accbank[b].write_address.next = self.g_cnt.q.val();
            self.accbank[b].write_data.next = self.acc[b].q.val();
            self.accbank[b].read_address.next = self.n_cnt.q.val() >> self.k_lg_p.val();
            self.xbank[b].write_enable.next = false;
            self.xbank[b].write_address.next = self.b_s.q.val() >> self.k_lg_p.val();
            self.xbank[b].write_data.next = self.xtrace.x_new.val();
            self.xbank[b].read_address.next = self.h_src.q.val() >> self.k_lg_p.val();
        }
        // Record ↔ stored form: v_reset's two bytes cut out (write) or put back (read).
        self.p_store.next = (self.wdata.val().get_bits::<96>(0) & self.k_th_mask.val())
            | ((self.wdata.val().get_bits::<96>(0) >> self.k_rest_shift.val())
                << self.k_reset_shift.val());
        self.params_ext.x.next = self.params.read_data.val();
        self.reset_ext.x.next = self.params_reset.read_data.val();
        self.p_record.next = (self.params_ext.out.val() & self.k_th_mask.val())
            | (self.reset_ext.out.val() << self.k_reset_shift.val())
            | ((self.params_ext.out.val() >> self.k_reset_shift.val()) << self.k_rest_shift.val());
        // Bytes 6–11 are live parameter-RAM output (its read address, the host's neuron,
        // holds until the next operation), so they need no 48 copy flip-flops; the
        // executor reads them only for READ_PARAMS, the one result that has them.
        self.rdata.next = (self.rdata_r.q.val() & self.k_rdata_held.val())
            | (self.p_record.val() & !self.k_rdata_held.val());
        self.unused_params.next = self.c_params.val().get_bits::<8>(72).xor()
            ^ self.p_store.val().get_bits::<16>(80).xor();
        self.params.write_enable.next = false;
        self.params.write_address.next = self.h_n.q.val();
        self.params.write_data.next = self.p_store.val().get_bits::<PSTORE_W>(0);
        self.params.read_address.next = self.h_n.q.val();
        self.params_reset.write_enable.next = false;
        self.params_reset.write_address.next = self.h_n.q.val();
        self.params_reset.write_data.next = self.wdata.val().get_bits::<16>(16);
        self.params_reset.read_address.next = self.h_n.q.val();
        self.mem_v.write_enable.next = false;
        self.mem_v.write_address.next = self.b_n.q.val();
        self.mem_v.write_data.next = unsigned_cast(self.nu.v_new.val());
        self.mem_v.read_address.next = self.h_n.q.val();
        self.mem_i.write_enable.next = false;
        self.mem_i.write_address.next = self.b_n.q.val();
        self.mem_i.write_data.next = unsigned_cast(self.nu.i_new.val());
        self.mem_i.read_address.next = self.h_n.q.val();
        self.mem_r.write_enable.next = false;
        self.mem_r.write_address.next = self.b_n.q.val();
        self.mem_r.write_data.next = self.nu.r_new.val();
        self.mem_r.read_address.next = self.h_n.q.val();
        self.active.write_enable.next = false;
        self.active.write_address.next = self.b_s.q.val();
        self.active.write_data.next = self.bit_0.val();
        self.active.read_address.next = self.s_cnt.q.val();
        self.list_src.write_enable.next = false;
        self.list_src.write_address.next = self.list_len.q.val();
        self.list_src.write_data.next = self.b_s.q.val().get_bits::<3>(0);
        self.list_src.read_address.next = self.k_cnt.q.val();
        self.list_base.write_enable.next = false;
        self.list_base.write_address.next = self.list_len.q.val();
        self.list_base.write_data.next = self.b_base.q.val();
        self.list_base.read_address.next = self.k_cnt.q.val();
        self.fired_grp.write_enable.next = false;
        self.fired_grp.write_address.next = self.f_len.q.val();
        self.fired_grp.write_data.next = self.f_grp25.y.val();
        self.fired_grp.read_address.next = self.q_cnt.q.val();
        self.fired_lane.write_enable.next = false;
        self.fired_lane.write_address.next = self.f_len.q.val();
        self.fired_lane.write_data.next = self.nf_n.q.val().get_bits::<3>(0);
        self.fired_lane.read_address.next = self.q_cnt.q.val();
        self.replay.write_enable.next = false;
        self.replay.write_address.next = self.rb_addr.q.val();
        self.replay.write_data.next = self.new_byte.val();
        self.replay.read_address.next = self.h_raddr.val();
        self.counts.write_enable.next = false;
        self.counts.write_address.next = self.h_slot_r.q.val() & self.k_rmask6.val();
        self.counts.write_data.next = self.f_len.q.val();
        self.counts.read_address.next = self.h_slot_r.q.val() & self.k_rmask6.val();

        // ---- stage C of the walk (phases 1 + 4): x update ----
        if self.wc_v.q.val() {
            for b in 0..P {
                self.xbank[b].write_enable.next = self.pat_wc.pat.val().get_bit(b);
                self.xbank[b].write_address.next = self.wc_s.q.val() >> self.k_lg_p.val();
            }
        }

        // ---- stage B of the walk (phases 1 + 4): clear the active bit, list append ----
        if self.b_valid.q.val() & (self.phase.q.val() != Phase::ResetState) {
            self.active.write_enable.next = true;
            if self.active.read_data.val().any() {
                self.list_src.write_enable.next = true;
                self.list_base.write_enable.next = true;
                self.list_len.d.next = self.list_len.q.val() + self.one_src.val();
            }
        }

        // ---- stage B of the state reset ----
        if self.b_valid.q.val() & (self.phase.q.val() == Phase::ResetState) {
            for b in 0..P {
                self.xbank[b].write_enable.next = self.pat_bs.pat.val().get_bit(b);
                self.xbank[b].write_data.next = self.zero_8.val();
            }
            self.active.write_enable.next = true;
            if self.b_nvalid.q.val() {
                self.mem_v.write_enable.next = true;
                self.mem_v.write_data.next = self.params.read_data.val().get_bits::<16>(16);
                self.mem_i.write_enable.next = true;
                self.mem_i.write_data.next = self.zero_16.val();
                self.mem_r.write_enable.next = true;
                self.mem_r.write_data.next = self.zero_8.val();
                for b in 0..P {
                    self.ybank[b].write_enable.next = self.pat_bn.pat.val().get_bit(b);
                    self.ybank[b].write_data.next = self.zero_8.val();
                }
            }
        }

        // ---- stage E of the neuron update: write i, final after the update's stage 2
        // (`nu.i_new` leads the other results by a stage) ----
        if self.ne_v.q.val() {
            self.mem_i.write_enable.next = true;
            self.mem_i.write_address.next = self.ne_n.q.val();
        }

        // ---- stage F of the neuron update (phases 3 + 6): write the results ----
        if self.nu.out_valid.val() {
            self.mem_v.write_enable.next = true;
            self.mem_v.write_address.next = self.nf_n.q.val();
            self.mem_r.write_enable.next = true;
            self.mem_r.write_address.next = self.nf_n.q.val();
            for b in 0..P {
                self.ybank[b].write_enable.next = self.pat_nf.pat.val().get_bit(b);
                self.ybank[b].write_address.next = self.nf_n.q.val() >> self.k_lg_p.val();
            }
            if self.nu.fired.val() {
                self.active.write_enable.next = true;
                self.active.write_address.next = self.f_src.y.val() + self.k_inputs.val();
                self.active.write_data.next = self.bit_1.val();
                self.fired_grp.write_enable.next = true;
                self.fired_lane.write_enable.next = true;
                self.f_len.d.next = self.f_len.q.val() + self.one_neu.val();
            }
            if (self.rbit.q.val() == self.top_8.val())
                | (self.nf_n.q.val() == self.k_last_neuron.val())
            {
                self.replay.write_enable.next = true;
                self.rbyte.d.next = self.zero_8.val();
                self.rbit.d.next = self.one_8.val();
                self.rb_addr.d.next = self.rb_addr.q.val() + self.k_r15.val();
            } else {
                self.rbyte.d.next = self.new_byte.val();
                self.rbit.d.next = self.rbit.q.val() << 1;
            }
        }

        // ---- stage D of delivery (phase 2): accumulate (and the depression sum, above;
        // stage C only registers the weights: the wide weight RAMs' output muxes and the
        // adders are in different cycles) ----
        if self.dd_v.q.val() {
            for j in 0..P {
                self.acc[j].d.next = self.acc[j].q.val() + self.acc_ext[j].y.val();
            }
        }

        // ---- weight clamp stage (delivery stage E, potentiation stage D): clamp the
        // registered sums, rotate them to their banks, into the write-back registers ----
        if self.wx_v.q.val() {
            for b in 0..P {
                self.wb_addr[b].d.next = self.wx_addr[b].q.val();
                for j in 0..P {
                    if self.pat_wx.pat.val().get_bit(b + 8 - j) {
                        self.wb_data[b].d.next = unsigned_cast(self.w_clamp[j].w_new.val());
                        self.wb_we[b].d.next = self.wx_en[j].q.val();
                    }
                }
            }
        }

        // ---- stage B of delivery: weight addresses from the source list (registered, so
        // the adder and the weight RAMs' address fan-out are in different cycles) ----
        self.dl_vb.d.next = self.dl_v1.q.val();
        self.dl_addr_b.d.next = self.list_base.read_data.val() + self.g_25.q.val();
        self.dl_rot_b.d.next = self.list_src.read_data.val();
        // ---- stage B2: the weight read ----
        self.dl_v2.d.next = self.dl_vb.q.val();
        // The read's address, for the write-back (the phases never overlap, and
        // `Phase::PotColumn` below overrides this for potentiation).
        for j in 0..P {
            self.pt_addr[j].d.next = self.dl_addr_b.q.val();
        }
        self.dl_rot.d.next = self.dl_rot_b.q.val();

        // ---- FSM (stage A) ----
        self.b_valid.d.next = false;
        self.b_nvalid.d.next = false;
        self.dl_v1.d.next = false;
        self.pt_v.d.next = false;
        self.rdata_r.d.next = self.rdata_r.q.val();
        match self.phase.q.val() {
            Phase::ResetFull => {
                self.stdp_r.d.next = self.k_stdp_reset.val();
                for b in 0..P {
                    self.wb_we[b].d.next = true;
                    self.wb_addr[b].d.next = self.clr_w.q.val();
                    self.wb_data[b].d.next = self.zero_16.val();
                    self.wbank[b].mask_clear.next = true;
                    self.wbank[b].mask_write_address.next = self.clr_w.q.val();
                }
                if self.clr_n.q.val() != self.k_neurons.val() {
                    self.params.write_enable.next = true;
                    self.params.write_address.next = self.clr_n.q.val();
                    self.params.write_data.next = self.k_pstore_reset.val();
                    self.params_reset.write_enable.next = true;
                    self.params_reset.write_address.next = self.clr_n.q.val();
                    self.params_reset.write_data.next =
                        self.k_params_reset.val().get_bits::<16>(16);
                    self.clr_n.d.next = self.clr_n.q.val() + self.one_neu.val();
                }
                self.clr_w.d.next = self.clr_w.q.val() + self.one_w.val();
                if self.clr_w.q.val() == self.k_wdepth.val() - self.one_w.val() {
                    self.phase.d.next = Phase::ResetState;
                    self.s_cnt.d.next = self.zero_src.val();
                    self.n_cnt.d.next = self.zero_neu.val();
                }
            }
            Phase::ResetState => {
                self.params.read_address.next = self.n_cnt.q.val();
                if self.s_cnt.q.val() != self.k_sources.val() {
                    self.b_valid.d.next = true;
                    self.b_s.d.next = self.s_cnt.q.val();
                    self.s_cnt.d.next = self.s_cnt.q.val() + self.one_src.val();
                    self.b_n.d.next = self.n_cnt.q.val();
                    if self.n_cnt.q.val() != self.k_neurons.val() {
                        self.b_nvalid.d.next = true;
                        self.n_cnt.d.next = self.n_cnt.q.val() + self.one_neu.val();
                    }
                } else {
                    self.phase.d.next = Phase::Idle;
                }
            }
            Phase::Idle => {
                if self.op_start.val() {
                    self.h_op.d.next = self.op.val();
                    self.h_src.d.next = self.src.val();
                    self.h_n.d.next = self.neuron.val();
                    self.h_slot_r.d.next = self.slot.val();
                    self.h_byte_r.d.next = self.byte_idx.val();
                    if self.op.val() == self.op_step.val() {
                        self.phase.d.next = Phase::Walk;
                        self.s_cnt.d.next = self.zero_src.val();
                        self.s_base.d.next = self.zero_w.val();
                        self.list_len.d.next = self.zero_src.val();
                    } else if self.op.val() == self.op_state_reset.val() {
                        self.phase.d.next = Phase::ResetState;
                        self.s_cnt.d.next = self.zero_src.val();
                        self.n_cnt.d.next = self.zero_neu.val();
                    } else if self.op.val() == self.op_full_reset.val() {
                        self.phase.d.next = Phase::ResetFull;
                        self.clr_w.d.next = self.zero_w.val();
                        self.clr_n.d.next = self.zero_neu.val();
                    } else {
                        self.phase.d.next = Phase::HostA;
                    }
                }
            }
            Phase::HostA => {
                self.phase.d.next = Phase::HostB;
                for b in 0..P {
                    self.wbank[b].read_enable.next = true;
                }
                if self.h_op.q.val() == self.op_write_weight.val() {
                    for b in 0..P {
                        self.wb_we[b].d.next = self.pat_host.pat.val().get_bit(b);
                    }
                }
                if self.h_op.q.val() == self.op_write_mask.val() {
                    for b in 0..P {
                        self.wbank[b].mask_write_enable.next = self.pat_host.pat.val().get_bit(b);
                    }
                }
                if self.h_op.q.val() == self.op_write_params.val() {
                    self.params.write_enable.next = true;
                    self.params_reset.write_enable.next = true;
                }
                if self.h_op.q.val() == self.op_set_input.val() {
                    self.active.write_enable.next = true;
                    self.active.write_address.next = self.h_src.q.val();
                    self.active.write_data.next = self.bit_1.val();
                }
                if self.h_op.q.val() == self.op_write_stdp.val() {
                    self.stdp_r.d.next = self.wdata.val();
                }
            }
            Phase::HostB => {
                self.phase.d.next = Phase::Idle;
                if (self.h_op.q.val() == self.op_read_weight.val())
                    | (self.h_op.q.val() == self.op_read_mask.val())
                {
                    self.phase.d.next = Phase::HostC;
                }
                if self.h_op.q.val() == self.op_read_params.val() {
                    self.rdata_r.d.next = self.p_record.val();
                }
                if self.h_op.q.val() == self.op_read_state.val() {
                    self.rdata_r.d.next = self.res_state.out.val();
                }
                if self.h_op.q.val() == self.op_read_trace.val() {
                    self.rdata_r.d.next = self.res_x.out.val();
                }
                if self.h_op.q.val() == self.op_read_fired_byte.val() {
                    self.rdata_r.d.next = self.res_byte.out.val();
                }
                if self.h_op.q.val() == self.op_read_fired_count.val() {
                    self.count_r.d.next = self.counts.read_data.val();
                }
            }
            Phase::HostC => {
                self.phase.d.next = Phase::Idle;
                if self.h_op.q.val() == self.op_read_weight.val() {
                    self.rdata_r.d.next = self.res_w.out.val();
                } else {
                    self.rdata_r.d.next = self.res_m.out.val();
                }
            }
            Phase::Walk => {
                for b in 0..P {
                    self.xbank[b].read_address.next = self.s_cnt.q.val() >> self.k_lg_p.val();
                }
                if self.s_cnt.q.val() != self.k_sources.val() {
                    self.b_valid.d.next = true;
                    self.b_s.d.next = self.s_cnt.q.val();
                    self.b_base.d.next = self.s_base.q.val();
                    self.s_cnt.d.next = self.s_cnt.q.val() + self.one_src.val();
                    self.s_base.d.next = self.s_base.q.val() + self.k_g25.val();
                } else {
                    self.phase.d.next = Phase::Deliver;
                    self.g_cnt.d.next = self.zero_neu.val();
                    self.g_25.d.next = self.zero_w.val();
                    self.k_cnt.d.next = self.zero_src.val();
                }
            }
            Phase::Deliver => {
                for b in 0..P {
                    self.ybank[b].read_address.next = self.g_cnt.q.val();
                    self.wbank[b].read_address.next = self.dl_addr_b.q.val();
                    self.wbank[b].read_enable.next = self.dl_vb.q.val();
                }
                if self.k_cnt.q.val() != self.list_len.q.val() {
                    if !(self.slow.val() & self.dl_v1.q.val()) {
                        self.dl_v1.d.next = true;
                        self.k_cnt.d.next = self.k_cnt.q.val() + self.one_src.val();
                    }
                } else if !self.dl_v1.q.val()
                    & !self.dl_vb.q.val()
                    & !self.dl_v2.q.val()
                    & !self.dd_v.q.val()
                {
                    // The group is complete: store its sums, start the next group.
                    for b in 0..P {
                        self.accbank[b].write_enable.next = true;
                        self.acc[b].d.next = self.zero_acc.val();
                    }
                    self.k_cnt.d.next = self.zero_src.val();
                    self.g_cnt.d.next = self.g_cnt.q.val() + self.one_neu.val();
                    self.g_25.d.next = self.g_25.q.val() + self.one_w.val();
                    if self.g_cnt.q.val() == self.k_last_group.val() {
                        self.phase.d.next = Phase::Neuron;
                        self.n_cnt.d.next = self.zero_neu.val();
                        self.f_len.d.next = self.zero_neu.val();
                        self.rbyte.d.next = self.zero_8.val();
                        self.rbit.d.next = self.one_8.val();
                        self.rb_addr.d.next = self.h_slot.y.val() & self.k_rmask15.val();
                    }
                }
            }
            Phase::Neuron => {
                // Operands with stage A's index (registered) or stage B's (direct, see the
                // datapath inputs), v_reset with stage D's, the post-trace with stage A's
                // (registered) or E's (direct).
                self.params_reset.read_address.next = self.nd_n.q.val();
                if self.k_direct.val() {
                    self.params.read_address.next = self.b_n.q.val();
                    self.mem_v.read_address.next = self.b_n.q.val();
                    self.mem_i.read_address.next = self.b_n.q.val();
                    self.mem_r.read_address.next = self.b_n.q.val();
                    for b in 0..P {
                        self.accbank[b].read_address.next = self.b_n.q.val() >> self.k_lg_p.val();
                        self.ybank[b].read_address.next = self.ne_n.q.val() >> self.k_lg_p.val();
                    }
                } else {
                    self.params.read_address.next = self.n_cnt.q.val();
                    self.mem_v.read_address.next = self.n_cnt.q.val();
                    self.mem_i.read_address.next = self.n_cnt.q.val();
                    self.mem_r.read_address.next = self.n_cnt.q.val();
                    for b in 0..P {
                        self.ybank[b].read_address.next = self.n_cnt.q.val() >> self.k_lg_p.val();
                    }
                }
                if self.n_cnt.q.val() != self.k_neurons.val() {
                    self.b_nvalid.d.next = true;
                    self.b_n.d.next = self.n_cnt.q.val();
                    self.n_cnt.d.next = self.n_cnt.q.val() + self.one_neu.val();
                } else if !self.b_nvalid.q.val()
                    & !self.nc_v.q.val()
                    & !self.nd_v.q.val()
                    & !self.ne_v.q.val()
                    & !self.nu.out_valid.val()
                {
                    // The update pipeline (stages B..F) has drained.
                    self.q_cnt.d.next = self.zero_neu.val();
                    if self.learn.val() {
                        self.phase.d.next = Phase::PotFetch;
                    } else {
                        self.phase.d.next = Phase::Finish;
                    }
                }
            }
            Phase::PotFetch => {
                if self.q_cnt.q.val() == self.f_len.q.val() {
                    self.phase.d.next = Phase::Finish;
                } else {
                    self.phase.d.next = Phase::PotSetup;
                }
            }
            Phase::PotSetup => {
                self.col_base.d.next = self.fired_grp.read_data.val();
                self.f_lane.d.next = self.fired_lane.read_data.val();
                self.c_cnt.d.next = self.zero_src.val();
                self.q_cnt.d.next = self.q_cnt.q.val() + self.one_neu.val();
                self.phase.d.next = Phase::PotColumn;
            }
            Phase::PotColumn => {
                for b in 0..P {
                    self.xbank[b].read_address.next = self.c_cnt.q.val();
                    for j in 0..P {
                        if self.pat_pot.pat.val().get_bit(b + 8 - j) {
                            self.wbank[b].read_address.next =
                                self.col_base.q.val() + self.k_lane_off[j].val();
                            self.pt_addr[b].d.next =
                                self.col_base.q.val() + self.k_lane_off[j].val();
                        }
                    }
                }
                if self.c_cnt.q.val() != self.k_chunks.val() {
                    if !(self.slow.val() & self.pt_v.q.val()) {
                        for b in 0..P {
                            self.wbank[b].read_enable.next = true;
                        }
                        self.pt_v.d.next = true;
                        self.c_cnt.d.next = self.c_cnt.q.val() + self.one_src.val();
                        self.col_base.d.next = self.col_base.q.val() + self.k_pg25.val();
                        if self.c_cnt.q.val() == self.k_last_chunk.val() {
                            self.pt_lanes.d.next = self.k_last_lanes.val();
                        } else {
                            self.pt_lanes.d.next = self.k_all_lanes.val();
                        }
                    }
                } else {
                    self.phase.d.next = Phase::PotFetch;
                }
            }
            Phase::Finish => {
                self.counts.write_enable.next = true;
                self.count_r.d.next = self.f_len.q.val();
                self.phase.d.next = Phase::Idle;
            }
            _ => {
                self.phase.d.next = Phase::Idle;
            }
        }
    }
}
