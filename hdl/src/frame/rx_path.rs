//! [`RxPath`]: the receive side of the host link (docs/protocol.md §2, §7; docs/rtl.md §2).
//!
//! Byte input (from [`UartRx`](crate::uart::UartRx): `byte_in`, `byte_valid`), descriptor
//! queue output. The byte state machine is protocol §7 exactly (the reference is
//! `neurofab_proto::frame::Decoder`): HUNT/OPEN, escapes, `count`, `type`, `seq`,
//! `len`, the running CRC ([`Crc16`]) and `rx_crc`; errors `Truncated`, `BadCrc`,
//! `BadEscape`, `Oversized`, `Overlong` with the NACK code and detail of
//! `FrameError::nack_code()` / `nack_detail()`, queued only if the `type` and `seq` bytes
//! arrived (`FrameError::nack_target()`).
//!
//! Storage:
//!
//! * **Payload ring** (`Ram<RA, 8>`, `2^RA` = `CoreConfig::rx_buffer` bytes). Three
//!   16-bit free-running pointers: `head` (first byte of the oldest queued good frame),
//!   `tail` (end of the committed payloads) and `wp` (write position of the frame being
//!   received). The ring address is the low `RA` bits; `tail - head` is the number of
//!   bytes in use (exact, because `2^RA` divides `2^16`). Payload bytes are written at
//!   `wp` as they arrive; a good frame commits them (`tail <= wp`), anything else
//!   rewinds (`wp <= tail`).
//! * **Descriptor queue**: 16 entries, first-word-fall-through, one small RAM per field
//!   (`len` 16 bits, `type`, `seq`, `status` 8, `detail` low and high 16) sharing 5-bit
//!   pointers (the [`Fifo`](crate::widgets::Fifo) scheme: read address = next read
//!   pointer, `empty` against the one-cycle-delayed write pointer). The head entry
//!   drives the `head_*` outputs. Separate field RAMs avoid packing a wide word: rust-hdl
//!   kernels have no concatenation (see [`Concat`]).
//! * Both are [`Ram`]s, whose read of a word written at the same edge is undefined
//!   (poisoned in simulation): the queue shows an entry only one edge after it was
//!   written (`empty` lags), and the ring is never written inside a queued frame (the
//!   *fits* rule below). Without the read-first bypass yosys would add, the path takes
//!   ~170 fewer flip-flops on the iCE40.
//!
//! Admission (protocol §5.1: framing first, then BUSY):
//!
//! * When the last `len` byte arrives, the frame is marked *fits* if
//!   `(tail - head) + len <= 2^RA` at that moment (pops later in the frame do not
//!   change the decision). Only a fitting frame writes its payload into the ring.
//! * At the closing FLAG a good frame (CRC matches) is queued as good (status 0) if it
//!   fits and fewer than [`RX_QUEUE_GOOD`] descriptors are queued; otherwise it gets a
//!   `BUSY` descriptor (status `ERR_BUSY`, detail 0, len 0) if fewer than
//!   [`RX_QUEUE_DEPTH`] are queued; otherwise it is dropped and `dropped` is set.
//!   Error descriptors (with a NACK target) need a free entry as well, else they are
//!   dropped (and counted in `dropped`).
//!   The last `RX_QUEUE_DEPTH - RX_QUEUE_GOOD` entries are thus a reserve for NACKs, so a
//!   host that overruns the step window gets BUSY answers before anything is dropped.
//!
//! Timing: a byte strobed at edge `e` (i.e. `byte_valid` high before edge `e`) is fully
//! processed at edge `e`: its descriptor (if any) is written into the queue at `e` and
//! `head_valid` rises after edge `e + 1` (if the queue was empty). Bytes may come
//! back to back (one per cycle is fine). `rd_data` is registered: it shows
//! `payload[rd_offset]` of the head frame one edge after `rd_offset` is presented. `pop`
//! (with `head_valid`) releases the head descriptor and its payload bytes at that edge;
//! the next descriptor is visible after the following edge.

use neurofab_proto::command::{ERR_BAD_CRC, ERR_BUSY, ERR_FRAMING, ERR_OVERSIZED};
use neurofab_proto::CoreConfig;
use rust_hdl::prelude::*;

use super::{Crc16, ESC, ESC_XOR, FLAG, HEADER_LEN, MAX_PAYLOAD, MIN_BODY_LEN, OFF_SEQ};
use crate::widgets::{Ram, Reg};

/// Descriptors the queue holds.
pub const RX_QUEUE_DEPTH: usize = 16;
/// A good frame is queued as good only while fewer descriptors than this are queued;
/// the remaining entries are reserved for BUSY and framing-error NACK descriptors.
pub const RX_QUEUE_GOOD: usize = 12;

const _: () = assert!(RX_QUEUE_GOOD < RX_QUEUE_DEPTH && RX_QUEUE_DEPTH == 1 << 4);
const _: () = assert!(MAX_PAYLOAD < 1 << 11, "head_len / rd_offset are 11 bits");
const _: () = assert!(OFF_SEQ == 1, "`known` compares count >= OFF_SEQ + 1");

/// `out = {hi, lo}` (combinational; `C` must be `A + B`, checked when built).
///
/// rust-hdl 0.46 kernels cannot concatenate or zero-extend without a masking
/// `bit_cast` (a Verilator WIDTH warning), and `x.next.set_bit(i, v)` does not compile
/// (`Bits` has no `set_bit`; `hdl_gen`'s support for it is broken). This block emits
/// `assign out = {hi, lo};` instead. Zero-extend with a zero `Constant` as `hi`.
#[derive(LogicBlock)]
pub struct Concat<const A: usize, const B: usize, const C: usize> {
    /// Upper `A` bits.
    pub hi: Signal<In, Bits<A>>,
    /// Lower `B` bits.
    pub lo: Signal<In, Bits<B>>,
    /// `{hi, lo}`.
    pub out: Signal<Out, Bits<C>>,
}

impl<const A: usize, const B: usize, const C: usize> Default for Concat<A, B, C> {
    fn default() -> Self {
        assert!(
            A + B == C && C <= 64,
            "Concat<{A}, {B}, {C}>: need A + B = C <= 64"
        );
        Self {
            hi: Default::default(),
            lo: Default::default(),
            out: Default::default(),
        }
    }
}

impl<const A: usize, const B: usize, const C: usize> Logic for Concat<A, B, C> {
    fn update(&mut self) {
        let v = (self.hi.val().to_u64() << B) | self.lo.val().to_u64();
        self.out.next = v.to_bits();
    }

    fn connect(&mut self) {
        self.out.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Wrapper(Wrapper {
            code: "assign out = {hi, lo};\n".into(),
            cores: String::new(),
        })
    }
}

/// `out = {0, x}`: zero-extends `A` bits to `B >= A` bits (combinational).
///
/// Verilog: `assign out = {{(B-A){1'b0}}, x};` (or `x` when `A == B`). Feed it from a
/// port or a register: a kernel that computes `x` from a local that it also derives
/// from `out` makes Verilator report UNOPTFLAT (the kernel is one `always` block).
#[derive(LogicBlock)]
pub struct ZeroExtend<const A: usize, const B: usize> {
    /// Input.
    pub x: Signal<In, Bits<A>>,
    /// `x`, zero-extended.
    pub out: Signal<Out, Bits<B>>,
}

impl<const A: usize, const B: usize> Default for ZeroExtend<A, B> {
    fn default() -> Self {
        assert!(A <= B && B <= 64, "ZeroExtend<{A}, {B}>: need A <= B <= 64");
        Self {
            x: Default::default(),
            out: Default::default(),
        }
    }
}

impl<const A: usize, const B: usize> Logic for ZeroExtend<A, B> {
    fn update(&mut self) {
        self.out.next = self.x.val().to_u64().to_bits();
    }

    fn connect(&mut self) {
        self.out.connect();
    }

    fn hdl(&self) -> Verilog {
        let code = if A == B {
            "assign out = x;\n".to_string()
        } else {
            format!("assign out = {{{{{}{{1'b0}}}}, x}};\n", B - A)
        };
        Verilog::Wrapper(Wrapper {
            code,
            cores: String::new(),
        })
    }
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum RxState {
    /// Discarding bytes until a FLAG.
    Hunt,
    /// Inside a frame.
    Open,
}

/// Deframer + payload ring + descriptor queue, with a `2^RA`-byte ring.
#[derive(LogicBlock)]
pub struct RxPath<const RA: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Received byte (valid with `byte_valid`). Called `byte` in docs/rtl.md §2, but
    /// `byte` is a SystemVerilog keyword (Verilator rejects it as a port name).
    pub byte_in: Signal<In, Bits<8>>,
    /// One-cycle strobe: `byte` is a new byte.
    pub byte_valid: Signal<In, Bit>,
    /// A descriptor is at the queue head.
    pub head_valid: Signal<Out, Bit>,
    /// The head frame's type byte.
    pub head_type: Signal<Out, Bits<8>>,
    /// The head frame's seq byte.
    pub head_seq: Signal<Out, Bits<8>>,
    /// The head frame's payload length (0 for error descriptors).
    pub head_len: Signal<Out, Bits<11>>,
    /// 0 = good frame, else the NACK code.
    pub head_status: Signal<Out, Bits<8>>,
    /// The NACK detail (0 for good frames).
    pub head_detail: Signal<Out, Bits<32>>,
    /// Payload byte offset within the head frame.
    pub rd_offset: Signal<In, Bits<11>>,
    /// `payload[rd_offset]` of the head frame, one edge after `rd_offset`.
    pub rd_data: Signal<Out, Bits<8>>,
    /// One-cycle strobe: drop the head descriptor and free its payload.
    pub pop: Signal<In, Bit>,
    /// Sticky: a frame or NACK could not get a descriptor and was dropped.
    pub dropped: Signal<Out, Bit>,
    crc_unit: Crc16,
    ring: Ram<RA, 8>,
    // descriptor queue: one RAM per field, shared pointers
    q_len: Ram<4, 16>,
    q_type: Ram<4, 8>,
    q_seq: Ram<4, 8>,
    q_status: Ram<4, 8>,
    q_lo: Ram<4, 16>,
    q_hi: Ram<4, 16>,
    q_wr: DFF<Bits<5>>,
    q_wr_delayed: DFF<Bits<5>>,
    q_rd: DFF<Bits<5>>,
    // widening
    byte_ext: ZeroExtend<8, 16>,
    off_ext: ZeroExtend<11, RA>,
    detail_cat: Concat<16, 16, 32>,
    // byte state machine
    state: Reg<RxState>,
    esc: DFF<Bit>,
    count: DFF<Bits<16>>,
    ftype: DFF<Bits<8>>,
    fseq: DFF<Bits<8>>,
    len: DFF<Bits<16>>,
    rx_crc: DFF<Bits<16>>,
    fits: DFF<Bit>,
    /// The length just completed exceeds MAX_PAYLOAD: the Oversized event follows one
    /// cycle after the length's high byte (registered, so that the 16-bit length compare
    /// and the event/queue-write logic are in different cycles; the next byte is at least
    /// a byte time away).
    oversized: DFF<Bit>,
    wp: DFF<Bits<16>>,
    tail: DFF<Bits<16>>,
    head: DFF<Bits<16>>,
    dropped_reg: DFF<Bit>,
    // combinational
    is_open: Signal<Local, Bit>,
    is_flag: Signal<Local, Bit>,
    is_esc: Signal<Local, Bit>,
    bval: Signal<Local, Bits<8>>,
    bval16: Signal<Local, Bits<16>>,
    len_new: Signal<Local, Bits<16>>,
    bad_esc: Signal<Local, Bit>,
    data_strobe: Signal<Local, Bit>,
    known: Signal<Local, Bit>,
    len_p4: Signal<Local, Bits<16>>,
    len_p5: Signal<Local, Bits<16>>,
    len_p6: Signal<Local, Bits<16>>,
    used_plus: Signal<Local, Bits<16>>,
    ev_push: Signal<Local, Bit>,
    ev_good: Signal<Local, Bit>,
    ev_end: Signal<Local, Bit>,
    ev_status: Signal<Local, Bits<8>>,
    ev_lo: Signal<Local, Bits<16>>,
    ev_hi: Signal<Local, Bits<16>>,
    ev_len: Signal<Local, Bits<16>>,
    commit: Signal<Local, Bit>,
    push: Signal<Local, Bit>,
    qcount: Signal<Local, Bits<5>>,
    q_empty: Signal<Local, Bit>,
    pop_ok: Signal<Local, Bit>,
    q_rd_next: Signal<Local, Bits<5>>,
    head_status_raw: Signal<Local, Bits<8>>,
    // constants
    k_flag: Constant<Bits<8>>,
    k_esc: Constant<Bits<8>>,
    k_esc_xor16: Constant<Bits<16>>,
    k_low_byte: Constant<Bits<16>>,
    k_zero8: Constant<Bits<8>>,
    k_zero16: Constant<Bits<16>>,
    k_zero32: Constant<Bits<32>>,
    k_one16: Constant<Bits<16>>,
    k_c1: Constant<Bits<16>>,
    k_c2: Constant<Bits<16>>,
    k_c3: Constant<Bits<16>>,
    k_seq_known: Constant<Bits<16>>,
    k_hdr: Constant<Bits<16>>,
    k_hdr_p1: Constant<Bits<16>>,
    k_min_body: Constant<Bits<16>>,
    k_max_payload: Constant<Bits<16>>,
    k_ring_size: Constant<Bits<16>>,
    k_flag16: Constant<Bits<16>>,
    k_err_bad_crc: Constant<Bits<8>>,
    k_err_busy: Constant<Bits<8>>,
    k_err_framing: Constant<Bits<8>>,
    k_err_oversized: Constant<Bits<8>>,
    k_q_good: Constant<Bits<5>>,
    k_q_depth: Constant<Bits<5>>,
    k_q_one: Constant<Bits<5>>,
}

impl<const RA: usize> RxPath<RA> {
    /// Ring size in bytes.
    pub const RING_BYTES: usize = 1 << RA;

    /// An RxPath for `config` (checks `2^RA == config.rx_buffer`).
    pub fn new(config: &CoreConfig) -> Self {
        assert_eq!(
            1usize << RA,
            config.rx_buffer as usize,
            "RxPath<{RA}>: ring of {} bytes but rx_buffer = {}",
            1usize << RA,
            config.rx_buffer
        );
        Self::with_ring()
    }

    /// An RxPath with a `2^RA`-byte ring, `2 * MAX_PAYLOAD ..= 32768` bytes (the
    /// range `CoreConfig::validate` allows).
    pub fn with_ring() -> Self {
        assert!(
            (1usize << RA) >= 2 * MAX_PAYLOAD && RA <= 15,
            "RxPath<{RA}>: the ring must hold 2*MAX_PAYLOAD..=32768 bytes"
        );
        Self {
            clock: Default::default(),
            byte_in: Default::default(),
            byte_valid: Default::default(),
            head_valid: Default::default(),
            head_type: Default::default(),
            head_seq: Default::default(),
            head_len: Default::default(),
            head_status: Default::default(),
            head_detail: Default::default(),
            rd_offset: Default::default(),
            rd_data: Default::default(),
            pop: Default::default(),
            dropped: Default::default(),
            crc_unit: Crc16::default(),
            ring: Ram::plain(1 << RA),
            q_len: Ram::plain(RX_QUEUE_DEPTH),
            q_type: Ram::plain(RX_QUEUE_DEPTH),
            q_seq: Ram::plain(RX_QUEUE_DEPTH),
            q_status: Ram::plain(RX_QUEUE_DEPTH),
            q_lo: Ram::plain(RX_QUEUE_DEPTH),
            q_hi: Ram::plain(RX_QUEUE_DEPTH),
            q_wr: Default::default(),
            q_wr_delayed: Default::default(),
            q_rd: Default::default(),
            byte_ext: Default::default(),
            off_ext: Default::default(),
            detail_cat: Default::default(),
            state: Default::default(),
            esc: Default::default(),
            count: Default::default(),
            ftype: Default::default(),
            fseq: Default::default(),
            len: Default::default(),
            rx_crc: Default::default(),
            fits: Default::default(),
            oversized: Default::default(),
            wp: Default::default(),
            tail: Default::default(),
            head: Default::default(),
            dropped_reg: Default::default(),
            is_open: Default::default(),
            is_flag: Default::default(),
            is_esc: Default::default(),
            bval: Default::default(),
            bval16: Default::default(),
            len_new: Default::default(),
            bad_esc: Default::default(),
            data_strobe: Default::default(),
            known: Default::default(),
            len_p4: Default::default(),
            len_p5: Default::default(),
            len_p6: Default::default(),
            used_plus: Default::default(),
            ev_push: Default::default(),
            ev_good: Default::default(),
            ev_end: Default::default(),
            ev_status: Default::default(),
            ev_lo: Default::default(),
            ev_hi: Default::default(),
            ev_len: Default::default(),
            commit: Default::default(),
            push: Default::default(),
            qcount: Default::default(),
            q_empty: Default::default(),
            pop_ok: Default::default(),
            q_rd_next: Default::default(),
            head_status_raw: Default::default(),
            k_flag: crate::constant(FLAG as u64),
            k_esc: crate::constant(ESC as u64),
            k_esc_xor16: crate::constant(ESC_XOR as u64),
            k_low_byte: crate::constant(0xFF),
            k_zero8: crate::constant(0),
            k_zero16: crate::constant(0),
            k_zero32: crate::constant(0),
            k_one16: crate::constant(1),
            k_c1: crate::constant(1),
            k_c2: crate::constant(2),
            k_c3: crate::constant(3),
            k_seq_known: crate::constant(OFF_SEQ as u64 + 1),
            k_hdr: crate::constant(HEADER_LEN as u64),
            k_hdr_p1: crate::constant(HEADER_LEN as u64 + 1),
            k_min_body: crate::constant(MIN_BODY_LEN as u64),
            k_max_payload: crate::constant(MAX_PAYLOAD as u64),
            k_ring_size: crate::constant(1u64 << RA),
            k_flag16: crate::constant(FLAG as u64),
            k_err_bad_crc: crate::constant(ERR_BAD_CRC as u64),
            k_err_busy: crate::constant(ERR_BUSY as u64),
            k_err_framing: crate::constant(ERR_FRAMING as u64),
            k_err_oversized: crate::constant(ERR_OVERSIZED as u64),
            k_q_good: crate::constant(RX_QUEUE_GOOD as u64),
            k_q_depth: crate::constant(RX_QUEUE_DEPTH as u64),
            k_q_one: crate::constant(1),
        }
    }
}

impl<const RA: usize> Logic for RxPath<RA> {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, crc_unit);
        dff_setup!(
            self,
            clock,
            q_wr,
            q_wr_delayed,
            q_rd,
            state,
            esc,
            count,
            ftype,
            fseq,
            len,
            rx_crc,
            fits,
            oversized,
            wp,
            tail,
            head,
            dropped_reg
        );
        self.ring.clock.next = self.clock.val();
        self.q_len.clock.next = self.clock.val();
        self.q_type.clock.next = self.clock.val();
        self.q_seq.clock.next = self.clock.val();
        self.q_status.clock.next = self.clock.val();
        self.q_lo.clock.next = self.clock.val();
        self.q_hi.clock.next = self.clock.val();

        // ---- byte decoding (combinational) ----
        self.is_open.next = false;
        match self.state.q.val() {
            RxState::Hunt => {}
            RxState::Open => {
                self.is_open.next = true;
            }
            _ => {}
        }
        self.is_flag.next = self.byte_in.val() == self.k_flag.val();
        self.is_esc.next = self.byte_in.val() == self.k_esc.val();
        // The unstuffed byte, 16 bits wide (`{0, byte}`, XORed after an ESC), and 8.
        self.byte_ext.x.next = self.byte_in.val();
        if self.esc.q.val() {
            self.bval16.next = self.byte_ext.out.val() ^ self.k_esc_xor16.val();
        } else {
            self.bval16.next = self.byte_ext.out.val();
        }
        self.bval.next = self.bval16.val().get_bits::<8>(0);
        self.bad_esc.next =
            (self.bval.val() != self.k_flag.val()) & (self.bval.val() != self.k_esc.val());
        // A data byte (unstuffed value `bval`) at position `count`.
        self.data_strobe.next = self.byte_valid.val()
            & self.is_open.val()
            & !self.is_flag.val()
            & ((self.esc.q.val() & !self.bad_esc.val()) | (!self.esc.q.val() & !self.is_esc.val()));
        // The type and seq bytes have arrived (count > OFF_SEQ).
        self.known.next = self.count.q.val() >= self.k_seq_known.val();
        self.len_p4.next = self.len.q.val() + self.k_hdr.val();
        self.len_p5.next = self.len.q.val() + self.k_hdr_p1.val();
        self.len_p6.next = self.len.q.val() + self.k_min_body.val();
        // The length once its high byte arrives: {bval, len[7:0]}.
        self.len_new.next = (self.bval16.val() << 8) | (self.len.q.val() & self.k_low_byte.val());
        self.used_plus.next = (self.tail.q.val() - self.head.q.val()) + self.len_new.val();

        // ---- CRC unit ----
        self.crc_unit.data.next = self.bval.val();
        self.crc_unit.clear.next = self.byte_valid.val() & self.is_flag.val();
        self.crc_unit.strobe.next =
            self.data_strobe.val() & (self.count.q.val() < self.len_p4.val());

        // ---- ring write port ----
        self.ring.write_address.next = self.wp.q.val().get_bits::<RA>(0);
        self.ring.write_data.next = self.bval.val();
        self.ring.write_enable.next = false;

        // ---- events ----
        self.ev_push.next = false;
        self.ev_good.next = false;
        self.ev_end.next = false;
        self.ev_status.next = self.k_zero8.val();
        self.ev_lo.next = self.k_zero16.val();
        self.ev_hi.next = self.k_zero16.val();
        self.ev_len.next = self.k_zero16.val();

        if self.byte_valid.val() {
            match self.state.q.val() {
                RxState::Hunt => {
                    if self.is_flag.val() {
                        self.state.d.next = RxState::Open;
                        self.count.d.next = self.k_zero16.val();
                        self.esc.d.next = false;
                        self.len.d.next = self.k_zero16.val();
                    }
                }
                RxState::Open => {
                    if self.is_flag.val() {
                        // Every FLAG in a frame ends it and opens the next one.
                        self.count.d.next = self.k_zero16.val();
                        self.esc.d.next = false;
                        self.len.d.next = self.k_zero16.val();
                        if self.esc.q.val() {
                            // BadEscape: ESC FLAG
                            self.ev_end.next = true;
                            self.ev_push.next = self.known.val();
                            self.ev_status.next = self.k_err_framing.val();
                            self.ev_lo.next = self.k_flag16.val();
                        } else if self.count.q.val() == self.k_zero16.val() {
                            // idle fill
                        } else if self.count.q.val() < self.len_p6.val() {
                            // Truncated
                            self.ev_end.next = true;
                            self.ev_push.next = self.known.val();
                            self.ev_status.next = self.k_err_framing.val();
                            self.ev_lo.next = self.count.q.val();
                        } else if self.rx_crc.q.val() != self.crc_unit.crc.val() {
                            // BadCrc
                            self.ev_end.next = true;
                            self.ev_push.next = true;
                            self.ev_status.next = self.k_err_bad_crc.val();
                            self.ev_lo.next = self.rx_crc.q.val();
                            self.ev_hi.next = self.crc_unit.crc.val();
                        } else {
                            self.ev_end.next = true;
                            self.ev_push.next = true;
                            self.ev_good.next = true;
                        }
                    } else if self.esc.q.val() {
                        self.esc.d.next = false;
                        if self.bad_esc.val() {
                            // BadEscape: detail = the byte after ESC, as received
                            self.ev_end.next = true;
                            self.ev_push.next = self.known.val();
                            self.ev_status.next = self.k_err_framing.val();
                            self.ev_lo.next = self.byte_ext.out.val();
                            self.state.d.next = RxState::Hunt;
                        }
                    } else if self.is_esc.val() {
                        self.esc.d.next = true;
                    }
                }
                _ => {
                    self.state.d.next = RxState::Hunt;
                }
            }
        }

        if self.data_strobe.val() {
            self.count.d.next = self.count.q.val() + self.k_one16.val();
            if self.count.q.val() == self.k_zero16.val() {
                self.ftype.d.next = self.bval.val();
            } else if self.count.q.val() == self.k_c1.val() {
                self.fseq.d.next = self.bval.val();
            } else if self.count.q.val() == self.k_c2.val() {
                self.len.d.next = self.bval16.val();
            } else if self.count.q.val() == self.k_c3.val() {
                self.len.d.next = self.len_new.val();
                self.fits.d.next = self.used_plus.val() <= self.k_ring_size.val();
                self.oversized.d.next = self.len_new.val() > self.k_max_payload.val();
            } else if self.count.q.val() < self.len_p4.val() {
                // payload byte
                if self.fits.q.val() {
                    self.ring.write_enable.next = true;
                    self.wp.d.next = self.wp.q.val() + self.k_one16.val();
                }
            } else if self.count.q.val() == self.len_p4.val() {
                self.rx_crc.d.next = self.bval16.val();
            } else if self.count.q.val() == self.len_p5.val() {
                self.rx_crc.d.next =
                    (self.bval16.val() << 8) | (self.rx_crc.q.val() & self.k_low_byte.val());
            } else {
                // Overlong
                self.ev_end.next = true;
                self.ev_push.next = true;
                self.ev_status.next = self.k_err_framing.val();
                self.ev_lo.next = self.len.q.val();
                self.state.d.next = RxState::Hunt;
            }
        }

        // The cycle after the length: Oversized (detail: the length, now in `len`).
        if self.oversized.q.val() {
            self.oversized.d.next = false;
            self.ev_end.next = true;
            self.ev_push.next = true;
            self.ev_status.next = self.k_err_oversized.val();
            self.ev_lo.next = self.len.q.val();
            self.state.d.next = RxState::Hunt;
        }

        // ---- admission (framing first, then BUSY) ----
        self.qcount.next = self.q_wr.q.val() - self.q_rd.q.val();
        self.commit.next =
            self.ev_good.val() & self.fits.q.val() & (self.qcount.val() < self.k_q_good.val());
        if self.ev_good.val() {
            if self.commit.val() {
                self.ev_len.next = self.len.q.val();
            } else {
                self.ev_status.next = self.k_err_busy.val();
            }
        }
        self.push.next = false;
        if self.ev_push.val() {
            if self.qcount.val() != self.k_q_depth.val() {
                self.push.next = true;
            } else {
                self.dropped_reg.d.next = true;
            }
        }
        if self.commit.val() {
            self.tail.d.next = self.wp.q.val();
        } else if self.ev_end.val() {
            self.wp.d.next = self.tail.q.val();
        }

        // ---- descriptor queue ----
        self.q_len.write_data.next = self.ev_len.val();
        self.q_type.write_data.next = self.ftype.q.val();
        self.q_seq.write_data.next = self.fseq.q.val();
        self.q_status.write_data.next = self.ev_status.val();
        self.q_lo.write_data.next = self.ev_lo.val();
        self.q_hi.write_data.next = self.ev_hi.val();
        self.q_len.write_address.next = self.q_wr.q.val().get_bits::<4>(0);
        self.q_type.write_address.next = self.q_wr.q.val().get_bits::<4>(0);
        self.q_seq.write_address.next = self.q_wr.q.val().get_bits::<4>(0);
        self.q_status.write_address.next = self.q_wr.q.val().get_bits::<4>(0);
        self.q_lo.write_address.next = self.q_wr.q.val().get_bits::<4>(0);
        self.q_hi.write_address.next = self.q_wr.q.val().get_bits::<4>(0);
        self.q_len.write_enable.next = self.push.val();
        self.q_type.write_enable.next = self.push.val();
        self.q_seq.write_enable.next = self.push.val();
        self.q_status.write_enable.next = self.push.val();
        self.q_lo.write_enable.next = self.push.val();
        self.q_hi.write_enable.next = self.push.val();
        if self.push.val() {
            self.q_wr.d.next = self.q_wr.q.val() + self.k_q_one.val();
        }
        self.q_wr_delayed.d.next = self.q_wr.q.val();
        // FWFT read side: the RAMs read the entry the read pointer points at next cycle.
        self.q_empty.next = self.q_rd.q.val() == self.q_wr_delayed.q.val();
        self.pop_ok.next = self.pop.val() & !self.q_empty.val();
        if self.pop_ok.val() {
            self.q_rd_next.next = self.q_rd.q.val() + self.k_q_one.val();
            // free the head frame's payload (0 bytes for error descriptors)
            self.head.d.next = self.head.q.val() + self.q_len.read_data.val();
        } else {
            self.q_rd_next.next = self.q_rd.q.val();
        }
        self.q_rd.d.next = self.q_rd_next.val();
        self.q_len.read_address.next = self.q_rd_next.val().get_bits::<4>(0);
        self.q_type.read_address.next = self.q_rd_next.val().get_bits::<4>(0);
        self.q_seq.read_address.next = self.q_rd_next.val().get_bits::<4>(0);
        self.q_status.read_address.next = self.q_rd_next.val().get_bits::<4>(0);
        self.q_lo.read_address.next = self.q_rd_next.val().get_bits::<4>(0);
        self.q_hi.read_address.next = self.q_rd_next.val().get_bits::<4>(0);

        // ---- payload read port ----
        self.off_ext.x.next = self.rd_offset.val();
        self.ring.read_address.next = self.head.q.val().get_bits::<RA>(0) + self.off_ext.out.val();
        self.rd_data.next = self.ring.read_data.val();

        // ---- outputs ----
        self.head_valid.next = !self.q_empty.val();
        self.head_type.next = self.q_type.read_data.val();
        self.head_seq.next = self.q_seq.read_data.val();
        self.head_len.next = self.q_len.read_data.val().get_bits::<11>(0);
        self.head_status_raw.next = self.q_status.read_data.val();
        self.head_status.next = self.head_status_raw.val();
        self.detail_cat.hi.next = self.q_hi.read_data.val();
        self.detail_cat.lo.next = self.q_lo.read_data.val();
        if self.head_status_raw.val() == self.k_zero8.val() {
            self.head_detail.next = self.k_zero32.val();
        } else {
            self.head_detail.next = self.detail_cat.out.val();
        }
        self.dropped.next = self.dropped_reg.q.val();
    }
}
