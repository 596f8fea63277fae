//! Every top passes `verilator --lint-only -Wall` with zero warnings, and the loopback
//! synthesizes for iCE40 with yosys.

use neurofab_hdl::frame::{Crc16, Crc16Next};
use neurofab_hdl::top::UartLoopback;
use neurofab_hdl::uart::{UartRx, UartTx};
use neurofab_hdl::{generate_loopback_verilog, lint_with_verilator, synth_ice40, DIVISOR_BITS};
use rust_hdl::prelude::*;

fn verilog_of<B: Block>(mut uut: B) -> String {
    uut.connect_all();
    generate_verilog(&uut)
}

fn lint(verilog: &str) {
    if let Err(e) = lint_with_verilator(verilog, "top") {
        panic!("{e}\n--- verilog ---\n{verilog}");
    }
}

#[test]
fn uart_rx_lints_clean() {
    lint(&verilog_of(UartRx::<DIVISOR_BITS>::new(104)));
}

#[test]
fn uart_tx_lints_clean() {
    lint(&verilog_of(UartTx::<DIVISOR_BITS>::new(104)));
}

#[test]
fn crc16_next_lints_clean() {
    lint(&verilog_of(Crc16Next::default()));
}

#[test]
fn crc16_lints_clean() {
    lint(&verilog_of(Crc16::default()));
}

#[test]
fn loopback_lints_clean() {
    lint(&generate_loopback_verilog(12_000_000, 115_200));
    // A narrow counter for a small divisor is also width-clean.
    lint(&verilog_of(UartLoopback::<4>::new(8)));
}

#[test]
fn loopback_synthesizes_for_ice40() {
    let stat = synth_ice40(&generate_loopback_verilog(12_000_000, 115_200), "top")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(stat.contains("SB_"), "no iCE40 cells in:\n{stat}");
}
