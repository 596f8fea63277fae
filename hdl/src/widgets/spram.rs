//! [`Spram`]: a single-port synchronous RAM of 16-bit words with nibble write enables,
//! in the form yosys maps to iCE40 UltraPlus `SB_SPRAM256KA` (`synth_ice40 -spram`).
//!
//! * One port: `address` is read or written at the rising edge of `clock`.
//! * `write_enable` high: the nibbles of `write_data` selected by `nibble_enable` are
//!   written; `read_data` does not change (the SPRAM's "no change" read-during-write).
//! * `write_enable` low: `read_data` shows the word at `address` after the edge.
//! * `depth` words (a constructor argument; yosys splits more than 16 K words over
//!   several SPRAMs and adds the address decode and output mux); only
//!   `ceil(log2(depth))` address bits are used and the simulation panics on a write at
//!   an address ≥ depth.
//! * No init file: the simulation fills the words with a deterministic garbage pattern,
//!   so a read of a never-written word shows up in tests.
//!
//! The Verilog carries `(* ram_style = "huge" *)`, which makes yosys use SPRAM even for
//! memories that would fit in block RAM (the mask memory: docs/hdl.md, "Weight memory").

use rust_hdl::prelude::*;

use super::ram::{address_bits, power_up_pattern};

/// Single-port 16-bit RAM with nibble write enables, `A`-bit addresses.
#[derive(LogicBlock)]
pub struct Spram<const A: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Word read or written at this edge.
    pub address: Signal<In, Bits<A>>,
    /// Write (of the enabled nibbles) instead of read.
    pub write_enable: Signal<In, Bit>,
    /// Nibble k (bits 4k+3..4k) is written iff bit k is set.
    pub nibble_enable: Signal<In, Bits<4>>,
    /// Data to write.
    pub write_data: Signal<In, Bits<16>>,
    /// The word read at the last edge without `write_enable`.
    pub read_data: Signal<Out, Bits<16>>,
    _mem: Vec<u16>,
    _depth: usize,
}

impl<const A: usize> Spram<A> {
    /// A RAM of `depth` 16-bit words.
    pub fn new(depth: usize) -> Self {
        assert!(depth >= 1, "Spram depth must be at least 1");
        assert!(
            address_bits(depth) <= A,
            "Spram depth {depth} needs more than {A} address bits"
        );
        let mem = power_up_pattern(depth).map(|x| (x >> 24) as u16).collect();
        Self {
            clock: Default::default(),
            address: Default::default(),
            write_enable: Default::default(),
            nibble_enable: Default::default(),
            write_data: Default::default(),
            read_data: Default::default(),
            _mem: mem,
            _depth: depth,
        }
    }

    /// Number of words.
    pub fn depth(&self) -> usize {
        self._depth
    }
}

impl<const A: usize> Logic for Spram<A> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let low = (1usize << address_bits(self._depth)) - 1;
            let a = self.address.val().to_u64() as usize & low;
            if self.write_enable.val() {
                assert!(
                    a < self._depth,
                    "Spram write to address {a} >= depth {}",
                    self._depth
                );
                let en = self.nibble_enable.val().to_u64();
                let mut mask = 0u16;
                for k in 0..4 {
                    if (en >> k) & 1 == 1 {
                        mask |= 0xF << (4 * k);
                    }
                }
                let wd = self.write_data.val().to_u64() as u16;
                self._mem[a] = (self._mem[a] & !mask) | (wd & mask);
            } else {
                // Verilog gives X past the end; the caller ignores it.
                let word = self._mem.get(a).copied().unwrap_or(0);
                self.read_data.next = (word as u64).to_bits();
            }
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        let k = address_bits(self._depth);
        let unused = if k < A {
            format!("wire unused_bits = ^address[{}:{k}];\n", A - 1)
        } else {
            String::new()
        };
        Verilog::Custom(format!(
            "(* ram_style = \"huge\" *) reg [15:0] mem [0:{last}];\n\
             reg [15:0] rd;\n\
             always @(posedge clock) begin\n\
             \x20   if (write_enable) begin\n\
             \x20       if (nibble_enable[0]) mem[address[{k1}:0]][3:0] <= write_data[3:0];\n\
             \x20       if (nibble_enable[1]) mem[address[{k1}:0]][7:4] <= write_data[7:4];\n\
             \x20       if (nibble_enable[2]) mem[address[{k1}:0]][11:8] <= write_data[11:8];\n\
             \x20       if (nibble_enable[3]) mem[address[{k1}:0]][15:12] <= write_data[15:12];\n\
             \x20   end else\n\
             \x20       rd <= mem[address[{k1}:0]];\n\
             end\n\
             always @(*) read_data = rd;\n\
             {unused}",
            last = self._depth - 1,
            k1 = k - 1,
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "spram".into(),
            clock: "clock".into(),
            inputs: vec![
                "address".into(),
                "write_enable".into(),
                "nibble_enable".into(),
                "write_data".into(),
            ],
            outputs: vec!["read_data".into()],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cyclesim::CycleSim;

    fn edge(sim: &mut CycleSim<Spram<4>>, a: u64, we: bool, en: u64, wd: u64) -> u64 {
        sim.uut.address.next = a.to_bits();
        sim.uut.write_enable.next = we;
        sim.uut.nibble_enable.next = en.to_bits();
        sim.uut.write_data.next = wd.to_bits();
        sim.step();
        sim.uut.read_data.val().to_u64()
    }

    #[test]
    fn nibble_writes_and_no_change_reads() {
        let mut ram = CycleSim::new(Spram::<4>::new(10), |r| &mut r.clock).unwrap();
        edge(&mut ram, 3, true, 0xF, 0x1234);
        assert_eq!(edge(&mut ram, 3, false, 0, 0), 0x1234);
        // A write leaves the read register alone.
        assert_eq!(edge(&mut ram, 3, true, 0b0110, 0xABCD), 0x1234);
        // Only nibbles 1 and 2 changed.
        assert_eq!(edge(&mut ram, 3, false, 0, 0), 0x1BC4);
        edge(&mut ram, 9, true, 0b1100, 0x5600);
        edge(&mut ram, 9, true, 0b0011, 0x0078);
        assert_eq!(edge(&mut ram, 9, false, 0, 0), 0x5678);
    }
}
