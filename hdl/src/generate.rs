//! From a [`CoreConfig`] to Verilog: [`generate_core`] and the report that goes with it.

use neurofab_proto::{bitmap_bytes, CoreConfig, WeightMemory};
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

/// The memories of a core (docs/hdl.md, "Engine", and the receive path).
pub fn memories(cfg: &CoreConfig) -> Vec<MemoryInfo> {
    let p = cfg.lanes as usize;
    let n = cfg.neurons();
    let s = cfg.sources();
    let g = cfg.groups();
    let w = cfg.shape.weight_bits as usize;
    let r = cfg.replay_depth as usize;
    let mem = |name, instances, words, bits| MemoryInfo {
        name,
        instances,
        words,
        bits,
    };
    let synapse_memories = match cfg.weight_memory {
        WeightMemory::Block => vec![
            mem("weights (lane banks)", p, s * g, w),
            mem("plasticity mask (lane banks)", p, s * g, 1),
        ],
        WeightMemory::Spram => vec![
            mem(
                "weights (SPRAM, 16-bit words)",
                1,
                cfg.spram_weight_words(),
                16,
            ),
            mem(
                "plasticity mask (SPRAM, 16 per word)",
                1,
                cfg.spram_mask_words(),
                16,
            ),
        ],
    };
    synapse_memories
        .into_iter()
        .chain([
            mem("neuron parameters", 1, n, 96),
            mem("v, i, r", 1, n, 40),
            mem("post-traces y (lane banks)", p, g, 8),
            mem("pre-traces x (lane banks)", p, s.div_ceil(p), 8),
            mem("synaptic sums (lane banks)", p, g, 29),
            mem("active sources", 1, s, 1),
            mem("source list", 1, s, 28),
            mem("fired list", 1, n, 28),
            mem("replay store (F bitmaps)", 1, r * bitmap_bytes(n), 8),
            mem("replay counts", 1, r, 13),
            mem("receive ring", 1, cfg.rx_buffer as usize, 8),
        ])
        .collect()
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

/// Cycles of a STEP that do not scale with the network: 5 phase changes and the 4 extra
/// stages of the pipelined neuron update draining before potentiation (docs/hdl.md,
/// "Engine pipelines").
pub const STEP_FIXED_CYCLES: u64 = 9;

/// Clock cycles the engine needs for one STEP (docs/hdl.md, "Phases and exact cycles";
/// checked cycle by cycle by `hdl/tests/engine.rs`):
///
/// `S + N + 9 + (L > 0 ? G·(L + 5) : G) + (learning ? F·(C + 3) + 1 : 0)`
///
/// with S = M + N sources, G = ceil(N/P) groups, C = ceil(S/P) column chunks,
/// L = |S(t)| active sources and F = |F(t)| neurons fired. With SPRAM weights and
/// learning on, delivery and potentiation read every other cycle (the write-back takes
/// the single port in between): `G·(2L + 4)` and `F·(2C + 2) + 1`.
pub fn step_cycles(cfg: &CoreConfig, active_sources: u64, fired: u64, learning: bool) -> u64 {
    let k = PhaseCycles::of(cfg, learning);
    let s = cfg.sources() as u64;
    let n = cfg.neurons() as u64;
    let g = cfg.groups() as u64;
    let c = s.div_ceil(cfg.lanes as u64);
    let deliver = match active_sources {
        0 => g,
        l => g * (k.per_source * l + k.group_drain),
    };
    let potentiate = if learning {
        fired * (k.per_chunk * c + k.column_setup) + 1
    } else {
        0
    };
    s + n + STEP_FIXED_CYCLES + deliver + potentiate
}

/// Expected cycles per step when every neuron fires with probability `p_fire` and every
/// input with probability `p_input` per step (the means of L and F).
pub fn expected_step_cycles(cfg: &CoreConfig, p_fire: f64, p_input: f64, learning: bool) -> f64 {
    let k = PhaseCycles::of(cfg, learning);
    let n = cfg.neurons() as f64;
    let f = p_fire * n;
    let l = f + p_input * cfg.inputs() as f64;
    let s = cfg.sources() as f64;
    let g = cfg.groups() as f64;
    let c = (s / cfg.lanes as f64).ceil();
    // L > 0 almost always at these rates; G·(a·L + b) is linear in L, so the mean is exact.
    let deliver = g * (k.per_source as f64 * l + k.group_drain as f64);
    let potentiate = if learning {
        f * (k.per_chunk as f64 * c + k.column_setup as f64) + 1.0
    } else {
        0.0
    };
    s + n + STEP_FIXED_CYCLES as f64 + deliver + potentiate
}

/// The coefficients of the delivery term G·(per_source·L + group_drain) and the
/// potentiation term F·(per_chunk·C + column_setup) + 1: 1, 5, 1, 3, or with SPRAM weights
/// and learning on (a read every other cycle) 2, 4, 2, 2.
struct PhaseCycles {
    per_source: u64,
    group_drain: u64,
    per_chunk: u64,
    column_setup: u64,
}

impl PhaseCycles {
    fn of(cfg: &CoreConfig, learning: bool) -> PhaseCycles {
        if learning && cfg.weight_memory == WeightMemory::Spram {
            PhaseCycles {
                per_source: 2,
                group_drain: 4,
                per_chunk: 2,
                column_setup: 2,
            }
        } else {
            PhaseCycles {
                per_source: 1,
                group_drain: 5,
                per_chunk: 1,
                column_setup: 3,
            }
        }
    }
}

impl GeneratedCore {
    /// A human-readable report: configuration, memories, cycle model, Verilog hash.
    pub fn report(&self) -> String {
        use std::fmt::Write;
        let c = &self.config;
        let mut r = String::new();
        let _ = writeln!(r, "neurofab core");
        let _ = writeln!(
            r,
            "  neurons N = {}, inputs M = {}, weight bits W = {}, lanes P = {}, weights in {}",
            c.shape.neurons,
            c.shape.inputs,
            c.shape.weight_bits,
            c.lanes,
            match c.weight_memory {
                WeightMemory::Block => "block RAM".to_string(),
                WeightMemory::Spram => format!("SPRAM ({} of 16 K × 16 bit)", c.spram_blocks()),
            }
        );
        let _ = writeln!(
            r,
            "  clock {} Hz, UART {} baud ({} cycles per bit), step window {}, replay depth {}, receive ring {} B",
            c.clock_hz,
            c.baud,
            c.cycles_per_bit(),
            c.step_window,
            c.replay_depth,
            c.rx_buffer
        );
        let _ = writeln!(
            r,
            "  verilog: {} bytes, FNV-1a {:016x}",
            self.verilog.len(),
            self.verilog_hash
        );
        let _ = writeln!(
            r,
            "memories (no init files: cleared by the power-on full reset)"
        );
        let mut total = 0;
        for m in memories(c) {
            let _ = writeln!(
                r,
                "  {:<34} {:>2} x {:>8} words x {:>2} bits = {:>9} bits",
                m.name,
                m.instances,
                m.words,
                m.bits,
                m.total_bits()
            );
            total += m.total_bits();
        }
        let _ = writeln!(
            r,
            "  total {total} bits ({:.1} kbit)",
            total as f64 / 1024.0
        );
        let _ = writeln!(
            r,
            "cycles per step (docs/hdl.md): S + N + 9 + G·(L + 5) + [learning] F·(C + 3) + 1"
        );
        let _ = writeln!(
            r,
            "  S = M+N = {}, G = ceil(N/P) = {}, C = ceil(S/P) = {}; L = active sources, F = fired neurons",
            c.sources(),
            c.groups(),
            c.sources().div_ceil(c.lanes as usize)
        );
        for (label, p) in [
            ("15 Hz at 1 ms/step (1.5 %)", 0.015),
            ("5 % per step", 0.05),
            ("15 % per step", 0.15),
        ] {
            let off = expected_step_cycles(c, p, p, false);
            let on = expected_step_cycles(c, p, p, true);
            let _ = writeln!(
                r,
                "  {label:<27} STDP off {off:>8.0} cycles ({:>8.0} steps/s), on {on:>8.0} cycles ({:>8.0} steps/s)",
                c.clock_hz as f64 / off,
                c.clock_hz as f64 / on
            );
        }
        r
    }

    /// Writes `neurofab_core.v` and `report.txt` into `dir` (created if missing); returns
    /// the paths written.
    pub fn write_to(&self, dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let v = dir.join("neurofab_core.v");
        std::fs::write(&v, &self.verilog)?;
        let rep = dir.join("report.txt");
        std::fs::write(&rep, self.report())?;
        Ok(vec![v, rep])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_core_meets_the_step_budget_at_15_hz() {
        // Issue 3: N = 256 at about 15 Hz with STDP on, at most 2,000 cycles per step.
        let cfg = CoreConfig::DEFAULT;
        let c = expected_step_cycles(&cfg, 0.015, 0.015, true);
        assert!(c < 2000.0, "{c}");
        // The formula at a concrete step: 5 sources active, 4 fired, learning on.
        assert_eq!(
            step_cycles(&cfg, 5, 4, true),
            320 + 256 + 9 + 64 * 10 + 4 * 83 + 1
        );
        assert_eq!(step_cycles(&cfg, 0, 0, false), 320 + 256 + 9 + 64);
    }

    #[test]
    fn report_names_memories_and_hash() {
        let cfg = CoreConfig {
            lanes: 2,
            ..CoreConfig::with_shape(neurofab_proto::CoreShape {
                neurons: 6,
                inputs: 2,
                weight_bits: 4,
            })
        };
        let g = generate_core(&cfg).unwrap();
        let r = g.report();
        assert!(
            r.contains("weights (lane banks)") && r.contains(&format!("{:016x}", g.verilog_hash))
        );
        let dir = std::env::temp_dir().join(format!("nf-gen-{}", std::process::id()));
        let files = g.write_to(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), g.verilog);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
