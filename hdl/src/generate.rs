//! From a [`CoreConfig`] to Verilog: [`generate_core`] and the report that goes with it.

use neurofab_proto::{bitmap_bytes, CoreConfig};
use rust_hdl::prelude::*;

use crate::top::NeuroCore;

/// The generated core: Verilog text (top module `top`) and what it contains.
#[derive(Debug, Clone)]
pub struct GeneratedCore {
    pub config: CoreConfig,
    /// The whole design, one file; no memory initialisation files are needed (the core
    /// clears its memories itself at power-on, docs/rtl.md §4).
    pub verilog: String,
    /// FNV-1a hash of `verilog` (reported by builds, so a bitstream can be traced back
    /// to the exact Verilog the co-simulation tests verified).
    pub verilog_hash: u64,
}

/// One memory of the core: name, words, bits per word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryInfo {
    pub name: &'static str,
    pub instances: usize,
    pub words: usize,
    pub bits: usize,
}

impl MemoryInfo {
    pub fn total_bits(&self) -> usize {
        self.instances * self.words * self.bits
    }
}

/// The memories of a core (docs/rtl.md §5).
pub fn memories(cfg: &CoreConfig) -> Vec<MemoryInfo> {
    let p = cfg.lanes as usize;
    let n = cfg.neurons();
    let s = cfg.sources();
    let g = cfg.groups();
    let w = cfg.shape.weight_bits as usize;
    vec![
        MemoryInfo {
            name: "weights (per lane bank)",
            instances: p,
            words: s * g,
            bits: w,
        },
        MemoryInfo {
            name: "plasticity mask (per lane bank)",
            instances: p,
            words: s * g,
            bits: 1,
        },
        MemoryInfo {
            name: "neuron parameters",
            instances: 1,
            words: n,
            bits: 96,
        },
        MemoryInfo {
            name: "neuron state (v, i, r, y)",
            instances: 1,
            words: n,
            bits: 48,
        },
        MemoryInfo {
            name: "pre-traces x",
            instances: 1,
            words: s,
            bits: 8,
        },
        MemoryInfo {
            name: "replay store (F bitmaps)",
            instances: 1,
            words: cfg.replay_depth as usize * bitmap_bytes(n),
            bits: 8,
        },
        MemoryInfo {
            name: "receive ring",
            instances: 1,
            words: cfg.rx_buffer as usize,
            bits: 8,
        },
    ]
}

/// FNV-1a, 64 bit.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn verilog_for<const P: usize, const RA: usize>(cfg: &CoreConfig) -> String {
    let mut uut = NeuroCore::<P, RA>::new(cfg);
    uut.connect_all();
    generate_verilog(&uut)
}

/// Generates the core described by `cfg` (validated first).
pub fn generate_core(cfg: &CoreConfig) -> Result<GeneratedCore, neurofab_proto::ConfigError> {
    cfg.validate()?;
    let ra = cfg.rx_buffer.trailing_zeros() as usize;
    macro_rules! pick {
        ($($p:literal),*) => {
            match (cfg.lanes, ra) {
                $(
                    ($p, 11) => verilog_for::<$p, 11>(cfg),
                    ($p, 12) => verilog_for::<$p, 12>(cfg),
                    ($p, 13) => verilog_for::<$p, 13>(cfg),
                    ($p, 14) => verilog_for::<$p, 14>(cfg),
                    ($p, 15) => verilog_for::<$p, 15>(cfg),
                )*
                _ => unreachable!("validate() admits lanes 1, 2, 4, 8 and rings of 2^11 ..= 2^15 bytes"),
            }
        };
    }
    let verilog = pick!(1, 2, 4, 8);
    let verilog_hash = fnv1a(verilog.as_bytes());
    Ok(GeneratedCore {
        config: *cfg,
        verilog,
        verilog_hash,
    })
}
