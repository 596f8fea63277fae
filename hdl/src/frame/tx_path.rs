//! [`TxPath`]: the transmit side of the host link (docs/protocol.md §2; docs/rtl.md §3).
//!
//! A framer in front of a [`UartTx`]: `FLAG`, the stuffed body (`type`, `seq`,
//! `len` low, `len` high, payload, CRC low, CRC high; CRC-16 over the unstuffed
//! `type..payload` by a [`Crc16`]), `FLAG`. The byte stream equals
//! `neurofab_proto::frame::encode_frame_vec(type, seq, payload)`.
//!
//! Structure: a phase register (`Idle, OpenFlag, Type, Seq, LenLo, LenHi, Payload,
//! CrcLo, CrcHi, CloseFlag`) loads one unstuffed body byte at a time into a holding
//! register `hold`; the holding register is offered to the UART, as `ESC` then
//! `hold ^ ESC_XOR` if it is `FLAG` or `ESC`, else as is. A body byte is loaded (and
//! folded into the CRC) in the cycle after the previous one has been taken by the
//! UART, which is ~10 bit times before the UART asks for it, so the line carries the
//! whole frame back to back (`10·D` cycles per wire byte).
//!
//! Handshakes: `start` (while `idle`) samples `frame_type`, `seq`, `len`. Payload bytes:
//! `data_ready` depends on registers only (phase `Payload` and `hold` empty); a byte
//! is taken at an edge where `data_valid && data_ready`. `idle` is high right after
//! the edge at which the UART takes the closing FLAG (the UART is then still sending
//! it; a new frame's opening FLAG follows it without a gap).
//!
//! Latency: `start` at edge `s` → the UART takes the opening FLAG at edge `s + 1`
//! and its start bit is on `txd` right after that edge.

use rust_hdl::prelude::*;

use super::rx_path::ZeroExtend;
use super::{Crc16, ESC, ESC_XOR, FLAG};
use crate::uart::UartTx;
use crate::widgets::Reg;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum TxPhase {
    Idle,
    OpenFlag,
    Type,
    Seq,
    LenLo,
    LenHi,
    Payload,
    CrcLo,
    CrcHi,
    CloseFlag,
}

/// Framer + 8N1 transmitter with an `N`-bit baud counter (`divisor < 2^N`).
#[derive(LogicBlock)]
pub struct TxPath<const N: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// One-cycle strobe, only while `idle`: begin a frame.
    pub start: Signal<In, Bit>,
    /// Frame type, sampled at `start`.
    pub frame_type: Signal<In, Bits<8>>,
    /// Sequence number, sampled at `start`.
    pub seq: Signal<In, Bits<8>>,
    /// Payload length (0 ..= MAX_PAYLOAD), sampled at `start`.
    pub len: Signal<In, Bits<11>>,
    /// Payload byte offered.
    pub data: Signal<In, Bits<8>>,
    /// `data` is valid.
    pub data_valid: Signal<In, Bit>,
    /// The offered byte is taken at this edge (registers only).
    pub data_ready: Signal<Out, Bit>,
    /// No frame in progress.
    pub idle: Signal<Out, Bit>,
    /// Serial output, idles high.
    pub txd: Signal<Out, Bit>,
    uart: UartTx<N>,
    crc_unit: Crc16,
    phase: Reg<TxPhase>,
    ftype: DFF<Bits<8>>,
    fseq: DFF<Bits<8>>,
    flen: DFF<Bits<11>>,
    remaining: DFF<Bits<11>>,
    hold: DFF<Bits<8>>,
    hold_valid: DFF<Bit>,
    hold_esc: DFF<Bit>,
    hold_special: Signal<Local, Bit>,
    len_hi: ZeroExtend<3, 8>,
    k_flag: Constant<Bits<8>>,
    k_esc: Constant<Bits<8>>,
    k_esc_xor: Constant<Bits<8>>,
    k_len_zero: Constant<Bits<11>>,
    k_len_one: Constant<Bits<11>>,
}

impl<const N: usize> TxPath<N> {
    /// A TxPath for `divisor` clock cycles per bit (as [`UartTx::new`]).
    pub fn new(divisor: u64) -> Self {
        Self {
            clock: Default::default(),
            start: Default::default(),
            frame_type: Default::default(),
            seq: Default::default(),
            len: Default::default(),
            data: Default::default(),
            data_valid: Default::default(),
            data_ready: Default::default(),
            idle: Default::default(),
            txd: Default::default(),
            uart: UartTx::new(divisor),
            crc_unit: Crc16::default(),
            phase: Default::default(),
            ftype: Default::default(),
            fseq: Default::default(),
            flen: Default::default(),
            remaining: Default::default(),
            hold: Default::default(),
            hold_valid: Default::default(),
            hold_esc: Default::default(),
            hold_special: Default::default(),
            len_hi: Default::default(),
            k_flag: crate::constant(FLAG as u64),
            k_esc: crate::constant(ESC as u64),
            k_esc_xor: crate::constant(ESC_XOR as u64),
            k_len_zero: crate::constant(0),
            k_len_one: crate::constant(1),
        }
    }
}

impl<const N: usize> Logic for TxPath<N> {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, uart, crc_unit);
        dff_setup!(self, clock, phase, ftype, fseq, flen, remaining, hold, hold_valid, hold_esc);
        self.txd.next = self.uart.txd.val();
        self.crc_unit.clear.next = false;
        self.crc_unit.strobe.next = false;
        self.crc_unit.data.next = self.hold.q.val();
        self.data_ready.next = false;
        self.idle.next = false;
        // {0, len[10:8]}
        self.len_hi.x.next = self.flen.q.val().get_bits::<3>(8);
        self.hold_special.next =
            (self.hold.q.val() == self.k_flag.val()) | (self.hold.q.val() == self.k_esc.val());

        // ---- UART side: offer the held body byte (stuffed) ----
        self.uart.valid.next = false;
        self.uart.data.next = self.k_flag.val();
        if self.hold_valid.q.val() {
            self.uart.valid.next = true;
            if self.hold_esc.q.val() {
                self.uart.data.next = self.hold.q.val() ^ self.k_esc_xor.val();
            } else if self.hold_special.val() {
                self.uart.data.next = self.k_esc.val();
            } else {
                self.uart.data.next = self.hold.q.val();
            }
            if self.uart.ready.val() {
                if self.hold_special.val() & !self.hold_esc.q.val() {
                    self.hold_esc.d.next = true;
                } else {
                    self.hold_valid.d.next = false;
                    self.hold_esc.d.next = false;
                }
            }
        }

        // ---- phase machine: load the next body byte when `hold` is empty ----
        match self.phase.q.val() {
            TxPhase::Idle => {
                self.idle.next = true;
                if self.start.val() {
                    self.ftype.d.next = self.frame_type.val();
                    self.fseq.d.next = self.seq.val();
                    self.flen.d.next = self.len.val();
                    self.remaining.d.next = self.len.val();
                    self.crc_unit.clear.next = true;
                    self.phase.d.next = TxPhase::OpenFlag;
                }
            }
            TxPhase::OpenFlag => {
                // `hold` is empty here: the UART gets FLAG.
                self.uart.valid.next = true;
                if self.uart.ready.val() {
                    self.phase.d.next = TxPhase::Type;
                }
            }
            TxPhase::Type => {
                if !self.hold_valid.q.val() {
                    self.hold.d.next = self.ftype.q.val();
                    self.hold_valid.d.next = true;
                    self.crc_unit.data.next = self.ftype.q.val();
                    self.crc_unit.strobe.next = true;
                    self.phase.d.next = TxPhase::Seq;
                }
            }
            TxPhase::Seq => {
                if !self.hold_valid.q.val() {
                    self.hold.d.next = self.fseq.q.val();
                    self.hold_valid.d.next = true;
                    self.crc_unit.data.next = self.fseq.q.val();
                    self.crc_unit.strobe.next = true;
                    self.phase.d.next = TxPhase::LenLo;
                }
            }
            TxPhase::LenLo => {
                if !self.hold_valid.q.val() {
                    self.hold.d.next = self.flen.q.val().get_bits::<8>(0);
                    self.hold_valid.d.next = true;
                    self.crc_unit.data.next = self.flen.q.val().get_bits::<8>(0);
                    self.crc_unit.strobe.next = true;
                    self.phase.d.next = TxPhase::LenHi;
                }
            }
            TxPhase::LenHi => {
                if !self.hold_valid.q.val() {
                    self.hold.d.next = self.len_hi.out.val();
                    self.hold_valid.d.next = true;
                    self.crc_unit.data.next = self.len_hi.out.val();
                    self.crc_unit.strobe.next = true;
                    if self.remaining.q.val() == self.k_len_zero.val() {
                        self.phase.d.next = TxPhase::CrcLo;
                    } else {
                        self.phase.d.next = TxPhase::Payload;
                    }
                }
            }
            TxPhase::Payload => {
                self.data_ready.next = !self.hold_valid.q.val();
                if !self.hold_valid.q.val() & self.data_valid.val() {
                    self.hold.d.next = self.data.val();
                    self.hold_valid.d.next = true;
                    self.crc_unit.data.next = self.data.val();
                    self.crc_unit.strobe.next = true;
                    self.remaining.d.next = self.remaining.q.val() - self.k_len_one.val();
                    if self.remaining.q.val() == self.k_len_one.val() {
                        self.phase.d.next = TxPhase::CrcLo;
                    }
                }
            }
            TxPhase::CrcLo => {
                if !self.hold_valid.q.val() {
                    self.hold.d.next = self.crc_unit.crc.val().get_bits::<8>(0);
                    self.hold_valid.d.next = true;
                    self.phase.d.next = TxPhase::CrcHi;
                }
            }
            TxPhase::CrcHi => {
                if !self.hold_valid.q.val() {
                    self.hold.d.next = self.crc_unit.crc.val().get_bits::<8>(8);
                    self.hold_valid.d.next = true;
                    self.phase.d.next = TxPhase::CloseFlag;
                }
            }
            TxPhase::CloseFlag => {
                if !self.hold_valid.q.val() {
                    self.uart.valid.next = true;
                    if self.uart.ready.val() {
                        self.phase.d.next = TxPhase::Idle;
                    }
                }
            }
            _ => {
                self.phase.d.next = TxPhase::Idle;
            }
        }
    }
}
