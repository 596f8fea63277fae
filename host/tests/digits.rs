//! The digits workflow (issue 6, docs/digits.md) on the reference model:
//! the shipped data set, the split, the encoder, and a reduced training run
//! that must learn well above chance, deterministically.

use neurofab::digits::{self, data, Coding, DigitsConfig, DigitsResult, Encoder, LearningCore};
use neurofab::link::transport::ModelTransport;
use neurofab::link::{LinkOptions, ProtocolDevice, RtlTransport, DEFAULT_RTL_MODEL};
use neurofab_proto::CoreConfig;
use neurofab_sim::{Core, ModelServer};

fn run(cfg: &DigitsConfig) -> DigitsResult {
    let mut core = Core::new(cfg.shape()).unwrap();
    digits::run(&mut core, cfg, &mut |_| {}).unwrap()
}

fn reduced() -> DigitsConfig {
    DigitsConfig {
        train: Some(300),
        test: Some(150),
        epochs: 2,
        ..DigitsConfig::default()
    }
}

#[test]
fn data_set_is_the_uci_digits() {
    let s = data::load();
    assert_eq!(s.len(), 1797);
    let mut per_class = [0usize; 10];
    for x in &s {
        per_class[x.label as usize] += 1;
        assert!(x.pixels.iter().all(|&p| p <= 16));
    }
    // scikit-learn's load_digits() class counts.
    assert_eq!(
        per_class,
        [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    );
    // The first image is a 0 (row 1 of the set).
    assert_eq!(s[0].label, 0);
    assert_eq!(&s[0].pixels[..8], &[0, 0, 5, 13, 9, 1, 0, 0]);
    let total: u64 = s.iter().flat_map(|x| x.pixels).map(u64::from).sum();
    assert_eq!(total, 561_718);
}

#[test]
fn split_is_fixed_and_disjoint() {
    let sp = data::split();
    assert_eq!(sp.train.len(), 1347);
    assert_eq!(sp.test.len(), 450);
    let mut all: Vec<usize> = sp.train.iter().chain(&sp.test).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..1797).collect::<Vec<_>>());
    assert_eq!(sp, data::split());
}

#[test]
fn encoder_is_deterministic_and_rate_coded() {
    let img = data::load()[0].pixels;
    for coding in [Coding::Regular, Coding::Poisson] {
        let e = Encoder {
            coding,
            max_rate_num: 1,
            max_rate_den: 2,
        };
        let a = e.encode(&img, 200, &[1, 2, 3]);
        assert_eq!(a, e.encode(&img, 200, &[1, 2, 3]));
        assert_ne!(a, e.encode(&img, 200, &[1, 2, 4]));
        let count = |k: u16| a.iter().filter(|s| s.contains(&k)).count();
        // Pixel 0 is 0: silent. Pixel 3 is 13: rate 13/32 per step.
        assert_eq!(count(0), 0);
        let c3 = count(3) as f64;
        let tol = if coding == Coding::Regular { 1.0 } else { 25.0 };
        assert!((c3 - 200.0 * 13.0 / 32.0).abs() <= tol, "{coding:?}: {c3}");
    }
}

#[test]
fn reduced_run_learns_well_above_chance() {
    let r = run(&reduced());
    assert_eq!(r.train_samples, 300);
    assert_eq!(r.test_samples, 150);
    assert_eq!(r.epochs.len(), 2);
    assert!(r.test_accuracy > 0.6, "test accuracy {}", r.test_accuracy);
    let total: u32 = r.confusion.iter().flatten().sum();
    assert_eq!(total, 150);
    // The weights were learned: every class has potentiated and depressed synapses.
    for o in 0..10 {
        let img = r.weight_image(o);
        assert!(img.iter().any(|&w| w > 20) && img.iter().any(|&w| w < -20));
    }
}

#[test]
fn same_seed_same_predictions_and_weights() {
    let cfg = DigitsConfig {
        train: Some(200),
        test: Some(100),
        epochs: 1,
        ..DigitsConfig::default()
    };
    let a = run(&cfg);
    let b = run(&cfg);
    assert_eq!(a.predictions, b.predictions);
    assert_eq!(a.weights, b.weights);
    let c = run(&DigitsConfig {
        seed: 2,
        ..cfg.clone()
    });
    assert_ne!(a.weights, c.weights, "the seed drives order and spikes");
}

#[test]
fn spare_neurons_change_nothing() {
    // On a 256-neuron core (the UP5K default) the unused neurons never fire,
    // so predictions and weights are those of the 10-neuron core.
    let cfg = DigitsConfig {
        train: Some(150),
        test: Some(60),
        epochs: 1,
        ..DigitsConfig::default()
    };
    let small = run(&cfg);
    let big = run(&DigitsConfig {
        neurons: 256,
        ..cfg
    });
    assert_eq!(small.predictions, big.predictions);
    assert_eq!(small.weights, big.weights);
}

#[test]
fn full_test_split_reaches_the_target() {
    // The target: ≥ 68 % on the full 450-sample test split (the
    // documented configuration reaches about 90 %). Fast on the model.
    let r = run(&DigitsConfig::default());
    assert_eq!(r.test_samples, 450);
    assert!(r.test_accuracy >= 0.68, "test accuracy {}", r.test_accuracy);
}

#[test]
fn plots_are_written() {
    let r = run(&DigitsConfig {
        train: Some(100),
        test: Some(50),
        epochs: 2,
        ..DigitsConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let paths = digits::plot::write_plots(&r, dir.path()).unwrap();
    assert_eq!(paths.len(), 3);
    for p in paths {
        let s = std::fs::read_to_string(&p).unwrap();
        assert!(
            s.starts_with("<svg") && s.trim_end().ends_with("</svg>"),
            "{}",
            p.display()
        );
    }
}

fn small() -> DigitsConfig {
    DigitsConfig {
        train: Some(40),
        test: Some(20),
        epochs: 1,
        ..DigitsConfig::default()
    }
}

fn run_on(core: &mut dyn LearningCore, cfg: &DigitsConfig) -> DigitsResult {
    digits::run(core, cfg, &mut |_| {}).unwrap()
}

#[test]
fn wire_protocol_device_agrees_with_the_model() {
    // The same workflow through every frame of the protocol (a 256-neuron
    // reference device): identical predictions and final weights.
    let cfg = small();
    let model = run(&cfg);
    let server = ModelServer::new(CoreConfig::DEFAULT).unwrap();
    let mut dev =
        ProtocolDevice::open(ModelTransport::new(server), LinkOptions::default()).unwrap();
    let wire = run_on(&mut dev, &cfg);
    assert_eq!(wire.device, "proto-model");
    assert_eq!(model.predictions, wire.predictions);
    assert_eq!(model.weights, wire.weights);
}

#[test]
fn rtl_agrees_with_the_model() {
    if !neurofab_sim::rtl::verilator_built() {
        eprintln!("skipped: the Verilator RTL core is not built");
        return;
    }
    let cfg = small();
    let model = run(&cfg);
    let t = RtlTransport::open(DEFAULT_RTL_MODEL, None).unwrap();
    let mut dev = ProtocolDevice::open(t, LinkOptions::default()).unwrap();
    let rtl = run_on(&mut dev, &cfg);
    assert_eq!(model.predictions, rtl.predictions);
    assert_eq!(model.weights, rtl.weights);
}
