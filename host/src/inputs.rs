//! External input spike schedules.
//!
//! An [`InputSchedule`] describes the network's inputs (Poisson groups, repeated
//! patterns, spike files); [`InputSchedule::generate`] turns it into a
//! [`SpikeTrain`] for a given number of steps. Generation is O(spikes), not
//! O(steps × inputs): Poisson inputs draw geometric inter-spike gaps. The result
//! is a prefix of any longer run with the same seed.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Geometric};

use crate::error::{ConfigError, Error};

/// Input spikes per step, stored compactly (CSR): `at(t)` is sorted and duplicate-free.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpikeTrain {
    offsets: Vec<u32>,
    inputs: Vec<u16>,
}

impl SpikeTrain {
    /// Builds a train of `steps` steps from `(step, input)` events in any order;
    /// events at or after `steps` are dropped, duplicates merged.
    pub fn from_events(steps: u32, mut events: Vec<(u32, u16)>) -> SpikeTrain {
        events.retain(|&(t, _)| t < steps);
        events.sort_unstable();
        events.dedup();
        let mut offsets = Vec::with_capacity(steps as usize + 1);
        let mut inputs = Vec::with_capacity(events.len());
        let mut k = 0;
        offsets.push(0);
        for t in 0..steps {
            while k < events.len() && events[k].0 == t {
                inputs.push(events[k].1);
                k += 1;
            }
            offsets.push(inputs.len() as u32);
        }
        SpikeTrain { offsets, inputs }
    }

    /// Number of steps the train covers.
    pub fn steps(&self) -> u32 {
        self.offsets.len().saturating_sub(1) as u32
    }

    /// The inputs spiking at step `t` (empty beyond the end).
    pub fn at(&self, t: u32) -> &[u16] {
        let t = t as usize;
        if t + 1 >= self.offsets.len() {
            return &[];
        }
        &self.inputs[self.offsets[t] as usize..self.offsets[t + 1] as usize]
    }

    /// Total number of input spikes.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// Reads a CSV of `step,input` lines (core input indices), as given to
    /// `neurofab run --input`. Inputs must be below `num_inputs`.
    pub fn from_csv(path: &Path, num_inputs: u16, steps: u32) -> Result<SpikeTrain, Error> {
        let events = read_spike_csv(path, num_inputs as usize, "core input index", 0)?;
        Ok(SpikeTrain::from_events(steps, events))
    }
}

/// Reads a `step,index` CSV (optional header line, `#` comments, blank lines).
/// `index` must be below `limit`; it is offset by `base` in the result.
pub fn read_spike_csv(
    path: &Path,
    limit: usize,
    what: &str,
    base: usize,
) -> Result<Vec<(u32, u16)>, Error> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io("cannot read spike file", path, e))?;
    parse_spike_csv(&text, &path.display().to_string(), limit, what, base).map_err(Error::from)
}

/// Parses `step,index` CSV text; see [`read_spike_csv`].
pub fn parse_spike_csv(
    text: &str,
    name: &str,
    limit: usize,
    what: &str,
    base: usize,
) -> Result<Vec<(u32, u16)>, ConfigError> {
    let mut out = Vec::new();
    let mut seen_data = false;
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let first_is_number = fields.first().is_some_and(|f| f.parse::<i64>().is_ok());
        if !seen_data && !first_is_number {
            // A header such as `step,input`.
            seen_data = true;
            if fields.len() != 2 {
                return Err(ConfigError::at_line(
                    name,
                    lineno,
                    format!("expected a header with two columns like `step,input`, got `{line}`"),
                ));
            }
            continue;
        }
        seen_data = true;
        if fields.len() != 2 {
            return Err(ConfigError::at_line(
                name,
                lineno,
                format!(
                    "expected two columns `step,{what}`, got {} in `{line}`",
                    fields.len()
                ),
            ));
        }
        let step: u32 = fields[0].parse().map_err(|_| {
            ConfigError::at_line(
                name,
                lineno,
                format!(
                    "step `{}` is not a whole number 0..={}",
                    fields[0],
                    u32::MAX
                ),
            )
        })?;
        let idx: usize = fields[1].parse().map_err(|_| {
            ConfigError::at_line(
                name,
                lineno,
                format!("{what} `{}` is not a whole number >= 0", fields[1]),
            )
        })?;
        if idx >= limit {
            return Err(ConfigError::at_line(
                name,
                lineno,
                format!("{what} {idx} is out of range: must be below {limit}"),
            ));
        }
        out.push((step, (base + idx) as u16));
    }
    Ok(out)
}

/// What drives one input group (indices are global core input indices).
#[derive(Debug, Clone, PartialEq)]
pub enum InputSource {
    /// Every input of `first..first+size` spikes independently with probability `p` per step.
    Poisson { first: u16, size: u16, p: f64 },
    /// `members` spike together at every onset (each displaced by up to ±`jitter`
    /// steps); all inputs of the group also spike with background probability `p_bg`.
    Pattern {
        first: u16,
        size: u16,
        members: Vec<u16>,
        /// Onset k is at step `round(first_step + k · period_steps)`.
        first_step: f64,
        period_steps: f64,
        jitter: u32,
        p_bg: f64,
    },
    /// Fixed events from a spike file (global indices).
    Events { events: Vec<(u32, u16)> },
}

impl InputSource {
    /// Pattern onsets before `steps` (empty for other kinds).
    pub fn onsets(&self, steps: u32) -> Vec<u32> {
        match self {
            InputSource::Pattern {
                first_step,
                period_steps,
                ..
            } => {
                let mut v = Vec::new();
                let mut k = 0u64;
                loop {
                    let t = (first_step + k as f64 * period_steps).round();
                    if t >= steps as f64 {
                        break;
                    }
                    v.push(t as u32);
                    k += 1;
                }
                v
            }
            _ => Vec::new(),
        }
    }
}

/// The network's external inputs: one source per group, each with its own seed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputSchedule {
    pub sources: Vec<(u64, InputSource)>,
}

impl InputSchedule {
    /// Generates the input spikes of steps `0..steps`. Deterministic.
    pub fn generate(&self, steps: u32) -> SpikeTrain {
        let mut events = Vec::new();
        for (seed, src) in &self.sources {
            // One stream per input (and one for the jitter), so that a shorter run
            // is an exact prefix of a longer one.
            let stream = |i: u64| ChaCha8Rng::seed_from_u64(derive_seed(*seed, 0x5EED, i));
            match src {
                InputSource::Poisson { first, size, p } => {
                    for i in 0..*size {
                        poisson_into(&mut stream(u64::from(i)), *p, steps, first + i, &mut events);
                    }
                }
                InputSource::Pattern {
                    first,
                    size,
                    members,
                    jitter,
                    p_bg,
                    ..
                } => {
                    for i in 0..*size {
                        poisson_into(
                            &mut stream(u64::from(i)),
                            *p_bg,
                            steps,
                            first + i,
                            &mut events,
                        );
                    }
                    let mut rng = stream(u64::MAX);
                    let j = *jitter as i64;
                    for t in src.onsets(steps) {
                        for &m in members {
                            let d = if j > 0 { rng.random_range(-j..=j) } else { 0 };
                            let s = t as i64 + d;
                            if s >= 0 && s < steps as i64 {
                                events.push((s as u32, m));
                            }
                        }
                    }
                }
                InputSource::Events { events: ev } => events.extend(ev.iter().copied()),
            }
        }
        SpikeTrain::from_events(steps, events)
    }
}

/// Bernoulli(p) spikes per step for one input, by geometric gaps: O(spikes).
fn poisson_into(rng: &mut ChaCha8Rng, p: f64, steps: u32, input: u16, out: &mut Vec<(u32, u16)>) {
    if p <= 0.0 || steps == 0 {
        return;
    }
    if p >= 1.0 {
        out.extend((0..steps).map(|t| (t, input)));
        return;
    }
    let Ok(geo) = Geometric::new(p) else { return };
    let mut t = geo.sample(rng);
    while t < steps as u64 {
        out.push((t as u32, input));
        t = t.saturating_add(1).saturating_add(geo.sample(rng));
    }
}

/// Mixes a run seed with a domain tag and an index into an independent seed (splitmix64).
pub fn derive_seed(seed: u64, tag: u64, index: u64) -> u64 {
    let mut z =
        seed ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
    for _ in 0..2 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_csr() {
        let t = SpikeTrain::from_events(4, vec![(2, 5), (0, 1), (2, 3), (2, 5), (9, 1)]);
        assert_eq!(t.steps(), 4);
        assert_eq!(t.at(0), &[1]);
        assert_eq!(t.at(1), &[] as &[u16]);
        assert_eq!(t.at(2), &[3, 5]);
        assert_eq!(t.at(100), &[] as &[u16]);
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn poisson_rate_and_prefix() {
        let s = InputSchedule {
            sources: vec![(
                7,
                InputSource::Poisson {
                    first: 0,
                    size: 10,
                    p: 0.02,
                },
            )],
        };
        let long = s.generate(100_000);
        let rate = long.len() as f64 / (10.0 * 100_000.0);
        assert!((rate - 0.02).abs() < 0.002, "{rate}");
        let short = s.generate(500);
        for t in 0..500 {
            assert_eq!(short.at(t), long.at(t));
        }
    }

    #[test]
    fn pattern_onsets() {
        let src = InputSource::Pattern {
            first: 0,
            size: 4,
            members: vec![1, 3],
            first_step: 10.0,
            period_steps: 25.0,
            jitter: 0,
            p_bg: 0.0,
        };
        assert_eq!(src.onsets(70), vec![10, 35, 60]);
        let t = InputSchedule {
            sources: vec![(1, src)],
        }
        .generate(70);
        assert_eq!(t.at(35), &[1, 3]);
        assert_eq!(t.len(), 6);
    }

    #[test]
    fn csv_parsing() {
        let ev =
            parse_spike_csv("step,input\n# c\n3, 1\n\n0,0\n", "f.csv", 2, "index", 10).unwrap();
        assert_eq!(ev, vec![(3, 11), (0, 10)]);
        let e = parse_spike_csv("0,0\n1,5\n", "f.csv", 2, "index", 0).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("f.csv:2: index 5 is out of range"),
            "{e}"
        );
        let e = parse_spike_csv("0,0\nx,1\n", "f.csv", 2, "index", 0).unwrap_err();
        assert!(e.to_string().starts_with("f.csv:2: step `x`"), "{e}");
        let e = parse_spike_csv("0,0,1\n", "f.csv", 2, "index", 0).unwrap_err();
        assert!(e.to_string().starts_with("f.csv:1:"), "{e}");
    }
}
