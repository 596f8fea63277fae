//! UART loopback top: `rxd` → [`UartRx`] → 16-byte FIFO → [`UartTx`] → `txd`.
//!
//! For board bring-up (every byte the host sends comes back) and as the first device
//! under test of the Verilator harness. Latency: if `e0` is the first rising edge that
//! samples a start bit on `rxd`, the receiver strobes at edge `e0 + 2 + D/2 + 9·D`, the
//! FIFO takes the byte one edge later, shows it one more edge later, and the
//! transmitter accepts it (and drives its start bit on `txd`) at edge
//! `e0 + 5 + D/2 + 9·D`; the echo then takes `10·D` cycles on the wire.
//!
//! The FIFO absorbs bursts while the host sends faster than our transmitter (up to the
//! baud mismatch the receiver tolerates). `overflow` is sticky (there is no reset: a
//! byte was dropped since power-up); `framing_error` is sticky as well.

use rust_hdl::prelude::*;

use crate::uart::{UartRx, UartTx};
use crate::widgets::Fifo;

/// FIFO depth of the loopback, in bytes (a power of two).
pub const LOOPBACK_FIFO_DEPTH: usize = 16;

/// The loopback FIFO: 16 × 8 bits (address width 4, pointer width 5).
type LoopbackFifo = Fifo<Bits<8>, 4, 5>;
const _: () = assert!(LoopbackFifo::DEPTH == LOOPBACK_FIFO_DEPTH);

/// UART loopback with `N`-bit baud counters.
#[derive(LogicBlock)]
pub struct UartLoopback<const N: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Serial input from the host.
    pub rxd: Signal<In, Bit>,
    /// Serial output to the host.
    pub txd: Signal<Out, Bit>,
    /// Sticky: a received byte found the FIFO full and was dropped.
    pub overflow: Signal<Out, Bit>,
    /// Sticky: a frame with a bad stop bit was received.
    pub framing_error: Signal<Out, Bit>,
    rx: UartRx<N>,
    fifo: LoopbackFifo,
    tx: UartTx<N>,
    overflow_reg: DFF<Bit>,
    error_reg: DFF<Bit>,
}

impl<const N: usize> UartLoopback<N> {
    /// A loopback for `divisor` clock cycles per bit: `crate::baud_divisor(clock_hz, baud)`.
    pub fn new(divisor: u64) -> Self {
        Self {
            clock: Default::default(),
            rxd: Default::default(),
            txd: Default::default(),
            overflow: Default::default(),
            framing_error: Default::default(),
            rx: UartRx::new(divisor),
            fifo: Default::default(),
            tx: UartTx::new(divisor),
            overflow_reg: Default::default(),
            error_reg: Default::default(),
        }
    }
}

impl<const N: usize> Logic for UartLoopback<N> {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, rx, fifo, tx);
        dff_setup!(self, clock, overflow_reg, error_reg);
        self.rx.rxd.next = self.rxd.val();
        // rx -> fifo
        self.fifo.data_in.next = self.rx.data.val();
        self.fifo.write.next = self.rx.valid.val() & !self.fifo.full.val();
        // fifo -> tx (the FIFO output is valid whenever it is not empty)
        self.tx.data.next = self.fifo.data_out.val();
        self.tx.valid.next = !self.fifo.empty.val();
        self.fifo.read.next = self.tx.ready.val() & !self.fifo.empty.val();
        self.txd.next = self.tx.txd.val();
        // sticky flags
        if self.rx.valid.val() & self.fifo.full.val() {
            self.overflow_reg.d.next = true;
        }
        if self.rx.framing_error.val() {
            self.error_reg.d.next = true;
        }
        self.overflow.next = self.overflow_reg.q.val();
        self.framing_error.next = self.error_reg.q.val();
    }
}
