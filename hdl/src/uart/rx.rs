//! 8N1 UART receiver.
//!
//! `rxd` passes a 2-flop synchroniser (both flops power up high = idle). In `Idle`,
//! the first low synchronised sample starts a frame; the start bit is re-checked
//! `divisor / 2` cycles later (mid-bit; a high there is a glitch and the receiver goes
//! back to idle), then every data bit and the stop bit are sampled `divisor` cycles
//! apart, i.e. at the middle of each bit. After the stop-bit sample the receiver is idle
//! again, half a bit early, so it can follow a sender that is faster than us.
//!
//! Outputs: `data` holds the last byte received; `valid` is high for exactly one cycle
//! when a byte with a good stop bit arrives; `framing_error` is high for one cycle
//! instead when the stop bit is low (the byte is dropped, and the receiver waits for
//! the line to return high before looking for the next start bit, so a break
//! condition gives one error, not a stream of zero bytes).
//!
//! Timing (`D` = divisor): if `e0` is the first rising edge that samples `rxd` low,
//! `valid` (or `framing_error`) goes high at edge `e0 + 2 + D/2 + 9·D` (2 synchroniser
//! flops, the start detection, half a bit, 9 bits), i.e. near the middle of the stop
//! bit, and is low again one edge later.
//!
//! Baud tolerance (`D` cycles per bit): the stop bit is sampled `9.5·D` to `9.5·D + 1`
//! cycles after the start edge, which must fall inside the sender's stop bit. So a
//! sender up to `0.5 / 9` = 5.5 % slow and up to `(D/2 - 1) / (10·D)` fast is received:
//! 2.5 % at D = 4, 3.75 % at D = 8, 4.4 % at D = 16, → 5 % for large D. The ±2 %
//! requirement therefore holds for every `D >= 4` (tests check just inside both bounds
//! with back-to-back frames, and that a 5 % fast sender at D = 8 is flagged).
//! A low stop bit directly followed by the next start bit cannot be resynchronised: the
//! byte after a framing error needs at least one idle bit before its start bit.

use rust_hdl::prelude::*;

use crate::widgets::{NarrowReg, Reg};

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum RxState {
    Idle,
    Start,
    Data,
    Stop,
    WaitIdle,
}

/// 8N1 UART receiver with an `N`-bit baud counter (`divisor < 2^N`).
#[derive(LogicBlock)]
pub struct UartRx<const N: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Serial input (asynchronous; idles high).
    pub rxd: Signal<In, Bit>,
    /// Last byte received; changes only together with a `valid` strobe.
    pub data: Signal<Out, Bits<8>>,
    /// One-cycle strobe: `data` holds a new byte.
    pub valid: Signal<Out, Bit>,
    /// One-cycle strobe: a frame ended with a low stop bit (the byte is discarded).
    pub framing_error: Signal<Out, Bit>,
    sync0: DFFWithInit<Bit>,
    sync1: DFFWithInit<Bit>,
    state: Reg<RxState>,
    /// Baud counter: counts to `divisor - 1`, so only `bits_for(divisor)` bits exist.
    count: NarrowReg<N>,
    bit_index: DFF<Bits<3>>,
    shift: DFF<Bits<8>>,
    data_reg: DFF<Bits<8>>,
    valid_reg: DFF<Bit>,
    error_reg: DFF<Bit>,
    /// `divisor - 1`: last cycle of a bit.
    bit_last: Constant<Bits<N>>,
    /// `divisor / 2 - 1`: mid-bit of the start bit, counted from the edge detection.
    half_last: Constant<Bits<N>>,
    count_zero: Constant<Bits<N>>,
    count_one: Constant<Bits<N>>,
    index_zero: Constant<Bits<3>>,
    index_one: Constant<Bits<3>>,
    index_last: Constant<Bits<3>>,
    /// Shifted in at bit 7 when a data bit is 1 (LSB-first: the first bit ends at bit 0).
    msb: Constant<Bits<8>>,
}

impl<const N: usize> UartRx<N> {
    /// A receiver for `divisor` clock cycles per bit: `crate::baud_divisor(clock_hz, baud)`.
    pub fn new(divisor: u64) -> Self {
        assert!(
            divisor >= crate::MIN_DIVISOR,
            "UART divisor {divisor} < {}",
            crate::MIN_DIVISOR
        );
        Self {
            clock: Default::default(),
            rxd: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            framing_error: Default::default(),
            sync0: DFFWithInit::new(true),
            sync1: DFFWithInit::new(true),
            state: Default::default(),
            count: NarrowReg::holding(divisor),
            bit_index: Default::default(),
            shift: Default::default(),
            data_reg: Default::default(),
            valid_reg: Default::default(),
            error_reg: Default::default(),
            bit_last: crate::constant(divisor - 1),
            half_last: crate::constant(divisor / 2 - 1),
            count_zero: crate::constant(0),
            count_one: crate::constant(1),
            index_zero: crate::constant(0),
            index_one: crate::constant(1),
            index_last: crate::constant(7),
            msb: crate::constant(0x80),
        }
    }
}

impl<const N: usize> Logic for UartRx<N> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, sync0, sync1, state, count, bit_index, shift, data_reg, valid_reg,
            error_reg
        );
        self.sync0.d.next = self.rxd.val();
        self.sync1.d.next = self.sync0.q.val();
        // Strobes are high for one cycle only.
        self.valid_reg.d.next = false;
        self.error_reg.d.next = false;
        self.count.d.next = self.count.q.val() + self.count_one.val();
        match self.state.q.val() {
            RxState::Idle => {
                self.count.d.next = self.count_zero.val();
                if !self.sync1.q.val() {
                    self.state.d.next = RxState::Start;
                }
            }
            RxState::Start => {
                if self.count.q.val() == self.half_last.val() {
                    self.count.d.next = self.count_zero.val();
                    self.bit_index.d.next = self.index_zero.val();
                    if self.sync1.q.val() {
                        // Glitch, not a start bit.
                        self.state.d.next = RxState::Idle;
                    } else {
                        self.state.d.next = RxState::Data;
                    }
                }
            }
            RxState::Data => {
                if self.count.q.val() == self.bit_last.val() {
                    self.count.d.next = self.count_zero.val();
                    if self.sync1.q.val() {
                        self.shift.d.next = (self.shift.q.val() >> 1) | self.msb.val();
                    } else {
                        self.shift.d.next = self.shift.q.val() >> 1;
                    }
                    self.bit_index.d.next = self.bit_index.q.val() + self.index_one.val();
                    if self.bit_index.q.val() == self.index_last.val() {
                        self.state.d.next = RxState::Stop;
                    }
                }
            }
            RxState::Stop => {
                if self.count.q.val() == self.bit_last.val() {
                    self.count.d.next = self.count_zero.val();
                    if self.sync1.q.val() {
                        self.data_reg.d.next = self.shift.q.val();
                        self.valid_reg.d.next = true;
                        self.state.d.next = RxState::Idle;
                    } else {
                        self.error_reg.d.next = true;
                        self.state.d.next = RxState::WaitIdle;
                    }
                }
            }
            RxState::WaitIdle => {
                self.count.d.next = self.count_zero.val();
                if self.sync1.q.val() {
                    self.state.d.next = RxState::Idle;
                }
            }
            _ => {
                self.state.d.next = RxState::Idle;
            }
        }
        self.data.next = self.data_reg.q.val();
        self.valid.next = self.valid_reg.q.val();
        self.framing_error.next = self.error_reg.q.val();
    }
}
