//! `Decay`, `UDecay`, `Sat16` and the width adapters against the reference model
//! (`neurofab_sim::model::neuron::{decay, sat16}`), in rust-hdl's simulation of the
//! kernels: every edge case plus `RANDOM_VECTORS` random vectors each.

mod core_common;

use core_common::*;
use neurofab_hdl::core::*;
use neurofab_sim::model::neuron::{decay, sat16};
use rand::Rng;
use rust_hdl::prelude::*;

fn ready<B: Block>(mut uut: B) -> B {
    uut.connect_all();
    check_all(&uut).expect("rust-hdl check");
    uut
}

struct DecayDut(Decay);

impl DecayDut {
    fn new() -> Self {
        DecayDut(ready(Decay::default()))
    }

    fn eval(&mut self, x: i32, alpha: u16) -> i32 {
        self.0.x.next = sbits::<DIFF_W>(x as i64);
        self.0.alpha.next = ubits::<ALPHA_W>(alpha as u64);
        settle(&mut self.0);
        sval(self.0.y.val()) as i32
    }
}

/// `Decay`'s domain is |x| <= 65535 (every `v − v_rest`).
const X17_EDGES: [i32; 11] = [
    -65535, -65534, -32769, -32768, -1, 0, 1, 32767, 32768, 65534, 65535,
];

#[test]
fn decay_edges_match_model() {
    let mut dut = DecayDut::new();
    for &x in &X17_EDGES {
        for &a in &ALPHA_EDGES {
            assert_eq!(dut.eval(x, a), decay(x, a), "decay({x}, {a})");
        }
    }
    // Spec §7.1: −30 · 0.75 = −22.5 → −22 (floor would be −23); −17 · 0.5 → −8.
    assert_eq!(dut.eval(-30, 24576), -22);
    assert_eq!(dut.eval(-17, 16384), -8);
}

#[test]
fn decay_random_matches_model() {
    let mut dut = DecayDut::new();
    let mut rng = rng(1);
    for n in 0..RANDOM_VECTORS {
        let x = match n % 3 {
            0 => rng.random_range(-65535..=65535),
            1 => rng.random_range(-300..=300),
            _ => i16_value(&mut rng) as i32,
        };
        let a = alpha(&mut rng);
        assert_eq!(dut.eval(x, a), decay(x, a), "decay({x}, {a})");
    }
}

#[test]
fn decay_invalid_alpha_is_identity_not_wrap() {
    // Out of contract (spec §2.2 refuses α > 32768), but the block must not wrap.
    let mut dut = DecayDut::new();
    for &x in &X17_EDGES {
        for a in [32769u16, 40000, 65535] {
            assert_eq!(dut.eval(x, a), x, "decay({x}, {a})");
        }
    }
}

#[test]
fn udecay_matches_model() {
    let mut dut = ready(UDecay::default());
    let mut rng = rng(2);
    let edges = [0u16, 1, 255, 32767, 32768, 65534, 65535];
    let mut cases: Vec<(u16, u16)> = edges
        .iter()
        .flat_map(|&x| ALPHA_EDGES.iter().map(move |&a| (x, a)))
        .collect();
    cases.extend((0..RANDOM_VECTORS).map(|_| (rng.random(), alpha(&mut rng))));
    for (x, a) in cases {
        dut.x.next = ubits::<MUL_W>(x as u64);
        dut.alpha.next = ubits::<ALPHA_W>(a as u64);
        settle(&mut dut);
        assert_eq!(
            dut.y.val().to_u64() as i32,
            decay(x as i32, a),
            "udecay({x}, {a})"
        );
    }
}

fn check_sat<const N: usize>(values: impl IntoIterator<Item = i64>) {
    let mut dut = ready(Sat16::<N>::default());
    for x in values {
        dut.x.next = unsigned_cast(sbits::<N>(x));
        settle(&mut dut);
        let got = sval(signed_cast(dut.y.val()));
        let want = sat16(x.clamp(i32::MIN as i64, i32::MAX as i64) as i32) as i64;
        assert_eq!(got, want, "sat16<{N}>({x})");
    }
}

#[test]
fn sat16_matches_model() {
    let mut rng = rng(3);
    let edges = [-32769i64, -32768, -32767, -1, 0, 1, 32766, 32767, 32768];
    let lim17 = 1i64 << (DIFF_W - 1);
    let lim30 = 1i64 << (CURRENT_SUM_W - 1);
    let mut v17: Vec<i64> = edges.to_vec();
    v17.extend([-lim17, lim17 - 1]);
    v17.extend((0..RANDOM_VECTORS).map(|_| rng.random_range(-lim17..lim17)));
    check_sat::<DIFF_W>(v17);
    let mut v30: Vec<i64> = edges.to_vec();
    v30.extend([-lim30, lim30 - 1, -lim17, lim17]);
    v30.extend((0..RANDOM_VECTORS).map(|_| rng.random_range(-lim30..lim30)));
    v30.extend((0..RANDOM_VECTORS / 4).map(|_| rng.random_range(-70000..70000)));
    check_sat::<CURRENT_SUM_W>(v30);
}

#[test]
fn extenders_and_narrow() {
    let mut sx = ready(SignExtend::<STATE_W, CURRENT_SUM_W>::default());
    let mut zx = ready(ZeroExtend::<TRACE_W, MUL_W>::default());
    let mut nw = ready(Narrow::<DIFF_W, STATE_W>::default());
    for v in [i16::MIN, -1, 0, 1, i16::MAX, -12345, 12345] {
        sx.x.next = unsigned_cast(sbits::<STATE_W>(v as i64));
        settle(&mut sx);
        assert_eq!(sval(signed_cast(sx.y.val())), v as i64);
        nw.x.next = unsigned_cast(sbits::<DIFF_W>(v as i64));
        settle(&mut nw);
        assert_eq!(sval(signed_cast(nw.y.val())), v as i64);
    }
    for v in [0u64, 1, 128, 255] {
        zx.x.next = ubits::<TRACE_W>(v);
        settle(&mut zx);
        assert_eq!(zx.y.val().to_u64(), v);
    }
}
