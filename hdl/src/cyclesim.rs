//! A single-threaded, cycle-stepped driver for rust-hdl circuits.
//!
//! rust-hdl's own [`Simulation`](rust_hdl::prelude::Simulation) runs every testbench and
//! every clock in its own thread and hands the circuit between them through rendezvous
//! channels, which limits it to roughly 6 k cycles/s. [`CycleSim`] uses the very same
//! evaluation engine (`update_all` until nothing changes, exactly what `Simulation`
//! does after each testbench step) but drives the clock from the calling thread, so a
//! test is an ordinary loop: set inputs, [`step`](CycleSim::step), read outputs.
//!
//! Convention: inputs written (via `.next`) before `step()` are sampled at that rising
//! edge; after `step()` returns, registered outputs show the state after the edge.
//! Call [`settle`](CycleSim::settle) to see combinational outputs of new inputs
//! without a clock edge.

use rust_hdl::core::vcd_probe::VCDProbe;
use rust_hdl::prelude::*;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// How many delta iterations a settle may take before the circuit counts as oscillating.
const MAX_DELTAS: usize = 100;

/// Cycle-stepped simulation of the circuit `T` clocked by the signal `clock` selects.
pub struct CycleSim<T: Block> {
    /// The circuit. Write inputs with `sim.uut.port.next = ...`, read with `.val()`.
    pub uut: Box<T>,
    clock: fn(&mut T) -> &mut Signal<In, Clock>,
    cycle: u64,
    vcd: Option<VCDProbe<BufWriter<File>>>,
}

impl<T: Block> CycleSim<T> {
    /// Connects and checks `uut` (the same `check_all` a `Simulation` runs), then
    /// settles it with the clock low.
    pub fn new(mut uut: T, clock: fn(&mut T) -> &mut Signal<In, Clock>) -> Result<Self, String> {
        uut.connect_all();
        check_all(&uut).map_err(|e| format!("rust-hdl check failed: {e:?}"))?;
        let mut sim = CycleSim {
            uut: Box::new(uut),
            clock,
            cycle: 0,
            vcd: None,
        };
        sim.settle();
        Ok(sim)
    }

    /// Also write a VCD trace to `path` (put it in a temp dir).
    pub fn trace_to(&mut self, path: &Path) -> std::io::Result<()> {
        let file = BufWriter::new(File::create(path)?);
        let vcd = write_vcd_header(file, self.uut.as_ref());
        self.vcd = Some(write_vcd_dump(vcd, self.uut.as_ref()));
        Ok(())
    }

    /// Propagate input changes until the circuit is stable. Panics on oscillation.
    pub fn settle(&mut self) {
        for _ in 0..MAX_DELTAS {
            self.uut.update_all();
            if !self.uut.has_changed() {
                return;
            }
        }
        panic!("circuit failed to converge at cycle {}", self.cycle);
    }

    fn set_clock(&mut self, level: bool, time: u64) {
        (self.clock)(&mut self.uut).next = Clock { clk: level };
        self.settle();
        if let Some(vcd) = self.vcd.take() {
            let mut vcd = vcd;
            vcd.timestamp(time).expect("vcd write");
            self.vcd = Some(write_vcd_change(vcd, self.uut.as_ref()));
        }
    }

    /// One full clock cycle: settle the inputs, rising edge, then falling edge.
    ///
    /// The inputs must settle *before* the edge: rust-hdl propagates both the clock
    /// and data one hierarchy level per delta iteration, so an input changed together
    /// with the clock would race it into deep registers (the threaded `Simulation`
    /// also settles a testbench's writes before the clock thread runs).
    pub fn step(&mut self) {
        self.settle();
        let t = 2 * self.cycle;
        self.set_clock(true, t + 1);
        self.set_clock(false, t + 2);
        self.cycle += 1;
    }

    /// `n` clock cycles.
    pub fn steps(&mut self, n: u64) {
        for _ in 0..n {
            self.step();
        }
    }

    /// Rising edges so far.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }
}
