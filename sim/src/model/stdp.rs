//! STDP (spec §4): trace updates (phases 4 and 6 of §3), the weight-change
//! amplitudes and the clamped write-back of depression (phase 2) and
//! potentiation (phase 5).

use super::neuron::decay;
use neurofab_proto::ETA_SHIFT;

/// A trace step (spec §4.1, §3 phases 4 and 6): decay, then, if the cell
/// spiked, add `inc` saturating at 255. Decay never goes below 0 (§2.2).
#[inline(always)]
pub fn trace_step(trace: u8, alpha: u16, spiked: bool, inc: u8) -> u8 {
    let d = decay(trace as i32, alpha) as u8;
    if spiked {
        d.saturating_add(inc)
    } else {
        d
    }
}

/// Weight-change amplitude `(trace · eta) >> 8` (spec §4.2), 0 ..= 254.
#[inline(always)]
pub fn amplitude(trace: u8, eta: u8) -> i16 {
    ((trace as u16 * eta as u16) >> ETA_SHIFT) as i16
}

/// `clamp(w + delta, w_min, w_max)` computed exactly (spec §4.3): never wraps.
#[inline(always)]
pub fn clamp_update(w: i16, delta: i32, w_min: i16, w_max: i16) -> i16 {
    (w as i32 + delta).clamp(w_min as i32, w_max as i32) as i16
}

/// Phase-2 depression of one delivered row (spec §3 phase 2): every plastic
/// synapse `n` of the row becomes `clamp(w − dy[n], w_min, w_max)`, where
/// `dy[n] = (y[n] · eta_minus) >> 8` from the post-traces of step t−1.
///
/// Written branch-free over whole slices so it vectorises; `plastic` is 0 or 1.
#[inline]
pub fn depress_row(row: &mut [i16], plastic: &[u8], dy: &[i16], w_min: i16, w_max: i16) {
    let n = row.len();
    let (plastic, dy) = (&plastic[..n], &dy[..n]);
    for ((w, &p), &d) in row.iter_mut().zip(plastic).zip(dy) {
        // |w| <= 2^15 and 0 <= d <= 254: exact in i32, then clamped.
        let upd = (*w as i32 - d as i32).clamp(w_min as i32, w_max as i32) as i16;
        *w = if p != 0 { upd } else { *w };
    }
}

/// Phase-5 potentiation of one column (the synapses onto a neuron that fired),
/// every synapse plastic: `w[s] = clamp(w[s] + dx[s], w_min, w_max)` with
/// `dx[s] = (x[s] · eta_plus) >> 8`, `x[s]` already updated by phase 4 (spec §3).
#[inline]
pub fn potentiate_column<'a>(
    col: impl Iterator<Item = &'a mut i16>,
    dx: &[i16],
    w_min: i16,
    w_max: i16,
) {
    for (w, &d) in col.zip(dx) {
        *w = clamp_update(*w, d as i32, w_min, w_max);
    }
}

/// As [`potentiate_column`], but only where the plasticity bit is set.
#[inline]
pub fn potentiate_column_masked<'a>(
    col: impl Iterator<Item = &'a mut i16>,
    plastic: impl Iterator<Item = &'a u8>,
    dx: &[i16],
    w_min: i16,
    w_max: i16,
) {
    for ((w, &p), &d) in col.zip(plastic).zip(dx) {
        if p != 0 {
            *w = clamp_update(*w, d as i32, w_min, w_max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_saturates_and_decays() {
        assert_eq!(trace_step(200, 32768, true, 100), 255);
        assert_eq!(trace_step(255, 32768, true, 255), 255);
        assert_eq!(trace_step(255, 16384, false, 9), 127); // 127.5 → 127
        assert_eq!(trace_step(255, 16384, true, 9), 136);
        assert_eq!(trace_step(1, 32767, false, 0), 0);
        assert_eq!(trace_step(77, 0, true, 5), 5);
        assert_eq!(trace_step(77, 0, false, 5), 0);
    }

    #[test]
    fn amplitudes() {
        assert_eq!(amplitude(255, 255), 254);
        assert_eq!(amplitude(255, 254), 253); // 64770 >> 8 = 253.0…
        assert_eq!(amplitude(100, 128), 50);
        assert_eq!(amplitude(1, 255), 0);
        assert_eq!(amplitude(0, 255), 0);
    }

    #[test]
    fn clamp_never_wraps() {
        // W = 8: 126 + 10 = 136 is clamped to 127, not wrapped to −120.
        assert_eq!(clamp_update(126, 10, -128, 127), 127);
        assert_eq!(clamp_update(-125, -10, -128, 127), -128);
        // W = 16 extremes: computed exactly before clamping.
        assert_eq!(clamp_update(32767, 254, -32768, 32767), 32767);
        assert_eq!(clamp_update(-32768, -254, -32768, 32767), -32768);
        // Δw = 0 still pulls an out-of-bounds weight to the nearest bound.
        assert_eq!(clamp_update(50, 0, -10, 10), 10);
        assert_eq!(clamp_update(-50, 0, -10, 10), -10);
    }

    #[test]
    fn depress_row_respects_mask() {
        let mut row = [10i16, 10, -120, 50];
        depress_row(&mut row, &[1, 0, 1, 1], &[3, 3, 20, 0], -128, 20);
        assert_eq!(row, [7, 10, -128, 20]);
    }

    #[test]
    fn potentiate_column_respects_mask() {
        // A 4 × 2 matrix, column 1: rows 0..4 with dx = [10, 10, 1, 5].
        let mut w = [0i16, 10, 0, 10, 0, 126, 0, 50];
        let p = [0u8, 1, 0, 1, 0, 1, 0, 0];
        let dx = [10i16, 10, 1, 5];
        potentiate_column_masked(
            w[1..].iter_mut().step_by(2),
            p[1..].iter().step_by(2),
            &dx,
            -128,
            127,
        );
        assert_eq!(w, [0, 20, 0, 20, 0, 127, 0, 50]);
        potentiate_column(w[1..].iter_mut().step_by(2), &dx, -128, 100);
        assert_eq!(w, [0, 30, 0, 30, 0, 100, 0, 55]);
        assert_eq!(w[0], 0);
    }
}
