//! 8N1 UART transmitter with a ready/valid byte input.
//!
//! A byte is accepted at a rising edge where `valid && ready`. `txd` is registered (no
//! glitches) and idles high. Timing (`D` = divisor): `txd` drops for the start bit at
//! the accepting edge itself (it is the register's new value in the cycle after that
//! edge), then each of start, 8 data bits (LSB first) and stop lasts exactly `D` cycles. `ready` is high in idle and during the last cycle of
//! the stop bit, so back-to-back bytes follow each other with no gap: a continuous
//! stream takes exactly `10·D` cycles per byte, the line rate.

use rust_hdl::prelude::*;

use crate::widgets::{NarrowReg, Reg};

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum TxState {
    Idle,
    Start,
    Data,
    Stop,
}

/// 8N1 UART transmitter with an `N`-bit baud counter (`divisor < 2^N`).
#[derive(LogicBlock)]
pub struct UartTx<const N: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Byte to send; sampled when `valid && ready`.
    pub data: Signal<In, Bits<8>>,
    /// The producer offers `data`.
    pub valid: Signal<In, Bit>,
    /// The transmitter takes `data` at this edge if `valid` (depends only on state).
    pub ready: Signal<Out, Bit>,
    /// Serial output, idles high.
    pub txd: Signal<Out, Bit>,
    state: Reg<TxState>,
    /// Baud counter: counts to `divisor - 1`, so only `bits_for(divisor)` bits exist.
    count: NarrowReg<N>,
    bit_index: DFF<Bits<3>>,
    shift: DFF<Bits<8>>,
    txd_reg: DFFWithInit<Bit>,
    bit_last: Constant<Bits<N>>,
    count_zero: Constant<Bits<N>>,
    count_one: Constant<Bits<N>>,
    index_zero: Constant<Bits<3>>,
    index_one: Constant<Bits<3>>,
    index_last: Constant<Bits<3>>,
}

impl<const N: usize> UartTx<N> {
    /// A transmitter for `divisor` clock cycles per bit: `crate::baud_divisor(clock_hz, baud)`.
    pub fn new(divisor: u64) -> Self {
        assert!(divisor >= 1, "UART divisor must be positive");
        Self {
            clock: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            ready: Default::default(),
            txd: Default::default(),
            state: Default::default(),
            count: NarrowReg::holding(divisor),
            bit_index: Default::default(),
            shift: Default::default(),
            txd_reg: DFFWithInit::new(true),
            bit_last: crate::constant(divisor - 1),
            count_zero: crate::constant(0),
            count_one: crate::constant(1),
            index_zero: crate::constant(0),
            index_one: crate::constant(1),
            index_last: crate::constant(7),
        }
    }
}

impl<const N: usize> Logic for UartTx<N> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, state, count, bit_index, shift, txd_reg);
        self.ready.next = false;
        self.count.d.next = self.count.q.val() + self.count_one.val();
        match self.state.q.val() {
            TxState::Idle => {
                self.count.d.next = self.count_zero.val();
                self.ready.next = true;
                if self.valid.val() {
                    self.shift.d.next = self.data.val();
                    self.txd_reg.d.next = false;
                    self.state.d.next = TxState::Start;
                }
            }
            TxState::Start => {
                if self.count.q.val() == self.bit_last.val() {
                    self.count.d.next = self.count_zero.val();
                    self.bit_index.d.next = self.index_zero.val();
                    self.txd_reg.d.next = self.shift.q.val().get_bit(0);
                    self.state.d.next = TxState::Data;
                }
            }
            TxState::Data => {
                if self.count.q.val() == self.bit_last.val() {
                    self.count.d.next = self.count_zero.val();
                    self.shift.d.next = self.shift.q.val() >> 1;
                    self.bit_index.d.next = self.bit_index.q.val() + self.index_one.val();
                    if self.bit_index.q.val() == self.index_last.val() {
                        self.txd_reg.d.next = true;
                        self.state.d.next = TxState::Stop;
                    } else {
                        self.txd_reg.d.next = self.shift.q.val().get_bit(1);
                    }
                }
            }
            TxState::Stop => {
                if self.count.q.val() == self.bit_last.val() {
                    self.count.d.next = self.count_zero.val();
                    self.ready.next = true;
                    if self.valid.val() {
                        self.shift.d.next = self.data.val();
                        self.txd_reg.d.next = false;
                        self.state.d.next = TxState::Start;
                    } else {
                        self.state.d.next = TxState::Idle;
                    }
                }
            }
            _ => {
                self.state.d.next = TxState::Idle;
            }
        }
        self.txd.next = self.txd_reg.q.val();
    }
}
