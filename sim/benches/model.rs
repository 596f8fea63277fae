//! Throughput of the reference model (spec §8): random all-to-all networks at
//! N = 256 (M = 64) and N = 1024 (M = 256), ~15 Hz at dt = 1 ms (~1.5 % of the
//! neurons fire per step), STDP on (all synapses plastic) and off.
//!
//! Each criterion iteration runs the same BLOCK steps from the same warmed-up
//! state (a clone, made outside the timing), so the synaptic events per
//! iteration are known exactly beforehand and reported as the throughput.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use neurofab_sim::{Core, CoreShape, NeuronParams, StdpParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Steps per criterion iteration.
const BLOCK: usize = 200;
/// Steps run before measuring, so the dynamics and traces are in steady state.
const WARMUP: usize = 300;
/// Target fraction of neurons firing per step: 15 Hz · 1 ms.
const TARGET_RATE: f64 = 0.015;

struct Case {
    core: Core,
    /// External input spikes for each step of the block (Poisson, 15 Hz per input).
    inputs: Vec<Vec<u16>>,
}

fn poisson_inputs(rng: &mut ChaCha8Rng, m: u16, steps: usize) -> Vec<Vec<u16>> {
    (0..steps)
        .map(|_| (0..m).filter(|_| rng.random_bool(TARGET_RATE)).collect())
        .collect()
}

fn build(n: u16, m: u16, v_th: i16, learn: bool, seed: u64) -> Case {
    let shape = CoreShape {
        neurons: n,
        inputs: m,
        weight_bits: 8,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut core = Core::new(shape).unwrap();
    let p = NeuronParams {
        v_th,
        v_reset: 0,
        v_rest: 0,
        alpha_v: 31171, // τ_mem = 20 ms
        alpha_i: 26828, // τ_syn = 5 ms
        t_ref: 2,
        // The fan-in grows with N: scale the gain so the drive per neuron is alike.
        w_shift: if n <= 256 { 3 } else { 1 },
    };
    for k in 0..n {
        core.set_neuron_params(k, p).unwrap();
    }
    for s in 0..m + n {
        for k in 0..n {
            // Inputs excite on average; recurrent weights are balanced.
            let w = if s < m {
                rng.random_range(-20..=40)
            } else {
                rng.random_range(-12..=12)
            };
            core.set_weight(s, k, w).unwrap();
            if learn {
                core.set_plastic(s, k, true).unwrap();
            }
        }
    }
    core.set_stdp(StdpParams {
        enabled: learn,
        eta_plus: 4,
        eta_minus: 4,
        w_min: -128,
        w_max: 127,
        alpha_pre: 29650, // τ = 10 ms
        alpha_post: 29650,
        inc_pre: 64,
        inc_post: 64,
    })
    .unwrap();
    core.reset_state();
    let warm = poisson_inputs(&mut rng, m, WARMUP);
    for i in &warm {
        core.step(i).unwrap();
    }
    let inputs = poisson_inputs(&mut rng, m, BLOCK);
    Case { core, inputs }
}

/// Runs the block once on a clone: (spikes, synaptic events).
fn measure(case: &Case) -> (u64, u64) {
    let mut c = case.core.clone();
    let before = c.counters();
    for i in &case.inputs {
        c.step(i).unwrap();
    }
    let after = c.counters();
    let events = (after.delivered - before.delivered) + (after.potentiation - before.potentiation);
    (after.spikes - before.spikes, events)
}

fn rate(case: &Case, n: u16) -> f64 {
    measure(case).0 as f64 / (BLOCK as f64 * n as f64)
}

/// Bisects v_th (STDP off) so that the block's firing fraction is near TARGET_RATE.
fn calibrate(n: u16, m: u16) -> i16 {
    let (mut lo, mut hi) = (1i32, 32767i32);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if rate(&build(n, m, mid as i16, false, 1), n) > TARGET_RATE {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi as i16
}

fn bench(c: &mut Criterion) {
    for (n, m) in [(256u16, 64u16), (1024, 256)] {
        let v_th = calibrate(n, m);
        for learn in [false, true] {
            let case = build(n, m, v_th, learn, 1);
            let (spikes, events) = measure(&case);
            let fired = spikes as f64 / (BLOCK as f64 * n as f64);
            // A quick wall-clock figure next to criterion's, for the summary.
            let t0 = Instant::now();
            let mut reps = 0u32;
            while t0.elapsed() < Duration::from_millis(500) {
                black_box(measure(&case));
                reps += 1;
            }
            let per_block = t0.elapsed().as_secs_f64() / reps as f64;
            let name = format!("N{n}_M{m}_stdp_{}", if learn { "on" } else { "off" });
            println!(
                "{name}: v_th {v_th}, firing {:.2} % of neurons per step ({:.1} Hz at 1 ms), \
                 {:.0} events/step, ~{:.0} steps/s, ~{:.3e} events/s (incl. clone)",
                fired * 100.0,
                fired * 1000.0,
                events as f64 / BLOCK as f64,
                BLOCK as f64 / per_block,
                events as f64 / per_block,
            );
            let mut g = c.benchmark_group("model");
            g.sample_size(10)
                .measurement_time(Duration::from_secs(4))
                .warm_up_time(Duration::from_secs(1));
            g.throughput(Throughput::Elements(events));
            g.bench_function(format!("{name}_events"), |b| {
                b.iter_batched(
                    || case.core.clone(),
                    |mut core| {
                        for i in &case.inputs {
                            black_box(core.step(i).unwrap());
                        }
                        core
                    },
                    BatchSize::LargeInput,
                )
            });
            g.throughput(Throughput::Elements(BLOCK as u64));
            g.bench_function(format!("{name}_steps"), |b| {
                b.iter_batched(
                    || case.core.clone(),
                    |mut core| {
                        for i in &case.inputs {
                            black_box(core.step(i).unwrap());
                        }
                        core
                    },
                    BatchSize::LargeInput,
                )
            });
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
