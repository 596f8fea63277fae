//! The `neurofab` command line (clap derive) and its subcommands.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::compile::{compile, CompiledNetwork};
use crate::config::Config;
use std::sync::atomic::AtomicBool;

use crate::device::{self, Device, DeviceError};
use crate::error::{ConfigError, Error, EXIT_IO, EXIT_USAGE};
use crate::inputs::SpikeTrain;
use crate::link::{serve, FaultConfig, LinkOptions, ServeOptions};
use crate::run::{run, write_weights_csv};

const AFTER_HELP: &str = "\
Devices (--device):
  model               the bit-exact reference model, in-process (default)
  proto-model         the reference device in-process behind the full wire protocol
  serial:PATH[@BAUD]  a board (or `neurofab serve`) on a serial port; default 115200 baud
  rtl                 the Verilator RTL core (not wired up yet)

Exit codes:
  0  success
  2  usage error, or an error in the network file or a spike file
     (messages point at file:line:col)
  3  device error: the device refused a command, or the network does not fit it
  4  I/O error (a file could not be read or written)
  5  link error: the port is missing or vanished, or the device stopped answering
  6  the port answered, but not as a neurofab core (garbage, wrong magic)
  7  the neurofab core speaks another protocol version
  8  board build failed: the design does not fit the device or does not meet
     timing (build), or no size fits (fit)
  9  an external tool (yosys, nextpnr, icepack/ecppack, iceprog, openFPGALoader)
     is missing; the message gives the install command
  10 an external tool failed (a flow tool: the log's tail is shown; or the
     programmer of `flash`)

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
    /// Generate the core's Verilog and a report from a core configuration
    #[command(
        long_about = "\
Generate the Verilog of a neurofab core (rust-hdl) and a report: sizes, memories,
cycles per step. The core clears its own memories at power-on, so there are no
memory initialisation files. The same Verilog is what `--device rtl` simulates and
what a board build synthesises (the report carries its hash).

Examples:
  neurofab generate --out build/core
      the default core: 256 neurons, 64 inputs, 8-bit weights, 4 lanes, 12 MHz, 115200 baud
  neurofab generate --neurons 512 --inputs 128 --lanes 8 --clock-hz 50000000 --out build/big
  neurofab generate --config core.toml --out build/core

A core file has one [core] table with any of: neurons, inputs, weight_bits, lanes,
clock_hz, baud, step_window, replay_depth, rx_buffer, core_id, weight_memory
(flags override it).",
        after_help = AFTER_HELP
    )]
    Generate(GenerateArgs),
    /// Show a device's capabilities (IDENTITY)
    #[command(
        long_about = "\
Open a device and print what it reports about itself: protocol version, core
size (neurons, inputs, weight bits), lanes, clock, baud, frame limits, step
window, replay depth, features and core id.

Examples:
  neurofab info --device serial:/dev/ttyUSB0@115200
  neurofab info --device model --json",
        after_help = AFTER_HELP
    )]
    Info(InfoArgs),
    /// Serve a virtual board on a pty (or a given serial port)
    #[command(
        long_about = "\
Create a pty pair, print the path of its device side, and serve a neurofab core
on it until killed: any serial client (this CLI with --device serial:PATH, a
Python script with pyserial, a terminal) talks to it exactly as to a board.

Examples:
  neurofab serve --device model
      prints e.g. `serving a neurofab core on /dev/pts/5`; then, elsewhere:
      neurofab run examples/balanced.toml --device serial:/dev/pts/5
  neurofab serve --for examples/balanced.toml --baud 921600 --pace
      a core sized for the network, pacing bytes at 921600 baud
  neurofab serve --fault-rate 0.001
      flip, drop or delay one byte in 1,000 in each direction",
        after_help = AFTER_HELP
    )]
    Serve(ServeArgs),
    /// Read or write a device's weight matrix (CSV or NumPy .npy)
    #[command(
        long_about = "\
Read the weight matrix from a device into FILE, or write FILE to the device.
The format follows the extension: `.npy` is a NumPy int16 array of shape
(M+N, N) (rows are sources: inputs 0..M, then neuron n as M+n); anything else
is CSV `source,neuron,weight` (one line per non-zero weight; missing entries
are 0 when writing).

With --net the network is loaded first (needed for --device model, whose
weights do not outlive the command) and the matrix has the network's shape.

Examples:
  neurofab weights read --device serial:/dev/ttyUSB0 w.npy
  neurofab weights write --device serial:/dev/ttyUSB0 w.csv
  neurofab weights read --device model --net examples/stdp_pattern.toml w.csv",
        after_help = AFTER_HELP
    )]
    Weights(WeightsArgs),
    /// Print the dynamic state of a device (v, i, refractory, traces)
    #[command(
        long_about = "\
Print every neuron's membrane potential v, synaptic current i, refractory
counter and post-trace, and every source's pre-trace, as CSV (or --json).
With --net the network is loaded (and --steps K run) first.

Examples:
  neurofab state --device serial:/dev/ttyUSB0
  neurofab state --device model --net examples/balanced.toml --steps 100",
        after_help = AFTER_HELP
    )]
    State(StateArgs),
    /// Measure a device: steps/s, synaptic events/s, link utilisation
    #[command(
        long_about = "\
Load NET.toml and run it for --steps steps, then print steps/s, synaptic
events/s (docs/core-spec.md §8) and, over a serial link, the fraction of the
line rate used in each direction. Numbers, not pass/fail.

Example:
  neurofab bench examples/balanced.toml --device serial:/dev/pts/5@921600",
        after_help = AFTER_HELP
    )]
    Bench(BenchArgs),
    /// Draw a spike raster, a weight heatmap or membrane traces (PNG or SVG)
    #[command(
        long_about = "\
Draw a chart from a file that neurofab wrote, as PNG or SVG (from the extension
of --out).

Kinds:
  raster   FILE is a spike CSV `step,neuron` (run --out). One dot per spike:
           time across (steps; ms with --network), core neuron index up. With
           --network the dots are coloured by population, with a legend.
  weights  FILE is a weight CSV `source,neuron,weight[,weight_mv]` (run
           --weights-out, weights read) or a NumPy .npy (weights read). A
           heatmap of sources (rows: inputs 0..M, then neuron n as M+n) x
           neurons, blue negative, red positive, with a colour bar; in mV when
           the CSV has weight_mv or --network is given, else in core units.
  state    FILE is `step,neuron,v,i` (run --record N,... --record-out FILE):
           v and i over time per neuron; or the CSV of `neurofab state`: v and i
           across neurons. With --network in mV and ms.

Examples:
  neurofab run examples/balanced.toml --out spikes.csv --weights-out w.csv
  neurofab plot raster spikes.csv --out raster.png --network examples/balanced.toml
  neurofab plot weights w.csv --out weights.svg
  neurofab run examples/balanced.toml --record 0-3 --record-out v.csv --steps 500
  neurofab plot state v.csv --out v.png --network examples/balanced.toml",
        after_help = AFTER_HELP
    )]
    Plot(PlotArgs),
    /// List the board database: devices, core clocks, UART, programmers, capacity
    #[command(
        long_about = "\
List the boards neurofab can build for (boards/*.toml, compiled in): FPGA family,
device and package, the core clock the board's PLL makes from its oscillator, the
UART baud rate, the programmer `flash` runs (and the Debian package providing it),
the device's capacity, what the open flow produces for it, and the largest core
recorded by `fit` if the board file has one.

Examples:
  neurofab boards
  neurofab boards icebreaker
  neurofab boards --json

The NAME of a board is what --board takes in build, fit and flash; --board also
accepts the path of a board file (FILE.toml, same format as boards/*.toml).",
        after_help = AFTER_HELP
    )]
    Boards(BoardsArgs),
    /// Build a bitstream for a board: core + board wrapper through yosys/nextpnr
    #[command(
        long_about = "\
Generate the neurofab core (exactly the Verilog of `neurofab generate`) and the
board wrapper (PLL, clock gating until lock, UART pins, LEDs), then run the open
flow: yosys -> nextpnr -> icepack (iCE40) or ecppack (ECP5). Writes into DIR the
Verilog, the constraints, the tool logs, the bitstream (neurofab_board.bin or
.bit), report.txt and report.json, and prints the report: LUT/FF/BRAM/SPRAM/DSP
use, Fmax against the target clock, cycles per step at 15 Hz firing, projected
steps/s, and the hash of the synthesised Verilog.

The core clock and the UART baud rate are the board's (its PLL output and UART);
a --config file may set clock_hz and baud only to those values (an error at
file:line otherwise). Sizes come from the flags, else the file, else the default
core (256 x 64, 8-bit weights, 4 lanes); the receive ring is 2 KiB unless the
file sets rx_buffer.

--loopback builds the UART loopback bring-up design instead of the core (echoes
every byte): it checks the board's clock, PLL, UART pins and programmer.

Artix-7 (cmod-a7-35t): there is no open place and route; build writes the
Verilog, the XDC and a Vivado batch script (build.tcl) and says so. Vivado is
not run.

Examples:
  neurofab build --board icebreaker --loopback --out build/ice-loop
  neurofab build --board ulx3s-25f --neurons 8 --inputs 2 --lanes 1 --out build/ulx3s
  neurofab build --board ulx3s-85f --config core.toml --out build/big
  neurofab flash --board ulx3s-25f build/ulx3s/neurofab_board.bit

Fails with exit code 8 when the design does not fit (naming the resource) or does
not meet timing (naming Fmax and the target; the bitstream and report are still
written), 9 when a tool is missing (with its install command).",
        after_help = AFTER_HELP
    )]
    Build(BuildArgs),
    /// Find the largest core that fits a board and meets timing (by building)
    #[command(
        long_about = "\
Binary search over the number of neurons N (multiples of --step between --min
and --max; M = max(--min-inputs, N / --inputs-divisor)) by full builds into
DIR/N<n>: a size fits if its build fits the device and meets timing at the
board's core clock. Prints every probe (N, M, outcome) and the best
configuration with its report. Each probe is a full synthesis and place and
route: minutes per probe on large devices; narrow --min/--max to save time.

Examples:
  neurofab fit --board ulx3s-25f --lanes 1 --min 8 --max 64 --step 8 --out build/fit
  neurofab fit --board ulx3s-85f --lanes 4 --max 1024 --out build/fit85

Exit code 8 when nothing fits (the message gives the smallest probe's failure).",
        after_help = AFTER_HELP
    )]
    Fit(FitArgs),
    /// Write a bitstream to a board (iceprog / openFPGALoader)
    #[command(
        long_about = "\
Run the board's programmer on BITSTREAM: iceprog for the iCE40 boards,
openFPGALoader --board ulx3s for the ULX3S, openFPGALoader --board cmoda7_35t
for the Cmod A7. The programmer's output is passed through; its failure is
reported with exit code 10. A missing programmer gives exit code 9 and the
install command; a missing or unreadable bitstream exit code 4.

--dry-run prints the exact command and runs nothing.

Examples:
  neurofab flash --board icebreaker build/ice-loop/neurofab_board.bin
  neurofab flash --board ulx3s-85f build/big/neurofab_board.bit --dry-run",
        after_help = AFTER_HELP
    )]
    Flash(FlashArgs),
}

/// How to reach a device.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// Device: model, proto-model, serial:PATH[@BAUD] or rtl[:MODEL] (the Verilator-simulated
    /// core driven through its UART pins; default model core_256)
    #[arg(long, value_name = "DEVICE", default_value = "model", value_parser = device::parse_device_name)]
    pub device: String,
    /// With --device rtl: write a VCD waveform of the simulated core to FILE (GTKWave)
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Reply timeout in ms, on top of the wire time of the longest frame
    #[arg(long, value_name = "MS", default_value_t = 250)]
    pub timeout: u64,
    /// Retransmissions before giving up on a command
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub retries: u32,
    /// At most this many STEP frames in flight (default: the device's step window)
    #[arg(long, value_name = "N")]
    pub window: Option<u8>,
}

impl DeviceArgs {
    fn options(&self, verify: bool) -> LinkOptions {
        LinkOptions {
            timeout: Duration::from_millis(self.timeout),
            retries: self.retries,
            verify,
            window: self.window,
        }
    }
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Core configuration file ([core] table); flags override its fields
    #[arg(long, value_name = "core.toml")]
    pub config: Option<PathBuf>,
    /// N, neurons (1..=4096)
    #[arg(long, value_name = "N")]
    pub neurons: Option<u16>,
    /// M, external inputs (0..=4096)
    #[arg(long, value_name = "M")]
    pub inputs: Option<u16>,
    /// W, bits of a signed weight (2..=16)
    #[arg(long, value_name = "W")]
    pub weight_bits: Option<u8>,
    /// P, weights read and written per clock cycle (1, 2, 4 or 8)
    #[arg(long, value_name = "P")]
    pub lanes: Option<u8>,
    /// Where weights and masks live: block (block RAM) or spram (iCE40 UltraPlus SPRAM,
    /// one lane)
    #[arg(long, value_name = "MEM", value_parser = parse_weight_memory)]
    pub weight_memory: Option<neurofab_proto::WeightMemory>,
    /// Core clock in Hz (the UART divisor is clock / baud)
    #[arg(long, value_name = "HZ")]
    pub clock_hz: Option<u32>,
    /// UART baud rate
    #[arg(long, value_name = "BAUD")]
    pub baud: Option<u32>,
    /// Output directory (neurofab_core.v, report.txt)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BoardsArgs {
    /// Show only this board
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Print the board files as one JSON array
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The board (see `neurofab boards`), or a board file FILE.toml
    #[arg(long, value_name = "NAME")]
    pub board: String,
    /// Core configuration file ([core] table, as for `generate`); flags override its sizes
    #[arg(long, value_name = "core.toml", conflicts_with = "loopback")]
    pub config: Option<PathBuf>,
    /// N, neurons (1..=4096)
    #[arg(long, value_name = "N", conflicts_with = "loopback")]
    pub neurons: Option<u16>,
    /// M, external inputs (0..=4096)
    #[arg(long, value_name = "M", conflicts_with = "loopback")]
    pub inputs: Option<u16>,
    /// W, bits of a signed weight (2..=16)
    #[arg(long, value_name = "W", conflicts_with = "loopback")]
    pub weight_bits: Option<u8>,
    /// P, weights read and written per clock cycle (1, 2, 4 or 8)
    #[arg(long, value_name = "P", conflicts_with = "loopback")]
    pub lanes: Option<u8>,
    /// Where weights and masks live: block or spram (default: the board's choice, spram
    /// on the iCEBreaker)
    #[arg(long, value_name = "MEM", value_parser = parse_weight_memory, conflicts_with = "loopback")]
    pub weight_memory: Option<neurofab_proto::WeightMemory>,
    /// Build the UART loopback bring-up design instead of the core
    #[arg(long)]
    pub loopback: bool,
    /// Output directory (Verilog, constraints, logs, bitstream, report.txt, report.json)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress on stderr
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// The board (see `neurofab boards`), or a board file FILE.toml
    #[arg(long, value_name = "NAME")]
    pub board: String,
    /// P, lanes of every probed core (1, 2, 4 or 8; default 4, or 1 on a board with SPRAM
    /// weights)
    #[arg(long, value_name = "P", value_parser = parse_lanes)]
    pub lanes: Option<u8>,
    /// Smallest N to try
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub min: u16,
    /// Largest N to try
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub max: u16,
    /// N is a multiple of this
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub step: u16,
    /// M = N / D (at least --min-inputs)
    #[arg(long, value_name = "D", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub inputs_divisor: u16,
    /// Smallest M
    #[arg(long, value_name = "M", default_value_t = 4)]
    pub min_inputs: u16,
    /// Work directory: one build per probe in DIR/N<n>
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress on stderr
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_weight_memory(s: &str) -> Result<neurofab_proto::WeightMemory, String> {
    neurofab_proto::WeightMemory::from_name(s)
        .ok_or_else(|| format!("{s}: weight memory must be block or spram"))
}

fn parse_lanes(s: &str) -> Result<u8, String> {
    match s.parse::<u8>() {
        Ok(p @ (1 | 2 | 4 | 8)) => Ok(p),
        _ => Err(format!("{s}: lanes must be 1, 2, 4 or 8")),
    }
}

#[derive(Debug, Args)]
pub struct FlashArgs {
    /// The board (see `neurofab boards`), or a board file FILE.toml
    #[arg(long, value_name = "NAME")]
    pub board: String,
    /// The bitstream: neurofab_board.bin (iCE40) or neurofab_board.bit (ECP5, Artix-7)
    #[arg(value_name = "BITSTREAM")]
    pub bitstream: PathBuf,
    /// Print the programmer command instead of running it
    #[arg(long)]
    pub dry_run: bool,
    /// No notes on stderr (the programmer's own output still shows)
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub dev: DeviceArgs,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The core to serve: model (the reference device) or rtl[:MODEL] (the Verilator core)
    #[arg(long, value_name = "DEVICE", default_value = "model")]
    pub device: String,
    /// Serve on this existing serial port instead of a new pty
    #[arg(long, value_name = "PATH")]
    pub link: Option<PathBuf>,
    /// Size the core for this network ([core] of the file)
    #[arg(long = "for", value_name = "NET.toml", conflicts_with_all = ["neurons", "inputs", "weight_bits"])]
    pub for_net: Option<PathBuf>,
    /// N, neurons of the core
    #[arg(long, value_name = "N")]
    pub neurons: Option<u16>,
    /// M, inputs of the core
    #[arg(long, value_name = "M")]
    pub inputs: Option<u16>,
    /// W, weight bits of the core
    #[arg(long, value_name = "W")]
    pub weight_bits: Option<u8>,
    /// Baud rate the core reports (and paces at with --pace)
    #[arg(long, value_name = "BAUD", default_value_t = neurofab_proto::DEFAULT_BAUD)]
    pub baud: u32,
    /// Model the line rate: deliver and send bytes no faster than --baud allows
    #[arg(long)]
    pub pace: bool,
    /// Step window the core reports (1..=8)
    #[arg(long, value_name = "N")]
    pub step_window: Option<u8>,
    /// Inject faults: this fraction of bytes (each direction) is flipped, dropped or delayed
    #[arg(long, value_name = "RATE")]
    pub fault_rate: Option<f64>,
    /// Seed of the fault pattern
    #[arg(long, value_name = "SEED", default_value_t = 1)]
    pub fault_seed: u64,
    /// Exit after this many seconds without traffic
    #[arg(long, value_name = "SECS")]
    pub exit_after_idle: Option<f64>,
    /// With --device rtl: write a VCD waveform of the simulated core to FILE (GTKWave)
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WeightsOp {
    /// Device -> FILE
    Read,
    /// FILE -> device
    Write,
}

#[derive(Debug, Args)]
pub struct WeightsArgs {
    /// read (device to FILE) or write (FILE to device)
    #[arg(value_enum)]
    pub op: WeightsOp,
    /// CSV or .npy file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub dev: DeviceArgs,
    /// Load this network first; the matrix has its shape
    #[arg(long, value_name = "NET.toml")]
    pub net: Option<PathBuf>,
    /// No progress bar and no notes on stderr
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(flatten)]
    pub dev: DeviceArgs,
    /// Load this network first
    #[arg(long, value_name = "NET.toml")]
    pub net: Option<PathBuf>,
    /// With --net: run this many steps (the network's inputs) before reading
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub steps: u32,
    /// Print one JSON object instead of CSV
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The network file (TOML)
    #[arg(value_name = "NET.toml")]
    pub network: PathBuf,
    #[command(flatten)]
    pub dev: DeviceArgs,
    /// Steps to run
    #[arg(long, value_name = "K", default_value_t = 2000)]
    pub steps: u32,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
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
    #[command(flatten)]
    pub dev: DeviceArgs,
    /// After the upload, read everything back and compare
    #[arg(long)]
    pub verify: bool,
    /// No progress bar and no notes on stderr
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the summary as one JSON object instead of a line of text
    #[arg(long)]
    pub json: bool,
    /// After the run, draw the spike raster to FILE (.png or .svg), coloured by population
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Record v and i of these neurons after every step (`0,1,2` or `0-3`; needs --record-out)
    #[arg(long, value_name = "N1,N2,...", requires = "record_out", value_parser = crate::plot::parse_neuron_list)]
    pub record: Option<::std::vec::Vec<u16>>,
    /// Write the recorded states to this CSV (`step,neuron,v,i`; `neurofab plot state` draws it)
    #[arg(long, value_name = "FILE", requires = "record")]
    pub record_out: Option<PathBuf>,
}

/// What `neurofab plot` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotKind {
    /// Spike raster from a `step,neuron` CSV
    Raster,
    /// Weight heatmap (source x neuron) from a weight CSV or .npy
    Weights,
    /// Membrane traces (`step,neuron,v,i`) or a `neurofab state` snapshot
    State,
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// raster, weights or state
    #[arg(value_enum)]
    pub kind: PlotKind,
    /// The input file (spike CSV, weight CSV or .npy, state CSV)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The picture to write: .png or .svg
    #[arg(long, short, value_name = "OUT.png|OUT.svg")]
    pub out: PathBuf,
    /// The network the file came from: populations, ms and mV
    #[arg(long, alias = "net", value_name = "NET.toml")]
    pub network: Option<PathBuf>,
    /// raster: steps shown on the time axis (default: the network's steps or the last spike)
    #[arg(long, value_name = "K")]
    pub steps: Option<u32>,
    /// Title (default: says what is shown)
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Picture width in pixels
    #[arg(long, value_name = "PX", default_value_t = crate::plot::DEFAULT_SIZE.0, value_parser = clap::value_parser!(u32).range(200..=10000))]
    pub width: u32,
    /// Picture height in pixels
    #[arg(long, value_name = "PX", default_value_t = crate::plot::DEFAULT_SIZE.1, value_parser = clap::value_parser!(u32).range(150..=10000))]
    pub height: u32,
    /// No note on stderr
    #[arg(long, short)]
    pub quiet: bool,
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
        Command::Generate(a) => cmd_generate(&a),
        Command::Info(a) => cmd_info(&a),
        Command::Serve(a) => cmd_serve(&a),
        Command::Weights(a) => cmd_weights(&a),
        Command::State(a) => cmd_state(&a),
        Command::Bench(a) => cmd_bench(&a),
        Command::Plot(a) => cmd_plot(&a),
        Command::Boards(a) => crate::boards::cmd_boards(&a),
        Command::Build(a) => crate::boards::cmd_build(&a),
        Command::Fit(a) => crate::boards::cmd_fit(&a),
        Command::Flash(a) => crate::boards::cmd_flash(&a),
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

/// A progress bar that appears only on a terminal, and only after a second.
struct Progress {
    bar: ProgressBar,
    show: bool,
    started: Instant,
    visible: bool,
}

impl Progress {
    fn new(quiet: bool, template: &str) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress {
            bar,
            show: !quiet && std::io::stderr().is_terminal(),
            started: Instant::now(),
            visible: false,
        }
    }

    fn set(&mut self, done: u64, total: u64) {
        if self.show && !self.visible && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.visible = true;
        }
        self.bar.set_length(total);
        self.bar.set_position(done);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

const UPLOAD_BAR: &str = "{spinner} upload [{elapsed_precise}] {wide_bar} {pos}/{len} frames";
const RUN_BAR: &str =
    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} steps ({per_sec}, eta {eta})";

/// Opens the device and loads `net`, with a progress bar for slow uploads.
fn open_loaded(
    d: &DeviceArgs,
    net: &CompiledNetwork,
    verify: bool,
    quiet: bool,
) -> Result<Box<dyn Device>, Error> {
    let mut p = Progress::new(quiet, UPLOAD_BAR);
    let dev = device::open_with_traced(
        &d.device,
        net,
        &d.options(verify),
        d.trace.as_deref(),
        &mut |a, b| p.set(a, b),
    )?;
    p.finish();
    Ok(dev)
}

fn cmd_run(a: &RunArgs) -> anyhow::Result<()> {
    let (_cfg, net) = load(&a.network)?;
    let steps = a.steps.unwrap_or(net.steps);
    let train = match &a.input {
        Some(path) => SpikeTrain::from_csv(path, net.shape.inputs, steps)?,
        None => net.input_train(steps),
    };
    // Refuse a bad --plot name or --record neuron before the run, not after it.
    if let Some(path) = &a.plot {
        crate::plot::Format::from_path(path)?;
    }
    if let Some(&n) = a.record.iter().flatten().find(|&&n| n >= net.shape.neurons) {
        return Err(Error::Config(ConfigError::plain(
            "--record",
            format!(
                "neuron {n} does not exist: the network's core has {} neurons",
                net.shape.neurons
            ),
        ))
        .into());
    }
    let mut dev = open_loaded(&a.dev, &net, a.verify, a.quiet)?;
    if a.verify && !a.quiet {
        eprintln!("verified the upload to {}", dev.name());
    }

    let mut p = Progress::new(a.quiet, RUN_BAR);
    let progress = |done| p.set(u64::from(done), u64::from(steps));
    let (result, recorded) = match &a.record {
        Some(neurons) => crate::plot::run_recorded(dev.as_mut(), &train, steps, neurons, progress)
            .map(|(r, s)| (r, Some(s))),
        None => run(dev.as_mut(), &train, steps, progress).map(|r| (r, None)),
    }
    .map_err(Error::from)?;
    p.finish();

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
    if let (Some(path), Some(samples)) = (&a.record_out, &recorded) {
        let mut w = create(path, "record file")?;
        crate::plot::write_traces_csv(&mut w, samples)
            .and_then(|_| w.flush())
            .map_err(write_err(path, "record file"))?;
        if !a.quiet {
            eprintln!(
                "wrote {} state samples to {}",
                samples.len(),
                path.display()
            );
        }
    }
    if let Some(path) = &a.plot {
        let mut raster = crate::plot::Raster::new(&result.spikes);
        raster.net = Some(&net);
        raster.steps = Some(steps);
        crate::plot::save(path, &raster)?;
        if !a.quiet {
            eprintln!("wrote the spike raster to {}", path.display());
        }
    }
    // Link statistics after the weight read-back, so that they cover the whole session.
    let mut result = result;
    result.link = dev.link_stats();
    if a.json {
        println!("{}", result.summary_json(&net, dev.name()));
    } else {
        println!("{}", result.summary_line(&net, dev.name()));
    }
    Ok(())
}

fn capabilities_json(c: &neurofab_proto::Capabilities) -> serde_json::Value {
    serde_json::json!({
        "protocol_version": c.protocol_version,
        "neurons": c.shape.neurons,
        "inputs": c.shape.inputs,
        "weight_bits": c.shape.weight_bits,
        "lanes": c.lanes,
        "clock_hz": c.clock_hz,
        "baud": c.baud,
        "max_payload": c.max_payload,
        "step_window": c.step_window,
        "replay_depth": c.replay_depth,
        "stdp": c.has_stdp(),
        "state_readout": c.has_state_readout(),
        "core_id": format!("{:#010x}", c.core_id),
    })
}

fn cmd_info(a: &InfoArgs) -> anyhow::Result<()> {
    let dev = device::open_traced(&a.dev.device, &a.dev.options(false), a.dev.trace.as_deref())
        .map_err(Error::from)?;
    let c = dev.capabilities();
    if a.json {
        let mut v = capabilities_json(&c);
        v["device"] = dev.name().into();
        println!("{v}");
        return Ok(());
    }
    let mut features = Vec::new();
    if c.has_stdp() {
        features.push("STDP");
    }
    if c.has_state_readout() {
        features.push("state readout");
    }
    println!(
        "{}: neurofab core, protocol version {}\n  core:     {} neurons x {} inputs, {}-bit weights, {} lanes\n  clock:    {} Hz, UART {} baud\n  link:     max payload {} bytes, step window {}, replay depth {}\n  features: {}\n  core id:  {:#010x}",
        dev.name(),
        c.protocol_version,
        c.shape.neurons,
        c.shape.inputs,
        c.shape.weight_bits,
        c.lanes,
        c.clock_hz,
        c.baud,
        c.max_payload,
        c.step_window,
        c.replay_depth,
        if features.is_empty() { "-".into() } else { features.join(", ") },
        c.core_id
    );
    Ok(())
}

fn cmd_generate(a: &GenerateArgs) -> anyhow::Result<()> {
    let o = crate::generate::CoreOverrides {
        neurons: a.neurons,
        inputs: a.inputs,
        weight_bits: a.weight_bits,
        lanes: a.lanes,
        clock_hz: a.clock_hz,
        baud: a.baud,
        weight_memory: a.weight_memory,
    };
    let cfg = crate::generate::core_config(a.config.as_deref(), &o)?;
    let core = neurofab_hdl::generate_core(&cfg)
        .map_err(|e| Error::Config(ConfigError::plain("generate", e.to_string())))?;
    let files = core
        .write_to(&a.out)
        .map_err(|e| Error::io("writing the generated core", &a.out, e))?;
    if a.json {
        let c = &cfg;
        let j = serde_json::json!({
            "neurons": c.shape.neurons,
            "inputs": c.shape.inputs,
            "weight_bits": c.shape.weight_bits,
            "lanes": c.lanes,
            "clock_hz": c.clock_hz,
            "baud": c.baud,
            "verilog": files[0],
            "verilog_bytes": core.verilog.len(),
            "verilog_fnv1a": format!("{:016x}", core.verilog_hash),
            "memory_bits": neurofab_hdl::generate::memories(c).iter().map(|m| m.total_bits()).sum::<usize>(),
            "cycles_per_step_15hz_stdp": neurofab_hdl::generate::expected_step_cycles(c, 0.015, 0.015, true),
        });
        println!("{j}");
    } else {
        print!("{}", core.report());
        for f in &files {
            println!("wrote {}", f.display());
        }
    }
    Ok(())
}

fn cmd_serve(a: &ServeArgs) -> anyhow::Result<()> {
    use neurofab_proto::{CoreConfig, CoreShape};
    let usage = |m: String| Error::Config(ConfigError::plain("serve", m));
    let rtl_model = match a.device.as_str() {
        "model" => None,
        "rtl" => Some(crate::link::DEFAULT_RTL_MODEL.to_string()),
        d if d.starts_with("rtl:") && d.len() > 4 => Some(d[4..].to_string()),
        other => {
            return Err(usage(format!(
                "--device {other}: serve can serve `model` (the reference device) or `rtl[:MODEL]` (the Verilator core)"
            ))
            .into())
        }
    };
    if rtl_model.is_some()
        && (a.for_net.is_some()
            || a.neurons.is_some()
            || a.inputs.is_some()
            || a.weight_bits.is_some()
            || a.step_window.is_some())
    {
        return Err(usage(
            "--for/--neurons/--inputs/--weight-bits/--step-window size the reference device; an RTL core has the size it was generated with (pick it with --device rtl:MODEL)".into(),
        )
        .into());
    }
    let mut shape = CoreShape::DEFAULT;
    if let Some(p) = &a.for_net {
        shape = load(p)?.1.shape;
    }
    shape.neurons = a.neurons.unwrap_or(shape.neurons);
    shape.inputs = a.inputs.unwrap_or(shape.inputs);
    shape.weight_bits = a.weight_bits.unwrap_or(shape.weight_bits);
    let mut cfg = CoreConfig::with_shape(shape);
    cfg.baud = a.baud;
    if a.baud > 1_000_000 {
        // Keep at least 4 clock cycles per bit in what IDENTITY reports.
        cfg.clock_hz = a.baud.saturating_mul(4).max(cfg.clock_hz);
        if cfg.validate().is_err() {
            cfg.clock_hz = a.baud.saturating_mul(4);
        }
    }
    if let Some(w) = a.step_window {
        cfg.step_window = w;
    }
    let mut server: Box<dyn crate::link::ByteDevice> = match &rtl_model {
        None => Box::new(neurofab_sim::ModelServer::new(cfg).map_err(|e| usage(e.to_string()))?),
        Some(m) => Box::new(
            crate::link::RtlByteDevice::open(m, a.trace.as_deref()).map_err(|e| {
                Error::Device(DeviceError::Unavailable {
                    device: format!("rtl:{m}"),
                    message: e.to_string(),
                })
            })?,
        ),
    };
    let faults = match a.fault_rate {
        Some(r) if !(0.0..=1.0).contains(&r) => {
            return Err(usage(format!("--fault-rate {r}: must be between 0 and 1")).into())
        }
        Some(r) => Some(FaultConfig::new(r, a.fault_seed)),
        None => None,
    };
    let opts = ServeOptions {
        pace_baud: a.pace.then_some(a.baud),
        faults,
        exit_after_idle: a.exit_after_idle.map(Duration::from_secs_f64),
    };
    let link_err = |path: &str, e: &dyn std::fmt::Display| {
        Error::Device(DeviceError::Link {
            device: path.to_string(),
            message: e.to_string(),
        })
    };
    // Keep the device side of the pty open while serving, so that clients can
    // come and go without the server seeing a hang-up.
    let (port, _keep, path): (
        Box<dyn serialport::SerialPort>,
        Option<serialport::TTYPort>,
        String,
    ) = match &a.link {
        Some(p) => {
            let path = p.display().to_string();
            let port = serialport::new(&path, a.baud)
                .timeout(Duration::from_millis(20))
                .open()
                .map_err(|e| link_err(&path, &e))?;
            (port, None, path)
        }
        None => {
            let (master, slave) = serialport::TTYPort::pair().map_err(|e| link_err("pty", &e))?;
            let path = serialport::SerialPort::name(&slave).unwrap_or_else(|| "?".into());
            (Box::new(master), Some(slave), path)
        }
    };
    println!("serving a neurofab core on {path}");
    eprintln!(
        "  {}{}{}\n  connect with: neurofab run NET.toml --device serial:{path}@{}\n  stop with Ctrl-C",
        server.describe(),
        if a.pace { ", paced" } else { ", not paced (pty speed)" },
        match a.fault_rate {
            Some(r) => format!(", injecting faults at {r} per byte"),
            None => String::new(),
        },
        a.baud
    );
    std::io::stdout().flush().ok();
    let stop = AtomicBool::new(false);
    let stats = serve(port, server.as_mut(), &opts, &stop).map_err(|e| link_err(&path, &e))?;
    eprintln!(
        "served {} bytes in, {} bytes out; faults injected: {} flipped, {} dropped, {} delayed",
        stats.bytes_in,
        stats.bytes_out,
        stats.faults.flipped,
        stats.faults.dropped,
        stats.faults.delayed
    );
    Ok(())
}

fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Opens the device; with a network, loads it.
fn open_maybe_loaded(
    d: &DeviceArgs,
    net: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<(Box<dyn Device>, Option<CompiledNetwork>)> {
    match net {
        Some(p) => {
            let (_, net) = load(p)?;
            let dev = open_loaded(d, &net, false, quiet)?;
            Ok((dev, Some(net)))
        }
        None => Ok((
            device::open_traced(&d.device, &d.options(false), d.trace.as_deref())
                .map_err(Error::from)?,
            None,
        )),
    }
}

fn cmd_weights(a: &WeightsArgs) -> anyhow::Result<()> {
    let (mut dev, net) = open_maybe_loaded(&a.dev, a.net.as_deref(), a.quiet)?;
    let shape = dev.shape();
    let (rows, cols) = (shape.sources(), shape.neurons as usize);
    let path = &a.file;
    match a.op {
        WeightsOp::Read => {
            let w = dev.weights().map_err(Error::from)?;
            if is_npy(path) {
                std::fs::write(path, crate::npy::encode_i16(&w, rows, cols))
                    .map_err(|e| Error::io("cannot write weights file", path, e))?;
            } else {
                let mut f = create(path, "weights file")?;
                match &net {
                    Some(net) => write_weights_csv(&mut f, net, &w),
                    None => write_matrix_csv(&mut f, &w, cols),
                }
                .and_then(|_| f.flush())
                .map_err(write_err(path, "weights file"))?;
            }
            if !a.quiet {
                eprintln!(
                    "read {rows} x {cols} weights from {} into {}",
                    dev.name(),
                    path.display()
                );
            }
        }
        WeightsOp::Write => {
            let w = read_weights_file(path, rows, cols, shape)?;
            let mut p = Progress::new(a.quiet, UPLOAD_BAR);
            dev.set_weights(&w, &mut |x, y| p.set(x, y))
                .map_err(Error::from)?;
            p.finish();
            if !a.quiet {
                eprintln!(
                    "wrote {rows} x {cols} weights from {} to {}",
                    path.display(),
                    dev.name()
                );
            }
        }
    }
    Ok(())
}

/// CSV `source,neuron,weight`, non-zero weights only.
fn write_matrix_csv(w: &mut dyn Write, m: &[i16], cols: usize) -> std::io::Result<()> {
    writeln!(w, "source,neuron,weight")?;
    for (k, &x) in m.iter().enumerate() {
        if x != 0 {
            writeln!(w, "{},{},{x}", k / cols, k % cols)?;
        }
    }
    Ok(())
}

fn read_weights_file(
    path: &Path,
    rows: usize,
    cols: usize,
    shape: neurofab_proto::CoreShape,
) -> Result<Vec<i16>, Error> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read weights file", path, e))?;
    let (lo, hi) = (i64::from(shape.weight_min()), i64::from(shape.weight_max()));
    let range_err = |what: String, v: i64| {
        ConfigError::plain(
            &name,
            format!(
                "{what}: weight {v} is outside the {}-bit range {lo}..={hi}",
                shape.weight_bits
            ),
        )
    };
    if is_npy(path) {
        let m = crate::npy::decode(&bytes).map_err(|e| ConfigError::plain(&name, e))?;
        if (m.rows, m.cols) != (rows, cols) {
            return Err(ConfigError::plain(
                &name,
                format!(
                    "array shape ({}, {}), but the device's matrix is ({rows}, {cols}) (sources x neurons)",
                    m.rows, m.cols
                ),
            )
            .into());
        }
        return m
            .data
            .iter()
            .enumerate()
            .map(|(k, &v)| {
                if (lo..=hi).contains(&v) {
                    Ok(v as i16)
                } else {
                    Err(range_err(format!("[{}, {}]", k / cols, k % cols), v).into())
                }
            })
            .collect();
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        ConfigError::plain(&name, "not a text (CSV) file; use .npy for NumPy arrays")
    })?;
    let mut out = vec![0i16; rows * cols];
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        let lineno = i + 1;
        if line.is_empty() || line.starts_with('#') || (i == 0 && line.starts_with("source")) {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let num = |j: usize, what: &str| -> Result<i64, ConfigError> {
            f.get(j).and_then(|s| s.parse::<i64>().ok()).ok_or_else(|| {
                ConfigError::at_line(
                    &name,
                    lineno,
                    format!("expected `source,neuron,weight`: bad {what}"),
                )
            })
        };
        let (s, n, w) = (num(0, "source")?, num(1, "neuron")?, num(2, "weight")?);
        if s < 0 || s as usize >= rows || n < 0 || n as usize >= cols {
            return Err(ConfigError::at_line(
                &name,
                lineno,
                format!("synapse {s} -> {n} is outside the {rows} x {cols} matrix"),
            )
            .into());
        }
        if !(lo..=hi).contains(&w) {
            return Err(ConfigError::at_line(
                &name,
                lineno,
                format!(
                    "weight {w} is outside the {}-bit range {lo}..={hi}",
                    shape.weight_bits
                ),
            )
            .into());
        }
        out[s as usize * cols + n as usize] = w as i16;
    }
    Ok(out)
}

fn cmd_state(a: &StateArgs) -> anyhow::Result<()> {
    let (mut dev, net) = open_maybe_loaded(&a.dev, a.net.as_deref(), true)?;
    if let Some(net) = &net {
        if a.steps > 0 {
            let train = net.input_train(a.steps);
            run(dev.as_mut(), &train, a.steps, |_| {}).map_err(Error::from)?;
        }
    }
    let states = dev.neuron_states().map_err(Error::from)?;
    let traces = dev.pre_traces().map_err(Error::from)?;
    let shape = dev.shape();
    if a.json {
        let neurons: Vec<_> = states
            .iter()
            .map(|s| serde_json::json!({"v": s.v, "i": s.i, "refractory": s.refractory, "post_trace": s.post_trace}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"device": dev.name(), "neurons": neurons, "pre_traces": traces})
        );
        return Ok(());
    }
    let mut out = String::from("neuron,v,i,refractory,post_trace,pre_trace\n");
    for (n, s) in states.iter().enumerate() {
        let x = traces.get(shape.inputs as usize + n).copied().unwrap_or(0);
        out.push_str(&format!(
            "{n},{},{},{},{},{x}\n",
            s.v, s.i, s.refractory, s.post_trace
        ));
    }
    out.push_str("\ninput,pre_trace\n");
    for (i, x) in traces.iter().take(shape.inputs as usize).enumerate() {
        out.push_str(&format!("{i},{x}\n"));
    }
    print!("{out}");
    Ok(())
}

fn cmd_bench(a: &BenchArgs) -> anyhow::Result<()> {
    let (_, net) = load(&a.network)?;
    let train = net.input_train(a.steps);
    let up = Instant::now();
    let mut dev = open_loaded(&a.dev, &net, false, a.quiet)?;
    let upload = up.elapsed();
    let mut p = Progress::new(a.quiet, RUN_BAR);
    let r = run(dev.as_mut(), &train, a.steps, |d| {
        p.set(u64::from(d), u64::from(a.steps))
    })
    .map_err(Error::from)?;
    p.finish();
    let secs = r.wall.as_secs_f64().max(1e-9);
    let events = r.counters.delivered + r.counters.potentiation;
    let rate =
        r.spikes.len() as f64 / (f64::from(net.shape.neurons) * r.sim_seconds(&net).max(1e-9));
    let util = r.link_utilisation();
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "device": dev.name(),
                "steps": a.steps,
                "wall_seconds": secs,
                "upload_seconds": upload.as_secs_f64(),
                "steps_per_second": r.steps_per_second(),
                "synaptic_events_per_second": events as f64 / secs,
                "mean_rate_hz": rate,
                "link": r.run_link,
                "link_utilisation": util.map(|(u, d)| serde_json::json!({"host_to_device": u, "device_to_host": d})),
            })
        );
    } else {
        println!(
            "{}: {} steps in {:.3} s: {:.0} steps/s, {:.3e} synaptic events/s (mean rate {:.1} Hz over {} neurons); upload {:.3} s",
            dev.name(),
            a.steps,
            secs,
            r.steps_per_second(),
            events as f64 / secs,
            rate,
            net.shape.neurons,
            upload.as_secs_f64()
        );
        if let (Some((u, d)), Some(l)) = (util, r.run_link) {
            println!(
                "link: host->device {:.1} % of the line rate ({} bytes), device->host {:.1} % ({} bytes); {} retransmissions",
                u * 100.0,
                l.bytes_sent,
                d * 100.0,
                l.bytes_received,
                l.retransmissions
            );
        }
    }
    Ok(())
}

fn cmd_plot(a: &PlotArgs) -> anyhow::Result<()> {
    use crate::plot::{self, Heatmap, Raster, StatePlot};
    plot::Format::from_path(&a.out)?;
    let net = match &a.network {
        Some(p) => Some(load(p)?.1),
        None => None,
    };
    let size = (a.width, a.height);
    let what = match a.kind {
        PlotKind::Raster => {
            let spikes = plot::read_spikes(&a.file, net.as_ref())?;
            let chart = Raster {
                spikes: &spikes,
                net: net.as_ref(),
                steps: a.steps,
                title: a.title.clone(),
            };
            plot::save_sized(&a.out, &chart, size)?;
            plot::Chart::describe(&chart)
        }
        PlotKind::Weights => {
            let m = plot::read_weights(&a.file, net.as_ref())?;
            let chart = Heatmap {
                matrix: &m,
                title: a.title.clone(),
            };
            plot::save_sized(&a.out, &chart, size)?;
            plot::Chart::describe(&chart)
        }
        PlotKind::State => {
            let data = plot::read_state(&a.file)?;
            let chart = StatePlot {
                data: &data,
                net: net.as_ref(),
                title: a.title.clone(),
            };
            plot::save_sized(&a.out, &chart, size)?;
            plot::Chart::describe(&chart)
        }
    };
    if !a.quiet {
        eprintln!("wrote {what} to {}", a.out.display());
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
        if let Some(d) = cause.downcast_ref::<DeviceError>() {
            return d.exit_code();
        }
        if let Some(b) = cause.downcast_ref::<neurofab_boards::Error>() {
            return crate::error::board_exit_code(b);
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
