//! Running a compiled network on a device, and what comes out of a run.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::compile::CompiledNetwork;
use crate::device::{Counters, Device, DeviceError};
use crate::inputs::SpikeTrain;
use crate::link::LinkStats;

/// The output of a run.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    pub steps: u32,
    /// Output spikes `(step, neuron)`, by step then neuron.
    pub spikes: Vec<(u32, u16)>,
    pub input_spikes: usize,
    pub wall: Duration,
    pub counters: Counters,
    /// Link statistics at the end of the run (devices behind a link; cumulative
    /// since the device was opened, so they include the upload).
    pub link: Option<LinkStats>,
    /// Link statistics of the run alone (the steps), for link utilisation.
    pub run_link: Option<LinkStats>,
    /// The link's baud rate, if it has one.
    pub baud: Option<u32>,
}

impl RunResult {
    /// The result of a run of `steps` steps that began at `start`, with the device's
    /// link statistics `before` it: reads the counters and link statistics now.
    pub fn finish(
        dev: &mut dyn Device,
        steps: u32,
        spikes: Vec<(u32, u16)>,
        input_spikes: usize,
        start: Instant,
        before: Option<LinkStats>,
    ) -> Result<RunResult, DeviceError> {
        let wall = start.elapsed();
        let counters = dev.counters()?;
        Ok(RunResult {
            steps,
            spikes,
            input_spikes,
            wall,
            counters,
            link: dev.link_stats(),
            run_link: match (dev.link_stats(), before) {
                (Some(a), Some(b)) => Some(a.since(&b)),
                _ => None,
            },
            baud: dev.baud(),
        })
    }
}

/// Per-population firing statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationRate {
    pub name: String,
    pub spikes: u64,
    /// Mean rate per neuron in Hz.
    pub rate_hz: f64,
}

/// Runs `steps` steps (from the device's current state), feeding `train`.
/// `progress(done)` is called every 1024 steps.
pub fn run(
    dev: &mut dyn Device,
    train: &SpikeTrain,
    steps: u32,
    mut progress: impl FnMut(u32),
) -> Result<RunResult, DeviceError> {
    let before = dev.link_stats();
    let start = Instant::now();
    let mut spikes = Vec::new();
    let input_spikes = (0..steps).map(|t| train.at(t).len()).sum();
    dev.run_train(train, steps, &mut |t, fired| {
        spikes.extend(fired.iter().map(|&n| (t, n)));
        if t % 1024 == 1023 {
            progress(t + 1);
        }
    })?;
    progress(steps);
    RunResult::finish(dev, steps, spikes, input_spikes, start, before)
}

impl RunResult {
    /// Simulated time in seconds.
    pub fn sim_seconds(&self, net: &CompiledNetwork) -> f64 {
        f64::from(self.steps) * net.dt_ms / 1000.0
    }

    /// Spike count per core neuron.
    pub fn counts(&self, neurons: usize) -> Vec<u64> {
        let mut c = vec![0u64; neurons];
        for &(_, n) in &self.spikes {
            if let Some(x) = c.get_mut(n as usize) {
                *x += 1;
            }
        }
        c
    }

    /// Mean firing rate of each population.
    pub fn rates(&self, net: &CompiledNetwork) -> Vec<PopulationRate> {
        let counts = self.counts(net.shape.neurons as usize);
        let secs = self.sim_seconds(net);
        net.populations
            .iter()
            .map(|g| {
                let spikes: u64 = g.range().map(|n| counts[n as usize]).sum();
                let rate_hz = if secs > 0.0 {
                    spikes as f64 / (f64::from(g.size) * secs)
                } else {
                    0.0
                };
                PopulationRate {
                    name: g.name.clone(),
                    spikes,
                    rate_hz,
                }
            })
            .collect()
    }

    /// Fraction of the line rate used in each direction (host→device,
    /// device→host) by the steps over the run's wall time, if the link has a baud rate.
    pub fn link_utilisation(&self) -> Option<(f64, f64)> {
        let (l, b) = (self.run_link?, f64::from(self.baud?));
        let s = self.wall.as_secs_f64().max(1e-9);
        Some((
            l.bytes_sent as f64 * 10.0 / b / s,
            l.bytes_received as f64 * 10.0 / b / s,
        ))
    }

    pub fn steps_per_second(&self) -> f64 {
        let s = self.wall.as_secs_f64();
        if s > 0.0 {
            f64::from(self.steps) / s
        } else {
            f64::INFINITY
        }
    }

    /// The one-line summary `neurofab run` prints.
    pub fn summary_line(&self, net: &CompiledNetwork, device: &str) -> String {
        let rates: Vec<String> = self
            .rates(net)
            .iter()
            .map(|r| format!("{} {:.2} Hz", r.name, r.rate_hz))
            .collect();
        format!(
            "{} steps ({:.3} s simulated) on {device}: {} spikes, {} input spikes; mean rate {}; wall {:.3} s, {:.0} steps/s",
            self.steps,
            self.sim_seconds(net),
            self.spikes.len(),
            self.input_spikes,
            if rates.is_empty() { "-".into() } else { rates.join(", ") },
            self.wall.as_secs_f64(),
            self.steps_per_second(),
        ) + &match self.link {
            Some(l) => format!(
                "; link: {} frames sent, {} retransmissions, {} bad frames received, {} timeouts",
                l.frames_sent, l.retransmissions, l.bad_frames, l.timeouts
            ),
            None => String::new(),
        }
    }

    /// The summary as a JSON object.
    pub fn summary_json(&self, net: &CompiledNetwork, device: &str) -> String {
        let rates: serde_json::Map<String, serde_json::Value> = self
            .rates(net)
            .into_iter()
            .map(|r| {
                (
                    r.name,
                    serde_json::json!({ "spikes": r.spikes, "rate_hz": r.rate_hz }),
                )
            })
            .collect();
        serde_json::json!({
            "device": device,
            "steps": self.steps,
            "dt_ms": net.dt_ms,
            "sim_seconds": self.sim_seconds(net),
            "spikes": self.spikes.len(),
            "input_spikes": self.input_spikes,
            "populations": rates,
            "wall_seconds": self.wall.as_secs_f64(),
            "steps_per_second": self.steps_per_second(),
            "synaptic_events": self.counters.delivered + self.counters.potentiation,
            "retransmissions": self.link.map_or(0, |l| l.retransmissions),
            "link": self.link,
            "link_utilisation": self.link_utilisation().map(|(up, down)| serde_json::json!({"host_to_device": up, "device_to_host": down})),
        })
        .to_string()
    }

    /// Writes the output spikes as CSV: header `step,neuron`, one spike per line.
    pub fn write_spikes_csv(&self, w: &mut dyn Write) -> std::io::Result<()> {
        writeln!(w, "step,neuron")?;
        for &(t, n) in &self.spikes {
            writeln!(w, "{t},{n}")?;
        }
        Ok(())
    }
}

/// Writes weights as CSV `source,neuron,weight,weight_mv`: one line per synapse that
/// is present (non-zero) or plastic. `source` is the row (inputs 0..M, then neuron
/// n as M+n), `weight` the core integer, `weight_mv` its value in mV.
pub fn write_weights_csv(
    w: &mut dyn Write,
    net: &CompiledNetwork,
    weights: &[i16],
) -> std::io::Result<()> {
    writeln!(w, "source,neuron,weight,weight_mv")?;
    let cols = net.shape.neurons as usize;
    for (k, &x) in weights.iter().enumerate() {
        if x != 0 || net.plastic.get(k).copied().unwrap_or(false) {
            let (s, n) = (k / cols, k % cols);
            writeln!(
                w,
                "{s},{n},{x},{}",
                f64::from(x) * net.weight_lsb_mv(n as u16)
            )?;
        }
    }
    Ok(())
}
