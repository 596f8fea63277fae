//! [`WeightBank`]: one lane's synapse weights and plasticity masks, in simple dual-port
//! block RAM or in iCE40 UltraPlus single-port SPRAM (`CoreConfig::weight_memory`;
//! docs/hdl.md, "Weight memory").
//!
//! Both forms have the same ports and the same read timing: `read_data` and `read_mask`
//! show the synapse at the `read_address` presented at the previous edge.
//!
//! * **Block RAM** (`WeightMemory::Block`): a weight [`Ram`] (W bits per word, read
//!   sign-extended) and a mask [`Ram`] (1 bit). A read and a write happen in the same
//!   cycle; `read_enable` is ignored (every cycle reads).
//! * **SPRAM** (`WeightMemory::Spram`, one lane only): one port per memory, so
//!   - weights: two per 16-bit word when W ≤ 8 (synapse address `a` at word `a/2`, byte
//!     `a mod 2`, written with the SPRAM's nibble enables, no read-modify-write), else one;
//!   - masks: 16 per word in their own SPRAM (bit `a mod 16` of word `a/16`);
//!   - a read happens only when `read_enable` is high, and then it has the port: a
//!     weight write arriving in the same cycle waits in a one-entry buffer and is
//!     written in the next cycle without a read. The engine reads at most every other
//!     cycle while it writes (learning on), so the buffer never overflows and a write
//!     lands at most one cycle late;
//!   - a host mask write (`mask_write_enable`) is a read-modify-write over two cycles
//!     (read the word, write it with one bit replaced); no other mask access may come
//!     in the second cycle. `mask_clear` writes a whole mask word of zeros at once
//!     (the full reset walks every synapse address, so every word is cleared).
//!
//! In the block-RAM form the SPRAM part is one word deep and unused (and vice versa);
//! yosys removes the unused part, since a constant selects the outputs.

use neurofab_proto::{CoreConfig, WeightMemory};
use rust_hdl::prelude::*;

use crate::widgets::ram::address_bits;
use crate::widgets::{NarrowReg, Ram, Spram};

/// Synapse address width (the engine's weight-bank address).
pub const SYN_W: usize = super::engine::WADDR_W;
/// Weight width on the lane datapath (sign-extended from W).
pub const WORD_W: usize = super::engine::WEIGHT_W;
/// SPRAM word address of the weights: up to 4 × 16 K words.
const WSP_A: usize = 16;
/// SPRAM word address of the masks: one SPRAM.
const MSP_A: usize = 14;

/// The weight of a synapse from its SPRAM word: byte `hi` (two weights per word) or the
/// whole word, sign-extended from W bits (leaf, custom Verilog).
#[derive(LogicBlock)]
pub struct WeightUnpack {
    pub word: Signal<In, Bits<16>>,
    pub hi: Signal<In, Bit>,
    pub weight: Signal<Out, Bits<WORD_W>>,
    _w_bits: usize,
    _pair: bool,
}

impl WeightUnpack {
    fn new(w_bits: usize, pair: bool) -> Self {
        assert!((1..=16).contains(&w_bits) && (!pair || w_bits <= 8));
        Self {
            word: Default::default(),
            hi: Default::default(),
            weight: Default::default(),
            _w_bits: w_bits,
            _pair: pair,
        }
    }
}

impl Logic for WeightUnpack {
    fn update(&mut self) {
        let word = self.word.val().to_u64();
        let raw = if self._pair && self.hi.val() {
            word >> 8
        } else {
            word
        };
        let w = self._w_bits;
        let field = raw & ((1u64 << w) - 1);
        let value = if (field >> (w - 1)) & 1 == 1 {
            field | (u64::MAX << w)
        } else {
            field
        };
        self.weight.next = (value & 0xFFFF).to_bits();
    }

    fn connect(&mut self) {
        self.weight.connect();
    }

    fn hdl(&self) -> Verilog {
        let w = self._w_bits;
        let (sel, unused) = if self._pair {
            (
                "wire [7:0] byte_sel = hi ? word[15:8] : word[7:0];\n",
                if w < 8 {
                    format!("wire unused_bits = ^byte_sel[7:{w}];\n")
                } else {
                    String::new()
                },
            )
        } else {
            (
                "wire [15:0] byte_sel = word;\nwire unused_hi = hi;\n",
                if w < 16 {
                    format!("wire unused_bits = ^byte_sel[15:{w}];\n")
                } else {
                    String::new()
                },
            )
        };
        let ext = if w == 16 {
            "byte_sel".to_string()
        } else {
            format!(
                "{{{{{}{{byte_sel[{}]}}}}, byte_sel[{}:0]}}",
                16 - w,
                w - 1,
                w - 1
            )
        };
        Verilog::Custom(format!("{sel}{unused}always @(*) weight = {ext};\n"))
    }
}

/// One lane's weights and masks (see the module docs).
#[derive(LogicBlock)]
pub struct WeightBank {
    pub clock: Signal<In, Clock>,
    /// SPRAM: read `read_address` at this edge (block RAM: ignored, every edge reads).
    pub read_enable: Signal<In, Bit>,
    pub read_address: Signal<In, Bits<SYN_W>>,
    /// The weight (sign-extended from W) read at the previous edge.
    pub read_data: Signal<Out, Bits<WORD_W>>,
    /// The mask bit read at the previous edge.
    pub read_mask: Signal<Out, Bits<1>>,
    pub write_enable: Signal<In, Bit>,
    pub write_address: Signal<In, Bits<SYN_W>>,
    pub write_data: Signal<In, Bits<WORD_W>>,
    /// Set the mask of `mask_write_address` to `mask_write_data`.
    pub mask_write_enable: Signal<In, Bit>,
    pub mask_write_address: Signal<In, Bits<SYN_W>>,
    pub mask_write_data: Signal<In, Bits<1>>,
    /// Clear the mask of `mask_write_address` (SPRAM: and its 15 word neighbours).
    pub mask_clear: Signal<In, Bit>,
    // block RAM form
    wram: Ram<SYN_W, WORD_W>,
    mram: Ram<SYN_W, 1>,
    // SPRAM form
    wsp: Spram<WSP_A>,
    msp: Spram<MSP_A>,
    unpack: WeightUnpack,
    pend_v: DFF<Bit>,
    pend_addr: NarrowReg<SYN_W>,
    pend_data: DFF<Bits<WORD_W>>,
    hi_r: DFF<Bit>,
    mbit_r: DFF<Bits<4>>,
    rmw_v: DFF<Bit>,
    rmw_addr: NarrowReg<SYN_W>,
    rmw_data: DFF<Bits<1>>,
    // locals
    w_addr: Signal<Local, Bits<SYN_W>>,
    w_data: Signal<Local, Bits<WORD_W>>,
    w_go: Signal<Local, Bit>,
    w_word: Signal<Local, Bits<SYN_W>>,
    r_word: Signal<Local, Bits<SYN_W>>,
    m_waddr: Signal<Local, Bits<SYN_W>>,
    m_raddr: Signal<Local, Bits<SYN_W>>,
    m_rmwaddr: Signal<Local, Bits<SYN_W>>,
    m_shifted: Signal<Local, Bits<16>>,
    m_onehot: Signal<Local, Bits<16>>,
    m_word: Signal<Local, Bits<16>>,
    /// High bits of the shifted addresses that no SPRAM uses (Verilator exempts `*unused*`).
    unused_bits: Signal<Local, Bit>,
    // constants
    k_spram: Constant<Bit>,
    k_pair: Constant<Bit>,
    k_wshift: Constant<Bits<4>>,
    k_mshift: Constant<Bits<4>>,
    k_byte: Constant<Bits<4>>,
    k_low8: Constant<Bits<16>>,
    k_one16: Constant<Bits<16>>,
    k_zero16: Constant<Bits<16>>,
    k_all: Constant<Bits<4>>,
    k_zero1: Constant<Bits<1>>,
    k_lo_nibbles: Constant<Bits<4>>,
    k_hi_nibbles: Constant<Bits<4>>,
}

impl WeightBank {
    /// The bank of a core `cfg` with `depth` synapse addresses (`(M+N)·G`).
    pub fn new(cfg: &CoreConfig, depth: usize) -> Self {
        let w_bits = cfg.shape.weight_bits as usize;
        let spram = cfg.weight_memory == WeightMemory::Spram;
        let pair = cfg.spram_weights_per_word() == 2;
        let (ram_depth, wsp_depth, msp_depth) = if spram {
            (1, cfg.spram_weight_words(), cfg.spram_mask_words())
        } else {
            (depth, 1, 1)
        };
        assert!(!spram || cfg.lanes == 1, "SPRAM weights need one lane");
        assert!(address_bits(wsp_depth) <= WSP_A && address_bits(msp_depth) <= MSP_A);
        let max_addr = depth.max(1) as u64 - 1;
        Self {
            clock: Default::default(),
            read_enable: Default::default(),
            read_address: Default::default(),
            read_data: Default::default(),
            read_mask: Default::default(),
            write_enable: Default::default(),
            write_address: Default::default(),
            write_data: Default::default(),
            mask_write_enable: Default::default(),
            mask_write_address: Default::default(),
            mask_write_data: Default::default(),
            mask_clear: Default::default(),
            wram: Ram::new(ram_depth, w_bits, true),
            mram: Ram::plain(ram_depth),
            wsp: Spram::new(wsp_depth),
            msp: Spram::new(msp_depth),
            unpack: WeightUnpack::new(w_bits, pair),
            pend_v: Default::default(),
            pend_addr: NarrowReg::holding(max_addr),
            pend_data: Default::default(),
            hi_r: Default::default(),
            mbit_r: Default::default(),
            rmw_v: Default::default(),
            rmw_addr: NarrowReg::holding(max_addr),
            rmw_data: Default::default(),
            w_addr: Default::default(),
            w_data: Default::default(),
            w_go: Default::default(),
            w_word: Default::default(),
            r_word: Default::default(),
            m_waddr: Default::default(),
            m_raddr: Default::default(),
            m_rmwaddr: Default::default(),
            m_shifted: Default::default(),
            m_onehot: Default::default(),
            m_word: Default::default(),
            unused_bits: Default::default(),
            k_spram: Constant::new(spram),
            k_pair: Constant::new(pair),
            k_wshift: Constant::new((pair as u64).to_bits()),
            k_mshift: Constant::new(4u64.to_bits()),
            k_byte: Constant::new(8u64.to_bits()),
            k_low8: Constant::new(0xFFu64.to_bits()),
            k_one16: Constant::new(1u64.to_bits()),
            k_zero16: Constant::new(0u64.to_bits()),
            k_all: Constant::new(0xFu64.to_bits()),
            k_zero1: Constant::new(0u64.to_bits()),
            k_lo_nibbles: Constant::new(0x3u64.to_bits()),
            k_hi_nibbles: Constant::new(0xCu64.to_bits()),
        }
    }
}

impl Logic for WeightBank {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, pend_v, pend_addr, pend_data, hi_r, mbit_r, rmw_v, rmw_addr, rmw_data
        );
        self.wram.clock.next = self.clock.val();
        self.mram.clock.next = self.clock.val();
        self.wsp.clock.next = self.clock.val();
        self.msp.clock.next = self.clock.val();

        // ---- block RAM form ----
        self.wram.read_address.next = self.read_address.val();
        self.wram.write_address.next = self.write_address.val();
        self.wram.write_data.next = self.write_data.val();
        self.wram.write_enable.next = self.write_enable.val() & !self.k_spram.val();
        self.mram.read_address.next = self.read_address.val();
        self.mram.write_address.next = self.mask_write_address.val();
        self.mram.write_data.next = self.mask_write_data.val();
        if self.mask_clear.val() {
            self.mram.write_data.next = self.k_zero1.val();
        }
        self.mram.write_enable.next =
            (self.mask_write_enable.val() | self.mask_clear.val()) & !self.k_spram.val();

        // ---- SPRAM form: weights. A read has the port; a write goes now if the port is
        // free, else it waits one cycle in the pending register. ----
        self.w_go.next = false;
        self.w_addr.next = self.write_address.val();
        self.w_data.next = self.write_data.val();
        if !self.read_enable.val() {
            if self.pend_v.q.val() {
                self.w_go.next = true;
                self.w_addr.next = self.pend_addr.q.val();
                self.w_data.next = self.pend_data.q.val();
                self.pend_v.d.next = self.write_enable.val();
                self.pend_addr.d.next = self.write_address.val();
                self.pend_data.d.next = self.write_data.val();
            } else {
                self.w_go.next = self.write_enable.val();
            }
        } else if self.write_enable.val() {
            self.pend_v.d.next = true;
            self.pend_addr.d.next = self.write_address.val();
            self.pend_data.d.next = self.write_data.val();
        }
        self.wsp.write_enable.next = self.w_go.val() & self.k_spram.val();
        self.w_word.next = self.w_addr.val() >> self.k_wshift.val();
        self.r_word.next = self.read_address.val() >> self.k_wshift.val();
        if self.w_go.val() {
            self.wsp.address.next = self.w_word.val().get_bits::<WSP_A>(0);
        } else {
            self.wsp.address.next = self.r_word.val().get_bits::<WSP_A>(0);
        }
        if self.k_pair.val() {
            self.wsp.write_data.next = (self.w_data.val() & self.k_low8.val())
                | ((self.w_data.val() & self.k_low8.val()) << self.k_byte.val());
            if self.w_addr.val().get_bit(0) {
                self.wsp.nibble_enable.next = self.k_hi_nibbles.val();
            } else {
                self.wsp.nibble_enable.next = self.k_lo_nibbles.val();
            }
        } else {
            self.wsp.write_data.next = self.w_data.val();
            self.wsp.nibble_enable.next = self.k_all.val();
        }
        // The byte and mask-bit selects hold between reads, as the SPRAM outputs do.
        if self.read_enable.val() {
            self.hi_r.d.next = self.read_address.val().get_bit(0);
            self.mbit_r.d.next = self.read_address.val().get_bits::<4>(0);
        }
        self.unpack.word.next = self.wsp.read_data.val();
        self.unpack.hi.next = self.hi_r.q.val();

        // ---- SPRAM form: masks ----
        self.m_onehot.next = self.k_one16.val() << self.rmw_addr.q.val().get_bits::<4>(0);
        self.m_word.next = self.msp.read_data.val() & !self.m_onehot.val();
        if self.rmw_data.q.val().any() {
            self.m_word.next = self.msp.read_data.val() | self.m_onehot.val();
        }
        self.msp.nibble_enable.next = self.k_all.val();
        self.msp.write_enable.next = false;
        self.msp.write_data.next = self.k_zero16.val();
        self.m_raddr.next = self.read_address.val() >> self.k_mshift.val();
        self.m_waddr.next = self.mask_write_address.val() >> self.k_mshift.val();
        self.m_rmwaddr.next = self.rmw_addr.q.val() >> self.k_mshift.val();
        self.msp.address.next = self.m_raddr.val().get_bits::<MSP_A>(0);
        self.rmw_v.d.next = false;
        if self.rmw_v.q.val() {
            // Second cycle of a host mask write: the word read in the first, one bit set.
            self.msp.write_enable.next = self.k_spram.val();
            self.msp.write_data.next = self.m_word.val();
            self.msp.address.next = self.m_rmwaddr.val().get_bits::<MSP_A>(0);
        } else if self.mask_clear.val() {
            self.msp.write_enable.next = self.k_spram.val();
            self.msp.address.next = self.m_waddr.val().get_bits::<MSP_A>(0);
        } else if self.mask_write_enable.val() {
            self.msp.address.next = self.m_waddr.val().get_bits::<MSP_A>(0);
            self.rmw_v.d.next = true;
            self.rmw_addr.d.next = self.mask_write_address.val();
            self.rmw_data.d.next = self.mask_write_data.val();
        }

        // ---- outputs ----
        self.m_shifted.next = self.msp.read_data.val() >> self.mbit_r.q.val();
        if self.k_spram.val() {
            self.read_data.next = self.unpack.weight.val();
            self.read_mask.next = self.m_shifted.val().get_bits::<1>(0);
        } else {
            self.read_data.next = self.wram.read_data.val();
            self.read_mask.next = self.mram.read_data.val();
        }
        self.unused_bits.next = self.w_word.val().get_bits::<9>(16).xor()
            ^ self.r_word.val().get_bits::<9>(16).xor()
            ^ self.m_waddr.val().get_bits::<11>(14).xor()
            ^ self.m_raddr.val().get_bits::<11>(14).xor()
            ^ self.m_rmwaddr.val().get_bits::<11>(14).xor()
            ^ self.m_shifted.val().get_bits::<15>(1).xor();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cyclesim::CycleSim;
    use neurofab_proto::CoreShape;
    use rand::{Rng, SeedableRng};

    /// One edge: inputs as given, returns (weight, mask) read out after it.
    struct Ops {
        read: Option<usize>,
        write: Option<(usize, i64)>,
        mask: Option<(usize, bool)>,
        clear: Option<usize>,
    }

    fn edge(sim: &mut CycleSim<WeightBank>, o: &Ops) -> (i64, bool) {
        let u = &mut sim.uut;
        u.read_enable.next = o.read.is_some();
        u.read_address.next = (o.read.unwrap_or(0) as u64).to_bits();
        u.write_enable.next = o.write.is_some();
        let (wa, wd) = o.write.unwrap_or((0, 0));
        u.write_address.next = (wa as u64).to_bits();
        u.write_data.next = ((wd as u64) & 0xFFFF).to_bits();
        u.mask_write_enable.next = o.mask.is_some();
        u.mask_clear.next = o.clear.is_some();
        let (ma, md) = o.mask.unwrap_or((o.clear.unwrap_or(0), false));
        u.mask_write_address.next = (ma as u64).to_bits();
        u.mask_write_data.next = (md as u64).to_bits();
        sim.step();
        let w = sim.uut.read_data.val().to_u64() as u16 as i16 as i64;
        (w, sim.uut.read_mask.val().any())
    }

    const IDLE: Ops = Ops {
        read: None,
        write: None,
        mask: None,
        clear: None,
    };

    /// The SPRAM form against a plain array, under the engine's rules: a read at most
    /// every other cycle while writing, at most one write per two cycles, no read of a
    /// synapse written in the last two cycles, a mask write followed by an idle mask
    /// cycle. Reads collide with writes often, so the pending write is exercised.
    fn spram_matches_an_array(w_bits: u8, neurons: u16, inputs: u16, seed: u64) {
        let cfg = CoreConfig {
            lanes: 1,
            weight_memory: WeightMemory::Spram,
            ..CoreConfig::with_shape(CoreShape {
                neurons,
                inputs,
                weight_bits: w_bits,
            })
        };
        cfg.validate().unwrap();
        let depth = cfg.sources() * cfg.groups();
        let mut sim = CycleSim::new(WeightBank::new(&cfg, depth), |b| &mut b.clock).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let half = 1i64 << (w_bits - 1);
        let mut weights = vec![0i64; depth];
        let mut masks = vec![false; depth];
        for (a, w) in weights.iter_mut().enumerate() {
            *w = rng.random_range(-half..half);
            let o = Ops {
                write: Some((a, *w)),
                clear: Some(a),
                ..IDLE
            };
            edge(&mut sim, &o);
        }
        let (mut last_read, mut last_write) = (false, false);
        let mut recent: Vec<usize> = vec![];
        let (mut reads, mut collisions, mut mask_writes) = (0, 0, 0);
        for _ in 0..4000 {
            if rng.random_bool(0.05) && !last_write {
                // A host mask write: two cycles with nothing else.
                let a = rng.random_range(0..depth);
                let v = rng.random_bool(0.5);
                masks[a] = v;
                let o = Ops {
                    mask: Some((a, v)),
                    ..IDLE
                };
                edge(&mut sim, &o);
                edge(&mut sim, &IDLE);
                mask_writes += 1;
                (last_read, last_write) = (false, false);
                recent.clear();
                continue;
            }
            let mut o = Ops { ..IDLE };
            if !last_read && rng.random_bool(0.7) {
                let a = loop {
                    let a = rng.random_range(0..depth);
                    if !recent.contains(&a) {
                        break a;
                    }
                };
                o.read = Some(a);
            }
            if !last_write && rng.random_bool(0.6) {
                let a = rng.random_range(0..depth);
                if o.read != Some(a) {
                    let w = rng.random_range(-half..half);
                    weights[a] = w;
                    o.write = Some((a, w));
                }
            }
            if o.read.is_some() && o.write.is_some() {
                collisions += 1;
            }
            let (w, m) = edge(&mut sim, &o);
            if let Some(a) = o.read {
                assert_eq!((w, m), (weights[a], masks[a]), "read of synapse {a}");
                reads += 1;
            }
            recent.truncate(1);
            if let Some((a, _)) = o.write {
                recent.insert(0, a);
            }
            (last_read, last_write) = (o.read.is_some(), o.write.is_some());
        }
        assert!(reads > 1000 && collisions > 300 && mask_writes > 50);
    }

    #[test]
    fn spram_bank_matches_an_array() {
        spram_matches_an_array(6, 5, 3, 1);
        spram_matches_an_array(8, 7, 2, 2);
        spram_matches_an_array(12, 5, 3, 3);
    }
}
