//! Helpers shared by the CLI test binaries: run the built `neurofab` and check that a
//! failure is a clean error (the right exit code, an `error: ` message, no panic).
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neurofab"))
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("spawn neurofab")
}

/// `examples/NAME` of the workspace.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

/// (stdout, stderr) as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Asserts exit code `code`, an `error: ` message and no panic; returns stderr.
pub fn assert_clean_error(o: &Output, code: i32) -> String {
    let (_, err) = text(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    err
}
