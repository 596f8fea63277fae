//! RTL benchmark: cycles per step of the generated core (measured on the Verilator model's
//! `busy` pin, next to the formula of docs/hdl.md) and the Verilator simulation speed.
//!
//! `cargo bench -p neurofab-sim --bench rtl` (add `-- --quick` for fewer steps). Prints a
//! table and one JSON object per row (prefix `json:`), for comparing across commits.
//! Firing is set by the inputs (see `rate_net`): a fraction `p` of the neurons fires each
//! step and about `p·(M + N)` sources are active.

#[path = "../tests/cosim_common/mod.rs"]
mod cosim_common;

use std::time::Instant;

use cosim_common::*;
use rand::Rng;

/// The core clock of the ULX3S-85F board file, where N = 512, P = 4 meets timing
/// (docs/boards.md): the "hw@50MHz" column.
const ECP5_BOARD_HZ: f64 = 50e6;

fn main() {
    if !neurofab_sim::rtl::verilator_built() {
        eprintln!("RTL models not built (Verilator missing): run scripts/install-tools.sh");
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    // `--model NAME` benchmarks one model only.
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--model")
        .and_then(|i| args.get(i + 1).cloned());
    println!(
        "{:<9} {:>9} {:>5} | {:>10} {:>10} | {:>9} {:>13} | {:>11} {:>9}",
        "model",
        "firing",
        "STDP",
        "cyc/step",
        "formula",
        "link c/st",
        "sim cycles/s",
        "sim steps/s",
        "hw st/s"
    );
    for model in ["core_64", "core_256", "core_1024"] {
        if only.as_deref().is_some_and(|o| o != model) {
            continue;
        }
        for (label, p) in [("15 Hz", 0.015), ("5 %", 0.05), ("15 %", 0.15)] {
            for learning in [false, true] {
                let steps: u32 = if quick { 60 } else { 400 };
                let mut pair = Pair::new(model);
                let net = rate_net(&pair.cfg, p, learning);
                pair.upload(&net);
                let mut rng = rng(1);
                let window = pair.cfg.step_window as usize;
                let inputs = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<Vec<u16>> {
                    (0..window)
                        .map(|_| (0..net.m).filter(|_| rng.random_bool(p)).collect())
                        .collect()
                };
                // 1. Engine cycles per step, measured on the busy pin.
                pair.meter = Some(Default::default());
                let mut prev = 0u64;
                let mut formula = 0u64;
                let mut done = 0;
                while done < steps / 4 {
                    let batch = inputs(&mut rng);
                    let fired = pair.steps(&batch, &vec![false; batch.len()]);
                    for (inp, f) in batch.iter().zip(&fired) {
                        formula += neurofab_hdl::generate::step_cycles(
                            &pair.cfg,
                            inp.len() as u64 + prev,
                            f.len() as u64,
                            learning,
                        );
                        prev = f.len() as u64;
                    }
                    done += batch.len() as u32;
                }
                let meter = pair.meter.take().unwrap();
                let measured: u64 = meter.step_cycles.iter().map(|c| c + 1).sum();
                let n = meter.step_cycles.len() as f64;
                // 2. Simulation speed, batched (pipelined STEPs, window 4).
                let c0 = pair.rtl.cycles();
                let t0 = Instant::now();
                let mut sim_steps = 0;
                while sim_steps < steps {
                    let batch = inputs(&mut rng);
                    pair.steps(&batch, &vec![false; batch.len()]);
                    sim_steps += batch.len() as u32;
                }
                let wall = t0.elapsed().as_secs_f64();
                let cycles = pair.rtl.cycles() - c0;
                let cyc_step = measured as f64 / n;
                let hw_steps = pair.cfg.clock_hz as f64 / cyc_step;
                // 3. The reference model on the same network and input statistics.
                let (model_steps_s, model_events_s) = model_speed(&pair.cfg, &net, p, steps * 4);
                println!(
                    "{model:<9} {label:>6} {:>5} | {:>9.1} {:>9.1} | {:>9.0} {:>12.3e} {:>9.0} | {:>9.3e} {:>11.3e} | {:>8.0} {:>8.0}",
                    if learning { "on" } else { "off" },
                    cyc_step,
                    formula as f64 / n,
                    cycles as f64 / sim_steps as f64,
                    cycles as f64 / wall,
                    sim_steps as f64 / wall,
                    model_steps_s,
                    model_events_s,
                    hw_steps,
                    ECP5_BOARD_HZ / cyc_step,
                );
                println!(
                    "json: {{\"model\":\"{model}\",\"neurons\":{},\"firing\":{p},\"stdp\":{learning},\"cycles_per_step\":{cyc_step:.2},\"formula_cycles_per_step\":{:.2},\"link_cycles_per_step\":{:.1},\"sim_cycles_per_s\":{:.0},\"sim_steps_per_s\":{:.1},\"model_steps_per_s\":{model_steps_s:.0},\"model_synaptic_events_per_s\":{model_events_s:.0},\"hw_steps_per_s_at_12mhz\":{hw_steps:.0},\"hw_steps_per_s_at_ecp5_board_clock\":{:.0}}}",
                    pair.cfg.shape.neurons,
                    formula as f64 / n,
                    cycles as f64 / sim_steps as f64,
                    cycles as f64 / wall,
                    sim_steps as f64 / wall,
                    ECP5_BOARD_HZ / cyc_step,
                );
            }
        }
    }
    println!("cyc/step: engine cycles per STEP (busy pin + op_start cycle); formula: docs/hdl.md;");
    println!("link c/st: simulated cycles per step including the 3 Mbaud UART frames (4 STEPs in flight);");
    println!("model st/s, ev/s: the reference model (one core) on the same network: steps/s, synaptic events/s (spec §8);");
    println!("hw@12MHz, hw@50MHz: engine-bound steps/s at 12 MHz and at the ULX3S-85F board clock (50 MHz,");
    println!(
        "  timing met at N = 512, P = 4: docs/boards.md); a board's UART bounds the rate lower"
    );
    println!("  at low baud rates.");
}

/// Steps/s and synaptic events/s of the reference model on `net`, inputs at rate `p`.
fn model_speed(
    cfg: &neurofab_proto::CoreConfig,
    net: &RandomNet,
    p: f64,
    steps: u32,
) -> (f64, f64) {
    let mut core = neurofab_sim::Core::new(cfg.shape).unwrap();
    for (k, prm) in net.params.iter().enumerate() {
        core.set_neuron_params(k as u16, *prm).unwrap();
    }
    core.set_stdp(net.stdp).unwrap();
    for (s, (row, mask)) in net.weights.iter().zip(&net.mask).enumerate() {
        for (n, (&w, &pl)) in row.iter().zip(mask).enumerate() {
            if w != 0 {
                core.set_weight(s as u16, n as u16, w).unwrap();
            }
            if pl {
                core.set_plastic(s as u16, n as u16, true).unwrap();
            }
        }
    }
    core.reset_state();
    let mut rng = rng(3);
    let inputs: Vec<Vec<u16>> = (0..steps)
        .map(|_| (0..net.m).filter(|_| rng.random_bool(p)).collect())
        .collect();
    let before = core.counters();
    let t0 = Instant::now();
    for inp in &inputs {
        std::hint::black_box(core.step(inp).unwrap());
    }
    let wall = t0.elapsed().as_secs_f64();
    let c = core.counters();
    let events = (c.delivered - before.delivered) + (c.potentiation - before.potentiation);
    (steps as f64 / wall, events as f64 / wall)
}
