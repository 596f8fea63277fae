//! End-to-end tests across neurofab's crates live in `tests/tests/`.
//!
//! Helpers shared by them:

use std::path::{Path, PathBuf};

/// Path of a file in the repository's `examples/` directory.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}
