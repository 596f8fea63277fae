//! neurofab boards: the board database (`boards/*.toml`), the board top wrapper per FPGA
//! family, and the open bitstream flow (yosys → nextpnr → icepack/ecppack) with its
//! report. See docs/boards.md.
//!
//! * [`Board::load`] / [`Board::all`]: the compiled-in board files.
//! * [`build`]: `generate_core(&cfg).verilog` + wrapper + constraints → bitstream and a
//!   [`BuildReport`] (resources, Fmax against the target, cycles per step, steps/s,
//!   the Verilog hash).
//! * [`fit`]: the largest core that builds, fits and meets timing, found by building.
//! * [`flash_command`]: the programmer command (`--dry-run` prints it).

pub mod board;
pub mod flow;
pub mod pll;
pub mod report;
pub mod wrapper;

pub use board::{Board, Family, LedRole};
pub use flow::{
    build, build_loopback, find_tool, fit, flash_command, FitOptions, FitResult, Progress, Stage,
};
pub use report::{BuildReport, Resource};

/// Everything that can go wrong, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("board file {file}: {message}")]
    BoardFile { file: String, message: String },
    #[error("unknown board `{name}`; known boards: {known}")]
    UnknownBoard { name: String, known: String },
    #[error("invalid core configuration: {0}")]
    Config(String),
    #[error(
        "core clock {config_hz} Hz does not match the PLL output of board {board} ({pll_hz} Hz); \
         the UART divisor is computed from clock_hz, so use Board::core_config or set clock_hz = {pll_hz}"
    )]
    ClockMismatch {
        board: String,
        config_hz: u32,
        pll_hz: u32,
    },
    #[error("`{tool}` not found (looked on PATH and in .venv/bin); install it with: {install}")]
    ToolMissing { tool: String, install: String },
    #[error("{tool} failed ({status}); last lines of {log}:\n{tail}")]
    ToolFailed {
        tool: String,
        status: String,
        log: String,
        tail: String,
    },
    #[error(
        "the design does not fit {board}: {resource} needs {used} but the device has {available} \
         ({percent:.0} %)"
    )]
    DoesNotFit {
        board: String,
        resource: String,
        used: u64,
        available: u64,
        percent: f64,
    },
    #[error(
        "timing not met on {board}: clock {clock} reaches {achieved_mhz:.2} MHz, target {target_mhz:.2} MHz \
         (report: {report})"
    )]
    TimingNotMet {
        board: String,
        clock: String,
        achieved_mhz: f64,
        target_mhz: f64,
        report: String,
    },
    #[error(
        "{0}: the open flow does not support this family; the build wrote the Vivado files instead"
    )]
    Unsupported(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}
