//! Digits classification with on-chip STDP (issue 6, docs/digits.md).
//!
//! ```text
//! cargo run --release -p neurofab --example digits -- [--device model] \
//!     [--train N --test N --epochs E] [--plots DIR] [--json]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use neurofab::digits::{self, Coding, DigitsConfig, Eta, LearningCore};
use neurofab::link::transport::{ModelTransport, SerialTransport};
use neurofab::link::{LinkOptions, ProtocolDevice, RtlTransport, DEFAULT_RTL_MODEL};
use neurofab_proto::CoreConfig;
use neurofab_sim::{Core, ModelServer};

#[derive(Parser, Debug)]
#[command(about = "Train the 8×8 digits on a neurofab core with its own STDP, then test")]
struct Args {
    /// The core to learn on: model, proto-model, rtl[:MODEL] or serial:PATH[@BAUD].
    #[arg(long, default_value = "model")]
    device: String,
    /// Training samples (the first N of the fixed training split; default all 1,347).
    #[arg(long)]
    train: Option<usize>,
    /// Test samples (the first N of the fixed test split; default all 450).
    #[arg(long)]
    test: Option<usize>,
    #[arg(long)]
    epochs: Option<u32>,
    /// Seed of the presentation order and the spike encoding.
    #[arg(long)]
    seed: Option<u64>,
    /// Write weights.svg, confusion.svg and accuracy.svg here.
    #[arg(long)]
    plots: Option<PathBuf>,
    /// Print the full result as JSON on stdout (progress goes to stderr).
    #[arg(long)]
    json: bool,
    /// Output neurons per class.
    #[arg(long)]
    per_class: Option<u16>,
    /// Spike coding: regular or poisson.
    #[arg(long)]
    coding: Option<Coding>,
    /// Steps of the free, teacher and test presentations (same for all three).
    #[arg(long)]
    steps: Option<u32>,
    /// Amplitude schedule, one `PLUS/MINUS` per epoch (last one repeats), e.g. `4/4,2/2`.
    #[arg(long)]
    eta: Option<String>,
    /// Output neurons' threshold (LSB).
    #[arg(long)]
    v_th: Option<i16>,
    /// Output neurons' synaptic gain.
    #[arg(long)]
    w_shift: Option<u8>,
    /// Output neurons' membrane time constant (steps; 0 = no memory).
    #[arg(long)]
    tau_mem: Option<f64>,
    /// Output neurons' refractory period (steps).
    #[arg(long)]
    t_ref: Option<u8>,
    /// Forced neurons fire every TEACH_T_REF + 1 steps.
    #[arg(long)]
    teach_t_ref: Option<u8>,
    /// Pre/post trace time constants (steps).
    #[arg(long)]
    tau_trace: Option<f64>,
    /// Pre/post trace increments.
    #[arg(long)]
    inc: Option<u8>,
    /// Lower weight clamp.
    #[arg(long, allow_hyphen_values = true)]
    w_min: Option<i16>,
    /// Maximum input rate, spikes per step at pixel 16, as NUM/DEN.
    #[arg(long)]
    max_rate: Option<String>,
}

fn parse_eta(s: &str) -> Result<Vec<Eta>, String> {
    s.split(',')
        .map(|e| {
            let (p, m) = e
                .split_once('/')
                .ok_or_else(|| format!("eta \"{e}\": expected PLUS/MINUS"))?;
            Ok(Eta {
                plus: p
                    .trim()
                    .parse()
                    .map_err(|_| format!("eta \"{e}\": bad PLUS"))?,
                minus: m
                    .trim()
                    .parse()
                    .map_err(|_| format!("eta \"{e}\": bad MINUS"))?,
            })
        })
        .collect()
}

fn config(a: &Args) -> Result<DigitsConfig, String> {
    let mut c = DigitsConfig {
        train: a.train,
        test: a.test,
        ..DigitsConfig::default()
    };
    if let Some(e) = a.epochs {
        c.epochs = e;
    }
    if let Some(s) = a.seed {
        c.seed = s;
    }
    if let Some(k) = a.per_class {
        c.per_class = k;
        c.neurons = c.outputs();
    }
    if let Some(cd) = a.coding {
        c.encoder.coding = cd;
    }
    if let Some(s) = a.steps {
        (c.steps_free, c.steps_teach, c.steps_test) = (s, s, s);
    }
    if let Some(e) = &a.eta {
        c.eta = parse_eta(e)?;
    }
    if let Some(v) = a.v_th {
        c.neuron.v_th = v;
    }
    if let Some(v) = a.w_shift {
        c.neuron.w_shift = v;
    }
    if let Some(t) = a.tau_mem {
        c.neuron.alpha_v = if t <= 0.0 { 0 } else { digits::alpha(t) };
    }
    if let Some(v) = a.t_ref {
        c.neuron.t_ref = v;
    }
    if let Some(v) = a.teach_t_ref {
        c.teach_t_ref = v;
    }
    if let Some(t) = a.tau_trace {
        c.stdp.alpha_pre = digits::alpha(t);
        c.stdp.alpha_post = digits::alpha(t);
    }
    if let Some(v) = a.inc {
        c.stdp.inc_pre = v;
        c.stdp.inc_post = v;
    }
    if let Some(v) = a.w_min {
        c.stdp.w_min = v;
    }
    if let Some(r) = &a.max_rate {
        let (n, d) = r.split_once('/').ok_or("max-rate: expected NUM/DEN")?;
        c.encoder.max_rate_num = n.parse().map_err(|_| "max-rate: bad NUM")?;
        c.encoder.max_rate_den = d.parse().map_err(|_| "max-rate: bad DEN")?;
    }
    Ok(c)
}

/// Opens `--device`: `model` (the reference model, called directly), `proto-model`
/// (the reference device behind the full wire protocol), `rtl[:MODEL]` (the
/// Verilator core behind its UART) or `serial:PATH[@BAUD]`.
fn open(device: &str, cfg: &DigitsConfig) -> Result<Box<dyn LearningCore>, String> {
    let opts = LinkOptions::default();
    let s = |e: &dyn std::fmt::Display| e.to_string();
    if device == "model" {
        return Ok(Box::new(Core::new(cfg.shape()).map_err(|e| s(&e))?));
    }
    if device == "proto-model" {
        let server = ModelServer::new(CoreConfig::DEFAULT).map_err(|e| s(&e))?;
        let d = ProtocolDevice::open(ModelTransport::new(server), opts).map_err(|e| s(&e))?;
        return Ok(Box::new(d));
    }
    if let Some(rest) = device.strip_prefix("rtl") {
        let model = match rest.strip_prefix(':') {
            Some(m) => m,
            None if rest.is_empty() => DEFAULT_RTL_MODEL,
            None => return Err(format!("unknown device \"{device}\"")),
        };
        let t = RtlTransport::open(model, None).map_err(|e| s(&e))?;
        return Ok(Box::new(ProtocolDevice::open(t, opts).map_err(|e| s(&e))?));
    }
    if let Some(rest) = device.strip_prefix("serial:") {
        let (path, baud) = match rest.rsplit_once('@') {
            Some((p, b)) => (p, b.parse().map_err(|_| format!("bad baud rate \"{b}\""))?),
            None => (rest, neurofab_proto::DEFAULT_BAUD),
        };
        let t = SerialTransport::open(path, baud).map_err(|e| s(&e))?;
        return Ok(Box::new(ProtocolDevice::open(t, opts).map_err(|e| s(&e))?));
    }
    Err(format!(
        "unknown device \"{device}\" (model, proto-model, rtl[:MODEL], serial:PATH[@BAUD])"
    ))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut core = match open(&args.device, &cfg) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "digits on {}: {} output neurons ({} per class), {} epochs",
        args.device,
        cfg.outputs(),
        cfg.per_class,
        cfg.epochs
    );
    let result = digits::run(core.as_mut(), &cfg, &mut |e| {
        eprintln!(
            "epoch {:>2}  eta +{}/-{}  train(online) {:5.1} %  test {:5.1} %  ({:.1} s)",
            e.epoch,
            e.eta.plus,
            e.eta.minus,
            100.0 * e.train_online_accuracy,
            100.0 * e.test_accuracy,
            e.train_seconds
        )
    });
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
    };
    eprintln!(
        "test accuracy {:.2} % ({}/{} correct, {} silent), {} train / {} test samples, \
         {} steps, training {:.1} s, total {:.1} s",
        100.0 * result.test_accuracy,
        result
            .labels
            .iter()
            .zip(&result.predictions)
            .filter(|(l, p)| l == p)
            .count(),
        result.test_samples,
        result.silent,
        result.train_samples,
        result.test_samples,
        result.steps,
        result.train_seconds,
        result.total_seconds
    );
    if let Some(dir) = &args.plots {
        match digits::plot::write_plots(&result, dir) {
            Ok(paths) => {
                for p in paths {
                    eprintln!("wrote {}", p.display());
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(4);
            }
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&result) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(4);
            }
        }
    }
    ExitCode::SUCCESS
}
