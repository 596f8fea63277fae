//! Pixels → input spike trains over the core's first 64 inputs (input `k` is
//! pixel `k`, row-major). Rate coding: a pixel of value `p` (0..=16) fires
//! with probability (or at the regular rate) `p / 16 · max_rate` per step.
//! Everything is deterministic given the seed.

use serde::Serialize;

use super::data::PIXELS;
use super::rng::hash;

/// How a pixel's rate becomes spikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Coding {
    /// Evenly spaced spikes at the pixel's rate (a phase accumulator with a
    /// random initial phase per pixel and presentation): the count over T steps
    /// is `T · rate` rounded up or down, so the only noise is the phase.
    Regular,
    /// Independent Bernoulli trials per step (discrete Poisson).
    Poisson,
}

impl std::str::FromStr for Coding {
    type Err = String;
    fn from_str(s: &str) -> Result<Coding, String> {
        match s {
            "regular" => Ok(Coding::Regular),
            "poisson" => Ok(Coding::Poisson),
            _ => Err(format!("unknown coding \"{s}\" (regular, poisson)")),
        }
    }
}

/// The encoder's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Encoder {
    pub coding: Coding,
    /// Spikes per step of a pixel at 16 is `max_rate_num / max_rate_den` (≤ 1).
    pub max_rate_num: u32,
    pub max_rate_den: u32,
}

impl Encoder {
    /// Spike trains for one presentation of `steps` steps: element `t` lists the
    /// inputs (pixels) that spike at step `t`, ascending. `key` names the
    /// presentation (seed, epoch, sample, phase): the same key gives the same spikes.
    pub fn encode(&self, pixels: &[u8; PIXELS], steps: u32, key: &[u64]) -> Vec<Vec<u16>> {
        let mut out = vec![Vec::new(); steps as usize];
        // A pixel's rate is p · num / (16 · den) spikes per step.
        let den = 16 * self.max_rate_den as u64;
        for (k, &p) in pixels.iter().enumerate() {
            let inc = p as u64 * self.max_rate_num as u64;
            if inc == 0 {
                continue;
            }
            let h = hash(&[key_hash(key), k as u64]);
            match self.coding {
                Coding::Regular => {
                    // Fires at step t when floor((phase + (t+1)·inc) / den) increases.
                    let mut acc = h % den;
                    for slot in out.iter_mut() {
                        acc += inc;
                        if acc >= den {
                            acc -= den;
                            slot.push(k as u16);
                        }
                    }
                }
                Coding::Poisson => {
                    for (t, slot) in out.iter_mut().enumerate() {
                        if hash(&[h, t as u64]) % den < inc {
                            slot.push(k as u16);
                        }
                    }
                }
            }
        }
        out
    }
}

fn key_hash(key: &[u64]) -> u64 {
    hash(key)
}
