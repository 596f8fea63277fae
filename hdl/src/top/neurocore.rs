//! [`NeuroCore`]: the whole core (docs/rtl.md §1) — UART, frame receive path and queue,
//! command executor, compute engine, frame transmit path — generated from one
//! [`CoreConfig`]. Plain wiring only; every block is documented in docs/hdl.md.

use neurofab_proto::CoreConfig;
use rust_hdl::prelude::*;

use crate::core::{Engine, Executor};
use crate::frame::{RxPath, TxPath};
use crate::uart::UartRx;
use crate::DIVISOR_BITS;

/// The core with `P` weight lanes and a `2^RA`-byte receive ring.
#[derive(LogicBlock)]
pub struct NeuroCore<const P: usize, const RA: usize> {
    pub clock: Signal<In, Clock>,
    /// UART from the host (idles high).
    pub rxd: Signal<In, Bit>,
    /// UART to the host.
    pub txd: Signal<Out, Bit>,
    /// High while a command executes (an activity LED).
    pub active: Signal<Out, Bit>,
    /// High while the engine computes (a step, a reset).
    pub busy: Signal<Out, Bit>,
    /// Sticky: a frame had to be dropped without a reply (receive queue overrun).
    pub dropped: Signal<Out, Bit>,
    /// One-cycle strobe: a received UART byte had a bad stop bit (noise on the line).
    pub uart_error: Signal<Out, Bit>,
    uart_rx: UartRx<DIVISOR_BITS>,
    rx: RxPath<RA>,
    exec: Executor,
    engine: Engine<P>,
    tx: TxPath<DIVISOR_BITS>,
}

impl<const P: usize, const RA: usize> NeuroCore<P, RA> {
    /// The core described by `cfg` (`cfg.lanes` must be `P`, `cfg.rx_buffer` `2^RA`).
    pub fn new(cfg: &CoreConfig) -> Self {
        cfg.validate().expect("valid core configuration");
        let divisor = cfg.cycles_per_bit() as u64;
        Self {
            clock: Default::default(),
            rxd: Default::default(),
            txd: Default::default(),
            active: Default::default(),
            busy: Default::default(),
            dropped: Default::default(),
            uart_error: Default::default(),
            uart_rx: UartRx::new(divisor),
            rx: RxPath::new(cfg),
            exec: Executor::new(cfg),
            engine: Engine::new(cfg),
            tx: TxPath::new(divisor),
        }
    }
}

impl<const P: usize, const RA: usize> Logic for NeuroCore<P, RA> {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, uart_rx, rx, exec, engine, tx);
        // Receive: UART → deframer and frame queue.
        self.uart_rx.rxd.next = self.rxd.val();
        self.rx.byte_in.next = self.uart_rx.data.val();
        self.rx.byte_valid.next = self.uart_rx.valid.val();
        // Frame queue → executor.
        self.exec.head_valid.next = self.rx.head_valid.val();
        self.exec.head_type.next = self.rx.head_type.val();
        self.exec.head_seq.next = self.rx.head_seq.val();
        self.exec.head_len.next = self.rx.head_len.val();
        self.exec.head_status.next = self.rx.head_status.val();
        self.exec.head_detail.next = self.rx.head_detail.val();
        self.rx.rd_offset.next = self.exec.rd_offset.val();
        self.exec.rd_data.next = self.rx.rd_data.val();
        self.rx.pop.next = self.exec.pop.val();
        // Executor ↔ engine.
        self.engine.op.next = self.exec.eng_op.val();
        self.engine.op_start.next = self.exec.eng_start.val();
        self.exec.eng_busy.next = self.engine.busy.val();
        self.engine.src.next = self.exec.eng_src.val();
        self.engine.neuron.next = self.exec.eng_neuron.val();
        self.engine.slot.next = self.exec.eng_slot.val();
        self.engine.byte_idx.next = self.exec.eng_byte_idx.val();
        self.engine.wdata.next = self.exec.eng_wdata.val();
        self.exec.eng_rdata.next = self.engine.rdata.val();
        self.exec.eng_fired_count.next = self.engine.fired_count.val();
        self.exec.eng_stdp.next = self.engine.stdp.val();
        // Executor → frame encoder → UART.
        self.tx.start.next = self.exec.tx_start.val();
        self.tx.frame_type.next = self.exec.tx_type.val();
        self.tx.seq.next = self.exec.tx_seq.val();
        self.tx.len.next = self.exec.tx_len.val();
        self.tx.data.next = self.exec.tx_data.val();
        self.tx.data_valid.next = self.exec.tx_data_valid.val();
        self.exec.tx_data_ready.next = self.tx.data_ready.val();
        self.exec.tx_idle.next = self.tx.idle.val();
        self.txd.next = self.tx.txd.val();
        // Status.
        self.active.next = self.exec.active.val();
        self.busy.next = self.engine.busy.val();
        self.dropped.next = self.rx.dropped.val();
        self.uart_error.next = self.uart_rx.framing_error.val();
    }
}
