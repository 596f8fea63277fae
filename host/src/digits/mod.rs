//! Digits classification with on-chip STDP (issue 6, part 1).
//!
//! The 8×8 UCI digits ([`data`]) are rate coded onto the core's 64 inputs
//! ([`encode`]); 10 × k output neurons (class `c` owns neurons `c·k .. c·k+k`)
//! receive all-to-all plastic synapses from the pixels. Weights are learned by
//! the core's own pair STDP in a two-phase, teacher-forced scheme (docs/digits.md):
//!
//! 1. **free phase** (learning on, `eta_plus = 0`, `eta_minus > 0`): the image
//!    is shown to the network with every output neuron at its normal
//!    parameters; a neuron that responds builds up its post-trace, and every
//!    later pixel spike depresses that pixel's synapse (anti-Hebbian, ∝ pre × post rate);
//! 2. **teacher phase** (learning on, `eta_plus > 0`, `eta_minus = 0`): the
//!    label's neurons are forced to fire at a fixed rate (threshold written to
//!    −32768) and the others are silenced (threshold 32767), so only the label's
//!    synapses from active pixels are potentiated (Hebbian, ∝ pre rate).
//!
//! Together the two phases are a contrastive Hebbian (perceptron-like) rule:
//! a synapse stops changing when the neuron's free response to its class
//! matches the forced rate and it stays silent for the other classes.
//! Then learning is switched off and a test image is classified by the class
//! whose neurons fire most. Every knob is an integer core parameter, so the same
//! workflow runs on any [`LearningCore`].

pub mod chip;
pub mod data;
pub mod encode;
pub mod plot;
pub mod rng;

use std::time::Instant;

use neurofab_proto::{CoreShape, NeuronParams, StdpParams};
use serde::Serialize;

pub use chip::{CoreSetup, LearningCore};
pub use data::{Sample, Split, CLASSES, PIXELS};
pub use encode::{Coding, Encoder};
use rng::{hash, SplitMix64};

/// Why the digits workflow failed.
#[derive(Debug, thiserror::Error)]
pub enum DigitsError {
    /// The core refused a command or failed.
    #[error("{0}")]
    Core(String),
    /// A malformed data set.
    #[error("digits data: {0}")]
    Data(String),
    /// An inconsistent configuration.
    #[error("digits config: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Learning amplitudes for one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Eta {
    /// Potentiation amplitude in the teacher phase.
    pub plus: u8,
    /// Depression amplitude in the free phase.
    pub minus: u8,
}

/// Everything that defines a run. [`DigitsConfig::default`] is the documented
/// configuration of docs/digits.md.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigitsConfig {
    /// Seed of the presentation order and the spike encoding.
    pub seed: u64,
    /// Use the first `train` samples of the training split (`None`: all 1,347).
    pub train: Option<usize>,
    /// Use the first `test` samples of the test split (`None`: all 450).
    pub test: Option<usize>,
    pub epochs: u32,
    /// Output neurons per class (k).
    pub per_class: u16,
    /// Core neurons (≥ 10·k; the rest keep reset parameters and never fire).
    pub neurons: u16,
    pub encoder: Encoder,
    /// Steps of the free phase, the teacher phase and a test presentation.
    pub steps_free: u32,
    pub steps_teach: u32,
    pub steps_test: u32,
    /// The output neurons' parameters (free phase and test).
    #[serde(serialize_with = "ser_neuron")]
    pub neuron: NeuronParams,
    /// Refractory period of a forced neuron: it fires every `teach_t_ref + 1` steps.
    pub teach_t_ref: u8,
    /// Traces and clamps (`enabled`, `eta_plus`, `eta_minus` are set per phase).
    #[serde(serialize_with = "ser_stdp")]
    pub stdp: StdpParams,
    /// Amplitudes per epoch; epoch `e` uses entry `min(e, len − 1)`.
    pub eta: Vec<Eta>,
    /// Initial weight of every pixel → output synapse.
    pub w_init: i16,
}

fn ser_neuron<S: serde::Serializer>(p: &NeuronParams, s: S) -> Result<S::Ok, S::Error> {
    serde_json::json!({
        "v_th": p.v_th, "v_reset": p.v_reset, "v_rest": p.v_rest, "alpha_v": p.alpha_v,
        "alpha_i": p.alpha_i, "t_ref": p.t_ref, "w_shift": p.w_shift,
    })
    .serialize(s)
}

fn ser_stdp<S: serde::Serializer>(p: &StdpParams, s: S) -> Result<S::Ok, S::Error> {
    serde_json::json!({
        "w_min": p.w_min, "w_max": p.w_max, "alpha_pre": p.alpha_pre,
        "alpha_post": p.alpha_post, "inc_pre": p.inc_pre, "inc_post": p.inc_post,
    })
    .serialize(s)
}

/// `round(2^15 · exp(−1/τ))` for τ in steps, as the compiler computes decay factors.
pub fn alpha(tau_steps: f64) -> u16 {
    (32768.0 * (-1.0 / tau_steps).exp()).round() as u16
}

impl Default for DigitsConfig {
    fn default() -> Self {
        DigitsConfig {
            seed: 1,
            train: None,
            test: None,
            epochs: 5,
            per_class: 1,
            neurons: 10,
            encoder: Encoder {
                coding: Coding::Regular,
                max_rate_num: 1,
                max_rate_den: 2,
            },
            steps_free: 20,
            steps_teach: 20,
            steps_test: 20,
            neuron: NeuronParams {
                v_th: 4096,
                v_reset: 0,
                v_rest: 0,
                alpha_v: alpha(8.0),
                alpha_i: 0,
                t_ref: 1,
                w_shift: 2,
            },
            teach_t_ref: 4,
            stdp: StdpParams {
                enabled: false,
                eta_plus: 0,
                eta_minus: 0,
                w_min: -128,
                w_max: 127,
                alpha_pre: alpha(4.0),
                alpha_post: alpha(4.0),
                inc_pre: 64,
                inc_post: 64,
            },
            eta: vec![Eta { plus: 4, minus: 4 }],
            w_init: 0,
        }
    }
}

impl DigitsConfig {
    /// Output neurons (10 · k).
    pub fn outputs(&self) -> u16 {
        CLASSES as u16 * self.per_class
    }

    pub fn shape(&self) -> CoreShape {
        CoreShape {
            neurons: self.neurons,
            inputs: PIXELS as u16,
            weight_bits: 8,
        }
    }

    pub fn eta_for(&self, epoch: u32) -> Eta {
        self.eta[(epoch as usize).min(self.eta.len() - 1)]
    }

    pub fn validate(&self) -> Result<(), DigitsError> {
        let bad = |m: String| Err(DigitsError::Config(m));
        if self.per_class == 0 {
            return bad("per_class must be at least 1".into());
        }
        if self.neurons < self.outputs() {
            return bad(format!(
                "{} neurons cannot hold {} outputs",
                self.neurons,
                self.outputs()
            ));
        }
        if self.eta.is_empty() {
            return bad("the eta schedule is empty".into());
        }
        let e = &self.encoder;
        if e.max_rate_den == 0 || e.max_rate_num > e.max_rate_den {
            return bad("the maximum input rate must be at most 1 spike per step".into());
        }
        let shape = self.shape();
        shape
            .validate()
            .and_then(|_| self.neuron.validate(&shape))
            .and_then(|_| self.stdp.validate(&shape))
            .or_else(|e| bad(e.to_string()))?;
        if self.w_init < shape.weight_min() || self.w_init > shape.weight_max() {
            return bad(format!("w_init = {} does not fit 8 bits", self.w_init));
        }
        Ok(())
    }

    /// Parameters of a forced neuron: fires at every non-refractory step.
    pub fn forced(&self) -> NeuronParams {
        NeuronParams {
            v_th: i16::MIN,
            t_ref: self.teach_t_ref,
            ..self.neuron
        }
    }

    /// Parameters of a silenced neuron: `v = i = acc` is at most 64 · 127 < 32767.
    pub fn silenced(&self) -> NeuronParams {
        NeuronParams {
            v_th: i16::MAX,
            v_reset: 0,
            v_rest: 0,
            alpha_v: 0,
            alpha_i: 0,
            t_ref: 0,
            w_shift: 0,
        }
    }

    /// The initial upload: output neurons at their normal parameters, all
    /// pixel → output synapses plastic at `w_init`, learning off.
    pub fn setup(&self) -> CoreSetup {
        let shape = self.shape();
        let n = shape.neurons as usize;
        let outs = self.outputs() as usize;
        let mut neuron_params = vec![NeuronParams::RESET; n];
        neuron_params[..outs].fill(self.neuron);
        let mut weights = vec![0i16; shape.synapses()];
        let mut plastic = vec![false; shape.synapses()];
        for s in 0..PIXELS {
            for o in 0..outs {
                weights[s * n + o] = self.w_init;
                plastic[s * n + o] = true;
            }
        }
        CoreSetup {
            shape,
            neuron_params,
            stdp: StdpParams {
                enabled: false,
                ..self.stdp
            },
            weights,
            plastic,
        }
    }
}

/// Per-class spike counts of one presentation and the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub counts: [u32; CLASSES],
    /// First step at which a neuron of the class fired (`u32::MAX`: never).
    pub first: [u32; CLASSES],
}

impl Response {
    fn new() -> Response {
        Response {
            counts: [0; CLASSES],
            first: [u32::MAX; CLASSES],
        }
    }

    fn record(&mut self, t: u32, fired: &[u16], per_class: u16) {
        for &f in fired {
            let c = (f / per_class) as usize;
            if c < CLASSES {
                self.counts[c] += 1;
                self.first[c] = self.first[c].min(t);
            }
        }
    }

    /// The class with the most spikes; ties go to the earliest first spike,
    /// then to the lower digit. A silent network answers 0.
    pub fn predict(&self) -> u8 {
        (0..CLASSES)
            .max_by_key(|&c| {
                (
                    self.counts[c],
                    std::cmp::Reverse(self.first[c]),
                    std::cmp::Reverse(c),
                )
            })
            .unwrap_or(0) as u8
    }

    pub fn silent(&self) -> bool {
        self.counts.iter().all(|&c| c == 0)
    }
}

/// One line of the learning curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: u32,
    pub eta: Eta,
    /// Accuracy of the free-phase responses during the epoch (each sample is
    /// classified before the teacher phase updates on it).
    pub train_online_accuracy: f64,
    /// Test accuracy with learning frozen after the epoch.
    pub test_accuracy: f64,
    /// Seconds spent training this epoch (without the test).
    pub train_seconds: f64,
}

/// The outcome of [`run`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigitsResult {
    pub device: String,
    pub config: DigitsConfig,
    pub train_samples: usize,
    pub test_samples: usize,
    pub epochs: Vec<EpochReport>,
    /// Final test accuracy (the last epoch's).
    pub test_accuracy: f64,
    /// Test presentations on which no output neuron fired.
    pub silent: usize,
    pub labels: Vec<u8>,
    pub predictions: Vec<u8>,
    /// `confusion[true][predicted]`.
    pub confusion: [[u32; CLASSES]; CLASSES],
    /// Learned pixel → output weights, `weights[pixel][output]` flattened
    /// (64 rows × 10·k columns).
    pub weights: Vec<i16>,
    /// Core steps run (training and testing).
    pub steps: u64,
    pub train_seconds: f64,
    pub total_seconds: f64,
}

impl DigitsResult {
    /// The learned 8×8 weight image of output neuron `o` (row-major).
    pub fn weight_image(&self, o: usize) -> [i16; PIXELS] {
        let outs = self.config.outputs() as usize;
        std::array::from_fn(|p| self.weights[p * outs + o])
    }
}

fn accuracy(correct: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    }
}

/// Key of a presentation's spike encoding.
const PHASE_FREE: u64 = 0;
const PHASE_TEACH: u64 = 1;
const PHASE_TEST: u64 = 2;

/// Shows each sample once with learning off; returns the responses.
pub fn evaluate(
    core: &mut dyn LearningCore,
    cfg: &DigitsConfig,
    samples: &[Sample],
    indices: &[usize],
    steps: &mut u64,
) -> Result<Vec<Response>, DigitsError> {
    let outs = cfg.outputs() as usize;
    core.set_neuron_params(0, &vec![cfg.neuron; outs])?;
    core.set_stdp(StdpParams {
        enabled: false,
        eta_plus: 0,
        eta_minus: 0,
        ..cfg.stdp
    })?;
    let mut out = Vec::with_capacity(indices.len());
    for &i in indices {
        let train = cfg.encoder.encode(
            &samples[i].pixels,
            cfg.steps_test,
            &[cfg.seed, PHASE_TEST, i as u64],
        );
        core.reset_state()?;
        let mut r = Response::new();
        core.run(&train, &mut |t, fired| r.record(t, fired, cfg.per_class))?;
        *steps += cfg.steps_test as u64;
        out.push(r);
    }
    Ok(out)
}

/// Trains `epochs` epochs on the training split and tests after each; `on_epoch`
/// sees each epoch's report as it completes.
pub fn run(
    core: &mut dyn LearningCore,
    cfg: &DigitsConfig,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<DigitsResult, DigitsError> {
    cfg.validate()?;
    let t0 = Instant::now();
    let samples = data::load();
    let split = data::split();
    let ntrain = cfg
        .train
        .unwrap_or(split.train.len())
        .min(split.train.len());
    let ntest = cfg.test.unwrap_or(split.test.len()).min(split.test.len());
    let train_idx = &split.train[..ntrain];
    let test_idx = &split.test[..ntest];

    // The model takes the setup's shape; other cores must already have it.
    core.load(&cfg.setup())?;
    if core.shape() != cfg.shape() {
        return Err(DigitsError::Config(format!(
            "{}: core shape {:?} differs from the workflow's {:?}",
            core.name(),
            core.shape(),
            cfg.shape()
        )));
    }
    let outs = cfg.outputs() as usize;
    let k = cfg.per_class as usize;
    let mut steps = 0u64;
    let mut epochs = Vec::new();
    let mut train_seconds = 0.0;
    let mut last_test = Vec::new();

    for epoch in 0..cfg.epochs {
        let te = Instant::now();
        let eta = cfg.eta_for(epoch);
        let mut order = train_idx.to_vec();
        SplitMix64::new(hash(&[cfg.seed, epoch as u64])).shuffle(&mut order);
        let mut correct = 0usize;
        let learn_free = StdpParams {
            enabled: true,
            eta_plus: 0,
            eta_minus: eta.minus,
            ..cfg.stdp
        };
        let learn_teach = StdpParams {
            enabled: true,
            eta_plus: eta.plus,
            eta_minus: 0,
            ..cfg.stdp
        };
        let free_params = vec![cfg.neuron; outs];
        for &i in &order {
            let s = &samples[i];
            let key = |phase| [cfg.seed, phase, i as u64, epoch as u64];
            // Free phase: the network's own response; anti-Hebbian depression.
            core.set_neuron_params(0, &free_params)?;
            core.set_stdp(learn_free)?;
            core.reset_state()?;
            let train = cfg
                .encoder
                .encode(&s.pixels, cfg.steps_free, &key(PHASE_FREE));
            let mut r = Response::new();
            core.run(&train, &mut |t, fired| r.record(t, fired, cfg.per_class))?;
            if r.predict() == s.label {
                correct += 1;
            }
            // Teacher phase: label neurons forced, others silenced; Hebbian potentiation.
            let label = s.label as usize;
            let mut teach = vec![cfg.silenced(); outs];
            teach[label * k..label * k + k].fill(cfg.forced());
            core.set_neuron_params(0, &teach)?;
            core.set_stdp(learn_teach)?;
            core.reset_state()?;
            let train = cfg
                .encoder
                .encode(&s.pixels, cfg.steps_teach, &key(PHASE_TEACH));
            core.run(&train, &mut |_, _| {})?;
            steps += (cfg.steps_free + cfg.steps_teach) as u64;
        }
        let secs = te.elapsed().as_secs_f64();
        train_seconds += secs;
        let responses = evaluate(core, cfg, &samples, test_idx, &mut steps)?;
        let test_correct = responses
            .iter()
            .zip(test_idx)
            .filter(|(r, &i)| r.predict() == samples[i].label)
            .count();
        let rep = EpochReport {
            epoch: epoch + 1,
            eta,
            train_online_accuracy: accuracy(correct, ntrain),
            test_accuracy: accuracy(test_correct, ntest),
            train_seconds: secs,
        };
        on_epoch(&rep);
        epochs.push(rep);
        last_test = responses;
    }
    if cfg.epochs == 0 {
        last_test = evaluate(core, cfg, &samples, test_idx, &mut steps)?;
    }

    let labels: Vec<u8> = test_idx.iter().map(|&i| samples[i].label).collect();
    let predictions: Vec<u8> = last_test.iter().map(Response::predict).collect();
    let mut confusion = [[0u32; CLASSES]; CLASSES];
    for (&l, &p) in labels.iter().zip(&predictions) {
        confusion[l as usize][p as usize] += 1;
    }
    let correct = labels
        .iter()
        .zip(&predictions)
        .filter(|(l, p)| l == p)
        .count();
    let all = core.weights()?;
    let n = cfg.neurons as usize;
    let mut weights = Vec::with_capacity(PIXELS * outs);
    for p in 0..PIXELS {
        weights.extend_from_slice(&all[p * n..p * n + outs]);
    }
    Ok(DigitsResult {
        device: core.name().to_string(),
        config: cfg.clone(),
        train_samples: ntrain,
        test_samples: ntest,
        epochs,
        test_accuracy: accuracy(correct, ntest),
        silent: last_test.iter().filter(|r| r.silent()).count(),
        labels,
        predictions,
        confusion,
        weights,
        steps,
        train_seconds,
        total_seconds: t0.elapsed().as_secs_f64(),
    })
}
