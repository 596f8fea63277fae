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
        Ok(())
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
    }
}
