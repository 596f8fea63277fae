//! [`ByteGather`]: the executor's data register, built byte by byte from a payload.
//!
//! rust-hdl kernels have no concatenation and widen only with masking `bit_cast`s
//! (Verilator WIDTH warnings), so assembling a 112-bit record from 8-bit payload
//! bytes is done here, in a register block that emits its own Verilog:
//!
//! * `shift`: `q <= {byte_in, q[N-1:8]}` — the byte enters at the top, so after
//!   `k` shifts the `k` bytes (first byte lowest) sit in `q[N-1 : N-8k]`, little-endian;
//!   `N/8` shifts leave a whole `N/8`-byte record in `q` exactly as on the wire.
//! * `load`: `q <= sign_extend(word)` — a 16-bit value widened to N bits.
//!
//! `load` wins over `shift`. The output depends on the register only, so a kernel may
//! drive the inputs and read `q` in the same `if` without a combinational loop.

use rust_hdl::prelude::*;

/// An `N`-bit register (`N` a multiple of 8, 16 ..= 128) with byte shift-in and a
/// sign-extending 16-bit load. Powers up to 0.
#[derive(Clone, Debug, LogicBlock, Default)]
pub struct ByteGather<const N: usize> {
    pub clock: Signal<In, Clock>,
    /// Shift `byte_in` in at the top at this edge.
    pub shift: Signal<In, Bit>,
    pub byte_in: Signal<In, Bits<8>>,
    /// Load `word` sign-extended at this edge (wins over `shift`).
    pub load: Signal<In, Bit>,
    pub word: Signal<In, Bits<16>>,
    pub q: Signal<Out, Bits<N>>,
}

impl<const N: usize> Logic for ByteGather<N> {
    fn update(&mut self) {
        const { assert!(N.is_multiple_of(8) && N >= 16 && N <= 128) };
        if self.clock.pos_edge() {
            if self.load.val() {
                let w = self.word.val().to_u64() as u16 as i16 as i128 as u128;
                let mask = if N == 128 {
                    u128::MAX
                } else {
                    (1u128 << N) - 1
                };
                self.q.next = to_bits::<N>(w & mask);
            } else if self.shift.val() {
                let old = from_bits(self.q.val());
                let byte = self.byte_in.val().to_u64() as u128;
                self.q.next = to_bits::<N>((old >> 8) | (byte << (N - 8)));
            }
        }
    }

    fn connect(&mut self) {
        self.q.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Wrapper(Wrapper {
            code: format!(
                "reg [{n1}:0] q$reg;\n\
                 initial q$reg = {N}'h0;\n\
                 always @(posedge clock) begin\n\
                 \x20   if (load) q$reg <= {{{{{ext}{{word[15]}}}}, word}};\n\
                 \x20   else if (shift) q$reg <= {{byte_in, q$reg[{n1}:8]}};\n\
                 end\n\
                 assign q = q$reg;\n",
                n1 = N - 1,
                ext = N - 16,
            ),
            cores: String::new(),
        })
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "byte_gather".into(),
            clock: "clock".into(),
            inputs: vec![
                "shift".into(),
                "byte_in".into(),
                "load".into(),
                "word".into(),
            ],
            outputs: vec!["q".into()],
        }]
    }
}

fn from_bits<const N: usize>(b: Bits<N>) -> u128 {
    let mut v = 0u128;
    for i in (0..N).rev() {
        v = (v << 1) | b.get_bit(i) as u128;
    }
    v
}

fn to_bits<const N: usize>(v: u128) -> Bits<N> {
    let mut b = Bits::<N>::default();
    for i in 0..N {
        b = b.replace_bit(i, (v >> i) & 1 == 1);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_little_endian_and_loads_sign_extended() {
        let mut g = ByteGather::<32>::default();
        g.connect_all();
        let edge = |g: &mut ByteGather<32>| {
            g.clock.next = Clock::from(false);
            crate::core::settle(g);
            g.clock.next = Clock::from(true);
            crate::core::settle(g);
        };
        for b in [0x11u64, 0x22, 0x33, 0x44] {
            g.shift.next = true;
            g.byte_in.next = b.to_bits();
            edge(&mut g);
        }
        assert_eq!(g.q.val().to_u64(), 0x4433_2211);
        g.load.next = true;
        g.word.next = 0xFFFEu64.to_bits();
        edge(&mut g);
        assert_eq!(g.q.val().to_u64(), 0xFFFF_FFFE);
    }
}

/// Byte `idx` of an `N`-bit value (byte 0 = bits 7..0): `y = x[8·idx +: 8]`; only the
/// low `ceil(log2(N/8))` bits of `idx` are decoded, and 0 past the end.
///
/// A leaf with its own Verilog because a rust-hdl kernel can only slice a named signal
/// (`(x >> s)[7:0]` is not Verilog) and a variable part-select makes Verilator warn
/// about the index width. The bits shifted out feed a wire named `unused_*`, which
/// Verilator's default `--unused-regexp` exempts.
#[derive(Clone, Debug, LogicBlock, Default)]
pub struct ByteSelect<const N: usize> {
    pub x: Signal<In, Bits<N>>,
    pub idx: Signal<In, Bits<16>>,
    pub y: Signal<Out, Bits<8>>,
}

impl<const N: usize> Logic for ByteSelect<N> {
    fn update(&mut self) {
        const { assert!(N.is_multiple_of(8) && N >= 16) };
        // Only the low index bits that can select a byte are decoded (as in the Verilog).
        let bytes = N / 8;
        let k = (usize::BITS - (bytes - 1).leading_zeros()).max(1) as usize;
        let i = (self.idx.val().to_u64() as usize) & ((1 << k) - 1);
        let mut y = 0u64;
        if i < N / 8 {
            for b in 0..8 {
                y |= (self.x.val().get_bit(8 * i + b) as u64) << b;
            }
        }
        self.y.next = y.to_bits();
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        // A byte multiplexer over the index bits that can select a byte (a shifter by
        // {idx, 3'b000} would be a 19-bit barrel shifter: thousands of LUTs for 224 bits).
        let bytes = N / 8;
        let k = (usize::BITS - (bytes - 1).leading_zeros()).max(1) as usize;
        let mut v = String::new();
        if k < 16 {
            v.push_str(&format!("wire unused_idx = ^idx[15:{k}];\n"));
        }
        v.push_str(&format!("always @(*) begin\n    case (idx[{}:0])\n", k - 1));
        for b in 0..bytes {
            v.push_str(&format!(
                "        {k}'d{b}: y = x[{hi}:{lo}];\n",
                hi = 8 * b + 7,
                lo = 8 * b
            ));
        }
        v.push_str("        default: y = 8'd0;\n    endcase\nend");
        Verilog::Custom(v)
    }
}
