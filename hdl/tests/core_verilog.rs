//! The generated Verilog itself (not rust-hdl's Rust simulation of the kernels) against
//! the reference model: every datapath block is emitted with `generate_verilog`, compiled
//! once by Verilator (`--binary --timing`) with a file-driven testbench, fed the same
//! kind of edge + random vectors as the kernel tests, and each output line is compared
//! with `neurofab_sim::model`. This catches what the Rust simulation cannot: Verilog
//! width/sign rules and the hand-written Verilog of the width adapters.

mod core_common;

use core_common::*;
use neurofab_hdl::core::*;
use neurofab_sim::model::neuron::decay;
use neurofab_sim::model::stdp::{amplitude, clamp_update, trace_step};
use rand::Rng;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// Vectors per block in this (slower, Verilator) test.
const VECTORS: usize = 3000;

struct Port {
    name: &'static str,
    width: usize,
    signed: bool,
}

const fn p(name: &'static str, width: usize, signed: bool) -> Port {
    Port {
        name,
        width,
        signed,
    }
}

struct Dut {
    /// Module name after renaming rust-hdl's `top`.
    module: &'static str,
    verilog: String,
    inputs: Vec<Port>,
    outputs: Vec<Port>,
    vectors: Vec<Vec<i64>>,
    expected: Vec<Vec<i64>>,
}

fn renamed(verilog: &str, module: &str) -> String {
    verilog
        .replace("module top(", &format!("module {module}("))
        .replace("top$", &format!("{module}$"))
}

fn testbench(duts: &[Dut]) -> String {
    let mut tb = String::from("module tb;\n    integer fi, fo, n;\n");
    let max_in = duts.iter().map(|d| d.inputs.len()).max().unwrap();
    for k in 0..max_in {
        writeln!(tb, "    integer a{k};").unwrap();
    }
    for d in duts {
        let mut conns = Vec::new();
        for port in d.inputs.iter().chain(&d.outputs) {
            let is_in = d.inputs.iter().any(|q| q.name == port.name);
            writeln!(
                tb,
                "    {} [{}:0] {}_{};",
                if is_in { "reg" } else { "wire" },
                port.width - 1,
                d.module,
                port.name
            )
            .unwrap();
            conns.push(format!(".{}({}_{})", port.name, d.module, port.name));
        }
        writeln!(tb, "    {} u_{}({});", d.module, d.module, conns.join(", ")).unwrap();
    }
    tb.push_str("    initial begin\n");
    for d in duts {
        let fmt_in = vec!["%d"; d.inputs.len()].join(" ");
        let args: Vec<String> = (0..d.inputs.len()).map(|k| format!("a{k}")).collect();
        let fmt_out = vec!["%0d"; d.outputs.len()].join(" ");
        let outs: Vec<String> = d
            .outputs
            .iter()
            .map(|o| {
                let sig = format!("{}_{}", d.module, o.name);
                if o.signed {
                    format!("$signed({sig})")
                } else {
                    sig
                }
            })
            .collect();
        writeln!(
            tb,
            "        fi = $fopen(\"{m}.in\", \"r\"); fo = $fopen(\"{m}.out\", \"w\");",
            m = d.module
        )
        .unwrap();
        tb.push_str("        while (!$feof(fi)) begin\n");
        writeln!(
            tb,
            "            n = $fscanf(fi, \"{fmt_in}\\n\", {});",
            args.join(", ")
        )
        .unwrap();
        writeln!(tb, "            if (n == {}) begin", d.inputs.len()).unwrap();
        for (k, port) in d.inputs.iter().enumerate() {
            writeln!(
                tb,
                "                {}_{} = a{k}[{}:0];",
                d.module,
                port.name,
                port.width - 1
            )
            .unwrap();
        }
        tb.push_str("                #1;\n");
        writeln!(
            tb,
            "                $fwrite(fo, \"{fmt_out}\\n\", {});",
            outs.join(", ")
        )
        .unwrap();
        tb.push_str("            end\n        end\n        $fclose(fi); $fclose(fo);\n");
    }
    tb.push_str("        $finish;\n    end\nendmodule\n");
    tb
}

fn run_verilator(dir: &Path, duts: &[Dut]) {
    let mut files = vec!["tb.v".to_string()];
    std::fs::write(dir.join("tb.v"), testbench(duts)).unwrap();
    for d in duts {
        let name = format!("{}.v", d.module);
        std::fs::write(dir.join(&name), &d.verilog).unwrap();
        files.push(name);
        let mut text = String::new();
        for v in &d.vectors {
            let line: Vec<String> = v.iter().map(|x| x.to_string()).collect();
            writeln!(text, "{}", line.join(" ")).unwrap();
        }
        std::fs::write(dir.join(format!("{}.in", d.module)), text).unwrap();
    }
    // Lint is checked strictly in core_lint.rs; the testbench itself is not lint-clean.
    let out = Command::new("verilator")
        .args([
            "--binary",
            "--timing",
            "-Wno-fatal",
            "-Wno-lint",
            "-Wno-style",
            "-O1",
        ])
        .args(["-j", "2", "--top-module", "tb", "-Mdir", "obj"])
        .args(&files)
        .current_dir(dir)
        .output()
        .expect("verilator is not on PATH: run scripts/install-tools.sh");
    assert!(
        out.status.success(),
        "verilator build failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(dir.join("obj/Vtb"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

fn check(dir: &Path, d: &Dut) {
    let text = std::fs::read_to_string(dir.join(format!("{}.out", d.module))).unwrap();
    let got: Vec<Vec<i64>> = text
        .lines()
        .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(
        got.len(),
        d.vectors.len(),
        "{}: output line count",
        d.module
    );
    for (k, (g, e)) in got.iter().zip(&d.expected).enumerate() {
        assert_eq!(g, e, "{}: vector {k} = {:?}", d.module, d.vectors[k]);
    }
}

fn decay_dut() -> Dut {
    let mut rng = rng(100);
    let mut vectors = Vec::new();
    for x in [-65535i64, -65534, -32768, -1, 0, 1, 32767, 65535] {
        for a in ALPHA_EDGES {
            vectors.push(vec![x, a as i64]);
        }
    }
    vectors.extend(
        (0..VECTORS).map(|_| vec![rng.random_range(-65535..=65535), alpha(&mut rng) as i64]),
    );
    let expected = vectors
        .iter()
        .map(|v| vec![decay(v[0] as i32, v[1] as u16) as i64])
        .collect();
    Dut {
        module: "nf_decay",
        verilog: renamed(&verilog_of(Decay::default()), "nf_decay"),
        inputs: vec![p("x", DIFF_W, true), p("alpha", ALPHA_W, false)],
        outputs: vec![p("y", DIFF_W, true)],
        vectors,
        expected,
    }
}

fn neuron_dut() -> Dut {
    let mut cases = edge_cases();
    let mut rng = rng(101);
    cases.extend((0..VECTORS).map(|_| random_case(&mut rng)));
    let vectors = cases
        .iter()
        .map(|c| {
            vec![
                c.p.v_th as i64,
                c.p.v_reset as i64,
                c.p.v_rest as i64,
                c.p.alpha_v as i64,
                c.p.alpha_i as i64,
                c.p.t_ref as i64,
                c.st.v as i64,
                c.st.i as i64,
                c.st.r as i64,
                c.acc as i64,
            ]
        })
        .collect();
    let expected = cases
        .iter()
        .map(|c| {
            let o = model(c);
            vec![o.v as i64, o.i as i64, o.r as i64, o.fired as i64]
        })
        .collect();
    Dut {
        module: "nf_neuron",
        verilog: renamed(&verilog_of(NeuronUpdate::default()), "nf_neuron"),
        inputs: vec![
            p("v_th", STATE_W, true),
            p("v_reset", STATE_W, true),
            p("v_rest", STATE_W, true),
            p("alpha_v", ALPHA_W, false),
            p("alpha_i", ALPHA_W, false),
            p("t_ref", REFRACT_W, false),
            p("v", STATE_W, true),
            p("i", STATE_W, true),
            p("r", REFRACT_W, false),
            p("acc", ACC_W, true),
        ],
        outputs: vec![
            p("v_new", STATE_W, true),
            p("i_new", STATE_W, true),
            p("r_new", REFRACT_W, false),
            p("fired", 1, false),
        ],
        vectors,
        expected,
    }
}

fn weight_dut<const W: usize>(module: &'static str, seed: u64) -> Dut
where
    WeightUpdate<W>: Default,
{
    let lo = -(1i64 << (W - 1));
    let hi = (1i64 << (W - 1)) - 1;
    let mut rng = rng(seed);
    let mut vectors = Vec::new();
    for w in [lo, lo + 1, -1, 0, 1, hi - 1, hi] {
        for (w_min, w_max) in [(lo, hi), (0, hi), (lo, 0), (-1, 1)] {
            for (trace, eta) in [(255, 255), (100, 128), (0, 0)] {
                for pot in [0, 1] {
                    vectors.push(vec![w, trace, eta, pot, w_min, w_max]);
                }
            }
        }
    }
    vectors.extend((0..VECTORS).map(|_| {
        let (a, b) = (rng.random_range(lo..=hi), rng.random_range(lo..=hi));
        vec![
            rng.random_range(lo..=hi),
            u8_value(&mut rng) as i64,
            u8_value(&mut rng) as i64,
            rng.random_range(0..=1),
            a.min(b),
            a.max(b),
        ]
    }));
    let expected = vectors
        .iter()
        .map(|v| {
            let d = amplitude(v[1] as u8, v[2] as u8) as i32;
            vec![clamp_update(
                v[0] as i16,
                if v[3] == 1 { d } else { -d },
                v[4] as i16,
                v[5] as i16,
            ) as i64]
        })
        .collect();
    Dut {
        module,
        verilog: renamed(&verilog_of(WeightUpdate::<W>::default()), module),
        inputs: vec![
            p("w", W, true),
            p("trace", TRACE_W, false),
            p("eta", ETA_W, false),
            p("potentiate", 1, false),
            p("w_min", W, true),
            p("w_max", W, true),
        ],
        outputs: vec![p("w_new", W, true)],
        vectors,
        expected,
    }
}

fn trace_dut() -> Dut {
    let mut rng = rng(104);
    let mut vectors = Vec::new();
    for x in [0i64, 1, 128, 255] {
        for a in ALPHA_EDGES {
            for (spike, inc) in [(0, 255), (1, 0), (1, 1), (1, 255)] {
                vectors.push(vec![x, a as i64, spike, inc]);
            }
        }
    }
    vectors.extend((0..VECTORS).map(|_| {
        vec![
            u8_value(&mut rng) as i64,
            alpha(&mut rng) as i64,
            rng.random_range(0..=1),
            u8_value(&mut rng) as i64,
        ]
    }));
    let expected = vectors
        .iter()
        .map(|v| vec![trace_step(v[0] as u8, v[1] as u16, v[2] == 1, v[3] as u8) as i64])
        .collect();
    Dut {
        module: "nf_trace",
        verilog: renamed(&verilog_of(TraceUpdate::default()), "nf_trace"),
        inputs: vec![
            p("x", TRACE_W, false),
            p("alpha", ALPHA_W, false),
            p("spike", 1, false),
            p("inc", TRACE_W, false),
        ],
        outputs: vec![p("x_new", TRACE_W, false)],
        vectors,
        expected,
    }
}

#[test]
fn generated_verilog_matches_model() {
    let duts = vec![
        decay_dut(),
        neuron_dut(),
        weight_dut::<2>("nf_weight2", 102),
        weight_dut::<8>("nf_weight8", 103),
        weight_dut::<16>("nf_weight16", 105),
        trace_dut(),
    ];
    let dir = tempfile::tempdir().unwrap();
    run_verilator(dir.path(), &duts);
    for d in &duts {
        check(dir.path(), d);
    }
}
