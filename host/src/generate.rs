//! `neurofab generate`: a core configuration (flags or a TOML file) → Verilog + report.
//!
//! The TOML form (`--config core.toml`), every field optional (defaults: the default core):
//!
//! ```toml
//! [core]
//! neurons = 256        # N
//! inputs = 64          # M
//! weight_bits = 8      # W
//! lanes = 4            # P: 1, 2, 4 or 8 weights per cycle
//! clock_hz = 12000000
//! baud = 115200
//! step_window = 4
//! replay_depth = 8
//! rx_buffer = 4096
//! core_id = 0x4E460001
//! weight_memory = "block"   # or "spram": iCE40 UltraPlus SPRAM, needs lanes = 1
//! ```

use std::ops::Range;
use std::path::Path;

use neurofab_proto::{CoreConfig, CoreShape, WeightMemory};
use serde::Deserialize;
use toml::Spanned;

use crate::error::{ConfigError, Error, SourceText};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoreFile {
    core: CoreTable,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoreTable {
    neurons: Option<Spanned<i64>>,
    inputs: Option<Spanned<i64>>,
    weight_bits: Option<Spanned<i64>>,
    lanes: Option<Spanned<i64>>,
    clock_hz: Option<Spanned<i64>>,
    baud: Option<Spanned<i64>>,
    step_window: Option<Spanned<i64>>,
    replay_depth: Option<Spanned<i64>>,
    rx_buffer: Option<Spanned<i64>>,
    core_id: Option<Spanned<i64>>,
    weight_memory: Option<Spanned<String>>,
}

/// Flag overrides (`None` = from the file, or the default core).
#[derive(Debug, Default, Clone, Copy)]
pub struct CoreOverrides {
    pub neurons: Option<u16>,
    pub inputs: Option<u16>,
    pub weight_bits: Option<u8>,
    pub lanes: Option<u8>,
    pub clock_hz: Option<u32>,
    pub baud: Option<u32>,
    pub weight_memory: Option<WeightMemory>,
}

fn field<T: TryFrom<i64>>(
    src: &SourceText,
    v: &Option<Spanned<i64>>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    match v {
        None => Ok(default),
        Some(s) => T::try_from(*s.get_ref())
            .map_err(|_| src.error_at(s.span(), format!("{name} = {}: out of range", s.get_ref()))),
    }
}

/// Reads a core configuration file (see the module docs); errors point at file:line:col.
pub fn load_core_config(path: &Path) -> Result<CoreConfig, Error> {
    load_core_config_over(path, &CoreConfig::DEFAULT).map(|(cfg, _)| cfg)
}

/// Parses a core configuration (see the module docs).
pub fn parse_core_config(text: &str, name: &str) -> Result<CoreConfig, Error> {
    parse_core_config_over(text, name, &CoreConfig::DEFAULT).map(|(cfg, _)| cfg)
}

/// A parsed core file and where it set the fields that a board may dictate, so that a
/// disagreement can be reported at `file:line:col`.
#[derive(Debug, Clone)]
pub struct CoreFileInfo {
    /// The file's text (for [`SourceText::error_at`]).
    pub src: SourceText,
    /// Span of `clock_hz = ...`, if the file sets it.
    pub clock_hz: Option<Range<usize>>,
    /// Span of `baud = ...`, if the file sets it.
    pub baud: Option<Range<usize>>,
}

/// Reads a core configuration file; fields the file does not set come from `base`.
pub fn load_core_config_over(
    path: &Path,
    base: &CoreConfig,
) -> Result<(CoreConfig, CoreFileInfo), Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io("reading core configuration", path, e))?;
    parse_core_config_over(&text, &path.display().to_string(), base)
}

/// Parses a core configuration; fields the text does not set come from `base`.
pub fn parse_core_config_over(
    text: &str,
    name: &str,
    base: &CoreConfig,
) -> Result<(CoreConfig, CoreFileInfo), Error> {
    let src = SourceText::new(name, text);
    let file: CoreFile = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim_end().to_string();
        match e.span() {
            Some(span) => src.error_at(span, msg),
            None => src.error(msg),
        }
    })?;
    let t = &file.core;
    let d = base;
    let cfg = CoreConfig {
        shape: CoreShape {
            neurons: field(&src, &t.neurons, "neurons", d.shape.neurons)?,
            inputs: field(&src, &t.inputs, "inputs", d.shape.inputs)?,
            weight_bits: field(&src, &t.weight_bits, "weight_bits", d.shape.weight_bits)?,
        },
        lanes: field(&src, &t.lanes, "lanes", d.lanes)?,
        clock_hz: field(&src, &t.clock_hz, "clock_hz", d.clock_hz)?,
        baud: field(&src, &t.baud, "baud", d.baud)?,
        step_window: field(&src, &t.step_window, "step_window", d.step_window)?,
        replay_depth: field(&src, &t.replay_depth, "replay_depth", d.replay_depth)?,
        rx_buffer: field(&src, &t.rx_buffer, "rx_buffer", d.rx_buffer)?,
        core_id: field(&src, &t.core_id, "core_id", d.core_id)?,
        weight_memory: match &t.weight_memory {
            None => d.weight_memory,
            Some(s) => WeightMemory::from_name(s.get_ref()).ok_or_else(|| {
                src.error_at(
                    s.span(),
                    format!(
                        "weight_memory = {:?}: must be \"block\" or \"spram\"",
                        s.get_ref()
                    ),
                )
            })?,
        },
    };
    if let Err(e) = cfg.validate() {
        // Point at the table: validation concerns combinations of fields.
        let span = t.neurons.as_ref().map(|s| s.span()).unwrap_or(0..0);
        return Err(src.error_at(span, format!("invalid core: {e}")).into());
    }
    let info = CoreFileInfo {
        clock_hz: t.clock_hz.as_ref().map(|s| s.span()),
        baud: t.baud.as_ref().map(|s| s.span()),
        src,
    };
    Ok((cfg, info))
}

/// The configuration from an optional file plus flag overrides, validated.
pub fn core_config(file: Option<&Path>, o: &CoreOverrides) -> Result<CoreConfig, Error> {
    let mut cfg = match file {
        Some(p) => load_core_config(p)?,
        None => CoreConfig::DEFAULT,
    };
    if let Some(v) = o.neurons {
        cfg.shape.neurons = v;
    }
    if let Some(v) = o.inputs {
        cfg.shape.inputs = v;
    }
    if let Some(v) = o.weight_bits {
        cfg.shape.weight_bits = v;
    }
    if let Some(v) = o.lanes {
        cfg.lanes = v;
    }
    if let Some(v) = o.clock_hz {
        cfg.clock_hz = v;
    }
    if let Some(v) = o.baud {
        cfg.baud = v;
    }
    if let Some(v) = o.weight_memory {
        cfg.weight_memory = v;
    }
    cfg.validate()
        .map_err(|e| ConfigError::plain("generate", format!("invalid core: {e}")))?;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_points_at_errors() {
        let c = parse_core_config("[core]\nneurons = 64\nlanes = 2\n", "c.toml").unwrap();
        assert_eq!((c.shape.neurons, c.lanes, c.shape.inputs), (64, 2, 64));
        let s =
            parse_core_config("[core]\nlanes = 1\nweight_memory = \"spram\"\n", "c.toml").unwrap();
        assert_eq!(s.weight_memory, WeightMemory::Spram);
        let e = parse_core_config("[core]\nweight_memory = \"sram\"\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("c.toml:2:17"), "{e}");
        assert!(e.to_string().contains("\"block\" or \"spram\""), "{e}");
        let e = parse_core_config("[core]\nneurons = 64\nlanes = 3\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("lanes = 3"), "{e}");
        let e = parse_core_config("[core]\nneurons = 64\nlane = 2\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("c.toml:3"), "{e}");
        let e = parse_core_config("[core]\nneurons = 70000\n", "c.toml").unwrap_err();
        assert!(
            e.to_string().contains("c.toml:2") && e.to_string().contains("out of range"),
            "{e}"
        );
    }
}
