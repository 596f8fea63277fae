//! Helpers shared by the `core_*` tests: port value conversion and vector generation.
#![allow(dead_code)]

use neurofab_hdl::core::ACC_W;
use neurofab_proto::NeuronParams;
use neurofab_sim::model::neuron::{decay, sat16, update, Lif};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;

/// Random vectors per test; edge cases are added on top.
pub const RANDOM_VECTORS: usize = 4000;

pub fn rng(seed: u64) -> ChaCha8Rng {
    use rand::SeedableRng;
    ChaCha8Rng::seed_from_u64(seed)
}

/// `value` as an N-bit two's complement port value (must fit).
pub fn sbits<const N: usize>(value: i64) -> Signed<N> {
    assert!(
        value >= -(1i64 << (N - 1)) && value < (1i64 << (N - 1)),
        "{value} does not fit {N} signed bits"
    );
    signed_cast(ubits::<N>((value as u64) & ((1u64 << N) - 1)))
}

/// `value` as an N-bit unsigned port value (must fit).
pub fn ubits<const N: usize>(value: u64) -> Bits<N> {
    assert!(value < (1u64 << N), "{value} does not fit {N} bits");
    value.to_bits()
}

/// The integer an N-bit signed port value stands for.
pub fn sval<const N: usize>(x: Signed<N>) -> i64 {
    let raw = unsigned_cast(x).to_u64();
    if raw >> (N - 1) & 1 == 1 {
        raw as i64 - (1i64 << N)
    } else {
        raw as i64
    }
}

/// Q1.15 factors that must always be covered.
pub const ALPHA_EDGES: [u16; 8] = [0, 1, 2, 16384, 24576, 32766, 32767, 32768];

/// A decay factor: an edge value one time in four, else uniform in 0 ..= 32768.
pub fn alpha(rng: &mut ChaCha8Rng) -> u16 {
    if rng.random_range(0..4) == 0 {
        ALPHA_EDGES[rng.random_range(0..ALPHA_EDGES.len())]
    } else {
        rng.random_range(0..=32768)
    }
}

/// An i16: an edge value one time in four, else uniform.
pub fn i16_value(rng: &mut ChaCha8Rng) -> i16 {
    const EDGES: [i16; 7] = [i16::MIN, i16::MIN + 1, -1, 0, 1, i16::MAX - 1, i16::MAX];
    if rng.random_range(0..4) == 0 {
        EDGES[rng.random_range(0..EDGES.len())]
    } else {
        rng.random()
    }
}

/// A u8: an edge value one time in four, else uniform.
pub fn u8_value(rng: &mut ChaCha8Rng) -> u8 {
    const EDGES: [u8; 5] = [0, 1, 127, 254, 255];
    if rng.random_range(0..4) == 0 {
        EDGES[rng.random_range(0..EDGES.len())]
    } else {
        rng.random()
    }
}

// ---- §2.4 neuron-update vectors (shared by core_neuron and core_verilog) ----

#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub p: NeuronParams,
    pub st: Lif,
    pub acc: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeuronOut {
    pub v: i16,
    pub i: i16,
    pub r: u8,
    pub fired: bool,
}

pub fn model(c: &Case) -> NeuronOut {
    let mut st = c.st;
    let fired = update(&c.p, &mut st, c.acc);
    NeuronOut {
        v: st.v,
        i: st.i,
        r: st.r,
        fired,
    }
}

/// `v_int` of spec §2.4 (what `v >= v_th` is tested on), from the model's primitives.
pub fn v_int(c: &Case) -> i16 {
    let i_new = sat16(decay(c.st.i as i32, c.p.alpha_i) + c.acc);
    let v_leak = c.p.v_rest as i32 + decay(c.st.v as i32 - c.p.v_rest as i32, c.p.alpha_v);
    sat16(v_leak + i_new as i32)
}

pub const ACC_MIN: i64 = -(1 << (ACC_W - 1));
pub const ACC_MAX: i64 = (1 << (ACC_W - 1)) - 1;

pub fn acc_value(rng: &mut ChaCha8Rng) -> i32 {
    let edges = [
        ACC_MIN,
        ACC_MIN + 1,
        -65536,
        -32769,
        -1,
        0,
        1,
        32768,
        65535,
        ACC_MAX,
    ];
    (match rng.random_range(0..4) {
        0 => edges[rng.random_range(0..edges.len())],
        1 => rng.random_range(ACC_MIN..=ACC_MAX),
        _ => rng.random_range(-70000..=70000),
    }) as i32
}

pub fn random_case(rng: &mut ChaCha8Rng) -> Case {
    let mut c = Case {
        p: NeuronParams {
            v_th: i16_value(rng),
            v_reset: i16_value(rng),
            v_rest: i16_value(rng),
            alpha_v: alpha(rng),
            alpha_i: alpha(rng),
            t_ref: u8_value(rng),
            w_shift: 0,
        },
        st: Lif {
            v: i16_value(rng),
            i: i16_value(rng),
            r: 0,
        },
        acc: acc_value(rng),
    };
    // Half the cases are not refractory; some sit exactly on (or next to) the threshold.
    if rng.random_range(0..2) == 0 {
        c.st.r = u8_value(rng);
    }
    match rng.random_range(0..6) {
        0 => c.p.v_th = v_int(&c),
        1 => c.p.v_th = v_int(&c).saturating_add(1),
        _ => {}
    }
    c
}

pub fn edge_cases() -> Vec<Case> {
    let base = Case {
        p: NeuronParams::RESET,
        st: Lif::default(),
        acc: 0,
    };
    let mut out = vec![base];
    for acc in [ACC_MIN, ACC_MAX, -1, 1, 0] {
        for (v, i) in [
            (i16::MIN, i16::MIN),
            (i16::MAX, i16::MAX),
            (i16::MIN, i16::MAX),
            (0, 0),
        ] {
            for (v_rest, alpha_v, alpha_i) in [
                (i16::MIN, 16384, 32768),
                (i16::MAX, 32767, 0),
                (0, 32768, 32767),
                (-1, 1, 1),
                (i16::MIN, 0, 16384),
            ] {
                for r in [0u8, 1, 255] {
                    out.push(Case {
                        p: NeuronParams {
                            v_th: 100,
                            v_reset: -20,
                            v_rest,
                            alpha_v,
                            alpha_i,
                            t_ref: 255,
                            w_shift: 0,
                        },
                        st: Lif { v, i, r },
                        acc: acc as i32,
                    });
                }
            }
        }
    }
    // v + i far below −32768 (saturates to −32768): fires only with v_th = −32768.
    for v_th in [i16::MIN, i16::MIN + 1] {
        for r in [0u8, 2] {
            out.push(Case {
                p: NeuronParams {
                    v_th,
                    v_reset: 5,
                    v_rest: i16::MIN,
                    alpha_v: 32768,
                    alpha_i: 32768,
                    t_ref: 4,
                    w_shift: 0,
                },
                st: Lif {
                    v: i16::MIN,
                    i: i16::MIN,
                    r,
                },
                acc: ACC_MIN as i32,
            });
        }
    }
    // Threshold equality and its neighbours, including the i16 ends.
    for v_th in [i16::MIN, -1, 0, 1, 999, i16::MAX] {
        for delta in [-1i32, 0, 1] {
            let target = v_th as i32 + delta;
            if !(i16::MIN as i32..=i16::MAX as i32).contains(&target) {
                continue;
            }
            // alpha_v = 1.0, v_rest = 0, i = 0: v_int = sat16(v + acc) with v = 0.
            out.push(Case {
                p: NeuronParams {
                    v_th,
                    v_reset: 7,
                    t_ref: 3,
                    ..NeuronParams::RESET
                },
                st: Lif::default(),
                acc: target,
            });
        }
    }
    out
}

pub fn all_cases(seed: u64) -> Vec<Case> {
    let mut rng = rng(seed);
    let mut cases = edge_cases();
    cases.extend((0..RANDOM_VECTORS).map(|_| random_case(&mut rng)));
    cases
}
