//! [`Ram`]: a simple dual-port synchronous RAM with a runtime depth and stored width.
//!
//! * One write port (`write_address`, `write_data`, `write_enable`) and one read port
//!   (`read_address` → `read_data`), both on the rising edge of `clock`.
//! * `read_data` is registered: it shows the word at the `read_address` presented at the
//!   previous edge.
//! * A read and a write of the same word at the same edge (a collision) give an
//!   **undefined** read: the Verilog marks the array `(* no_rw_check *)`, so yosys maps
//!   it to block RAM without the bypass registers and muxes it would otherwise add to
//!   emulate read-first (on the iCE40 core at N=16 they were ~500 flip-flops and ~300
//!   LUTs). So that no test can pass by luck, both simulations *poison* a collided read:
//!   rust-hdl's and Verilator's (`ifdef VERILATOR`) return the bitwise complement of the
//!   old word. The engine never uses a collided read; the bit-exact engine and
//!   co-simulation tests would fail if it did.
//! * `depth` words (a constructor argument, any value ≥ 1, emitted as the Verilog array
//!   size); only `ceil(log2(depth))` address bits are used: addresses ≥ depth must never
//!   be written (the simulation panics) and read only if the result is ignored.
//! * `stored` bits per word (≤ `D`); `read_data` is the stored word sign- or
//!   zero-extended to `D` bits, so 8-bit weights do not occupy 16-bit words.
//! * No init file: the contents power up unknown. The simulation fills them with a
//!   deterministic garbage pattern so that a test notices any word that is read before
//!   it is written (the engine clears every memory with its power-on full reset).
//!
//! The Verilog is the form yosys maps to block RAM:
//! `(* no_rw_check *) reg [S-1:0] mem [0:depth-1]; always @(posedge clock) begin if (we)
//! mem[wa] <= wd; rd <= mem[ra]; end`, plus a combinational extension of `rd` (and,
//! under Verilator only, the collision poison). Unused high address and
//! data bits feed a wire named `unused_*` (Verilator's default `--unused-regexp`).

use rust_hdl::prelude::*;

use super::reg::verilog_range;

/// Simple dual-port synchronous RAM: `depth` words of `stored` bits, `A`-bit addresses,
/// `D`-bit data ports.
#[derive(LogicBlock)]
pub struct Ram<const A: usize, const D: usize> {
    /// Clock (both ports).
    pub clock: Signal<In, Clock>,
    /// Word read at this edge; its value appears on `read_data` after the edge.
    pub read_address: Signal<In, Bits<A>>,
    /// Registered read data (extended from `stored` to `D` bits).
    pub read_data: Signal<Out, Bits<D>>,
    /// Word written at this edge if `write_enable`.
    pub write_address: Signal<In, Bits<A>>,
    /// Data to write (only the low `stored` bits are kept).
    pub write_data: Signal<In, Bits<D>>,
    /// Write strobe.
    pub write_enable: Signal<In, Bit>,
    _mem: Vec<Bits<D>>,
    _depth: usize,
    _stored: usize,
    _signed: bool,
}

/// `depth` pseudo-random 64-bit values (xorshift), the simulated power-up contents of a
/// memory of `depth` words ([`Ram`], [`super::Spram`]): never-written words read as
/// garbage, so a test notices a read before a write.
pub(crate) fn power_up_pattern(depth: usize) -> impl Iterator<Item = u64> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (depth as u64);
    (0..depth).map(move |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    })
}

/// Address bits needed for `depth` words (at least 1).
pub fn address_bits(depth: usize) -> usize {
    (usize::BITS - (depth.max(2) - 1).leading_zeros()) as usize
}

impl<const A: usize, const D: usize> Ram<A, D> {
    /// A RAM of `depth` words, each `stored` bits wide (`1 <= stored <= D`), extended to
    /// `D` bits on read: sign extension if `signed`, else zero extension.
    pub fn new(depth: usize, stored: usize, signed: bool) -> Self {
        assert!(depth >= 1, "Ram depth must be at least 1");
        assert!(
            address_bits(depth) <= A,
            "Ram depth {depth} needs more than {A} address bits"
        );
        assert!(
            stored >= 1 && stored <= D,
            "stored width {stored} not in 1..={D}"
        );
        assert!(stored == D || D <= 64, "extension only for D <= 64");
        let mut ram = Self {
            clock: Default::default(),
            read_address: Default::default(),
            read_data: Default::default(),
            write_address: Default::default(),
            write_data: Default::default(),
            write_enable: Default::default(),
            _mem: Vec::with_capacity(depth),
            _depth: depth,
            _stored: stored,
            _signed: signed,
        };
        // Deterministic garbage (a power-up pattern), so unwritten words are noticed.
        for x in power_up_pattern(depth) {
            let mut word = Bits::<D>::default();
            for b in 0..D {
                let bit = (x.rotate_left(b as u32) ^ (b as u64 * 0x5851)) & 1 == 1;
                word = word.replace_bit(b, bit);
            }
            ram._mem.push(ram.extend(word));
        }
        ram
    }

    /// A RAM whose words are exactly `D` bits.
    pub fn plain(depth: usize) -> Self {
        Self::new(depth, D, false)
    }

    /// Number of words.
    pub fn depth(&self) -> usize {
        self._depth
    }

    /// The word `value` as it reads back: truncated to `stored` bits, then extended.
    fn extend(&self, value: Bits<D>) -> Bits<D> {
        if self._stored == D {
            return value;
        }
        let s = self._stored;
        let raw = value.to_u64() & ((1u64 << s) - 1);
        let ext = if self._signed && (raw >> (s - 1)) & 1 == 1 {
            raw | (u64::MAX << s)
        } else {
            raw
        };
        let mask = if D >= 64 { u64::MAX } else { (1u64 << D) - 1 };
        (ext & mask).to_bits()
    }
}

impl<const A: usize, const D: usize> Logic for Ram<A, D> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let ra = self.read_address.val().to_u64() as usize;
            let wa = self.write_address.val().to_u64() as usize;
            let low = (1usize << address_bits(self._depth)) - 1;
            let collision = self.write_enable.val() && ra & low == wa & low;
            self.read_data.next = if ra >= self._depth {
                // Verilog gives X here; the caller ignores it.
                Bits::<D>::default()
            } else if collision {
                // Undefined on the FPGA: poisoned, as in the Verilator build.
                self.extend(!self._mem[ra])
            } else {
                self._mem[ra]
            };
            if self.write_enable.val() {
                assert!(
                    wa < self._depth,
                    "Ram write to address {wa} >= depth {}",
                    self._depth
                );
                self._mem[wa] = self.extend(self.write_data.val());
            }
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        let k = address_bits(self._depth);
        let s = self._stored;
        let wd = if s == D {
            "write_data".to_string()
        } else if s == 1 {
            "write_data[0]".to_string()
        } else {
            format!("write_data[{}:0]", s - 1)
        };
        let ext = if s == D {
            "rd".to_string()
        } else if self._signed {
            format!("{{{{{}{{rd[{}]}}}}, rd}}", D - s, s - 1)
        } else {
            format!("{{{}'b0, rd}}", D - s)
        };
        let mut unused = vec![];
        if k < A {
            unused.push(format!("read_address[{}:{}]", A - 1, k));
            unused.push(format!("write_address[{}:{}]", A - 1, k));
        }
        if s < D {
            unused.push(format!("write_data[{}:{}]", D - 1, s));
        }
        let unused = if unused.is_empty() {
            String::new()
        } else {
            format!("wire unused_bits = ^{{{}}};\n", unused.join(", "))
        };
        Verilog::Custom(format!(
            "(* no_rw_check *) reg {r}mem [0:{last}];\n\
             reg {r}rd;\n\
             always @(posedge clock) begin\n\
             \x20   if (write_enable) mem[write_address[{k1}:0]] <= {wd};\n\
             `ifdef VERILATOR\n\
             \x20   // A collided read is undefined on the FPGA: poison it in simulation.\n\
             \x20   if (write_enable && write_address[{k1}:0] == read_address[{k1}:0])\n\
             \x20       rd <= ~mem[read_address[{k1}:0]];\n\
             \x20   else\n\
             \x20       rd <= mem[read_address[{k1}:0]];\n\
             `else\n\
             \x20   rd <= mem[read_address[{k1}:0]];\n\
             `endif\n\
             end\n\
             always @(*) read_data = {ext};\n\
             {unused}",
            r = verilog_range(s),
            last = self._depth - 1,
            k1 = k - 1,
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "ram".into(),
            clock: "clock".into(),
            inputs: vec![
                "read_address".into(),
                "write_address".into(),
                "write_data".into(),
                "write_enable".into(),
            ],
            outputs: vec!["read_data".into()],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cyclesim::CycleSim;

    /// Writes `wd` to `wa` and reads `ra` at one edge; returns the read.
    fn edge(sim: &mut CycleSim<Ram<4, 8>>, wa: u64, wd: u64, we: bool, ra: u64) -> u64 {
        sim.uut.write_address.next = wa.to_bits();
        sim.uut.write_data.next = wd.to_bits();
        sim.uut.write_enable.next = we;
        sim.uut.read_address.next = ra.to_bits();
        sim.step();
        sim.uut.read_data.val().to_u64()
    }

    #[test]
    fn collided_reads_are_poisoned_and_others_are_not() {
        let mut ram = CycleSim::new(Ram::<4, 8>::new(10, 6, true), |r| &mut r.clock).unwrap();
        edge(&mut ram, 3, 0x15, true, 0);
        edge(&mut ram, 4, 0x2A, true, 0);
        // A plain read: the stored 6 bits, sign-extended.
        assert_eq!(edge(&mut ram, 0, 0, false, 3), 0x15);
        assert_eq!(edge(&mut ram, 0, 0, false, 4), 0xEA);
        // Writing 4 while reading 3: no collision, old data of 3.
        assert_eq!(edge(&mut ram, 4, 0x01, true, 3), 0x15);
        // Writing 3 while reading 3: undefined on the FPGA, so the complement of the
        // old word (0x15 → !0x15 = 0x2A in 6 bits, sign-extended).
        assert_eq!(edge(&mut ram, 3, 0x07, true, 3), 0xEA);
        // The write itself happened.
        assert_eq!(edge(&mut ram, 0, 0, false, 3), 0x07);
    }

    #[test]
    fn address_bits_of_depths() {
        assert_eq!(address_bits(1), 1);
        assert_eq!(address_bits(2), 1);
        assert_eq!(address_bits(3), 2);
        assert_eq!(address_bits(4), 2);
        assert_eq!(address_bits(5), 3);
        assert_eq!(address_bits(4096), 12);
    }
}
