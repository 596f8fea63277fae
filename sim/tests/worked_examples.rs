//! docs/core-spec.md §7 "Worked examples", checked verbatim. The expected
//! numbers are the hand-computed ones of the spec, not the model's output.

use neurofab_sim::{Core, CoreShape, NeuronParams, StdpParams};

/// §7.2 table row: (I(t), i, v, F(t)).
type Row2 = (&'static [u16], [i16; 2], [i16; 2], &'static [u16]);
/// §7.3 table row: (I(t), F(t), x, y, w, i).
type Row3 = (&'static [u16], &'static [u16], [u8; 3], u8, [i16; 3], i16);

fn shape(neurons: u16, inputs: u16) -> CoreShape {
    CoreShape {
        neurons,
        inputs,
        weight_bits: 8,
    }
}

/// §7.1: one neuron, rows (t, I(t), i, v, r, fired).
#[test]
fn example_7_1_one_neuron() {
    let mut c = Core::new(shape(1, 2)).unwrap();
    c.set_neuron_params(
        0,
        NeuronParams {
            v_th: 100,
            v_reset: -20,
            v_rest: 10,
            alpha_v: 24576,
            alpha_i: 16384,
            t_ref: 1,
            w_shift: 2,
        },
    )
    .unwrap();
    c.set_weight(0, 0, 13).unwrap();
    c.set_weight(1, 0, -7).unwrap();
    c.reset_state();
    assert_eq!(c.neuron_state(0).unwrap().v, 10);

    #[rustfmt::skip]
    let table: [(&[u16], i16, i16, u8, bool); 8] = [
        (&[0], 52, 62, 0, false),
        (&[0], 78, -20, 1, true),
        (&[0], 91, -20, 0, false),
        (&[], 45, 33, 0, false),
        (&[], 22, 49, 0, false),
        (&[1], -17, 22, 0, false),
        (&[], -8, 11, 0, false),
        (&[], -4, 6, 0, false),
    ];
    for (t, &(inputs, i, v, r, fired)) in table.iter().enumerate() {
        let f = c.step(inputs).unwrap().to_vec();
        let st = c.neuron_state(0).unwrap();
        assert_eq!(
            (st.i, st.v, st.refractory, !f.is_empty()),
            (i, v, r, fired),
            "t = {t}"
        );
    }
    assert_eq!(c.steps_done(), 8);
}

/// §7.2: two neurons, the one-step recurrent delay.
#[test]
fn example_7_2_recurrent_delay() {
    let mut c = Core::new(shape(2, 1)).unwrap();
    let p = NeuronParams {
        v_th: 50,
        v_reset: 0,
        v_rest: 0,
        alpha_v: 32768,
        alpha_i: 0,
        t_ref: 0,
        w_shift: 0,
    };
    c.set_neuron_params(0, p).unwrap();
    c.set_neuron_params(1, p).unwrap();
    c.set_weight(0, 0, 60).unwrap();
    c.set_weight(1, 1, 30).unwrap();
    c.set_weight(2, 0, -10).unwrap();
    c.reset_state();

    #[rustfmt::skip]
    let table: [Row2; 5] = [
        // (I(t), i, v, F(t))
        (&[0], [60, 0], [0, 0], &[0]),
        (&[0], [60, 30], [0, 30], &[0]),
        (&[], [0, 30], [0, 0], &[1]),
        (&[], [-10, 0], [-10, 0], &[]),
        (&[], [0, 0], [-10, 0], &[]),
    ];
    for (t, &(inputs, i, v, fired)) in table.iter().enumerate() {
        assert_eq!(c.step(inputs).unwrap(), fired, "F({t})");
        for n in 0..2 {
            let st = c.neuron_state(n).unwrap();
            assert_eq!(
                (st.i, st.v),
                (i[n as usize], v[n as usize]),
                "neuron {n}, t = {t}"
            );
        }
    }
}

/// §7.3: STDP with traces, causal potentiation, both clamps, depression then
/// potentiation on one synapse, and a non-plastic synapse.
#[test]
fn example_7_3_stdp() {
    let mut c = Core::new(shape(1, 2)).unwrap();
    c.set_neuron_params(
        0,
        NeuronParams {
            v_th: 10,
            v_reset: 0,
            v_rest: 0,
            alpha_v: 32768,
            alpha_i: 0,
            t_ref: 0,
            w_shift: 0,
        },
    )
    .unwrap();
    c.set_stdp(StdpParams {
        enabled: true,
        eta_plus: 128,
        eta_minus: 64,
        w_min: 0,
        w_max: 100,
        alpha_pre: 16384,
        alpha_post: 16384,
        inc_pre: 80,
        inc_post: 120,
    })
    .unwrap();
    c.set_weight(0, 0, 90).unwrap();
    c.set_weight(1, 0, 4).unwrap();
    c.set_plastic(0, 0, true).unwrap();
    c.set_plastic(1, 0, true).unwrap();
    c.reset_state();

    #[rustfmt::skip]
    let table: [Row3; 4] = [
        // (I(t), F(t), x, y, w, i)
        (&[1], &[], [0, 80, 0], 0, [90, 4, 0], 4),
        (&[0], &[0], [80, 40, 0], 120, [100, 24, 0], 90),
        (&[1], &[0], [40, 100, 80], 180, [100, 50, 0], 24),
        (&[], &[], [20, 50, 120], 90, [100, 50, 0], 0),
    ];
    for (t, &(inputs, fired, x, y, w, i)) in table.iter().enumerate() {
        assert_eq!(c.step(inputs).unwrap(), fired, "F({t})");
        let xs: Vec<u8> = (0..3).map(|s| c.pre_trace(s).unwrap()).collect();
        assert_eq!(xs, x, "x at t = {t}");
        let st = c.neuron_state(0).unwrap();
        assert_eq!(st.post_trace, y, "y at t = {t}");
        assert_eq!(st.i, i, "i at t = {t}");
        assert_eq!(c.weights(), &w, "w at t = {t}");
    }
}
