//! Every core datapath block passes `verilator --lint-only -Wall` with zero warnings and no
//! `-Wno-…` waivers; `NeuronUpdate` synthesizes for iCE40 with yosys, in LUTs and with the
//! UP5K's DSPs (the resource report is printed; see it with `--nocapture`).

use neurofab_hdl::core::*;
use neurofab_hdl::lint_with_verilator;
use std::process::Command;

fn lint(verilog: &str) {
    if let Err(e) = lint_with_verilator(verilog, "top") {
        panic!("{e}\n--- verilog ---\n{verilog}");
    }
}

#[test]
fn extenders_lint_clean() {
    lint(&verilog_of(SignExtend::<16, 17>::default()));
    lint(&verilog_of(SignExtend::<8, 8>::default()));
    lint(&verilog_of(ZeroExtend::<8, 16>::default()));
}

#[test]
fn udecay_lints_clean() {
    lint(&verilog_of(UDecay::default()));
}

#[test]
fn decay_lints_clean() {
    lint(&verilog_of(Decay::default()));
}

#[test]
fn sat16_lints_clean() {
    lint(&verilog_of(Sat16::<17>::default()));
    lint(&verilog_of(Sat16::<30>::default()));
}

#[test]
fn neuron_update_lints_clean() {
    lint(&verilog_of(NeuronUpdate::default()));
}

#[test]
fn neuron_update_pipe_lints_clean() {
    lint(&verilog_of(NeuronUpdatePipe::default()));
}

#[test]
fn weight_update_lints_clean() {
    lint(&verilog_of(WeightUpdate::<2>::default()));
    lint(&verilog_of(WeightUpdate::<8>::default()));
    lint(&verilog_of(WeightUpdate::<16>::default()));
}

#[test]
fn trace_update_lints_clean() {
    lint(&verilog_of(TraceUpdate::default()));
}

/// `yosys synth_ice40 [-dsp]` of `verilog` (top `top`); returns the `stat` report and the
/// longest combinational path (`ltp -noff`, in cells).
fn synth(verilog: &str, dsp: bool) -> String {
    let script = format!(
        "synth_ice40 -top top{}; tee -o stat.txt stat; tee -o ltp.txt ltp -noff",
        if dsp { " -dsp" } else { "" }
    );
    let dir = yosys(verilog, &script);
    let stat = std::fs::read_to_string(dir.path().join("stat.txt")).unwrap();
    let ltp = std::fs::read_to_string(dir.path().join("ltp.txt")).unwrap();
    let longest = ltp
        .lines()
        .find(|l| l.contains("Longest topological path"))
        .unwrap_or("");
    format!("{stat}\n{longest}")
}

/// Runs the yosys `script` on `verilog` (file top.v) in a fresh directory, which it returns.
fn yosys(verilog: &str, script: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("top.v"), verilog).unwrap();
    let out = Command::new("yosys")
        .args(["-q", "-p", script, "top.v"])
        .current_dir(dir.path())
        .output()
        .expect("yosys is not on PATH: run scripts/install-tools.sh");
    assert!(
        out.status.success(),
        "yosys failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn cells(report: &str, cell: &str) -> usize {
    report
        .lines()
        .find_map(|l| {
            let mut it = l.split_whitespace();
            (it.next() == Some(cell)).then(|| it.next().unwrap().parse().unwrap())
        })
        .unwrap_or(0)
}

#[test]
fn neuron_update_synthesizes_for_ice40() {
    let verilog = verilog_of(NeuronUpdate::default());
    let luts = synth(&verilog, false);
    println!("NeuronUpdate, synth_ice40 (LUTs only):\n{luts}");
    assert!(cells(&luts, "SB_LUT4") > 0 && cells(&luts, "SB_MAC16") == 0);
    let dsp = synth(&verilog, true);
    println!("NeuronUpdate, synth_ice40 -dsp:\n{dsp}");
    assert_eq!(cells(&dsp, "SB_MAC16"), 2, "one DSP per decay multiplier");
    assert!(cells(&dsp, "SB_LUT4") < cells(&luts, "SB_LUT4"));
}

/// The pipeline's two product registers (`LoadReg`: a load enable, no initial value) must
/// become the `SB_MAC16` output registers: that is what keeps the multiplier out of the
/// paths before and after it on the UP5K (docs/hdl.md, "The decays are split at the
/// product"). An initial value or a plain register would leave them in logic cells or in
/// the 8 × 8 pipeline registers, and the output-select parameters would read 2'11.
#[test]
fn neuron_products_land_in_the_dsp_output_registers() {
    let verilog = verilog_of(NeuronUpdatePipe::default());
    let dir = yosys(
        &verilog,
        "synth_ice40 -dsp -top top; tee -q -o macs.txt dump t:SB_MAC16",
    );
    let macs = std::fs::read_to_string(dir.path().join("macs.txt")).unwrap();
    for half in ["TOP", "BOT"] {
        let registered = format!("parameter \\{half}OUTPUT_SELECT 2'01");
        assert_eq!(
            macs.matches(&registered).count(),
            2,
            "{half} output registered in both multipliers:\n{macs}"
        );
    }
}
