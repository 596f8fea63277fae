//! The configuration of one hardware core: its shape (N, M, W) plus the
//! implementation choices that IDENTITY reports (lanes, clock, baud, buffer sizes).
//!
//! One value of [`CoreConfig`] determines the generated Verilog (`neurofab-hdl`),
//! the Verilator model (`neurofab-sim`), the protocol server that stands in for it,
//! and what the host learns from IDENTITY. docs/rtl.md explains each field's cost.

use crate::command::DEFAULT_BAUD;
use crate::frame::MAX_PAYLOAD;
use crate::params::CoreShape;
use crate::records::{Capabilities, FEATURE_STATE_READOUT, FEATURE_STDP, PROTOCOL_VERSION};

/// Weight lanes the generator supports (weights read and written per clock cycle).
pub const SUPPORTED_LANES: [u8; 4] = [1, 2, 4, 8];

/// Smallest clock-cycles-per-bit the RTL UART supports (its receiver samples at mid-bit).
pub const MIN_CYCLES_PER_BIT: u32 = 4;

/// Where the generated core keeps its synapse weights and plasticity masks (docs/rtl.md
/// §5; docs/hdl.md, "Weight memory").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WeightMemory {
    /// Simple dual-port block RAM, one bank per lane: a weight is read and another
    /// written in the same cycle.
    #[default]
    Block,
    /// iCE40 UltraPlus single-port SPRAM (`SB_SPRAM256KA`, 16 K × 16 bit, at most
    /// [`SPRAM_BLOCKS`]): two weights per word when W ≤ 8, the masks 16 per word in their
    /// own SPRAM. Needs one lane; with learning on, delivery and potentiation read a
    /// weight every other cycle so that the write-back gets the port in between.
    Spram,
}

impl WeightMemory {
    /// The TOML / command-line spelling.
    pub fn name(self) -> &'static str {
        match self {
            WeightMemory::Block => "block",
            WeightMemory::Spram => "spram",
        }
    }

    /// Parses [`WeightMemory::name`].
    pub fn from_name(s: &str) -> Option<WeightMemory> {
        match s {
            "block" => Some(WeightMemory::Block),
            "spram" => Some(WeightMemory::Spram),
            _ => None,
        }
    }
}

/// Words of one iCE40 UltraPlus SPRAM (16 bits each).
pub const SPRAM_WORDS: usize = 16 * 1024;

/// SPRAM blocks of the largest UltraPlus part (UP5K).
pub const SPRAM_BLOCKS: usize = 4;

/// Everything that distinguishes one generated core from another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CoreConfig {
    /// N, M, W (core-spec §1).
    pub shape: CoreShape,
    /// P: weights read/written per clock cycle in the delivery and potentiation phases.
    pub lanes: u8,
    /// Core clock in Hz.
    pub clock_hz: u32,
    /// UART baud rate.
    pub baud: u32,
    /// STEP frames the host may have in flight (IDENTITY `step_window`).
    pub step_window: u8,
    /// STEP_DONE results kept for retransmission (IDENTITY `replay_depth`); a power of two.
    pub replay_depth: u8,
    /// Bytes of the receive ring buffer holding queued payloads; a power of two, at
    /// least `2 * MAX_PAYLOAD` so that one maximal frame can queue behind another.
    pub rx_buffer: u32,
    /// Core identifier reported by IDENTITY.
    pub core_id: u32,
    /// Where weights and masks live (block RAM or UltraPlus SPRAM).
    pub weight_memory: WeightMemory,
}

/// Why a [`CoreConfig`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl CoreConfig {
    /// The default core: 256 neurons, 64 inputs, 8-bit weights, 4 lanes, 12 MHz, 115 200 baud.
    pub const DEFAULT: CoreConfig = CoreConfig {
        shape: CoreShape::DEFAULT,
        lanes: 4,
        clock_hz: 12_000_000,
        baud: DEFAULT_BAUD,
        step_window: 4,
        replay_depth: 8,
        rx_buffer: 4096,
        core_id: 0x4E46_0001,
        weight_memory: WeightMemory::Block,
    };

    /// A config with the given shape and the default implementation choices.
    pub fn with_shape(shape: CoreShape) -> CoreConfig {
        CoreConfig {
            shape,
            ..CoreConfig::DEFAULT
        }
    }

    /// Checks every field; the message names the field and the allowed values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.shape
            .validate()
            .map_err(|e| ConfigError(alloc_fmt(format_args!("{e}"))))?;
        if !SUPPORTED_LANES.contains(&self.lanes) {
            return Err(ConfigError(alloc_fmt(format_args!(
                "lanes = {}: must be one of 1, 2, 4, 8",
                self.lanes
            ))));
        }
        if self.baud == 0 || self.clock_hz / self.baud < MIN_CYCLES_PER_BIT {
            return Err(ConfigError(alloc_fmt(format_args!(
                "clock_hz = {} with baud = {}: need at least {MIN_CYCLES_PER_BIT} clock cycles per bit",
                self.clock_hz, self.baud
            ))));
        }
        let divisor = self.cycles_per_bit();
        let actual = self.clock_hz as f64 / divisor as f64;
        if (actual - self.baud as f64).abs() > 0.01 * self.baud as f64 {
            return Err(ConfigError(alloc_fmt(format_args!(
                "clock_hz = {} cannot make baud = {}: the nearest rate is {actual:.0} baud (more than 1 % off)",
                self.clock_hz, self.baud
            ))));
        }
        if divisor >= 1 << 16 {
            return Err(ConfigError(alloc_fmt(format_args!(
                "clock_hz / baud = {divisor}: at most 65535 clock cycles per bit"
            ))));
        }
        if self.step_window == 0 || self.step_window > 8 {
            return Err(ConfigError(alloc_fmt(format_args!(
                "step_window = {}: must be 1..=8",
                self.step_window
            ))));
        }
        if !self.replay_depth.is_power_of_two() || self.replay_depth > 64 {
            return Err(ConfigError(alloc_fmt(format_args!(
                "replay_depth = {}: must be a power of two, 1..=64",
                self.replay_depth
            ))));
        }
        if !self.rx_buffer.is_power_of_two()
            || (self.rx_buffer as usize) < 2 * MAX_PAYLOAD
            || self.rx_buffer > 1 << 15
        {
            return Err(ConfigError(alloc_fmt(format_args!(
                "rx_buffer = {}: must be a power of two, {}..=32768 bytes",
                self.rx_buffer,
                2 * MAX_PAYLOAD
            ))));
        }
        if self.weight_memory == WeightMemory::Spram {
            if self.lanes != 1 {
                return Err(ConfigError(alloc_fmt(format_args!(
                    "weight_memory = \"spram\" with lanes = {}: SPRAM weights need lanes = 1",
                    self.lanes
                ))));
            }
            let need = self.spram_blocks();
            if need > SPRAM_BLOCKS {
                return Err(ConfigError(alloc_fmt(format_args!(
                    "weight_memory = \"spram\": {} synapses of {} bits need {need} SPRAMs \
                     ({} for weights, {} for masks), at most {SPRAM_BLOCKS}",
                    self.sources() * self.neurons(),
                    self.shape.weight_bits,
                    self.spram_weight_words().div_ceil(SPRAM_WORDS),
                    self.spram_mask_words().div_ceil(SPRAM_WORDS),
                ))));
            }
        }
        Ok(())
    }

    /// Weights per 16-bit SPRAM word: 2 when W ≤ 8, else 1.
    pub fn spram_weights_per_word(&self) -> usize {
        if self.shape.weight_bits <= 8 {
            2
        } else {
            1
        }
    }

    /// 16-bit SPRAM words holding the weights (`weight_memory = "spram"`).
    pub fn spram_weight_words(&self) -> usize {
        (self.sources() * self.groups()).div_ceil(self.spram_weights_per_word())
    }

    /// 16-bit SPRAM words holding the masks, 16 per word.
    pub fn spram_mask_words(&self) -> usize {
        (self.sources() * self.groups()).div_ceil(16)
    }

    /// SPRAM blocks used: 0 for block-RAM weights.
    pub fn spram_blocks(&self) -> usize {
        match self.weight_memory {
            WeightMemory::Block => 0,
            WeightMemory::Spram => {
                self.spram_weight_words().div_ceil(SPRAM_WORDS)
                    + self.spram_mask_words().div_ceil(SPRAM_WORDS)
            }
        }
    }

    /// Clock cycles per UART bit, `round(clock_hz / baud)`.
    pub fn cycles_per_bit(&self) -> u32 {
        ((self.clock_hz as u64 + self.baud as u64 / 2) / self.baud as u64) as u32
    }

    /// N.
    pub fn neurons(&self) -> usize {
        self.shape.neurons as usize
    }

    /// M.
    pub fn inputs(&self) -> usize {
        self.shape.inputs as usize
    }

    /// M + N.
    pub fn sources(&self) -> usize {
        self.shape.sources()
    }

    /// G = ceil(N / P): neuron groups, the words of one weight row in each lane bank.
    pub fn groups(&self) -> usize {
        self.neurons().div_ceil(self.lanes as usize)
    }

    /// What IDENTITY reports for this core.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            protocol_version: PROTOCOL_VERSION,
            shape: self.shape,
            lanes: self.lanes,
            clock_hz: self.clock_hz,
            baud: self.baud,
            max_payload: MAX_PAYLOAD as u16,
            step_window: self.step_window,
            replay_depth: self.replay_depth,
            features: FEATURE_STDP | FEATURE_STATE_READOUT,
            core_id: self.core_id,
        }
    }
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig::DEFAULT
    }
}

fn alloc_fmt(args: core::fmt::Arguments<'_>) -> String {
    std::fmt::format(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        CoreConfig::DEFAULT.validate().unwrap();
        assert_eq!(CoreConfig::DEFAULT.groups(), 64);
        assert_eq!(CoreConfig::DEFAULT.cycles_per_bit(), 104);
    }

    #[test]
    fn rejects_bad_fields() {
        let bad = |f: fn(&mut CoreConfig)| {
            let mut c = CoreConfig::DEFAULT;
            f(&mut c);
            c.validate().unwrap_err().0
        };
        assert!(bad(|c| c.lanes = 3).contains("lanes = 3"));
        assert!(bad(|c| c.baud = 6_000_000).contains("cycles per bit"));
        assert!(bad(|c| c.replay_depth = 6).contains("replay_depth"));
        assert!(bad(|c| c.rx_buffer = 1000).contains("rx_buffer"));
        assert!(bad(|c| c.shape.neurons = 0).contains("neurons"));
        assert!(bad(|c| c.step_window = 0).contains("step_window"));
        assert!(bad(|c| c.weight_memory = WeightMemory::Spram).contains("lanes = 1"));
        let big = bad(|c| {
            c.weight_memory = WeightMemory::Spram;
            c.lanes = 1;
            c.shape.neurons = 512;
        });
        assert!(
            big.contains("need 11 SPRAMs (9 for weights, 2 for masks)"),
            "{big}"
        );
    }

    #[test]
    fn spram_capacity() {
        let mut c = CoreConfig {
            lanes: 1,
            weight_memory: WeightMemory::Spram,
            ..CoreConfig::DEFAULT
        };
        // N = 256, M = 64, W = 8: 81 920 synapses, 40 960 weight words (2.5 SPRAMs),
        // 5 120 mask words.
        assert_eq!(c.spram_weight_words(), 40_960);
        assert_eq!(c.spram_mask_words(), 5_120);
        assert_eq!(c.spram_blocks(), 4);
        c.validate().unwrap();
        c.shape.weight_bits = 12;
        assert_eq!(c.spram_weights_per_word(), 1);
        assert!(c.validate().is_err());
        assert_eq!(CoreConfig::DEFAULT.spram_blocks(), 0);
    }
}
