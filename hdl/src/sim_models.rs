//! The designs `neurofab-sim` turns into Verilator models at build time.
//!
//! `sim/build.rs` calls [`sim_models`] and, for every entry, verilates
//! [`SimModel::verilog`] into a C++ class `V<name>`, compiles it with a small
//! `extern "C"` shim and exposes it as `neurofab_sim::rtl::RtlSim::new(name)`.
//!
//! To add a design, append one line to [`sim_models`]:
//!
//! ```ignore
//! SimModel::new("core", generate_core_verilog(&cfg), cfg.clock_hz as u64, cfg.baud as u64),
//! ```
//!
//! The top module must be called `top` (rust-hdl's `generate_verilog` does that) and
//! must have the ports `clock` (input), `rxd` (input) and `txd` (output). Every other
//! 1-bit output of the top becomes a status output readable by name from Rust
//! (`RtlSim::output("overflow")`); wider outputs and other inputs are not exposed.

use neurofab_proto::{CoreConfig, CoreShape, WeightMemory};

/// Direction of a top-level port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortDir {
    /// `input`
    Input,
    /// `output`
    Output,
}

/// A port of the top module, as declared in the (non-ANSI) generated Verilog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// Port name.
    pub name: String,
    /// Direction.
    pub dir: PortDir,
    /// Width in bits.
    pub width: u32,
}

/// One design to verilate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimModel {
    /// Model name: `[a-z][a-z0-9_]*`. Becomes the C++ class `V<name>`, the shim's symbol
    /// prefix `nf_<name>_` and the name `RtlSim::new` takes.
    pub name: String,
    /// The complete Verilog (all modules), top module [`SimModel::top_module`].
    pub verilog: String,
    /// Name of the top module (`top` for rust-hdl output).
    pub top_module: String,
    /// Core clock the design was generated for (informational: the simulation counts cycles).
    pub clock_hz: u64,
    /// UART baud rate the design was generated for.
    pub baud: u64,
    /// Clock cycles per UART bit, `round(clock_hz / baud)` (what the design's UART uses).
    pub cycles_per_bit: u64,
    /// The top's 1-bit outputs other than `txd`, in declaration order.
    pub status_outputs: Vec<String>,
}

impl SimModel {
    /// A model of `verilog` (top module `top`) generated for `clock_hz` and `baud`.
    ///
    /// Panics if the name is not a valid identifier, or if the top module is missing or
    /// lacks the `clock`/`rxd` inputs or the `txd` output (build-time errors: this runs
    /// in `neurofab-sim`'s build script).
    pub fn new(name: &str, verilog: String, clock_hz: u64, baud: u64) -> SimModel {
        assert!(
            is_model_name(name),
            "sim model name {name:?} must match [a-z][a-z0-9_]*"
        );
        let top_module = "top".to_string();
        let ports =
            top_ports(&verilog, &top_module).unwrap_or_else(|e| panic!("sim model {name}: {e}"));
        let has = |n: &str, d: PortDir| {
            ports
                .iter()
                .any(|p| p.name == n && p.dir == d && p.width == 1)
        };
        for (n, d) in [
            ("clock", PortDir::Input),
            ("rxd", PortDir::Input),
            ("txd", PortDir::Output),
        ] {
            assert!(
                has(n, d),
                "sim model {name}: the top module needs a 1-bit {d:?} port `{n}` (ports: {ports:?})"
            );
        }
        let status_outputs = ports
            .iter()
            .filter(|p| p.dir == PortDir::Output && p.width == 1 && p.name != "txd")
            .map(|p| p.name.clone())
            .collect();
        SimModel {
            name: name.to_string(),
            verilog,
            top_module,
            clock_hz,
            baud,
            cycles_per_bit: (clock_hz + baud / 2) / baud,
            status_outputs,
        }
    }
}

fn is_model_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// The designs `neurofab-sim` verilates. Keep this cheap: it runs in a build script.
pub fn sim_models() -> Vec<SimModel> {
    let mut models = vec![
        // UART loopback (board bring-up top), 12 MHz / 115 200 baud = 104 cycles per bit.
        SimModel::new(
            "loopback",
            crate::generate_loopback_verilog(12_000_000, 115_200),
            12_000_000,
            115_200,
        ),
    ];
    for (name, cfg) in sim_core_configs() {
        let core = crate::generate_core(&cfg).expect("valid simulation core");
        models.push(SimModel::new(
            name,
            core.verilog,
            cfg.clock_hz as u64,
            cfg.baud as u64,
        ));
    }
    models
}

/// The cores built as Verilator models (the RTL device and the co-simulation tests).
///
/// All run their UART at 4 clock cycles per bit (12 MHz, 3 Mbaud), the fastest the
/// RTL UART allows, so that simulated link time does not dominate:
///
/// * `core_small`: 24 neurons, 8 inputs, 8-bit weights, 4 lanes (N divisible by P);
/// * `core_odd`: 13 neurons, 5 inputs, 5-bit weights, 2 lanes (N, M+N not multiples of P);
/// * `core_wide`: 10 neurons, 6 inputs, 12-bit weights (2 bytes on the wire), 1 lane;
/// * `core_64`: 64 neurons, 16 inputs, 8-bit weights, 4 lanes;
/// * `core_256`: the default core, 256 neurons, 64 inputs, 8-bit weights, 4 lanes;
/// * `core_1024`: 1024 neurons, 256 inputs, 8-bit weights, 8 lanes (benchmarks);
/// * `core_spram`: 21 neurons, 6 inputs, 7-bit weights, 1 lane, weights and masks in
///   UltraPlus SPRAM (`weight_memory = "spram"`; 567 synapses: an odd last weight word,
///   a partial last mask word).
pub fn sim_core_configs() -> Vec<(&'static str, CoreConfig)> {
    let sim = |neurons, inputs, weight_bits, lanes, rx_buffer| CoreConfig {
        lanes,
        clock_hz: 12_000_000,
        baud: 3_000_000,
        rx_buffer,
        ..CoreConfig::with_shape(CoreShape {
            neurons,
            inputs,
            weight_bits,
        })
    };
    vec![
        ("core_small", sim(24, 8, 8, 4, 2048)),
        ("core_odd", sim(13, 5, 5, 2, 2048)),
        ("core_wide", sim(10, 6, 12, 1, 4096)),
        ("core_64", sim(64, 16, 8, 4, 4096)),
        ("core_256", sim(256, 64, 8, 4, 4096)),
        ("core_1024", sim(1024, 256, 8, 4, 4096)),
        ("core_p8", sim(20, 9, 8, 8, 2048)),
        (
            "core_spram",
            CoreConfig {
                weight_memory: WeightMemory::Spram,
                ..sim(21, 6, 7, 1, 2048)
            },
        ),
    ]
}

/// The ports of module `top` in `verilog`, in the order of the module header.
///
/// Understands rust-hdl's non-ANSI style (`module top(a,b);` followed by
/// `input wire [7:0] a;` declarations); module names may contain `$`.
pub fn top_ports(verilog: &str, top: &str) -> Result<Vec<Port>, String> {
    let header = format!("module {top}(");
    let start = verilog
        .match_indices(&header)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || verilog.as_bytes()[i - 1] == b'\n')
        .ok_or_else(|| format!("no `module {top}(` in the Verilog"))?;
    let body = &verilog[start + header.len()..];
    let close = body
        .find(");")
        .ok_or_else(|| format!("module {top}: unterminated port list"))?;
    let names: Vec<&str> = body[..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let end = body.find("endmodule").unwrap_or(body.len());
    let mut ports = Vec::new();
    for name in names {
        let decl = body[close..end]
            .lines()
            .map(str::trim)
            .find(|l| {
                (l.starts_with("input") || l.starts_with("output"))
                    && l.trim_end_matches(';').split_whitespace().last() == Some(name)
            })
            .ok_or_else(|| format!("module {top}: no declaration for port `{name}`"))?;
        let dir = if decl.starts_with("input") {
            PortDir::Input
        } else {
            PortDir::Output
        };
        let width = match (decl.find('['), decl.find(']')) {
            (Some(a), Some(b)) if a < b => {
                let range = &decl[a + 1..b];
                let (msb, lsb) = range
                    .split_once(':')
                    .ok_or_else(|| format!("port `{name}`: cannot parse range [{range}]"))?;
                let msb: i64 = msb
                    .trim()
                    .parse()
                    .map_err(|_| format!("port `{name}`: cannot parse range [{range}]"))?;
                let lsb: i64 = lsb
                    .trim()
                    .parse()
                    .map_err(|_| format!("port `{name}`: cannot parse range [{range}]"))?;
                ((msb - lsb).unsigned_abs() + 1) as u32
            }
            _ => 1,
        };
        ports.push(Port {
            name: name.to_string(),
            dir,
            width,
        });
    }
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_ports() {
        let models = sim_models();
        let lb = models.iter().find(|m| m.name == "loopback").unwrap();
        assert_eq!(lb.cycles_per_bit, 104);
        assert_eq!(lb.status_outputs, ["overflow", "framing_error"]);
        let ports = top_ports(&lb.verilog, "top").unwrap();
        let names: Vec<_> = ports.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["clock", "rxd", "txd", "overflow", "framing_error"]);
    }

    #[test]
    fn parses_widths() {
        let v = "module top$x(a);\nendmodule\nmodule top(clock,rxd,txd,led);\n  input wire clock;\n  input wire  rxd;\n  output reg  txd;\n  output wire [3:0] led;\nendmodule\n";
        let ports = top_ports(v, "top").unwrap();
        assert_eq!(ports[3].width, 4);
        assert_eq!(ports[3].dir, PortDir::Output);
        let m = SimModel::new("t", v.to_string(), 80, 10);
        assert!(m.status_outputs.is_empty());
        assert_eq!(m.cycles_per_bit, 8);
    }

    #[test]
    #[should_panic(expected = "must match")]
    fn rejects_bad_name() {
        SimModel::new("Core", String::new(), 80, 10);
    }
}
