//! The build report and the parsers for nextpnr's JSON report, its log and yosys `stat`.

use serde::Serialize;

use neurofab_hdl::generate::expected_step_cycles;
use neurofab_proto::CoreConfig;

/// One resource: used of available.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    /// The tool's name (`ICESTORM_LC`, `TRELLIS_COMB`, `DP16KD`, ...).
    pub name: String,
    pub used: u64,
    pub available: u64,
}

impl Resource {
    pub fn percent(&self) -> f64 {
        if self.available == 0 {
            0.0
        } else {
            100.0 * self.used as f64 / self.available as f64
        }
    }
}

/// The measured result of one build.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub board: String,
    pub device: String,
    pub package: String,
    pub neurons: u16,
    pub inputs: u16,
    pub weight_bits: u8,
    pub lanes: u8,
    pub clock_hz: u32,
    pub baud: u32,
    /// FNV-1a of `generate_core(&cfg).verilog`, the exact text the build synthesised.
    pub verilog_hash: String,
    /// Logic: iCE40 logic cells, ECP5 LUT4s (TRELLIS_COMB), Artix-7: none (Vivado).
    pub luts: Option<Resource>,
    pub ffs: Option<Resource>,
    pub bram: Option<Resource>,
    pub spram: Option<Resource>,
    pub dsp: Option<Resource>,
    /// Every resource nextpnr reported.
    pub all_resources: Vec<Resource>,
    pub target_mhz: f64,
    /// Achieved Fmax of the core clock (nextpnr's timing analysis); None without P&R.
    pub fmax_mhz: Option<f64>,
    pub timing_met: Option<bool>,
    /// Cycles per step at 15 Hz firing with 1 ms steps (1.5 % of neurons and inputs spike
    /// per step), STDP on and off (docs/hdl.md formula, mean L and F).
    pub cycles_per_step_stdp: f64,
    pub cycles_per_step_no_stdp: f64,
    /// clock_hz / cycles_per_step_stdp.
    pub steps_per_s_at_target: f64,
    /// Fmax / cycles_per_step_stdp (what the same core could do if clocked at Fmax).
    pub steps_per_s_at_fmax: Option<f64>,
    /// Files written (Verilog, wrapper, constraints, logs, bitstream).
    pub files: Vec<String>,
    pub bitstream: Option<String>,
    /// Tool versions, in flow order.
    pub tools: Vec<String>,
    /// Wall-clock seconds per stage (informational).
    pub seconds: Vec<(String, f64)>,
    pub notes: Vec<String>,
}

/// Firing probability per step for "15 Hz at 1 ms per step".
pub const P_15HZ: f64 = 0.015;

/// (cycles with STDP, cycles without) per step at 15 Hz firing for `cfg`.
pub fn cycles_15hz(cfg: &CoreConfig) -> (f64, f64) {
    (
        expected_step_cycles(cfg, P_15HZ, P_15HZ, true),
        expected_step_cycles(cfg, P_15HZ, P_15HZ, false),
    )
}

impl BuildReport {
    /// A report with the configuration and the cycle model filled in.
    pub fn new(board: &crate::Board, cfg: &CoreConfig, verilog_hash: u64) -> BuildReport {
        let (stdp, plain) = cycles_15hz(cfg);
        BuildReport {
            board: board.name.clone(),
            device: board.device.clone(),
            package: board.package.clone(),
            neurons: cfg.shape.neurons,
            inputs: cfg.shape.inputs,
            weight_bits: cfg.shape.weight_bits,
            lanes: cfg.lanes,
            clock_hz: cfg.clock_hz,
            baud: cfg.baud,
            verilog_hash: format!("{verilog_hash:016x}"),
            luts: None,
            ffs: None,
            bram: None,
            spram: None,
            dsp: None,
            all_resources: vec![],
            target_mhz: cfg.clock_hz as f64 / 1e6,
            fmax_mhz: None,
            timing_met: None,
            cycles_per_step_stdp: stdp,
            cycles_per_step_no_stdp: plain,
            steps_per_s_at_target: cfg.clock_hz as f64 / stdp,
            steps_per_s_at_fmax: None,
            files: vec![],
            bitstream: None,
            tools: vec![],
            seconds: vec![],
            notes: vec![],
        }
    }

    /// Sets Fmax and the derived numbers.
    pub fn set_fmax(&mut self, fmax_mhz: f64) {
        self.fmax_mhz = Some(fmax_mhz);
        self.timing_met = Some(fmax_mhz >= self.target_mhz);
        self.steps_per_s_at_fmax = Some(fmax_mhz * 1e6 / self.cycles_per_step_stdp);
    }

    /// Human-readable text (also written as `report.txt`).
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut r = String::new();
        let _ = writeln!(
            r,
            "neurofab build for {} ({} {})",
            self.board, self.device, self.package
        );
        let _ = writeln!(
            r,
            "  core: N = {}, M = {}, W = {}, lanes P = {}, clock {} Hz, {} baud",
            self.neurons, self.inputs, self.weight_bits, self.lanes, self.clock_hz, self.baud
        );
        let _ = writeln!(
            r,
            "  verilog FNV-1a {} (generate_core(&cfg).verilog, unchanged)",
            self.verilog_hash
        );
        for (label, res) in [
            ("logic", &self.luts),
            ("FF", &self.ffs),
            ("BRAM", &self.bram),
            ("SPRAM", &self.spram),
            ("DSP", &self.dsp),
        ] {
            if let Some(x) = res {
                let _ = writeln!(
                    r,
                    "  {label:<6} {:>7} / {:<7} ({:5.1} %)  [{}]",
                    x.used,
                    x.available,
                    x.percent(),
                    x.name
                );
            }
        }
        match (self.fmax_mhz, self.timing_met) {
            (Some(f), Some(met)) => {
                let _ = writeln!(
                    r,
                    "  Fmax {f:.2} MHz vs target {:.2} MHz: {}",
                    self.target_mhz,
                    if met { "timing met" } else { "TIMING NOT MET" }
                );
            }
            _ => {
                let _ = writeln!(
                    r,
                    "  Fmax: not measured (target {:.2} MHz)",
                    self.target_mhz
                );
            }
        }
        let _ = writeln!(
            r,
            "  cycles/step at 15 Hz firing (1.5 %/step): {:.0} with STDP, {:.0} without",
            self.cycles_per_step_stdp, self.cycles_per_step_no_stdp
        );
        let _ = write!(
            r,
            "  projected steps/s with STDP: {:.0} at {:.2} MHz",
            self.steps_per_s_at_target, self.target_mhz
        );
        if let (Some(s), Some(f)) = (self.steps_per_s_at_fmax, self.fmax_mhz) {
            let _ = write!(r, ", {s:.0} at Fmax {f:.2} MHz");
        }
        let _ = writeln!(r);
        if let Some(b) = &self.bitstream {
            let _ = writeln!(r, "  bitstream: {b}");
        }
        for n in &self.notes {
            let _ = writeln!(r, "  note: {n}");
        }
        for t in &self.tools {
            let _ = writeln!(r, "  tool: {t}");
        }
        r
    }
}

/// Resources from nextpnr's `--report` JSON: `{"utilization": {NAME: {"used", "available"}}}`.
pub fn parse_utilization(json: &serde_json::Value) -> Vec<Resource> {
    let mut out = vec![];
    if let Some(map) = json.get("utilization").and_then(|u| u.as_object()) {
        for (name, v) in map {
            let used = v.get("used").and_then(|x| x.as_u64()).unwrap_or(0);
            let available = v.get("available").and_then(|x| x.as_u64()).unwrap_or(0);
            out.push(Resource {
                name: name.clone(),
                used,
                available,
            });
        }
    }
    out
}

/// Clocks from nextpnr's `--report` JSON: (net, achieved MHz, constraint MHz).
pub fn parse_fmax(json: &serde_json::Value) -> Vec<(String, f64, f64)> {
    let mut out = vec![];
    if let Some(map) = json.get("fmax").and_then(|u| u.as_object()) {
        for (name, v) in map {
            let achieved = v.get("achieved").and_then(|x| x.as_f64()).unwrap_or(0.0);
            let constraint = v.get("constraint").and_then(|x| x.as_f64()).unwrap_or(0.0);
            out.push((name.clone(), achieved, constraint));
        }
    }
    out
}

/// The "Device utilisation" block nextpnr logs before placement:
/// `Info:          ICESTORM_LC:  7724/ 5280   146%`.
pub fn parse_log_utilization(log: &str) -> Vec<Resource> {
    let mut out = vec![];
    let mut inside = false;
    for line in log.lines() {
        if line.contains("Device utilisation") {
            inside = true;
            out.clear();
            continue;
        }
        if !inside {
            continue;
        }
        let body = line.trim_start_matches("Info:").trim();
        let Some((name, rest)) = body.split_once(':') else {
            if body.is_empty() {
                inside = false;
            }
            continue;
        };
        let Some((used, avail)) = rest.split_once('/') else {
            inside = false;
            continue;
        };
        let avail = avail.split_whitespace().next().unwrap_or("");
        match (used.trim().parse(), avail.parse()) {
            (Ok(used), Ok(available)) => out.push(Resource {
                name: name.trim().to_string(),
                used,
                available,
            }),
            _ => inside = false,
        }
    }
    out
}

/// Flip-flop cells in a yosys `stat` text (SB_DFF*, TRELLIS_FF, FD*).
pub fn count_ffs(stat: &str) -> u64 {
    stat_cells(stat)
        .iter()
        .filter(|(n, _)| n.starts_with("SB_DFF") || n == "TRELLIS_FF" || n.starts_with("FD"))
        .map(|(_, c)| c)
        .sum()
}

/// `(cell type, count)` pairs of a yosys `stat` text.
pub fn stat_cells(stat: &str) -> Vec<(String, u64)> {
    stat.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next()?;
            let count = it.next()?.parse().ok()?;
            if it.next().is_some() || !name.chars().next()?.is_ascii_uppercase() {
                return None;
            }
            Some((name.to_string(), count))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_utilisation_is_parsed() {
        let log = "Info: Device utilisation:\n\
                   Info: \t         ICESTORM_LC:  7724/ 5280   146%\n\
                   Info: \t        ICESTORM_RAM:    33/   30   110%\n\
                   Info: \t               SB_IO:     7/   96     7%\n\
                   \n\
                   Info: Placed 0 cells based on constraints.\n";
        let r = parse_log_utilization(log);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].name, "ICESTORM_LC");
        assert_eq!((r[0].used, r[0].available), (7724, 5280));
        assert_eq!(r[1].name, "ICESTORM_RAM");
    }

    #[test]
    fn stat_counts_ffs() {
        let stat = "   Number of cells:              9205\n     SB_CARRY                     1572\n     SB_DFF                        814\n     SB_DFFE                       825\n     SB_LUT4                      5317\n";
        assert_eq!(count_ffs(stat), 814 + 825);
    }

    #[test]
    fn report_json_is_parsed() {
        let j: serde_json::Value = serde_json::from_str(
            r#"{"fmax": {"core_clk": {"achieved": 31.5, "constraint": 24.0}},
                "utilization": {"ICESTORM_LC": {"available": 5280, "used": 4000}}}"#,
        )
        .unwrap();
        assert_eq!(parse_fmax(&j), vec![("core_clk".to_string(), 31.5, 24.0)]);
        assert_eq!(parse_utilization(&j)[0].used, 4000);
    }
}
