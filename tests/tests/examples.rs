//! The examples compile and, run on the reference model through the host
//! library, show the behaviour their header comments promise.

use neurofab::compile::compile;
use neurofab::config::Config;
use neurofab::device::{Device, ModelDevice};
use neurofab::run::run;
use neurofab_tests::example;

#[test]
fn stdp_pattern_is_learned() {
    let cfg = Config::load(&example("stdp_pattern.toml")).unwrap();
    let net = compile(&cfg).unwrap();
    let mut dev = ModelDevice::new(&net).unwrap();
    // The model loaded exactly what the compiler produced.
    assert_eq!(dev.core().weights(), &net.weights[..]);
    assert_eq!(dev.core().stdp(), net.stdp);

    let steps = net.steps;
    let res = run(&mut dev, &net.input_train(steps), steps, |_| {}).unwrap();
    let weights = dev.weights().unwrap();

    let out = net.population("out").unwrap().first;
    let group = net.input_group("afferents").unwrap();
    let members = &net.pattern_members[0];
    assert_eq!(members.len(), 32);
    let lsb = net.weight_lsb_mv(out);
    let cols = net.shape.neurons as usize;
    let w = |s: u16| f64::from(weights[s as usize * cols + out as usize]) * lsb;
    let (mut pat, mut noise) = (Vec::new(), Vec::new());
    for s in group.range() {
        if members.contains(&s) {
            pat.push(w(s))
        } else {
            noise.push(w(s))
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mp, mn) = (mean(&pat), mean(&noise));
    assert!(
        mp > mn + 0.3,
        "pattern weights {mp:.3} mV vs noise {mn:.3} mV"
    );
    assert!(
        mp > 2.0 * mn,
        "pattern weights {mp:.3} mV vs noise {mn:.3} mV"
    );

    // Output spikes in the last quarter: (almost) all within a few ms of a presentation.
    let onsets = net.inputs.sources[0].1.onsets(steps);
    let near = |t: u32| onsets.iter().any(|&o| t >= o && t <= o + 5);
    let late: Vec<u32> = res
        .spikes
        .iter()
        .map(|&(t, _)| t)
        .filter(|&t| t >= 3 * steps / 4)
        .collect();
    let in_win = late.iter().filter(|&&t| near(t)).count();
    assert!(!late.is_empty());
    assert!(
        in_win * 10 >= late.len() * 9,
        "{in_win} of {} late spikes near a pattern",
        late.len()
    );
    // Pattern windows are ~2 % of the time, so this is far above chance; and
    // the output responds to most late presentations.
    let late_onsets = onsets.iter().filter(|&&o| o >= 3 * steps / 4).count();
    assert!(
        in_win * 10 >= late_onsets * 8,
        "{in_win} responses to {late_onsets} presentations"
    );
}

#[test]
fn balanced_network_is_irregular_and_asynchronous() {
    let cfg = Config::load(&example("balanced.toml")).unwrap();
    let net = compile(&cfg).unwrap();
    let mut dev = ModelDevice::new(&net).unwrap();
    let steps = net.steps;
    let res = run(&mut dev, &net.input_train(steps), steps, |_| {}).unwrap();

    let rates = res.rates(&net);
    let exc = rates.iter().find(|r| r.name == "exc").unwrap();
    assert!(
        (2.0..=40.0).contains(&exc.rate_hz),
        "exc rate {}",
        exc.rate_hz
    );
    let inh = rates.iter().find(|r| r.name == "inh").unwrap();
    assert!(inh.rate_hz > 1.0, "inh rate {}", inh.rate_hz);

    let exc_range = net.population("exc").unwrap().range();
    let mut trains: Vec<Vec<u32>> = vec![Vec::new(); net.shape.neurons as usize];
    for &(t, n) in &res.spikes {
        trains[n as usize].push(t);
    }
    // Irregular: mean CV of inter-spike intervals.
    let mut cvs = Vec::new();
    for n in exc_range.clone() {
        let ts = &trains[n as usize];
        if ts.len() >= 5 {
            let isi: Vec<f64> = ts.windows(2).map(|w| f64::from(w[1] - w[0])).collect();
            let m = isi.iter().sum::<f64>() / isi.len() as f64;
            let var = isi.iter().map(|x| (x - m).powi(2)).sum::<f64>() / isi.len() as f64;
            cvs.push(var.sqrt() / m);
        }
    }
    assert!(cvs.len() > 100, "only {} active neurons", cvs.len());
    let cv = cvs.iter().sum::<f64>() / cvs.len() as f64;
    assert!(cv > 0.4, "mean CV {cv}");

    // Asynchronous: the population count in 5 ms bins is not dominated by bursts
    // (a fully synchronous population would have a Fano factor ~ population size).
    let mut bins = vec![0f64; (steps as usize).div_ceil(5)];
    for &(t, n) in &res.spikes {
        if exc_range.contains(&n) {
            bins[t as usize / 5] += 1.0;
        }
    }
    let m = bins.iter().sum::<f64>() / bins.len() as f64;
    let var = bins.iter().map(|x| (x - m).powi(2)).sum::<f64>() / bins.len() as f64;
    let fano = var / m;
    assert!(fano < 20.0, "population Fano factor {fano}");
    // Not all neurons fire in the same steps: the busiest step holds a minority.
    let mut per_step = vec![0u32; steps as usize];
    for &(t, n) in &res.spikes {
        if exc_range.contains(&n) {
            per_step[t as usize] += 1;
        }
    }
    let max = per_step.iter().copied().max().unwrap_or(0);
    assert!(max < 100, "{max} of 200 neurons fired in one step");
}

#[test]
fn compile_is_deterministic_and_model_matches_on_rerun() {
    for name in ["balanced.toml", "stdp_pattern.toml"] {
        let a = compile(&Config::load(&example(name)).unwrap()).unwrap();
        let b = compile(&Config::load(&example(name)).unwrap()).unwrap();
        assert_eq!(a.weights, b.weights, "{name}");
        assert_eq!(a.neuron_params, b.neuron_params, "{name}");
        let train = a.input_train(300);
        let mut d1 = ModelDevice::new(&a).unwrap();
        let mut d2 = ModelDevice::new(&b).unwrap();
        let r1 = run(&mut d1, &train, 300, |_| {}).unwrap();
        let r2 = run(&mut d2, &b.input_train(300), 300, |_| {}).unwrap();
        assert_eq!(r1.spikes, r2.spikes, "{name}");
        // reset_state + rerun gives the same spikes (weights are static without STDP).
        if !a.stdp.enabled {
            d1.reset_state().unwrap();
            let r3 = run(&mut d1, &train, 300, |_| {}).unwrap();
            assert_eq!(r1.spikes, r3.spikes, "{name}");
        }
    }
}

#[test]
fn every_quantity_is_reported_within_bounds() {
    let net = compile(&Config::load(&example("balanced.toml")).unwrap()).unwrap();
    // Potentials round to half an LSB, weights to half a weight unit.
    let (abs, _) = net.report.worst("v_th").unwrap();
    assert!(abs <= net.lsb_mv / 2.0);
    let (abs, _) = net.report.worst("weight").unwrap();
    assert!(abs <= 0.5 * net.lsb_mv * 2f64.powi(8));
    let (_, rel) = net.report.worst("tau_mem").unwrap();
    assert!(rel < 1e-3);
}
