//! The board database: one TOML file per board in `boards/*.toml`, compiled in.

use serde::{Deserialize, Serialize};

use crate::pll::Pll;
use crate::Error;

/// FPGA family: decides the wrapper, the constraint format and the tool flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Lattice iCE40: yosys `synth_ice40`, nextpnr-ice40, icepack (Debian packages).
    Ice40,
    /// Lattice ECP5: yosys `synth_ecp5`, nextpnr-ecp5, ecppack (PyPI yowasp-*).
    Ecp5,
    /// Xilinx 7-series: Verilog + XDC + Vivado batch Tcl only (no open flow here).
    Artix7,
}

/// The board's oscillator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clock {
    pub pin: String,
    pub hz: u32,
}

/// The UART to the host (through the board's USB bridge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uart {
    /// FPGA input: the bridge's TXD.
    pub rx: String,
    /// FPGA output: the bridge's RXD.
    pub tx: String,
    pub baud: u32,
}

/// What an LED shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LedRole {
    /// A command executes (stretched to 40..80 ms).
    Activity,
    /// The engine computes a step or a reset (stretched).
    Busy,
    /// A frame was dropped (sticky) or a UART byte had a bad stop bit (stretched).
    Error,
    /// The PLL is locked and the core clock runs.
    Running,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Led {
    pub role: LedRole,
    pub pin: String,
    #[serde(default)]
    pub active_low: bool,
}

/// An output the board needs held at a constant level (e.g. ULX3S `wifi_gpio0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tie {
    pub name: String,
    pub pin: String,
    pub value: bool,
}

/// How the bitstream gets onto the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programmer {
    /// `iceprog` or `openFPGALoader`.
    pub tool: String,
    /// Arguments before the bitstream path.
    #[serde(default)]
    pub args: Vec<String>,
    /// Debian package that provides `tool`.
    pub package: String,
}

/// What the device offers (for the report's percentages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Logic cells (iCE40 LC = LUT4 + FF) or LUT4s (ECP5) or LUT6s (Artix-7).
    pub luts: u32,
    pub ffs: u32,
    /// Block RAMs (iCE40 EBR 4 kbit, ECP5 DP16KD 18 kbit, Artix-7 RAMB36 36 kbit).
    pub bram: u32,
    #[serde(default)]
    pub spram: u32,
    pub dsp: u32,
}

/// The largest core measured by `fit` (recorded in the board file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitRecord {
    /// Largest N that built, fitted and met timing; 0 if none did.
    pub neurons: u16,
    pub inputs: u16,
    pub lanes: u8,
    pub clock_hz: u32,
    /// Measured numbers of that build (or of the smallest failing build if none fits).
    pub summary: String,
}

/// One board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    pub name: String,
    pub description: String,
    pub family: Family,
    /// nextpnr device (`up5k`, `hx8k`, `25k`, `85k`) or the Xilinx part.
    pub device: String,
    pub package: String,
    /// ECP5 speed grade (6, 7, 8).
    #[serde(default)]
    pub speed: Option<u8>,
    /// I/O standard for every pin (ECP5, Artix-7), e.g. `LVCMOS33`.
    #[serde(default)]
    pub io_standard: Option<String>,
    pub clock: Clock,
    /// Settings that make the core clock from the oscillator; `out_hz` is the core clock.
    pub pll: Pll,
    pub uart: Uart,
    #[serde(default, rename = "led")]
    pub leds: Vec<Led>,
    #[serde(default, rename = "tie")]
    pub ties: Vec<Tie>,
    pub programmer: Programmer,
    pub capacity: Capacity,
    /// Synthesis uses the DSP blocks for multipliers (iCE40 UP5K `-dsp`).
    #[serde(default)]
    pub use_dsp: bool,
    /// Where the board's cores keep their weights: `"block"` (the default) or
    /// `"spram"` (iCE40 UltraPlus; needs one lane).
    #[serde(default = "block_memory", with = "weight_memory_name")]
    pub weight_memory: neurofab_proto::WeightMemory,
    pub fit: Option<FitRecord>,
    #[serde(default)]
    pub notes: String,
}

fn block_memory() -> neurofab_proto::WeightMemory {
    neurofab_proto::WeightMemory::Block
}

/// `weight_memory = "block" | "spram"` in a board file.
mod weight_memory_name {
    use neurofab_proto::WeightMemory;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(w: &WeightMemory, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(w.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<WeightMemory, D::Error> {
        let name = String::deserialize(d)?;
        WeightMemory::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "weight_memory = {name:?}: must be \"block\" or \"spram\""
            ))
        })
    }
}

/// The compiled-in board files: (file name, text).
pub const BOARD_FILES: &[(&str, &str)] = &[
    ("icebreaker.toml", include_str!("../icebreaker.toml")),
    (
        "ice40-hx8k-breakout.toml",
        include_str!("../ice40-hx8k-breakout.toml"),
    ),
    ("ulx3s-85f.toml", include_str!("../ulx3s-85f.toml")),
    ("ulx3s-25f.toml", include_str!("../ulx3s-25f.toml")),
    ("cmod-a7-35t.toml", include_str!("../cmod-a7-35t.toml")),
];

impl Board {
    /// Parses and checks one board file; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Board, Error> {
        let board: Board = toml::from_str(text).map_err(|e| Error::BoardFile {
            file: origin.to_string(),
            message: e.to_string(),
        })?;
        board.check().map_err(|message| Error::BoardFile {
            file: origin.to_string(),
            message,
        })?;
        Ok(board)
    }

    /// Reads a board file from disk.
    pub fn from_file(path: &std::path::Path) -> Result<Board, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::BoardFile {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        Board::parse(&path.display().to_string(), &text)
    }

    /// The built-in board `name` (case-insensitive), or a path to a board file.
    pub fn load(name: &str) -> Result<Board, Error> {
        if name.ends_with(".toml") && std::path::Path::new(name).exists() {
            return Board::from_file(std::path::Path::new(name));
        }
        let all = Board::all()?;
        let names: Vec<String> = all.iter().map(|b| b.name.clone()).collect();
        all.into_iter()
            .find(|b| b.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::UnknownBoard {
                name: name.to_string(),
                known: names.join(", "),
            })
    }

    /// Every built-in board, in database order.
    pub fn all() -> Result<Vec<Board>, Error> {
        BOARD_FILES
            .iter()
            .map(|(file, text)| Board::parse(&format!("boards/{file}"), text))
            .collect()
    }

    /// Lanes of this board's cores unless asked otherwise: 1 with SPRAM weights (a single
    /// port), else the default core's 4.
    pub fn default_lanes(&self) -> u8 {
        match self.weight_memory {
            neurofab_proto::WeightMemory::Spram => 1,
            neurofab_proto::WeightMemory::Block => neurofab_proto::CoreConfig::DEFAULT.lanes,
        }
    }

    /// The core clock: the PLL output.
    pub fn core_clock_hz(&self) -> u32 {
        self.pll.recorded_hz()
    }

    /// A core configuration for this board: `neurons`, `inputs`, 8-bit weights, `lanes`
    /// lanes, the board's core clock, baud rate and weight memory, the smallest receive
    /// ring (2 KiB).
    pub fn core_config(&self, neurons: u16, inputs: u16, lanes: u8) -> neurofab_proto::CoreConfig {
        neurofab_proto::CoreConfig {
            shape: neurofab_proto::CoreShape {
                neurons,
                inputs,
                weight_bits: 8,
            },
            lanes,
            clock_hz: self.core_clock_hz(),
            baud: self.uart.baud,
            rx_buffer: 2048,
            weight_memory: self.weight_memory,
            ..neurofab_proto::CoreConfig::DEFAULT
        }
    }

    fn check(&self) -> Result<(), String> {
        let family_ok = matches!(
            (self.family, &self.pll),
            (Family::Ice40, Pll::Ice40 { .. })
                | (Family::Ecp5, Pll::Ecp5 { .. })
                | (Family::Artix7, Pll::Mmcm { .. })
        );
        if !family_ok {
            return Err(format!(
                "pll primitive does not belong to family {:?}",
                self.family
            ));
        }
        self.pll
            .check(self.clock.hz)
            .map_err(|e| format!("pll: {e}"))?;
        let produced = self.pll.output_hz(self.clock.hz);
        if (produced - self.pll.recorded_hz() as f64).abs() > 0.5 {
            return Err(format!(
                "pll: the divisors make {produced} Hz from {} Hz, but out_hz = {}",
                self.clock.hz,
                self.pll.recorded_hz()
            ));
        }
        if self.weight_memory == neurofab_proto::WeightMemory::Spram && self.capacity.spram == 0 {
            return Err(
                "weight_memory = \"spram\" on a board without SPRAM (capacity.spram = 0)".into(),
            );
        }
        if self.family == Family::Ecp5 && self.speed.is_none() {
            return Err("ECP5 boards need `speed` (the speed grade)".into());
        }
        if self.family != Family::Ice40 && self.io_standard.is_none() {
            return Err("ECP5 and Artix-7 boards need `io_standard`".into());
        }
        if !matches!(self.programmer.tool.as_str(), "iceprog" | "openFPGALoader") {
            return Err(format!(
                "programmer.tool = {:?}: must be iceprog or openFPGALoader",
                self.programmer.tool
            ));
        }
        let mut pins: Vec<&str> = vec![&self.clock.pin, &self.uart.rx, &self.uart.tx];
        pins.extend(self.leds.iter().map(|l| l.pin.as_str()));
        pins.extend(self.ties.iter().map(|t| t.pin.as_str()));
        let mut sorted = pins.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("pin {} is used twice", w[0]));
        }
        Ok(())
    }
}
