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

fn main() {
    if !neurofab_sim::rtl::verilator_built() {
        eprintln!("RTL models not built (Verilator missing): run scripts/install-tools.sh");
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
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
    for model in ["core_64", "core_256"] {
        for (label, p) in [("15 Hz", 0.015), ("5 %", 0.05), ("15 %", 0.15)] {
            for learning in [false, true] {
                let steps: u32 = if quick { 60 } else { 400 };
                let mut pair = Pair::new(model);
                let net = rate_net(&pair.cfg, p, learning);
                pair.upload(&net);
                let mut rng = rng(1);
                let inputs = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<Vec<u16>> {
                    (0..pair_window())
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
                    let fired = pair.steps(&batch, &[false; 4]);
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
                    pair.steps(&batch, &[false; 4]);
                    sim_steps += batch.len() as u32;
                }
                let wall = t0.elapsed().as_secs_f64();
                let cycles = pair.rtl.cycles() - c0;
                let cyc_step = measured as f64 / n;
                let hw_steps = pair.cfg.clock_hz as f64 / cyc_step;
                println!(
                    "{model:<9} {label:>9} {:>5} | {:>10.1} {:>10.1} | {:>9.0} {:>13.3e} | {:>11.0} {:>9.0}",
                    if learning { "on" } else { "off" },
                    cyc_step,
                    formula as f64 / n,
                    cycles as f64 / sim_steps as f64,
                    cycles as f64 / wall,
                    sim_steps as f64 / wall,
                    hw_steps,
                );
                println!(
                    "json: {{\"model\":\"{model}\",\"neurons\":{},\"firing\":{p},\"stdp\":{learning},\"cycles_per_step\":{cyc_step:.2},\"formula_cycles_per_step\":{:.2},\"link_cycles_per_step\":{:.1},\"sim_cycles_per_s\":{:.0},\"sim_steps_per_s\":{:.1},\"engine_steps_per_s_at_clock\":{hw_steps:.0},\"clock_hz\":{}}}",
                    pair.cfg.shape.neurons,
                    formula as f64 / n,
                    cycles as f64 / sim_steps as f64,
                    cycles as f64 / wall,
                    sim_steps as f64 / wall,
                    pair.cfg.clock_hz
                );
            }
        }
    }
    println!("cyc/step: engine cycles per STEP (busy pin + op_start cycle); formula: docs/hdl.md;");
    println!("link c/st: simulated cycles per step including the 3 Mbaud UART frames (4 STEPs in flight);");
    println!("hw st/s: engine-bound steps/s at the model's 12 MHz clock (the UART bounds a real board lower).");
}

fn pair_window() -> usize {
    4
}
