//! The decay primitive (spec §2.2), `sat16` (spec notation) and the LIF neuron
//! update (spec §2.4). This is the one place the neuron update lives.

use neurofab_proto::{NeuronParams, ALPHA_FRAC_BITS};

/// `decay(x, α) = trunc(x · α / 2^15)` (spec §2.2), rounding toward zero.
///
/// Computed in i64 so the product is exact for every input; Rust's integer
/// division truncates toward zero, which is exactly the spec's `trunc`.
/// `alpha` must be `<= 32768` (validated when parameters are written).
#[inline(always)]
pub fn decay(x: i32, alpha: u16) -> i32 {
    ((x as i64 * alpha as i64) / (1i64 << ALPHA_FRAC_BITS)) as i32
}

/// `sat16(x) = min(max(x, −32768), 32767)` (spec notation): the only way a
/// 16-bit state value is narrowed, so nothing wraps.
#[inline(always)]
pub fn sat16(x: i32) -> i16 {
    x.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

/// The per-neuron dynamic state the neuron update reads and writes (spec §2.1).
/// The post-trace `y` lives with the STDP state (phase 6), not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lif {
    /// Membrane potential `v`.
    pub v: i16,
    /// Synaptic current `i`.
    pub i: i16,
    /// Refractory steps left `r`.
    pub r: u8,
}

/// One neuron, one step (spec §2.4, §3 phase 3): updates `st` in place with the
/// synaptic input `acc` (already scaled by `2^w_shift`) and returns `fired`.
///
/// The current integrates and decays even while refractory; a refractory neuron
/// holds `v_reset` and cannot fire; `v_int >= v_th` (equality included) fires.
#[inline(always)]
pub fn update(p: &NeuronParams, st: &mut Lif, acc: i32) -> bool {
    // |decay(i)| <= 2^15 and |acc| < 2^29: the sum is exact in i32.
    let i_new = sat16(decay(st.i as i32, p.alpha_i) + acc);
    st.i = i_new;
    if st.r > 0 {
        st.r -= 1;
        st.v = p.v_reset;
        return false;
    }
    // v − v_rest needs 17 bits; v_leak lies between v_rest and v.
    let v_leak = p.v_rest as i32 + decay(st.v as i32 - p.v_rest as i32, p.alpha_v);
    let v_int = sat16(v_leak + i_new as i32);
    if v_int >= p.v_th {
        st.v = p.v_reset;
        st.r = p.t_ref;
        true
    } else {
        st.v = v_int;
        st.r = 0;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurofab_proto::ALPHA_ONE;

    fn params() -> NeuronParams {
        NeuronParams {
            v_th: 1000,
            v_reset: -50,
            v_rest: 0,
            alpha_v: ALPHA_ONE,
            alpha_i: 0,
            t_ref: 0,
            w_shift: 0,
        }
    }

    #[test]
    fn decay_truncates_toward_zero() {
        // 100 · 0.75 = 75 exactly; 101 · 0.75 = 75.75 → 75; −101 · 0.75 = −75.75 → −75 (not −76).
        assert_eq!(decay(100, 24576), 75);
        assert_eq!(decay(101, 24576), 75);
        assert_eq!(decay(-101, 24576), -75);
        assert_eq!(decay(-1, 32767), 0);
        assert_eq!(decay(1, 32767), 0);
        assert_eq!(decay(-3, 16384), -1); // −1.5 → −1
        assert_eq!(decay(3, 16384), 1);
    }

    #[test]
    fn decay_alpha_zero_and_one() {
        for x in [-65535, -32768, -1, 0, 1, 255, 32767, 65535] {
            assert_eq!(decay(x, 0), 0);
            assert_eq!(decay(x, ALPHA_ONE), x);
        }
    }

    #[test]
    fn decay_strictly_shrinks_and_reaches_zero() {
        for alpha in [0u16, 1, 16384, 31000, 32767] {
            for x0 in [-32768, -12345, -1, 1, 255, 32767, 65535, -65535] {
                let mut x = x0;
                let mut steps = 0u32;
                while x != 0 {
                    let d = decay(x, alpha);
                    assert!(d.abs() < x.abs(), "alpha {alpha} x {x} -> {d}");
                    assert!(d == 0 || d.signum() == x.signum());
                    x = d;
                    steps += 1;
                    assert!(steps < 2_000_000);
                }
            }
        }
    }

    #[test]
    fn decay_extremes_exact() {
        assert_eq!(decay(-32768, 32767), -32767); // −32767.0 exactly
        assert_eq!(decay(65535, 32767), 65533); // 65533.000030… → 65533
        assert_eq!(decay(-65535, 32767), -65533);
    }

    #[test]
    fn sat16_ends() {
        assert_eq!(sat16(40000), 32767);
        assert_eq!(sat16(32767), 32767);
        assert_eq!(sat16(-32768), -32768);
        assert_eq!(sat16(-40000), -32768);
        assert_eq!(sat16(5), 5);
    }

    #[test]
    fn current_saturates_both_ends() {
        let p = NeuronParams {
            v_th: i16::MAX,
            alpha_i: ALPHA_ONE,
            ..params()
        };
        let mut st = Lif {
            i: 32000,
            ..Lif::default()
        };
        update(&p, &mut st, 1000);
        assert_eq!(st.i, 32767);
        let mut st = Lif {
            i: -32000,
            ..Lif::default()
        };
        update(&p, &mut st, -1000);
        assert_eq!(st.i, -32768);
    }

    #[test]
    fn membrane_saturates_both_ends() {
        // v_th = 32767 and v_int = sat16(32000 + 32767) = 32767 >= v_th: fires.
        let p = NeuronParams {
            v_th: i16::MAX,
            ..params()
        };
        let mut st = Lif {
            v: 32000,
            i: 0,
            r: 0,
        };
        assert!(update(&p, &mut st, 32767));
        assert_eq!(st.v, -50);
        // Negative end: v = −32000, i_new = −32768 → v_int = sat16(−64768) = −32768.
        let mut st = Lif {
            v: -32000,
            i: 0,
            r: 0,
        };
        assert!(!update(&p, &mut st, -32768));
        assert_eq!(st.v, -32768);
        assert_eq!(st.i, -32768);
        // And it stays there (no wrap) with more negative input.
        assert!(!update(&p, &mut st, -32768));
        assert_eq!(st.v, -32768);
    }

    #[test]
    fn threshold_equality_fires() {
        let p = params();
        let mut st = Lif {
            v: 999,
            ..Lif::default()
        };
        assert!(!update(&p, &mut st, 0));
        assert_eq!(st.v, 999);
        assert!(update(&p, &mut st, 1)); // 999 + 1 = 1000 == v_th
        assert_eq!(st.v, -50);
    }

    #[test]
    fn leak_toward_rest_with_negative_truncation() {
        // v_rest = 100, v = 0: v − v_rest = −100, ·0.75 = −75 → v_leak = 25.
        // v = −1: −101 · 0.75 = −75.75 → −75 (toward zero) → v_leak = 25.
        let p = NeuronParams {
            v_rest: 100,
            alpha_v: 24576,
            ..params()
        };
        let mut st = Lif::default();
        update(&p, &mut st, 0);
        assert_eq!(st.v, 25);
        let mut st = Lif {
            v: -1,
            ..Lif::default()
        };
        update(&p, &mut st, 0);
        assert_eq!(st.v, 25);
        // Extreme leak: v_rest = −32768, v = 32767 needs 17 bits for v − v_rest.
        let p = NeuronParams {
            v_rest: -32768,
            alpha_v: 16384,
            ..params()
        };
        let mut st = Lif {
            v: 32767,
            ..Lif::default()
        };
        update(&p, &mut st, 0);
        // 65535 · 0.5 = 32767.5 → 32767; −32768 + 32767 = −1.
        assert_eq!(st.v, -1);
    }

    #[test]
    fn refractory_holds_and_current_integrates() {
        let p = NeuronParams {
            v_th: 10,
            v_reset: -5,
            t_ref: 2,
            alpha_i: ALPHA_ONE,
            ..params()
        };
        let mut st = Lif::default();
        assert!(update(&p, &mut st, 20)); // i = 20, v_int = 20 >= 10
        assert_eq!((st.v, st.i, st.r), (-5, 20, 2));
        assert!(!update(&p, &mut st, 3)); // refractory: i = 23, v held
        assert_eq!((st.v, st.i, st.r), (-5, 23, 1));
        assert!(!update(&p, &mut st, 0));
        assert_eq!((st.v, st.i, st.r), (-5, 23, 0));
        assert!(update(&p, &mut st, 0)); // v_int = −5 + 23 = 18 >= 10
        assert_eq!((st.v, st.i, st.r), (-5, 23, 2));
    }

    #[test]
    fn t_ref_zero_fires_consecutively() {
        let p = NeuronParams {
            v_th: 10,
            v_reset: 0,
            alpha_i: ALPHA_ONE,
            ..params()
        };
        let mut st = Lif::default();
        for _ in 0..5 {
            let acc = if st.i == 0 { 10 } else { 0 };
            assert!(update(&p, &mut st, acc));
            assert_eq!((st.v, st.r), (0, 0));
        }
    }
}
