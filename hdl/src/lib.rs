//! neurofab core HDL (rust-hdl 0.46).
//!
//! Blocks (one module each, see `docs/hdl.md` for ports and cycle timing):
//!
//! * [`uart::UartRx`]: 8N1 receiver (2-flop synchroniser, mid-bit sampling).
//! * [`uart::UartTx`]: 8N1 transmitter with a ready/valid byte input.
//! * [`frame::Crc16Next`] / [`frame::Crc16`]: byte-wide CRC-16/IBM-3740 (combinational
//!   next-state, and a registered one-byte-per-cycle unit built on it).
//! * [`top::UartLoopback`]: rx → FIFO → tx, the board bring-up top.
//!
//! Helpers: [`generate_loopback_verilog`], [`baud_divisor`], the [`tools`] wrappers
//! around Verilator/yosys (lint and iCE40 synthesis checks) and the
//! [`cyclesim::CycleSim`] single-threaded test harness.
#![allow(clippy::assign_op_pattern)]

pub mod core;
pub mod cyclesim;
pub mod frame;
pub mod generate;
pub mod sim_models;
pub mod tools;
pub mod top;
pub mod uart;
pub mod widgets;

pub use generate::{generate_core, GeneratedCore};
pub use sim_models::{sim_core_configs, sim_models, SimModel};
pub use tools::{lint_with_verilator, synth_ice40};

use rust_hdl::prelude::*;

/// Width of the baud-rate counters in the UART blocks used by [`generate_loopback_verilog`].
/// 16 bits cover every divisor up to 65535 (e.g. 100 MHz / 9600 baud = 10417).
pub const DIVISOR_BITS: usize = 16;

/// Smallest supported clocks-per-bit: the receiver samples at `divisor / 2 - 1`
/// after the start edge, so it needs at least 4 cycles per bit.
pub const MIN_DIVISOR: u64 = 4;

/// Clock cycles per UART bit: `round(clock_hz / baud)`.
///
/// Panics if the result is below [`MIN_DIVISOR`] or if the rounding alone is off by
/// more than 1 % from the requested baud rate (that would eat half of the ±2 % budget
/// the receiver tolerates on the other end).
pub fn baud_divisor(clock_hz: u64, baud: u64) -> u64 {
    assert!(baud > 0, "baud must be positive");
    let divisor = (clock_hz + baud / 2) / baud;
    assert!(
        divisor >= MIN_DIVISOR,
        "clock {clock_hz} Hz / baud {baud} gives {divisor} cycles per bit; need at least {MIN_DIVISOR}"
    );
    let actual = clock_hz as f64 / divisor as f64;
    let error = (actual - baud as f64).abs() / baud as f64;
    assert!(
        error <= 0.01,
        "clock {clock_hz} Hz cannot make {baud} baud: nearest is {actual:.0} baud ({:.2} % off)",
        error * 100.0
    );
    divisor
}

/// A constant of `N` bits holding `value` (panics if it does not fit).
///
/// Use this for every number a kernel compares against or adds: a plain literal in a
/// kernel is emitted as a 32-bit Verilog literal (`32'h1`) and makes Verilator warn
/// about WIDTH, while a `Constant<Bits<N>>` field becomes an N-bit `localparam`.
pub fn constant<const N: usize>(value: u64) -> Constant<Bits<N>> {
    assert!(
        N >= 64 || value < (1u64 << N),
        "constant {value} does not fit in {N} bits"
    );
    Constant::new(value.to_bits())
}

/// The Verilog of the UART loopback top ([`top::UartLoopback`]), top module `top`.
pub fn generate_loopback_verilog(clock_hz: u64, baud: u64) -> String {
    let mut uut = top::UartLoopback::<DIVISOR_BITS>::new(baud_divisor(clock_hz, baud));
    uut.connect_all();
    generate_verilog(&uut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisor_rounds() {
        assert_eq!(baud_divisor(12_000_000, 115_200), 104);
        assert_eq!(baud_divisor(100_000_000, 9600), 10417);
        assert_eq!(baud_divisor(80, 10), 8);
    }

    #[test]
    #[should_panic(expected = "at least")]
    fn divisor_too_small() {
        baud_divisor(1_000_000, 500_000);
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn constant_checks_width() {
        let _ = constant::<3>(8);
    }
}
