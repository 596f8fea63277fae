//! The protocol device end to end: in-process, over real ptys (the `neurofab
//! serve` virtual board in a child process), through a fault-injecting proxy,
//! and against ports that are not (compatible) neurofab cores.
//!
//! No assertion depends on timing: results are compared exactly, and fault
//! runs only assert that retransmissions happened.

mod common;
use common::{assert_clean_error, bin, example, text};

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use neurofab::compile::compile;
use neurofab::config::Config;
use neurofab::device::{Device, DeviceError, ModelDevice};
use neurofab::link::serve::fault_proxy;
use neurofab::link::{FaultConfig, FaultyTransport, LinkOptions, ModelTransport, ProtocolDevice};
use neurofab::run::run;
use neurofab_proto::{encode_frame_vec, encode_identity, CoreConfig, Decoder, IDENTITY_LEN};
use neurofab_sim::ModelServer;
use serialport::SerialPort;

/// A `neurofab serve` child process, killed when dropped.
struct Served {
    child: Child,
    path: String,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = bin()
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn neurofab serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let path = line
            .trim()
            .strip_prefix("serving a neurofab core on ")
            .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
            .to_string();
        Served { child, path }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `neurofab run` on `device`; returns (spikes CSV, weights CSV, stdout).
fn run_cli(net: &Path, steps: u32, device: &str, extra: &[&str]) -> (String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (s, w) = (dir.path().join("s.csv"), dir.path().join("w.csv"));
    let o = bin()
        .args(["run", net.to_str().unwrap(), "--steps", &steps.to_string()])
        .args(["--device", device, "-q"])
        .args([
            "--out",
            s.to_str().unwrap(),
            "--weights-out",
            w.to_str().unwrap(),
        ])
        .args(extra)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{device}: {err}");
    (
        std::fs::read_to_string(s).unwrap(),
        std::fs::read_to_string(w).unwrap(),
        out,
    )
}

#[test]
fn protocol_device_matches_model_in_process_even_with_faults() {
    let cfg = Config::load(&example("stdp_pattern.toml")).unwrap();
    let net = compile(&cfg).unwrap();
    let steps = 2000;
    let train = net.input_train(steps);

    let mut model = ModelDevice::new(&net).unwrap();
    let want = run(&mut model, &train, steps, |_| {}).unwrap();
    let want_w = model.weights().unwrap();

    let opts = LinkOptions {
        verify: true,
        ..LinkOptions::default()
    };
    let server = ModelServer::new(CoreConfig::DEFAULT).unwrap();
    let mut dev = ProtocolDevice::open(ModelTransport::new(server), opts).unwrap();
    dev.load(&net).unwrap();
    let got = run(&mut dev, &train, steps, |_| {}).unwrap();
    assert_eq!(got.spikes, want.spikes);
    assert_eq!(dev.weights().unwrap(), want_w);
    assert_eq!(got.counters.spikes, want.counters.spikes);
    assert_eq!(got.counters.delivered, want.counters.delivered);
    assert_eq!(dev.stats().retransmissions, 0);

    // One fault per 1,000 bytes in each direction (bit flips and drops).
    for seed in 1..=3 {
        let server = ModelServer::new(CoreConfig::DEFAULT).unwrap();
        let t = FaultyTransport::new(ModelTransport::new(server), FaultConfig::new(0.001, seed));
        let mut dev = ProtocolDevice::open(t, opts).unwrap();
        dev.load(&net).unwrap();
        let got = run(&mut dev, &train, steps, |_| {}).unwrap();
        assert_eq!(got.spikes, want.spikes, "seed {seed}");
        assert_eq!(dev.weights().unwrap(), want_w, "seed {seed}");
        let faults = dev.transport().counts();
        assert!(faults.corrupted() > 0, "seed {seed}: no faults injected");
        assert!(
            dev.stats().retransmissions > 0,
            "seed {seed}: {:?}",
            dev.stats()
        );
        // The device executed every step exactly once.
        assert_eq!(dev.transport().inner().server().next_step(), steps);
    }
}

#[test]
fn step_window_one_and_device_state_readout() {
    let cfg = Config::load(&example("balanced.toml")).unwrap();
    let net = compile(&cfg).unwrap();
    let steps = 300;
    let train = net.input_train(steps);
    let mut model = ModelDevice::new(&net).unwrap();
    let want = run(&mut model, &train, steps, |_| {}).unwrap();

    let server = ModelServer::new(CoreConfig::DEFAULT).unwrap();
    let opts = LinkOptions {
        window: Some(1),
        ..LinkOptions::default()
    };
    let mut dev = ProtocolDevice::open(ModelTransport::new(server), opts).unwrap();
    dev.load(&net).unwrap();
    let got = run(&mut dev, &train, steps, |_| {}).unwrap();
    assert_eq!(got.spikes, want.spikes);
    assert_eq!(dev.neuron_states().unwrap(), model.neuron_states().unwrap());
    assert_eq!(dev.pre_traces().unwrap(), model.pre_traces().unwrap());
    assert_eq!(dev.masks().unwrap(), model.masks().unwrap());
}

#[test]
fn network_is_mapped_onto_a_larger_core() {
    // A 256x64 network on a 300x80 core with 10-bit weights: same results.
    let cfg = Config::load(&example("stdp_pattern.toml")).unwrap();
    let net = compile(&cfg).unwrap();
    let steps = 1500;
    let train = net.input_train(steps);
    let mut model = ModelDevice::new(&net).unwrap();
    let want = run(&mut model, &train, steps, |_| {}).unwrap();

    let mut big = CoreConfig::DEFAULT;
    big.shape.neurons = 300;
    big.shape.inputs = 80;
    big.shape.weight_bits = 10;
    let server = ModelServer::new(big).unwrap();
    let opts = LinkOptions {
        verify: true,
        ..LinkOptions::default()
    };
    let mut dev = ProtocolDevice::open(ModelTransport::new(server), opts).unwrap();
    dev.load(&net).unwrap();
    let got = run(&mut dev, &train, steps, |_| {}).unwrap();
    assert_eq!(got.spikes, want.spikes);
    assert_eq!(dev.weights().unwrap(), model.weights().unwrap());

    // ... and refused on a smaller one, naming the numbers.
    let mut small = CoreConfig::DEFAULT;
    small.shape.neurons = 64;
    let server = ModelServer::new(small).unwrap();
    let mut dev = ProtocolDevice::open(ModelTransport::new(server), opts).unwrap();
    let e = dev.load(&net).unwrap_err();
    assert!(matches!(e, DeviceError::DoesNotFit { .. }), "{e}");
    assert!(
        e.to_string().contains("256 neurons (the core has 64)"),
        "{e}"
    );
}

#[test]
fn cli_over_a_pty_matches_the_model() {
    let served = Served::start(&["--device", "model"]);
    let net = example("stdp_pattern.toml");
    let (s0, w0, _) = run_cli(&net, 2000, "model", &[]);
    let dev = format!("serial:{}", served.path);
    let (s1, w1, out) = run_cli(&net, 2000, &dev, &["--verify"]);
    assert_eq!(s1, s0, "spikes differ over the pty");
    assert_eq!(w1, w0, "final weights differ over the pty");
    assert!(
        out.contains("on serial:") && out.contains("0 retransmissions"),
        "{out}"
    );

    // info
    let o = bin().args(["info", "--device", &dev]).output().unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("256 neurons x 64 inputs, 8-bit weights") && out.contains("step window 4"),
        "{out}"
    );

    // state (the board keeps the state of the last run)
    let o = bin()
        .args(["state", "--device", &dev, "--json"])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("\"neurons\":[{") && out.contains("\"pre_traces\":["),
        "{out}"
    );

    // weights: read as .npy, write back as CSV, read again: same matrix.
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("w.npy");
    let csv = dir.path().join("w.csv");
    let csv2 = dir.path().join("w2.csv");
    for (op, file) in [
        ("read", &npy),
        ("read", &csv),
        ("write", &csv),
        ("read", &csv2),
    ] {
        let o = bin()
            .args([
                "weights",
                op,
                file.to_str().unwrap(),
                "--device",
                &dev,
                "-q",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "weights {op}: {}", text(&o).1);
    }
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        std::fs::read_to_string(&csv2).unwrap()
    );
    let npy_bytes = std::fs::read(&npy).unwrap();
    assert!(npy_bytes.starts_with(b"\x93NUMPY") && npy_bytes.len() > 320 * 256 * 2);
    let o = bin()
        .args([
            "weights",
            "write",
            npy.to_str().unwrap(),
            "--device",
            &dev,
            "-q",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
}

#[test]
fn fault_injecting_proxy_between_cli_and_virtual_board() {
    let served = Served::start(&["--device", "model"]);
    // The proxy: the CLI opens the slave of pair A; the proxy relays A's master
    // to the served board's pty, flipping, dropping and delaying bytes.
    let (a_master, a_slave) = serialport::TTYPort::pair().unwrap();
    let a_path = a_slave.name().unwrap();
    let board = serialport::new(&served.path, 115_200)
        .timeout(Duration::from_millis(20))
        .open()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut cfg = FaultConfig::new(0.001, 42);
    cfg.max_delay = Duration::from_millis(5);
    let proxy = {
        let stop = stop.clone();
        std::thread::spawn(move || fault_proxy(Box::new(a_master), board, cfg, &stop).unwrap())
    };

    let net = example("stdp_pattern.toml");
    let (s0, w0, _) = run_cli(&net, 2000, "model", &[]);
    // A fast nominal baud keeps wire-time allowances (and so timeouts) short.
    let dev = format!("serial:{a_path}@3000000");
    let (s1, w1, out) = run_cli(&net, 2000, &dev, &["--json", "--timeout", "20"]);
    stop.store(true, Ordering::Relaxed);
    let faults = proxy.join().unwrap();
    drop(a_slave);
    assert_eq!(s1, s0, "spikes differ through the faulty proxy");
    assert_eq!(w1, w0, "final weights differ through the faulty proxy");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let retrans = v["retransmissions"].as_u64().unwrap();
    assert!(faults.corrupted() > 0, "{faults:?}");
    assert!(retrans > 0, "{out}");
    eprintln!(
        "fault proxy: {} bytes relayed, {} flipped, {} dropped, {} delayed; {retrans} retransmissions; results identical",
        faults.bytes, faults.flipped, faults.dropped, faults.delayed
    );
}

/// A fake device on a pty: `answer(frame bytes received) -> reply bytes`.
struct FakePort {
    path: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    _slave: serialport::TTYPort,
}

impl FakePort {
    fn start(mut answer: impl FnMut(&[u8]) -> Vec<u8> + Send + 'static) -> FakePort {
        let (mut master, slave) = serialport::TTYPort::pair().unwrap();
        let path = slave.name().unwrap();
        master.set_timeout(Duration::from_millis(20)).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while !s2.load(Ordering::Relaxed) {
                match master.read(&mut buf) {
                    Ok(n) if n > 0 => {
                        let r = answer(&buf[..n]);
                        let _ = master.write_all(&r);
                    }
                    _ => {}
                }
            }
        });
        FakePort {
            path,
            stop,
            thread: Some(thread),
            _slave: slave,
        }
    }
}

impl Drop for FakePort {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn info(device: &str) -> Output {
    bin()
        .args([
            "info",
            "--device",
            device,
            "--timeout",
            "100",
            "--retries",
            "2",
        ])
        .output()
        .unwrap()
}

#[test]
fn bad_ports_give_clear_errors_and_distinct_exit_codes() {
    // Missing port: link error (5).
    let o = info("serial:/dev/does-not-exist-neurofab");
    let e = assert_clean_error(&o, 5);
    assert!(
        e.contains("/dev/does-not-exist-neurofab") && e.contains("cannot open"),
        "{e}"
    );

    // A port that answers garbage: not a neurofab core (6).
    let mut x = 0x1234_5678u32;
    let garbage = FakePort::start(move |rx| {
        (0..rx.len() * 8)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 8) as u8
            })
            .collect()
    });
    let o = info(&format!("serial:{}", garbage.path));
    let e = assert_clean_error(&o, 6);
    assert!(
        e.contains("not a neurofab core") && e.contains("none of them a valid neurofab frame"),
        "{e}"
    );

    // A neurofab core speaking protocol version 2 (7).
    let mut dec = Decoder::with_buffer(vec![0u8; 1024]);
    let v2 = FakePort::start(move |rx| {
        let mut out = Vec::new();
        dec.feed(rx, |f| {
            if let Ok(f) = f {
                let mut p = [0u8; IDENTITY_LEN];
                encode_identity(&CoreConfig::DEFAULT.capabilities(), &mut p);
                p[4] = 2;
                out.extend(encode_frame_vec(0x81, f.seq, &p).unwrap());
            }
        });
        out
    });
    let o = info(&format!("serial:{}", v2.path));
    let e = assert_clean_error(&o, 7);
    assert!(
        e.contains("protocol version 2") && e.contains("version 1"),
        "{e}"
    );

    // A silent port: link error naming what was awaited (5).
    let silent = FakePort::start(|_| Vec::new());
    let o = info(&format!("serial:{}", silent.path));
    let e = assert_clean_error(&o, 5);
    assert!(e.contains("timed out waiting for IDENTITY"), "{e}");

    // An RTL model that was never generated: a device error naming the models (3).
    let o = info("rtl:core_9999");
    let e = assert_clean_error(&o, 3);
    assert!(e.contains("core_9999") && e.contains("core_256"), "{e}");
}

#[test]
fn network_too_big_and_unreadable_input_over_serial() {
    let served = Served::start(&["--neurons", "64", "--inputs", "64"]);
    let dev = format!("serial:{}", served.path);
    let o = bin()
        .args([
            "run",
            example("balanced.toml").to_str().unwrap(),
            "--device",
            &dev,
            "-q",
        ])
        .output()
        .unwrap();
    let e = assert_clean_error(&o, 3);
    assert!(
        e.contains("does not fit") && e.contains("256 neurons (the core has 64)"),
        "{e}"
    );

    let o = bin()
        .args([
            "run",
            example("balanced.toml").to_str().unwrap(),
            "--device",
            &dev,
        ])
        .args(["--input", "/nonexistent/inputs.csv"])
        .output()
        .unwrap();
    let e = assert_clean_error(&o, 4);
    assert!(e.contains("/nonexistent/inputs.csv"), "{e}");

    // A vanished port (server killed) is a link error, not a hang.
    drop(served);
    let o = info(&dev);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o).1);
}

/// Skips an RTL test when the Verilator models were not built (unless CI requires them).
fn rtl_available() -> bool {
    if neurofab_sim::rtl::verilator_built() {
        return true;
    }
    assert!(
        std::env::var("NEUROFAB_REQUIRE_VERILATOR").as_deref() != Ok("1"),
        "NEUROFAB_REQUIRE_VERILATOR=1 but the RTL models were not built"
    );
    eprintln!("skipped: Verilator models not built (run scripts/install-tools.sh)");
    false
}

/// `--device rtl`: the network runs on the Verilator-simulated core, in-process, through
/// the same protocol bytes a board gets; spikes and final weights equal the model's.
#[test]
fn rtl_device_matches_the_model() {
    if !rtl_available() {
        return;
    }
    let net = example("stdp_pattern.toml");
    let (s0, w0, _) = run_cli(&net, 1500, "model", &[]);
    let (s1, w1, out) = run_cli(&net, 1500, "rtl", &["--verify"]);
    assert_eq!(s1, s0, "spikes differ on the RTL core");
    assert_eq!(w1, w0, "final weights differ on the RTL core");
    assert!(out.contains("on rtl:core_256"), "{out}");
}

/// Issue 4's end-to-end test: `neurofab serve --device rtl` serves the simulated core on a
/// pty, `neurofab run --device serial:<pty>` drives it like a board; identical results.
#[test]
fn rtl_served_on_a_pty_matches_the_model() {
    if !rtl_available() {
        return;
    }
    let served = Served::start(&["--device", "rtl"]);
    let net = example("balanced.toml");
    let (s0, w0, _) = run_cli(&net, 800, "model", &[]);
    let dev = format!("serial:{}@3000000", served.path);
    let (s1, w1, out) = run_cli(&net, 800, &dev, &[]);
    assert_eq!(s1, s0, "spikes differ through the served RTL core");
    assert_eq!(w1, w0, "final weights differ through the served RTL core");
    assert!(out.contains("on serial:"), "{out}");
    let o = bin().args(["info", "--device", &dev]).output().unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("256 neurons x 64 inputs"), "{out}");
}
