//! Error types shared by the host crate, and the exit codes the CLI maps them to.
//!
//! Every error a user can cause by writing a network file carries a location:
//! `file:line:col: message`, followed by the offending source line with a caret.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use crate::device::DeviceError;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: bad command line, bad network file or bad spike file contents.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: the device failed (load, step, read-back).
pub const EXIT_DEVICE: i32 = 3;
/// Exit code: a file could not be read or written.
pub const EXIT_IO: i32 = 4;
/// Exit code: the link failed (port missing or vanished, timeouts).
pub const EXIT_LINK: i32 = 5;
/// Exit code: the port answered, but not as a neurofab core (garbage, wrong magic).
pub const EXIT_NOT_A_CORE: i32 = 6;
/// Exit code: a neurofab core speaking another protocol version.
pub const EXIT_VERSION: i32 = 7;
/// Exit code: a board build failed: the design does not fit the device, does not meet
/// timing (`build`), or no probed size fits (`fit`).
pub const EXIT_BUILD: i32 = 8;
/// Exit code: an external tool (yosys, nextpnr, icepack/ecppack, iceprog, openFPGALoader)
/// is not installed; the message carries the install command.
pub const EXIT_TOOL_MISSING: i32 = 9;
/// Exit code: an external tool ran and failed (a flow tool, with its log's tail, or the
/// programmer of `flash`).
pub const EXIT_TOOL_FAILED: i32 = 10;

/// A text file whose byte offsets can be turned into `line:col` positions.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// How the file is named in messages (the path as given by the user).
    pub name: String,
    /// Its full contents.
    pub text: String,
}

impl SourceText {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        SourceText {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    /// An error located at `span` (byte offsets into the text).
    pub fn error_at(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, col) = self.line_col(span.start);
        let line_text = self
            .text
            .lines()
            .nth(line - 1)
            .unwrap_or("")
            .trim_end_matches('\r');
        let width = {
            let end = span.end.min(self.text.len()).max(span.start);
            let (end_line, end_col) = self.line_col(end);
            if end_line == line && end_col > col {
                end_col - col
            } else {
                1
            }
        };
        ConfigError {
            file: self.name.clone(),
            line: Some(line),
            col: Some(col),
            message: message.into(),
            snippet: Some(Snippet {
                line_text: line_text.to_string(),
                col,
                width,
            }),
        }
    }

    /// An error about the file as a whole.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.name.clone(),
            line: None,
            col: None,
            message: message.into(),
            snippet: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Snippet {
    line_text: String,
    col: usize,
    width: usize,
}

/// A problem in a user-written file (network TOML, spike CSV), with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub message: String,
    snippet: Option<Snippet>,
}

impl ConfigError {
    /// An error at `file:line` (no column, no snippet), e.g. for CSV files.
    pub fn at_line(file: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.into(),
            line: Some(line),
            col: None,
            message: message.into(),
            snippet: None,
        }
    }

    /// An error that concerns no particular file position.
    pub fn plain(file: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.into(),
            line: None,
            col: None,
            message: message.into(),
            snippet: None,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.col) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message)?,
            (Some(l), None) => write!(f, "{}:{}: {}", self.file, l, self.message)?,
            _ => write!(f, "{}: {}", self.file, self.message)?,
        }
        if let (Some(s), Some(line)) = (&self.snippet, self.line) {
            let num = line.to_string();
            let pad = " ".repeat(num.len());
            write!(
                f,
                "\n {pad} |\n {num} | {}\n {pad} | {}{}",
                s.line_text,
                " ".repeat(s.col.saturating_sub(1)),
                "^".repeat(s.width.clamp(1, 60))
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Any error of the host library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The network or a spike file is wrong (exit code 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A file could not be read or written (exit code 4).
    #[error("{what}: {}: {source}", path.display())]
    Io {
        /// What was being done, possibly with a `file:line:col:` prefix.
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The device failed (exit code 3, or 5/6/7 for link, not-a-core, version).
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The board database or the bitstream flow failed (exit code 2, 4, 8, 9 or 10: see
    /// [`board_exit_code`]).
    #[error(transparent)]
    Board(#[from] neurofab_boards::Error),
    /// `neurofab fit`: no probed size built, fitted and met timing (exit code 8).
    #[error("nothing fits {board}: {detail}")]
    NothingFits { board: String, detail: String },
    /// `neurofab flash`: the programmer ran and failed (exit code 10); its own output
    /// went to the terminal.
    #[error("`{command}` failed ({status}); its output is above. Is the board connected (USB), and do you have permission to access it?")]
    Programmer { command: String, status: String },
}

/// The CLI exit code for an error of the board flow.
pub fn board_exit_code(e: &neurofab_boards::Error) -> i32 {
    use neurofab_boards::Error as B;
    match e {
        B::BoardFile { .. } | B::UnknownBoard { .. } | B::Config(_) | B::ClockMismatch { .. } => {
            EXIT_USAGE
        }
        B::DoesNotFit { .. } | B::TimingNotMet { .. } => EXIT_BUILD,
        B::ToolMissing { .. } | B::Unsupported(_) => EXIT_TOOL_MISSING,
        B::ToolFailed { .. } => EXIT_TOOL_FAILED,
        B::Io { .. } => EXIT_IO,
    }
}

impl Error {
    pub fn io(what: impl Into<String>, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            path: path.into(),
            source,
        }
    }

    /// The CLI exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) => EXIT_USAGE,
            Error::Io { .. } => EXIT_IO,
            Error::Device(e) => e.exit_code(),
            Error::Board(e) => board_exit_code(e),
            Error::NothingFits { .. } => EXIT_BUILD,
            Error::Programmer { .. } => EXIT_TOOL_FAILED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_and_snippet() {
        let src = SourceText::new("net.toml", "a = 1\nbb = 300\n");
        let e = src.error_at(11..14, "too big");
        assert_eq!((e.line, e.col), (Some(2), Some(6)));
        let s = e.to_string();
        assert!(s.starts_with("net.toml:2:6: too big"), "{s}");
        assert!(s.contains("bb = 300"), "{s}");
        assert!(s.contains("^^^"), "{s}");
    }
}
