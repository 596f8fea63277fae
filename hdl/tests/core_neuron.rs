//! `NeuronUpdate` (combinational) and `NeuronUpdatePipe` (3-stage) against the reference
//! model's §2.4 update (`neurofab_sim::model::neuron::update`), bit for bit, in rust-hdl's
//! simulation of the kernels.

mod core_common;

use core_common::*;
use neurofab_hdl::core::*;
use neurofab_hdl::cyclesim::CycleSim;
use neurofab_proto::NeuronParams;
use neurofab_sim::model::neuron::Lif;
use rust_hdl::prelude::*;

macro_rules! drive {
    ($uut:expr, $c:expr) => {{
        let c: &Case = $c;
        $uut.v_th.next = sbits::<STATE_W>(c.p.v_th as i64);
        $uut.v_reset.next = sbits::<STATE_W>(c.p.v_reset as i64);
        $uut.v_rest.next = sbits::<STATE_W>(c.p.v_rest as i64);
        $uut.alpha_v.next = ubits::<ALPHA_W>(c.p.alpha_v as u64);
        $uut.alpha_i.next = ubits::<ALPHA_W>(c.p.alpha_i as u64);
        $uut.t_ref.next = ubits::<REFRACT_W>(c.p.t_ref as u64);
        $uut.v.next = sbits::<STATE_W>(c.st.v as i64);
        $uut.i.next = sbits::<STATE_W>(c.st.i as i64);
        $uut.r.next = ubits::<REFRACT_W>(c.st.r as u64);
        $uut.acc.next = sbits::<ACC_W>(c.acc as i64);
    }};
}

macro_rules! outputs {
    ($uut:expr) => {
        NeuronOut {
            v: sval($uut.v_new.val()) as i16,
            i: sval($uut.i_new.val()) as i16,
            r: $uut.r_new.val().to_u64() as u8,
            fired: $uut.fired.val(),
        }
    };
}

#[test]
fn neuron_update_matches_model() {
    let mut uut = NeuronUpdate::default();
    uut.connect_all();
    check_all(&uut).expect("rust-hdl check");
    let cases = all_cases(10);
    let mut fired = 0;
    for c in &cases {
        drive!(uut, c);
        settle(&mut uut);
        let want = model(c);
        assert_eq!(outputs!(uut), want, "{c:?}");
        fired += want.fired as usize;
    }
    // The vectors exercise both outcomes.
    assert!(
        fired > cases.len() / 10 && fired < cases.len() * 9 / 10,
        "{fired}"
    );
}

#[test]
fn neuron_update_pipe_matches_model() {
    let mut sim = CycleSim::new(NeuronUpdatePipe::default(), |u| &mut u.clock).unwrap();
    let cases = all_cases(11);
    // Latency 3: the outputs after edge k are those of the case sampled at edge k − 2,
    // whose v_reset is presented with stage 3, at edge k (this case's is overwritten).
    for k in 0..=cases.len() + 1 {
        if let Some(c) = cases.get(k) {
            drive!(sim.uut, c);
            sim.uut.in_valid.next = true;
        } else {
            sim.uut.in_valid.next = false;
        }
        sim.uut.v_reset.next = match k.checked_sub(2).and_then(|j| cases.get(j)) {
            Some(c) => sbits::<STATE_W>(c.p.v_reset as i64),
            None => sbits::<STATE_W>(0),
        };
        sim.step();
        assert_eq!(sim.uut.out_valid.val(), k >= 2, "k = {k}");
        if k >= 2 {
            let c = &cases[k - 2];
            let want = model(c);
            let got = outputs!(sim.uut);
            assert_eq!(
                (got.v, got.r, got.fired),
                (want.v, want.r, want.fired),
                "{c:?}"
            );
        }
        // i_new leads the other outputs by one edge.
        if let Some(c) = k.checked_sub(1).and_then(|j| cases.get(j)) {
            assert_eq!(sval(sim.uut.i_new.val()) as i16, model(c).i, "{c:?}");
        }
    }
    sim.step();
    assert!(!sim.uut.out_valid.val());
}

/// Spec §7.1, the worked example, through the combinational block (state fed back).
#[test]
fn worked_example_7_1() {
    let mut uut = NeuronUpdate::default();
    uut.connect_all();
    let p = NeuronParams {
        v_th: 100,
        v_reset: -20,
        v_rest: 10,
        alpha_v: 24576,
        alpha_i: 16384,
        t_ref: 1,
        w_shift: 2,
    };
    let accs = [52, 52, 52, 0, 0, -28, 0, 0];
    let want_i = [52, 78, 91, 45, 22, -17, -8, -4];
    let want_v = [62, -20, -20, 33, 49, 22, 11, 6];
    let want_fired = [false, true, false, false, false, false, false, false];
    let mut st = Lif { v: 10, i: 0, r: 0 };
    for t in 0..accs.len() {
        let c = Case {
            p,
            st,
            acc: accs[t],
        };
        drive!(uut, &c);
        settle(&mut uut);
        let o = outputs!(uut);
        assert_eq!(
            (o.i, o.v, o.fired),
            (want_i[t], want_v[t], want_fired[t]),
            "t = {t}"
        );
        st = Lif {
            v: o.v,
            i: o.i,
            r: o.r,
        };
    }
}
