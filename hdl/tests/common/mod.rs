//! Shared test helpers: a software UART line driver (with baud error) and decoder.
#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic RNG per test.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `n` random bytes.
pub fn random_bytes(rng: &mut ChaCha8Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.random()).collect()
}

/// The 10 line levels of one 8N1 frame: start, data LSB first, stop.
pub fn frame_bits(byte: u8) -> [bool; 10] {
    let mut bits = [true; 10];
    bits[0] = false;
    for (i, bit) in bits[1..9].iter_mut().enumerate() {
        *bit = (byte >> i) & 1 == 1;
    }
    bits
}

/// A UART sender running at `divisor · (1 + baud_error)` clock cycles per bit, seen by
/// a receiver that samples the line once per clock. `idle_bits[i]` idle (high) bit
/// times precede byte `i`; a trailing idle tail lets the receiver finish.
/// `bad_stop` lists byte indices sent with a low stop bit.
/// Returns the line level at every clock cycle.
pub fn uart_waveform(
    bytes: &[u8],
    divisor: u64,
    baud_error: f64,
    idle_bits: &[f64],
    bad_stop: &[usize],
    phase: f64,
) -> Vec<bool> {
    let bit_time = divisor as f64 * (1.0 + baud_error);
    // (end time, level) segments, in order.
    let mut segments: Vec<(f64, bool)> = Vec::new();
    let mut t = phase;
    for (i, &byte) in bytes.iter().enumerate() {
        t += idle_bits.get(i).copied().unwrap_or(0.0) * bit_time;
        segments.push((t, true));
        let mut bits = frame_bits(byte);
        if bad_stop.contains(&i) {
            bits[9] = false;
        }
        for bit in bits {
            t += bit_time;
            segments.push((t, bit));
        }
    }
    t += 3.0 * bit_time;
    segments.push((t, true));
    let cycles = t.ceil() as usize;
    let mut levels = Vec::with_capacity(cycles);
    let mut seg = 0;
    for c in 0..cycles {
        let time = c as f64;
        while seg < segments.len() - 1 && time >= segments[seg].0 {
            seg += 1;
        }
        levels.push(segments[seg].1);
    }
    levels
}

/// Random idle gaps (in bit times, 0 to 2, a third of them exactly 0 = back to back).
pub fn random_gaps(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            if rng.random_bool(1.0 / 3.0) {
                0.0
            } else {
                rng.random_range(0.0..2.0)
            }
        })
        .collect()
}

/// Decodes 8N1 frames from per-cycle line levels with an ideal receiver that knows the
/// exact divisor: start edge, then samples in the middle of every bit. Returns the
/// bytes and panics on a bad stop bit.
pub fn decode_uart(levels: &[bool], divisor: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut c = 0;
    while c < levels.len() {
        // The line counts as idle (high) before the first sample.
        let previous = c == 0 || levels[c - 1];
        if previous && !levels[c] {
            let mid = |k: usize| c + k * divisor + divisor / 2;
            if mid(9) >= levels.len() {
                break;
            }
            assert!(!levels[mid(0)], "start bit too short at cycle {c}");
            let mut byte = 0u8;
            for k in 0..8 {
                if levels[mid(k + 1)] {
                    byte |= 1 << k;
                }
            }
            assert!(
                levels[mid(9)],
                "bad stop bit in frame starting at cycle {c}"
            );
            bytes.push(byte);
            c = mid(9);
        } else {
            c += 1;
        }
    }
    bytes
}
