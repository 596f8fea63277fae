//! `neurofab plot` and `run --plot` / `--record`: every chart kind writes a
//! valid PNG or SVG, and bad inputs give clear errors with the CLI's exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn neurofab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurofab"))
        .args(args)
        .output()
        .expect("spawn neurofab")
}

fn ok(args: &[&str]) -> Output {
    let o = neurofab(args);
    assert!(
        o.status.success(),
        "neurofab {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Runs and expects a clean `error: …` with `code`; returns stderr.
fn fails(args: &[&str], code: i32) -> String {
    let o = neurofab(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(code), "neurofab {args:?}: {err}");
    assert!(err.starts_with("error"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A valid PNG of the default size with something drawn on it.
fn check_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1200, 800));
    let pixels = &buf[..info.buffer_size()];
    let dark = pixels
        .chunks(3)
        .filter(|p| p.iter().all(|&c| c < 64))
        .count();
    // Axes, ticks and (font-rendered) text are dark.
    assert!(dark > 2000, "only {dark} dark pixels: no axes or text?");
}

/// The SVG text, checked to be a whole SVG document.
fn read_svg(path: &Path) -> String {
    let svg = std::fs::read_to_string(path).unwrap();
    let start = svg.trim_start();
    assert!(
        start.starts_with("<svg") || start.starts_with("<?xml"),
        "{}",
        &svg[..svg.len().min(200)]
    );
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    svg
}

fn count(svg: &str, tag: &str) -> usize {
    svg.matches(&format!("<{tag} ")).count() + svg.matches(&format!("<{tag}>")).count()
}

#[test]
fn raster_svg_has_one_mark_per_spike_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("spikes.csv");
    std::fs::write(&csv, "step,neuron\n0,0\n1,3\n1,4\n5,2\n9,4\n").unwrap();
    let svg = dir.path().join("r.svg");
    ok(&["plot", "raster", s(&csv), "--out", s(&svg), "--quiet"]);
    let text = read_svg(&svg);
    assert_eq!(count(&text, "circle"), 5);
    for label in ["Spike raster", "time (step)", "neuron (core index)"] {
        assert!(text.contains(label), "no `{label}` in the SVG");
    }
    // And as PNG.
    let png = dir.path().join("r.PNG");
    let o = ok(&["plot", "raster", s(&csv), "-o", s(&png)]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("5 spikes"));
    check_png(&png);
}

#[test]
fn run_plot_and_raster_by_population() {
    let dir = tempfile::tempdir().unwrap();
    let net = example("balanced.toml");
    let (out, png, svg) = (
        dir.path().join("s.csv"),
        dir.path().join("r.png"),
        dir.path().join("r.svg"),
    );
    ok(&[
        "run",
        s(&net),
        "--steps",
        "300",
        "--out",
        s(&out),
        "--plot",
        s(&png),
        "--quiet",
    ]);
    check_png(&png);
    let spikes = std::fs::read_to_string(&out).unwrap().lines().count() - 1;
    assert!(spikes > 0);

    ok(&["run", s(&net), "--steps", "300", "--plot", s(&svg), "-q"]);
    let text = read_svg(&svg);
    assert_eq!(count(&text, "circle"), spikes, "one dot per spike");
    assert!(text.contains("time (ms"), "x axis in ms with a network");
    // Legend: both populations, each in its own colour.
    assert!(text.contains("exc (") && text.contains("inh ("));
    assert!(text.contains("#1F77B4") || text.contains("#1f77b4"));
    assert!(text.contains("#FF7F0E") || text.contains("#ff7f0e"));

    // The same from the CSV with the network.
    let svg2 = dir.path().join("r2.svg");
    ok(&[
        "plot",
        "raster",
        s(&out),
        "--out",
        s(&svg2),
        "--network",
        s(&net),
        "--steps",
        "300",
        "-q",
    ]);
    assert_eq!(count(&read_svg(&svg2), "circle"), spikes);
}

#[test]
fn weights_heatmap_from_csv_and_npy() {
    let dir = tempfile::tempdir().unwrap();
    let net = example("stdp_pattern.toml");
    let w = dir.path().join("w.csv");
    ok(&[
        "run",
        s(&net),
        "--steps",
        "200",
        "--weights-out",
        s(&w),
        "-q",
    ]);
    let png = dir.path().join("w.png");
    ok(&["plot", "weights", s(&w), "--out", s(&png), "-q"]);
    check_png(&png);

    // A small known matrix: three cells, a colour bar, the unit on it.
    let small = dir.path().join("small.csv");
    std::fs::write(&small, "source,neuron,weight\n0,0,5\n1,2,-3\n2,1,7\n").unwrap();
    let svg = dir.path().join("small.svg");
    ok(&["plot", "weights", s(&small), "--out", s(&svg), "-q"]);
    let text = read_svg(&svg);
    assert!(text.contains("weight (core units)"));
    assert!(text.contains("3 sources x 3 neurons, 3 non-zero"));
    // The strongest weight (7 = max) is the darkest red.
    assert!(text.contains("#B2182B") || text.contains("#b2182b"));

    let npy = dir.path().join("w.npy");
    ok(&[
        "weights",
        "read",
        s(&npy),
        "--device",
        "model",
        "--net",
        s(&net),
        "-q",
    ]);
    let svg = dir.path().join("npy.svg");
    ok(&[
        "plot",
        "weights",
        s(&npy),
        "--out",
        s(&svg),
        "--network",
        s(&net),
        "-q",
    ]);
    let text = read_svg(&svg);
    assert!(text.contains("weight (mV)"), "mV with a network");
}

#[test]
fn record_traces_and_state_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let net = example("balanced.toml");
    let rec = dir.path().join("v.csv");
    let plain = dir.path().join("plain.csv");
    let traced = dir.path().join("traced.csv");
    ok(&[
        "run",
        s(&net),
        "--steps",
        "50",
        "--out",
        s(&traced),
        "--record",
        "0,2-3",
        "--record-out",
        s(&rec),
        "-q",
    ]);
    // Recording steps one by one gives the same spikes as a plain run.
    ok(&["run", s(&net), "--steps", "50", "--out", s(&plain), "-q"]);
    assert_eq!(
        std::fs::read_to_string(&plain).unwrap(),
        std::fs::read_to_string(&traced).unwrap()
    );
    let csv = std::fs::read_to_string(&rec).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("step,neuron,v,i"));
    assert_eq!(lines.count(), 50 * 3);

    let png = dir.path().join("v.png");
    ok(&[
        "plot",
        "state",
        s(&rec),
        "--out",
        s(&png),
        "--network",
        s(&net),
        "-q",
    ]);
    check_png(&png);
    let svg = dir.path().join("v.svg");
    ok(&["plot", "state", s(&rec), "--out", s(&svg), "-q"]);
    let text = read_svg(&svg);
    // One line per neuron in each of the two panels (v, i).
    assert!(
        count(&text, "polyline") >= 6,
        "{}",
        count(&text, "polyline")
    );
    assert!(text.contains("v (core units)") && text.contains("i (core units)"));
    assert!(text.contains("neuron 3"));

    // `neurofab state` output: a snapshot across neurons.
    let o = ok(&[
        "state",
        "--device",
        "model",
        "--net",
        s(&net),
        "--steps",
        "20",
    ]);
    let snap = dir.path().join("state.csv");
    std::fs::write(&snap, &o.stdout).unwrap();
    let svg = dir.path().join("state.svg");
    ok(&["plot", "state", s(&snap), "--out", s(&svg), "-q"]);
    let text = read_svg(&svg);
    assert_eq!(count(&text, "circle"), 2 * 256, "v and i of every neuron");
}

#[test]
fn bad_inputs_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("spikes.csv");
    std::fs::write(&csv, "step,neuron\n0,1\n").unwrap();
    let net = example("balanced.toml");

    // Unknown picture format: usage error, nothing written.
    let jpg = dir.path().join("r.jpg");
    let e = fails(&["plot", "raster", s(&csv), "--out", s(&jpg)], 2);
    assert!(e.contains(".png or .svg"), "{e}");
    assert!(!jpg.exists());
    let e = fails(&["run", s(&net), "--steps", "10", "--plot", s(&jpg)], 2);
    assert!(e.contains(".png or .svg"), "{e}");

    // Missing input file: I/O error.
    let e = fails(
        &[
            "plot",
            "raster",
            s(&dir.path().join("nope.csv")),
            "--out",
            s(&dir.path().join("r.png")),
        ],
        4,
    );
    assert!(e.contains("nope.csv"), "{e}");

    // Unwritable output: I/O error.
    let e = fails(
        &[
            "plot",
            "raster",
            s(&csv),
            "--out",
            s(&dir.path().join("no/such/dir/r.svg")),
        ],
        4,
    );
    assert!(e.contains("cannot write plot file"), "{e}");

    // Bad contents: usage error at file:line.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "step,neuron\n0,1\n3,x\n").unwrap();
    let out = dir.path().join("o.png");
    let e = fails(&["plot", "raster", s(&bad), "--out", s(&out)], 2);
    assert!(e.contains("bad.csv:3"), "{e}");
    std::fs::write(&bad, "source,neuron,weight\n0,1,w\n").unwrap();
    let e = fails(&["plot", "weights", s(&bad), "--out", s(&out)], 2);
    assert!(e.contains("bad.csv:2") && e.contains("bad weight"), "{e}");
    std::fs::write(&bad, "time,volts\n1,2\n").unwrap();
    let e = fails(&["plot", "state", s(&bad), "--out", s(&out)], 2);
    assert!(
        e.contains("bad.csv:1") && e.contains("step,neuron,v,i"),
        "{e}"
    );
    std::fs::write(&bad, [0x93, b'N', b'U', b'M', 0xff, 0xfe]).unwrap();
    let e = fails(&["plot", "weights", s(&bad), "--out", s(&out)], 2);
    assert!(e.contains("not a text"), "{e}");
    let npy = dir.path().join("bad.npy");
    std::fs::write(&npy, "not numpy").unwrap();
    let e = fails(&["plot", "weights", s(&npy), "--out", s(&out)], 2);
    assert!(e.contains(".npy"), "{e}");
    // A spike of a neuron the network does not have.
    std::fs::write(&bad, "step,neuron\n0,999\n").unwrap();
    let e = fails(
        &[
            "plot",
            "raster",
            s(&bad),
            "--out",
            s(&out),
            "--network",
            s(&net),
        ],
        2,
    );
    assert!(e.contains("bad.csv:2") && e.contains("999"), "{e}");
    assert!(!out.exists());

    // --record: needs --record-out, neurons must exist.
    fails(&["run", s(&net), "--record", "0"], 2);
    let e = fails(
        &[
            "run",
            s(&net),
            "--record",
            "0,999",
            "--record-out",
            s(&dir.path().join("v.csv")),
        ],
        2,
    );
    assert!(e.contains("999"), "{e}");
    fails(
        &[
            "run",
            s(&net),
            "--record",
            "x",
            "--record-out",
            s(&dir.path().join("v.csv")),
        ],
        2,
    );
}
