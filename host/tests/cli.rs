//! The `neurofab` binary, end to end: examples run, bad inputs give clear errors.

mod common;
use common::{assert_clean_error, example, run, text};

use std::path::{Path, PathBuf};

fn check_spike_csv(path: &Path, steps: u32, neurons: u16) -> usize {
    let csv = std::fs::read_to_string(path).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("step,neuron"));
    let mut n = 0;
    let mut last = (0u32, 0u16);
    for l in lines {
        let (a, b) = l.split_once(',').unwrap_or_else(|| panic!("bad line {l}"));
        let t: u32 = a.parse().unwrap();
        let k: u16 = b.parse().unwrap();
        assert!(t < steps && k < neurons, "{l}");
        assert!(n == 0 || (t, k) > last, "not sorted at {l}");
        last = (t, k);
        n += 1;
    }
    n
}

#[test]
fn runs_examples_and_writes_csv() {
    let dir = tempfile::tempdir().unwrap();
    for (name, steps) in [("balanced.toml", 600u32), ("stdp_pattern.toml", 1500)] {
        let spikes = dir.path().join(format!("{name}.spikes.csv"));
        let weights = dir.path().join(format!("{name}.w.csv"));
        let o = run(&[
            "run",
            example(name).to_str().unwrap(),
            "--steps",
            &steps.to_string(),
            "--out",
            spikes.to_str().unwrap(),
            "--weights-out",
            weights.to_str().unwrap(),
            "--quiet",
        ]);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{name}: {err}");
        assert!(out.starts_with(&format!("{steps} steps (")), "{out}");
        assert!(
            out.contains("on model:") && out.contains("mean rate") && out.contains("steps/s"),
            "{out}"
        );
        let n = check_spike_csv(&spikes, steps, 256);
        assert!(n > 0, "{name}: no spikes");
        assert!(out.contains(&format!(": {n} spikes")), "{out}");
        let w = std::fs::read_to_string(&weights).unwrap();
        assert!(w.starts_with("source,neuron,weight,weight_mv\n"));
        assert!(w.lines().count() > 10);
    }
}

#[test]
fn json_summary_and_check() {
    let o = run(&[
        "run",
        example("balanced.toml").to_str().unwrap(),
        "--steps",
        "200",
        "--json",
        "--quiet",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.trim().starts_with('{') && out.contains("\"steps\":200") && out.contains("\"exc\""),
        "{out}"
    );

    let o = run(&["check", example("stdp_pattern.toml").to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("pattern members:") && out.contains("tau_mem") && out.contains("w_shift"),
        "{out}"
    );
}

#[test]
fn input_file_replaces_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in.csv");
    // Drive all 64 afferents at step 5: the output must fire.
    let mut s = String::from("step,input\n");
    for i in 0..64 {
        s.push_str(&format!("5,{i}\n"));
    }
    std::fs::write(&inp, s).unwrap();
    let out = dir.path().join("s.csv");
    let o = run(&[
        "run",
        example("stdp_pattern.toml").to_str().unwrap(),
        "--steps",
        "50",
        "--input",
        inp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "step,neuron\n5,0\n");

    std::fs::write(&inp, "step,input\n1,2\n3,64\n").unwrap();
    let o = run(&[
        "run",
        example("stdp_pattern.toml").to_str().unwrap(),
        "--input",
        inp.to_str().unwrap(),
    ]);
    let err = assert_clean_error(&o, 2);
    assert!(
        err.contains("in.csv:3: core input index 64 is out of range"),
        "{err}"
    );
}

fn write_net(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("net.toml");
    std::fs::write(&p, body).unwrap();
    p
}

const NET: &str = "[simulation]
steps = 20

[[input]]
name = \"in\"
size = 4
poisson = { rate_hz = 50 }

[[population]]
name = \"exc\"
size = 10

[[projection]]
from = \"in\"
to = \"exc\"
weight_mv = 5.0
";

fn config_error(body: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = write_net(dir.path(), body);
    let o = run(&["run", p.to_str().unwrap(), "-q"]);
    assert_clean_error(&o, 2)
}

#[test]
fn good_net_runs() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_net(dir.path(), NET);
    let o = run(&["run", p.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", text(&o).1);
}

#[test]
fn syntax_error_names_line() {
    let e = config_error(&NET.replace("size = 4", "size = = 4"));
    assert!(e.contains("net.toml:6:"), "{e}");
}

#[test]
fn unknown_field_names_field_and_line() {
    let e = config_error(&NET.replace("size = 10", "size = 10\nthreshold_mv = 3"));
    assert!(
        e.contains("net.toml:12:1: unknown field `threshold_mv`"),
        "{e}"
    );
}

#[test]
fn out_of_range_names_field_and_line() {
    let e = config_error(&NET.replace("rate_hz = 50", "rate_hz = 5000"));
    assert!(
        e.contains("net.toml:7:23: input \"in\": poisson.rate_hz = 5000 Hz"),
        "{e}"
    );
    let e = config_error(&NET.replace("size = 10", "size = 10\nv_th_mv = 500"));
    assert!(
        e.contains("net.toml:12:11: population \"exc\": v_th_mv = 500 mV"),
        "{e}"
    );
}

#[test]
fn too_big_for_core_names_field_and_line() {
    let e = config_error(&NET.replace("size = 10", "size = 300"));
    assert!(
        e.contains(
            "net.toml:11:8: population \"exc\": size = 300, but the core has only 256 neurons left"
        ),
        "{e}"
    );
}

#[test]
fn unknown_population_names_line() {
    let e = config_error(&NET.replace("to = \"exc\"", "to = \"inh\""));
    assert!(
        e.contains("net.toml:15:6: projection to = \"inh\": no population has this name"),
        "{e}"
    );
}

#[test]
fn missing_spike_file_is_io_error_with_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_net(
        dir.path(),
        &NET.replace("poisson = { rate_hz = 50 }", "spike_file = \"nope.csv\""),
    );
    let o = run(&["run", p.to_str().unwrap()]);
    let e = assert_clean_error(&o, 4);
    assert!(
        e.contains("net.toml:7:14: input \"in\": cannot read spike_file") && e.contains("nope.csv"),
        "{e}"
    );
}

#[test]
fn bad_spike_file_contents_name_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.csv"), "step,index\n0,1\n2,9\n").unwrap();
    let p = write_net(
        dir.path(),
        &NET.replace("poisson = { rate_hz = 50 }", "spike_file = \"s.csv\""),
    );
    let o = run(&["run", p.to_str().unwrap()]);
    let e = assert_clean_error(&o, 2);
    assert!(e.contains("s.csv:3: index 9 is out of range"), "{e}");
}

#[test]
fn missing_config_is_io_error() {
    let o = run(&["run", "/nonexistent/net.toml"]);
    let e = assert_clean_error(&o, 4);
    assert!(e.contains("/nonexistent/net.toml"), "{e}");
}

#[test]
fn unknown_device_lists_devices() {
    let o = run(&[
        "run",
        example("balanced.toml").to_str().unwrap(),
        "--device",
        "gpu",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unknown device \"gpu\"")
            && err.contains("available devices: model, proto-model, serial:PATH[@BAUD], rtl"),
        "{err}"
    );
}

#[test]
fn help_teaches() {
    let o = run(&["--help"]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.contains("neurofab run examples/")
            && out.contains("neurofab check")
            && out.contains("Exit codes"),
        "{out}"
    );
    let o = run(&["run", "--help"]);
    let (out, _) = text(&o);
    assert!(
        out.contains("step,neuron") && out.contains("--device"),
        "{out}"
    );
}

#[test]
fn documented_example_compiles() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/network-format.md"),
    )
    .unwrap();
    let start = doc.find("```toml\n").unwrap() + 8;
    let end = start + doc[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cue.csv"), "step,index\n10,0\n20,7\n").unwrap();
    let p = write_net(dir.path(), &doc[start..end]);
    let o = run(&["check", p.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("population exc") && out.contains("a_plus"),
        "{out}"
    );
}
