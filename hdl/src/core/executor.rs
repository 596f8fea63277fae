//! The command executor: docs/protocol.md §3–§6 in hardware.
//!
//! It takes frames from the `RxPath` queue one at a time, validates each in the order
//! of protocol §5.1 (NACKing the first failure with the code and detail that
//! `neurofab_proto::Command::decode` gives), applies it through the engine's
//! single-operation port (docs/rtl.md §4), and sends the reply frame through the
//! `TxPath` (docs/rtl.md §3). A NACKed command changes nothing: every WRITE reads its
//! payload twice, once to validate and once to apply.
//!
//! Structure: [`ExecFsm`] is the state machine (a leaf: registers and `if`s only, all
//! ports 8/16/32 bits); [`Executor`] wraps it with the width adapters of the real
//! ports, plain wiring only, so Verilator sees no false combinational loop
//! (docs/hdl.md, "UNOPTFLAT").
//!
//! Subroutines share the `ret` register: `Gather` (read payload bytes into a
//! [`ByteGather`]), `EmitByte` (send bytes from one of the [`EmitSrc`] sources),
//! `EmitStart` (open a reply frame), `EngIssue` (one engine operation). The STEP_DONE
//! emitter, which itself calls those, returns through `ret2`.

use neurofab_proto::{
    bitmap_bytes, encode_identity, max_weights_per_frame, weight_bytes, CoreConfig, ALPHA_ONE,
    CMD_IDENTIFY, CMD_READ_MASK, CMD_READ_NEURON_PARAMS, CMD_READ_PRE_TRACES, CMD_READ_STATE,
    CMD_READ_STDP, CMD_READ_WEIGHTS, CMD_RESET, CMD_RUN, CMD_STEP, CMD_WRITE_MASK,
    CMD_WRITE_NEURON_PARAMS, CMD_WRITE_STDP, CMD_WRITE_WEIGHTS, ERR_BAD_LENGTH, ERR_BAD_PARAM,
    ERR_OUT_OF_RANGE, ERR_STEP_GAP, ERR_UNKNOWN_COMMAND, IDENTITY_LEN, MAX_MASK_BITS_PER_FRAME,
    MAX_NEURON_PARAMS_PER_FRAME, MAX_PAYLOAD, MAX_PRE_TRACES_PER_FRAME, MAX_SPIKE_LIST,
    MAX_STATES_PER_FRAME, NEURON_PARAMS_LEN, NEURON_STATE_LEN, REPLY_ACK, REPLY_IDENTITY,
    REPLY_MASK, REPLY_NACK, REPLY_NEURON_PARAMS, REPLY_PRE_TRACES, REPLY_STATE, REPLY_STDP,
    REPLY_STEP_DONE, REPLY_WEIGHTS, RESET_FULL, RESET_STATE, STDP_PARAMS_LEN,
};
use rust_hdl::prelude::*;

use super::arith::{Narrow, ZeroExtend};
use crate::constant;
use crate::widgets::{ByteGather, ByteSelect, CmpConst, NarrowReg, Reg};

/// Engine operation codes (docs/rtl.md §4), defined once in the engine.
pub use super::engine::op;

/// Where `EmitByte` takes byte `eidx` from.
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum EmitSrc {
    /// The request's first bytes (READ_* replies echo their range fields).
    Hdr,
    /// The engine's `rdata`.
    Rdata,
    /// The engine's STDP record.
    Stdp,
    /// The IDENTITY constant.
    Ident,
    /// cmd_type, code, detail (4 bytes LE).
    Nack,
    /// cmd_type.
    Ack,
    /// STEP_DONE header: step (4), format, [count (2)].
    StepHdr,
    /// A spike index `8·bidx + bit`, 2 bytes LE.
    Index,
    /// The mask byte being assembled.
    Fbyte,
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum Ex {
    Idle,
    Gather,
    GatherData,
    GatherEnd,
    PadZero,
    EmitStart,
    EmitByte,
    EmitSend,
    EngIssue,
    EngWait,
    Check,
    Dispatch,
    Nack,
    NackBody,
    Ack,
    AckBody,
    Pop,
    PopWait,
    IdentBody,
    ResetDone,
    WnpCheck,
    WnpPad,
    WnpWrite,
    WnpNext,
    RnpHdr,
    RnpNext,
    RnpEmit,
    RnpAfter,
    WstdpCheck,
    RstdpBody,
    WwCheck,
    WwLoad,
    WwWrite,
    WwNext,
    WmCheck,
    WmPass2,
    WmByte,
    WmBit,
    WmWrite,
    WmNext,
    RwHdr,
    RwNext,
    RwEmit,
    RwAfter,
    RmHdr,
    RmNext,
    RmBit,
    RmEmit,
    RmAfter,
    RtHdr,
    RtNext,
    RtEmit,
    RtAfter,
    StepChkIdx,
    StepChkPad,
    StepPre,
    StepClassify,
    StepApplyIdx,
    StepApplyNext,
    StepApplyByte,
    StepApplyBit,
    StepBitNext,
    StepRun,
    StepRan,
    RunLoop,
    RunRan,
    DoneStart,
    DoneCount,
    DoneHdr,
    DoneBody,
    DoneByte,
    DoneBit,
    DoneNextBit,
    DoneNextByte,
}

/// The executor's state machine, with 16/32-bit ports (see [`Executor`] for the real ones).
#[derive(LogicBlock)]
pub struct ExecFsm {
    pub clock: Signal<In, Clock>,
    // RxPath queue head.
    pub head_valid: Signal<In, Bit>,
    pub head_type: Signal<In, Bits<8>>,
    pub head_seq: Signal<In, Bits<8>>,
    pub head_len: Signal<In, Bits<16>>,
    pub head_status: Signal<In, Bits<8>>,
    pub rd_offset: Signal<Out, Bits<16>>,
    pub rd_data: Signal<In, Bits<8>>,
    pub pop: Signal<Out, Bit>,
    // TxPath.
    pub tx_idle: Signal<In, Bit>,
    pub tx_start: Signal<Out, Bit>,
    pub tx_type: Signal<Out, Bits<8>>,
    pub tx_seq: Signal<Out, Bits<8>>,
    pub tx_len: Signal<Out, Bits<16>>,
    pub tx_data: Signal<Out, Bits<8>>,
    pub tx_data_valid: Signal<Out, Bit>,
    pub tx_data_ready: Signal<In, Bit>,
    // Engine.
    pub eng_op: Signal<Out, Bits<4>>,
    pub eng_start: Signal<Out, Bit>,
    pub eng_busy: Signal<In, Bit>,
    pub eng_src: Signal<Out, Bits<16>>,
    pub eng_neuron: Signal<Out, Bits<16>>,
    pub eng_slot: Signal<Out, Bits<16>>,
    pub eng_byte_idx: Signal<Out, Bits<16>>,
    pub eng_wdata: Signal<Out, Bits<112>>,
    /// Byte 0 of the engine's `rdata`.
    pub rdata_lo: Signal<In, Bits<8>>,
    pub eng_fired_count: Signal<In, Bits<16>>,
    /// High while a command is being executed (for an activity LED).
    pub active: Signal<Out, Bit>,
    // Byte selection, done by `ByteSelect` blocks in [`Executor`]: byte `sel_idx` of
    // the header, rdata, STDP record and IDENTITY; byte `sel_didx` of the step number
    // `next_step` and of the queue head's `head_detail` (sel_idx, or in a NACK the
    // detail byte: sel_idx − 2, which is sel_idx ^ 2 modulo 4).
    pub hdr_q: Signal<Out, Bits<56>>,
    pub step_q: Signal<Out, Bits<32>>,
    pub sel_idx: Signal<Out, Bits<16>>,
    pub sel_didx: Signal<Out, Bits<16>>,
    pub sel_hdr: Signal<In, Bits<8>>,
    pub sel_rdata: Signal<In, Bits<8>>,
    pub sel_stdp: Signal<In, Bits<8>>,
    pub sel_ident: Signal<In, Bits<8>>,
    pub sel_detail: Signal<In, Bits<8>>,
    pub sel_step: Signal<In, Bits<8>>,

    state: Reg<Ex>,
    ret: Reg<Ex>,
    ret2: Reg<Ex>,
    esrc: Reg<EmitSrc>,
    off: NarrowReg<16>,
    gcount: NarrowReg<16>,
    gsel_rec: DFF<Bit>,
    /// The request's first 7 payload bytes (the longest range fields). Filled between Idle
    /// and Dispatch only (afterwards every Gather goes to `rec`), so the range fields
    /// (`h_first`, `h_col`) are read from here for the whole command; likewise the queue head's type, seq
    /// and length are read from the ports, which hold them until the pop.
    hdr: ByteGather<56>,
    rec: ByteGather<112>,
    k: NarrowReg<16>,
    count: NarrowReg<16>,
    prev: NarrowReg<16>,
    next_step: DFF<Bits<32>>,
    /// RUN: the `next_step` at which the run ends (start + k).
    run_end: DFF<Bits<32>>,
    /// The STEP_DONE being sent is a retransmission: its step number is the request's
    /// (`hdr`), and `next_step` does not advance after it.
    replay: DFF<Bit>,
    slot: NarrowReg<16>,
    flist: DFF<Bit>,
    fcount: NarrowReg<16>,
    bidx: NarrowReg<16>,
    bitn: DFF<Bits<3>>,
    idx_reg: NarrowReg<16>,
    fbyte: DFF<Bits<8>>,
    nack_code: DFF<Bits<8>>,
    /// NACK detail: `ndet16` plus bits 23..16 in `ndet_hi`, or (`ndet_wide`) the queue
    /// head's `head_detail` or (`ndet_step`) `next_step`, both stable until the pop.
    ndet16: DFF<Bits<16>>,
    ndet_hi: DFF<Bits<8>>,
    ndet_wide: DFF<Bit>,
    ndet_step: DFF<Bit>,
    eidx: NarrowReg<16>,
    ecount: NarrowReg<16>,
    rtype: DFF<Bits<8>>,
    rlen: NarrowReg<16>,
    eop: DFF<Bits<4>>,
    e_src: NarrowReg<16>,
    e_neuron: NarrowReg<16>,
    /// The reply byte offered to the TxPath: `ebyte` registered (EmitByte computes it,
    /// EmitSend offers it), so the byte selection ends at a register.
    tbyte: DFF<Bits<8>>,

    // Decisions registered one cycle ahead of Dispatch (all free-running: a register
    // per decision, not per operand). The command type, decoded from the queue head's
    // type (stable from Idle to the pop), one flag per command:
    f_identify: DFF<Bit>,
    f_reset: DFF<Bit>,
    f_wnp: DFF<Bit>,
    f_rnp: DFF<Bit>,
    f_rstate: DFF<Bit>,
    f_wstdp: DFF<Bit>,
    f_rstdp: DFF<Bit>,
    f_ww: DFF<Bit>,
    f_wm: DFF<Bit>,
    f_rw: DFF<Bit>,
    f_rm: DFF<Bit>,
    f_rtrace: DFF<Bit>,
    f_step: DFF<Bit>,
    f_run: DFF<Bit>,
    /// The length the command's fields imply (one shared adder `e_base + e_a + e_b`):
    /// the exact request length of WRITE_NEURON_PARAMS, WRITE_WEIGHTS, WRITE_MASK and
    /// STEP, and the reply length of the READs, IDENTIFY and READ_STDP. Valid from
    /// Check on (registered in Decode).
    exp_len: DFF<Bits<16>>,
    /// `head_len != exp_len` (valid in Dispatch).
    k_len_ne_exp: DFF<Bit>,
    /// The command's first length check fails (`head_len` below the fixed part, or not
    /// the fixed length).
    k_len_bad: DFF<Bit>,
    /// STEP list format: `head_len` < 7.
    k_len_lt_list: DFF<Bit>,
    /// Range checks: neuron range (READ/WRITE_NEURON_PARAMS, READ_STATE), source/column
    /// range (WEIGHTS/MASK: `first`, `col`, `count`), trace range.
    k_nr_bad: DFF<Bit>,
    k_first_bad: DFF<Bit>,
    k_col_bad: DFF<Bit>,
    k_sr_bad: DFF<Bit>,
    k_tr_bad: DFF<Bit>,
    /// RESET reserved flag bits set.
    k_rst_res: DFF<Bit>,
    /// STEP: format 0 / 1, list count 0, list count above the maximum.
    k_fmt0: DFF<Bit>,
    k_fmt1: DFF<Bit>,
    k_list_zero: DFF<Bit>,
    k_list_gt: DFF<Bit>,
    /// RUN would pass step 0xFFFFFFFF (`step_over` of Check, where the step adder
    /// computes `next_step + h_step` as in Dispatch).
    k_step_over: DFF<Bit>,
    /// Checks of a gathered record (registered in GatherEnd). WRITE_STDP: reserved flag
    /// bits, reserved byte, alpha_pre, alpha_post, w_min (does not fit W bits, or above
    /// w_max), w_max.
    k_flags_bad: DFF<Bit>,
    k_res_bad: DFF<Bit>,
    k_apre_bad: DFF<Bit>,
    k_apost_bad: DFF<Bit>,
    k_wmin_bad: DFF<Bit>,
    k_wmax_bad: DFF<Bit>,
    /// WRITE_NEURON_PARAMS: w_shift or an alpha out of range.
    k_wnp_bad: DFF<Bit>,
    /// WRITE_WEIGHTS: the weight does not fit W bits.
    k_weight_bad: DFF<Bit>,
    /// WRITE_MASK: padding bits of the last byte set.
    k_wm_pad: DFF<Bit>,
    /// STEP: list entry >= M, list entry <= the previous one, bitmap padding bits set.
    k_idx_range: DFF<Bit>,
    k_idx_order: DFF<Bit>,
    k_pad_bad: DFF<Bit>,
    /// STEP classification (registered in StepPre, where the step adder computes
    /// `next_step - h_step`): execute, or replay a stored result.
    k_exec: DFF<Bit>,
    k_replay: DFF<Bit>,

    // Comparisons against constants of the configuration (`CmpConst`: LUTs, not carry
    // chains), fed from register outputs directly (fed through a local that the kernel
    // also reads, they would be a false loop for Verilator, UNOPTFLAT).
    clen_ge_nrange: CmpConst<16>,
    clen_ge_srange: CmpConst<16>,
    clen_ge_step_hdr: CmpConst<16>,
    clen_ge_list_hdr: CmpConst<16>,
    cnt8_gt_params: CmpConst<8>,
    cnt8_gt_states: CmpConst<8>,
    first_gt_neurons: CmpConst<16>,
    first_ge_sources: CmpConst<16>,
    first_gt_sources: CmpConst<16>,
    col_ge_neurons: CmpConst<16>,
    col_gt_traces: CmpConst<16>,
    cnt16_gt_weights: CmpConst<16>,
    cnt16_gt_mask: CmpConst<16>,
    list_gt_max: CmpConst<16>,
    /// `first + count8`, `col + count16`, `first + col` (trace range) above the limit.
    nsum_gt_neurons: CmpConst<16>,
    ssum_gt_neurons: CmpConst<16>,
    tsum_gt_sources: CmpConst<16>,
    wshift_gt_max: CmpConst<8>,
    rec64_gt_alpha: CmpConst<16>,
    rec80_gt_alpha: CmpConst<16>,
    rec96_gt_alpha: CmpConst<16>,
    rec96_ge_inputs: CmpConst<16>,
    /// `fired_count >= fired_bytes / 2`: the fired set is sent as a bitmap
    /// (a list needs 2·count + 2 <= fired_bytes).
    fired_ge_half: CmpConst<16>,
    eidx_ge_4: CmpConst<16>,

    // Combinational helpers.
    ebyte: Signal<Local, Bits<8>>,
    weight16: Signal<Local, Bits<16>>,
    h_first: Signal<Local, Bits<16>>,
    h_count8: Signal<Local, Bits<16>>,
    h_col: Signal<Local, Bits<16>>,
    h_count16: Signal<Local, Bits<16>>,
    h_step: Signal<Local, Bits<32>>,
    h_format: Signal<Local, Bits<8>>,
    h_list_count: Signal<Local, Bits<16>>,
    /// Bits 23..16 of the STEP spike-list length `7 + 2·count` (17 bits; bits 15..0 are
    /// `exp_len`): count's top bit plus the carry out of bits 15..0.
    list_hi: Signal<Local, Bits<8>>,
    /// 1 if count16 is not a multiple of 8 (mask lengths `6 + ceil(count16 / 8)`).
    mask_part: Signal<Local, Bits<16>>,
    /// `off - back`: the payload offset of the field a check NACKs (`back` by state).
    back: Signal<Local, Bits<16>>,
    off_back: Signal<Local, Bits<16>>,
    /// Operands of the shared length adder (`exp_len`).
    e_base: Signal<Local, Bits<16>>,
    e_a: Signal<Local, Bits<16>>,
    e_b: Signal<Local, Bits<16>>,
    /// Range ends `col + count16` and `first + col` (16 bits) and their carries out (from
    /// the operands' and the sum's top bits).
    ssum: Signal<Local, Bits<16>>,
    ssum_over: Signal<Local, Bit>,
    /// The bits of `ssum` and `tsum` below the top one (only the top bit is read here;
    /// the `CmpConst`s get their own copies of the sums), folded for Verilator.
    unused_sums: Signal<Local, Bits<16>>,
    tsum: Signal<Local, Bits<16>>,
    tsum_over: Signal<Local, Bit>,
    /// One adder for the step numbers: `next_step + step_b + step_c` is
    /// `next_step + h_step` in Check and Dispatch (RUN: the end of the run; `step_over` is
    /// its carry out, the run would pass step 0xFFFFFFFF), `next_step - h_step` in StepPre
    /// (how many steps back; `step_borrow`: h_step > next_step) and `next_step + 1`
    /// otherwise (DoneBody). Carry and borrow come from the operands' and the sum's top bits.
    step_b: Signal<Local, Bits<32>>,
    step_c: Signal<Local, Bits<32>>,
    step_sum: Signal<Local, Bits<32>>,
    step_over: Signal<Local, Bit>,
    step_borrow: Signal<Local, Bit>,
    /// A 16-bit value lies in the signed W-bit range iff its bits 15 .. W-1 are all equal
    /// (written so that W = 16 gives no constant comparison, Verilator UNSIGNED/CMPCONST).
    weight_fits: Signal<Local, Bit>,
    wmin_fits: Signal<Local, Bit>,
    wmax_fits: Signal<Local, Bit>,

    // Constants (docs/hdl.md: no literals in kernels): lengths, limits and codes, all
    // from neurofab-proto and the configuration.
    zero16: Constant<Bits<16>>,
    one16: Constant<Bits<16>>,
    two16: Constant<Bits<16>>,
    seven16: Constant<Bits<16>>,
    zero32: Constant<Bits<32>>,
    last32: Constant<Bits<32>>,
    one8: Constant<Bits<8>>,
    two8: Constant<Bits<8>>,
    flags_reserved: Constant<Bits<8>>,
    one32: Constant<Bits<32>>,
    zero8: Constant<Bits<8>>,
    byte_mask16: Constant<Bits<16>>,
    sign16: Constant<Bits<16>>,
    byte_hi16: Constant<Bits<16>>,
    // Frame types.
    t_identify: Constant<Bits<8>>,
    t_reset: Constant<Bits<8>>,
    t_wnp: Constant<Bits<8>>,
    t_rnp: Constant<Bits<8>>,
    t_wstdp: Constant<Bits<8>>,
    t_rstdp: Constant<Bits<8>>,
    t_ww: Constant<Bits<8>>,
    t_rw: Constant<Bits<8>>,
    t_wm: Constant<Bits<8>>,
    t_rm: Constant<Bits<8>>,
    t_rstate: Constant<Bits<8>>,
    t_rtrace: Constant<Bits<8>>,
    t_step: Constant<Bits<8>>,
    t_run: Constant<Bits<8>>,
    r_identity: Constant<Bits<8>>,
    r_params: Constant<Bits<8>>,
    r_stdp: Constant<Bits<8>>,
    r_weights: Constant<Bits<8>>,
    r_mask: Constant<Bits<8>>,
    r_state: Constant<Bits<8>>,
    r_traces: Constant<Bits<8>>,
    r_step_done: Constant<Bits<8>>,
    r_ack: Constant<Bits<8>>,
    r_nack: Constant<Bits<8>>,
    // Error codes.
    e_length: Constant<Bits<8>>,
    e_range: Constant<Bits<8>>,
    e_param: Constant<Bits<8>>,
    e_gap: Constant<Bits<8>>,
    e_unknown: Constant<Bits<8>>,
    // Reset flags.
    reset_reserved: Constant<Bits<16>>,
    reset_full: Constant<Bits<16>>,
    reset_state: Constant<Bits<16>>,
    // Sizes.
    fired_bytes: Constant<Bits<16>>,
    input_bytes: Constant<Bits<16>>,
    input_pad_check: Constant<Bit>,
    input_pad_mask: Constant<Bits<8>>,
    /// replay_depth (a power of two), and the bits above its low ones.
    replay_depth: Constant<Bits<32>>,
    replay_hi: Constant<Bits<32>>,
    replay_mask: Constant<Bits<16>>,
    zero3: Constant<Bits<3>>,
    one3: Constant<Bits<3>>,
    seven3: Constant<Bits<3>>,
    weight_bytes: Constant<Bits<16>>,
    weight_wide: Constant<Bit>,
    /// W − 1, and `0xFFFF >> (W − 1)`: the top bits of a W-bit value sign-extended to 16.
    w_top: Constant<Bits<16>>,
    w_top_ones: Constant<Bits<16>>,
    // Lengths and per-frame limits.
    len_identity: Constant<Bits<16>>,
    len_reset: Constant<Bits<16>>,
    len_nrange: Constant<Bits<16>>,
    len_srange: Constant<Bits<16>>,
    len_trange: Constant<Bits<16>>,
    len_stdp: Constant<Bits<16>>,
    len_params: Constant<Bits<16>>,
    len_state: Constant<Bits<16>>,
    len_step_hdr: Constant<Bits<16>>,
    len_list_hdr: Constant<Bits<16>>,
    /// `len_step_hdr + input_bytes`: the STEP bitmap length.
    len_bitmap: Constant<Bits<16>>,
    len_run: Constant<Bits<16>>,
    len_nack: Constant<Bits<16>>,
    // Payload offsets used as NACK details.
    off_reserved: Constant<Bits<16>>,
    off_alpha_pre: Constant<Bits<16>>,
    off_alpha_post: Constant<Bits<16>>,
    off_w_min: Constant<Bits<16>>,
    off_w_max: Constant<Bits<16>>,
    // Engine ops.
    op_step: Constant<Bits<4>>,
    op_state_reset: Constant<Bits<4>>,
    op_full_reset: Constant<Bits<4>>,
    op_read_weight: Constant<Bits<4>>,
    op_write_weight: Constant<Bits<4>>,
    op_read_mask: Constant<Bits<4>>,
    op_write_mask: Constant<Bits<4>>,
    op_read_params: Constant<Bits<4>>,
    op_write_params: Constant<Bits<4>>,
    op_read_state: Constant<Bits<4>>,
    op_read_trace: Constant<Bits<4>>,
    op_set_input: Constant<Bits<4>>,
    op_read_fired_byte: Constant<Bits<4>>,
    op_read_fired_count: Constant<Bits<4>>,
    op_write_stdp: Constant<Bits<4>>,
}

fn c16(v: usize) -> Constant<Bits<16>> {
    constant::<16>(v as u64)
}
fn c8(v: u8) -> Constant<Bits<8>> {
    constant::<8>(v as u64)
}
fn c4(v: u64) -> Constant<Bits<4>> {
    constant::<4>(v)
}

impl ExecFsm {
    pub fn new(cfg: &CoreConfig) -> ExecFsm {
        cfg.validate().expect("valid core configuration");
        assert!(cfg.sources() < 1 << 16 && cfg.replay_depth <= 64);
        let shape = cfg.shape;
        let w = shape.weight_bits;
        let m = shape.inputs as usize;
        // The largest values of the index and length registers (`NarrowReg`), so that
        // their logic is as wide as this configuration needs rather than 16 bits:
        // indices (sources, neurons, list entries, bitmap bits, items of a frame) and
        // byte counts of one frame.
        let bitmap_max = bitmap_bytes(cfg.neurons().max(m));
        let max_index = cfg.sources().max(MAX_SPIKE_LIST).max(8 * (bitmap_max + 1)) as u64 + 1;
        let max_frame = (MAX_PAYLOAD + 16) as u64;
        let max_slot = cfg.replay_depth as u64 - 1;
        let max_fired = cfg.neurons() as u64;
        let max_byte = bitmap_max as u64 + 1;
        ExecFsm {
            clock: Default::default(),
            head_valid: Default::default(),
            head_type: Default::default(),
            head_seq: Default::default(),
            head_len: Default::default(),
            head_status: Default::default(),
            rd_offset: Default::default(),
            rd_data: Default::default(),
            pop: Default::default(),
            tx_idle: Default::default(),
            tx_start: Default::default(),
            tx_type: Default::default(),
            tx_seq: Default::default(),
            tx_len: Default::default(),
            tx_data: Default::default(),
            tx_data_valid: Default::default(),
            tx_data_ready: Default::default(),
            eng_op: Default::default(),
            eng_start: Default::default(),
            eng_busy: Default::default(),
            eng_src: Default::default(),
            eng_neuron: Default::default(),
            eng_slot: Default::default(),
            eng_byte_idx: Default::default(),
            eng_wdata: Default::default(),
            rdata_lo: Default::default(),
            eng_fired_count: Default::default(),
            active: Default::default(),
            hdr_q: Default::default(),
            step_q: Default::default(),
            sel_idx: Default::default(),
            sel_didx: Default::default(),
            sel_hdr: Default::default(),
            sel_rdata: Default::default(),
            sel_stdp: Default::default(),
            sel_ident: Default::default(),
            sel_detail: Default::default(),
            sel_step: Default::default(),
            state: Default::default(),
            ret: Default::default(),
            ret2: Default::default(),
            esrc: Default::default(),
            off: NarrowReg::holding(max_frame),
            gcount: NarrowReg::holding(max_frame),
            gsel_rec: Default::default(),
            hdr: Default::default(),
            rec: Default::default(),
            k: NarrowReg::holding(max_index),
            count: NarrowReg::holding(max_index),
            prev: NarrowReg::holding(max_index),
            next_step: Default::default(),
            run_end: Default::default(),
            replay: Default::default(),
            slot: NarrowReg::holding(max_slot),
            flist: Default::default(),
            fcount: NarrowReg::holding(max_fired),
            bidx: NarrowReg::holding(max_byte),
            bitn: Default::default(),
            idx_reg: NarrowReg::holding(max_index),
            fbyte: Default::default(),
            nack_code: Default::default(),
            ndet16: Default::default(),
            ndet_hi: Default::default(),
            ndet_wide: Default::default(),
            ndet_step: Default::default(),
            eidx: NarrowReg::holding(max_frame),
            ecount: NarrowReg::holding(max_frame),
            rtype: Default::default(),
            rlen: NarrowReg::holding(max_frame),
            eop: Default::default(),
            e_src: NarrowReg::holding(max_index),
            e_neuron: NarrowReg::holding(max_index),
            tbyte: Default::default(),
            f_identify: Default::default(),
            f_reset: Default::default(),
            f_wnp: Default::default(),
            f_rnp: Default::default(),
            f_rstate: Default::default(),
            f_wstdp: Default::default(),
            f_rstdp: Default::default(),
            f_ww: Default::default(),
            f_wm: Default::default(),
            f_rw: Default::default(),
            f_rm: Default::default(),
            f_rtrace: Default::default(),
            f_step: Default::default(),
            f_run: Default::default(),
            exp_len: Default::default(),
            k_len_ne_exp: Default::default(),
            k_len_bad: Default::default(),
            k_len_lt_list: Default::default(),
            k_nr_bad: Default::default(),
            k_first_bad: Default::default(),
            k_col_bad: Default::default(),
            k_sr_bad: Default::default(),
            k_tr_bad: Default::default(),
            k_rst_res: Default::default(),
            k_fmt0: Default::default(),
            k_fmt1: Default::default(),
            k_list_zero: Default::default(),
            k_list_gt: Default::default(),
            k_step_over: Default::default(),
            k_flags_bad: Default::default(),
            k_res_bad: Default::default(),
            k_apre_bad: Default::default(),
            k_apost_bad: Default::default(),
            k_wmin_bad: Default::default(),
            k_wmax_bad: Default::default(),
            k_wnp_bad: Default::default(),
            k_weight_bad: Default::default(),
            k_wm_pad: Default::default(),
            k_idx_range: Default::default(),
            k_idx_order: Default::default(),
            k_pad_bad: Default::default(),
            k_exec: Default::default(),
            k_replay: Default::default(),
            clen_ge_nrange: CmpConst::ge(3),
            clen_ge_srange: CmpConst::ge(6),
            clen_ge_step_hdr: CmpConst::ge(5),
            clen_ge_list_hdr: CmpConst::ge(7),
            cnt8_gt_params: CmpConst::gt(MAX_NEURON_PARAMS_PER_FRAME as u64),
            cnt8_gt_states: CmpConst::gt(MAX_STATES_PER_FRAME as u64),
            first_gt_neurons: CmpConst::gt(cfg.neurons() as u64),
            first_ge_sources: CmpConst::ge(cfg.sources() as u64),
            first_gt_sources: CmpConst::gt(cfg.sources() as u64),
            col_ge_neurons: CmpConst::ge(cfg.neurons() as u64),
            col_gt_traces: CmpConst::gt(MAX_PRE_TRACES_PER_FRAME as u64),
            cnt16_gt_weights: CmpConst::gt(max_weights_per_frame(w) as u64),
            cnt16_gt_mask: CmpConst::gt(MAX_MASK_BITS_PER_FRAME as u64),
            list_gt_max: CmpConst::gt(MAX_SPIKE_LIST as u64),
            nsum_gt_neurons: CmpConst::gt(cfg.neurons() as u64),
            ssum_gt_neurons: CmpConst::gt(cfg.neurons() as u64),
            tsum_gt_sources: CmpConst::gt(cfg.sources() as u64),
            wshift_gt_max: CmpConst::gt(16 - w as u64),
            rec64_gt_alpha: CmpConst::gt(ALPHA_ONE as u64),
            rec80_gt_alpha: CmpConst::gt(ALPHA_ONE as u64),
            rec96_gt_alpha: CmpConst::gt(ALPHA_ONE as u64),
            rec96_ge_inputs: CmpConst::ge(m as u64),
            fired_ge_half: CmpConst::ge(bitmap_bytes(cfg.neurons()) as u64 / 2),
            eidx_ge_4: CmpConst::ge(4),
            ebyte: Default::default(),
            weight16: Default::default(),
            h_first: Default::default(),
            h_count8: Default::default(),
            h_col: Default::default(),
            h_count16: Default::default(),
            h_step: Default::default(),
            h_format: Default::default(),
            h_list_count: Default::default(),
            list_hi: Default::default(),
            mask_part: Default::default(),
            back: Default::default(),
            off_back: Default::default(),
            e_base: Default::default(),
            e_a: Default::default(),
            e_b: Default::default(),
            ssum: Default::default(),
            ssum_over: Default::default(),
            unused_sums: Default::default(),
            tsum: Default::default(),
            tsum_over: Default::default(),
            step_b: Default::default(),
            step_c: Default::default(),
            step_sum: Default::default(),
            step_over: Default::default(),
            step_borrow: Default::default(),
            weight_fits: Default::default(),
            wmin_fits: Default::default(),
            wmax_fits: Default::default(),
            zero16: c16(0),
            one16: c16(1),
            two16: c16(2),
            seven16: c16(7),
            zero32: constant::<32>(0),
            last32: constant::<32>(u32::MAX as u64),
            one8: c8(1),
            two8: c8(2),
            flags_reserved: c8(!neurofab_proto::records::stdp_params::FLAG_ENABLED),
            one32: constant::<32>(1),
            zero8: c8(0),
            byte_mask16: c16(0xFF),
            sign16: c16(0x8000),
            byte_hi16: c16(0xFF00),
            t_identify: c8(CMD_IDENTIFY),
            t_reset: c8(CMD_RESET),
            t_wnp: c8(CMD_WRITE_NEURON_PARAMS),
            t_rnp: c8(CMD_READ_NEURON_PARAMS),
            t_wstdp: c8(CMD_WRITE_STDP),
            t_rstdp: c8(CMD_READ_STDP),
            t_ww: c8(CMD_WRITE_WEIGHTS),
            t_rw: c8(CMD_READ_WEIGHTS),
            t_wm: c8(CMD_WRITE_MASK),
            t_rm: c8(CMD_READ_MASK),
            t_rstate: c8(CMD_READ_STATE),
            t_rtrace: c8(CMD_READ_PRE_TRACES),
            t_step: c8(CMD_STEP),
            t_run: c8(CMD_RUN),
            r_identity: c8(REPLY_IDENTITY),
            r_params: c8(REPLY_NEURON_PARAMS),
            r_stdp: c8(REPLY_STDP),
            r_weights: c8(REPLY_WEIGHTS),
            r_mask: c8(REPLY_MASK),
            r_state: c8(REPLY_STATE),
            r_traces: c8(REPLY_PRE_TRACES),
            r_step_done: c8(REPLY_STEP_DONE),
            r_ack: c8(REPLY_ACK),
            r_nack: c8(REPLY_NACK),
            e_length: c8(ERR_BAD_LENGTH),
            e_range: c8(ERR_OUT_OF_RANGE),
            e_param: c8(ERR_BAD_PARAM),
            e_gap: c8(ERR_STEP_GAP),
            e_unknown: c8(ERR_UNKNOWN_COMMAND),
            reset_reserved: c16((!(RESET_STATE | RESET_FULL)) as usize),
            reset_full: c16(RESET_FULL as usize),
            reset_state: c16(RESET_STATE as usize),
            fired_bytes: c16(bitmap_bytes(cfg.neurons())),
            input_bytes: c16(bitmap_bytes(m)),
            input_pad_check: Constant::new(!m.is_multiple_of(8)),
            input_pad_mask: c8(if m.is_multiple_of(8) {
                0
            } else {
                0xFFu8 << (m % 8)
            }),
            replay_depth: constant::<32>(cfg.replay_depth as u64),
            replay_hi: constant::<32>(!(cfg.replay_depth as u64 - 1) & u32::MAX as u64),
            replay_mask: c16(cfg.replay_depth as usize - 1),
            zero3: constant::<3>(0),
            one3: constant::<3>(1),
            seven3: constant::<3>(7),
            weight_bytes: c16(weight_bytes(w)),
            weight_wide: Constant::new(weight_bytes(w) == 2),
            w_top: c16(w as usize - 1),
            w_top_ones: c16(0xFFFF >> (w - 1)),
            len_identity: c16(IDENTITY_LEN),
            len_reset: c16(1),
            len_nrange: c16(3),
            len_srange: c16(6),
            len_trange: c16(4),
            len_stdp: c16(STDP_PARAMS_LEN),
            len_params: c16(NEURON_PARAMS_LEN),
            len_state: c16(NEURON_STATE_LEN),
            len_step_hdr: c16(5),
            len_list_hdr: c16(7),
            len_bitmap: c16(5 + bitmap_bytes(m)),
            len_run: c16(4),
            len_nack: c16(6),
            off_reserved: c16(5),
            off_alpha_pre: c16(10),
            off_alpha_post: c16(12),
            off_w_min: c16(6),
            off_w_max: c16(8),
            op_step: c4(op::STEP),
            op_state_reset: c4(op::STATE_RESET),
            op_full_reset: c4(op::FULL_RESET),
            op_read_weight: c4(op::READ_WEIGHT),
            op_write_weight: c4(op::WRITE_WEIGHT),
            op_read_mask: c4(op::READ_MASK),
            op_write_mask: c4(op::WRITE_MASK),
            op_read_params: c4(op::READ_PARAMS),
            op_write_params: c4(op::WRITE_PARAMS),
            op_read_state: c4(op::READ_STATE),
            op_read_trace: c4(op::READ_TRACE),
            op_set_input: c4(op::SET_INPUT),
            op_read_fired_byte: c4(op::READ_FIRED_BYTE),
            op_read_fired_count: c4(op::READ_FIRED_COUNT),
            op_write_stdp: c4(op::WRITE_STDP),
        }
    }
}

impl Logic for ExecFsm {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            ret,
            ret2,
            esrc,
            off,
            gcount,
            gsel_rec,
            k,
            count,
            prev,
            next_step,
            run_end,
            replay,
            slot,
            flist,
            fcount,
            bidx,
            bitn,
            idx_reg,
            fbyte,
            nack_code,
            ndet16,
            ndet_hi,
            ndet_wide,
            ndet_step,
            eidx,
            ecount,
            rtype,
            rlen,
            eop,
            e_src,
            e_neuron,
            tbyte,
            f_identify,
            f_reset,
            f_wnp,
            f_rnp,
            f_rstate,
            f_wstdp,
            f_rstdp,
            f_ww,
            f_wm,
            f_rw,
            f_rm,
            f_rtrace,
            f_step,
            f_run,
            exp_len,
            k_len_ne_exp,
            k_len_bad,
            k_len_lt_list,
            k_nr_bad,
            k_first_bad,
            k_col_bad,
            k_sr_bad,
            k_tr_bad,
            k_rst_res,
            k_fmt0,
            k_fmt1,
            k_list_zero,
            k_list_gt,
            k_step_over,
            k_flags_bad,
            k_res_bad,
            k_apre_bad,
            k_apost_bad,
            k_wmin_bad,
            k_wmax_bad,
            k_wnp_bad,
            k_weight_bad,
            k_wm_pad,
            k_idx_range,
            k_idx_order,
            k_pad_bad,
            k_exec,
            k_replay
        );
        clock!(self, clock, hdr, rec);
        self.hdr.shift.next = false;
        self.hdr.load.next = false;
        self.hdr.byte_in.next = self.rd_data.val();
        self.hdr.word.next = self.zero16.val();
        self.rec.shift.next = false;
        self.rec.load.next = false;
        self.rec.byte_in.next = self.rd_data.val();
        self.rec.word.next = self.zero16.val();

        // Request header fields (the first 7 payload bytes, little-endian).
        self.h_first.next = self.hdr.q.val().get_bits::<16>(0);
        self.h_count8.next = self.hdr.q.val().get_bits::<16>(16) & self.byte_mask16.val();
        self.h_col.next = self.hdr.q.val().get_bits::<16>(16);
        self.h_count16.next = self.hdr.q.val().get_bits::<16>(32);
        self.h_step.next = self.hdr.q.val().get_bits::<32>(0);
        self.h_format.next = self.hdr.q.val().get_bits::<8>(32);
        self.h_list_count.next = self.hdr.q.val().get_bits::<16>(40);
        // Carry out of bits 15..0 of `7 + 2·count` (`exp_len` in a STEP list): 7 has bit
        // 15 clear, 2·count has count's bit 14.
        self.list_hi.next = self.zero8.val();
        if self.h_list_count.val().get_bit(15)
            & self.h_list_count.val().get_bit(14)
            & !self.exp_len.q.val().get_bit(15)
        {
            self.list_hi.next = self.two8.val();
        } else if self.h_list_count.val().get_bit(15)
            | (self.h_list_count.val().get_bit(14) & !self.exp_len.q.val().get_bit(15))
        {
            self.list_hi.next = self.one8.val();
        }
        self.back.next = self.one16.val();
        match self.state.q.val() {
            Ex::WnpCheck => {
                if self.wshift_gt_max.y.val() {
                    self.back.next = self.one16.val();
                } else if self.rec64_gt_alpha.y.val() {
                    self.back.next = self.len_state.val();
                } else {
                    self.back.next = self.len_trange.val();
                }
            }
            Ex::WwCheck => {
                self.back.next = self.weight_bytes.val();
            }
            Ex::StepChkIdx => {
                self.back.next = self.two16.val();
            }
            _ => {}
        }
        self.off_back.next = self.off.q.val() - self.back.val();
        self.mask_part.next = self.zero16.val();
        if (self.h_count16.val() & self.seven16.val()) != self.zero16.val() {
            self.mask_part.next = self.one16.val();
        }
        // The command type, decoded every cycle (head_type is stable until the pop).
        self.f_identify.d.next = self.head_type.val() == self.t_identify.val();
        self.f_reset.d.next = self.head_type.val() == self.t_reset.val();
        self.f_wnp.d.next = self.head_type.val() == self.t_wnp.val();
        self.f_rnp.d.next = self.head_type.val() == self.t_rnp.val();
        self.f_rstate.d.next = self.head_type.val() == self.t_rstate.val();
        self.f_wstdp.d.next = self.head_type.val() == self.t_wstdp.val();
        self.f_rstdp.d.next = self.head_type.val() == self.t_rstdp.val();
        self.f_ww.d.next = self.head_type.val() == self.t_ww.val();
        self.f_wm.d.next = self.head_type.val() == self.t_wm.val();
        self.f_rw.d.next = self.head_type.val() == self.t_rw.val();
        self.f_rm.d.next = self.head_type.val() == self.t_rm.val();
        self.f_rtrace.d.next = self.head_type.val() == self.t_rtrace.val();
        self.f_step.d.next = self.head_type.val() == self.t_step.val();
        self.f_run.d.next = self.head_type.val() == self.t_run.val();
        // The implied length `e_base + e_a + e_b` by command type: NEURON_PARAMS
        // 3 + 12·count8, STATE 3 + 6·count8, WEIGHTS 6 + B·count16, MASK
        // 6 + ceil(count16 / 8), PRE_TRACES 4 + count, STEP 7 + 2·count (list) or
        // 5 + ceil(M / 8) (bitmap), IDENTITY and STDP their fixed lengths.
        self.e_base.next = self.zero16.val();
        self.e_a.next = self.zero16.val();
        self.e_b.next = self.zero16.val();
        if self.f_identify.q.val() {
            self.e_base.next = self.len_identity.val();
        }
        if self.f_rstdp.q.val() {
            self.e_base.next = self.len_stdp.val();
        }
        if self.f_wnp.q.val() | self.f_rnp.q.val() {
            self.e_base.next = self.len_nrange.val();
            self.e_a.next = self.h_count8.val() << 3;
            self.e_b.next = self.h_count8.val() << 2;
        }
        if self.f_rstate.q.val() {
            self.e_base.next = self.len_nrange.val();
            self.e_a.next = self.h_count8.val() << 2;
            self.e_b.next = self.h_count8.val() << 1;
        }
        if self.f_ww.q.val() | self.f_rw.q.val() {
            self.e_base.next = self.len_srange.val();
            if self.weight_wide.val() {
                self.e_a.next = self.h_count16.val() << 1;
            } else {
                self.e_a.next = self.h_count16.val();
            }
        }
        if self.f_wm.q.val() | self.f_rm.q.val() {
            self.e_base.next = self.len_srange.val();
            self.e_a.next = self.h_count16.val() >> 3;
            self.e_b.next = self.mask_part.val();
        }
        if self.f_rtrace.q.val() {
            self.e_base.next = self.len_trange.val();
            self.e_a.next = self.h_col.val();
        }
        if self.f_step.q.val() {
            if self.h_format.val() == self.zero8.val() {
                self.e_base.next = self.len_list_hdr.val();
                self.e_a.next = self.h_list_count.val() << 1;
            } else {
                self.e_base.next = self.len_bitmap.val();
            }
        }
        self.exp_len.d.next = self.e_base.val() + self.e_a.val() + self.e_b.val();
        self.ssum.next = self.h_col.val() + self.h_count16.val();
        self.ssum_over.next = (self.h_col.val().get_bit(15) & self.h_count16.val().get_bit(15))
            | ((self.h_col.val().get_bit(15) | self.h_count16.val().get_bit(15))
                & !self.ssum.val().get_bit(15));
        self.tsum.next = self.h_first.val() + self.h_col.val();
        self.tsum_over.next = (self.h_first.val().get_bit(15) & self.h_col.val().get_bit(15))
            | ((self.h_first.val().get_bit(15) | self.h_col.val().get_bit(15))
                & !self.tsum.val().get_bit(15));
        self.unused_sums.next = self.ssum.val() ^ self.tsum.val();
        self.clen_ge_nrange.x.next = self.head_len.val();
        self.clen_ge_srange.x.next = self.head_len.val();
        self.clen_ge_step_hdr.x.next = self.head_len.val();
        self.clen_ge_list_hdr.x.next = self.head_len.val();
        self.cnt8_gt_params.x.next = self.hdr.q.val().get_bits::<8>(16);
        self.cnt8_gt_states.x.next = self.hdr.q.val().get_bits::<8>(16);
        self.first_gt_neurons.x.next = self.hdr.q.val().get_bits::<16>(0);
        self.first_ge_sources.x.next = self.hdr.q.val().get_bits::<16>(0);
        self.first_gt_sources.x.next = self.hdr.q.val().get_bits::<16>(0);
        self.col_ge_neurons.x.next = self.hdr.q.val().get_bits::<16>(16);
        self.col_gt_traces.x.next = self.hdr.q.val().get_bits::<16>(16);
        self.cnt16_gt_weights.x.next = self.hdr.q.val().get_bits::<16>(32);
        self.cnt16_gt_mask.x.next = self.hdr.q.val().get_bits::<16>(32);
        self.list_gt_max.x.next = self.hdr.q.val().get_bits::<16>(40);
        // The same sums as nsum, ssum and tsum (yosys merges them).
        self.nsum_gt_neurons.x.next = self.hdr.q.val().get_bits::<16>(0)
            + (self.hdr.q.val().get_bits::<16>(16) & self.byte_mask16.val());
        self.ssum_gt_neurons.x.next =
            self.hdr.q.val().get_bits::<16>(16) + self.hdr.q.val().get_bits::<16>(32);
        self.tsum_gt_sources.x.next =
            self.hdr.q.val().get_bits::<16>(0) + self.hdr.q.val().get_bits::<16>(16);
        self.wshift_gt_max.x.next = self.rec.q.val().get_bits::<8>(104);
        self.rec64_gt_alpha.x.next = self.rec.q.val().get_bits::<16>(64);
        self.rec80_gt_alpha.x.next = self.rec.q.val().get_bits::<16>(80);
        self.rec96_gt_alpha.x.next = self.rec.q.val().get_bits::<16>(96);
        self.rec96_ge_inputs.x.next = self.rec.q.val().get_bits::<16>(96);
        self.fired_ge_half.x.next = self.eng_fired_count.val();
        self.eidx_ge_4.x.next = self.eidx.q.val();
        self.step_b.next = self.zero32.val();
        self.step_c.next = self.one32.val();
        if (self.state.q.val() == Ex::Check) | (self.state.q.val() == Ex::Dispatch) {
            self.step_b.next = self.h_step.val();
            self.step_c.next = self.zero32.val();
        } else if self.state.q.val() == Ex::StepPre {
            self.step_b.next = !self.h_step.val();
        }
        self.step_sum.next = self.next_step.q.val() + self.step_b.val() + self.step_c.val();
        self.step_over.next = (self.next_step.q.val().get_bit(31) & self.h_step.val().get_bit(31))
            | ((self.next_step.q.val().get_bit(31) | self.h_step.val().get_bit(31))
                & !self.step_sum.val().get_bit(31));
        self.step_borrow.next = (!self.next_step.q.val().get_bit(31)
            & self.h_step.val().get_bit(31))
            | ((!self.next_step.q.val().get_bit(31) | self.h_step.val().get_bit(31))
                & self.step_sum.val().get_bit(31));

        // A weight just gathered (top B bytes of `rec`), sign-extended to 16 bits.
        if self.weight_wide.val() {
            self.weight16.next = self.rec.q.val().get_bits::<16>(96);
        } else {
            self.weight16.next = self.rec.q.val().get_bits::<16>(96) >> 8;
            if self.rec.q.val().get_bit(111) {
                self.weight16.next =
                    (self.rec.q.val().get_bits::<16>(96) >> 8) | self.byte_hi16.val();
            }
        }

        self.weight_fits.next = ((self.weight16.val() >> self.w_top.val()) == self.zero16.val())
            | ((self.weight16.val() >> self.w_top.val()) == self.w_top_ones.val());
        self.wmin_fits.next = ((self.rec.q.val().get_bits::<16>(48) >> self.w_top.val())
            == self.zero16.val())
            | ((self.rec.q.val().get_bits::<16>(48) >> self.w_top.val()) == self.w_top_ones.val());
        self.wmax_fits.next = ((self.rec.q.val().get_bits::<16>(64) >> self.w_top.val())
            == self.zero16.val())
            | ((self.rec.q.val().get_bits::<16>(64) >> self.w_top.val()) == self.w_top_ones.val());

        // The checks of Dispatch, registered (from Check on, `k_len_ne_exp` in Dispatch).
        self.k_len_ne_exp.d.next = self.head_len.val() != self.exp_len.q.val();
        self.k_len_bad.d.next = (self.f_identify.q.val()
            & (self.head_len.val() != self.zero16.val()))
            | (self.f_reset.q.val() & (self.head_len.val() != self.len_reset.val()))
            | (self.f_wnp.q.val() & !self.clen_ge_nrange.y.val())
            | ((self.f_rnp.q.val() | self.f_rstate.q.val())
                & (self.head_len.val() != self.len_nrange.val()))
            | (self.f_wstdp.q.val() & (self.head_len.val() != self.len_stdp.val()))
            | (self.f_rstdp.q.val() & (self.head_len.val() != self.zero16.val()))
            | ((self.f_ww.q.val() | self.f_wm.q.val()) & !self.clen_ge_srange.y.val())
            | ((self.f_rw.q.val() | self.f_rm.q.val())
                & (self.head_len.val() != self.len_srange.val()))
            | (self.f_rtrace.q.val() & (self.head_len.val() != self.len_trange.val()))
            | (self.f_run.q.val() & (self.head_len.val() != self.len_run.val()))
            | (self.f_step.q.val() & !self.clen_ge_step_hdr.y.val());
        self.k_len_lt_list.d.next = !self.clen_ge_list_hdr.y.val();
        self.k_nr_bad.d.next = (self.h_count8.val() == self.zero16.val())
            | (!self.f_rstate.q.val() & self.cnt8_gt_params.y.val())
            | (self.f_rstate.q.val() & self.cnt8_gt_states.y.val())
            | self.first_gt_neurons.y.val()
            | self.nsum_gt_neurons.y.val();
        self.k_first_bad.d.next = self.first_ge_sources.y.val();
        self.k_col_bad.d.next = self.col_ge_neurons.y.val();
        self.k_sr_bad.d.next = (self.h_count16.val() == self.zero16.val())
            | (self.f_rw.q.val() & self.cnt16_gt_weights.y.val())
            | (self.f_rm.q.val() & self.cnt16_gt_mask.y.val())
            | self.ssum_over.val()
            | self.ssum_gt_neurons.y.val();
        self.k_tr_bad.d.next = (self.h_col.val() == self.zero16.val())
            | self.col_gt_traces.y.val()
            | self.first_gt_sources.y.val()
            | self.tsum_over.val()
            | self.tsum_gt_sources.y.val();
        self.k_rst_res.d.next =
            (self.h_first.val() & self.reset_reserved.val()) != self.zero16.val();
        self.k_fmt0.d.next = self.h_format.val() == self.zero8.val();
        self.k_fmt1.d.next = self.h_format.val() == self.one8.val();
        self.k_list_zero.d.next = self.h_list_count.val() == self.zero16.val();
        self.k_list_gt.d.next = self.list_gt_max.y.val();
        self.k_step_over.d.next = self.step_over.val();
        self.k_flags_bad.d.next =
            (self.rec.q.val().get_bits::<8>(0) & self.flags_reserved.val()) != self.zero8.val();
        self.k_res_bad.d.next = self.rec.q.val().get_bits::<8>(40) != self.zero8.val();
        self.k_apre_bad.d.next = self.rec80_gt_alpha.y.val();
        self.k_apost_bad.d.next = self.rec96_gt_alpha.y.val();
        self.k_wmax_bad.d.next = !self.wmax_fits.val();
        self.k_wnp_bad.d.next =
            self.wshift_gt_max.y.val() | self.rec64_gt_alpha.y.val() | self.rec80_gt_alpha.y.val();
        self.k_weight_bad.d.next = !self.weight_fits.val();
        self.k_wm_pad.d.next = (self.rec.q.val().get_bits::<8>(104)
            >> (self.count.q.val() & self.seven16.val()))
            != self.zero8.val();
        self.k_idx_range.d.next = self.rec96_ge_inputs.y.val();
        self.k_idx_order.d.next = self.prev.q.val() >= self.rec.q.val().get_bits::<16>(96);
        self.k_pad_bad.d.next =
            (self.rec.q.val().get_bits::<8>(104) & self.input_pad_mask.val()) != self.zero8.val();
        self.k_exec.d.next = (self.step_sum.val() == self.zero32.val())
            & (self.next_step.q.val() != self.last32.val());
        self.k_replay.d.next = !self.step_borrow.val()
            & (self.step_sum.val() != self.zero32.val())
            & (((self.step_sum.val() & self.replay_hi.val()) == self.zero32.val())
                | (self.step_sum.val() == self.replay_depth.val()));
        self.k_wmin_bad.d.next = !self.wmin_fits.val()
            | ((self.rec.q.val().get_bits::<16>(48) ^ self.sign16.val())
                > (self.rec.q.val().get_bits::<16>(64) ^ self.sign16.val()));

        // The byte EmitByte sends.
        self.ebyte.next = self.zero8.val();
        match self.esrc.q.val() {
            EmitSrc::Hdr => {
                self.ebyte.next = self.sel_hdr.val();
            }
            EmitSrc::Rdata => {
                self.ebyte.next = self.sel_rdata.val();
            }
            EmitSrc::Stdp => {
                self.ebyte.next = self.sel_stdp.val();
            }
            EmitSrc::Ident => {
                self.ebyte.next = self.sel_ident.val();
            }
            EmitSrc::Nack => {
                if self.eidx.q.val() == self.zero16.val() {
                    self.ebyte.next = self.head_type.val();
                } else if self.eidx.q.val() == self.one16.val() {
                    self.ebyte.next = self.nack_code.q.val();
                } else if self.ndet_wide.q.val() {
                    if self.ndet_step.q.val() {
                        self.ebyte.next = self.sel_step.val();
                    } else {
                        self.ebyte.next = self.sel_detail.val();
                    }
                } else if self.eidx.q.val() == self.two16.val() {
                    self.ebyte.next = self.ndet16.q.val().get_bits::<8>(0);
                } else if self.eidx.q.val() == self.len_nrange.val() {
                    self.ebyte.next = self.ndet16.q.val().get_bits::<8>(8);
                } else if self.eidx.q.val() == self.len_trange.val() {
                    self.ebyte.next = self.ndet_hi.q.val();
                }
            }
            EmitSrc::Ack => {
                self.ebyte.next = self.head_type.val();
            }
            EmitSrc::StepHdr => {
                if !self.eidx_ge_4.y.val() {
                    if self.replay.q.val() {
                        self.ebyte.next = self.sel_hdr.val();
                    } else {
                        self.ebyte.next = self.sel_step.val();
                    }
                } else if self.eidx.q.val() == self.len_trange.val() {
                    if self.flist.q.val() {
                        self.ebyte.next = self.zero8.val();
                    } else {
                        self.ebyte.next = self.one8.val();
                    }
                } else if self.eidx.q.val() == self.len_step_hdr.val() {
                    self.ebyte.next = self.fcount.q.val().get_bits::<8>(0);
                } else {
                    self.ebyte.next = self.fcount.q.val().get_bits::<8>(8);
                }
            }
            EmitSrc::Index => {
                if self.eidx.q.val() == self.zero16.val() {
                    self.ebyte.next = self.idx_reg.q.val().get_bits::<8>(0);
                } else {
                    self.ebyte.next = self.idx_reg.q.val().get_bits::<8>(8);
                }
            }
            EmitSrc::Fbyte => {
                self.ebyte.next = self.fbyte.q.val();
            }
            _ => {}
        }

        // Outputs (from registers and the state only).
        self.hdr_q.next = self.hdr.q.val();
        self.step_q.next = self.next_step.q.val();
        self.sel_idx.next = self.eidx.q.val();
        self.sel_didx.next = self.eidx.q.val();
        if self.esrc.q.val() == EmitSrc::Nack {
            self.sel_didx.next = self.eidx.q.val() ^ self.two16.val();
        }
        self.rd_offset.next = self.off.q.val();
        self.pop.next = self.state.q.val() == Ex::Pop;
        self.tx_start.next = (self.state.q.val() == Ex::EmitStart) & self.tx_idle.val();
        self.tx_type.next = self.rtype.q.val();
        self.tx_seq.next = self.head_seq.val();
        self.tx_len.next = self.rlen.q.val();
        self.tbyte.d.next = self.ebyte.val();
        self.tx_data.next = self.tbyte.q.val();
        self.tx_data_valid.next = self.state.q.val() == Ex::EmitSend;
        self.eng_op.next = self.eop.q.val();
        // An operation starts only while the engine is idle: at power-on it is busy with
        // its own full reset for (M+N)·(G+1) cycles, and frames may already be waiting.
        self.eng_start.next = (self.state.q.val() == Ex::EngIssue) & !self.eng_busy.val();
        self.eng_src.next = self.e_src.q.val();
        self.eng_neuron.next = self.e_neuron.q.val();
        self.eng_slot.next = self.slot.q.val();
        self.eng_byte_idx.next = self.bidx.q.val();
        self.eng_wdata.next = self.rec.q.val();
        self.active.next = self.state.q.val() != Ex::Idle;

        match self.state.q.val() {
            // ---- subroutines -------------------------------------------------------
            Ex::Gather => {
                self.state.d.next = Ex::GatherData;
            }
            Ex::GatherData => {
                if self.gsel_rec.q.val() {
                    self.rec.shift.next = true;
                } else {
                    self.hdr.shift.next = true;
                }
                self.off.d.next = self.off.q.val() + self.one16.val();
                self.gcount.d.next = self.gcount.q.val() - self.one16.val();
                if self.gcount.q.val() == self.one16.val() {
                    self.state.d.next = Ex::GatherEnd;
                } else {
                    self.state.d.next = Ex::Gather;
                }
            }
            Ex::GatherEnd => {
                // The checks of the gathered bytes register here (`k_*`, `exp_len`).
                self.state.d.next = self.ret.q.val();
            }
            Ex::PadZero => {
                self.rec.byte_in.next = self.zero8.val();
                self.rec.shift.next = true;
                self.gcount.d.next = self.gcount.q.val() - self.one16.val();
                if self.gcount.q.val() == self.one16.val() {
                    self.state.d.next = self.ret.q.val();
                }
            }
            Ex::EmitStart => {
                if self.tx_idle.val() {
                    self.state.d.next = self.ret.q.val();
                }
            }
            Ex::EmitByte => {
                // `tbyte` takes the byte `eidx` of `esrc`.
                self.state.d.next = Ex::EmitSend;
            }
            Ex::EmitSend => {
                if self.tx_data_ready.val() {
                    self.eidx.d.next = self.eidx.q.val() + self.one16.val();
                    if self.eidx.q.val() + self.one16.val() == self.ecount.q.val() {
                        self.state.d.next = self.ret.q.val();
                    } else {
                        self.state.d.next = Ex::EmitByte;
                    }
                }
            }
            Ex::EngIssue => {
                if !self.eng_busy.val() {
                    self.state.d.next = Ex::EngWait;
                }
            }
            Ex::EngWait => {
                if !self.eng_busy.val() {
                    self.state.d.next = self.ret.q.val();
                }
            }
            Ex::Nack => {
                self.rtype.d.next = self.r_nack.val();
                self.rlen.d.next = self.len_nack.val();
                self.ret.d.next = Ex::NackBody;
                self.state.d.next = Ex::EmitStart;
            }
            Ex::NackBody => {
                self.esrc.d.next = EmitSrc::Nack;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.len_nack.val();
                self.ret.d.next = Ex::Pop;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::Ack => {
                self.rtype.d.next = self.r_ack.val();
                self.rlen.d.next = self.one16.val();
                self.ret.d.next = Ex::AckBody;
                self.state.d.next = Ex::EmitStart;
            }
            Ex::AckBody => {
                self.esrc.d.next = EmitSrc::Ack;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.one16.val();
                self.ret.d.next = Ex::Pop;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::Pop => {
                self.state.d.next = Ex::PopWait;
            }
            Ex::PopWait => {
                self.state.d.next = Ex::Idle;
            }

            // ---- a new frame -------------------------------------------------------
            Ex::Idle => {
                if self.head_valid.val() {
                    self.k.d.next = self.zero16.val();
                    if self.head_status.val() != self.zero8.val() {
                        // A frame error queued by the RxPath (protocol §6.4).
                        self.nack_code.d.next = self.head_status.val();
                        self.ndet_wide.d.next = true;
                        self.ndet_step.d.next = false;
                        self.state.d.next = Ex::Nack;
                    } else {
                        self.off.d.next = self.zero16.val();
                        // The header: the longest range fields (a STEP list header, 7 bytes).
                        self.gcount.d.next = self.len_list_hdr.val();
                        self.gsel_rec.d.next = false;
                        self.ret.d.next = Ex::Check;
                        self.state.d.next = Ex::Gather;
                    }
                }
            }
            Ex::Check => {
                // `hdr` is complete: `exp_len` and the checks of the header registered
                // in GatherEnd, `k_len_ne_exp` registers here.
                self.state.d.next = Ex::Dispatch;
            }
            Ex::Dispatch => {
                // Defaults for the loops below.
                self.ndet16.d.next = self.zero16.val();
                self.ndet_hi.d.next = self.zero8.val();
                self.ndet_wide.d.next = false;
                self.gsel_rec.d.next = true;
                if self.f_identify.q.val() {
                    if self.k_len_bad.q.val() {
                        self.nack_code.d.next = self.e_length.val();
                        self.state.d.next = Ex::Nack;
                    } else {
                        self.rtype.d.next = self.r_identity.val();
                        self.rlen.d.next = self.exp_len.q.val();
                        self.ret.d.next = Ex::IdentBody;
                        self.state.d.next = Ex::EmitStart;
                    }
                } else if self.f_reset.q.val() {
                    if self.k_len_bad.q.val() {
                        self.nack_code.d.next = self.e_length.val();
                        self.ndet16.d.next = self.one16.val();
                        self.state.d.next = Ex::Nack;
                    } else if self.k_rst_res.q.val() {
                        self.nack_code.d.next = self.e_param.val();
                        self.state.d.next = Ex::Nack;
                    } else if (self.h_first.val() & self.reset_full.val()) != self.zero16.val() {
                        self.eop.d.next = self.op_full_reset.val();
                        self.ret.d.next = Ex::ResetDone;
                        self.state.d.next = Ex::EngIssue;
                    } else if (self.h_first.val() & self.reset_state.val()) != self.zero16.val() {
                        self.eop.d.next = self.op_state_reset.val();
                        self.ret.d.next = Ex::ResetDone;
                        self.state.d.next = Ex::EngIssue;
                    } else {
                        self.state.d.next = Ex::Ack;
                    }
                } else if self.f_wnp.q.val() | self.f_rnp.q.val() | self.f_rstate.q.val() {
                    self.count.d.next = self.h_count8.val();
                    if self.k_len_bad.q.val() {
                        self.nack_code.d.next = self.e_length.val();
                        self.ndet16.d.next = self.len_nrange.val();
                        self.state.d.next = Ex::Nack;
                    } else if self.k_nr_bad.q.val() {
                        self.nack_code.d.next = self.e_range.val();
                        self.ndet16.d.next = self.two16.val();
                        self.state.d.next = Ex::Nack;
                    } else if self.f_wnp.q.val() {
                        if self.k_len_ne_exp.q.val() {
                            self.nack_code.d.next = self.e_length.val();
                            self.ndet16.d.next = self.exp_len.q.val();
                            self.state.d.next = Ex::Nack;
                        } else {
                            self.off.d.next = self.len_nrange.val();
                            self.gcount.d.next = self.len_params.val();
                            self.ret.d.next = Ex::WnpCheck;
                            self.state.d.next = Ex::Gather;
                        }
                    } else {
                        if self.f_rnp.q.val() {
                            self.rtype.d.next = self.r_params.val();
                        } else {
                            self.rtype.d.next = self.r_state.val();
                        }
                        self.rlen.d.next = self.exp_len.q.val();
                        self.ret.d.next = Ex::RnpHdr;
                        self.state.d.next = Ex::EmitStart;
                    }
                } else if self.f_wstdp.q.val() {
                    if self.k_len_bad.q.val() {
                        self.nack_code.d.next = self.e_length.val();
                        self.ndet16.d.next = self.len_stdp.val();
                        self.state.d.next = Ex::Nack;
                    } else {
                        self.off.d.next = self.zero16.val();
                        self.gcount.d.next = self.len_stdp.val();
                        self.ret.d.next = Ex::WstdpCheck;
                        self.state.d.next = Ex::Gather;
                    }
                } else if self.f_rstdp.q.val() {
                    if self.k_len_bad.q.val() {
                        self.nack_code.d.next = self.e_length.val();
                        self.state.d.next = Ex::Nack;
                    } else {
                        self.rtype.d.next = self.r_stdp.val();
                        self.rlen.d.next = self.exp_len.q.val();
                        self.ret.d.next = Ex::RstdpBody;
                        self.state.d.next = Ex::EmitStart;
                    }
                } else if self.f_ww.q.val()
                    | self.f_wm.q.val()
                    | self.f_rw.q.val()
                    | self.f_rm.q.val()
                {
                    self.count.d.next = self.h_count16.val();
                    // WRITEs need at least the range fields, READs exactly them.
                    if self.k_len_bad.q.val() {
                        self.nack_code.d.next = self.e_length.val();
                        self.ndet16.d.next = self.len_srange.val();
                        self.state.d.next = Ex::Nack;
                    } else if self.k_first_bad.q.val() {
                        self.nack_code.d.next = self.e_range.val();
                        self.state.d.next = Ex::Nack;
                    } else if self.k_col_bad.q.val() {
                        self.nack_code.d.next = self.e_range.val();
                        self.ndet16.d.next = self.two16.val();
                        self.state.d.next = Ex::Nack;
                    } else if self.k_sr_bad.q.val() {
                        self.nack_code.d.next = self.e_range.val();
                        self.ndet16.d.next = self.len_trange.val();
                        self.state.d.next = Ex::Nack;
                    } else if (self.f_ww.q.val() | self.f_wm.q.val()) & self.k_len_ne_exp.q.val() {
                        self.nack_code.d.next = self.e_length.val();
                        self.ndet16.d.next = self.exp_len.q.val();
                        self.state.d.next = Ex::Nack;
                    } else if self.f_ww.q.val() {
                        self.off.d.next = self.len_srange.val();
                        self.gcount.d.next = self.weight_bytes.val();
                        self.ret.d.next = Ex::WwCheck;
                        self.state.d.next = Ex::Gather;
                    } else if self.f_wm.q.val() {
                        if (self.h_count16.val() & self.seven16.val()) != self.zero16.val() {
                            // Only the last byte can carry padding bits.
                            self.off.d.next = self.head_len.val() - self.one16.val();
                            self.gcount.d.next = self.one16.val();
                            self.ret.d.next = Ex::WmCheck;
                            self.state.d.next = Ex::Gather;
                        } else {
                            self.state.d.next = Ex::WmPass2;
                        }
                    } else {
                        if self.f_rw.q.val() {
                            self.rtype.d.next = self.r_weights.val();
                            self.ret.d.next = Ex::RwHdr;
                        } else {
                            self.rtype.d.next = self.r_mask.val();
                            self.fbyte.d.next = self.zero8.val();
                            self.ret.d.next = Ex::RmHdr;
                        }
                        self.rlen.d.next = self.exp_len.q.val();
                        self.state.d.next = Ex::EmitStart;
                    }
                } else if self.f_rtrace.q.val() {
                    self.count.d.next = self.h_col.val();
                    if self.k_len_bad.q.val() {
                        self.nack_code.d.next = self.e_length.val();
                        self.ndet16.d.next = self.len_trange.val();
                        self.state.d.next = Ex::Nack;
                    } else if self.k_tr_bad.q.val() {
                        self.nack_code.d.next = self.e_range.val();
                        self.ndet16.d.next = self.two16.val();
                        self.state.d.next = Ex::Nack;
                    } else {
                        self.rtype.d.next = self.r_traces.val();
                        self.rlen.d.next = self.exp_len.q.val();
                        self.ret.d.next = Ex::RtHdr;
                        self.state.d.next = Ex::EmitStart;
                    }
                } else if self.f_step.q.val() {
                    self.count.d.next = self.h_list_count.val();
                    if self.k_len_bad.q.val() {
                        self.nack_code.d.next = self.e_length.val();
                        self.ndet16.d.next = self.len_step_hdr.val();
                        self.state.d.next = Ex::Nack;
                    } else if self.k_fmt0.q.val() {
                        if self.k_len_lt_list.q.val() {
                            self.nack_code.d.next = self.e_length.val();
                            self.ndet16.d.next = self.len_list_hdr.val();
                            self.state.d.next = Ex::Nack;
                        } else if self.k_list_gt.q.val() | self.k_len_ne_exp.q.val() {
                            self.nack_code.d.next = self.e_length.val();
                            self.ndet16.d.next = self.exp_len.q.val();
                            self.ndet_hi.d.next = self.list_hi.val();
                            self.state.d.next = Ex::Nack;
                        } else if self.k_list_zero.q.val() {
                            self.state.d.next = Ex::StepPre;
                        } else {
                            self.off.d.next = self.len_list_hdr.val();
                            self.gcount.d.next = self.two16.val();
                            self.ret.d.next = Ex::StepChkIdx;
                            self.state.d.next = Ex::Gather;
                        }
                    } else if self.k_fmt1.q.val() {
                        if self.k_len_ne_exp.q.val() {
                            self.nack_code.d.next = self.e_length.val();
                            self.ndet16.d.next = self.exp_len.q.val();
                            self.state.d.next = Ex::Nack;
                        } else if self.input_pad_check.val() {
                            self.off.d.next = self.head_len.val() - self.one16.val();
                            self.gcount.d.next = self.one16.val();
                            self.ret.d.next = Ex::StepChkPad;
                            self.state.d.next = Ex::Gather;
                        } else {
                            self.state.d.next = Ex::StepPre;
                        }
                    } else {
                        self.nack_code.d.next = self.e_param.val();
                        self.ndet16.d.next = self.len_trange.val();
                        self.state.d.next = Ex::Nack;
                    }
                } else if self.f_run.q.val() {
                    if self.k_len_bad.q.val() {
                        self.nack_code.d.next = self.e_length.val();
                        self.ndet16.d.next = self.len_trange.val();
                        self.state.d.next = Ex::Nack;
                    } else if self.k_step_over.q.val() {
                        // It would pass step 0xFFFFFFFF (protocol §6.2): refused whole.
                        self.nack_code.d.next = self.e_gap.val();
                        self.ndet_wide.d.next = true;
                        self.ndet_step.d.next = true;
                        self.state.d.next = Ex::Nack;
                    } else {
                        self.run_end.d.next = self.step_sum.val();
                        self.state.d.next = Ex::RunLoop;
                    }
                } else {
                    self.nack_code.d.next = self.e_unknown.val();
                    self.state.d.next = Ex::Nack;
                }
            }

            // ---- IDENTIFY, RESET -----------------------------------------------------
            Ex::IdentBody => {
                self.esrc.d.next = EmitSrc::Ident;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.len_identity.val();
                self.ret.d.next = Ex::Pop;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::ResetDone => {
                self.next_step.d.next = self.zero32.val();
                self.state.d.next = Ex::Ack;
            }

            // ---- WRITE_NEURON_PARAMS: validate every record, then write them ----------
            Ex::WnpCheck => {
                // The 12-byte record sits in rec[111:16]; `off` is just past it. The first
                // bad field (w_shift, alpha_v, alpha_i) picks the detail offset (`back`).
                if self.k_wnp_bad.q.val() {
                    self.nack_code.d.next = self.e_param.val();
                    self.ndet16.d.next = self.off_back.val();
                    self.state.d.next = Ex::Nack;
                } else if self.k.q.val() + self.one16.val() == self.count.q.val() {
                    // All valid: second pass writes them.
                    self.k.d.next = self.zero16.val();
                    self.off.d.next = self.len_nrange.val();
                    self.gcount.d.next = self.len_params.val();
                    self.ret.d.next = Ex::WnpPad;
                    self.state.d.next = Ex::Gather;
                } else {
                    self.k.d.next = self.k.q.val() + self.one16.val();
                    self.gcount.d.next = self.len_params.val();
                    self.ret.d.next = Ex::WnpCheck;
                    self.state.d.next = Ex::Gather;
                }
            }
            Ex::WnpPad => {
                // Two zero bytes move the record down to rec[95:0] (the engine's wdata).
                self.gcount.d.next = self.two16.val();
                self.ret.d.next = Ex::WnpWrite;
                self.state.d.next = Ex::PadZero;
            }
            Ex::WnpWrite => {
                self.e_neuron.d.next = self.h_first.val() + self.k.q.val();
                self.eop.d.next = self.op_write_params.val();
                self.ret.d.next = Ex::WnpNext;
                self.state.d.next = Ex::EngIssue;
            }
            Ex::WnpNext => {
                self.k.d.next = self.k.q.val() + self.one16.val();
                if self.k.q.val() + self.one16.val() == self.count.q.val() {
                    self.state.d.next = Ex::Ack;
                } else {
                    self.gcount.d.next = self.len_params.val();
                    self.ret.d.next = Ex::WnpPad;
                    self.state.d.next = Ex::Gather;
                }
            }

            // ---- READ_NEURON_PARAMS / READ_STATE -------------------------------------
            Ex::RnpHdr => {
                self.esrc.d.next = EmitSrc::Hdr;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.len_nrange.val();
                self.ret.d.next = Ex::RnpNext;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::RnpNext => {
                self.e_neuron.d.next = self.h_first.val() + self.k.q.val();
                if self.f_rnp.q.val() {
                    self.eop.d.next = self.op_read_params.val();
                } else {
                    self.eop.d.next = self.op_read_state.val();
                }
                self.ret.d.next = Ex::RnpEmit;
                self.state.d.next = Ex::EngIssue;
            }
            Ex::RnpEmit => {
                self.esrc.d.next = EmitSrc::Rdata;
                self.eidx.d.next = self.zero16.val();
                if self.f_rnp.q.val() {
                    self.ecount.d.next = self.len_params.val();
                } else {
                    self.ecount.d.next = self.len_state.val();
                }
                self.ret.d.next = Ex::RnpAfter;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::RnpAfter => {
                self.k.d.next = self.k.q.val() + self.one16.val();
                if self.k.q.val() + self.one16.val() == self.count.q.val() {
                    self.state.d.next = Ex::Pop;
                } else {
                    self.state.d.next = Ex::RnpNext;
                }
            }

            // ---- WRITE_STDP / READ_STDP ----------------------------------------------
            Ex::WstdpCheck => {
                // rec = the 14-byte record: flags [7:0], reserved [47:40], w_min [63:48],
                // w_max [79:64], alpha_pre [95:80], alpha_post [111:96].
                if self.k_flags_bad.q.val() {
                    self.nack_code.d.next = self.e_param.val();
                    self.state.d.next = Ex::Nack;
                } else if self.k_res_bad.q.val() {
                    self.nack_code.d.next = self.e_param.val();
                    self.ndet16.d.next = self.off_reserved.val();
                    self.state.d.next = Ex::Nack;
                } else if self.k_apre_bad.q.val() {
                    self.nack_code.d.next = self.e_param.val();
                    self.ndet16.d.next = self.off_alpha_pre.val();
                    self.state.d.next = Ex::Nack;
                } else if self.k_apost_bad.q.val() {
                    self.nack_code.d.next = self.e_param.val();
                    self.ndet16.d.next = self.off_alpha_post.val();
                    self.state.d.next = Ex::Nack;
                } else if self.k_wmin_bad.q.val() {
                    self.nack_code.d.next = self.e_param.val();
                    self.ndet16.d.next = self.off_w_min.val();
                    self.state.d.next = Ex::Nack;
                } else if self.k_wmax_bad.q.val() {
                    self.nack_code.d.next = self.e_param.val();
                    self.ndet16.d.next = self.off_w_max.val();
                    self.state.d.next = Ex::Nack;
                } else {
                    self.eop.d.next = self.op_write_stdp.val();
                    self.ret.d.next = Ex::Ack;
                    self.state.d.next = Ex::EngIssue;
                }
            }
            Ex::RstdpBody => {
                self.esrc.d.next = EmitSrc::Stdp;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.len_stdp.val();
                self.ret.d.next = Ex::Pop;
                self.state.d.next = Ex::EmitByte;
            }

            // ---- WRITE_WEIGHTS -------------------------------------------------------
            Ex::WwCheck => {
                if self.k_weight_bad.q.val() {
                    self.nack_code.d.next = self.e_param.val();
                    self.ndet16.d.next = self.off_back.val();
                    self.state.d.next = Ex::Nack;
                } else if self.k.q.val() + self.one16.val() == self.count.q.val() {
                    self.k.d.next = self.zero16.val();
                    self.off.d.next = self.len_srange.val();
                    self.gcount.d.next = self.weight_bytes.val();
                    self.ret.d.next = Ex::WwLoad;
                    self.state.d.next = Ex::Gather;
                } else {
                    self.k.d.next = self.k.q.val() + self.one16.val();
                    self.gcount.d.next = self.weight_bytes.val();
                    self.ret.d.next = Ex::WwCheck;
                    self.state.d.next = Ex::Gather;
                }
            }
            Ex::WwLoad => {
                self.rec.word.next = self.weight16.val();
                self.rec.load.next = true;
                self.state.d.next = Ex::WwWrite;
            }
            Ex::WwWrite => {
                self.e_src.d.next = self.h_first.val();
                self.e_neuron.d.next = self.h_col.val() + self.k.q.val();
                self.eop.d.next = self.op_write_weight.val();
                self.ret.d.next = Ex::WwNext;
                self.state.d.next = Ex::EngIssue;
            }
            Ex::WwNext => {
                self.k.d.next = self.k.q.val() + self.one16.val();
                if self.k.q.val() + self.one16.val() == self.count.q.val() {
                    self.state.d.next = Ex::Ack;
                } else {
                    self.gcount.d.next = self.weight_bytes.val();
                    self.ret.d.next = Ex::WwLoad;
                    self.state.d.next = Ex::Gather;
                }
            }

            // ---- WRITE_MASK ----------------------------------------------------------
            Ex::WmCheck => {
                // Last byte: bits count%8 .. 7 must be 0.
                if self.k_wm_pad.q.val() {
                    self.nack_code.d.next = self.e_param.val();
                    self.ndet16.d.next = self.off_back.val();
                    self.state.d.next = Ex::Nack;
                } else {
                    self.state.d.next = Ex::WmPass2;
                }
            }
            Ex::WmPass2 => {
                self.k.d.next = self.zero16.val();
                self.off.d.next = self.len_srange.val();
                self.gcount.d.next = self.one16.val();
                self.ret.d.next = Ex::WmByte;
                self.state.d.next = Ex::Gather;
            }
            Ex::WmByte => {
                self.fbyte.d.next = self.rec.q.val().get_bits::<8>(104);
                self.state.d.next = Ex::WmBit;
            }
            Ex::WmBit => {
                if self
                    .fbyte
                    .q
                    .val()
                    .get_bit(self.k.q.val().get_bits::<3>(0).index())
                {
                    self.rec.word.next = self.one16.val();
                } else {
                    self.rec.word.next = self.zero16.val();
                }
                self.rec.load.next = true;
                self.state.d.next = Ex::WmWrite;
            }
            Ex::WmWrite => {
                self.e_src.d.next = self.h_first.val();
                self.e_neuron.d.next = self.h_col.val() + self.k.q.val();
                self.eop.d.next = self.op_write_mask.val();
                self.ret.d.next = Ex::WmNext;
                self.state.d.next = Ex::EngIssue;
            }
            Ex::WmNext => {
                self.k.d.next = self.k.q.val() + self.one16.val();
                if self.k.q.val() + self.one16.val() == self.count.q.val() {
                    self.state.d.next = Ex::Ack;
                } else if (self.k.q.val() & self.seven16.val()) == self.seven16.val() {
                    self.gcount.d.next = self.one16.val();
                    self.ret.d.next = Ex::WmByte;
                    self.state.d.next = Ex::Gather;
                } else {
                    self.state.d.next = Ex::WmBit;
                }
            }

            // ---- READ_WEIGHTS --------------------------------------------------------
            Ex::RwHdr => {
                self.esrc.d.next = EmitSrc::Hdr;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.len_srange.val();
                self.ret.d.next = Ex::RwNext;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::RwNext => {
                self.e_src.d.next = self.h_first.val();
                self.e_neuron.d.next = self.h_col.val() + self.k.q.val();
                self.eop.d.next = self.op_read_weight.val();
                self.ret.d.next = Ex::RwEmit;
                self.state.d.next = Ex::EngIssue;
            }
            Ex::RwEmit => {
                self.esrc.d.next = EmitSrc::Rdata;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.weight_bytes.val();
                self.ret.d.next = Ex::RwAfter;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::RwAfter => {
                self.k.d.next = self.k.q.val() + self.one16.val();
                if self.k.q.val() + self.one16.val() == self.count.q.val() {
                    self.state.d.next = Ex::Pop;
                } else {
                    self.state.d.next = Ex::RwNext;
                }
            }

            // ---- READ_MASK -----------------------------------------------------------
            Ex::RmHdr => {
                self.esrc.d.next = EmitSrc::Hdr;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.len_srange.val();
                self.ret.d.next = Ex::RmNext;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::RmNext => {
                self.e_src.d.next = self.h_first.val();
                self.e_neuron.d.next = self.h_col.val() + self.k.q.val();
                self.eop.d.next = self.op_read_mask.val();
                self.ret.d.next = Ex::RmBit;
                self.state.d.next = Ex::EngIssue;
            }
            Ex::RmBit => {
                if self.rdata_lo.val().get_bit(0) {
                    self.fbyte.d.next =
                        self.fbyte.q.val() | (self.one8.val() << self.k.q.val().get_bits::<3>(0));
                }
                if ((self.k.q.val() & self.seven16.val()) == self.seven16.val())
                    | (self.k.q.val() + self.one16.val() == self.count.q.val())
                {
                    self.state.d.next = Ex::RmEmit;
                } else {
                    self.k.d.next = self.k.q.val() + self.one16.val();
                    self.state.d.next = Ex::RmNext;
                }
            }
            Ex::RmEmit => {
                self.esrc.d.next = EmitSrc::Fbyte;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.one16.val();
                self.ret.d.next = Ex::RmAfter;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::RmAfter => {
                self.fbyte.d.next = self.zero8.val();
                self.k.d.next = self.k.q.val() + self.one16.val();
                if self.k.q.val() + self.one16.val() == self.count.q.val() {
                    self.state.d.next = Ex::Pop;
                } else {
                    self.state.d.next = Ex::RmNext;
                }
            }

            // ---- READ_PRE_TRACES -----------------------------------------------------
            Ex::RtHdr => {
                self.esrc.d.next = EmitSrc::Hdr;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.len_trange.val();
                self.ret.d.next = Ex::RtNext;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::RtNext => {
                self.e_src.d.next = self.h_first.val() + self.k.q.val();
                self.eop.d.next = self.op_read_trace.val();
                self.ret.d.next = Ex::RtEmit;
                self.state.d.next = Ex::EngIssue;
            }
            Ex::RtEmit => {
                self.esrc.d.next = EmitSrc::Rdata;
                self.eidx.d.next = self.zero16.val();
                self.ecount.d.next = self.one16.val();
                self.ret.d.next = Ex::RtAfter;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::RtAfter => {
                self.k.d.next = self.k.q.val() + self.one16.val();
                if self.k.q.val() + self.one16.val() == self.count.q.val() {
                    self.state.d.next = Ex::Pop;
                } else {
                    self.state.d.next = Ex::RtNext;
                }
            }

            // ---- STEP ----------------------------------------------------------------
            Ex::StepChkIdx => {
                // rec[111:96] = the list entry at offset off − 2.
                if self.k_idx_range.q.val() {
                    self.nack_code.d.next = self.e_range.val();
                    self.ndet16.d.next = self.off_back.val();
                    self.state.d.next = Ex::Nack;
                } else if (self.k.q.val() != self.zero16.val()) & self.k_idx_order.q.val() {
                    self.nack_code.d.next = self.e_param.val();
                    self.ndet16.d.next = self.off_back.val();
                    self.state.d.next = Ex::Nack;
                } else {
                    self.prev.d.next = self.rec.q.val().get_bits::<16>(96);
                    self.k.d.next = self.k.q.val() + self.one16.val();
                    if self.k.q.val() + self.one16.val() == self.count.q.val() {
                        self.state.d.next = Ex::StepPre;
                    } else {
                        self.gcount.d.next = self.two16.val();
                        self.ret.d.next = Ex::StepChkIdx;
                        self.state.d.next = Ex::Gather;
                    }
                }
            }
            Ex::StepChkPad => {
                if self.k_pad_bad.q.val() {
                    self.nack_code.d.next = self.e_range.val();
                    self.ndet16.d.next = self.off_back.val();
                    self.state.d.next = Ex::Nack;
                } else {
                    self.state.d.next = Ex::StepPre;
                }
            }
            Ex::StepPre => {
                // `k_exec` and `k_replay` register from `next_step - h_step`.
                self.state.d.next = Ex::StepClassify;
            }
            Ex::StepClassify => {
                self.k.d.next = self.zero16.val();
                if self.k_exec.q.val() {
                    // Execute: mark the inputs, then step.
                    if self.h_format.val() == self.zero8.val() {
                        if self.count.q.val() == self.zero16.val() {
                            self.state.d.next = Ex::StepRun;
                        } else {
                            self.off.d.next = self.len_list_hdr.val();
                            self.gcount.d.next = self.two16.val();
                            self.ret.d.next = Ex::StepApplyIdx;
                            self.state.d.next = Ex::Gather;
                        }
                    } else if self.input_bytes.val() == self.zero16.val() {
                        self.state.d.next = Ex::StepRun;
                    } else {
                        self.off.d.next = self.len_step_hdr.val();
                        self.gcount.d.next = self.one16.val();
                        self.ret.d.next = Ex::StepApplyByte;
                        self.state.d.next = Ex::Gather;
                    }
                } else if self.k_replay.q.val() {
                    // A retransmission (1 <= next_step - step <= replay_depth): re-send
                    // the stored result (protocol §6.2).
                    self.replay.d.next = true;
                    self.slot.d.next = self.h_step.val().get_bits::<16>(0) & self.replay_mask.val();
                    self.ret2.d.next = Ex::Pop;
                    self.state.d.next = Ex::DoneStart;
                } else {
                    self.nack_code.d.next = self.e_gap.val();
                    self.ndet_wide.d.next = true;
                    self.ndet_step.d.next = true;
                    self.state.d.next = Ex::Nack;
                }
            }
            Ex::StepApplyIdx => {
                self.e_src.d.next = self.rec.q.val().get_bits::<16>(96);
                self.eop.d.next = self.op_set_input.val();
                self.ret.d.next = Ex::StepApplyNext;
                self.state.d.next = Ex::EngIssue;
            }
            Ex::StepApplyNext => {
                self.k.d.next = self.k.q.val() + self.one16.val();
                if self.k.q.val() + self.one16.val() == self.count.q.val() {
                    self.state.d.next = Ex::StepRun;
                } else {
                    self.gcount.d.next = self.two16.val();
                    self.ret.d.next = Ex::StepApplyIdx;
                    self.state.d.next = Ex::Gather;
                }
            }
            Ex::StepApplyByte => {
                self.fbyte.d.next = self.rec.q.val().get_bits::<8>(104);
                self.bitn.d.next = self.zero3.val();
                self.idx_reg.d.next = self.k.q.val() << 3;
                self.state.d.next = Ex::StepApplyBit;
            }
            Ex::StepApplyBit => {
                if self.fbyte.q.val().get_bit(self.bitn.q.val().index()) {
                    self.e_src.d.next = self.idx_reg.q.val();
                    self.eop.d.next = self.op_set_input.val();
                    self.ret.d.next = Ex::StepBitNext;
                    self.state.d.next = Ex::EngIssue;
                } else {
                    self.state.d.next = Ex::StepBitNext;
                }
            }
            Ex::StepBitNext => {
                self.bitn.d.next = self.bitn.q.val() + self.one3.val();
                self.idx_reg.d.next = self.idx_reg.q.val() + self.one16.val();
                if self.bitn.q.val() == self.seven3.val() {
                    self.k.d.next = self.k.q.val() + self.one16.val();
                    if self.k.q.val() + self.one16.val() == self.input_bytes.val() {
                        self.state.d.next = Ex::StepRun;
                    } else {
                        self.gcount.d.next = self.one16.val();
                        self.ret.d.next = Ex::StepApplyByte;
                        self.state.d.next = Ex::Gather;
                    }
                } else {
                    self.state.d.next = Ex::StepApplyBit;
                }
            }
            Ex::StepRun => {
                self.replay.d.next = false;
                self.slot.d.next =
                    self.next_step.q.val().get_bits::<16>(0) & self.replay_mask.val();
                self.eop.d.next = self.op_step.val();
                self.ret.d.next = Ex::StepRan;
                self.state.d.next = Ex::EngIssue;
            }
            Ex::StepRan => {
                self.ret2.d.next = Ex::Pop;
                self.state.d.next = Ex::DoneStart;
            }

            // ---- RUN -----------------------------------------------------------------
            Ex::RunLoop => {
                if self.next_step.q.val() == self.run_end.q.val() {
                    self.state.d.next = Ex::Ack;
                } else {
                    self.replay.d.next = false;
                    self.slot.d.next =
                        self.next_step.q.val().get_bits::<16>(0) & self.replay_mask.val();
                    self.eop.d.next = self.op_step.val();
                    self.ret.d.next = Ex::RunRan;
                    self.state.d.next = Ex::EngIssue;
                }
            }
            Ex::RunRan => {
                self.ret2.d.next = Ex::RunLoop;
                self.state.d.next = Ex::DoneStart;
            }

            // ---- STEP_DONE of step `next_step` (or `h_step` if `replay`) from replay slot
            // `slot` (returns to ret2; then an executed step advances next_step) ----
            Ex::DoneStart => {
                self.eop.d.next = self.op_read_fired_count.val();
                self.ret.d.next = Ex::DoneCount;
                self.state.d.next = Ex::EngIssue;
            }
            Ex::DoneCount => {
                self.fcount.d.next = self.eng_fired_count.val();
                self.rtype.d.next = self.r_step_done.val();
                if !self.fired_ge_half.y.val() {
                    self.flist.d.next = true;
                    self.rlen.d.next = self.len_list_hdr.val() + (self.eng_fired_count.val() << 1);
                } else {
                    self.flist.d.next = false;
                    self.rlen.d.next = self.len_step_hdr.val() + self.fired_bytes.val();
                }
                self.ret.d.next = Ex::DoneHdr;
                self.state.d.next = Ex::EmitStart;
            }
            Ex::DoneHdr => {
                self.esrc.d.next = EmitSrc::StepHdr;
                self.eidx.d.next = self.zero16.val();
                if self.flist.q.val() {
                    self.ecount.d.next = self.len_list_hdr.val();
                } else {
                    self.ecount.d.next = self.len_step_hdr.val();
                }
                self.bidx.d.next = self.zero16.val();
                self.ret.d.next = Ex::DoneBody;
                self.state.d.next = Ex::EmitByte;
            }
            Ex::DoneBody => {
                if self.bidx.q.val() == self.fired_bytes.val() {
                    if !self.replay.q.val() {
                        self.next_step.d.next = self.step_sum.val();
                    }
                    self.state.d.next = self.ret2.q.val();
                } else {
                    self.eop.d.next = self.op_read_fired_byte.val();
                    self.ret.d.next = Ex::DoneByte;
                    self.state.d.next = Ex::EngIssue;
                }
            }
            Ex::DoneByte => {
                self.fbyte.d.next = self.rdata_lo.val();
                self.bitn.d.next = self.zero3.val();
                self.idx_reg.d.next = self.bidx.q.val() << 3;
                if self.flist.q.val() {
                    self.state.d.next = Ex::DoneBit;
                } else {
                    self.esrc.d.next = EmitSrc::Rdata;
                    self.eidx.d.next = self.zero16.val();
                    self.ecount.d.next = self.one16.val();
                    self.ret.d.next = Ex::DoneNextByte;
                    self.state.d.next = Ex::EmitByte;
                }
            }
            Ex::DoneBit => {
                if self.fbyte.q.val().get_bit(self.bitn.q.val().index()) {
                    self.esrc.d.next = EmitSrc::Index;
                    self.eidx.d.next = self.zero16.val();
                    self.ecount.d.next = self.two16.val();
                    self.ret.d.next = Ex::DoneNextBit;
                    self.state.d.next = Ex::EmitByte;
                } else {
                    self.state.d.next = Ex::DoneNextBit;
                }
            }
            Ex::DoneNextBit => {
                self.bitn.d.next = self.bitn.q.val() + self.one3.val();
                self.idx_reg.d.next = self.idx_reg.q.val() + self.one16.val();
                if self.bitn.q.val() == self.seven3.val() {
                    self.state.d.next = Ex::DoneNextByte;
                } else {
                    self.state.d.next = Ex::DoneBit;
                }
            }
            Ex::DoneNextByte => {
                self.bidx.d.next = self.bidx.q.val() + self.one16.val();
                self.state.d.next = Ex::DoneBody;
            }
            _ => {
                self.state.d.next = Ex::Idle;
            }
        }
    }
}

/// The executor with the real port widths of docs/rtl.md §2–§4: [`ExecFsm`] plus width
/// adapters, wired with plain assignments only.
#[derive(LogicBlock)]
pub struct Executor {
    pub clock: Signal<In, Clock>,
    pub head_valid: Signal<In, Bit>,
    pub head_type: Signal<In, Bits<8>>,
    pub head_seq: Signal<In, Bits<8>>,
    pub head_len: Signal<In, Bits<11>>,
    pub head_status: Signal<In, Bits<8>>,
    pub head_detail: Signal<In, Bits<32>>,
    pub rd_offset: Signal<Out, Bits<11>>,
    pub rd_data: Signal<In, Bits<8>>,
    pub pop: Signal<Out, Bit>,
    pub tx_idle: Signal<In, Bit>,
    pub tx_start: Signal<Out, Bit>,
    pub tx_type: Signal<Out, Bits<8>>,
    pub tx_seq: Signal<Out, Bits<8>>,
    pub tx_len: Signal<Out, Bits<11>>,
    pub tx_data: Signal<Out, Bits<8>>,
    pub tx_data_valid: Signal<Out, Bit>,
    pub tx_data_ready: Signal<In, Bit>,
    pub eng_op: Signal<Out, Bits<4>>,
    pub eng_start: Signal<Out, Bit>,
    pub eng_busy: Signal<In, Bit>,
    pub eng_src: Signal<Out, Bits<14>>,
    pub eng_neuron: Signal<Out, Bits<13>>,
    pub eng_slot: Signal<Out, Bits<6>>,
    pub eng_byte_idx: Signal<Out, Bits<10>>,
    pub eng_wdata: Signal<Out, Bits<112>>,
    pub eng_rdata: Signal<In, Bits<96>>,
    pub eng_fired_count: Signal<In, Bits<13>>,
    pub eng_stdp: Signal<In, Bits<112>>,
    pub active: Signal<Out, Bit>,
    pub fsm: ExecFsm,
    head_len_w: ZeroExtend<11, 16>,
    fired_count_w: ZeroExtend<13, 16>,
    rd_offset_n: Narrow<16, 11>,
    tx_len_n: Narrow<16, 11>,
    src_n: Narrow<16, 14>,
    neuron_n: Narrow<16, 13>,
    slot_n: Narrow<16, 6>,
    byte_idx_n: Narrow<16, 10>,
    sel_hdr: ByteSelect<56>,
    sel_rdata: ByteSelect<96>,
    sel_stdp: ByteSelect<112>,
    sel_ident: ByteSelect<224>,
    sel_detail: ByteSelect<32>,
    sel_step: ByteSelect<32>,
    /// The IDENTITY payload (protocol §3.1) of this core.
    identity: Constant<Bits<224>>,
}

impl Executor {
    pub fn new(cfg: &CoreConfig) -> Executor {
        let mut ident = [0u8; IDENTITY_LEN];
        encode_identity(&cfg.capabilities(), &mut ident);
        let mut identity = Bits::<224>::default();
        for (k, &b) in ident.iter().enumerate() {
            for i in 0..8 {
                identity = identity.replace_bit(8 * k + i, (b >> i) & 1 == 1);
            }
        }
        Executor {
            clock: Default::default(),
            head_valid: Default::default(),
            head_type: Default::default(),
            head_seq: Default::default(),
            head_len: Default::default(),
            head_status: Default::default(),
            head_detail: Default::default(),
            rd_offset: Default::default(),
            rd_data: Default::default(),
            pop: Default::default(),
            tx_idle: Default::default(),
            tx_start: Default::default(),
            tx_type: Default::default(),
            tx_seq: Default::default(),
            tx_len: Default::default(),
            tx_data: Default::default(),
            tx_data_valid: Default::default(),
            tx_data_ready: Default::default(),
            eng_op: Default::default(),
            eng_start: Default::default(),
            eng_busy: Default::default(),
            eng_src: Default::default(),
            eng_neuron: Default::default(),
            eng_slot: Default::default(),
            eng_byte_idx: Default::default(),
            eng_wdata: Default::default(),
            eng_rdata: Default::default(),
            eng_fired_count: Default::default(),
            eng_stdp: Default::default(),
            active: Default::default(),
            fsm: ExecFsm::new(cfg),
            head_len_w: Default::default(),
            fired_count_w: Default::default(),
            rd_offset_n: Default::default(),
            tx_len_n: Default::default(),
            src_n: Default::default(),
            neuron_n: Default::default(),
            slot_n: Default::default(),
            byte_idx_n: Default::default(),
            sel_hdr: Default::default(),
            sel_rdata: Default::default(),
            sel_stdp: Default::default(),
            sel_ident: Default::default(),
            sel_detail: Default::default(),
            sel_step: Default::default(),
            identity: Constant::new(identity),
        }
    }
}

impl Logic for Executor {
    #[hdl_gen]
    fn update(&mut self) {
        self.fsm.clock.next = self.clock.val();
        self.fsm.head_valid.next = self.head_valid.val();
        self.fsm.head_type.next = self.head_type.val();
        self.fsm.head_seq.next = self.head_seq.val();
        self.head_len_w.x.next = self.head_len.val();
        self.fsm.head_len.next = self.head_len_w.y.val();
        self.fsm.head_status.next = self.head_status.val();
        self.rd_offset_n.x.next = self.fsm.rd_offset.val();
        self.rd_offset.next = self.rd_offset_n.y.val();
        self.fsm.rd_data.next = self.rd_data.val();
        self.pop.next = self.fsm.pop.val();
        self.fsm.tx_idle.next = self.tx_idle.val();
        self.tx_start.next = self.fsm.tx_start.val();
        self.tx_type.next = self.fsm.tx_type.val();
        self.tx_seq.next = self.fsm.tx_seq.val();
        self.tx_len_n.x.next = self.fsm.tx_len.val();
        self.tx_len.next = self.tx_len_n.y.val();
        self.tx_data.next = self.fsm.tx_data.val();
        self.tx_data_valid.next = self.fsm.tx_data_valid.val();
        self.fsm.tx_data_ready.next = self.tx_data_ready.val();
        self.eng_op.next = self.fsm.eng_op.val();
        self.eng_start.next = self.fsm.eng_start.val();
        self.fsm.eng_busy.next = self.eng_busy.val();
        self.src_n.x.next = self.fsm.eng_src.val();
        self.eng_src.next = self.src_n.y.val();
        self.neuron_n.x.next = self.fsm.eng_neuron.val();
        self.eng_neuron.next = self.neuron_n.y.val();
        self.slot_n.x.next = self.fsm.eng_slot.val();
        self.eng_slot.next = self.slot_n.y.val();
        self.byte_idx_n.x.next = self.fsm.eng_byte_idx.val();
        self.eng_byte_idx.next = self.byte_idx_n.y.val();
        self.eng_wdata.next = self.fsm.eng_wdata.val();
        self.fsm.rdata_lo.next = self.eng_rdata.val().get_bits::<8>(0);
        self.fired_count_w.x.next = self.eng_fired_count.val();
        self.fsm.eng_fired_count.next = self.fired_count_w.y.val();
        self.active.next = self.fsm.active.val();
        self.sel_hdr.x.next = self.fsm.hdr_q.val();
        self.sel_hdr.idx.next = self.fsm.sel_idx.val();
        self.fsm.sel_hdr.next = self.sel_hdr.y.val();
        self.sel_rdata.x.next = self.eng_rdata.val();
        self.sel_rdata.idx.next = self.fsm.sel_idx.val();
        self.fsm.sel_rdata.next = self.sel_rdata.y.val();
        self.sel_stdp.x.next = self.eng_stdp.val();
        self.sel_stdp.idx.next = self.fsm.sel_idx.val();
        self.fsm.sel_stdp.next = self.sel_stdp.y.val();
        self.sel_ident.x.next = self.identity.val();
        self.sel_ident.idx.next = self.fsm.sel_idx.val();
        self.fsm.sel_ident.next = self.sel_ident.y.val();
        self.sel_detail.x.next = self.head_detail.val();
        self.sel_detail.idx.next = self.fsm.sel_didx.val();
        self.fsm.sel_detail.next = self.sel_detail.y.val();
        self.sel_step.x.next = self.fsm.step_q.val();
        self.sel_step.idx.next = self.fsm.sel_didx.val();
        self.fsm.sel_step.next = self.sel_step.y.val();
    }
}
