//! `WeightUpdate<W>` and `TraceUpdate` against the reference model
//! (`neurofab_sim::model::stdp::{amplitude, clamp_update, trace_step}`), bit for bit, in
//! rust-hdl's simulation of the kernels.

mod core_common;

use core_common::*;
use neurofab_hdl::core::*;
use neurofab_sim::model::stdp::{amplitude, clamp_update, trace_step};
use rand::Rng;
use rust_hdl::prelude::*;

fn model_weight(w: i16, trace: u8, eta: u8, potentiate: bool, w_min: i16, w_max: i16) -> i16 {
    let d = amplitude(trace, eta) as i32;
    clamp_update(w, if potentiate { d } else { -d }, w_min, w_max)
}

fn check_weight<const W: usize>(seed: u64) {
    let mut uut = WeightUpdate::<W>::default();
    uut.connect_all();
    check_all(&uut).expect("rust-hdl check");
    let lo = -(1i64 << (W - 1));
    let hi = (1i64 << (W - 1)) - 1;
    let mut rng = rng(seed);
    let w_edges = [lo, lo + 1, -1, 0, 1, hi - 1, hi];
    let mut cases = Vec::new();
    // Every edge weight against the full range and against tight bounds, both directions,
    // with the largest (254), a middle and a zero amplitude.
    for &w in &w_edges {
        for (w_min, w_max) in [
            (lo, hi),
            (0, hi),
            (lo, 0),
            (-1, 1),
            (hi, hi),
            (lo, lo),
            (0, 0),
        ] {
            for (trace, eta) in [(255u8, 255u8), (255, 254), (100, 128), (1, 255), (0, 0)] {
                for potentiate in [false, true] {
                    cases.push((w, trace, eta, potentiate, w_min, w_max));
                }
            }
        }
    }
    for _ in 0..RANDOM_VECTORS {
        let w = rng.random_range(lo..=hi);
        let a = rng.random_range(lo..=hi);
        let b = rng.random_range(lo..=hi);
        let (w_min, w_max) = if rng.random_range(0..3) == 0 {
            (lo, hi)
        } else {
            (a.min(b), a.max(b))
        };
        cases.push((
            w,
            u8_value(&mut rng),
            u8_value(&mut rng),
            rng.random(),
            w_min,
            w_max,
        ));
    }
    for (w, trace, eta, potentiate, w_min, w_max) in cases {
        uut.w.next = sbits::<W>(w);
        uut.trace.next = ubits::<TRACE_W>(trace as u64);
        uut.eta.next = ubits::<ETA_W>(eta as u64);
        uut.potentiate.next = potentiate;
        uut.w_min.next = sbits::<W>(w_min);
        uut.w_max.next = sbits::<W>(w_max);
        settle(&mut uut);
        let want = model_weight(w as i16, trace, eta, potentiate, w_min as i16, w_max as i16);
        assert_eq!(
            sval(uut.w_new.val()),
            want as i64,
            "W={W} w={w} trace={trace} eta={eta} pot={potentiate} [{w_min}, {w_max}]"
        );
    }
}

#[test]
fn weight_update_w8_matches_model() {
    check_weight::<8>(20);
}

#[test]
fn weight_update_w16_matches_model() {
    check_weight::<16>(21);
}

#[test]
fn weight_update_w2_matches_model() {
    check_weight::<2>(22);
}

#[test]
fn weight_update_clamps_without_wrap() {
    // Spec §4.3: 126 + 10 clamps to 127 (NeuroCoreX would wrap to −120).
    let mut uut = WeightUpdate::<8>::default();
    uut.connect_all();
    uut.w.next = sbits::<8>(126);
    uut.trace.next = ubits::<TRACE_W>(40);
    uut.eta.next = ubits::<ETA_W>(64); // 40 · 64 >> 8 = 10
    uut.potentiate.next = true;
    uut.w_min.next = sbits::<8>(-128);
    uut.w_max.next = sbits::<8>(127);
    settle(&mut uut);
    assert_eq!(sval(uut.w_new.val()), 127);
}

#[test]
fn trace_update_matches_model() {
    let mut uut = TraceUpdate::default();
    uut.connect_all();
    check_all(&uut).expect("rust-hdl check");
    let mut rng = rng(23);
    let edges = [0u8, 1, 2, 127, 128, 254, 255];
    let mut cases = Vec::new();
    for &x in &edges {
        for &a in &ALPHA_EDGES {
            for &inc in &edges {
                for spike in [false, true] {
                    cases.push((x, a, spike, inc));
                }
            }
        }
    }
    cases.extend((0..RANDOM_VECTORS).map(|_| {
        (
            u8_value(&mut rng),
            alpha(&mut rng),
            rng.random(),
            u8_value(&mut rng),
        )
    }));
    for (x, a, spike, inc) in cases {
        uut.x.next = ubits::<TRACE_W>(x as u64);
        uut.alpha.next = ubits::<ALPHA_W>(a as u64);
        uut.spike.next = spike;
        uut.inc.next = ubits::<TRACE_W>(inc as u64);
        settle(&mut uut);
        assert_eq!(
            uut.x_new.val().to_u64() as u8,
            trace_step(x, a, spike, inc),
            "trace_step({x}, {a}, {spike}, {inc})"
        );
    }
}
