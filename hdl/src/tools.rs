//! Wrappers around the external HDL tools (Verilator, yosys) for tests and CI.
//!
//! Both write the Verilog into a fresh directory under the system temp dir and
//! delete it afterwards. If a tool is missing the error says how to install it.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const INSTALL_HINT: &str =
    "run `scripts/install-tools.sh` (installs verilator, yosys, nextpnr-ice40)";

/// A scratch directory that is removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(tag: &str) -> Result<Self, String> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("neurofab-hdl-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(ScratchDir(dir))
    }

    fn write(&self, name: &str, text: &str) -> Result<PathBuf, String> {
        let path = self.0.join(name);
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(path)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(tool: &str, cmd: &mut Command) -> Result<std::process::Output, String> {
    cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("`{tool}` is not on PATH: {INSTALL_HINT}")
        } else {
            format!("running `{tool}`: {e}")
        }
    })
}

/// Splits rust-hdl output into `(module name, module text)` pairs, in order.
///
/// rust-hdl writes every module into one string; Verilator's `-Wall` includes
/// DECLFILENAME (each module should live in a file of its own name), so the lint
/// writes one file per module. Text outside modules (blank lines) is dropped.
pub fn split_modules(verilog: &str) -> Vec<(String, String)> {
    let mut modules = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in verilog.lines() {
        let trimmed = line.trim_start();
        if current.is_none() {
            if let Some(rest) = trimmed.strip_prefix("module ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '(' && *c != ';')
                    .collect();
                current = Some((name, String::new()));
            }
        }
        if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
            if trimmed.starts_with("endmodule") {
                modules.push(current.take().expect("inside a module"));
            }
        }
    }
    modules
}

/// `verilator --lint-only -Wall` on `verilog` with top module `top`.
///
/// Strict: any warning fails (Verilator exits non-zero on warnings by default). Each
/// module goes into a file named after it (see [`split_modules`]). The error is
/// Verilator's complete output.
pub fn lint_with_verilator(verilog: &str, top: &str) -> Result<(), String> {
    lint_with_verilator_waived(verilog, top, &[])
}

/// Like [`lint_with_verilator`], but with `-Wno-<code>` for each code in `waivers`.
/// Every waiver used by a test must be listed and justified in docs/hdl.md.
pub fn lint_with_verilator_waived(
    verilog: &str,
    top: &str,
    waivers: &[&str],
) -> Result<(), String> {
    let dir = ScratchDir::new("lint")?;
    let modules = split_modules(verilog);
    if !modules.iter().any(|(name, _)| name == top) {
        return Err(format!("no module `{top}` in the Verilog"));
    }
    let mut cmd = Command::new("verilator");
    cmd.arg("--lint-only")
        .arg("-Wall")
        .arg("--top-module")
        .arg(top);
    for w in waivers {
        cmd.arg(format!("-Wno-{w}"));
    }
    for (name, text) in &modules {
        cmd.arg(dir.write(&format!("{name}.v"), text)?);
    }
    cmd.current_dir(&dir.0);
    let out = run("verilator", &mut cmd)?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && !text.contains("%Warning") && !text.contains("%Error") {
        Ok(())
    } else {
        Err(format!(
            "verilator --lint-only -Wall failed ({}):\n{text}",
            out.status
        ))
    }
}

/// `yosys -p 'synth_ice40 -top <top>; stat'`. Returns the `stat` report on success.
pub fn synth_ice40(verilog: &str, top: &str) -> Result<String, String> {
    let dir = ScratchDir::new("yosys")?;
    let file = dir.write(&format!("{top}.v"), verilog)?;
    let mut cmd = Command::new("yosys");
    cmd.arg("-q")
        .arg("-p")
        .arg(format!("synth_ice40 -top {top}; tee -o stat.txt stat"))
        .arg(&file)
        .current_dir(&dir.0);
    let out = run("yosys", &mut cmd)?;
    if !out.status.success() {
        return Err(format!(
            "yosys synth_ice40 failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::read_to_string(dir.0.join("stat.txt")).map_err(|e| format!("reading stat: {e}"))
}
