//! RxPath and TxPath pass `verilator --lint-only -Wall` with zero warnings and no waivers.

use neurofab_hdl::frame::{RxPath, TxPath};
use neurofab_hdl::{lint_with_verilator, DIVISOR_BITS};
use neurofab_proto::CoreConfig;
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
fn rx_path_lints_clean() {
    // The default core's 4096-byte ring, and the smallest and largest rings allowed.
    lint(&verilog_of(RxPath::<12>::new(&CoreConfig::DEFAULT)));
    lint(&verilog_of(RxPath::<11>::with_ring()));
    lint(&verilog_of(RxPath::<15>::with_ring()));
}

#[test]
fn tx_path_lints_clean() {
    lint(&verilog_of(TxPath::<DIVISOR_BITS>::new(104)));
    lint(&verilog_of(TxPath::<4>::new(8)));
}

#[test]
#[should_panic(expected = "rx_buffer")]
fn rx_path_checks_the_ring_size_against_the_config() {
    let _ = RxPath::<11>::new(&CoreConfig::DEFAULT);
}
