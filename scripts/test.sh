#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script):
#   1. install the external tools the tests use, where missing (scripts/install-tools.sh),
#   2. formatting, 3. clippy with warnings as errors, 4. every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
# The ECP5 tools live in the project's own venv (see install-tools.sh).
export PATH="$PWD/.venv/bin:$PATH"
# The RTL co-simulation tests must run here, never be skipped for a missing Verilator.
export NEUROFAB_REQUIRE_VERILATOR=1
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
