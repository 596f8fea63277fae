//! `Engine<P>` against the reference model `neurofab_sim::Core`, bit for bit, in rust-hdl's
//! simulation of the generated kernels (CycleSim); lint of the Verilog.

mod engine_common;

use engine_common::*;
use neurofab_hdl::core::verilog_of;
use neurofab_hdl::core::Engine;
use neurofab_hdl::core::WeightBank;
use neurofab_hdl::lint_with_verilator;
use neurofab_hdl::widgets::{Ram, Spram};
use neurofab_proto::{CoreConfig, NeuronParams, StdpParams, WeightMemory};
use rand::Rng;

fn lint(verilog: &str) {
    if let Err(e) = lint_with_verilator(verilog, "top") {
        panic!("{e}");
    }
}

#[test]
fn smoke_power_on_and_params() {
    let cfg = config(5, 3, 6, 1, 4);
    let mut dut = Dut::<1>::new(cfg);
    println!("power-on cycles {}", dut.power_on_cycles);
    for n in 0..5 {
        assert_eq!(dut.read_params(n), NeuronParams::RESET);
    }
    assert_eq!(dut.stdp(), StdpParams::reset(&cfg.shape));
}

#[test]
fn ram_lints_clean() {
    lint(&verilog_of(Ram::<8, 16>::new(5, 6, true)));
    lint(&verilog_of(Ram::<4, 8>::new(16, 8, false)));
    lint(&verilog_of(Ram::<3, 1>::new(1, 1, false)));
    lint(&verilog_of(Ram::<13, 96>::new(100, 96, false)));
}

#[test]
fn engine1_lints_clean() {
    lint(&verilog_of(Engine::<1>::new(&config(5, 3, 6, 1, 4))));
}

/// `cfg` with its weights and masks in UltraPlus SPRAM (one lane).
fn spram(cfg: CoreConfig) -> CoreConfig {
    let c = CoreConfig {
        weight_memory: WeightMemory::Spram,
        ..cfg
    };
    c.validate().unwrap();
    c
}

#[test]
fn spram_weight_memory_lints_clean() {
    lint(&verilog_of(Spram::<14>::new(5120)));
    lint(&verilog_of(Spram::<16>::new(1)));
    // Two weights per word (W = 6, 8) and one (W = 12); and the block-RAM form.
    for w in [6, 8, 12] {
        let cfg = spram(config(5, 3, w, 1, 4));
        lint(&verilog_of(WeightBank::new(&cfg, 40)));
    }
    lint(&verilog_of(WeightBank::new(&config(5, 3, 8, 2, 4), 24)));
    lint(&verilog_of(Engine::<1>::new(&spram(config(5, 3, 6, 1, 4)))));
}

#[test]
fn engine4_lints_clean() {
    lint(&verilog_of(Engine::<4>::new(&config(5, 3, 6, 4, 4))));
}

fn random_test<const P: usize>(cfg: neurofab_proto::CoreConfig, seed: u64, steps: usize) {
    let mut rng = rng(seed);
    let mut dut = Dut::<P>::new(cfg);
    let mut model = neurofab_sim::Core::new(cfg.shape).unwrap();
    compare_all(&mut dut, &model, "power-on");
    load_random(&mut dut, &mut model, &mut rng, 0.7, 0.5, true);
    compare_all(&mut dut, &model, "loaded");
    let start = std::time::Instant::now();
    let c0 = dut.sim.cycle();
    let (spikes, changes) = run_random(&mut dut, &mut model, &mut rng, steps, 0.3, 25);
    let cycles = dut.sim.cycle() - c0;
    println!(
        "P={P} N={} M={}: {steps} steps, {spikes} spikes, {changes} weight changes, {cycles} cycles in {:.2?} ({:.0} cycles/s)",
        cfg.neurons(),
        cfg.inputs(),
        start.elapsed(),
        cycles as f64 / start.elapsed().as_secs_f64()
    );
    assert!(spikes > steps / 4, "too few spikes to be a test: {spikes}");
    assert!(changes > steps / 4, "too few weight changes: {changes}");
}

/// Seeds whose random networks are active (checked by the test itself).
const SEED_P2: u64 = 6;
const SEED_P4: u64 = 9;

#[test]
fn random_network_p1() {
    random_test::<1>(config(5, 3, 6, 1, 4), 1, 200);
}

/// SPRAM weights: two per word (W = 6 and 8, including the odd last word of N = 5,
/// M = 3) and one per word (W = 12); the masks 16 per word, written read-modify-write.
#[test]
fn random_network_spram() {
    random_test::<1>(spram(config(5, 3, 6, 1, 4)), 1, 200);
    random_test::<1>(spram(config(7, 2, 8, 1, 4)), 2, 120);
    random_test::<1>(spram(config(5, 3, 12, 1, 2)), 3, 120);
}

#[test]
fn resets_match_model_spram() {
    resets::<1>(spram(config(5, 3, 6, 1, 4)), 22);
}

#[test]
fn random_network_p2() {
    random_test::<2>(config(5, 3, 6, 2, 2), SEED_P2, 200);
}

#[test]
fn random_network_p4() {
    random_test::<4>(config(5, 3, 6, 4, 8), SEED_P4, 200);
}

#[test]
fn random_network_p4_n8() {
    random_test::<4>(config(8, 4, 8, 4, 4), 5, 200);
}

#[test]
fn params_and_stdp_read_back() {
    let cfg = config(5, 3, 6, 2, 4);
    let mut dut = Dut::<2>::new(cfg);
    let mut rng = rng(10);
    let ps: Vec<NeuronParams> = (0..5)
        .map(|_| random_params(&mut rng, &cfg.shape))
        .collect();
    for (n, p) in ps.iter().enumerate() {
        dut.write_params(n, p);
    }
    for (n, p) in ps.iter().enumerate() {
        assert_eq!(dut.read_params(n), *p);
    }
    for _ in 0..10 {
        let mut s = random_stdp(&mut rng, &cfg.shape);
        s.enabled = rng.random_bool(0.5);
        dut.write_stdp(&s);
        assert_eq!(dut.stdp(), s);
    }
    // Host ops take 3 busy cycles.
    assert_eq!(
        dut.op(
            neurofab_hdl::core::engine::op::READ_PARAMS,
            0,
            1,
            0,
            0,
            Default::default()
        ),
        3
    );
}

fn resets<const P: usize>(cfg: neurofab_proto::CoreConfig, seed: u64) {
    let mut rng = rng(seed);
    let mut dut = Dut::<P>::new(cfg);
    let s = cfg.sources() as u64;
    let wdepth = (cfg.sources() * cfg.groups()) as u64;
    assert_eq!(dut.power_on_cycles, wdepth + s + 1);
    let mut model = neurofab_sim::Core::new(cfg.shape).unwrap();
    load_random(&mut dut, &mut model, &mut rng, 0.8, 0.5, true);
    run_random(&mut dut, &mut model, &mut rng, 30, 0.4, 1000);
    // A pending input is dropped by a state reset (no active sources).
    dut.set_input(0);
    assert_eq!(dut.state_reset(), s + 2);
    model.reset_state();
    compare_all(&mut dut, &model, "state reset");
    run_random(&mut dut, &mut model, &mut rng, 30, 0.4, 30);
    dut.set_input(1);
    assert_eq!(dut.full_reset(), 1 + wdepth + s + 1);
    model.full_reset();
    compare_all(&mut dut, &model, "full reset");
    // Silent after a full reset: nothing fires even with every input on.
    run_random(&mut dut, &mut model, &mut rng, 10, 1.0, 10);
}

#[test]
fn resets_match_model_p1() {
    resets::<1>(config(5, 3, 6, 1, 4), 20);
}

#[test]
fn resets_match_model_p4() {
    resets::<4>(config(5, 3, 6, 4, 2), 21);
}

/// Directed edge cases, each checked against the model after every step: threshold
/// equality, v/i saturation, weight clamps at w_min / w_max, refractory, every source
/// spiking, learning on and off.
#[test]
fn directed_edge_cases() {
    let cfg = config(4, 4, 8, 2, 4);
    let mut dut = Dut::<2>::new(cfg);
    let mut model = neurofab_sim::Core::new(cfg.shape).unwrap();
    let shape = cfg.shape;
    let params = [
        // 0: fires exactly at v == v_th (acc = 100 with no leak, i = acc).
        NeuronParams {
            v_th: 100,
            v_reset: 0,
            v_rest: 0,
            alpha_v: 32768,
            alpha_i: 0,
            t_ref: 0,
            w_shift: 0,
        },
        // 1: saturates v and i (w_shift 8, large weights, never fires).
        NeuronParams {
            v_th: i16::MAX,
            v_reset: 0,
            v_rest: 0,
            alpha_v: 32768,
            alpha_i: 32768,
            t_ref: 0,
            w_shift: 8,
        },
        // 2: refractory for 3 steps after each spike.
        NeuronParams {
            v_th: 10,
            v_reset: -5,
            v_rest: 3,
            alpha_v: 16384,
            alpha_i: 16384,
            t_ref: 3,
            w_shift: 0,
        },
        // 3: saturates negative.
        NeuronParams {
            v_th: 0,
            v_reset: 0,
            v_rest: -32768,
            alpha_v: 32768,
            alpha_i: 32768,
            t_ref: 0,
            w_shift: 8,
        },
    ];
    for (n, p) in params.iter().enumerate() {
        dut.write_params(n, p);
        model.set_neuron_params(n as u16, *p).unwrap();
    }
    let mut set_w = |dut: &mut Dut<2>, s: usize, n: usize, w: i16, plastic: bool| {
        dut.write_weight(s, n, w);
        model.set_weight(s as u16, n as u16, w).unwrap();
        dut.write_mask(s, n, plastic);
        model.set_plastic(s as u16, n as u16, plastic).unwrap();
    };
    set_w(&mut dut, 0, 0, 100, false);
    for s in 0..4 {
        set_w(&mut dut, s, 1, 127, true);
        set_w(&mut dut, s, 3, -128, true);
        set_w(&mut dut, s, 2, 6, true);
    }
    // Recurrent synapses, some outside [w_min, w_max] so the first visit clamps them.
    for s in 4..8 {
        for n in 0..4 {
            set_w(
                &mut dut,
                s,
                n,
                if (s + n) % 2 == 0 { 120 } else { -120 },
                true,
            );
        }
    }
    let stdp = StdpParams {
        enabled: true,
        eta_plus: 255,
        eta_minus: 255,
        w_min: -100,
        w_max: 100,
        alpha_pre: 30000,
        alpha_post: 30000,
        inc_pre: 200,
        inc_post: 200,
    };
    stdp.validate(&shape).unwrap();
    dut.write_stdp(&stdp);
    model.set_stdp(stdp).unwrap();
    dut.state_reset();
    model.reset_state();
    let mut prev = 0;
    let mut seen = [false; 6];
    for t in 0..40 {
        let inputs: Vec<u16> = if t % 10 < 6 { vec![0, 1, 2, 3] } else { vec![] };
        for &u in &inputs {
            dut.set_input(u as usize);
        }
        if t == 25 {
            let mut off = stdp;
            off.enabled = false;
            dut.write_stdp(&off);
            model.set_stdp(off).unwrap();
        }
        let want = model.step(&inputs).unwrap().to_vec();
        let (count, cycles) = dut.step(t % 4);
        assert_eq!(count, want.len(), "t = {t}");
        assert_eq!(dut.fired(t % 4), want, "t = {t}");
        assert_eq!(
            cycles,
            step_cycles(&cfg, inputs.len() + prev, want.len(), t < 25)
        );
        prev = want.len();
        compare_all(&mut dut, &model, &format!("t = {t}"));
        let st = |n: u16| model.neuron_state(n).unwrap();
        let w = |s: u16, n: u16| model.weight(s, n).unwrap();
        seen[0] |= want.contains(&0) && st(0).v == 0 && t == 0; // v_int == v_th fires
        seen[1] |= st(1).i == i16::MAX; // v_int saturates at v_th = MAX: fires
        seen[2] |= st(3).v == i16::MIN && st(3).i == i16::MIN;
        seen[3] |= st(2).refractory == 3;
        seen[4] |= w(0, 1) == 100 || w(4, 0) == 100;
        seen[5] |= w(0, 3) == -100 || w(5, 0) == -100;
    }
    // The edges were reached.
    assert!(seen.iter().all(|&x| x), "edge cases reached: {seen:?}");
}

/// READ_FIRED_COUNT returns the |F| stored in a slot, for the last R steps.
#[test]
fn replay_slots_keep_counts() {
    let cfg = config(8, 4, 8, 4, 4);
    let mut dut = Dut::<4>::new(cfg);
    let mut model = neurofab_sim::Core::new(cfg.shape).unwrap();
    let mut rng = rng(30);
    load_random(&mut dut, &mut model, &mut rng, 0.8, 0.3, false);
    let mut history = vec![];
    for t in 0..12 {
        let inputs: Vec<u16> = (0..4).filter(|_| rng.random_bool(0.5)).collect();
        for &u in &inputs {
            dut.set_input(u as usize);
        }
        let want = model.step(&inputs).unwrap().to_vec();
        dut.step(t % 4);
        history.push(want);
    }
    for slot in 0..4 {
        let want = &history[8 + slot];
        assert_eq!(dut.read_fired_count(slot), want.len());
        assert_eq!(dut.fired(slot), *want);
    }
}
