//! One test per rule of docs/core-spec.md, on the public `Core` API.
//! Every expected value is computed by hand in the comment next to it.

use neurofab_sim::{Core, CoreShape, ModelError, NeuronParams, ParamError, StdpParams};

const ONE: u16 = 32768;

fn shape(neurons: u16, inputs: u16, weight_bits: u8) -> CoreShape {
    CoreShape {
        neurons,
        inputs,
        weight_bits,
    }
}

/// A non-leaky neuron with no synaptic memory: i = acc, v = v + i.
fn plain(v_th: i16) -> NeuronParams {
    NeuronParams {
        v_th,
        v_reset: 0,
        v_rest: 0,
        alpha_v: ONE,
        alpha_i: 0,
        t_ref: 0,
        w_shift: 0,
    }
}

fn core_with(neurons: u16, inputs: u16, p: NeuronParams) -> Core {
    let mut c = Core::new(shape(neurons, inputs, 8)).unwrap();
    for n in 0..neurons {
        c.set_neuron_params(n, p).unwrap();
    }
    c
}

fn stdp_on() -> StdpParams {
    StdpParams {
        enabled: true,
        eta_plus: 0,
        eta_minus: 0,
        w_min: -128,
        w_max: 127,
        alpha_pre: 0,
        alpha_post: 0,
        inc_pre: 0,
        inc_post: 0,
    }
}

/// Everything observable, to check that a refused call changed nothing.
fn snapshot(c: &Core) -> (Vec<String>, Vec<i16>, Vec<u8>, u32, String) {
    let s = c.shape();
    let neurons = (0..s.neurons)
        .map(|n| {
            format!(
                "{:?} {:?}",
                c.neuron_state(n).unwrap(),
                c.neuron_params(n).unwrap()
            )
        })
        .collect();
    let x = (0..s.sources() as u16)
        .map(|k| c.pre_trace(k).unwrap())
        .collect();
    (
        neurons,
        c.weights().to_vec(),
        x,
        c.steps_done(),
        format!("{:?} {:?}", c.counters(), c.stdp()),
    )
}

#[test]
fn core_is_send_and_clone() {
    fn check<T: Send + Clone>() {}
    check::<Core>();
}

#[test]
fn power_on_state() {
    let c = Core::new(CoreShape::DEFAULT).unwrap();
    assert_eq!(c.shape(), CoreShape::DEFAULT);
    assert_eq!(c.neuron_params(255).unwrap(), NeuronParams::RESET);
    assert_eq!(c.stdp(), StdpParams::reset(&CoreShape::DEFAULT));
    assert_eq!(c.stdp().w_min, -128);
    assert_eq!(c.stdp().w_max, 127);
    assert_eq!(c.weights().len(), 320 * 256);
    assert!(c.weights().iter().all(|&w| w == 0));
    assert!(!c.plastic(319, 255).unwrap());
    assert_eq!(c.steps_done(), 0);
}

#[test]
fn inputs_act_at_the_same_step() {
    let mut c = core_with(1, 2, plain(1000));
    c.set_weight(1, 0, 7).unwrap();
    assert!(c.step(&[1]).unwrap().is_empty());
    let st = c.neuron_state(0).unwrap();
    assert_eq!((st.i, st.v), (7, 7));
    assert_eq!(c.steps_done(), 1);
}

#[test]
fn duplicate_inputs_count_once() {
    let mut c = core_with(3, 2, plain(1000));
    c.set_weight(1, 0, 7).unwrap();
    c.step(&[1, 1, 1]).unwrap();
    assert_eq!(c.neuron_state(0).unwrap().i, 7); // not 21
    assert_eq!(c.counters().delivered, 3); // one row of N = 3
                                           // Pre-trace jumps once too.
    c.set_stdp(StdpParams {
        inc_pre: 50,
        alpha_pre: ONE,
        ..stdp_on()
    })
    .unwrap();
    c.step(&[1, 1]).unwrap();
    assert_eq!(c.pre_trace(1).unwrap(), 50);
}

#[test]
fn out_of_range_input_is_an_error_and_changes_nothing() {
    let mut c = core_with(2, 3, plain(5));
    c.set_weight(0, 0, 9).unwrap();
    c.set_stdp(StdpParams {
        inc_pre: 10,
        inc_post: 10,
        ..stdp_on()
    })
    .unwrap();
    c.step(&[0]).unwrap();
    let before = snapshot(&c);
    assert_eq!(
        c.step(&[0, 1, 3]),
        Err(ModelError::Input {
            input: 3,
            inputs: 3
        })
    );
    assert_eq!(snapshot(&c), before);
    // A core without inputs refuses every input.
    let mut c = core_with(1, 0, plain(5));
    assert_eq!(
        c.step(&[0]),
        Err(ModelError::Input {
            input: 0,
            inputs: 0
        })
    );
    assert_eq!(c.steps_done(), 0);
}

#[test]
fn w_shift_gain() {
    let mut c = core_with(2, 1, plain(i16::MAX));
    c.set_neuron_params(
        0,
        NeuronParams {
            w_shift: 4,
            ..plain(i16::MAX)
        },
    )
    .unwrap();
    c.set_neuron_params(
        1,
        NeuronParams {
            w_shift: 8,
            ..plain(i16::MAX)
        },
    )
    .unwrap();
    c.set_weight(0, 0, 3).unwrap();
    c.set_weight(0, 1, -128).unwrap();
    c.step(&[0]).unwrap();
    assert_eq!(c.neuron_state(0).unwrap().i, 48); // 3 · 2^4
    assert_eq!(c.neuron_state(1).unwrap().i, -32768); // −128 · 2^8, the i16 minimum exactly
}

#[test]
fn w_shift_sum_is_exact_before_saturation() {
    // Two inputs: 127·2^8 + 127·2^8 = 65024 saturates to 32767 (no wrap);
    // 127·2^8 + (−128)·2^8 = −256 exactly.
    let mut c = core_with(
        2,
        2,
        NeuronParams {
            w_shift: 8,
            ..plain(i16::MAX)
        },
    );
    c.set_weight(0, 0, 127).unwrap();
    c.set_weight(1, 0, 127).unwrap();
    c.set_weight(0, 1, 127).unwrap();
    c.set_weight(1, 1, -128).unwrap();
    c.step(&[0, 1]).unwrap();
    assert_eq!(c.neuron_state(0).unwrap().i, 32767);
    assert_eq!(c.neuron_state(1).unwrap().i, -256);
}

#[test]
fn recurrent_spike_is_delivered_one_step_later() {
    // Neuron 0 fires at step 0 (input 0, weight 10 >= v_th 10); its row M+0 = 1
    // reaches neuron 1 at step 1, not step 0.
    let mut c = core_with(2, 1, plain(10));
    c.set_weight(0, 0, 10).unwrap();
    c.set_weight(1, 1, 6).unwrap();
    assert_eq!(c.step(&[0]).unwrap(), &[0]);
    assert_eq!(c.neuron_state(1).unwrap().i, 0);
    assert_eq!(c.step(&[]).unwrap(), &[] as &[u16]);
    assert_eq!(c.neuron_state(1).unwrap().i, 6);
    assert_eq!(c.neuron_state(1).unwrap().v, 6);
    c.step(&[]).unwrap();
    assert_eq!(c.neuron_state(1).unwrap().i, 0); // alpha_i = 0, no more spikes
}

#[test]
fn self_connection_and_ascending_output() {
    // Neurons 2 and 0 fire at step 0; neuron 2's self-synapse refires it at step 1.
    let mut c = core_with(3, 1, plain(5));
    c.set_weight(0, 2, 5).unwrap();
    c.set_weight(0, 0, 5).unwrap();
    c.set_weight(1 + 2, 2, 5).unwrap();
    assert_eq!(c.step(&[0]).unwrap(), &[0, 2]);
    assert_eq!(c.step(&[]).unwrap(), &[2]);
    assert_eq!(c.step(&[]).unwrap(), &[2]);
    assert_eq!(c.counters().spikes, 4);
}

#[test]
fn threshold_equality_fires() {
    let mut c = core_with(
        1,
        1,
        NeuronParams {
            v_reset: -3,
            ..plain(10)
        },
    );
    c.set_weight(0, 0, 9).unwrap();
    assert!(c.step(&[0]).unwrap().is_empty()); // v = 9 < 10
    c.set_weight(0, 0, 1).unwrap();
    assert_eq!(c.step(&[0]).unwrap(), &[0]); // v_int = 9 + 1 = 10 == v_th
    assert_eq!(c.neuron_state(0).unwrap().v, -3);
}

#[test]
fn refractory_hold_and_integration() {
    // t_ref = 2, input every step, i = i·0.5 + 8 (alpha_i = 16384):
    // t0: i = 8,  v = 8  >= 8: fire, v = −4, r = 2
    // t1: i = 4 + 8 = 12, refractory: v = −4, r = 1
    // t2: i = 6 + 8 = 14, refractory: v = −4, r = 0
    // t3: i = 7 + 8 = 15, v_int = −4 + 15 = 11 >= 8: fire (t + t_ref + 1)
    let p = NeuronParams {
        v_th: 8,
        v_reset: -4,
        t_ref: 2,
        alpha_i: 16384,
        ..plain(8)
    };
    let mut c = core_with(1, 1, p);
    c.set_weight(0, 0, 8).unwrap();
    let mut got = vec![];
    for _ in 0..4 {
        let f = c.step(&[0]).unwrap().to_vec();
        let st = c.neuron_state(0).unwrap();
        got.push((f, st.i, st.v, st.refractory));
    }
    assert_eq!(
        got,
        vec![
            (vec![0], 8, -4, 2),
            (vec![], 12, -4, 1),
            (vec![], 14, -4, 0),
            (vec![0], 15, -4, 2)
        ]
    );
}

#[test]
fn t_ref_zero_fires_on_consecutive_steps() {
    let mut c = core_with(1, 1, plain(5));
    c.set_weight(0, 0, 5).unwrap();
    for _ in 0..4 {
        assert_eq!(c.step(&[0]).unwrap(), &[0]);
        assert_eq!(c.neuron_state(0).unwrap().v, 0);
    }
}

#[test]
fn leak_and_negative_truncation() {
    // v_rest = 0, alpha_v = 0.75, v starts at −101 after one step with i = −101:
    // t0: v_leak = 0, v = 0 + (−101) = −101
    // t1: v_leak = trunc(−101 · 0.75) = trunc(−75.75) = −75, i = 0 → v = −75
    let mut c = core_with(
        1,
        1,
        NeuronParams {
            alpha_v: 24576,
            ..plain(100)
        },
    );
    c.set_weight(0, 0, -101).unwrap();
    c.step(&[0]).unwrap();
    assert_eq!(c.neuron_state(0).unwrap().v, -101);
    c.step(&[]).unwrap();
    assert_eq!(c.neuron_state(0).unwrap().v, -75);
}

#[test]
fn membrane_and_current_saturate_at_both_ends() {
    // W = 16: a single weight of 32767 (or −32768) with w_shift 0.
    let mut c = Core::new(shape(2, 1, 16)).unwrap();
    let p = NeuronParams {
        alpha_i: ONE,
        ..plain(i16::MAX)
    };
    c.set_neuron_params(0, p).unwrap();
    c.set_neuron_params(1, p).unwrap();
    c.set_weight(0, 0, -32768).unwrap();
    c.set_weight(0, 1, 30000).unwrap();
    c.step(&[0]).unwrap(); // i0 = −32768, v0 = −32768; i1 = 30000, v1 = 30000
                           // i0 = sat16(−65536) = −32768, v0 = sat16(−65536) = −32768.
    assert_eq!(c.step(&[0]).unwrap(), &[1]);
    let s0 = c.neuron_state(0).unwrap();
    assert_eq!((s0.i, s0.v), (-32768, -32768));
    // i1 = sat16(60000) = 32767; v1 = sat16(30000 + 32767) = 32767 >= v_th 32767: fires.
    // Neuron 1 at step 1: i1 = sat16(30000 + 30000) = 32767;
    // v_int = sat16(30000 + 32767) = 32767 >= v_th = 32767: fires (so it was step 1).
    let s1 = c.neuron_state(1).unwrap();
    assert_eq!((s1.i, s1.v), (32767, 0));
    assert_eq!(c.counters().spikes, 1);
}

#[test]
fn pre_trace_saturates_and_decays() {
    let mut c = core_with(1, 1, plain(i16::MAX));
    c.set_stdp(StdpParams {
        enabled: false,
        inc_pre: 100,
        alpha_pre: 16384,
        ..stdp_on()
    })
    .unwrap();
    c.step(&[0]).unwrap(); // 0 → 100
    assert_eq!(c.pre_trace(0).unwrap(), 100);
    c.step(&[0]).unwrap(); // 50 + 100 = 150
    c.step(&[0]).unwrap(); // 75 + 100 = 175
    assert_eq!(c.pre_trace(0).unwrap(), 175);
    c.set_stdp(StdpParams {
        enabled: false,
        inc_pre: 200,
        alpha_pre: ONE,
        ..stdp_on()
    })
    .unwrap();
    c.step(&[0]).unwrap(); // min(175 + 200, 255) = 255
    assert_eq!(c.pre_trace(0).unwrap(), 255);
    c.set_stdp(StdpParams {
        enabled: false,
        inc_pre: 200,
        alpha_pre: 16384,
        ..stdp_on()
    })
    .unwrap();
    c.step(&[]).unwrap(); // trunc(127.5) = 127
    assert_eq!(c.pre_trace(0).unwrap(), 127);
    c.step(&[]).unwrap();
    assert_eq!(c.pre_trace(0).unwrap(), 63);
}

#[test]
fn neuron_source_pre_trace_jumps_at_delivery() {
    // Neuron 0 fires at step 0; x[M+0] jumps at step 1 (delivery), y[0] at step 0.
    let mut c = core_with(1, 1, plain(1));
    c.set_weight(0, 0, 1).unwrap();
    c.set_stdp(StdpParams {
        enabled: false,
        inc_pre: 30,
        inc_post: 40,
        ..stdp_on()
    })
    .unwrap();
    c.step(&[0]).unwrap();
    assert_eq!(c.pre_trace(1).unwrap(), 0);
    assert_eq!(c.neuron_state(0).unwrap().post_trace, 40);
    c.step(&[]).unwrap();
    assert_eq!(c.pre_trace(1).unwrap(), 30);
    assert_eq!(c.neuron_state(0).unwrap().post_trace, 0); // alpha_post = 0
}

#[test]
fn post_trace_saturates_and_decays() {
    let mut c = core_with(1, 1, plain(1));
    c.set_weight(0, 0, 1).unwrap();
    c.set_stdp(StdpParams {
        enabled: false,
        inc_post: 200,
        alpha_post: 24576,
        ..stdp_on()
    })
    .unwrap();
    c.step(&[0]).unwrap(); // 200
    c.step(&[0]).unwrap(); // 150 + 200 → 255
    assert_eq!(c.neuron_state(0).unwrap().post_trace, 255);
    c.step(&[]).unwrap(); // trunc(191.25) = 191
    assert_eq!(c.neuron_state(0).unwrap().post_trace, 191);
}

#[test]
fn depression_delivers_old_weight_and_uses_previous_post_trace() {
    // Input 1 (non-plastic, 127) makes neuron 0 fire at step 0: y = 0·… + 100 = 100.
    // Step 0 also delivers input 0 but y(t−1) = 0: no depression (w stays 20).
    // Step 1: input 0 delivers 20 (pre-depression), then w = 20 − (100·128 >> 8) = −30.
    // (Using y after step 1's decay, 50, would give −5.)
    let mut c = core_with(1, 2, plain(100));
    c.set_weight(0, 0, 20).unwrap();
    c.set_weight(1, 0, 127).unwrap();
    c.set_plastic(0, 0, true).unwrap();
    c.set_stdp(StdpParams {
        eta_minus: 128,
        inc_post: 100,
        alpha_post: 16384,
        ..stdp_on()
    })
    .unwrap();
    assert_eq!(c.step(&[0, 1]).unwrap(), &[0]);
    assert_eq!(c.weight(0, 0).unwrap(), 20);
    assert_eq!(c.neuron_state(0).unwrap().post_trace, 100);
    assert!(c.step(&[0]).unwrap().is_empty());
    assert_eq!(c.neuron_state(0).unwrap().i, 20);
    assert_eq!(c.weight(0, 0).unwrap(), -30);
    assert_eq!(c.neuron_state(0).unwrap().post_trace, 50);
}

#[test]
fn potentiation_uses_pre_trace_of_the_same_step() {
    // Input 0 (plastic, 10) fires neuron 0 at step 0. Phase 4: x = 100; phase 5:
    // w = 10 + (100·128 >> 8) = 60. Delivery used 10.
    let mut c = core_with(1, 1, plain(10));
    c.set_weight(0, 0, 10).unwrap();
    c.set_plastic(0, 0, true).unwrap();
    c.set_stdp(StdpParams {
        eta_plus: 128,
        inc_pre: 100,
        ..stdp_on()
    })
    .unwrap();
    assert_eq!(c.step(&[0]).unwrap(), &[0]);
    assert_eq!(c.neuron_state(0).unwrap().i, 10);
    assert_eq!(c.weight(0, 0).unwrap(), 60);
    assert_eq!(c.counters().potentiation, 2); // |F| · (M+N) = 1 · 2
}

#[test]
fn depression_then_potentiation_on_the_same_synapse() {
    // Step 0: input 1 (non-plastic) fires neuron 0, y = 100 (alpha_post = 0).
    // Step 1: input 0 (plastic, 120) fires it again.
    //   phase 2: 120 − (100·128 >> 8) = 70; phase 4: x = 100;
    //   phase 5: 70 + (100·64 >> 8) = 95.  (Reversed order: min(145,127) − 50 = 77.)
    let mut c = core_with(1, 2, plain(1));
    c.set_weight(0, 0, 120).unwrap();
    c.set_weight(1, 0, 5).unwrap();
    c.set_plastic(0, 0, true).unwrap();
    c.set_stdp(StdpParams {
        eta_plus: 64,
        eta_minus: 128,
        inc_pre: 100,
        inc_post: 100,
        ..stdp_on()
    })
    .unwrap();
    assert_eq!(c.step(&[1]).unwrap(), &[0]);
    assert_eq!(c.weight(0, 0).unwrap(), 120); // x[0] = 0: Δw = 0, 120 within bounds
    assert_eq!(c.step(&[0]).unwrap(), &[0]);
    assert_eq!(c.weight(0, 0).unwrap(), 95);
}

#[test]
fn clamps_at_w_max_and_w_min_without_wrapping() {
    // W = 8, w = 126, Δw = 100·26 >> 8 = 10 → min(136, 127) = 127.
    let mut c = core_with(1, 2, plain(1));
    c.set_weight(0, 0, 126).unwrap();
    c.set_plastic(0, 0, true).unwrap();
    c.set_stdp(StdpParams {
        eta_plus: 26,
        inc_pre: 100,
        ..stdp_on()
    })
    .unwrap();
    assert_eq!(c.step(&[0]).unwrap(), &[0]);
    assert_eq!(c.weight(0, 0).unwrap(), 127);
    // w = −125 at input 1, y = 100 from that spike, Δw = 100·26 >> 8 = 10 → −128.
    c.set_weight(1, 0, -125).unwrap();
    c.set_plastic(1, 0, true).unwrap();
    c.set_stdp(StdpParams {
        eta_minus: 26,
        inc_post: 100,
        ..stdp_on()
    })
    .unwrap();
    c.step(&[]).unwrap(); // y(t−1) = 0 (inc_post was 0 at step 0)
    c.set_weight(0, 0, 0).unwrap();
    c.set_weight(1, 0, 1).unwrap();
    assert_eq!(c.step(&[1]).unwrap(), &[0]); // y = 100
    c.set_weight(1, 0, -125).unwrap();
    assert!(c.step(&[1]).unwrap().is_empty());
    assert_eq!(c.weight(1, 0).unwrap(), -128);
}

#[test]
fn clamp_pulls_out_of_bounds_weights_even_with_zero_delta() {
    // w_min = −10, w_max = 10; host writes 100 and −100 (valid 8-bit weights).
    // The first STDP visits (Δw = 0 since eta = 0) clamp them to 10 and −10.
    let mut c = core_with(1, 2, plain(1));
    c.set_stdp(StdpParams {
        w_min: -10,
        w_max: 10,
        ..stdp_on()
    })
    .unwrap();
    c.set_weight(0, 0, 100).unwrap();
    c.set_weight(1, 0, -100).unwrap();
    c.set_plastic(0, 0, true).unwrap();
    c.set_plastic(1, 0, true).unwrap();
    assert_eq!(c.weight(0, 0).unwrap(), 100); // writing stdp/weights never clamps
    c.step(&[0]).unwrap(); // delivers 100 (fires), then the visit clamps
    assert_eq!(c.weight(0, 0).unwrap(), 10);
    assert_eq!(c.weight(1, 0).unwrap(), -10); // potentiation visited it too (neuron fired)
}

#[test]
fn non_plastic_synapses_never_change() {
    let mut c = core_with(1, 1, plain(1));
    c.set_weight(0, 0, 126).unwrap();
    c.set_weight(1, 0, -100).unwrap(); // self-connection: 126 − 100 still fires
    c.set_stdp(StdpParams {
        eta_plus: 255,
        eta_minus: 255,
        inc_pre: 255,
        inc_post: 255,
        alpha_pre: ONE,
        alpha_post: ONE,
        w_min: -5,
        w_max: 5,
        ..stdp_on()
    })
    .unwrap();
    for _ in 0..5 {
        c.step(&[0]).unwrap();
    }
    assert_eq!(c.counters().spikes, 5);
    assert_eq!(c.weight(0, 0).unwrap(), 126);
    assert_eq!(c.weight(1, 0).unwrap(), -100);
}

#[test]
fn learning_disabled_changes_no_weight_but_traces_update() {
    let mut c = core_with(1, 1, plain(1));
    c.set_weight(0, 0, 50).unwrap();
    c.set_plastic(0, 0, true).unwrap();
    c.set_plastic(1, 0, true).unwrap();
    c.set_stdp(StdpParams {
        enabled: false,
        eta_plus: 255,
        eta_minus: 255,
        inc_pre: 7,
        inc_post: 9,
        alpha_pre: ONE,
        alpha_post: ONE,
        w_min: -5,
        w_max: 5,
    })
    .unwrap();
    c.step(&[0]).unwrap();
    c.step(&[0]).unwrap();
    assert_eq!(c.weight(0, 0).unwrap(), 50);
    assert_eq!(c.weight(1, 0).unwrap(), 0);
    assert_eq!(c.pre_trace(0).unwrap(), 14);
    assert_eq!(c.pre_trace(1).unwrap(), 7); // neuron 0's spike at step 0 delivered at step 1
    assert_eq!(c.neuron_state(0).unwrap().post_trace, 18);
    assert_eq!(c.counters().potentiation, 0);
}

#[test]
fn reset_state_keeps_parameters_weights_and_masks() {
    let p = NeuronParams {
        v_rest: -20,
        v_reset: -7,
        t_ref: 3,
        alpha_i: 16384,
        ..plain(10)
    };
    let mut c = core_with(2, 1, p);
    c.set_weight(0, 0, 40).unwrap();
    c.set_weight(1, 1, 9).unwrap(); // neuron 0 → neuron 1
    c.set_plastic(0, 0, true).unwrap();
    c.set_stdp(StdpParams {
        enabled: false,
        inc_pre: 5,
        inc_post: 5,
        ..stdp_on()
    })
    .unwrap();
    // Writing v_rest never moves v: after new() v = 0 (old v_rest).
    assert_eq!(c.neuron_state(0).unwrap().v, 0);
    assert_eq!(c.step(&[0]).unwrap(), &[0]);
    let stdp = c.stdp();
    c.reset_state();
    for n in 0..2 {
        let st = c.neuron_state(n).unwrap();
        assert_eq!((st.v, st.i, st.refractory, st.post_trace), (-20, 0, 0, 0));
    }
    assert_eq!(c.pre_trace(0).unwrap(), 0);
    assert_eq!(c.steps_done(), 0);
    assert_eq!(c.neuron_params(0).unwrap(), p);
    assert_eq!(c.stdp(), stdp);
    assert_eq!(c.weight(0, 0).unwrap(), 40);
    assert!(c.plastic(0, 0).unwrap());
    assert_eq!(c.counters().steps, 1); // counters are kept by a state reset
                                       // F(t−1) = ∅: neuron 0's spike before the reset is not delivered.
    assert!(c.step(&[]).unwrap().is_empty());
    assert_eq!(c.neuron_state(1).unwrap().i, 0);
    assert_eq!(c.counters().delivered, 2); // one row at step 0, none after the reset
}

#[test]
fn full_reset_restores_power_on() {
    let mut c = core_with(
        2,
        1,
        NeuronParams {
            v_rest: -20,
            ..plain(10)
        },
    );
    c.set_weight(0, 0, 40).unwrap();
    c.set_plastic(0, 1, true).unwrap();
    c.set_stdp(StdpParams {
        inc_pre: 5,
        ..stdp_on()
    })
    .unwrap();
    c.step(&[0]).unwrap();
    c.full_reset();
    let fresh = Core::new(c.shape()).unwrap();
    assert_eq!(snapshot(&c), snapshot(&fresh));
    assert!(!c.plastic(0, 1).unwrap());
    assert_eq!(c.neuron_state(0).unwrap().v, 0);
    assert_eq!(c.counters(), Default::default());
}

#[test]
fn parameter_validation() {
    let mut c = Core::new(CoreShape::DEFAULT).unwrap();
    let bad_alpha = NeuronParams {
        alpha_v: 32769,
        ..NeuronParams::RESET
    };
    assert_eq!(
        c.set_neuron_params(0, bad_alpha),
        Err(ModelError::Param(ParamError::Alpha("alpha_v", 32769)))
    );
    let bad_alpha = NeuronParams {
        alpha_i: 40000,
        ..NeuronParams::RESET
    };
    assert_eq!(
        c.set_neuron_params(0, bad_alpha),
        Err(ModelError::Param(ParamError::Alpha("alpha_i", 40000)))
    );
    // W = 8: w_shift 8 is the largest allowed.
    c.set_neuron_params(
        0,
        NeuronParams {
            w_shift: 8,
            ..NeuronParams::RESET
        },
    )
    .unwrap();
    assert_eq!(
        c.set_neuron_params(
            0,
            NeuronParams {
                w_shift: 9,
                ..NeuronParams::RESET
            }
        ),
        Err(ModelError::Param(ParamError::WeightShift {
            w_shift: 9,
            weight_bits: 8
        }))
    );
    assert_eq!(c.neuron_params(0).unwrap().w_shift, 8); // the refused write changed nothing
    let s = c.stdp();
    assert_eq!(
        c.set_stdp(StdpParams {
            w_min: 5,
            w_max: 4,
            ..s
        }),
        Err(ModelError::Param(ParamError::WeightBounds {
            w_min: 5,
            w_max: 4
        }))
    );
    assert_eq!(
        c.set_stdp(StdpParams { w_min: -129, ..s }),
        Err(ModelError::Param(ParamError::WeightBounds {
            w_min: -129,
            w_max: 127
        }))
    );
    assert_eq!(
        c.set_stdp(StdpParams { w_max: 128, ..s }),
        Err(ModelError::Param(ParamError::WeightBounds {
            w_min: -128,
            w_max: 128
        }))
    );
    assert_eq!(
        c.set_stdp(StdpParams {
            alpha_pre: 32769,
            ..s
        }),
        Err(ModelError::Param(ParamError::Alpha("alpha_pre", 32769)))
    );
    assert_eq!(
        c.set_stdp(StdpParams {
            alpha_post: 65535,
            ..s
        }),
        Err(ModelError::Param(ParamError::Alpha("alpha_post", 65535)))
    );
    assert_eq!(c.stdp(), s);
    c.set_stdp(StdpParams {
        alpha_pre: 32768,
        w_min: 3,
        w_max: 3,
        ..s
    })
    .unwrap();
}

#[test]
fn shape_and_index_errors() {
    assert_eq!(
        Core::new(shape(0, 1, 8)).err(),
        Some(ModelError::Param(ParamError::Neurons(0)))
    );
    assert_eq!(
        Core::new(shape(4097, 1, 8)).err(),
        Some(ModelError::Param(ParamError::Neurons(4097)))
    );
    assert_eq!(
        Core::new(shape(1, 4097, 8)).err(),
        Some(ModelError::Param(ParamError::Inputs(4097)))
    );
    assert_eq!(
        Core::new(shape(1, 1, 1)).err(),
        Some(ModelError::Param(ParamError::WeightBits(1)))
    );
    assert_eq!(
        Core::new(shape(1, 1, 17)).err(),
        Some(ModelError::Param(ParamError::WeightBits(17)))
    );

    let mut c = Core::new(shape(4, 2, 8)).unwrap();
    let nerr = ModelError::Neuron { n: 4, neurons: 4 };
    let serr = ModelError::Source { s: 6, sources: 6 };
    assert_eq!(c.neuron_params(4), Err(nerr.clone()));
    assert_eq!(
        c.set_neuron_params(4, NeuronParams::RESET),
        Err(nerr.clone())
    );
    assert_eq!(c.neuron_state(4), Err(nerr.clone()));
    assert_eq!(c.weight(0, 4), Err(nerr.clone()));
    assert_eq!(c.weight(6, 0), Err(serr.clone()));
    assert_eq!(c.set_weight(6, 0, 1), Err(serr.clone()));
    assert_eq!(c.set_plastic(0, 4, true), Err(nerr.clone()));
    assert_eq!(c.plastic(6, 0), Err(serr.clone()));
    assert_eq!(c.pre_trace(6), Err(serr));
    assert_eq!(
        c.set_weight(0, 0, 128),
        Err(ModelError::Weight { w: 128, bits: 8 })
    );
    assert_eq!(
        c.set_weight(0, 0, -129),
        Err(ModelError::Weight { w: -129, bits: 8 })
    );
    c.set_weight(5, 3, -128).unwrap();
    assert_eq!(c.weights()[5 * 4 + 3], -128);
    assert_eq!(
        ModelError::Input {
            input: 3,
            inputs: 2
        }
        .to_string(),
        "input 3 out of range: the core has 2 inputs"
    );
}

#[test]
fn counters_follow_spec_section_8() {
    // N = 3, M = 2. Step 0: S = {0, 1}, F = {0}: delivered 2·3, potentiation 1·5.
    let mut c = core_with(3, 2, plain(1));
    c.set_weight(0, 0, 1).unwrap();
    c.set_stdp(stdp_on()).unwrap();
    c.step(&[1, 0]).unwrap();
    // Step 1: S = {M+0}, F = ∅.
    c.step(&[]).unwrap();
    let k = c.counters();
    assert_eq!(
        (k.steps, k.spikes, k.delivered, k.potentiation),
        (2, 1, 9, 5)
    );
}
