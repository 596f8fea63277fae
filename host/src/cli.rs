//! The `neurofab` command line (clap derive) and its subcommands.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::compile::{compile, CompiledNetwork};
use crate::config::Config;
use crate::device::{self, DeviceError};
use crate::error::{ConfigError, Error, EXIT_DEVICE, EXIT_IO, EXIT_USAGE};
use crate::inputs::SpikeTrain;
use crate::run::{run, write_weights_csv};

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  2  usage error, or an error in the network file or a spike file
     (messages point at file:line:col)
  3  device error
  4  I/O error (a file could not be read or written)

The network format is documented in docs/network-format.md; examples/ has
ready-to-run networks.";

/// neurofab: compile spiking networks for the neurofab neuromorphic core and run them.
#[derive(Debug, Parser)]
#[command(
    name = "neurofab",
    version,
    about = "Compile spiking networks (TOML, physical units) for the neurofab core and run them",
    long_about = "\
neurofab compiles a spiking network described in TOML (populations of LIF
neurons, input groups, projections, STDP; physical units: ms, mV, Hz) onto the
integers of a neurofab core, and runs it on a device.

Examples:
  neurofab check examples/balanced.toml
      compile, print the layout and the quantisation report
  neurofab run examples/stdp_pattern.toml --out spikes.csv --weights-out w.csv
      run with the file's step count; write output spikes and final weights
  neurofab run examples/balanced.toml --steps 5000 --json
      run 5000 steps, print the summary as JSON",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile a network and run it on a device
    #[command(
        long_about = "\
Compile NET.toml and run it on a device. Prints one summary line (steps, spikes,
mean rate per population, wall time, steps/s) on stdout.

Examples:
  neurofab run examples/balanced.toml
  neurofab run examples/stdp_pattern.toml --steps 20000 --out spikes.csv --weights-out weights.csv
  neurofab run net.toml --input my_inputs.csv --device model --quiet

Output files:
  --out          CSV with header `step,neuron`: one line per output spike;
                 neuron is the core neuron index (`neurofab check` prints which
                 indices each population got).
  --weights-out  CSV with header `source,neuron,weight,weight_mv`: one line per
                 present (non-zero) or plastic synapse after the run. source is
                 the presynaptic row: input i is i, neuron n is M+n (M = core inputs).
  --input        CSV `step,input` (header optional, input = core input index)
                 replacing the network's own [[input]] groups.",
        after_help = AFTER_HELP
    )]
    Run(RunArgs),
    /// Compile a network; print its layout and quantisation report
    #[command(
        long_about = "\
Compile NET.toml without running it. Prints which core indices each input group
and population got, how much of the core it uses, and the quantisation report:
for every quantity (time constants, potentials, refractory periods, weights,
STDP amplitudes and bounds) the requested and effective values and the worst
absolute and relative error.

Example:
  neurofab check examples/stdp_pattern.toml",
        after_help = AFTER_HELP
    )]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The network file (TOML)
    #[arg(value_name = "NET.toml")]
    pub network: PathBuf,
    /// Number of steps (default: [simulation] steps of the file)
    #[arg(long, value_name = "K")]
    pub steps: Option<u32>,
    /// Input spikes CSV `step,input` (core input indices); replaces the file's inputs
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Write output spikes to this CSV (`step,neuron`)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the final weights to this CSV (`source,neuron,weight,weight_mv`)
    #[arg(long, value_name = "FILE")]
    pub weights_out: Option<PathBuf>,
    /// Device to run on
    #[arg(long, value_name = "DEVICE", default_value = "model", value_parser = device::parse_device_name)]
    pub device: String,
    /// No progress bar and no notes on stderr
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the summary as one JSON object instead of a line of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The network file (TOML)
    #[arg(value_name = "NET.toml")]
    pub network: PathBuf,
}

/// Runs a parsed command line.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(a) => cmd_run(&a),
        Command::Check(a) => cmd_check(&a),
    }
}

fn load(path: &Path) -> anyhow::Result<(Config, CompiledNetwork)> {
    let cfg = Config::load(path)?;
    let net = compile(&cfg)?;
    Ok((cfg, net))
}

fn create(path: &Path, what: &str) -> Result<BufWriter<File>, Error> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|e| Error::io(format!("cannot create {what}"), path, e))
}

fn write_err<'a>(path: &'a Path, what: &str) -> impl FnOnce(std::io::Error) -> Error + 'a {
    let what = format!("cannot write {what}");
    move |e| Error::io(what, path, e)
}

fn cmd_run(a: &RunArgs) -> anyhow::Result<()> {
    let (_cfg, net) = load(&a.network)?;
    let steps = a.steps.unwrap_or(net.steps);
    let train = match &a.input {
        Some(path) => SpikeTrain::from_csv(path, net.shape.inputs, steps)?,
        None => net.input_train(steps),
    };
    let mut dev = device::open(&a.device, &net).map_err(Error::from)?;

    let show = !a.quiet && std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(Some(u64::from(steps)), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} steps ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut visible = false;
    let result = run(dev.as_mut(), &train, steps, |done| {
        if show && !visible && started.elapsed() > Duration::from_secs(1) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            visible = true;
        }
        bar.set_position(u64::from(done));
    })
    .map_err(Error::from)?;
    bar.finish_and_clear();

    if let Some(path) = &a.out {
        let mut w = create(path, "spike file")?;
        result
            .write_spikes_csv(&mut w)
            .and_then(|_| w.flush())
            .map_err(write_err(path, "spike file"))?;
        if !a.quiet {
            eprintln!("wrote {} spikes to {}", result.spikes.len(), path.display());
        }
    }
    if let Some(path) = &a.weights_out {
        let weights = dev.weights().map_err(Error::from)?;
        let mut w = create(path, "weights file")?;
        write_weights_csv(&mut w, &net, &weights)
            .and_then(|_| w.flush())
            .map_err(write_err(path, "weights file"))?;
        if !a.quiet {
            eprintln!("wrote weights to {}", path.display());
        }
    }
    if a.json {
        println!("{}", result.summary_json(&net, dev.name()));
    } else {
        println!("{}", result.summary_line(&net, dev.name()));
    }
    Ok(())
}

fn cmd_check(a: &CheckArgs) -> anyhow::Result<()> {
    let (cfg, net) = load(&a.network)?;
    let mut out = String::new();
    let s = net.shape;
    let present = net.weights.iter().filter(|&&w| w != 0).count();
    let plastic = net.plastic.iter().filter(|&&p| p).count();
    out.push_str(&format!(
        "{}: OK\ncore: {} neurons ({} used), {} inputs ({} used), {}-bit weights; {} synapses present, {} plastic\n",
        a.network.display(),
        s.neurons,
        cfg.neurons_used(),
        s.inputs,
        cfg.inputs_used(),
        s.weight_bits,
        present,
        plastic
    ));
    out.push_str(&format!(
        "simulation: dt = {} ms, lsb = {} mV, {} steps ({} s), seed {}; STDP {}\n\nlayout:\n",
        net.dt_ms,
        net.lsb_mv,
        net.steps,
        f64::from(net.steps) * net.dt_ms / 1000.0,
        net.seed,
        if net.stdp.enabled { "on" } else { "off" }
    ));
    for (g, members) in net.input_groups.iter().zip(&net.pattern_members) {
        out.push_str(&format!(
            "  input      {:<16} inputs  {:>4}..{:<4} ({} inputs)",
            g.name,
            g.first,
            g.first + g.size,
            g.size
        ));
        if !members.is_empty() {
            let list: Vec<String> = members.iter().map(u16::to_string).collect();
            out.push_str(&format!("; pattern members: {}", list.join(" ")));
        }
        out.push('\n');
    }
    for g in &net.populations {
        out.push_str(&format!(
            "  population {:<16} neurons {:>4}..{:<4} ({} neurons; as sources rows {}..{})\n",
            g.name,
            g.first,
            g.first + g.size,
            g.size,
            g.first + s.inputs,
            g.first + g.size + s.inputs
        ));
    }
    out.push_str("\nquantisation report:\n");
    out.push_str(&net.report.to_string());
    print!("{out}");
    Ok(())
}

/// The exit code for an error from [`execute`].
pub fn exit_code(e: &anyhow::Error) -> i32 {
    for cause in e.chain() {
        if let Some(x) = cause.downcast_ref::<Error>() {
            return x.exit_code();
        }
        if cause.is::<ConfigError>() {
            return EXIT_USAGE;
        }
        if cause.is::<DeviceError>() {
            return EXIT_DEVICE;
        }
        if cause.is::<std::io::Error>() {
            return EXIT_IO;
        }
    }
    EXIT_USAGE
}

/// Formats an error and its causes as `error: …` lines (no backtrace).
pub fn format_error(e: &anyhow::Error) -> String {
    let mut out = format!("error: {e}");
    let mut last = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !last.contains(&c) {
            out.push_str(&format!("\n  caused by: {c}"));
        }
        last = c;
    }
    out
}
